"""The budgeted resources: one registry of names, units and scales.

The exact solvers need integer data, so each resource has an integer unit
(crossbars, tiles, µW, µm²) and a user-facing unit (crossbars, tiles, W,
mm²). A :class:`Resource` holds every spelling of one resource: its key in
the allocation problem (``power_uw``), its name for users and frontiers
(``power``), the :class:`~hitm.budget.Budget` field and instance key
(``power_w``) and the command-line flag (``--power-w``). Adding a resource is
one entry in :data:`RESOURCES` plus its cost in :func:`hitm.costs.layer_costs`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from hitm.errors import ParameterError, suggest

__all__ = ["FRONTIER_RESOURCES", "RESOURCES", "Resource", "binding", "resource"]


@dataclass(frozen=True)
class Resource:
    """One budgeted resource.

    Attributes
    ----------
    key
        Its name in the allocation problem, with its integer unit (``power_uw``).
    name
        What users call it (``power``): ``hitm pareto --resource`` and reports.
    unit
        The unit users read and write (``W``).
    scale
        Problem units per user unit (10⁶ µW per W).
    budget_field
        The :class:`~hitm.budget.Budget` field and instance ``budget:`` key (``power_w``).
    frontier
        Whether ``hitm pareto`` can draw a frontier over it.
    from_table
        Problem units per unit of the component cost table (1,000 µW per mW,
        10⁶ µm² per mm²), for resources the table prices.
    problem_unit
        The integer unit of the allocation problem (``µW``); the user's unit
        when the scale is 1.
    """

    key: str
    name: str
    unit: str
    scale: int
    budget_field: str
    frontier: bool = True
    from_table: float = 1.0
    problem_unit: str = ""

    def __post_init__(self) -> None:
        if not self.problem_unit:
            object.__setattr__(self, "problem_unit", self.unit)

    @property
    def flag(self) -> str:
        """The command-line option that caps it (``--power-w``)."""
        return "--" + self.budget_field.replace("_", "-")

    def to_units(self, amount: float) -> int:
        """A user amount (``1.5`` W) in integer problem units, exactly (decimal, floored)."""
        return math.floor(Fraction(str(amount)) * self.scale)

    def to_user(self, units: int | float) -> int | float:
        """Problem units in the user's unit (an ``int`` when the scale is 1)."""
        return int(units) if self.scale == 1 else units / self.scale

    def number(self, units: int | float) -> str:
        """An amount in problem units as a number in the user's unit (``55.41``)."""
        return f"{int(units):,}" if self.scale == 1 else f"{units / self.scale:,.2f}"

    def fmt(self, units: int | float) -> str:
        """An amount in problem units, written in the user's unit (``55.41 W``)."""
        return f"{self.number(units)} {self.unit}"


RESOURCES: dict[str, Resource] = {
    r.key: r
    for r in (
        Resource("crossbars", "crossbars", "crossbars", 1, "crossbars"),
        Resource("tiles", "tiles", "tiles", 1, "tiles", frontier=False),
        Resource("power_uw", "power", "W", 10**6, "power_w", from_table=1e3, problem_unit="µW"),
        Resource("area_um2", "area", "mm²", 10**6, "area_mm2", from_table=1e6, problem_unit="µm²"),
        Resource("mac_units", "mac_units", "MAC units", 1, "mac_units", frontier=False),
    )
}
"""Every budgetable resource by its problem key, in the problem's column order."""

FRONTIER_RESOURCES: dict[str, Resource] = {r.name: r for r in RESOURCES.values() if r.frontier}
"""Resources a frontier may be drawn over, by user name."""


def resource(name: str, *, frontier: bool = False, param: str = "resource") -> Resource:
    """The resource called ``name`` (its user name or problem key).

    Raises
    ------
    ParameterError
        If there is none (with the closest name); with ``frontier``, also if
        no frontier can be drawn over it. ``param`` names the parameter in the message.
    """
    pool = FRONTIER_RESOURCES if frontier else {r.name: r for r in RESOURCES.values()}
    for r in pool.values():
        if name in (r.name, r.key):
            return r
    raise ParameterError(
        param, f"unknown resource '{name}'{suggest(name, pool)}; known: {', '.join(pool)}"
    )


def binding(usage: Mapping[str, int], capacity: Mapping[str, int]) -> tuple[str, float] | None:
    """The budgeted resource used closest to its capacity, and the share of it used."""
    shares = {r: usage[r] / capacity[r] for r in capacity if r in usage and capacity[r]}
    if not shares:
        return None
    r = max(shares, key=lambda k: shares[k])
    return r, shares[r]
