"""What every solver returns: one allocation, its status and its proof."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from hitm.methods import METHODS, Method, Status
from hitm.staircase import Staircase

__all__ = ["METHODS", "Method", "SolveRequest", "SolveResult", "Status"]


@dataclass(frozen=True)
class SolveRequest:
    """What a timed solver is given besides the problem.

    Attributes
    ----------
    time_limit
        Wall seconds left for it, counted from the request's creation.
    hint
        One option index per stage to start from (the warm start's answer), or None.
    backend
        Which backend runs it (``ilp``: ``highs`` or ``cbc``); None for the default.
    hint_cuts
        Chip boundaries to start from with the hint, when the problem has a placement.
    """

    time_limit: float = 10.0
    hint: tuple[int, ...] | None = None
    backend: str | None = None
    hint_cuts: tuple[int, ...] | None = None
    created: float = field(default_factory=time.perf_counter, repr=False, compare=False)

    def left(self, at_least: float = 1e-3) -> float:
        """Seconds still left (imports and model building count), at least ``at_least``."""
        return max(self.time_limit - (time.perf_counter() - self.created), at_least)


@dataclass(frozen=True)
class SolveResult:
    """One method's answer to an allocation problem.

    Attributes
    ----------
    method
        The :class:`Method` (a string is converted).
    status
        The :class:`Status` (a string is converted).
    choice
        Option index per stage, None without an allocation.
    copies
        Copies per weight layer, None without an allocation.
    adcs
        ADCs per crossbar per weight layer (design mode), None without an allocation.
    units
        Digital MAC units of each product computed on them (``digital: units``);
        the other layers are absent. None without an allocation.
    bottleneck_ps, cost
        The allocation's bottleneck and its cost per resource.
    bound_ps
        Proven lower bound on the optimal bottleneck, where the method gives one.
    seconds
        Wall time of the solve.
    backend
        Which MILP solver ran ``ilp`` (``highs`` or ``cbc``).
    curve
        The DP's whole budget → best bottleneck staircase (crossbars only).
    cuts
        Where the chip boundaries fall, in stage coordinates, when the problem
        has a placement (``chips − 1`` positions; docs/model.md, "Data movement").
    """

    method: Method
    status: Status
    choice: tuple[int, ...] | None = None
    copies: dict[str, int] | None = None
    adcs: dict[str, int] | None = None
    bottleneck_ps: int | None = None
    cost: dict[str, int] | None = None
    bound_ps: int | None = None
    seconds: float = 0.0
    message: str = ""
    backend: str | None = None
    curve: Staircase | None = field(default=None, repr=False)
    cuts: tuple[int, ...] | None = None
    units: dict[str, int] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", Method(self.method))
        object.__setattr__(self, "status", Status(self.status))

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
        return self.gap_to(self.bound_ps)

    def gap_to(self, bound_ps: int | None) -> float | None:
        """Relative gap to another proven bound (e.g. the best of several methods)."""
        from formulations.result import relative_gap  # the exact models' one definition

        return relative_gap(self.bottleneck_ps, bound_ps)
