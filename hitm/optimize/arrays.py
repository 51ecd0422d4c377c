"""Helpers shared by the in-house solvers: flat views of a problem's options."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hitm.problem import AllocationProblem

__all__ = ["choice_bottleneck", "choice_cost", "monotone"]


def choice_cost(problem: AllocationProblem, choice: Sequence[int]) -> np.ndarray:
    """Total cost per resource of one option per stage."""
    return np.sum([s.cost[o] for s, o in zip(problem.stages, choice, strict=True)], axis=0)


def choice_bottleneck(problem: AllocationProblem, choice: Sequence[int]) -> int:
    return max(int(s.busy_ps[o]) for s, o in zip(problem.stages, choice, strict=True))


def monotone(problem: AllocationProblem) -> bool:
    """Whether every stage's options get dearer (in every resource) as they get faster.

    Then the first option meeting a bottleneck is the cheapest in every
    resource, which makes ``bisect`` exact and ``greedy``'s moves well defined.
    """
    return all(np.all(np.diff(s.cost, axis=0) >= 0) for s in problem.stages)
