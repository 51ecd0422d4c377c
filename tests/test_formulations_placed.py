"""Exact formulations with a placement on a chain of chips: hand cases and brute force.

The brute force enumerates every choice and every valid vector of chip
boundaries and scores each with the specification (``formulations.placement``);
the solvers' answers are re-scored the same way.
"""

from __future__ import annotations

import itertools
import time
from fractions import Fraction

import numpy as np
import pulp
import pytest
from helpers import BACKENDS, FORMULATIONS, ilp_on

from formulations import FormulationResult, solve_cpsat, solve_ilp
from formulations.placement import Placement, cut_traffic, link_busy, period
from formulations.problem import check_placed, check_problem, reduce_options


def placement(
    chips, chip_capacity, copies, per_copy, atomic=None, source=None, flow=None, state=None,
    bandwidth=Fraction(1),
):  # fmt: skip
    s = len(per_copy)
    return Placement(
        chips=chips,
        chip_capacity=chip_capacity,
        copies=tuple(np.asarray(d, dtype=np.int64) for d in copies),
        per_copy=tuple(per_copy),
        atomic=tuple(atomic or [False] * s),
        source=np.asarray(source if source is not None else [0] * s, dtype=np.int64),
        flow=np.asarray(flow if flow is not None else np.zeros((s, s)), dtype=np.int64),
        state=np.asarray(state if state is not None else [0] * s, dtype=np.int64),
        bandwidth=Fraction(bandwidth),
    )


def layout(busy, cost, place, choice):
    return (
        [int(b[o]) for b, o in zip(busy, choice, strict=True)],
        [int(c[o, 0]) for c, o in zip(cost, choice, strict=True)],
        [int(d[o]) for d, o in zip(place.copies, choice, strict=True)],
    )


def allowed_cuts(place, crossbars):
    """Stage coordinates a chip boundary may take: any but inside an atomic stage."""
    ends = list(itertools.accumulate(crossbars))
    return [
        q
        for q in range(sum(crossbars) + 1)
        if not any(
            a and e - x < q < e for a, x, e in zip(place.atomic, crossbars, ends, strict=True)
        )
    ]


def cut_vectors(place, crossbars):
    """Every valid vector of chip boundaries: nondecreasing, chips within capacity, atomic uncut."""
    total, cap = sum(crossbars), place.chip_capacity
    allowed = allowed_cuts(place, crossbars)

    def extend(prefix, left):
        last = prefix[-1] if prefix else 0
        if left == 0:
            if total - last <= cap:
                yield tuple(prefix)
            return
        for q in allowed:
            if last <= q <= last + cap:
                yield from extend([*prefix, q], left - 1)

    yield from extend([], place.chips - 1)


def designs(busy, cost, cap, place, secondary=0):
    """Every valid design as ``((period, secondary cost), choice, cuts)``."""
    for choice in itertools.product(*(range(len(b)) for b in busy)):
        total = sum(c[o] for c, o in zip(cost, choice, strict=True))
        if np.any(total > cap):
            continue
        b, x, d = layout(busy, cost, place, choice)
        links = {q: link_busy(place, cut_traffic(place, x, d, q)) for q in allowed_cuts(place, x)}
        for cuts in cut_vectors(place, x):
            yield (max([*b, *(links[q] for q in cuts)]), int(total[secondary])), choice, cuts


def brute(busy, cost, cap, place, secondary=0):
    """Lexicographic optimum (period, secondary cost) by enumeration, or None."""
    return min((key for key, _, _ in designs(busy, cost, cap, place, secondary)), default=None)


def check_valid(res: FormulationResult, busy, cost, cap, place) -> None:
    """Invariants every placed result must satisfy, whatever its status."""
    assert res.status in ("optimal", "feasible", "infeasible", "timeout", "error")
    if res.choice is None:
        assert res.bottleneck is None and res.cost is None and res.cuts is None
        return
    assert res.cuts is not None and len(res.cuts) == place.chips - 1
    total = tuple(int(v) for v in sum(c[o] for c, o in zip(cost, res.choice, strict=True)))
    assert res.cost == total and np.all(np.asarray(total) <= cap)
    assert res.bottleneck == period(place, *layout(busy, cost, place, res.choice), res.cuts)[0]
    if res.bound is not None:
        assert res.bound <= res.bottleneck


def arrays(busy, cost):
    return (
        [np.asarray(b, dtype=np.int64) for b in busy],
        [
            np.asarray(c, dtype=np.int64).reshape(len(b), -1)
            for b, c in zip(busy, cost, strict=True)
        ],
    )


def solve_and_check(solve, busy, cost, cap, place, secondary=0, **kw):
    res = solve(busy, cost, cap, secondary=secondary, placement=place, time_limit=20.0, **kw)
    check_valid(res, busy, cost, cap, place)
    return res


# --------------------------------------------------------------------------- hand cases


