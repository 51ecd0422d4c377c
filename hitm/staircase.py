"""The budget → best bottleneck staircase, and its exact breakpoints.

One type for the DP's curve (:func:`hitm.optimize.dp.solve_dp`) and for the
frontier of any resource (:mod:`hitm.frontier`): from ``budget[i]`` on,
``bottleneck_ps[i]`` is the best bottleneck reachable.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Staircase", "breakpoints", "distinct"]


def distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values of a 1-D array, as ``np.unique`` gives them.

    Written out because ``np.unique`` imports ``numpy.ma`` on its first call
    (about 12 ms of every command's start-up on a 2-core machine).
    """
    ordered = np.sort(np.asarray(values), kind="stable")
    if ordered.size < 2:
        return ordered
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]


@dataclass(frozen=True, eq=False)
class Staircase:
    """Increasing ``budget`` and strictly decreasing ``bottleneck_ps`` (int64 arrays).

    Unpacks as ``budget, bottleneck_ps``.
    """

    budget: np.ndarray
    bottleneck_ps: np.ndarray

    def __len__(self) -> int:
        return len(self.budget)

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.budget, self.bottleneck_ps))

    def position(self, budget: int) -> int:
        """Index of the best point within ``budget``; −1 below the first point."""
        return int(np.searchsorted(self.budget, budget, side="right")) - 1

    def at(self, budget: int) -> int | None:
        """Best bottleneck within ``budget``; None below the first point."""
        i = self.position(budget)
        return None if i < 0 else int(self.bottleneck_ps[i])

    def index(self, budget: int) -> int | None:
        """Index of the point at exactly ``budget`` (None if no point is there)."""
        i = int(np.searchsorted(self.budget, budget))
        return i if i < len(self) and int(self.budget[i]) == budget else None

    def upto(self, budget: int) -> Staircase:
        """The points within ``budget``."""
        n = self.position(budget) + 1
        return Staircase(self.budget[:n], self.bottleneck_ps[:n])


def breakpoints(busy: Sequence[np.ndarray], cost: Sequence[np.ndarray]) -> Staircase:
    """The Pareto breakpoints of ``C(T) = Σ_s min{cost_s[o] : busy_s[o] ≤ T}``.

    The bottleneck is a maximum over stages, so the least cost reaching ``T``
    lets each stage take its cheapest option meeting ``T``; ``C`` changes only
    at a stage's busy time, so evaluating it at every distinct busy time from
    the ceiling (no stage below its fastest) up finds every breakpoint exactly.

    Parameters
    ----------
    busy
        Per stage, its options' busy times (any order).
    cost
        Per stage, its options' cost in one resource.

    Returns
    -------
    Staircase
        The least cost reaching each bottleneck that a cheaper budget cannot.
    """
    floor = max(int(np.min(b)) for b in busy)  # no stage gets below its fastest
    everything = np.concatenate([np.asarray(b, dtype=np.int64) for b in busy])
    candidates = distinct(everything[everything >= floor])  # ascending T
    total = np.zeros(len(candidates), dtype=np.int64)
    for b, c in zip(busy, cost, strict=True):
        order = np.argsort(-np.asarray(b), kind="stable")  # slow → fast
        b_sorted = np.asarray(b, dtype=np.int64)[order]
        # Options meeting T are a suffix of slow → fast; its cheapest, per suffix start.
        suffix_min = np.minimum.accumulate(np.asarray(c, dtype=np.int64)[order][::-1])[::-1]
        first = np.searchsorted(-b_sorted, -candidates, side="left")  # first busy ≤ T
        total += suffix_min[first]
    # total is non-increasing in T; a point is Pareto iff strictly cheaper than the next faster T.
    keep = np.concatenate([[True], total[1:] < total[:-1]])
    return Staircase(total[keep][::-1].copy(), candidates[keep][::-1].copy())
