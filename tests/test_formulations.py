"""Exact formulations (formulations/) against hand answers and brute force, real solvers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from helpers import BACKENDS, FORMULATIONS, ilp_on
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formulations import FormulationResult, solve_cpsat, solve_ilp


def arrays(busy, cost, cap):
    return (
        [np.asarray(b, dtype=np.int64) for b in busy],
        [
            np.asarray(c, dtype=np.int64).reshape(len(b), -1)
            for b, c in zip(busy, cost, strict=True)
        ],
        np.asarray(cap, dtype=np.int64),
    )


def brute(busy, cost, cap, secondary=0):
    """Lexicographic optimum (T, secondary cost) by enumeration, or None."""
    best = None
    for choice in itertools.product(*(range(len(b)) for b in busy)):
        total = sum(c[o] for c, o in zip(cost, choice, strict=True))
        if np.all(total <= cap):
            key = (max(int(b[o]) for b, o in zip(busy, choice, strict=True)), int(total[secondary]))
            best = key if best is None or key < best else best
    return best


def check_valid(res: FormulationResult, busy, cost, cap) -> None:
    """Invariants every result must satisfy, whatever its status."""
    assert res.status in ("optimal", "feasible", "infeasible", "timeout", "error")
    assert res.seconds >= 0
    if res.choice is None:
        assert res.bottleneck is None and res.cost is None
        assert res.status not in ("optimal", "feasible")
        return
    assert len(res.choice) == len(busy)
    assert res.bottleneck == max(int(b[o]) for b, o in zip(busy, res.choice, strict=True))
    total = tuple(int(x) for x in sum(c[o] for c, o in zip(cost, res.choice, strict=True)))
    assert res.cost == total
    assert np.all(np.asarray(total) <= cap)
    if res.bound is not None:
        assert res.bound <= res.bottleneck


def assert_brute_force(res: FormulationResult, busy, cost, cap, secondary) -> None:
    """A valid result with brute force's status and lexicographic optimum."""
    check_valid(res, busy, cost, cap)
    expected = brute(busy, cost, cap, secondary)
    if expected is None:
        assert res.status == "infeasible", res.message
    else:
        assert res.status == "optimal", res.message
        assert (res.bottleneck, res.cost[secondary]) == expected
        assert res.bound == res.bottleneck


# --------------------------------------------------------------------------- hand cases

# Stage 0: (busy, cost) = (10, 1), (5, 2), (3, 4); stage 1: (8, 1), (4, 3).
HAND = arrays([[10, 5, 3], [8, 4]], [[1, 2, 4], [1, 3]], [0])


@pytest.mark.parametrize("solve", FORMULATIONS)
@pytest.mark.parametrize(
    ("cap", "choice", "bottleneck", "cost"),
    [
        (7, (2, 1), 4, 7),  # exactly tight: fastest everywhere costs 7
        (6, (1, 1), 5, 5),  # one short of the fastest: T = 5, cheapest such is 5
        (3, (1, 0), 8, 3),  # stage 1 stuck at 8; stage 0 then only needs busy <= 8
        (2, (0, 0), 10, 2),  # exactly tight at the slowest options
        (10**6, (2, 1), 4, 7),  # huge budget
    ],
)
def test_hand_single_resource(solve, cap, choice, bottleneck, cost):
    busy, c, _ = HAND
    res = solve(busy, c, np.array([cap]))
    assert res.status == "optimal", res.message
    assert (res.choice, res.bottleneck, res.cost, res.bound) == (
        choice,
        bottleneck,
        (cost,),
        bottleneck,
    )
    assert res.gap == 0.0


@pytest.mark.parametrize("solve", FORMULATIONS)
def test_hand_one_unit_short_is_infeasible(solve):
    busy, c, _ = HAND
    res = solve(busy, c, np.array([1]))  # the cheapest choice costs 2
    assert res.status == "infeasible"
    assert "infeasible" in res.message
    assert (res.choice, res.bottleneck, res.cost) == (None, None, None)


@pytest.mark.parametrize("solve", FORMULATIONS)
def test_single_option_over_capacity_is_infeasible(solve):
    busy, cost, _ = arrays([[5], [1, 2]], [[[9, 0]], [[0, 0], [0, 0]]], [0, 0])
    res = solve(busy, cost, np.array([8, 100]))
    assert res.status == "infeasible"
    assert "infeasible" in res.message


