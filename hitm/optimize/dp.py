"""The paper's dynamic program over stages × budget units.

``f_k(b) = min_o max(f_{k-1}(b - c_o), busy_o)``: the best bottleneck of the
first ``k`` stages within ``b`` crossbars. One pass gives the whole
budget → bottleneck curve. Exact when crossbars are the only resource; a
second resource (tiles) is checked afterwards, never assumed.
"""

from __future__ import annotations

import time

import numpy as np

from hitm.optimize.arrays import choice_cost
from hitm.optimize.result import BudgetCurve, SolveResult
from hitm.problem import AllocationProblem

__all__ = ["MAX_CELLS", "solve_dp"]

MAX_CELLS = 400_000_000  # stages × budget units kept for reconstruction (~0.8 GB at 2 bytes)
_INF = np.iinfo(np.int64).max


def solve_dp(problem: AllocationProblem, time_limit: float | None = None) -> SolveResult:
    """Solve by dynamic programming over crossbars, at crossbar granularity.

    Budget units are counted above the naive design (one copy of everything),
    so the table is ``stages × (budget − naive + 1)``. Numpy does the work of
    each option over all budget units at once; Python loops over options only.

    Parameters
    ----------
    problem
        The allocation problem; ``crossbars`` must be its first resource.
    time_limit
        Ignored: the DP always runs to completion (its size is checked first).
    """
    start = time.perf_counter()
    naive = problem.naive_cost()
    room = int(problem.capacity[0] - naive[0])
    if room < 0:
        return SolveResult("dp", "infeasible", seconds=time.perf_counter() - start)
    n = room + 1
    cells = n * len(problem.stages)
    if cells > MAX_CELLS:
        return SolveResult(
            "dp",
            "error",
            seconds=time.perf_counter() - start,
            message=f"the DP table would have {cells:,} cells (limit {MAX_CELLS:,});"
            " use bisect, cpsat or ilp",
        )

    f = np.zeros(n, dtype=np.int64)  # no stage yet: bottleneck 0 at any budget
    max_opts = max(s.n_options for s in problem.stages)
    dtype = np.uint16 if max_opts < 2**16 else np.uint32
    choices = np.zeros((len(problem.stages), n), dtype=dtype)
    cand = np.empty(n, dtype=np.int64)
    better = np.empty(n, dtype=bool)
    for k, stage in enumerate(problem.stages):
        extra = stage.cost[:, 0] - stage.cost[0, 0]
        busy = stage.busy_ps
        g = np.maximum(f, busy[0])  # option 0 costs nothing extra
        chosen = choices[k]
        for o in range(1, stage.n_options):
            c = int(extra[o])
            if c >= n:
                continue  # does not fit even with every other stage at one copy
            width = n - c
            np.maximum(f[:width], busy[o], out=cand[:width])
            np.less(cand[:width], g[c:], out=better[:width])
            np.copyto(g[c:], cand[:width], where=better[:width])
            np.copyto(chosen[c:], o, where=better[:width])
        f = g

    best = int(f[-1])
    b = int(np.searchsorted(-f, -best, side="left"))  # least budget reaching the best
    choice = [0] * len(problem.stages)
    for k in range(len(problem.stages) - 1, -1, -1):
        o = int(choices[k][b])
        choice[k] = o
        b -= int(problem.stages[k].cost[o, 0] - problem.stages[k].cost[0, 0])

    steps = np.flatnonzero(np.diff(f)) + 1
    at = np.concatenate([[0], steps])
    curve = BudgetCurve(budget=at + int(naive[0]), bottleneck_ps=f[at].copy())
    cost = choice_cost(problem, choice)
    fits = bool(np.all(cost <= problem.capacity))
    status, message = "optimal", ""
    if len(problem.resources) > 1:
        # Exact over crossbars only: the other resources are checked, not optimised.
        status = "feasible" if fits else "error"
        message = "exact over crossbars only; " + (
            "other resources checked and within budget"
            if fits
            else "the answer exceeds another resource"
        )
    return SolveResult(
        "dp",
        status,
        choice=tuple(choice),
        bottleneck_ps=best,
        cost=dict(zip(problem.resources, (int(c) for c in cost), strict=True)),
        bound_ps=best if status == "optimal" else None,
        seconds=time.perf_counter() - start,
        message=message,
        curve=curve,
    )
