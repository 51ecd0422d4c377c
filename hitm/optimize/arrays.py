"""Helpers shared by the in-house solvers: costs, bottlenecks and a scalar cost."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from hitm.optimize.result import Method, SolveResult, Status
from hitm.problem import AllocationProblem

__all__ = [
    "allocation_result",
    "choice_cost",
    "first_fitting",
    "monotone",
    "scalar_costs",
    "suffix_argmin",
]


def choice_cost(problem: AllocationProblem, choice: Sequence[int]) -> np.ndarray:
    """Total cost per resource of one option per stage."""
    return np.sum([s.cost[o] for s, o in zip(problem.stages, choice, strict=True)], axis=0)


def allocation_result(
    problem: AllocationProblem,
    method: Method,
    status: Status,
    choice: Sequence[int],
    bottleneck_ps: int,
    start: float,
    **extra: Any,
) -> SolveResult:
    """A result holding ``choice``: its cost per resource recounted, its wall time since ``start``."""
    cost = choice_cost(problem, choice)
    return SolveResult(
        method,
        status,
        choice=tuple(int(o) for o in choice),
        bottleneck_ps=int(bottleneck_ps),
        cost=dict(zip(problem.resources, (int(c) for c in cost), strict=True)),
        seconds=time.perf_counter() - start,
        **extra,
    )


def first_fitting(
    problem: AllocationProblem, points: Iterable[tuple[int, Sequence[int]]], start: float
) -> SolveResult:
    """The scaled-cost DP's answer: the first ``(bottleneck, choice)`` of ``points``
    (best first) that fits every real budget, ``feasible``; an ``error`` if none does."""
    for value, choice in points:
        if np.all(choice_cost(problem, choice) <= problem.capacity):
            return allocation_result(
                problem,
                Method.DP,
                Status.FEASIBLE,
                choice,
                value,
                start,
                message=f"scaled-cost DP over {', '.join(problem.resources)};"
                " checked against each budget, not proven optimal",
            )
    return SolveResult(
        Method.DP,
        Status.ERROR,
        seconds=time.perf_counter() - start,
        message="no point of the scaled-cost DP fits every budget",
    )


def monotone(problem: AllocationProblem) -> bool:
    """Whether every stage's options get dearer (in every resource) as they get faster.

    Then the first option meeting a bottleneck is the cheapest in every
    resource, which makes ``bisect`` exact and ``greedy``'s moves well defined.
    """
    return all(s.dearer_when_faster for s in problem.stages)  # cached per stage


def scalar_costs(problem: AllocationProblem) -> list[np.ndarray]:
    """One number per option that weighs every budgeted resource.

    With one resource it is that resource. With several, each resource's cost
    above the stage's cheapest counts as a share of the room the budget leaves
    above the cheapest design: ``Σ_r (c_r − min_r) / (cap_r − Σ_s min_r)``.
    A design fits only if each share sums to at most 1, so this is the
    scaled-cost view the single-dimension methods budget, checked afterwards.
    """
    if len(problem.resources) == 1:
        return [s.cost[:, 0].astype(np.float64) for s in problem.stages]
    floors = [s.cost.min(axis=0) for s in problem.stages]
    room = np.maximum(problem.capacity - np.sum(floors, axis=0), 1).astype(np.float64)
    return [((s.cost - f) / room).sum(axis=1) for s, f in zip(problem.stages, floors, strict=True)]


def suffix_argmin(values: np.ndarray) -> np.ndarray:
    """``out[i]`` = index of the smallest ``values[j]`` for ``j >= i`` (the first on ties)."""
    n = len(values)
    rev = values[::-1]
    running = np.minimum.accumulate(rev)
    # In reversed order a later position is an earlier option: it wins ties.
    better = rev <= np.concatenate([[np.inf], running[:-1]])
    pos = np.maximum.accumulate(np.where(better, np.arange(n), 0))
    return (n - 1 - pos)[::-1].copy()
