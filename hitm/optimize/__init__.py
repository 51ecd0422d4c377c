"""Solvers for the allocation problem, one signature for all.

``solve(problem, method, time_limit)`` returns a :class:`SolveResult`; the
pipeline model (:func:`hitm.pipeline.verify`) checks and scores any of them.
"""

from __future__ import annotations

import time
from dataclasses import replace

from hitm.errors import DescriptionError, suggest
from hitm.optimize.bisect import solve_bisect
from hitm.optimize.dp import solve_dp
from hitm.optimize.exact import BACKENDS, run_cpsat, run_ilp
from hitm.optimize.greedy import solve_greedy
from hitm.optimize.result import METHODS, STATUSES, BudgetCurve, SolveResult
from hitm.problem import AllocationProblem

__all__ = ["BACKENDS", "METHODS", "STATUSES", "BudgetCurve", "SolveResult", "solve"]


def solve(
    problem: AllocationProblem,
    method: str = "dp",
    time_limit: float = 10.0,
    *,
    backend: str = "highs",
) -> SolveResult:
    """Choose copies per layer to minimise the bottleneck, then the crossbars used.

    Parameters
    ----------
    problem
        From :func:`hitm.problem.build_problem`.
    method
        ``dp`` (the paper's DP), ``bisect``, ``greedy``, ``cpsat`` or ``ilp``.
    time_limit
        Seconds for ``cpsat`` and ``ilp`` (the others run to completion).
    backend
        ``highs`` or ``cbc`` for ``ilp``.

    Returns
    -------
    SolveResult
        Status, allocation (option per stage and copies per layer), bottleneck,
        cost, proven bound where the method gives one, and wall seconds. An
        infeasible budget is a result, not an exception; its message says
        which resource is short and by how much.
    """
    if method not in METHODS:
        raise DescriptionError(
            f"method: unknown method '{method}'{suggest(method, METHODS)}; known: {', '.join(METHODS)}"
        )
    if not time_limit > 0:
        raise DescriptionError(f"time_limit: must be positive, got {time_limit}")
    start = time.perf_counter()
    if method in ("cpsat", "ilp"):
        warm = solve_dp(problem)  # a hint only: the exact models prove their own bound
        if not warm.has_allocation:
            warm = solve_greedy(problem)
        left = max(time_limit - (time.perf_counter() - start), 0.05)
        if method == "cpsat":
            result = run_cpsat(problem, left, warm.choice)
        else:
            result = run_ilp(problem, left, warm.choice, backend)
        result = _with(result, seconds=time.perf_counter() - start)
    else:
        result = {"dp": solve_dp, "bisect": solve_bisect, "greedy": solve_greedy}[method](problem)
    if result.choice is not None:
        result = _with(
            result, copies=problem.copies_of(result.choice), adcs=problem.adcs_of(result.choice)
        )
    if result.status == "infeasible":
        short = problem.shortfall()
        detail = "; ".join(
            f"one copy of every layer needs {int(n):,} {r}, {short[r]:,} more than the {int(c):,} budgeted"
            for r, n, c in zip(
                problem.resources, problem.naive_cost(), problem.capacity, strict=True
            )
            if r in short
        )
        result = _with(result, message=detail or result.message)
    return result


def _with(result: SolveResult, **changes: object) -> SolveResult:
    return replace(result, **changes)
