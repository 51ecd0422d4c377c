"""Placement on a ring of chips: the pieces of traffic, the least routes, a hand-worked ring.

The pieces must add up to the chain's cut traffic at every cut (the chain is
the specification); the greedy cover must send as few bits backward as a
linear program over the same pieces (scipy's HiGHS); the hand cases are
worked in their docstrings.
"""

from __future__ import annotations

import dataclasses
import itertools
from fractions import Fraction

import numpy as np
import pytest
from scipy.optimize import linprog
from test_formulations_placed import cut_vectors, layout, placement, random_instance

from formulations.placement import cut_traffic, period
from formulations.ring import chip_flows, least_backward, ring_routes


def _placements(seed: int, count: int):
    rng = np.random.default_rng(seed)
    for i in range(count):
        busy, cost, _, place, _ = random_instance(rng, blocks=bool(i % 2))
        choice = [int(rng.integers(len(b))) for b in busy]
        b, x, d = layout(busy, cost, place, choice)
        for cuts in itertools.islice(cut_vectors(place, x), 12):
            yield place, b, x, d, cuts


def test_pieces_add_up_to_the_chains_cut_traffic():
    """Forward, every piece (a, b, z) crosses links a..z-1: their sum is the chain's cut."""
    n = 0
    for place, _, x, d, cuts in _placements(7, 250):
        pieces = chip_flows(place, x, d, cuts)
        assert all(a < b <= z < place.chips for a, b, z in pieces)
        for k, q in enumerate(cuts):
            forward = sum((v for (a, _, z), v in pieces.items() if a <= k < z), Fraction(0))
            assert forward == cut_traffic(place, x, d, q), (cuts, k)
        n += 1
    assert n > 600


def _lp_least(pieces, need):
    """The least bits sent backward so that link k sheds need[k], by linear programming."""
    keys = list(pieces)
    if not keys:
        return 0.0 if all(v == 0 for v in need) else None
    rows = [[-1.0 if a <= k < z else 0.0 for a, _, z in keys] for k in range(len(need))]
    res = linprog(
        np.ones(len(keys)),
        A_ub=np.array(rows),
        b_ub=-np.array([float(v) for v in need]),
        bounds=[(0, float(pieces[key])) for key in keys],
        method="highs",
    )
    return res.fun if res.status == 0 else None


def test_greedy_cover_is_least():
    """The greedy cover sends exactly the LP's least total backward, for caps across the range."""
    rng = np.random.default_rng(11)
    checked = 0
    for place, _, x, d, cuts in _placements(3, 45):
        chain = [cut_traffic(place, x, d, q) for q in cuts]
        pieces = chip_flows(place, x, d, cuts)
        top = max(chain, default=Fraction(0))
        for cap in {Fraction(0), top / 2, top * Fraction(int(rng.integers(1, 9)), 9)}:
            need = [max(Fraction(0), b - cap) for b in chain]
            sent = least_backward(sorted(pieces.items()), need, Fraction(10**12))
            lp = _lp_least(pieces, need)
            if lp is None:
                assert sent is None
                continue
            assert sent is not None
            total = sum(sent.values(), Fraction(0))
            assert float(total) == pytest.approx(lp, rel=1e-9, abs=1e-9)
            for k, wanted in enumerate(need):  # and it does shed what each link needs
                shed = sum((v for (a, _, z), v in sent.items() if a <= k < z), Fraction(0))
                assert shed >= wanted
            assert all(v <= pieces[p] for p, v in sent.items())
            checked += 1
    assert checked > 100


def test_ring_is_never_slower_than_the_chain_and_its_bound_holds():
    """Same cuts: the ring's least period is at most the chain's, at least the chain's at 2x bandwidth."""
    faster = 0
    for place, b, x, d, cuts in _placements(5, 150):
        chain, _ = period(place, b, x, d, cuts)
        double = period(dataclasses.replace(place, bandwidth=place.bandwidth * 2), b, x, d, cuts)[0]
        ring = ring_routes(place, b, x, d, cuts)
        assert double <= ring.period <= chain
        faster += ring.period < chain
        # The routes meet the period: every forward link and the wrap within it.
        assert all(
            -(-bits // place.bandwidth) <= ring.period for bits in (*ring.forward, ring.wrap)
        )
        assert all(bits <= ring.wrap for bits in ring.backward)
    assert faster > 50


def test_hand_worked_ring_of_three_chips():
    """Stages A, B, C of 1 crossbar on three chips of 1; A→B 100 bits, B→C 100, A→C 60 (a skip).

    Chain: link 0-1 carries A→B and the skip, 160; link 1-2 carries B→C and the
    skip, 160; at 1 bit/ps the period is 160 ps. Ring: the skip goes backward,
    0 → 2 over the wrap (one hop), shedding 60 from both forward links. At cap K
    each link still needs 100 − K more; only A→B crosses link 0-1 and only B→C
    link 1-2, so the wrap carries 60 + 2(100 − K) ≤ K: K ≥ 260/3 = 86.7, the
    least integer period is 87 ps. At 87: forward 160 − 60 − 13 = 87 on each
    link, the wrap 60 + 13 + 13 = 86. Backward hops: the skip 1, the others 2
    each (0 → 2 → 1 and 1 → 0 → 2): 60 + 26 + 26 = 112 bits × links. The bound,
    a chain at 2 bits/ps: 80 ps.
    """
    flow = [[0, 100, 60], [0, 0, 100], [0, 0, 0]]
    place = placement(3, 1, [[1], [1], [1]], [1, 1, 1], flow=flow)
    busy, x, d, cuts = [5, 5, 5], [1, 1, 1], [1, 1, 1], [1, 2]
    assert period(place, busy, x, d, cuts)[0] == 160
    ring = ring_routes(place, busy, x, d, cuts)
    assert ring.period == 87
    assert ring.forward == (87, 87)
    assert ring.wrap == 86
    assert ring.back_hops == 112
    # Backward link 1→0 carries what leaves chip 1 backward (B→C's 13); link 2→1 A→B's 13.
    assert ring.backward == (13, 13)
    assert period(dataclasses.replace(place, bandwidth=Fraction(2)), busy, x, d, cuts)[0] == 80


def test_two_chips_split_one_flow_both_ways():
    """Two chips of 2 crossbars, A (2 crossbars) → B (2): 90 bits at 1 bit/ps.

    Chain: 90 ps. A ring of two chips has two links between them (the wrap is
    the second): 45 bits each way, 45 ps, which meets the bound (a chain at 2 bits/ps).
    """
    place = placement(2, 2, [[1], [1]], [2, 2], flow=[[0, 90], [0, 0]])
    ring = ring_routes(place, [1, 1], [2, 2], [1, 1], [2])
    assert (ring.period, ring.forward, ring.wrap) == (45, (45,), 45)
    assert ring.back_hops == 45


def test_stage_busy_bounds_the_ring_period():
    """A stage slower than every link: the ring sends nothing backward."""
    place = placement(2, 1, [[1], [1]], [1, 1], flow=[[0, 10], [0, 0]])
    ring = ring_routes(place, [50, 1], [1, 1], [1, 1], [1])
    assert (ring.period, ring.forward, ring.wrap, ring.back_hops) == (50, (10,), 0, 0)