@pytest.mark.parametrize("solve", FORMULATIONS)
def test_link_binds_on_two_chips(solve):
    # Two stages of one 4-crossbar copy on chips of 4: the only cut is at 4 and
    # carries stage 0's 30 bits; at 1 bit/ps the period is the link's 30 ps.
    busy, cost = arrays([[10], [12]], [[4], [4]])
    place = placement(2, 4, [[1], [1]], [4, 4], source=[8, 0], flow=[[0, 30], [0, 0]])
    res = solve_and_check(solve, busy, cost, np.array([8]), place)
    assert (res.status, res.bottleneck, res.cuts, res.bound) == ("optimal", 30, (4,), 30)
    res = solve_and_check(solve, busy, cost, np.array([8]), with_bandwidth(place, 2))
    assert (res.status, res.bottleneck) == ("optimal", 15)
    # 30 / 4 rounds up to 8 ps: stage 1's 12 ps is the period again.
    res = solve_and_check(solve, busy, cost, np.array([8]), with_bandwidth(place, 4))
    assert (res.status, res.bottleneck) == ("optimal", 12)


def with_bandwidth(place, bandwidth):
    return Placement(**{**place.__dict__, "bandwidth": bandwidth})


@pytest.mark.parametrize("solve", FORMULATIONS)
def test_cut_inside_a_stage(solve):
    # 2 + 6 crossbars on two chips of 4: the boundary must fall inside stage 1
    # (3 copies of 2) at offset 2, after its first copy: two thirds of its
    # 12-bit input cross, 8 bits.
    busy, cost = arrays([[1], [1]], [[2], [6]])
    place = placement(2, 4, [[1], [3]], [2, 2], flow=[[0, 12], [0, 0]])
    res = solve_and_check(solve, busy, cost, np.array([8]), place)
    assert (res.status, res.cuts, res.bottleneck) == ("optimal", (4,), 8)


@pytest.mark.parametrize("solve", FORMULATIONS)
def test_atomic_stage_is_never_cut(solve):
    # 3 + 3 crossbars on two chips of 4, stage 0 atomic: the cut is at 3 (all
    # 50 bits) or at 4, inside stage 1 after one of its three copies (2/3 of them).
    busy, cost = arrays([[1], [1]], [[3], [3]])
    flow = [[0, 50], [0, 0]]
    free = placement(2, 4, [[1], [3]], [0, 1], atomic=[True, False], flow=flow)
    res = solve_and_check(solve, busy, cost, np.array([6]), free)
    assert (res.status, res.cuts, res.bottleneck) == ("optimal", (4,), 34)
    stuck = placement(2, 4, [[1], [1]], [0, 0], atomic=[True, True], flow=flow)
    res = solve_and_check(solve, busy, cost, np.array([6]), stuck)
    assert (res.status, res.cuts, res.bottleneck) == ("optimal", (3,), 50)


@pytest.mark.parametrize("solve", FORMULATIONS)
def test_more_crossbars_than_the_chain_is_infeasible(solve):
    busy, cost = arrays([[1, 2], [1]], [[5, 4], [5]])
    place = placement(2, 4, [[5, 4], [5]], [1, 1])
    res = solve_and_check(solve, busy, cost, np.array([100]), place)
    assert res.status == "infeasible"
    assert "short by 1" in res.message
    # The chain holds 9, but the atomic stage 0 fits no chip of 3.
    place = placement(3, 3, [[1, 1], [5]], [0, 1], atomic=[True, False])
    res = solve_and_check(solve, busy, cost, np.array([100]), place)
    assert res.status == "infeasible"


@pytest.mark.parametrize("solve", FORMULATIONS)
def test_one_chip_and_hints(solve):
    busy, cost = arrays([[4, 2], [3]], [[1, 2], [2]])
    place = placement(1, 4, [[1, 2], [2]], [1, 1], source=[9, 0])
    res = solve_and_check(solve, busy, cost, np.array([9]), place)
    assert (res.status, res.choice, res.cuts, res.bottleneck) == ("optimal", (1, 0), (), 3)
    place = placement(2, 3, [[1, 2], [2]], [1, 1], source=[9, 0], flow=[[0, 2], [0, 0]])
    expected = brute(busy, cost, np.array([9]), place)
    for hint, hint_cuts in (([0, 0], [1]), ([1, 0], [4]), ([1, 0], [2]), (None, [0])):
        res = solve_and_check(
            solve, busy, cost, np.array([9]), place, hint=hint, hint_cuts=hint_cuts
        )
        assert (res.status, res.bottleneck, res.cost[0]) == ("optimal", *expected)


def test_reduction_keeps_other_copy_counts():
    # Stage 0 (2 crossbars a copy): (busy, copies, ADCs) = (5, 1, 1), (5, 2, 3), (6, 1, 2);
    # stage 1 atomic with 2, 1 or 0 crossbars and nothing else.
    busy, cost = arrays(
        [[5, 5, 6], [3, 3, 3]], [[[2, 1], [4, 3], [2, 2]], [[2, 0], [1, 0], [0, 0]]]
    )
    problem = check_problem(busy, cost, np.array([100, 100]), 0, 1.0)
    assert [sorted(k.tolist()) for k in reduce_options(problem).keep] == [[0], [2]]
    place = placement(2, 4, [[1, 2, 1], [1, 1, 1]], [2, 0], atomic=[False, True])
    keep = reduce_options(problem, check_placed(problem, place)).keep
    assert sorted(keep[0].tolist()) == [0, 1]  # two copies stay; (6, 1 copy) does not
    assert sorted(keep[1].tolist()) == [1, 2]  # 1 crossbar stands in for 2, not the empty one


