"""The Lagrangian lower bound (formulations/lagrange.py) against hand answers and brute force."""

from __future__ import annotations

import itertools

import numpy as np
from helpers import FORMULATIONS
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import formulations.ilp as ilp
from formulations.lagrange import lagrangian_bound, proves_infeasible
from formulations.problem import check_problem, reduce_options


def problem_of(busy, cost, cap):
    return check_problem(
        [np.asarray(b) for b in busy],
        [np.asarray(c).reshape(len(b), -1) for b, c in zip(busy, cost, strict=True)],
        np.asarray(cap),
        0,
        1.0,
    )


def feasible_at(problem, t: int) -> bool:
    """Brute force: some choice of options no slower than ``t`` fits the capacity."""
    ok = [np.flatnonzero(b <= t) for b in problem.busy]
    for choice in itertools.product(*ok):
        total = sum(c[o] for c, o in zip(problem.cost, choice, strict=True))
        if np.all(total <= problem.capacity):
            return True
    return False


def test_three_stages_where_the_relaxation_has_a_gap():
    """Each of three stages runs in 1 with cost (2, 0) or (0, 2), or in 10 for free.

    Capacity (3, 3): no fast choice fits (the fast costs sum to (4, 2), (2, 4) or
    worse), so T* = 10 with one stage slow. Halving every stage between its two
    fast options costs (3, 3) exactly, so the relaxation is feasible at 1 and for
    every λ: 3·min(2λ1, 2λ2) − 3(λ1 + λ2) ≤ 0. The bound is 1, not 10.

    Capacity (2, 3): λ = (1, 1) gives 3·2 = 6 > 5, a certificate at 1, and the
    bound is the optimum, 10.
    """
    busy = [[1, 1, 10]] * 3
    cost = [[[2, 0], [0, 2], [0, 0]]] * 3
    gap = problem_of(busy, cost, [3, 3])
    assert lagrangian_bound(gap, reduce_options(gap).keep) == (1, None)
    assert not feasible_at(gap, 1) and feasible_at(gap, 10)
    tight = problem_of(busy, cost, [2, 3])
    lower, proof = lagrangian_bound(tight, reduce_options(tight).keep)
    assert lower == 10
    assert proof is not None and proof.level == 1
    assert proves_infeasible(tight, reduce_options(tight).keep, 1, [1, 1])
    assert not proves_infeasible(gap, reduce_options(gap).keep, 1, [1, 1])


@st.composite
def problems(draw):
    n_res = draw(st.integers(1, 3))
    n_stages = draw(st.integers(1, 4))
    busy, cost = [], []
    for _ in range(n_stages):
        n = draw(st.integers(1, 5))
        busy.append(draw(st.lists(st.integers(1, 20), min_size=n, max_size=n)))
        cost.append(draw(st.lists(st.integers(0, 9), min_size=n * n_res, max_size=n * n_res)))
    lows = [
        sum(min(c[i * n_res + r] for i in range(len(b))) for b, c in zip(busy, cost, strict=True))
        for r in range(n_res)
    ]
    cap = [draw(st.integers(low, low + 12)) for low in lows]
    return problem_of(busy, cost, cap)


@settings(max_examples=300, deadline=None)
@given(problems())
def test_the_bound_never_passes_the_optimum(problem):
    """Every level below the bound is infeasible by brute force, and the
    certificate returned holds for its level and proves it infeasible."""
    red = reduce_options(problem)
    assume(red.empty_stage is None)  # the solvers stop before any bound then
    keep = red.keep
    lower, proof = lagrangian_bound(problem, keep)
    levels = sorted({int(v) for b in problem.busy for v in b})
    for t in levels:
        if t < lower:
            assert not feasible_at(problem, t), (t, lower)
    if proof is not None:
        assert proof.level < lower
        assert proves_infeasible(problem, keep, proof.level, proof.multipliers)
        assert not feasible_at(problem, proof.level)
    if len(problem.capacity) == 1:  # one resource: the relaxation is exact
        assert feasible_at(problem, lower) or not feasible_at(problem, levels[-1])


