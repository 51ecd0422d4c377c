"""The paper's dynamic program, computed on the breakpoints of its staircases.

The recurrence ``f_k(b) = min_o max(f_{k-1}(b − c_o), busy_o)`` gives the best
bottleneck of the first ``k`` stages within ``b`` budget units. Every ``f_k`` is
a non-increasing staircase, and it is easier read the other way round: the
least budget that keeps the first ``k`` stages at or below a bottleneck ``v`` is

    ``B_k(v) = B_{k-1}(v) + min {c_o : busy_o <= v}``

(each stage takes its cheapest option meeting ``v``; the ``max`` decouples the
stages). So ``B_K(v)`` is a sum of per-stage staircases in ``v``, each
stepping only at its own options' busy times; adding them is one sorted sweep
over every option, ``O(N log N)`` for ``N`` options, whatever the budget. Its
steps are exactly the breakpoints of ``f_K``: ``f_K(b) = min {v : B_K(v) <= b}``.
The dense table (:mod:`hitm.optimize.dense`) runs the same recurrence unit by
unit and is the reference this is tested against, point by point.

Exact when crossbars are the only resource. With several the DP budgets one
scaled cost (:func:`~hitm.optimize.arrays.scalar_costs`) at ``SCALED_UNITS``
units per resource's room and checks its curve, best point first, against every
real budget (``feasible``, never assumed optimal).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hitm.optimize.arrays import allocation_result, first_fitting, scalar_costs
from hitm.optimize.dense import SCALED_UNITS
from hitm.optimize.result import Method, SolveResult, Status
from hitm.problem import AllocationProblem
from hitm.staircase import Staircase

__all__ = ["SCALED_UNITS", "solve_dp"]


@dataclass(frozen=True)
class _Options:
    """Every stage's useful options, concatenated, slow → fast and strictly dearer.

    ``index`` maps them back to the stage's own option numbers; stage ``s`` owns
    ``offsets[s]`` up to the next offset.
    """

    busy: np.ndarray
    cost: np.ndarray
    index: np.ndarray
    offsets: np.ndarray

    def pick(self, v: int) -> np.ndarray:
        """Each stage's cheapest option with busy <= ``v`` (positions into the arrays).

        Along a stage busy times fall, so the options slower than ``v`` come first
        and their count is the position of the first that meets it.
        """
        slower = np.add.reduceat((self.busy > v).astype(np.int64), self.offsets)
        return self.offsets + slower

    def choice(self, v: int) -> list[int]:
        return [int(o) for o in self.index[self.pick(v)]]


def _useful(busys: Sequence[np.ndarray], costs: Sequence[np.ndarray]) -> _Options:
    """Drop the options another of the same stage beats (as fast or faster, no dearer).

    What is left of a stage, slow → fast, gets strictly dearer: the cheapest
    option meeting any bottleneck is then the first that meets it.
    """
    busy, cost, index, sizes = [], [], [], []
    for b, c in zip(busys, costs, strict=True):
        order = np.lexsort((c, b))  # fastest first, then cheapest
        prior = np.concatenate([[np.iinfo(np.int64).max], np.minimum.accumulate(c[order])[:-1]])
        kept = order[c[order] < prior][::-1]
        busy.append(b[kept])
        cost.append(c[kept])
        index.append(kept)
        sizes.append(kept.size)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    return _Options(
        np.concatenate(busy).astype(np.int64),
        np.concatenate(cost).astype(np.int64),
        np.concatenate(index).astype(np.int64),
        offsets,
    )


def _least_budgets(opts: _Options) -> tuple[np.ndarray, np.ndarray]:
    """Every bottleneck ``v`` the stages can meet (ascending) and ``B(v)``, the least budget.

    When ``v`` reaches an option's busy time, its stage's cheapest option becomes
    that option, replacing the next faster (dearer) one: ``B`` changes by the
    difference of their costs (by the whole cost for a stage's fastest option,
    its first). The running sum of those changes is ``B``.
    """
    cost = opts.cost
    ends = np.append(opts.offsets[1:], cost.size) - 1  # each stage's fastest option
    faster = np.append(cost[1:], 0)
    faster[ends] = 0
    change = cost - faster
    order = np.argsort(opts.busy, kind="stable")
    values = opts.busy[order]
    starts = np.flatnonzero(np.diff(values, prepend=values[0] - 1))
    budgets = np.cumsum(np.add.reduceat(change[order], starts))
    values = values[starts]
    floor = int(opts.busy[ends].max())  # below it some stage has no option at all
    meets = values >= floor
    return values[meets], budgets[meets]


def _breakpoints(values: np.ndarray, budgets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The staircase's steps, in budget order: each budget with the least ``v`` it buys."""
    first = np.ones(values.size, dtype=bool)
    first[1:] = budgets[1:] < budgets[:-1]
    return budgets[first][::-1].copy(), values[first][::-1].copy()


def solve_dp(problem: AllocationProblem) -> SolveResult:
    """Solve by the paper's dynamic program, on its staircases' breakpoints.

    Parameters
    ----------
    problem
        The allocation problem; ``crossbars`` must be its first resource.

    Returns
    -------
    SolveResult
        With one resource ``optimal``, with the whole budget → bottleneck curve
        (up to the budget) as ``curve``; with several, the best point of the
        scaled-cost curve that fits every budget, as ``feasible``.
    """
    start = time.perf_counter()
    if len(problem.resources) > 1:
        return _solve_scaled(problem, start)
    opts = _useful([s.busy_ps for s in problem.stages], [s.cost[:, 0] for s in problem.stages])
    values, budgets = _least_budgets(opts)
    capacity = int(problem.capacity[0])
    within = budgets <= capacity
    if not within.any():
        return SolveResult(Method.DP, Status.INFEASIBLE, seconds=time.perf_counter() - start)
    at, bottleneck = _breakpoints(values[within], budgets[within])
    best = int(bottleneck[-1])
    return allocation_result(
        problem,
        Method.DP,
        Status.OPTIMAL,
        opts.choice(best),
        best,
        start,
        bound_ps=best,
        curve=Staircase(budget=at, bottleneck_ps=bottleneck),
    )


def _solve_scaled(problem: AllocationProblem, start: float) -> SolveResult:
    """The DP over a scaled cost, its curve's points checked against every budget."""
    if np.any(problem.floor_cost() > problem.capacity):
        return SolveResult(Method.DP, Status.INFEASIBLE, seconds=time.perf_counter() - start)
    units = [np.ceil(c * SCALED_UNITS - 1e-9).astype(np.int64) for c in scalar_costs(problem)]
    opts = _useful([s.busy_ps for s in problem.stages], units)
    values, budgets = _least_budgets(opts)
    room = SCALED_UNITS * len(problem.resources)  # the dense table's last unit
    least = int(budgets[-1]) if budgets.size else 0
    within = budgets - least <= room
    _, bottleneck = _breakpoints(values[within], budgets[within])
    points = ((int(v), opts.choice(int(v))) for v in bottleneck[::-1])  # the best first
    return first_fitting(problem, points, start)