@pytest.mark.parametrize("solve", FORMULATIONS)
def test_huge_budget_takes_cheapest_fastest(solve):
    # Two fastest options per stage with different costs, unsorted on purpose.
    busy, cost, cap = arrays(
        [[7, 3, 3, 9], [2, 6, 2]],
        [[[1, 1], [5, 2], [4, 9], [0, 0]], [[3, 3], [1, 1], [2, 8]]],
        [10**6, 10**6],
    )
    res = solve(busy, cost, cap)
    assert res.status == "optimal"
    assert (res.choice, res.bottleneck, res.cost) == ((2, 2), 3, (6, 17))
    res = solve(busy, cost, cap, secondary=1)
    assert (res.choice, res.bottleneck, res.cost) == ((1, 0), 3, (8, 5))


@pytest.mark.parametrize("solve", FORMULATIONS)
def test_two_resources_secondary_tie_break(solve):
    # T = 4 is reachable two ways; resource 1 (ADCs) is the binding budget.
    busy, cost, cap = arrays(
        [[4, 4, 8], [4, 4, 8]],
        [[[2, 5], [6, 1], [1, 1]], [[3, 4], [5, 2], [1, 1]]],
        [100, 7],
    )
    res = solve(busy, cost, cap, secondary=0)
    assert res.status == "optimal"
    assert (res.bottleneck, res.cost) == (4, (7, 7))  # (0, 0) needs 9 ADCs; (0, 1) is cheapest
    assert res.choice == (0, 1)
    res = solve(busy, cost, cap, secondary=1)
    assert (res.bottleneck, res.cost) == (4, (11, 3))  # (1, 1)
    assert res.choice == (1, 1)


@pytest.mark.parametrize("solve", FORMULATIONS)
def test_hint_is_only_a_hint(solve):
    busy, c, _ = HAND
    for hint in ([0, 0], [2, 1], [1, 0]):  # feasible, infeasible at cap 6, feasible
        res = solve(busy, c, np.array([6]), hint=hint)
        assert (res.status, res.choice, res.bottleneck) == ("optimal", (1, 1), 5)


def test_validation_errors():
    busy, cost, cap = HAND
    for solve in (solve_cpsat, ilp_on("highs")):
        with pytest.raises(ValueError, match="stages"):
            solve(busy, cost[:1], cap)
        with pytest.raises(ValueError, match="shape"):
            solve(busy, [cost[0], cost[1][:1]], cap)
        with pytest.raises(ValueError, match="negative"):
            solve(busy, [cost[0], -cost[1]], cap)
        with pytest.raises(ValueError, match="no options"):
            solve([busy[0], np.array([], dtype=np.int64)], [cost[0], np.zeros((0, 1))], cap)
        with pytest.raises(ValueError, match="hint"):
            solve(busy, cost, cap, hint=[0])
        with pytest.raises(ValueError, match="hint"):
            solve(busy, cost, cap, hint=[0, 2])
        with pytest.raises(ValueError, match="secondary"):
            solve(busy, cost, cap, secondary=1)
    with pytest.raises(ValueError, match="backend"):
        solve_ilp(busy, cost, cap, backend="gurobi")


def test_available_backends_and_result_api():
    assert set(BACKENDS) <= {"highs", "cbc"}
    assert "highs" in BACKENDS  # highspy is a hard dependency
    r = FormulationResult("feasible", (0,), 100, (1,), 75, 0.1)
    assert r.gap == 0.25 and r.message == ""
    assert FormulationResult("timeout", None, None, None, 5, 0.1).gap is None


# --------------------------------------------------------------------------- brute force

BUSY_VALUES = st.one_of(
    st.integers(0, 12),
    st.integers(1, 8).map(lambda k: k * 1_600_000),
    st.integers(10**10, 10**11),  # realistic ps magnitudes, gcd 1
)


