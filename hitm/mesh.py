"""The on-chip concentrated mesh: how many routers each transfer between stages passes.

Used by the pipeline model for the ``noc`` energy (docs/model.md, "Energy"),
only when the chip's ``interconnect`` is not ``ideal``. A chip's tiles share
routers, ``tiles_per_router`` each (ISAAC: four); the routers form a mesh
:attr:`~hitm.hardware.Hardware.mesh_width` wide, numbered row by row in snake
order (each router a neighbour of the next), so the crossbars laid out in
stage order fill router after router. A stage sits at the router of its first
crossbar; the network's inputs arrive at the first chip's first router. The
link to the next chip leaves from a chip's last router and arrives at the
next chip's first.

A transfer from one stage to a later one passes, on every chip it touches, the
router it starts from there and every router of the shortest mesh path to
where it ends there (``1 +`` the Manhattan distance). Traffic travels as whole
flits of ``flit_bits``, each carrying as many whole values of ``input_bits``
as fit (a value wider than a flit takes several).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np

from hitm.hardware import Hardware

__all__ = ["flit_bits_of", "router_bits", "routers_passed"]


def flit_bits_of(hw: Hardware, bits: int) -> int:
    """Bits ``bits`` of activations take on the mesh: whole flits of whole values."""
    values = -(-int(bits) // hw.input_bits)
    if hw.flit_bits >= hw.input_bits:
        flits = -(-values // (hw.flit_bits // hw.input_bits))
    else:
        flits = values * -(-hw.input_bits // hw.flit_bits)
    return flits * hw.flit_bits


def _xy(hw: Hardware, router: int) -> tuple[int, int]:
    row, col = divmod(router, hw.mesh_width)
    return row, (col if row % 2 == 0 else hw.mesh_width - 1 - col)


def _hops(hw: Hardware, a: int, b: int) -> int:
    (ra, ca), (rb, cb) = _xy(hw, a), _xy(hw, b)
    return abs(ra - rb) + abs(ca - cb)


def routers_passed(hw: Hardware, chip_a: int, router_a: int, chip_b: int, router_b: int) -> int:
    """Routers a transfer passes from ``router_a`` of chip ``chip_a`` to ``router_b`` of ``chip_b``."""
    if chip_a == chip_b:
        return 1 + _hops(hw, router_a, router_b)
    last = hw.routers_per_chip - 1
    through = (chip_b - chip_a - 1) * (1 + _hops(hw, 0, last))
    return 1 + _hops(hw, router_a, last) + through + 1 + _hops(hw, 0, router_b)


def router_bits(
    hw: Hardware,
    source: np.ndarray,
    flow: np.ndarray,
    crossbars: Sequence[int],
    cuts: Sequence[int],
    chip_capacity: int,
) -> int:
    """Bits through routers per inference: every transfer's flits × the routers it passes.

    ``source[j]`` bits go from the inputs to stage ``j``, ``flow[i, j]`` from
    stage ``i`` to stage ``j``; stage ``k`` holds ``crossbars[k]`` crossbars,
    the chips begin at ``cuts`` (the chip boundaries along the stages'
    crossbars; none given: chips filled to ``chip_capacity`` in turn).
    """
    ends = np.cumsum(crossbars, dtype=np.int64)
    starts = ends - np.asarray(crossbars, dtype=np.int64)
    total = int(ends[-1]) if len(ends) else 0
    bounds = list(cuts) or list(range(chip_capacity, total, chip_capacity))

    def where(q: int) -> tuple[int, int]:
        chip = bisect.bisect_right(bounds, q)
        local = q - (bounds[chip - 1] if chip else 0)
        tile = local // hw.crossbars_per_tile
        return chip, min(tile // hw.tiles_per_router, hw.routers_per_chip - 1)

    at = [where(int(q)) for q in starts]
    bits = 0
    for j in np.flatnonzero(source):
        bits += flit_bits_of(hw, int(source[j])) * routers_passed(hw, 0, 0, *at[j])
    for i, j in zip(*np.nonzero(flow), strict=True):
        bits += flit_bits_of(hw, int(flow[i, j])) * routers_passed(hw, *at[i], *at[j])
    return bits
