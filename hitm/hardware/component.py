"""One row of a chip's component cost table."""

from __future__ import annotations

from dataclasses import dataclass

from hitm.hardware.charges import CHARGES, Charge, ChargeRule

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
        What the unit is and where its figures come from.
    """

    name: str
    level: str
    charged_per: Charge
    power_mw: float
    area_mm2: float
    count: float | None = None
    note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "charged_per", Charge(self.charged_per))

    @property
    def rule(self) -> ChargeRule:
        """What its charge means to the cost model."""
        return CHARGES[self.charged_per]
