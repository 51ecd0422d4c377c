"""Scaling laws: how a component's per-unit power and area follow the chip's configuration.

A component row of a preset holds its published figures together with the
configuration they were measured at (``Component.at``: the law's quantities,
e.g. 128 × 128 cells for ISAAC's crossbar). For another configuration, the law
scales power and area by the ratio of its quantities now to those, so every
preset reproduces its own table exactly (the ratio is 1). Each law, its
source and the preset point it passes through are in docs/energy.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hitm.hardware.adc import adc_area_um2, adc_energy_pj

if TYPE_CHECKING:  # the laws read only the chip's fields
    from hitm.hardware.model import Hardware

__all__ = ["LAWS", "Law"]

Quantities = tuple[float, ...]


@dataclass(frozen=True)
class Law:
    """One scaling law.

    Attributes
    ----------
    quantities
        What the law reads from a configuration (e.g. ``(rows × cols,)``).
    factors
        ``(now, at) → (power factor, area factor)``: how much the per-unit
        power and area grow from the quantities ``at`` to ``now``.
    label
        The part as the configuration makes it (``256×256, 2-bit cells``).
    source
        Where the law comes from, in a few words (docs/energy.md has the rest).
    count
        Units per IMA, tile or chip as the configuration sets them (the
        router: one per ``tiles_per_router`` tiles); None: the row's own.
    """

    quantities: Callable[[Hardware], Quantities]
    factors: Callable[[Quantities, Quantities], tuple[float, float]]
    label: Callable[[Hardware], str]
    source: str
    count: Callable[[Hardware], float] | None = None


def _linear(now: Quantities, at: Quantities) -> tuple[float, float]:
    f = now[0] / at[0]
    return f, f


def _adc(now: Quantities, at: Quantities) -> tuple[float, float]:
    """Energy per conversion from the resolution table, times the sample rate; area from the table."""
    (bits, rate), (bits0, rate0) = now, at
    energy = adc_energy_pj(int(bits)) / adc_energy_pj(int(bits0))
    return energy * (rate / rate0), adc_area_um2(int(bits)) / adc_area_um2(int(bits0))


def _dac(now: Quantities, at: Quantities) -> tuple[float, float]:
    """×2 per bit of resolution (Accelergy IsaacDAC, MNSIM-2.0's DAC table)."""
    f = 2.0 ** (now[0] - at[0])
    return f, f


CACTI_DEPTH_EXPONENT = 1.56 / 2  # Accelergy's CACTI fit: energy ∝ depth^0.78


def _edram(now: Quantities, at: Quantities) -> tuple[float, float]:
    """Power ∝ capacity^0.78 (CACTI, as Accelergy's IsaacEDRAM scales depth); area ∝ capacity."""
    ratio = now[0] / at[0]
    return ratio**CACTI_DEPTH_EXPONENT, ratio


def _router(hw: Hardware) -> Quantities:
    """Flit width and ports: one per tile it serves and one per mesh direction."""
    return (hw.flit_bits, hw.tiles_per_router + 4)


def _bytes(n: float) -> str:
    return f"{n / 1024:g} KB" if n >= 1024 else f"{n:g} B"


def _input_register(hw: Hardware) -> Quantities:
    return (hw.crossbars_per_ima * hw.rows * hw.input_bits / 8,)


def _output_register(hw: Hardware) -> Quantities:
    return (hw.cols * hw.input_bits / 8,)


def _tile_output_register(hw: Hardware) -> Quantities:
    return (hw.imas_per_tile * hw.cols * hw.input_bits / 8,)


LAWS: dict[str, Law] = {
    "cells": Law(
        lambda hw: (hw.rows * hw.cols,),
        _linear,
        lambda hw: f"{hw.rows}×{hw.cols}, {hw.cell_bits}-bit cells",
        "read power and area ∝ cells, rows × cols (PUMA simulator's ISAAC-derived constants)",
    ),
    "adc": Law(
        lambda hw: (hw.adc_resolution, hw.adc_rate_gsps),
        _adc,
        lambda hw: f"{hw.adc_resolution}-bit, {hw.adc_rate_gsps:g} GS/s",
        "energy and area by resolution (ISAAC's ADC, Accelergy table); power ∝ sample rate",
    ),
    "dac": Law(
        lambda hw: (hw.dac_bits,),
        _dac,
        lambda hw: f"{hw.dac_bits}-bit, one per row",
        "power and area ×2 per bit (Accelergy IsaacDAC; MNSIM-2.0)",
    ),
    "shift_add": Law(
        lambda hw: (hw.input_bits,),
        _linear,
        lambda hw: f"{hw.input_bits}-bit",
        "power and area ∝ width (Accelergy IsaacShiftAdd)",
    ),
    "input_register": Law(
        _input_register,
        _linear,
        lambda hw: _bytes(_input_register(hw)[0]),
        "∝ bytes: every row of the IMA's crossbars, at input precision",
    ),
    "output_register": Law(
        _output_register,
        _linear,
        lambda hw: _bytes(_output_register(hw)[0]),
        "∝ bytes: one crossbar's columns, at activation precision",
    ),
    "tile_output_register": Law(
        _tile_output_register,
        _linear,
        lambda hw: _bytes(_tile_output_register(hw)[0]),
        "∝ bytes: every IMA's output register",
    ),
    "edram": Law(
        lambda hw: (hw.edram_kb,),
        _edram,
        lambda hw: f"{hw.edram_kb:g} KB",
        "power ∝ capacity^0.78 (CACTI via Accelergy IsaacEDRAM); area ∝ capacity",
    ),
    "router": Law(
        _router,
        lambda now, at: (now[0] * now[1] / (at[0] * at[1]),) * 2,
        lambda hw: (
            f"{hw.flit_bits}-bit flits, {_router(hw)[1]} ports,"
            f" one per {hw.tiles_per_router} tile{'s' if hw.tiles_per_router != 1 else ''}"
        ),
        "power and area ∝ flit width × ports (input buffers, first order); one per"
        " tiles_per_router tiles",
        # A router's share per tile; where the tiles do not fill the last router the mesh
        # still has it, but the table charges its share alone, as at every preset point.
        count=lambda hw: 1 / hw.tiles_per_router,
    ),
    "bus": Law(
        lambda hw: (hw.bus_bits,),
        _linear,
        lambda hw: f"eDRAM–IMA bus, {hw.bus_bits} wires",
        "power and area ∝ wires (Accelergy IsaacEDRAMBus: area per bit of width)",
    ),
}
"""Every scaling law by the name a component row gives."""
