"""Every solver on the same problems, checked against brute force and each other.

The brute force enumerates every combination of copy counts (not just the
problem's useful options), so it also checks that pruning to useful options
loses nothing.
"""

from __future__ import annotations

import itertools

import pytest
from helpers import INSTANCES, instance, problem_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hitm.analysis import analyze
from hitm.description.load import load_instance
from hitm.errors import ParameterError
from hitm.optimize import solve, variants
from hitm.pipeline import check_allocation, evaluate, verified, verify
from hitm.problem import AllocationProblem, build_problem

EXACT = ("dp", "bisect", "cpsat", "ilp")


def brute_force(problem: AllocationProblem) -> tuple[int, int] | None:
    """(bottleneck, crossbars) optimum over every copy count 1..parallel of every layer."""
    layers = problem.analysis.weight_layers
    cap = int(problem.capacity[0])
    best = None
    for combo in itertools.product(*(range(1, layer.parallel + 1) for layer in layers)):
        used = sum(d * layer.crossbars for d, layer in zip(combo, layers, strict=True))
        if used > cap:
            continue
        m = evaluate(problem, dict(zip((layer.name for layer in layers), combo, strict=True)))
        key = (m.bottleneck_ps, m.crossbars_used)
        best = key if best is None or key < best else best
    return best


def run_all(problem: AllocationProblem):
    results = [solve(problem, m, time_limit=20, backend=b) for m, b in variants()]
    for r in results:
        verify(problem, r)  # raises if the allocation breaks the budget or misreports T
        if r.copies is not None:
            assert check_allocation(problem, r.copies) == []
    return results


def small_cnn(spatial: list[int], channels: list[int]):
    """A chain of 3×3 convs on a 1-channel map: parallel = H·W per layer."""
    layers, prev, c_in = [], "x", 1
    for i, (hw, c) in enumerate(zip(spatial, channels, strict=True)):
        stride = 1 if i == 0 else 2 if hw * 2 <= spatial[i - 1] else 1
        layers.append(
            {
                "name": f"c{i}",
                "op": "conv2d",
                "input": prev,
                "out_channels": c,
                "kernel": 3,
                "padding": 1,
                "stride": stride,
            }
        )
        prev, c_in = f"c{i}", c
    del c_in
    return instance(layers, {"x": {"shape": [1, spatial[0], spatial[0]]}})


@pytest.fixture(scope="module")
def cnn():
    # parallel 16, 4, 1; crossbars per copy 1 (9×16), 2 (144×16), 16 (144×128 → 2×8)
    return small_cnn([4, 2, 1], [16, 16, 128])


def test_hand_case_every_method(cnn):
    p = problem_of(cnn, crossbars=30)  # naive 19: room for 11 more crossbars
    assert [layer.parallel for layer in p.analysis.weight_layers] == [16, 4, 1]
    assert [layer.crossbars for layer in p.analysis.weight_layers] == [1, 2, 16]
    # By hand: T = k·1.6 µs needs c0 ≥ 16/k and c1 ≥ 4/k copies, and (d0 − 1) + 2(d1 − 1) ≤ 11.
    # k = 1 needs d0 = 16 (too many); k = 2 takes d0 = 8, d1 = 2: 19 + 7 + 2 = 28 crossbars.
    expected = brute_force(p)
    assert expected == (3_200_000, 28)
    for r in run_all(p):
        assert (r.bottleneck_ps, r.crossbars_used) >= expected
        if r.method in EXACT:
            assert r.status == "optimal", r
            assert (r.bottleneck_ps, r.crossbars_used) == expected


@pytest.mark.parametrize("slack", [0, 1, 5, 1000])
def test_budget_edges(cnn, slack):
    naive = sum(
        layer.crossbars for layer in problem_of(cnn, crossbars=10**6).analysis.weight_layers
    )
    p = problem_of(cnn, crossbars=naive + slack)
    expected = brute_force(p)
    for r in run_all(p):
        if r.method in EXACT:
            assert r.status == "optimal"
            assert (r.bottleneck_ps, r.crossbars_used) == expected


def test_huge_budget_reaches_unlimited(cnn):
    p = problem_of(cnn, crossbars=10**6)
    for r in run_all(p):
        if r.method in EXACT:
            # every stage at its fastest: one MVM per step; least copies reaching it
            assert r.bottleneck_ps == 1_600_000
            assert r.copies == {"c0": 16, "c1": 4, "c2": 1}


def test_one_crossbar_short_is_infeasible(cnn):
    naive = sum(
        layer.crossbars for layer in problem_of(cnn, crossbars=10**6).analysis.weight_layers
    )
    p = problem_of(cnn, crossbars=naive - 1)
    assert p.shortfall() == {"crossbars": 1}
    for r in run_all(p):
        assert r.status == "infeasible", r
        assert r.copies is None
        # Every method reports the shortfall before building a model of its own.
        assert "1 more than" in r.message, r
    with pytest.raises(ParameterError, match="unknown MILP backend 'gurobi'"):
        solve(p, "ilp", backend="gurobi")  # a bad backend is still refused


