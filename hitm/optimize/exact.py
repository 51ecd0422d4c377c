"""Adapters from an :class:`AllocationProblem` to the exact formulations.

The formulations (top-level ``formulations`` package) see plain arrays only.
They are warm-started with the DP's answer as a hint; no bound from another
method is passed, so their proofs stand alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from formulations import FormulationResult, available_backends, solve_cpsat, solve_ilp
from hitm.errors import DescriptionError
from hitm.optimize.result import SolveResult
from hitm.problem import AllocationProblem

__all__ = ["BACKENDS", "run_cpsat", "run_ilp"]

BACKENDS = ("highs", "cbc")


def _arrays(problem: AllocationProblem):
    return (
        [s.busy_ps for s in problem.stages],
        [s.cost for s in problem.stages],
        problem.capacity,
    )


def _wrap(method: str, res: FormulationResult, problem: AllocationProblem, backend: str | None):
    cost = None
    if res.cost is not None:
        cost = dict(zip(problem.resources, (int(c) for c in res.cost), strict=True))
    return SolveResult(
        method,
        res.status,
        choice=res.choice,
        bottleneck_ps=res.bottleneck,
        cost=cost,
        bound_ps=res.bound,
        seconds=res.seconds,
        message=res.message,
        backend=backend,
    )


def run_cpsat(
    problem: AllocationProblem, time_limit: float, hint: Sequence[int] | None = None
) -> SolveResult:
    """CP-SAT with an order encoding of the bottleneck; deterministic (1 worker, seed 0)."""
    busy, cost, capacity = _arrays(problem)
    res = solve_cpsat(busy, cost, capacity, time_limit=time_limit, hint=hint, workers=1, seed=0)
    return _wrap("cpsat", res, problem, None)


def run_ilp(
    problem: AllocationProblem,
    time_limit: float,
    hint: Sequence[int] | None = None,
    backend: str = "highs",
) -> SolveResult:
    """The one-hot MILP through PuLP with HiGHS (default) or CBC."""
    if backend not in BACKENDS:
        raise DescriptionError(f"--backend: unknown MILP backend '{backend}'; known: highs, cbc")
    if backend not in available_backends():
        return SolveResult(
            "ilp", "error", message=f"{backend} is not available here", backend=backend
        )
    busy, cost, capacity = _arrays(problem)
    res = solve_ilp(busy, cost, capacity, time_limit=time_limit, hint=hint, backend=backend)
    return _wrap("ilp", res, problem, backend)
