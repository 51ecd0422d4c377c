"""Read a ``hardware:`` mapping (a preset plus overrides) into a :class:`Hardware`.

The fields and their rules are declared once, in :func:`hardware_section`,
for the checker (:mod:`hitm.fields`) and the instance's JSON Schema alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from hitm.errors import DescriptionError
from hitm.fields import (
    BAD,
    Bool,
    Choice,
    Field,
    Integer,
    MappingOf,
    Number,
    Section,
)
from hitm.hardware.component import COST_FIELDS, Component
from hitm.hardware.model import PRESETS, Hardware

__all__ = ["MAX_COUNT", "hardware_section", "load_hardware"]

MAX_COUNT = 1 << 20  # refuses absurd geometry before it reaches a solver
_MAX_FILL_CYCLES = 1024
_COUNT = Integer(1, MAX_COUNT)
_POSITIVE = Number(0.0, 1e9)

# Names a user might write without a unit, or with another unit, and what to use instead.
_UNITLESS = {
    "power": "power_mw (milliwatts per unit)",
    "power_w": "power_mw (milliwatts per unit)",
    "power_uw": "power_mw (milliwatts per unit)",
    "area": "area_mm2 (square millimetres per unit)",
    "area_um2": "area_mm2 (square millimetres per unit)",
    "number": "count",
    "n": "count",
}

COMPONENT_OVERRIDE = Section(
    {
        "count": Number(0.0, 1e9, unit=COST_FIELDS["count"], description="Units per IMA, tile or chip."),
        "power_mw": Number(0.0, 1e9, unit=COST_FIELDS["power_mw"], description="Power of one unit, mW."),
        "area_mm2": Number(0.0, 1e9, unit=COST_FIELDS["area_mm2"], description="Area of one unit, mm²."),
    },
    expected=f"a mapping of {', '.join(COST_FIELDS)}",
    hints={k: f"missing or unsupported unit: use {v}" for k, v in _UNITLESS.items()},
    unknown="cost field",
    listing=True,
)

_FIELDS: dict[str, Field] = {
    "rows": Integer(1, MAX_COUNT, "Crossbar wordlines (inputs)."),
    "cols": Integer(1, MAX_COUNT, "Crossbar bitlines (outputs)."),
    "cell_bits": Integer(1, MAX_COUNT, "Bits per ReRAM cell."),
    "weight_bits": Integer(1, MAX_COUNT, "Bits per weight."),
    "input_bits": Integer(1, MAX_COUNT, "Bits per input activation."),
    "dac_bits": Integer(1, MAX_COUNT, "Input bits a DAC applies per crossbar cycle."),
    "read_ns": Number(0.0, 1e9, description="One crossbar read (one input bit-slice), ns."),
    "adc_bits": Integer(1, MAX_COUNT, "ADC resolution, bits."),
    "adcs_per_crossbar": Integer(1, MAX_COUNT, "ADCs shared by one crossbar's columns."),
    "adc_rate_gsps": Number(0.0, 1e9, description="Each ADC's sample rate, GS/s."),
    "crossbars_per_ima": Integer(1, MAX_COUNT, "Crossbars per IMA (PUMA: per core)."),
    "imas_per_tile": Integer(1, MAX_COUNT, "IMAs per tile."),
    "tiles_per_chip": Integer(1, MAX_COUNT, "Tiles per chip."),
    "edram_kb": Integer(1, MAX_COUNT, "eDRAM per tile, KB."),
    "chips": Integer(1, MAX_COUNT, "Chips available when the budget names none."),
    "weight_encoding": Choice(
        ("offset", "differential"),
        description="offset: ISAAC's biased encoding; differential: a positive and a negative"
        " array (twice the columns).",
    ),
    "slice_layout": Choice(
        ("packed", "split"),
        description="packed: a weight's bit-slices in adjacent columns; split: each slice in"
        " its own array (PUMA).",
    ),
    "bias_row": Bool("Biases in one extra crossbar row instead of digital adds."),
    "share_tiles": Bool("Whether layers may share a tile; if not, tiles are budgeted per layer."),
    "mvm_fill_cycles": Integer(
        0, _MAX_FILL_CYCLES, "Extra crossbar cycles per MVM to fill its pipeline (PUMA: 2)."
    ),
    "clock_ghz": Number(0.0, 1e9, description="Digital units' and eDRAM bus's clock, GHz."),
    "bus_bits": Integer(1, MAX_COUNT, "Width of the eDRAM–IMA bus, bits."),
    "static_fraction": Number(
        0.0, 1.0, closed_min=True, description="Share of table power drawn as leakage."
    ),
}


def _component_names(preset: Hardware | None) -> tuple[str, ...]:
    if preset is not None:
        return tuple(c.name for c in preset.components)
    names: dict[str, None] = {}
    for hw in PRESETS.values():
        names.update(dict.fromkeys(c.name for c in hw.components))
    return tuple(names)


def hardware_section(preset: Hardware | None = None) -> Section:
    """The ``hardware:`` section's fields; ``components`` names those of ``preset`` (or any)."""
    missing = {f.name for f in dataclasses.fields(Hardware)} - {*_FIELDS, "name", "components"}
    if missing:  # a Hardware field nobody can set or check: a bug, caught at first use
        raise RuntimeError(f"hardware fields without a rule: {sorted(missing)}")
    return Section(
        {
            "preset": Choice(tuple(PRESETS), noun="preset", description="The chip to start from."),
            **_FIELDS,
            "components": MappingOf(
                COMPONENT_OVERRIDE,
                names=_component_names(preset),
                noun="component",
                expected="a mapping of component names to {count, power_mw, area_mm2}",
                description="Per-unit overrides of the component cost table.",
            ),
        },
        expected="a mapping",
        description="A preset plus any overrides (docs/model.md, docs/energy.md).",
    )


