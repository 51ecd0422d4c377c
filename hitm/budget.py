"""What a design may use: the budget and, in design mode, the design space.

Both belong to the allocation problem (:mod:`hitm.problem`), not to the chip.
Their fields are declared once (:data:`BUDGET_SECTION`, :data:`DESIGN_SECTION`)
for the checker and the instance's JSON Schema.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from hitm.errors import DescriptionError
from hitm.fields import BAD, Integer, IntSet, Number, Section
from hitm.hardware import Hardware
from hitm.resources import RESOURCES

__all__ = [
    "BUDGET_SECTION",
    "DESIGN_SECTION",
    "Budget",
    "DesignSpace",
    "chips_for",
    "load_budget",
    "load_design",
]


def chips_for(hardware: Hardware, crossbars: int, tiles: int | None = None) -> int:
    """The fewest whole chips holding ``crossbars`` crossbars (and ``tiles`` tiles)."""
    chips = -(-crossbars // hardware.crossbars_per_chip)
    if tiles is not None:
        chips = max(chips, -(-tiles // hardware.tiles_per_chip))
    return chips


@dataclass(frozen=True)
class Budget:
    """The resources a design may use.

    ``chips`` sets crossbars and tiles to the chips' totals (the hardware's
    ``chips`` when nothing is given); ``crossbars`` and ``tiles`` cap them
    directly; ``power_w`` caps the provisioned power of the tiles' share a
    design occupies and ``area_mm2`` their area (docs/design.md).
    """

    chips: int | None = None
    crossbars: int | None = None
    tiles: int | None = None
    power_w: float | None = None
    area_mm2: float | None = None
    mac_units: int | None = None

    def chips_or_default(self, hardware: Hardware) -> int | None:
        """The chips budgeted: the given ones, or the hardware's when nothing caps crossbars."""
        if self.chips is None and self.crossbars is None and self.tiles is None:
            return hardware.chips
        return self.chips

    def capacity(self, hardware: Hardware) -> dict[str, int]:
        """Problem resource key → integer capacity (power in µW, area in µm²)."""
        chips = self.chips_or_default(hardware)
        cap: dict[str, int] = {}
        crossbars = [c for c in (self.crossbars,) if c is not None]
        tiles = [t for t in (self.tiles,) if t is not None]
        if chips is not None:
            crossbars.append(chips * hardware.crossbars_per_chip)
            tiles.append(chips * hardware.tiles_per_chip)
        if tiles:
            cap["tiles"] = min(tiles)
            crossbars.append(cap["tiles"] * hardware.crossbars_per_tile)
        cap["crossbars"] = min(crossbars)
        for resource in RESOURCES.values():
            amount = getattr(self, resource.budget_field)
            if resource.scale != 1 and amount is not None:
                cap[resource.key] = resource.to_units(amount)
        if hardware.digital_units:
            # The MAC units of the tiles the budget holds (those its crossbars fill).
            held = cap.get("tiles", -(-cap["crossbars"] // hardware.crossbars_per_tile))
            cap["mac_units"] = held * hardware.mac_units_per_tile
            if self.mac_units is not None:
                cap["mac_units"] = min(cap["mac_units"], self.mac_units)
        return cap

    def describe(self, hardware: Hardware) -> str:
        """The budget in words: ``2 chips (10,752 crossbars), 40 W``."""
        cap = self.capacity(hardware)
        chips = self.chips_or_default(hardware)
        parts = []
        if chips is not None:
            parts.append(
                f"{chips} chip{'s' if chips != 1 else ''} ({cap['crossbars']:,} crossbars)"
            )
        else:
            parts.append(f"{cap['crossbars']:,} crossbars")
        if self.tiles is not None:
            parts.append(f"{self.tiles:,} tiles")
        if self.power_w is not None:
            parts.append(f"{self.power_w:g} W")
        if self.area_mm2 is not None:
            parts.append(f"{self.area_mm2:g} mm²")
        if self.mac_units is not None:
            parts.append(f"{self.mac_units:,} MAC units")
        return ", ".join(parts)


BUDGET_SECTION = Section(
    {
        "chips": Integer(1, 4096, "Whole chips: their crossbars and tiles."),
        "crossbars": Integer(1, 1 << 26, "A cap on crossbars."),
        "tiles": Integer(1, 1 << 22, "A cap on tiles."),
        "power_w": Number(0.0, 1e6, closed_max=True, description="A cap on provisioned power, W."),
        "area_mm2": Number(0.0, 1e7, closed_max=True, description="A cap on area, mm²."),
        "mac_units": Integer(0, 1 << 26, "A cap on digital MAC units (hardware digital: units)."),
    },
    hints={"power": "unknown field (use power_w)", "area": "unknown field (use area_mm2)"},
    description="The resources a design may use; default: the hardware's chips.",
)


def load_budget(spec: Mapping[str, Any] | None, path: str = "budget") -> Budget:
    """Build a :class:`Budget` from ``{"chips": n, "power_w": w, ...}`` (see :class:`Budget`)."""
    problems: list[str] = []
    values = BUDGET_SECTION.check(spec or {}, path, problems)
    if problems:
        raise DescriptionError(problems)
    return Budget(**values)


@dataclass(frozen=True)
class DesignSpace:
    """Design mode: per-layer ADC provisioning on top of copy counts.

    Attributes
    ----------
    adcs
        ADCs per crossbar a layer may choose (each option costs their power and area).
    read_ns
        The array's own read time. ISAAC's 100 ns cycle is set by its single
        1.28 GS/s ADC converting 128 columns; the array reads faster. 25 ns is
        our assumption, a quarter of that cycle, so up to 4 ADCs per crossbar
        shorten the cycle and 8 do not (the read then limits it).
    """

    adcs: tuple[int, ...] = (1, 2, 4, 8)
    read_ns: float = 25.0

    def cycle_ps(self, hardware: Hardware, adcs: int) -> int:
        """``max(read, ceil(cols / adcs) / rate)`` in ps."""
        read = math.ceil(Fraction(str(self.read_ns)) * 1000)
        conversions = math.ceil(hardware.cols / adcs)
        return max(
            read, math.ceil(Fraction(conversions * 1000) / Fraction(str(hardware.adc_rate_gsps)))
        )


DESIGN_SECTION = Section(
    {
        "adcs": IntSet(Integer(1, 1024), "ADCs per crossbar a layer may choose."),
        "read_ns": Number(0.0, 1e6, description="The array's own read time, ns."),
    },
    expected="a mapping with adcs and read_ns, or true",
    description="Design mode: each layer also chooses its ADCs per crossbar (docs/design.md).",
)


def load_design(spec: Any, path: str = "design") -> DesignSpace | None:
    """Build a :class:`DesignSpace` from ``{"adcs": [...], "read_ns": x}``; None if absent."""
    if spec is None:
        return None
    if spec is True:
        return DesignSpace()
    problems: list[str] = []
    values = DESIGN_SECTION.check(spec, path, problems)
    if problems or values is BAD:
        raise DescriptionError(problems)
    return DesignSpace(**values)
