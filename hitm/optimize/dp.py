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


def _stage_any(
    f: np.ndarray, extra: np.ndarray, busy: np.ndarray, chosen: np.ndarray
) -> np.ndarray:
    """One DP step by brute force over options: ``g(b) = min_o max(f(b − c_o), busy_o)``."""
    n = len(f)
    g = np.full(n, _INF, dtype=np.int64)
    cand = np.empty(n, dtype=np.int64)
    better = np.empty(n, dtype=bool)
    for o in range(len(busy)):
        c = int(extra[o])
        if c >= n:
            continue  # does not fit even with every other stage at one copy
        width = n - c
        np.maximum(f[:width], busy[o], out=cand[:width])
        np.less(cand[:width], g[c:], out=better[:width])
        np.copyto(g[c:], cand[:width], where=better[:width])
        np.copyto(chosen[c:], o, where=better[:width])
    return g


def _stage_sorted(
    f: np.ndarray, extra: np.ndarray, busy: np.ndarray, chosen: np.ndarray
) -> np.ndarray:
    """The same DP step when costs rise as busy times fall, in O((n + m) log) numpy work.

    For a budget ``b``, ``h(o) = f(b − c_o)`` never decreases with ``o`` (less
    budget left) while ``busy_o`` falls, so ``max(h(o), busy_o)`` is smallest
    next to the first ``o1`` with ``h(o1) >= busy_o1``: the answer is either
    ``busy_{o1−1}`` or ``h(o1)``. Since ``f`` is non-increasing,
    ``h(o) >= busy_o`` exactly when ``b < c_o + #{b' : f(b') >= busy_o}``, so
    ``o1`` for every budget comes from two sorted searches.
    """
    n = len(f)
    reach = extra + np.searchsorted(-f, -busy, side="right")  # h(o) >= busy_o iff b < reach_o
    o1 = np.searchsorted(np.maximum.accumulate(reach), np.arange(n), side="right")
    m = len(busy)
    left = np.arange(n) - extra[np.minimum(o1, m - 1)]
    at_o1 = np.where((o1 < m) & (left >= 0), f[np.maximum(left, 0)], _INF)
    before = np.where(o1 > 0, busy[np.maximum(o1 - 1, 0)], _INF)
    take_before = before <= at_o1  # ties go to the cheaper option
    chosen[:] = np.where(take_before, o1 - 1, o1)
    return np.where(take_before, before, at_o1)


def solve_dp(problem: AllocationProblem, time_limit: float | None = None) -> SolveResult:
    """Solve by dynamic programming over crossbars, at crossbar granularity.

    Budget units are counted above the cheapest design (one copy of
    everything), so the table is ``stages × (budget − cheapest + 1)``. Numpy does the work of
    each option over all budget units at once; Python loops over options only.

    Parameters
    ----------
    problem
        The allocation problem; ``crossbars`` must be its first resource.
    time_limit
        Ignored: the DP always runs to completion (its size is checked first).
    """
    start = time.perf_counter()
    # Each stage's cheapest option in crossbars is the DP's zero (option 0 for copies).
    floor = [int(stage.cost[:, 0].min()) for stage in problem.stages]
    base = sum(floor)
    room = int(problem.capacity[0]) - base
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
    for k, stage in enumerate(problem.stages):
        extra = stage.cost[:, 0] - floor[k]
        if np.all(np.diff(extra) >= 0):
            f = _stage_sorted(f, extra, stage.busy_ps, choices[k])
        else:
            f = _stage_any(f, extra, stage.busy_ps, choices[k])

    best = int(f[-1])
    b = int(np.searchsorted(-f, -best, side="left"))  # least budget reaching the best
    choice = [0] * len(problem.stages)
    for k in range(len(problem.stages) - 1, -1, -1):
        o = int(choices[k][b])
        choice[k] = o
        b -= int(problem.stages[k].cost[o, 0]) - floor[k]

    steps = np.flatnonzero(np.diff(f)) + 1
    at = np.concatenate([[0], steps])
    curve = BudgetCurve(budget=at + base, bottleneck_ps=f[at].copy())
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
