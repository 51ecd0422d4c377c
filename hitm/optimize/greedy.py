"""The ISAAC/PIMCOMP-style heuristic: raise the bottleneck stage while it fits.

Start from one copy of everything; repeatedly move the slowest stage to its
cheapest faster option (by the scaled cost of
:func:`~hitm.optimize.arrays.scalar_costs`, which is the next option when
options only add copies); stop when that move no longer fits the budget (or
the slowest stage is already at its fastest). Never assumed optimal: its
result is always ``feasible`` and its gap is measured against the exact methods.
"""

from __future__ import annotations

import heapq
import time

import numpy as np

from hitm.optimize.arrays import allocation_result, scalar_costs, suffix_argmin
from hitm.optimize.result import Method, SolveResult, Status
from hitm.problem import AllocationProblem

__all__ = ["solve_greedy"]


def solve_greedy(problem: AllocationProblem, time_limit: float | None = None) -> SolveResult:
    """Solve greedily: at most one move per option, each fitting the budget.

    With ``time_limit`` (seconds) it stops there with the design it has reached,
    which fits too (a 1,000-layer chain at 64 chips makes about 104,000 moves, 0.9 s).
    """
    start = time.perf_counter()
    deadline = None if time_limit is None else start + time_limit
    moves = 0
    message = ""
    stages = problem.stages
    choice = [0] * len(stages)
    used = problem.naive_cost().astype(np.int64)
    if np.any(problem.floor_cost() > problem.capacity):
        return SolveResult(Method.GREEDY, Status.INFEASIBLE, seconds=time.perf_counter() - start)
    if np.any(used > problem.capacity):
        # The slowest options (a product on one MAC unit, say) do not fit, but a design
        # mixing crossbars and MAC units might: not a proof of infeasibility.
        return SolveResult(
            Method.GREEDY,
            Status.ERROR,
            seconds=time.perf_counter() - start,
            message="the slowest option of every stage does not fit the budget, so greedy"
            " has no start; an exact method can still find a design",
        )
    best_from = [suffix_argmin(c) for c in scalar_costs(problem)]
    # Max-heap on busy; ties go to the earlier stage, as a pipeline walk would.
    heap = [(-int(s.busy_ps[0]), k) for k, s in enumerate(stages)]
    heapq.heapify(heap)
    while heap:
        k = heap[0][1]
        stage, o = stages[k], choice[k]
        faster = int(np.searchsorted(-stage.busy_ps, -stage.busy_ps[o], side="right"))
        if faster >= stage.n_options:
            break  # the bottleneck is already at its fastest
        nxt = int(best_from[k][faster])
        after = used + stage.cost[nxt] - stage.cost[o]
        if np.any(after > problem.capacity):
            break
        used, choice[k] = after, nxt
        heapq.heapreplace(heap, (-int(stage.busy_ps[nxt]), k))
        moves += 1
        if deadline is not None and moves % 256 == 0 and time.perf_counter() > deadline:
            message = f"stopped at the time limit after {moves:,} moves"
            break
    bottleneck = -heap[0][0]
    return allocation_result(
        problem, Method.GREEDY, Status.FEASIBLE, choice, bottleneck, start, message=message
    )