def test_time_limit_gives_timeout_or_an_allocation():
    inst = small_cnn([32, 16, 8, 4, 2], [32, 64, 64, 128, 128])
    p = problem_of(inst, crossbars=4000)
    for method in ("cpsat", "ilp"):
        r = solve(p, method, time_limit=0.01)
        assert r.status in ("timeout", "feasible", "optimal")
        if r.status == "timeout":
            assert r.copies is None
        else:
            verify(p, r)


def test_dp_curve_matches_bisect_at_every_budget(cnn):
    top = problem_of(cnn, crossbars=60)
    curve = solve(top, "dp").curve
    naive = int(top.naive_cost()[0])
    assert curve.budget[0] == naive
    for b in range(naive, 61):
        assert curve.at(b) == solve(problem_of(cnn, crossbars=b), "bisect").bottleneck_ps
    assert curve.at(naive - 1) is None


def test_unknown_method_is_a_clear_error(cnn):
    from hitm.errors import DescriptionError

    with pytest.raises(DescriptionError, match="did you mean 'cpsat'"):
        solve(problem_of(cnn, crossbars=100), "cpsta")


@st.composite
def random_networks(draw):
    n = draw(st.integers(1, 4))
    # Keep the brute force small: at most 2,000 copy combinations in all.
    spatial, combos = [], 1
    for _ in range(n):
        hw = draw(st.sampled_from([s for s in (1, 2, 3, 4, 5, 6) if combos * s * s <= 2_000]))
        spatial.append(hw)
        combos *= hw * hw
    layers, inputs = [], {}
    for i, hw in enumerate(spatial):
        inputs[f"x{i}"] = {"shape": [draw(st.sampled_from([1, 8, 15, 20])), hw, hw]}
        layers.append(
            {
                "name": f"c{i}",
                "op": "conv2d",
                "input": f"x{i}",
                "kernel": 1,
                "out_channels": draw(st.sampled_from([8, 16, 17, 40])),
            }
        )
    inst = instance(layers, inputs)
    p = problem_of(inst, crossbars=10**6)
    naive = int(p.naive_cost()[0])
    top = sum(layer.parallel * layer.crossbars for layer in p.analysis.weight_layers)
    budget = draw(st.integers(max(1, naive - 2), top + 2))
    return problem_of(inst, crossbars=budget)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_networks())
def test_random_problems_exact_methods_agree_with_brute_force(p):
    expected = brute_force(p)
    results = run_all(p)
    for r in results:
        if expected is None:
            assert r.status == "infeasible"
            continue
        assert (r.bottleneck_ps, r.crossbars_used) >= expected  # nobody beats the optimum
        if r.method in EXACT:
            assert r.status == "optimal", r
            assert (r.bottleneck_ps, r.crossbars_used) == expected
        if r.method == "greedy":
            assert r.status == "feasible"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 50), min_size=1, max_size=40),
    st.lists(st.integers(1, 30), min_size=1, max_size=12),
    st.lists(st.integers(1, 1000), min_size=1, max_size=12),
)
def test_dp_fast_step_equals_brute_force_step(f_raw, extra_steps, busy_raw):
    """The sorted-options DP step (two searches) equals the per-option loop."""
    import numpy as np

    from hitm.optimize.dense import _stage_any, _stage_sorted

    f = np.sort(np.array(f_raw, dtype=np.int64))[::-1].copy()  # non-increasing in budget
    m = min(len(extra_steps), len(busy_raw))
    extra = np.concatenate([[0], np.cumsum(extra_steps[: m - 1])]).astype(np.int64)
    busy = np.sort(np.unique(busy_raw))[::-1][:m].astype(np.int64)
    extra = extra[: len(busy)]
    fast_choice = np.zeros(len(f), dtype=np.int64)
    slow_choice = np.zeros(len(f), dtype=np.int64)
    fast = _stage_sorted(f, extra, busy, fast_choice)
    slow = _stage_any(f, extra, busy, slow_choice)
    assert np.array_equal(fast, slow)
    # Both choices reach the value they report, within the budget.
    for b, o in enumerate(fast_choice):
        assert extra[o] <= b
        assert max(f[b - extra[o]], busy[o]) == fast[b]


@pytest.mark.parametrize(("method", "backend"), [("cpsat", None), ("ilp", "highs")])
def test_out_of_time_returns_the_warm_start_design_as_feasible(method, backend):
    """s2vt (11,827 options) at its default budget cannot be solved in 50 ms: the exact
    method reports its timeout as ``feasible`` with the design it started from (the
    DP's), never as no design."""
    inst = load_instance(INSTANCES / "s2vt.yaml")
    problem = build_problem(analyze(inst.network, inst.hardware), inst.budget)
    dp = solve(problem, "dp")
    result = solve(problem, method, 0.05, backend=backend)
    assert result.status == "feasible", result.message
    assert "warm start's design, not proven" in result.message
    assert (result.choice, result.bottleneck_ps, result.cost) == (
        dp.choice,
        dp.bottleneck_ps,
        dp.cost,
    )
    assert verified(problem, result).bottleneck_ps == dp.bottleneck_ps
