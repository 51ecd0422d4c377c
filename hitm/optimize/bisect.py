"""Binary search over candidate bottlenecks.

For a bottleneck ``T`` every stage takes its cheapest option with
``busy <= T``; ``T`` is feasible when those options fit. Feasibility is
monotone in ``T``, so a binary search over the distinct busy values finds the
least feasible one, and the options taken there are the cheapest that reach
it: the lexicographic optimum. Exact whenever options get dearer in every
resource as they get faster (always true for copy counts). Otherwise (design
mode) "cheapest" is by the scaled cost of :func:`~hitm.optimize.arrays.scalar_costs`
and the answer is only ``feasible``.
"""

from __future__ import annotations

import time

import numpy as np

from hitm.optimize.arrays import allocation_result, monotone, scalar_costs, suffix_argmin
from hitm.optimize.result import Method, SolveResult, Status
from hitm.problem import AllocationProblem
from hitm.staircase import distinct

__all__ = ["solve_bisect"]


def solve_bisect(problem: AllocationProblem) -> SolveResult:
    """Solve by binary search on the bottleneck (it needs no time limit)."""
    start = time.perf_counter()
    stages = problem.stages
    exact = monotone(problem)
    busy = np.concatenate([s.busy_ps for s in stages])
    cost = np.concatenate([s.cost for s in stages])
    offsets = np.cumsum([0] + [s.n_options for s in stages])[:-1]
    if exact:
        best_from = np.arange(len(busy))  # the first option meeting T is the cheapest
    else:
        best_from = np.concatenate(
            [o + suffix_argmin(c) for o, c in zip(offsets, scalar_costs(problem), strict=True)]
        )

    def pick(t: int) -> np.ndarray:
        # Options run slow → fast, so those meeting T follow all slower ones.
        return best_from[offsets + np.add.reduceat((busy > t).astype(np.int64), offsets)]

    def fits(t: int) -> bool:
        return bool(np.all(cost[pick(t)].sum(axis=0) <= problem.capacity))

    floor = max(int(s.busy_ps[-1]) for s in stages)  # no stage gets below its fastest
    candidates = distinct(busy[busy >= floor])
    lo, hi = 0, len(candidates) - 1
    if not fits(int(candidates[hi])):
        status = Status.INFEASIBLE if exact else Status.ERROR
        message = "" if exact else "no scaled-cost choice fits every budget"
        return SolveResult(
            Method.BISECT, status, seconds=time.perf_counter() - start, message=message
        )
    while lo < hi:
        mid = (lo + hi) // 2
        if fits(int(candidates[mid])):
            hi = mid
        else:
            lo = mid + 1
    idx = pick(int(candidates[lo]))
    choice = tuple(int(i - o) for i, o in zip(idx, offsets, strict=True))
    t = max(int(s.busy_ps[o]) for s, o in zip(stages, choice, strict=True))
    if exact:
        return allocation_result(
            problem, Method.BISECT, Status.OPTIMAL, choice, t, start, bound_ps=t
        )
    return allocation_result(
        problem,
        Method.BISECT,
        Status.FEASIBLE,
        choice,
        t,
        start,
        message="options are not dearer in every resource as they get faster:"
        " scaled-cost choice, not proven optimal",
    )
