"""The on-chip mesh (hitm.mesh): routers per transfer and whole flits, worked by hand.

ISAAC's chip: 168 tiles, a router per 4 tiles, so 42 routers in a mesh
isqrt(41) + 1 = 7 wide, numbered in snake order: routers 0–6 are row 0,
columns 0–6; routers 7–13 row 1, columns 6 down to 0; router 41 (the last,
where the link to the next chip leaves) is row 5, column 0. 96 crossbars per tile.
"""

from __future__ import annotations

import numpy as np
import pytest

from hitm.hardware import load_hardware
from hitm.mesh import flit_bits_of, router_bits, routers_passed

ISAAC = load_hardware({"preset": "isaac", "interconnect": "isaac"})


def test_the_mesh_of_an_isaac_chip():
    assert (ISAAC.routers_per_chip, ISAAC.mesh_width) == (42, 7)
    assert load_hardware({"tiles_per_router": 8}).routers_per_chip == 21  # 168 / 8
    assert load_hardware({"tiles_per_chip": 2}).mesh_width == 1  # one router


def test_routers_a_transfer_passes():
    """Router 0 → router 8 (row 1, column 5): 1 + 1 + 5 = 7 routers.

    Router 3 of chip 0 → router 2 of chip 1: on chip 0, router 3 (0, 3) to the
    last, 41 (5, 0): 1 + 8; on chip 1, from router 0 to router 2: 1 + 2; 12 in
    all. To chip 2 instead, chip 1 is crossed from router 0 to 41: 1 + 5 more.
    """
    assert routers_passed(ISAAC, 0, 0, 0, 8) == 7
    assert routers_passed(ISAAC, 0, 3, 1, 2) == 12
    assert routers_passed(ISAAC, 0, 3, 2, 2) == 18
    assert routers_passed(ISAAC, 1, 5, 1, 5) == 1


@pytest.mark.parametrize(("flit", "expected"), [(32, 64), (24, 72), (8, 48), (64, 64)])
def test_traffic_travels_as_whole_flits_of_whole_values(flit, expected):
    """48 bits are three 16-bit values: two to a 32-bit flit (2 flits, 64 bits); one to a
    24-bit flit (3 flits, 72 bits); two 8-bit flits each (6 flits, 48 bits); four to a
    64-bit flit (1 flit, 64 bits)."""
    hw = load_hardware({"flit_bits": flit})
    assert flit_bits_of(hw, 48) == expected


def test_router_bits_of_three_stages_on_one_chip():
    """Stages of 100, 300 and 50 crossbars start at crossbars 0, 100 and 400: tiles 0, 1
    and 4, routers 0, 0 and 1. The inputs send 1,600 bits to stage 0 (1 router: 1,600),
    stage 0 sends 320 to stage 1 (same router: 320) and 32 to stage 2 (2 routers: 64),
    stage 1 sends 48 to stage 2 (64 bits in flits, 2 routers: 128): 2,112 bits.
    With 8 tiles a router all three share router 0: 1,600 + 320 + 32 + 64 = 2,016.
    """
    source = np.array([1_600, 0, 0])
    flow = np.zeros((3, 3), dtype=np.int64)
    flow[0, 1], flow[0, 2], flow[1, 2] = 320, 32, 48
    assert router_bits(ISAAC, source, flow, [100, 300, 50], [], 16_128) == 2_112
    wide = load_hardware({"preset": "isaac", "interconnect": "isaac", "tiles_per_router": 8})
    assert router_bits(wide, source, flow, [100, 300, 50], [], 16_128) == 2_016


def test_a_cut_sends_the_transfer_through_both_chips():
    """The same stages, chips of 400 crossbars cut at 400: stage 2 starts chip 1 at its
    router 0. Stage 0 → stage 2: router 0 to the last (41, 5 hops) on chip 0, then
    router 0 on chip 1: 1 + 5 + 1 = 7 routers, 32 × 7 = 224; stage 1 → stage 2 the
    same, 64 × 7 = 448; with the inputs' 1,600 and 320: 2,592 bits."""
    source = np.array([1_600, 0, 0])
    flow = np.zeros((3, 3), dtype=np.int64)
    flow[0, 1], flow[0, 2], flow[1, 2] = 320, 32, 48
    assert router_bits(ISAAC, source, flow, [100, 300, 50], [400], 400) == 2_592
    # No cuts given: chips filled to their capacity in turn, the same here.
    assert router_bits(ISAAC, source, flow, [100, 300, 50], [], 400) == 2_592