def load_hardware(spec: Mapping[str, Any] | None, path: str = "hardware") -> Hardware:
    """Build a :class:`Hardware` from ``{"preset": name, field: value, ...}``.

    ``components`` overrides rows of the preset's cost table, e.g.
    ``{"adc": {"power_mw": 20}, "hyper_transport": {"area_mm2": 20}}``; cost
    fields must carry their unit in their name (:data:`COST_FIELDS`).
    Every bad field is collected and reported in one :class:`DescriptionError`.
    """
    spec = dict(spec or {})
    problems: list[str] = []
    preset = Choice(tuple(PRESETS), noun="preset").check(
        spec.get("preset", "isaac"), f"{path}.preset", problems
    )
    if preset is BAD:
        raise DescriptionError(problems)
    base = PRESETS[preset]
    values = hardware_section(base).check(spec, path, problems)
    if values is BAD:
        raise DescriptionError(problems)
    values.pop("preset", None)
    overrides = values.pop("components", None)
    if overrides is not None:
        components = _override(base, overrides, f"{path}.components", problems)
        if components != base.components:
            values["components"] = components
    if problems:
        raise DescriptionError(problems)
    name = preset if not values else f"{preset}*"
    return dataclasses.replace(base, name=name, **values)


def _override(
    base: Hardware, overrides: Mapping[str, Mapping[str, float]], path: str, problems: list[str]
) -> tuple[Component, ...]:
    """The preset's component table with checked overrides; geometry-set counts refused."""
    changed: dict[str, Component] = {}
    for name, fields in overrides.items():
        component = base.component(name)
        if "count" in fields and component.count is None:
            rule = component.rule
            problems.append(
                f"{path}.{name}.count: set by the crossbar geometry"
                f" ({rule.geometry} = {base.units(component):g}); change those fields instead"
            )
            continue
        if fields:
            changed[name] = dataclasses.replace(component, **fields)
    return tuple(changed.get(c.name, c) for c in base.components)