@settings(max_examples=300, deadline=None)
@given(problems(), st.lists(st.integers(0, 50), min_size=3, max_size=3), st.integers(1, 20))
def test_a_certificate_is_never_wrong(problem, lam, t):
    """Whatever the multipliers, a certificate only ever claims an infeasible level."""
    red = reduce_options(problem)
    assume(red.empty_stage is None)
    keep = red.keep
    lam = lam[: len(problem.capacity)]
    if proves_infeasible(problem, keep, t, lam):
        assert not feasible_at(problem, t)


def test_the_exact_models_start_from_the_bound(monkeypatch):
    """The hand cases above through CP-SAT and the MILP, warm-started from the
    slowest design (every stage at 10, T = 10):

    - capacity (3, 3): the bound (1) is below the warm start, the feasibility
      solve at 1 finds nothing, and the models prove T* = 10 themselves; the
      fewest crossbars (resource 0) at 10 are none (every stage slow, or one at
      (0, 2): resource 1 is not minimised);
    - capacity (2, 3) with a fourth option (busy 5, cost (1, 0)) in every stage:
      λ = (1, 1) refutes 1 (6 > 5) and (1, 0), (1, 0), (0, 2) fits at 5, so the
      bound is 5, below the warm start's 10, and the solve at the bound finds
      T* = 5; the least resource 0 there is 2 (at most one (0, 2): resource 1).
    """
    at_bound = []  # what the MILP's feasibility solve at the bound found, per call
    real = ilp._at_bound

    def spy(*args, **kwargs):
        found = real(*args, **kwargs)
        at_bound.append(found[0] is not None)
        return found

    monkeypatch.setattr(ilp, "_at_bound", spy)

    busy = [np.array([1, 1, 10])] * 3
    cost = [np.array([[2, 0], [0, 2], [0, 0]])] * 3
    busy4 = [np.array([1, 1, 10, 5])] * 3
    cost4 = [np.array([[2, 0], [0, 2], [0, 0], [1, 0]])] * 3
    for param in FORMULATIONS:
        solve = param.values[0]
        gap = solve(busy, cost, np.array([3, 3]), hint=[2, 2, 2])
        assert (gap.status, gap.bottleneck, gap.cost[0]) == ("optimal", 10, 0), gap.message
        at = solve(busy4, cost4, np.array([2, 3]), hint=[2, 2, 2])
        assert (at.status, at.bottleneck, at.cost[0]) == ("optimal", 5, 2), at.message
    # Each MILP backend made the solve at the bound twice: nothing at 1, a design at 5.
    assert at_bound == [False, True] * (len(FORMULATIONS) - 1)
    problem = problem_of(busy4, cost4, [2, 3])
    assert lagrangian_bound(problem, reduce_options(problem).keep, 10)[0] == 5


def test_a_milp_out_of_time_reports_the_lagrangian_bound(monkeypatch):
    """The capacity (2, 3) case above with its fourth option: the Lagrangian bound is 5,
    below the warm start's 10. If the MILP's solves stop on the time limit with nothing
    (its solve at the bound and the "faster than the warm start" model, made to time
    out here), it returns the warm start's design as ``feasible`` and the bound it
    reports is the Lagrangian 5, not the solver's (none)."""
    monkeypatch.setattr(ilp, "_at_bound", lambda *args, **kwargs: (None, "stopped"))
    timed_out = (("timeout", None, None, "ILP phase 1: stopped by the limit"), 0.0)
    monkeypatch.setattr(ilp, "_phase1", lambda *args, **kwargs: timed_out)
    busy4 = [np.array([1, 1, 10, 5])] * 3
    cost4 = [np.array([[2, 0], [0, 2], [0, 0], [1, 0]])] * 3
    result = ilp.solve_ilp(busy4, cost4, np.array([2, 3]), hint=[2, 2, 2])
    assert (result.status, result.bottleneck, result.bound) == ("feasible", 10, 5)