@pytest.mark.parametrize("solve", FORMULATIONS)
def test_cut_between_copies_carries_part_of_the_input(solve):
    # Stage 1 reads 40 bits from the atomic stage 0 and is one copy of 2
    # crossbars (slow) or two (fast, dearer in ADCs). On two chips of 3 the
    # two-copy layout (1 + 4) is cut at 2, inside the first copy (all 40 bits
    # cross), or at 3, between the copies: only the second copy reads past the
    # cut, 20 bits. The one-copy layout fits on one chip but is slow.
    busy, cost = arrays([[1], [100, 8]], [[[1, 0]], [[2, 1], [4, 5]]])
    place = placement(2, 3, [[1], [1, 2]], [0, 2], atomic=[True, False], flow=[[0, 40], [0, 0]])
    res = solve_and_check(solve, busy, cost, np.array([6, 10]), place)
    assert (res.status, res.choice, res.cuts, res.bottleneck) == ("optimal", (0, 1), (3,), 20)
    assert cut_traffic(place, [1, 4], [1, 2], 2) == 40
    res = solve_and_check(solve, busy, cost, np.array([6, 4]), place)  # no ADCs for two copies
    assert (res.status, res.choice, res.bottleneck) == ("optimal", (0, 0), 100)


def test_placement_validation():
    busy, cost = arrays([[1], [1]], [[2], [2]])
    cap = np.array([4])
    good = placement(2, 2, [[1], [1]], [2, 2])
    for solve in (solve_cpsat, ilp_on("highs")):
        with pytest.raises(ValueError, match="copies × per_copy"):
            solve(busy, cost, cap, placement=placement(2, 2, [[2], [1]], [2, 2]))
        with pytest.raises(ValueError, match="hint_cuts"):
            solve(busy, cost, cap, placement=good, hint_cuts=[1, 2])
        with pytest.raises(ValueError, match="hint_cuts"):
            solve(busy, cost, cap, hint_cuts=[1])
        with pytest.raises(ValueError, match="exact"):
            solve(busy, cost, cap, placement=with_bandwidth(good, 0.5))
        with pytest.raises(ValueError, match="upper triangular"):
            solve(busy, cost, cap, placement=placement(2, 2, [[1], [1]], [2, 2], flow=[[0, 0], [1, 0]]))  # fmt: skip
        with pytest.raises(ValueError, match="state"):
            solve(busy, cost, cap, placement=placement(2, 2, [[2], [1]], [1, 2], state=[3, 0]))


# --------------------------------------------------------------------------- brute force

BANDWIDTHS = [Fraction(1), Fraction(2), Fraction(1, 2), Fraction(3, 7), Fraction(5, 3)]


