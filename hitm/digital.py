"""Digital units' time, when the hardware says ``digital: units`` (docs/model.md, "Digital units").

Two kinds of digital work limit a design then:

- a **product of two activations** (Q·Kᵀ, A·V) may run on digital MAC units
  instead of being written into crossbars: each unit does one
  multiply-accumulate per clock and takes one dot product at a time, so ``u``
  units finish a round of ``outputs`` dot products of ``length`` MACs in
  ``ceil(outputs / u) × length`` clocks (:meth:`hitm.analysis.LayerDemand.digital_cycles`);
- **softmax, layer norm and GELU** run on the activation units of the tiles
  their stage occupies (ISAAC's tile has two), one element per unit per clock
  per pass over the data (:data:`PASSES`). A stage's share of tiles is its
  crossbars over ``crossbars_per_tile`` plus its MAC units over
  ``mac_units_per_tile``.

Other digital layers (ReLU, sigmoid, pooling, adds) keep ISAAC's premise that
its tile units keep up with the crossbars.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

import numpy as np

from hitm.analysis import Analysis, LayerDemand
from hitm.hardware import Charge, Hardware

__all__ = [
    "PASSES",
    "activation_units_per_tile",
    "element_busy_ps",
    "on_crossbars",
    "on_mac_units",
    "product_busy_ps",
    "stage_elements",
    "with_elements",
]

PASSES = {"softmax": 3, "layernorm": 3, "gelu": 1}
"""Passes over its elements each timed op makes: softmax finds the maximum, sums the
exponentials, then divides (the numerically safe form); layer norm finds the mean, the
variance, then normalises; GELU is one lookup, as ISAAC's sigmoid unit is."""


def on_crossbars(layer: LayerDemand, hw: Hardware) -> bool:
    """Whether the layer may run on crossbars (a product: its operand written into them)."""
    return not (layer.implementation == "digital" and hw.digital_units)


def on_mac_units(layer: LayerDemand, hw: Hardware) -> bool:
    """Whether the layer may run on digital MAC units: a product, with ``digital: units``."""
    return (
        layer.is_product
        and hw.digital_units
        and layer.implementation != "write"
        and hw.mac_units_per_ima > 0
    )


def _ceil_ps(cycles: np.ndarray | int, hw: Hardware) -> np.ndarray | int:
    """``cycles`` digital clocks in integer ps, rounded up (exact)."""
    clock = hw.clock_ps
    return -(-np.asarray(cycles, dtype=np.int64) * clock.numerator // clock.denominator)


def product_busy_ps(hw: Hardware, layer: LayerDemand, units: np.ndarray) -> np.ndarray:
    """Busy time of product ``layer`` on ``units`` MAC units (each count of the array), in ps."""
    u = np.asarray(units, dtype=np.int64)
    cycles = np.zeros(u.shape, dtype=np.int64)
    for rep, outputs, length in layer.dots:
        cycles += rep * -(-outputs // u) * length
    return _ceil_ps(cycles, hw)


def activation_units_per_tile(hw: Hardware) -> Fraction:
    """Units per tile that process activation elements: those of the table charged per
    activation (ISAAC: its two sigmoid units), else the tile's MAC units (PUMA's
    vector units do both)."""
    total = Fraction(0)
    for c in hw.parts:
        if c.charged_per == Charge.ACTIVATION:
            per = Fraction(str(hw.units(c)))
            total += per * hw.imas_per_tile if c.level == "ima" else per
    return total or Fraction(hw.mac_units_per_tile)


def stage_elements(analysis: Analysis, hosts: Mapping[str, int], n_stages: int) -> list[int]:
    """Element passes each stage's hosted softmax, layer norm and GELU layers make per inference."""
    passes = [0] * n_stages
    for layer in analysis.layers:
        if layer.op in PASSES:
            passes[max(hosts[layer.name], 0)] += PASSES[layer.op] * layer.elements
    return passes


def with_elements(busy, elements, is_loop: bool):
    """A stage's busy with its element work: beside its MVMs (the larger of the two),
    or, in a decoder loop whose every step waits for the last, after them (the sum).
    Works on ints and on arrays of options alike."""
    return busy + elements if is_loop else np.maximum(busy, elements)


def element_busy_ps(
    hw: Hardware, passes: int, crossbars: np.ndarray, units: np.ndarray
) -> np.ndarray:
    """Time a stage's element passes take on its tiles' activation units, in ps.

    ``crossbars`` and ``units`` (arrays, one entry per option) set the stage's
    share of tiles: ``crossbars / crossbars_per_tile + units / mac_units_per_tile``.
    """
    x = np.asarray(crossbars, dtype=np.int64)
    if passes == 0:
        return np.zeros(x.shape, dtype=np.int64)
    per_tile = activation_units_per_tile(hw)
    cpt, mpt = hw.crossbars_per_tile, max(hw.mac_units_per_tile, 1)
    # passes × clock / (share × per_tile), share = (x·mpt + u·cpt) / (cpt·mpt): exact ceiling.
    clock = hw.clock_ps
    num = passes * cpt * mpt * clock.numerator * per_tile.denominator
    share = (x * mpt + np.asarray(units, dtype=np.int64) * cpt).astype(object)
    den = share * clock.denominator * per_tile.numerator
    return (-(-num // den)).astype(np.int64)
