"""Binary search over candidate bottlenecks.

For a bottleneck ``T`` every stage takes its first (cheapest) option with
``busy <= T``; ``T`` is feasible when those options fit. Feasibility is
monotone in ``T``, so a binary search over the distinct busy values finds the
least feasible one, and the options taken there are the cheapest that reach
it: the lexicographic optimum. Exact whenever options get dearer as they get
faster (always true for copy counts).
"""

from __future__ import annotations

import time

import numpy as np

from hitm.optimize.arrays import monotone
from hitm.optimize.result import SolveResult
from hitm.problem import AllocationProblem

__all__ = ["solve_bisect"]


def solve_bisect(problem: AllocationProblem, time_limit: float | None = None) -> SolveResult:
    """Solve by binary search on the bottleneck (``time_limit`` is not needed)."""
    start = time.perf_counter()
    stages = problem.stages
    busy = np.concatenate([s.busy_ps for s in stages])
    cost = np.concatenate([s.cost for s in stages])
    offsets = np.cumsum([0] + [s.n_options for s in stages])[:-1]

    def pick(t: int) -> np.ndarray:
        # Options run slow → fast, so the first meeting T is after all slower ones.
        return offsets + np.add.reduceat((busy > t).astype(np.int64), offsets)

    floor = max(int(s.busy_ps[-1]) for s in stages)  # no stage gets below its fastest
    candidates = np.unique(busy[busy >= floor])
    lo, hi = 0, len(candidates) - 1
    if not np.all(cost[pick(int(candidates[hi]))].sum(axis=0) <= problem.capacity):
        return SolveResult("bisect", "infeasible", seconds=time.perf_counter() - start)
    while lo < hi:
        mid = (lo + hi) // 2
        if np.all(cost[pick(int(candidates[mid]))].sum(axis=0) <= problem.capacity):
            hi = mid
        else:
            lo = mid + 1
    t = int(candidates[lo])
    idx = pick(t)
    choice = tuple(int(i - o) for i, o in zip(idx, offsets, strict=True))
    exact = monotone(problem)
    return SolveResult(
        "bisect",
        "optimal" if exact else "feasible",
        choice=choice,
        bottleneck_ps=t,
        cost=dict(zip(problem.resources, (int(c) for c in cost[idx].sum(axis=0)), strict=True)),
        bound_ps=t if exact else None,
        seconds=time.perf_counter() - start,
        message="" if exact else "options are not monotone in cost: not proven optimal",
    )