def random_instance(rng: np.random.Generator, blocks: bool = False):
    """2–4 stages, 1–3 options, 1–3 copies of 1–3 crossbars, 2–3 chips; traffic that matters.

    With ``blocks`` about a third of the stages are blocks (per_copy 0: each
    option one copy of 1–5 crossbars, cut anywhere, as hitm lays out a decoder loop).
    """
    n_stages = int(rng.integers(2, 5))
    n_res = int(rng.integers(1, 3))
    busy, cost, copies, per_copy, atomic, state = [], [], [], [], [], []
    for _ in range(n_stages):
        n = int(rng.integers(1, 4))
        is_block = blocks and bool(rng.random() < 0.35)
        is_atomic = not is_block and bool(rng.random() < 0.25)
        recurrent = not is_atomic and rng.random() < (0.5 if is_block else 0.25)
        p = 0 if is_atomic or is_block else int(rng.integers(1, 4))
        d = np.ones(n, dtype=np.int64) if recurrent or is_block else rng.integers(1, 4, n)
        x = d * p
        if is_block or is_atomic:
            x = rng.integers(int(is_block), 5 + int(is_block), n)
        c = np.column_stack([x, *(rng.integers(0, 6, n) for _ in range(n_res - 1))])
        busy.append(rng.integers(0, 30, n).astype(np.int64))
        cost.append(c.astype(np.int64))
        copies.append(d.astype(np.int64))
        per_copy.append(p)
        atomic.append(is_atomic)
        state.append(int(rng.integers(0, 30)) if recurrent else 0)
    flow = np.triu(
        rng.integers(0, 40, (n_stages, n_stages)) * (rng.random((n_stages,) * 2) < 0.6), 1
    )
    source = rng.integers(0, 40, n_stages) * (rng.random(n_stages) < 0.4)
    chips = int(rng.integers(2, 4))
    lo = sum(int(c[:, 0].min()) for c in cost)
    hi = sum(int(c[:, 0].max()) for c in cost)
    chip_capacity = int(rng.integers(max(1, -(-lo // chips) - 1), max(2, -(-hi // chips) + 2)))
    place = Placement(
        chips=chips,
        chip_capacity=chip_capacity,
        copies=tuple(copies),
        per_copy=tuple(per_copy),
        atomic=tuple(atomic),
        source=source.astype(np.int64),
        flow=flow.astype(np.int64),
        state=np.asarray(state, dtype=np.int64),
        bandwidth=BANDWIDTHS[int(rng.integers(len(BANDWIDTHS)))],
    )
    low = sum(c.min(axis=0) for c in cost)
    top = sum(c.max(axis=0) for c in cost)
    cap = np.array([int(rng.integers(int(a), int(b) + 2)) for a, b in zip(low, top, strict=True)])
    secondary = int(rng.integers(n_res))
    return busy, cost, cap, place, secondary


N_RANDOM = {"cpsat": 150, "ilp-highs": 150, "ilp-cbc": 50}


def check_random(solve, seed: int, count: int, blocks: bool) -> None:
    rng = np.random.default_rng(seed)
    for i in range(count):
        busy, cost, cap, place, secondary = random_instance(rng, blocks)
        res = solve_and_check(solve, busy, cost, cap, place, secondary)
        expected = brute(busy, cost, cap, place, secondary)
        if expected is None:
            assert res.status == "infeasible", (i, res.message)
        else:
            assert res.status == "optimal", (i, res.message)
            assert (res.bottleneck, res.cost[secondary]) == expected, i
            assert res.bound == res.bottleneck


@pytest.mark.parametrize("solve", FORMULATIONS)
def test_matches_brute_force(solve, request):
    check_random(solve, 20240611, N_RANDOM[request.node.callspec.id], blocks=False)


@pytest.mark.parametrize("solve", FORMULATIONS)
def test_slowest_warm_start_matches_brute_force(solve, request):
    """Warm-started with the slowest valid design, each solver asks for faster ones in
    turn (a period 1 ps below the last) until none is left: the optimum of brute force."""
    rng = np.random.default_rng(20261202)
    checked = 0
    for i in range(N_RANDOM[request.node.callspec.id]):
        busy, cost, cap, place, secondary = random_instance(rng, blocks=bool(i % 2))
        found = list(designs(busy, cost, cap, place, secondary))
        if not found:
            continue
        best = min(key for key, _, _ in found)
        slow, choice, cuts = max(found, key=lambda d: d[0])
        if slow[0] == best[0]:
            continue  # the warm start is already optimal: nothing to better
        res = solve_and_check(
            solve, busy, cost, cap, place, secondary, hint=list(choice), hint_cuts=list(cuts)
        )
        assert res.status == "optimal", (i, res.message)
        assert (res.bottleneck, res.cost[secondary]) == best, i
        checked += 1
    assert checked >= N_RANDOM[request.node.callspec.id] // 4


@pytest.mark.parametrize("solve", FORMULATIONS)
def test_block_stages_match_brute_force(solve, request):
    """Stages cut anywhere whose options differ in size, not in copies (hitm's decoder loops)."""
    check_random(solve, 20261201, N_RANDOM[request.node.callspec.id] // 2, blocks=True)


def test_without_placement_nothing_changes():
    busy, cost = arrays([[10, 5, 3], [8, 4]], [[1, 2, 4], [1, 3]])
    for solve in (solve_cpsat, ilp_on("highs")):
        res = solve(busy, cost, np.array([6]))
        assert (res.status, res.choice, res.bottleneck, res.cuts) == ("optimal", (1, 1), 5, None)


# --------------------------------------------------------------------------- bigger cases


def chain_like(seed: int, n_stages: int, chips: int, bandwidth=Fraction(1, 20)):
    """Stages of ``d`` copies (busy ∝ ceil(P / d)), a few atomic and recurrent ones,
    links as slow as a middling stage, chips about a third of the way to the dearest design."""
    rng = np.random.default_rng(seed)
    busy, cost, copies, per_copy, atomic, state = [], [], [], [], [], []
    for _ in range(n_stages):
        if rng.random() < 0.2:
            busy.append(np.array([int(rng.integers(1, 50)) * 1000]))
            cost.append(np.array([[int(rng.integers(0, 4)), int(rng.integers(0, 3))]]))
            copies.append(np.array([1]))
            per_copy.append(0)
            atomic.append(True)
            state.append(0)
            continue
        p, work, steps = (
            int(rng.integers(2, 30)),
            int(rng.integers(50, 800)),
            int(rng.integers(1, 20)),
        )
        recurrent = rng.random() < 0.1
        ds = (
            np.array([1]) if recurrent else np.unique(np.concatenate([[1], rng.integers(1, 33, 7)]))
        )
        busy.append(np.array([steps * -(-work // int(d)) * 1000 for d in ds]))
        cost.append(np.column_stack([ds * p, ds * int(rng.integers(1, 4))]))
        copies.append(ds)
        per_copy.append(p)
        atomic.append(False)
        state.append(int(rng.integers(1000, 20000)) if recurrent else 0)
    flow = np.zeros((n_stages, n_stages), dtype=np.int64)
    for k in range(n_stages - 1):
        flow[k, k + 1] = int(rng.integers(1000, 100000))
        if k + 3 < n_stages and rng.random() < 0.2:
            flow[k, k + 3] = int(rng.integers(1000, 50000))
    source = np.zeros(n_stages, dtype=np.int64)
    source[0] = 50000
    lo = sum(int(c[:, 0].min()) for c in cost)
    hi = sum(int(c[:, 0].max()) for c in cost)
    biggest_atomic = max(
        [int(c[:, 0].max()) for c, a in zip(cost, atomic, strict=True) if a] or [0]
    )
    chip = max(-(-(lo + (hi - lo) // 3) // chips), biggest_atomic, 1)
    place = Placement(
        chips, chip, tuple(copies), tuple(per_copy), tuple(atomic), source, flow,
        np.array(state, dtype=np.int64), bandwidth,
    )  # fmt: skip
    cap = np.array([chips * chip, sum(int(c[:, 1].max()) for c in cost) // 2])
    return busy, cost, cap, place


def test_medium_chain_solvers_agree():
    for seed in range(3):  # 10 stages, ~80 options, 4 chips; links bind in each
        busy, cost, cap, place = chain_like(seed, n_stages=10, chips=4, bandwidth=Fraction(1, 100))
        unplaced = solve_cpsat(busy, cost, cap)
        results = {"cpsat": solve_and_check(solve_cpsat, busy, cost, cap, place)}
        for b in BACKENDS:
            if b == "highs" or seed == 2:  # CBC takes 3–8 s on each
                results[f"ilp-{b}"] = solve_and_check(ilp_on(b), busy, cost, cap, place)
        for name, res in results.items():
            assert res.status == "optimal", f"seed {seed} {name}: {res.message}"
        assert len({(r.bottleneck, r.cost) for r in results.values()}) == 1, results
        assert results["cpsat"].bottleneck > unplaced.bottleneck


@pytest.mark.parametrize("which", ["ilp", "cpsat"])
def test_phase2_ends_when_the_design_costs_the_least_at_its_period(which):
    """Without the chain, the least secondary cost at the optimal period T* is every
    stage's cheapest option of busy <= T*: a bound on phase 2, which ends at once when
    the proven design meets it. From the other model's optimum as the warm start, the
    MILP and CP-SAT each skip their phase-2 model exactly when that optimum costs the
    bound, and match the brute force either way; on these random instances both
    cases occur."""
    rng = np.random.default_rng(7)
    seen = set()
    model, other = {
        "ilp": (ilp_on("highs"), solve_cpsat),
        "cpsat": (solve_cpsat, ilp_on("highs")),
    }[which]
    for i in range(60):
        busy, cost, cap, place, secondary = random_instance(rng, False)
        expected = brute(busy, cost, cap, place, secondary)
        if expected is None:
            continue
        ref = other(busy, cost, cap, secondary=secondary, placement=place)
        res = solve_and_check(model, busy, cost, cap, place, secondary,
                              hint=ref.choice, hint_cuts=ref.cuts)  # fmt: skip
        assert res.status == "optimal", (i, res.message)
        assert (res.bottleneck, res.cost[secondary]) == expected, i
        fast = [b <= res.bottleneck for b in busy]
        least = sum(int(c[f, secondary].min()) for c, f in zip(cost, fast, strict=True))
        skipped = "least at that period" in res.message
        assert skipped == (ref.cost[secondary] == least), (i, res.message)
        seen.add(skipped)
    assert seen == {True, False}


def test_undecided_proof_is_asked_again_at_a_tighter_integrality(monkeypatch):
    """When HiGHS's tolerances pass a design no faster ("undecided"), the proof question
    is asked once more at integrality 1e-9 before the period model is solved. Here the
    first answer is forced to be undecided; the second, tight one must prove CP-SAT's
    optimum, without the period model."""
    from formulations import ilp

    busy, cost, cap, place = chain_like(0, n_stages=10, chips=4, bandwidth=Fraction(1, 100))
    asked, tols = [], []
    real_faster, real_solve = ilp._faster_than, ilp._solve

    def faster(problem, red, placed, backend, clock, period, tight=False):
        asked.append(tight)
        if len(asked) == 1:
            return "undecided", None, "forced"
        return real_faster(problem, red, placed, backend, clock, period, tight)

    def spy(prob, backend, seconds, start, tol, **kwargs):
        tols.append((prob.name, tol.integrality))
        return real_solve(prob, backend, seconds, start, tol, **kwargs)

    ref = solve_cpsat(busy, cost, cap, placement=place)
    monkeypatch.setattr(ilp, "_faster_than", faster)
    monkeypatch.setattr(ilp, "_solve", spy)
    # From CP-SAT's design as the warm start, phase 1 begins with the proof question.
    res = solve_and_check(ilp_on("highs"), busy, cost, cap, place, hint=ref.choice,
                          hint_cuts=ref.cuts)  # fmt: skip
    assert res.status == ref.status == "optimal", res.message
    assert (res.bottleneck, res.cost) == (ref.bottleneck, ref.cost)
    assert asked[:2] == [False, True]
    assert ("faster", ilp._TIGHT_INTEGRALITY) in tols
    assert all(name != "period" for name, _ in tols)  # the period model was not needed


def test_undecided_cpsat_question_falls_back_to_the_period_model(monkeypatch):
    """CP-SAT asks "a period 1 ps shorter?" with the period a constant; undecided in half
    the time left, the period model under the assumption T <= P - 1 gets the rest. Here
    the first question is forced undecided: the assumption must then prove the same
    optimum as the MILP, from the same warm start."""
    from formulations import cpsat

    busy, cost, cap, place = chain_like(1, n_stages=10, chips=4, bandwidth=Fraction(1, 100))
    ref = solve_and_check(ilp_on("highs"), busy, cost, cap, place)
    real = cpsat._Model.solve
    calls = []

    def solve(self, seconds, workers, seed):
        calls.append((self.fixed, seconds))
        if len(calls) == 1:
            return cpsat.cp_model.UNKNOWN, cpsat._Solution(None, None, None)
        return real(self, seconds, workers, seed)

    monkeypatch.setattr(cpsat._Model, "solve", solve)
    res = solve_and_check(solve_cpsat, busy, cost, cap, place, hint=ref.choice,
                          hint_cuts=ref.cuts)  # fmt: skip
    assert res.status == ref.status == "optimal", res.message
    assert (res.bottleneck, res.cost) == (ref.bottleneck, ref.cost)
    assert calls[0][0] == ref.bottleneck - 1  # the question, given half the time
    assert calls[0][1] <= 10.0
    assert calls[1][0] is None  # then the period model


@pytest.mark.parametrize("solve", FORMULATIONS)
def test_tiny_time_limit_keeps_invariants(solve):
    busy, cost, cap, place = chain_like(0, n_stages=20, chips=8)
    res = solve(busy, cost, cap, placement=place, time_limit=0.01)
    check_valid(res, busy, cost, cap, place)
    assert res.status in ("timeout", "feasible", "optimal"), res.message
    assert (res.choice is None) == (res.status == "timeout")


def test_the_placed_milp_build_keeps_to_the_time_limit():
    """80 stages on 16 chips: building the chain's rows through PuLP takes seconds, so the
    build checks the clock as it goes and a 0.3 s limit ends it soon after."""
    busy, cost, cap, place = chain_like(0, n_stages=80, chips=16)
    started = time.perf_counter()
    res = solve_ilp(busy, cost, cap, placement=place, time_limit=0.3)
    assert time.perf_counter() - started < 1.8  # unchecked, the build alone took 5 s
    assert res.status in ("timeout", "feasible"), res.message
    assert "while the MILP was built" in res.message


def test_large_link_rows_are_divided_by_a_power_of_two():
    """HiGHS treats coefficients of 1e15 as infinite (s2vt's link rows at 16 chips, with
    a constant period, reached 1.6e15). Rows up to 2^43 stay integer (exact in CBC's MPS
    file too); larger ones are divided by the least power of two bringing them under it."""
    from formulations.ilp import _row_divisor

    assert _row_divisor([3, -(2**43)]) == 1
    assert _row_divisor([1_600_000_000_000_000, 7]) == 256  # 1.6e15 / 2^43 = 181.9
    big = [1_600_000_000_000_000, -987_654_321_987_654]
    g = _row_divisor(big)
    assert max(abs(a) for a in big) / g <= 2**43 < max(abs(a) for a in big) / (g // 2)
    assert all(a / g * g == a for a in big)  # exact: a power of two


def test_cut_range_matches_every_offset():
    """``Placed.cut_range`` against every offset's exact traffic (``cut_traffic``).

    Random stages (cut by copies, blocks, atomic, with a state, through-traffic)
    followed by one more stage, so that the stage's end is a cut the chain can take;
    periods around the traffic's range so that none, some and all offsets pass.
    """
    rng = np.random.default_rng(20261203)
    seen = set()
    for _ in range(3000):
        kind = ["copies", "block", "atomic"][int(rng.integers(3))]
        state = int(rng.integers(0, 30)) if kind != "atomic" and rng.random() < 0.3 else 0
        p = int(rng.integers(1, 6)) if kind == "copies" else 0
        d = 1 if kind != "copies" or state else int(rng.integers(1, 6))
        x = d * p if kind == "copies" else int(rng.integers(1, 9))
        flow = np.zeros((3, 3), dtype=np.int64)
        flow[0, 1], flow[1, 2], flow[0, 2] = rng.integers(0, 60, 3)
        place = placement(
            2, 100, [[1], [d], [1]], [1, p, 1], [False, kind == "atomic", False],
            source=[int(rng.integers(0, 20)), 0, 0], flow=flow, state=[0, state, 0],
            bandwidth=BANDWIDTHS[int(rng.integers(len(BANDWIDTHS)))],
        )  # fmt: skip
        problem = check_problem(*arrays([[0]] * 3, [[1], [x], [1]]), np.array([10**6]), 0, 1.0)
        placed = check_placed(problem, place)
        crossbars, copies = [1, x, 1], [1, d, 1]
        busy = [
            link_busy(place, cut_traffic(place, crossbars, copies, 1 + u)) for u in range(x + 1)
        ]
        allowed_at = range(1, x) if kind != "atomic" else ()
        for t in {0, *busy, max(busy) + 1, int(rng.integers(0, max(busy) + 2))}:
            ok = [u for u in (*allowed_at, x) if busy[u] <= t]
            expected = (min(ok), max(ok)) if ok else None
            assert placed.cut_range(1, x, d, t) == expected, (kind, p, d, t, busy)
            seen.add((kind, expected is None))
    assert len(seen) == 6  # every kind of stage both with and without an allowed offset


def run_instance(rng: np.random.Generator):
    """3–4 stages cut by copies (1–4 copies of 1–2 crossbars) on 3–4 chips, with edges
    heavy enough that some stages admit no boundary at some periods; in about a third,
    a last stage of no crossbars (digital) that the stage before sends to."""
    n = int(rng.integers(3, 5))
    copies = [np.unique(rng.integers(1, 5, int(rng.integers(1, 4)))) for _ in range(n)]
    per_copy = [int(rng.integers(1, 3)) for _ in range(n)]
    busy = [np.array([60 // int(d) for d in ds]) for ds in copies]
    cost = [(ds * p).reshape(-1, 1) for ds, p in zip(copies, per_copy, strict=True)]
    lo = sum(int(c.min()) for c in cost)
    hi = sum(int(c.max()) for c in cost)
    atomic = [False] * n
    if rng.random() < 0.35:
        copies, per_copy, atomic = [*copies, np.array([1])], [*per_copy, 0], [*atomic, True]
        busy, cost, n = [*busy, np.array([0])], [*cost, np.array([[0]])], n + 1
    flow = np.zeros((n, n), dtype=np.int64)
    for k in range(n - 1):
        flow[k, k + 1] = int(rng.integers(10, 80))
    chips = int(rng.integers(3, 5))
    chip = int(rng.integers(max(1, -(-lo // chips)), max(2, -(-hi // chips) + 2)))
    source = [int(rng.integers(0, 80))] + [0] * (n - 1)
    place = placement(chips, chip, copies, per_copy, atomic, source=source, flow=flow)
    return busy, cost, np.array([chips * chip]), place


def run_case(rng: np.random.Generator):
    """A :func:`run_instance` with its checked problem, placement, reduction and every design."""
    busy, cost, cap, place = run_instance(rng)
    busy, cost = arrays(busy, cost)
    problem = check_problem(busy, cost, cap, 0, 1.0)
    placed = check_placed(problem, place)
    red = reduce_options(problem, placed)
    return problem, placed, red, list(designs(busy, cost, cap, place))


def relaxation(monkeypatch, problem, placed, keep, t, runs=True):
    """LP status of the MILP's proof question at period ``t``, with or without its run rows."""
    from formulations import ilp

    with monkeypatch.context() as m:
        if not runs:
            m.setattr(ilp._Chain, "_runs", lambda self, cap_ps: None)
        model = ilp._Chain("faster", problem, placed, keep, cap_ps=t)
    model.prob += pulp.LpAffineExpression([])
    model.prob.solve(pulp.HiGHS(mip=False, msg=False))
    return pulp.LpStatus[model.prob.status]


def test_run_rows_keep_every_design_and_cut_the_relaxation(monkeypatch):
    """The MILP's run rows (``_Chain._runs``) hold at every design of the period.

    For every period T some design of a random instance attains, the constant-period
    model at T is built, and every design (enumerated) of period <= T over the kept
    options satisfies each run row at its MIP start's values. Below the least period
    (the proof question) the rows sometimes make the LP relaxation infeasible where
    it is feasible without them (the case that made nic at 16 chips slow to prove).
    """
    from formulations import ilp

    rng = np.random.default_rng(1203)
    rows = checked = cut_off = 0
    for _ in range(40):
        problem, placed, red, found = run_case(rng)
        periods = sorted({key[0] for key, _, _ in found})
        for t in periods:
            keep = red.at_most(problem, t).keep
            model = ilp._Chain("faster", problem, placed, keep, cap_ps=t)
            runs = [c for c in model.prob.constraints() if c.name.startswith("run_")]
            rows += len(runs)
            for (p, _), choice, cuts in found:
                local = [np.flatnonzero(k == o) for k, o in zip(keep, choice, strict=True)]
                if p > t or any(i.size == 0 for i in local):
                    continue
                values = model.start([int(i[0]) for i in local], cuts)
                for row in runs:
                    assert sum(a * values.get(v, 0.0) for v, a in row.items()) + row.constant <= 0
                checked += 1
        keep = red.at_most(problem, periods[0] - 1).keep if periods else [np.array([])]
        x = [problem.cost[s][k, 0] for s, k in enumerate(keep)]
        if (
            all(k.size for k in keep)
            and placed.shortfall([int(v.min()) for v in x], [int(v.max()) for v in x]) is None
        ):  # the proof question is asked (ilp._faster_than)
            bare = relaxation(monkeypatch, problem, placed, keep, periods[0] - 1, runs=False)
            full = relaxation(monkeypatch, problem, placed, keep, periods[0] - 1)
            assert not (bare == "Infeasible" and full != "Infeasible")
            cut_off += bare == "Optimal" and full == "Infeasible"
    assert rows > 0 and checked > 0 and cut_off > 0, (rows, checked, cut_off)


def test_run_row_decides_a_stage_no_boundary_can_cut(monkeypatch):
    """Hand-worked: four chips of 8 crossbars, 1 bit per ps, copies of one crossbar.

    Stage 0 (6 or 12 copies) reads 6 bits from the source and sends 12 to stage 1
    (6 copies), which sends 12 to stage 2 (6); stage 3 (2) reads nothing. At T = 9
    ps a boundary inside stage 0 at offset u of x carries 6(x - u)/x + 12u/x =
    6 + 6u/x <= 9, so u <= x/2; in stage 1 or at its end 12 > 9; in stage 2 at u,
    12(6 - u)/6 <= 9, so u >= 2. The chip holding stage 1 then holds at least x/2 >= 3
    of stage 0, all 6 of stage 1 and 2 of stage 2: 11 > 8, no design of period 9.
    The run row says so in the LP relaxation; without it the relaxation is feasible.
    """

    flow = np.zeros((4, 4), dtype=np.int64)
    flow[0, 1] = flow[1, 2] = 12
    place = placement(4, 8, [[6, 12], [6], [6], [2]], [1, 1, 1, 1], source=[6, 0, 0, 0], flow=flow)
    busy, cost = arrays([[0, 0], [0], [0], [0]], [[6, 12], [6], [6], [2]])
    problem = check_problem(busy, cost, np.array([32]), 0, 1.0)
    placed = check_placed(problem, place)
    assert [placed.cut_range(0, x, x, 9) for x in (6, 12)] == [(1, 3), (1, 6)]
    assert placed.cut_range(1, 6, 6, 9) is None and placed.cut_range(2, 6, 6, 9) == (2, 6)
    keep = reduce_options(problem, placed).keep
    assert relaxation(monkeypatch, problem, placed, keep, 9) == "Infeasible"
    assert relaxation(monkeypatch, problem, placed, keep, 9, runs=False) == "Optimal"
    expected = brute(busy, cost, np.array([32]), place)
    assert expected[0] > 9
    res = solve_and_check(ilp_on("highs"), busy, cost, np.array([32]), place)
    assert res.status == "optimal" and (res.bottleneck, res.cost[0]) == expected


def test_cpsat_run_rows_keep_every_design(monkeypatch):
    """CP-SAT's constant-period model, run rows (``Placed.runs``) and all, admits every design.

    On the random instances of the MILP's test above, at every period T some design
    attains, the model at T is built, and up to four designs (enumerated) of period
    <= T over the kept options are each fixed in it (every hinted variable held at
    its hint): each must be feasible. Designs with an empty first chip are left
    out: the model holds each such design with that chip moved to the end (the
    same traffic on every link). Some models must hold run rows: at least one
    constraint per run more than the same model built without them.
    """
    from ortools.sat.python import cp_model

    from formulations import cpsat

    rng = np.random.default_rng(1203)
    with_runs = checked = 0
    for _ in range(40):
        problem, placed, red, found = run_case(rng)
        for t in sorted({key[0] for key, _, _ in found}):
            at = red.at_most(problem, t)
            x = [problem.cost[s][k, 0] for s, k in enumerate(at.keep)]
            copies = [placed.place.copies[s][k] for s, k in enumerate(at.keep)]
            runs = placed.runs(x, copies, t)
            model = cpsat._Model(problem, at, placed, period=t)
            with monkeypatch.context() as m:
                m.setattr(type(placed), "runs", lambda self, *args: [])
                bare = cpsat._Model(problem, at, placed, period=t)
            held = len(model.model.proto.constraints) - len(bare.model.proto.constraints)
            assert held >= len(runs), (held, len(runs))
            with_runs += bool(runs)
            fitting = []
            for (p, _), choice, cuts in found:
                local = [np.flatnonzero(k == o) for k, o in zip(at.keep, choice, strict=True)]
                if p <= t and all(i.size for i in local) and 0 not in cuts:
                    fitting.append(([int(i[0]) for i in local], cuts))
            for i in rng.permutation(len(fitting))[:4]:
                model.set_hint(*fitting[i])
                solver = cp_model.CpSolver()
                solver.parameters.fix_variables_to_their_hinted_value = True
                solver.parameters.num_workers = 1
                assert solver.solve(model.model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)
                checked += 1
    assert with_runs > 0 and checked > 0, (with_runs, checked)


@pytest.mark.parametrize("solve", FORMULATIONS)
def test_run_instances_match_brute_force(solve):
    """The instances where boundaries are scarce (``run_instance``): every model's optimum
    is the enumerated one (the proof questions and phase 2 hold run rows)."""
    rng = np.random.default_rng(1204)
    solved = 0
    for i in range(15):
        busy, cost, cap, place = run_instance(rng)
        busy, cost = arrays(busy, cost)
        res = solve_and_check(solve, busy, cost, cap, place)
        expected = brute(busy, cost, cap, place)
        if expected is None:
            assert res.status == "infeasible", (i, res.message)
            continue
        assert res.status == "optimal", (i, res.message)
        assert (res.bottleneck, res.cost[0]) == expected, i
        solved += 1
    assert solved > 0
