"""The paper's dynamic program as a dense table over stages × budget units.

``f_k(b) = min_o max(f_{k-1}(b - c_o), busy_o)``: the best bottleneck of the
first ``k`` stages within ``b`` crossbars. One pass gives the whole
budget → bottleneck curve. This is the reference the breakpoint form
(:mod:`hitm.optimize.dp`, what ``dp`` runs) is tested against: the same
recurrence at every budget unit, so its time and memory grow with the budget
(``MAX_CELLS`` refuses tables beyond 0.8 GB).
"""

from __future__ import annotations

import time

import numpy as np

from hitm.optimize.arrays import allocation_result, first_fitting, scalar_costs
from hitm.optimize.result import Method, SolveResult, Status
from hitm.problem import AllocationProblem
from hitm.staircase import Staircase

__all__ = ["MAX_CELLS", "SCALED_UNITS", "solve_dp_dense"]

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


def _table(
    extras: list[np.ndarray], busys: list[np.ndarray], n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Run the recurrence over ``n`` budget units; returns ``f_K`` and the choice table."""
    f = np.zeros(n, dtype=np.int64)  # no stage yet: bottleneck 0 at any budget
    dtype = np.uint16 if max(len(b) for b in busys) < 2**16 else np.uint32
    choices = np.zeros((len(busys), n), dtype=dtype)
    for k, (extra, busy) in enumerate(zip(extras, busys, strict=True)):
        step = _stage_sorted if np.all(np.diff(extra) >= 0) else _stage_any
        f = step(f, extra, busy, choices[k])
    return f, choices


def _reconstruct(choices: np.ndarray, extras: list[np.ndarray], b: int) -> list[int]:
    """Walk the choice table back from budget ``b``."""
    choice = [0] * len(extras)
    for k in range(len(extras) - 1, -1, -1):
        choice[k] = int(choices[k][b])
        b -= int(extras[k][choice[k]])
    return choice


def _too_big(cells: int, start: float) -> SolveResult | None:
    if cells <= MAX_CELLS:
        return None
    return SolveResult(
        Method.DP,
        Status.ERROR,
        seconds=time.perf_counter() - start,
        message=f"the DP table would have {cells:,} cells (limit {MAX_CELLS:,});"
        " the breakpoint DP (method dp) has no such limit",
    )


def solve_dp_dense(problem: AllocationProblem) -> SolveResult:
    """Solve by dynamic programming over one budget dimension, unit by unit.

    With crossbars the only resource, the DP is exact at crossbar
    granularity. Budget units are counted above the cheapest design (one copy
    of everything), so the table is ``stages × (budget − cheapest + 1)``.

    With several resources (tiles, power, area) the DP budgets one scaled
    cost instead (:func:`~hitm.optimize.arrays.scalar_costs`, in
    ``SCALED_UNITS`` units per resource's room) and checks each point of its
    curve, best first, against every real budget; the first that fits is
    returned as ``feasible``, never assumed optimal.

    Parameters
    ----------
    problem
        The allocation problem; ``crossbars`` must be its first resource. The
        DP always runs to completion; its size is checked first.
    """
    start = time.perf_counter()
    if len(problem.resources) > 1:
        return _solve_scaled(problem, start)
    # Each stage's cheapest option in crossbars is the DP's zero (option 0 for copies).
    floor = [int(stage.cost[:, 0].min()) for stage in problem.stages]
    base = sum(floor)
    room = int(problem.capacity[0]) - base
    if room < 0:
        return SolveResult(Method.DP, Status.INFEASIBLE, seconds=time.perf_counter() - start)
    n = room + 1
    if (refused := _too_big(n * len(problem.stages), start)) is not None:
        return refused
    extras = [stage.cost[:, 0] - floor[k] for k, stage in enumerate(problem.stages)]
    f, choices = _table(extras, [s.busy_ps for s in problem.stages], n)
    best = int(f[-1])
    b = int(np.searchsorted(-f, -best, side="left"))  # least budget reaching the best
    choice = _reconstruct(choices, extras, b)
    steps = np.flatnonzero(np.diff(f)) + 1
    at = np.concatenate([[0], steps])
    curve = Staircase(budget=at + base, bottleneck_ps=f[at].copy())
    return allocation_result(
        problem, Method.DP, Status.OPTIMAL, choice, best, start, bound_ps=best, curve=curve
    )


SCALED_UNITS = 20_000
"""Budget units per resource's room in the scaled DP (its resolution)."""


def _solve_scaled(problem: AllocationProblem, start: float) -> SolveResult:
    """The DP over a scaled cost, its answer checked against every budget."""
    if np.any(problem.floor_cost() > problem.capacity):
        return SolveResult(Method.DP, Status.INFEASIBLE, seconds=time.perf_counter() - start)
    n = SCALED_UNITS * len(problem.resources) + 1
    if (refused := _too_big(n * len(problem.stages), start)) is not None:
        return refused
    # Per stage, keep the options no other beats in (busy, scaled cost): the DP
    # sees only that cost, and sorted options let it take the fast step.
    kept, extras, busys = [], [], []
    for stage, scaled in zip(problem.stages, scalar_costs(problem), strict=True):
        units = np.ceil(scaled * SCALED_UNITS - 1e-9).astype(np.int64)
        order = np.lexsort((units, stage.busy_ps))  # fastest first, then cheapest
        prior = np.concatenate([[np.iinfo(np.int64).max], np.minimum.accumulate(units[order])[:-1]])
        idx = order[units[order] < prior][::-1]  # slow → fast, strictly dearer
        kept.append(idx)
        extras.append(units[idx] - units[idx].min())
        busys.append(stage.busy_ps[idx])
    f, choices = _table(extras, busys, n)
    # Best curve point first; each at the least budget reaching it.
    values, first = np.unique(f, return_index=True)
    points = (
        (
            int(value),
            [int(k[o]) for k, o in zip(kept, _reconstruct(choices, extras, int(b)), strict=True)],
        )
        for value, b in zip(values, first, strict=True)
    )
    return first_fitting(problem, points, start)
