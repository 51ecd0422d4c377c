"""One row of a chip's component cost table."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hitm.hardware.charges import CHARGES, Charge, ChargeRule
from hitm.hardware.laws import LAWS

if TYPE_CHECKING:
    from hitm.hardware.model import Hardware

__all__ = ["COST_FIELDS", "LEVELS", "Component"]

LEVELS = ("ima", "tile", "chip")
"""Where a component sits: in every IMA (PUMA: core), every tile, or once per chip."""

COST_FIELDS = {"count": "units", "power_mw": "mW", "area_mm2": "mm²"}
"""The fields a hardware file may override for a component, with their units."""


@dataclass(frozen=True)
class Component:
    """One row of the component cost table.

    Attributes
    ----------
    name
        Unique across levels (``adc``, ``tile_shift_add``, ``hyper_transport``).
    level
        ``ima``, ``tile`` or ``chip`` (see :data:`LEVELS`).
    charged_per
        The event whose count sets the component's dynamic energy
        (:class:`~hitm.hardware.charges.Charge`; a string is converted).
    power_mw, area_mm2
        Power and area of **one unit**; the table row is ``count ×`` these.
    count
        Units per IMA, tile or chip; ``None`` when the crossbar geometry sets it
        (crossbars, DACs, sample-and-holds and ADCs of an IMA).
    note
        Where its figures come from (and, without a law, what the unit is); a
        lawful row is labelled with the part in force, then this.
    law, at
        The scaling law (:data:`~hitm.hardware.laws.LAWS`) its power and area
        follow, and the law's quantities where ``power_mw`` and ``area_mm2``
        hold (e.g. ``(16384,)`` cells for a 128 × 128 crossbar); no law: fixed.
    fixed
        ``power_mw``, ``area_mm2`` and/or ``count`` when the user set them: the
        law leaves those as given.
    """

    name: str
    level: str
    charged_per: Charge
    power_mw: float
    area_mm2: float
    count: float | None = None
    note: str = ""
    law: str | None = None
    at: tuple[float, ...] = ()
    fixed: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "charged_per", Charge(self.charged_per))

    def resolved(self, hw: Hardware) -> Component:
        """This component on ``hw``: power and area scaled by its law, its note the part in force."""
        if self.law is None:
            return self
        law = LAWS[self.law]
        now = law.quantities(hw)
        power, area = law.factors(now, self.at)
        count = self.count
        if law.count is not None and "count" not in self.fixed:
            count = law.count(hw)
        return dataclasses.replace(
            self,
            power_mw=self.power_mw if "power_mw" in self.fixed else self.power_mw * power,
            area_mm2=self.area_mm2 if "area_mm2" in self.fixed else self.area_mm2 * area,
            count=count,
            note=f"{law.label(hw)}; {self.note}" if self.note else law.label(hw),
            at=now,
        )

    @property
    def rule(self) -> ChargeRule:
        """What its charge means to the cost model."""
        return CHARGES[self.charged_per]
