"""What every solver returns: one allocation, its status and its proof."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["METHODS", "STATUSES", "BudgetCurve", "SolveResult"]

METHODS = ("dp", "bisect", "greedy", "cpsat", "ilp")
STATUSES = ("optimal", "feasible", "infeasible", "timeout", "error")


@dataclass(frozen=True)
class BudgetCurve:
    """The budget → best bottleneck staircase: from ``budget[i]`` crossbars on, ``bottleneck_ps[i]``.

    ``budget`` is increasing and ``bottleneck_ps`` strictly decreasing; the
    first point is the naive design's cost.
    """

    budget: np.ndarray
    bottleneck_ps: np.ndarray

    def at(self, crossbars: int) -> int | None:
        """Best bottleneck with at most ``crossbars``; None below the naive cost."""
        i = int(np.searchsorted(self.budget, crossbars, side="right")) - 1
        return None if i < 0 else int(self.bottleneck_ps[i])


@dataclass(frozen=True)
class SolveResult:
    """One method's answer to an allocation problem.

    Attributes
    ----------
    method
        ``dp``, ``bisect``, ``greedy``, ``cpsat`` or ``ilp``.
    status
        ``optimal`` (proven), ``feasible`` (valid, not proven), ``infeasible``,
        ``timeout`` (no allocation within the limit) or ``error``.
    choice
        Option index per stage, None without an allocation.
    copies
        Copies per weight layer, None without an allocation.
    adcs
        ADCs per crossbar per weight layer (design mode), None without an allocation.
    bottleneck_ps, cost
        The allocation's bottleneck and its cost per resource.
    bound_ps
        Proven lower bound on the optimal bottleneck, where the method gives one.
    seconds
        Wall time of the solve.
    backend
        Which MILP solver ran ``ilp`` (``highs`` or ``cbc``).
    """

    method: str
    status: str
    choice: tuple[int, ...] | None = None
    copies: dict[str, int] | None = None
    adcs: dict[str, int] | None = None
    bottleneck_ps: int | None = None
    cost: dict[str, int] | None = None
    bound_ps: int | None = None
    seconds: float = 0.0
    message: str = ""
    backend: str | None = None
    curve: BudgetCurve | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return f"{self.method}:{self.backend}" if self.backend else self.method

    @property
    def crossbars_used(self) -> int | None:
        return None if self.cost is None else self.cost["crossbars"]

    @property
    def has_allocation(self) -> bool:
        return self.choice is not None

    @property
    def gap(self) -> float | None:
        """Relative gap to the method's own proven bound (0 when proven optimal)."""
        if self.bottleneck_ps is None or self.bound_ps is None or not self.bottleneck_ps:
            return None
        return max(0.0, (self.bottleneck_ps - self.bound_ps) / self.bottleneck_ps)
