"""Adapters from an :class:`AllocationProblem` to the exact formulations.

The formulations (top-level ``formulations`` package) see plain arrays only;
they are imported when first run, so commands that never call them never load
OR-Tools or PuLP. They are warm-started with the DP's answer as a hint (with
a placement: the placed bisection's design and cuts); no bound from another
method is passed, so their proofs stand alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hitm.errors import ParameterError, suggest
from hitm.optimize.result import Method, SolveRequest, SolveResult, Status
from hitm.problem import AllocationProblem

if TYPE_CHECKING:
    from formulations import FormulationResult

__all__ = ["BACKENDS", "check_backend", "run_cpsat", "run_ilp"]

BACKENDS = ("highs", "cbc")


def check_backend(backend: str | None) -> str:
    """The MILP backend ``backend`` names (``highs`` for None).

    Raises
    ------
    ParameterError
        For an unknown backend, with the closest known one.
    """
    backend = backend or BACKENDS[0]
    if backend not in BACKENDS:
        raise ParameterError(
            "backend",
            f"unknown MILP backend '{backend}'{suggest(backend, BACKENDS)};"
            f" known: {', '.join(BACKENDS)}",
        )
    return backend


"""MILP solvers ``ilp`` can run through PuLP; the first is the default."""


def _arrays(problem: AllocationProblem):
    return (
        [s.busy_ps for s in problem.stages],
        [s.cost for s in problem.stages],
        problem.capacity,
    )


def _wrap(
    method: Method, res: FormulationResult, problem: AllocationProblem, backend: str | None
) -> SolveResult:
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
        cuts=res.cuts,
    )


def run_cpsat(problem: AllocationProblem, request: SolveRequest) -> SolveResult:
    """CP-SAT with an order encoding of the bottleneck; deterministic (1 worker, seed 0)."""
    from formulations import solve_cpsat

    busy, cost, capacity = _arrays(problem)
    res = solve_cpsat(
        busy,
        cost,
        capacity,
        time_limit=request.left(),
        hint=request.hint,
        workers=1,
        seed=0,
        placement=problem.placement,
        hint_cuts=request.hint_cuts,
    )
    return _wrap(Method.CPSAT, res, problem, None)


def run_ilp(problem: AllocationProblem, request: SolveRequest) -> SolveResult:
    """The one-hot MILP through PuLP with HiGHS (default) or CBC."""
    backend = check_backend(request.backend)
    from formulations import available_backends, solve_ilp

    if backend not in available_backends():
        return SolveResult(
            Method.ILP, Status.ERROR, message=f"{backend} is not available here", backend=backend
        )
    busy, cost, capacity = _arrays(problem)
    res = solve_ilp(
        busy,
        cost,
        capacity,
        time_limit=request.left(),
        hint=request.hint,
        backend=backend,
        placement=problem.placement,
        hint_cuts=request.hint_cuts,
    )
    return _wrap(Method.ILP, res, problem, backend)