@st.composite
def problems(draw):
    n_res = draw(st.integers(1, 2))
    n_stages = draw(st.integers(1, 4))
    busy, cost = [], []
    for _ in range(n_stages):
        n = draw(st.integers(1, 5))
        busy.append(np.array(draw(st.lists(BUSY_VALUES, min_size=n, max_size=n)), dtype=np.int64))
        flat = draw(st.lists(st.integers(0, 9), min_size=n * n_res, max_size=n * n_res))
        cost.append(np.array(flat, dtype=np.int64).reshape(n, n_res))
    # Around the interesting range: from one below the cheapest choice (infeasible)
    # to one above the dearest (everything fits).
    low = sum(c.min(axis=0) for c in cost)
    top = sum(c.max(axis=0) for c in cost)
    cap = np.array(
        [draw(st.integers(int(lo) - 1, int(hi) + 1)) for lo, hi in zip(low, top, strict=True)],
        dtype=np.int64,
    )
    secondary = draw(st.integers(0, n_res - 1))
    return busy, cost, cap, secondary


@pytest.mark.parametrize("solve", FORMULATIONS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prob=problems())
def test_matches_brute_force(solve, prob):
    busy, cost, cap, secondary = prob
    res = solve(busy, cost, cap, secondary=secondary, time_limit=10.0)
    assert_brute_force(res, busy, cost, cap, secondary)


@pytest.mark.parametrize("solve", FORMULATIONS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prob=problems(), data=st.data())
def test_any_hint_reaches_the_brute_force_optimum(solve, prob, data):
    """A hint fitting the budget makes the MILP decide "faster than the hint" first
    (infeasible: the hint is optimal; else that model's optimum is); a hint over
    the budget, or a suboptimal one, must lead to the same optimum as none."""
    busy, cost, cap, secondary = prob
    hint = [data.draw(st.integers(0, len(b) - 1)) for b in busy]
    res = solve(busy, cost, cap, secondary=secondary, time_limit=10.0, hint=hint)
    assert_brute_force(res, busy, cost, cap, secondary)


# --------------------------------------------------------------------------- bigger cases


