"""What the energy model charges each component for: one typed table.

Every row of a component table names a :class:`Charge`, the event whose count
sets its dynamic energy. :data:`CHARGES` says, for each charge, what it means,
which energy group reports it, which count of :class:`hitm.costs.Work` it reads,
whether the crossbar geometry fixes the unit count (and how), and the energy of one
event (dynamic power × the time the event holds the unit). Nothing
else in hitm looks a charge up by its string (docs/energy.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the table reads only the chip's fields
    from hitm.hardware.model import Hardware

__all__ = [
    "CHARGES",
    "GROUPS",
    "MOVEMENT_GROUPS",
    "WRITE_GROUP",
    "Charge",
    "ChargeRule",
    "groups_of",
]

GROUPS = ("crossbar", "dac", "adc", "digital", "memory", "static")
"""How reports split energy: by the kind of event a component is charged for."""

MOVEMENT_GROUPS = ("link", "noc")
"""Energy of data movement (chip-to-chip links, on-chip routers), split out when it is priced."""

WRITE_GROUP = "write"
"""Energy of cells written every inference (products of two activations), split out when any is."""


class Charge(StrEnum):
    """The event a component's dynamic energy is charged per."""

    CROSSBAR_CYCLE = "crossbar_cycle"
    ROW_CYCLE = "row_cycle"
    COLUMN_CYCLE = "column_cycle"
    CONVERSION = "conversion"
    IMA_CYCLE = "ima_cycle"
    OUTPUT = "output"
    ACTIVATION = "activation"
    POOL = "pool"
    BYTE = "byte"
    STATIC = "static"


@dataclass(frozen=True)
class ChargeRule:
    """What one :class:`Charge` means to the cost model.

    Attributes
    ----------
    meaning
        The event, in words (``hitm hardware`` prints it).
    group
        The energy group reports file it under (:data:`GROUPS`).
    work
        The :class:`hitm.costs.Work` count of its events (None: never charged).
    per_crossbar
        Units per crossbar when the geometry fixes the count (crossbars, DACs,
        sample-and-holds, ADCs), with the geometry it follows; None otherwise.
    energy_pj
        The energy (pJ) of one event of a unit drawing ``power_mw``, given the
        chip, the units per IMA or tile and the crossbar cycle in ns: the power
        times how long one event holds the unit (mW × ns = pJ; mW / GHz = pJ).
    """

    meaning: str
    group: str
    work: str | None
    energy_pj: Callable[[Hardware, float, float, float], float]
    per_crossbar: Callable[[Hardware], int] | None = None
    geometry: str = ""

    @property
    def analog(self) -> bool:
        """Charged per crossbar cycle of the array and its converters (an MVM's analog part)."""
        return self.per_crossbar is not None


# Each rule is (hw, power_mw, units, cycle_ns) -> pJ, written as the published
# arithmetic so that every figure is reproduced to the last bit.
def _cycle(hw: Hardware, p: float, units: float, cycle_ns: float) -> float:
    return p * cycle_ns


def _clock(hw: Hardware, p: float, units: float, cycle_ns: float) -> float:
    return p / hw.clock_ghz


CHARGES: dict[Charge, ChargeRule] = {
    Charge.CROSSBAR_CYCLE: ChargeRule(
        "each active crossbar, each cycle",
        "crossbar",
        "crossbar_cycles",
        _cycle,
        lambda hw: 1,
        "crossbars_per_ima",
    ),
    Charge.ROW_CYCLE: ChargeRule(
        "each driven row, each cycle",
        "dac",
        "row_cycles",
        _cycle,
        lambda hw: hw.rows,
        "crossbars_per_ima × rows",
    ),
    Charge.COLUMN_CYCLE: ChargeRule(
        "each sampled column, each cycle",
        "adc",
        "conversions",
        _cycle,
        lambda hw: hw.cols,
        "crossbars_per_ima × cols",
    ),
    Charge.CONVERSION: ChargeRule(
        "each ADC conversion",
        "adc",
        "conversions",
        lambda hw, p, units, cycle_ns: p / hw.adc_rate_gsps,
        lambda hw: hw.adcs_per_crossbar,
        "crossbars_per_ima × adcs_per_crossbar",
    ),
    Charge.IMA_CYCLE: ChargeRule(
        "each active crossbar cycle, a 1/crossbars_per_ima share",
        "digital",
        "crossbar_cycles",
        lambda hw, p, units, cycle_ns: p * units / hw.crossbars_per_ima * cycle_ns,
    ),
    Charge.OUTPUT: ChargeRule(
        "each partial output of an MVM, or element of add/mul/batchnorm",
        "digital",
        "outputs",
        _clock,
    ),
    Charge.ACTIVATION: ChargeRule(
        "each activation element (and recurrent gate)", "digital", "activations", _clock
    ),
    Charge.POOL: ChargeRule("each element a pooling or argmax reads", "digital", "pooled", _clock),
    Charge.BYTE: ChargeRule(
        "each byte moved through eDRAM and its bus",
        "memory",
        "bytes_moved",
        lambda hw, p, units, cycle_ns: p * units / (hw.bus_bits / 8 * hw.clock_ghz),
    ),
    Charge.STATIC: ChargeRule(
        "nothing: leakage only (its traffic is not modelled)",
        "static",
        None,
        lambda hw, p, units, cycle_ns: 0.0,
    ),
}
"""Every charge's meaning, group, counted event, geometry and time per event."""


def groups_of(moves_data: bool, writes: bool = False) -> tuple[str, ...]:
    """The energy groups of a design: with data movement priced, ``link`` and ``noc`` too;
    with cells written per inference, ``write``."""
    extra = (*(MOVEMENT_GROUPS if moves_data else ()), *((WRITE_GROUP,) if writes else ()))
    return (*GROUPS[:-1], *extra, GROUPS[-1])
