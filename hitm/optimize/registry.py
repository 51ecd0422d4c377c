"""The one registry of solvers: every method, how to run it, and what it proves.

``solve``, ``hitm compare``, the tests and the benchmarks read :data:`SOLVERS`
(and :func:`variants` for every method × backend pair). Adding a solver is one
entry here plus its module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hitm.errors import ParameterError, suggest
from hitm.optimize.bisect import solve_bisect
from hitm.optimize.dp import solve_dp
from hitm.optimize.exact import BACKENDS, run_cpsat, run_ilp
from hitm.optimize.greedy import solve_greedy
from hitm.optimize.result import Method, SolveRequest, SolveResult
from hitm.problem import AllocationProblem

__all__ = ["SOLVERS", "Solver", "solver", "variants"]

Run = Callable[[AllocationProblem, SolveRequest], SolveResult]


def _placed(method: Method) -> Callable[[AllocationProblem], SolveResult]:
    """The placed search as ``method``, loaded only for a problem with a placement
    (start-up time)."""

    def run(problem: AllocationProblem) -> SolveResult:
        from hitm.optimize.placement import solve_placed

        return solve_placed(problem, method)

    return run


def _blind(problem: AllocationProblem) -> SolveResult:
    from hitm.optimize.placement import solve_blind

    return solve_blind(problem)


@dataclass(frozen=True)
class Solver:
    """One method.

    Attributes
    ----------
    method
        Its id.
    run
        ``run(problem, request)`` (:class:`~hitm.optimize.result.SolveRequest`).
    summary, exact_when
        What it is and when its answer is proven optimal (README's solver table).
    timed
        Whether it takes a time limit and a warm-start hint (the exact models).
    backends
        The backends it can run on; the first is the default.
    placed
        What it runs when the problem has a placement (data movement priced);
        None: ``run`` handles it.
    """

    method: Method
    run: Run
    summary: str
    exact_when: str
    timed: bool = False
    backends: tuple[str, ...] = ()
    placed: Callable[[AllocationProblem], SolveResult] | None = None


def _untimed(func: Callable[[AllocationProblem], SolveResult]) -> Run:
    return lambda problem, request: func(problem)


SOLVERS: dict[Method, Solver] = {
    s.method: s
    for s in (
        Solver(
            Method.DP,
            _untimed(solve_dp),
            "the paper's dynamic program over stages × crossbars",
            "one resource (crossbars)",
            placed=_placed(Method.DP),
        ),
        Solver(
            Method.BISECT,
            _untimed(solve_bisect),
            "binary search over candidate bottlenecks",
            "options dearer as they get faster (always, for copy counts)",
            placed=_placed(Method.BISECT),
        ),
        Solver(
            Method.GREEDY,
            lambda problem, request: solve_greedy(problem, request.left()),
            "raise the bottleneck stage to its next option while it fits",
            "never assumed",
            placed=_blind,
        ),
        Solver(
            Method.CPSAT,
            run_cpsat,
            "OR-Tools CP-SAT, order encoding of T, warm-started from the DP",
            "when it proves it",
            timed=True,
        ),
        Solver(
            Method.ILP,
            run_ilp,
            "one-hot MILP in PuLP, warm-started from the DP",
            "when it proves it",
            timed=True,
            backends=BACKENDS,
        ),
    )
}
"""Every solver by method id, in the order reports list them."""


def solver(method: str) -> Solver:
    """The solver of ``method``.

    Raises
    ------
    ParameterError
        For an unknown method (with the closest id).
    """
    for m, s in SOLVERS.items():
        if method == m:
            return s
    known = [str(m) for m in SOLVERS]
    raise ParameterError(
        "method",
        f"unknown method '{method}'{suggest(str(method), known)}; known: {', '.join(known)}",
    )


def variants() -> list[tuple[Method, str | None]]:
    """Every (method, backend) pair: what ``hitm compare`` runs."""
    return [(m, b) for m, s in SOLVERS.items() for b in (s.backends or (None,))]