def useful_parallelism(p: int) -> list[int]:
    """Smallest d for each distinct ceil(p / d): the only copy counts worth having."""
    out, prev = [], None
    for d in range(1, p + 1):
        if -(-p // d) != prev:
            out.append(d)
            prev = -(-p // d)
    return out


def pipeline_like(seed: int, n_stages: int = 90, n_options: int = 50):
    """busy = steps * ceil(P / d) * 1.6 us, cost = d * crossbars, like the real problem."""
    rng = np.random.default_rng(seed)
    busy, cost = [], []
    for _ in range(n_stages):
        p, x, steps = (
            int(rng.integers(700, 2000)),
            int(rng.integers(1, 30)),
            int(rng.integers(1, 400)),
        )
        ds = np.array(useful_parallelism(p))
        ds = np.sort(np.concatenate([[1], rng.choice(ds[1:], n_options - 1, replace=False)]))
        busy.append(np.array([steps * -(-p // d) * 1_600_000 for d in ds], dtype=np.int64))
        cost.append((ds * x).astype(np.int64)[:, None])
    lo = sum(int(c.min()) for c in cost)
    hi = sum(int(c.max()) for c in cost)
    return busy, cost, np.array([lo + (hi - lo) // 20], dtype=np.int64)


@pytest.mark.parametrize("solve", FORMULATIONS)
def test_tiny_time_limit_keeps_invariants(solve):
    busy, cost, cap = pipeline_like(1, n_stages=40, n_options=30)
    res = solve(busy, cost, cap, time_limit=0.005)
    check_valid(res, busy, cost, cap)
    assert res.status in ("timeout", "feasible", "optimal"), res.message
    assert (res.choice is None) == (res.status == "timeout")


def test_medium_pipeline_all_solvers_agree():
    busy, cost, cap = pipeline_like(0)
    assert sum(len(b) for b in busy) == 4500
    results = {"cpsat": solve_cpsat(busy, cost, cap, time_limit=10.0)}
    for b in BACKENDS:
        results[f"ilp-{b}"] = solve_ilp(busy, cost, cap, backend=b, time_limit=10.0)
    for name, res in results.items():
        check_valid(res, busy, cost, cap)
        assert res.status == "optimal", f"{name}: {res.message}"
        assert res.seconds < 5.0, f"{name} took {res.seconds:.2f} s"
    answers = {(r.bottleneck, r.cost) for r in results.values()}
    assert len(answers) == 1, results
    # Warm-started from a known optimum, CP-SAT proves it just the same.
    best = results["cpsat"]
    again = solve_cpsat(busy, cost, cap, hint=best.choice)
    assert (again.status, again.bottleneck, again.cost) == ("optimal", best.bottleneck, best.cost)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.tuples(st.integers(1, 6), st.integers(0, 6)), min_size=1, max_size=8),
        min_size=1,
        max_size=4,
    ),
    st.integers(0, 12),
)
def test_the_one_resource_reduction_is_the_general_sweep(stages, cap) -> None:
    """With one resource the reduction is a running minimum in numpy; a zero second
    resource dominates nothing and sends the same options through the general loop,
    which must keep the same options and map every one to the same representative."""
    from formulations.problem import check_problem, reduce_options

    busy = [np.array([b for b, _ in s]) for s in stages]
    one = check_problem(busy, [np.array([[c] for _, c in s]) for s in stages], [cap], 0, 1.0)
    two = check_problem(busy, [np.array([[c, 0] for _, c in s]) for s in stages], [cap, 0], 0, 1.0)
    fast, loop = reduce_options(one), reduce_options(two)
    assert fast.empty_stage == loop.empty_stage
    for a, b in zip(fast.keep, loop.keep, strict=True):
        assert a.tolist() == b.tolist()
    for a, b in zip(fast.rep, loop.rep, strict=True):
        assert a.tolist() == b.tolist()


@pytest.mark.parametrize("run", FORMULATIONS)
def test_a_limit_that_runs_out_while_the_model_is_built_is_a_timeout(run) -> None:
    """400 stages × 60 options take far longer than a microsecond to build: the limit
    covers the building, so the answer is a timeout that says so, not a late solve."""
    rng = np.random.default_rng(7)
    busy = [np.sort(rng.integers(1, 10_000, 60))[::-1].copy() for _ in range(400)]
    cost = [np.arange(1, 61).reshape(-1, 1) for _ in range(400)]
    res = run(busy, cost, np.array([400 * 30]), time_limit=1e-6)
    assert res.status == "timeout", res
    assert "time limit ran out while" in res.message
    assert res.choice is None


@pytest.mark.parametrize("run", FORMULATIONS)
def test_a_budget_below_the_cheapest_options_is_refused_before_any_model(run) -> None:
    """Each stage alone fits (cost 1 each), but three stages need 3 > 2."""
    busy = [np.array([5, 3])] * 3
    cost = [np.array([[1], [2]])] * 3
    res = run(busy, cost, np.array([2]))
    assert res.status == "infeasible"
    assert "cheapest options need 3 of resource 0, over its capacity 2" in res.message


@settings(max_examples=200, deadline=None)
@given(
    st.integers(2, 3).flatmap(
        lambda n_res: st.lists(
            st.lists(
                st.tuples(
                    st.integers(1, 6), st.lists(st.integers(0, 5), min_size=n_res, max_size=n_res)
                ),
                min_size=1,
                max_size=10,
            ),
            min_size=1,
            max_size=4,
        )
    ),
    st.integers(0, 12),
)
def test_the_pairwise_reduction_is_the_general_loop(stages, cap) -> None:
    """With several resources and no placement a stage's options are compared
    pairwise in one boolean matrix; one option at a time (the loop, which a
    placement still uses) must keep the same options with the same representatives."""
    import formulations.problem as fp

    n_res = len(stages[0][0][1])
    busy = [np.array([b for b, _ in s]) for s in stages]
    cost = [np.array([c for _, c in s]).reshape(len(s), n_res) for s in stages]
    problem = fp.check_problem(busy, cost, [cap] * n_res, 0, 1.0)
    fast = fp.reduce_options(problem)
    saved, fp._PAIRWISE_MAX = fp._PAIRWISE_MAX, 0
    try:
        loop = fp.reduce_options(problem)
    finally:
        fp._PAIRWISE_MAX = saved
    assert fast.empty_stage == loop.empty_stage
    for a, b in zip(fast.keep, loop.keep, strict=True):
        assert a.tolist() == b.tolist()
    for a, b in zip(fast.rep, loop.rep, strict=True):
        assert a.tolist() == b.tolist()
