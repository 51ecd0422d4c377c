"""Solvers for the allocation problem, one signature for all.

``solve(problem, method, time_limit)`` returns a :class:`SolveResult`; the
pipeline model (:func:`hitm.pipeline.verify`) checks and scores any of them.
The solvers are listed once, in :data:`~hitm.optimize.registry.SOLVERS`.
"""

from __future__ import annotations

import dataclasses
import time

from hitm.errors import ParameterError
from hitm.optimize.bisect import solve_bisect
from hitm.optimize.dp import solve_dp
from hitm.optimize.exact import BACKENDS, check_backend
from hitm.optimize.greedy import solve_greedy
from hitm.optimize.registry import SOLVERS, Solver, solver, variants
from hitm.optimize.result import METHODS, Method, SolveRequest, SolveResult, Status
from hitm.problem import AllocationProblem

__all__ = [
    "BACKENDS",
    "METHODS",
    "SOLVERS",
    "Method",
    "SolveRequest",
    "SolveResult",
    "Solver",
    "Status",
    "solve",
    "solver",
    "variants",
]

_MIN_LEFT_SECONDS = 0.05  # an exact model gets at least this after its warm start


def _warm_start(problem: AllocationProblem) -> SolveResult:
    """The design an exact model starts from.

    Bisection's, which is exact where options get dearer as they get faster
    (copies) and takes milliseconds at 1,000 stages where the DP takes a second
    (placed: the placed bisection's); otherwise the DP's, else greedy's.
    """
    if problem.placement is not None:
        from hitm.optimize.placement import solve_blind, solve_placed

        warm = solve_placed(problem, Method.BISECT)
        return warm if warm.has_allocation else solve_blind(problem)
    warm = solve_bisect(problem)
    if warm.status == Status.OPTIMAL:
        return warm
    warm = solve_dp(problem)
    return warm if warm.has_allocation else solve_greedy(problem)


def solve(
    problem: AllocationProblem,
    method: str = "dp",
    time_limit: float = 10.0,
    *,
    backend: str | None = None,
) -> SolveResult:
    """Choose copies per layer to minimise the bottleneck, then the crossbars used.

    Parameters
    ----------
    problem
        From :func:`hitm.problem.build_problem`.
    method
        A :class:`Method` id: ``dp`` (the paper's DP), ``bisect``, ``greedy``,
        ``cpsat`` or ``ilp``.
    time_limit
        Seconds for the timed methods (``cpsat``, ``ilp``); the others run to completion.
    backend
        For ``ilp``: ``highs`` (default) or ``cbc``.

    Returns
    -------
    SolveResult
        Status, allocation (option per stage and copies per layer), bottleneck,
        cost, proven bound where the method gives one, and wall seconds. A timed
        method out of time before a design of its own returns the design it was
        warm-started from as ``feasible``, with its own bound. An
        infeasible budget is a result, not an exception; its message says
        which resource is short and by how much.

    Raises
    ------
    ParameterError
        For an unknown method or backend, or a time limit that is not positive.
    """
    chosen = solver(method)
    if not time_limit > 0:
        raise ParameterError("time_limit", f"must be positive, got {time_limit}")
    milp_backend = check_backend(backend) if chosen.method == Method.ILP else None
    start = time.perf_counter()
    if problem.shortfall():
        # The naive design is the cheapest in every resource: if it does not fit, nothing
        # does. Every method says so at once instead of building its model first.
        return SolveResult(
            chosen.method,
            Status.INFEASIBLE,
            message=problem.shortfall_message(),
            seconds=time.perf_counter() - start,
            backend=milp_backend,
        )
    ring = problem.placement is not None and problem.analysis.hardware.topology == "ring"
    if problem.placement is not None and chosen.placed is not None:
        result = chosen.placed(problem)
    elif chosen.timed:
        exact = problem
        if ring:  # the exact models prove the ring's bound: a chain with twice the bandwidth
            from hitm.optimize.ring import wider

            exact = wider(problem, 2)
        warm = _warm_start(exact)  # a hint only: the exact models prove their own bound
        left = max(time_limit - (time.perf_counter() - start), _MIN_LEFT_SECONDS)
        request = SolveRequest(left, warm.choice, backend, warm.cuts)
        result = chosen.run(exact, request)
        if result.status == Status.TIMEOUT and result.choice is None and warm.has_allocation:
            # Out of time before a design of its own: the one it started from, unproven.
            result = dataclasses.replace(
                result,
                status=Status.FEASIBLE,
                choice=warm.choice,
                bottleneck_ps=warm.bottleneck_ps,
                cost=warm.cost,
                cuts=warm.cuts,
                message=f"{result.message}; out of time: the warm start's design, not proven",
            )
        result = dataclasses.replace(result, seconds=time.perf_counter() - start)
    else:
        result = chosen.run(problem, SolveRequest(time_limit, None, backend))
    if ring:
        from hitm.optimize.ring import on_ring

        begun = time.perf_counter()
        result = on_ring(problem, result)
        result = dataclasses.replace(
            result, seconds=(result.seconds or 0) + time.perf_counter() - begun
        )
    if result.choice is not None:
        result = dataclasses.replace(
            result,
            copies=problem.copies_of(result.choice),
            adcs=problem.adcs_of(result.choice),
            units=problem.units_of(result.choice),
        )
    if result.status == Status.INFEASIBLE:
        result = dataclasses.replace(result, message=problem.shortfall_message() or result.message)
    return result
