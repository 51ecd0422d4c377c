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
    AutoOr,
    Bool,
    Choice,
    Field,
    Integer,
    MappingOf,
    Number,
    Section,
)
from hitm.hardware.adc import MAX_ADC_BITS, MIN_ADC_BITS
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
        "count": Number(
            0.0, 1e9, unit=COST_FIELDS["count"], description="Units per IMA, tile or chip."
        ),
        "power_mw": Number(
            0.0, 1e9, unit=COST_FIELDS["power_mw"], description="Power of one unit, mW."
        ),
        "area_mm2": Number(
            0.0, 1e9, unit=COST_FIELDS["area_mm2"], description="Area of one unit, mm²."
        ),
    },
    expected=f"a mapping of {', '.join(COST_FIELDS)}",
    hints={k: f"missing or unsupported unit: use {v}" for k, v in _UNITLESS.items()},
    unknown="cost field",
    listing=True,
)

MAX_CROSSBARS_PER_CHIP = 1 << 22  # products of the geometry fields beyond this are typos


def _pow2(low: int, high: int, what: str) -> Integer:
    return Integer(low, high, what, power_of_two=True)


_FIELDS: dict[str, Field] = {
    "rows": _pow2(16, 1024, "Crossbar wordlines (inputs): a power of two."),
    "cols": _pow2(16, 1024, "Crossbar bitlines (outputs): a power of two."),
    "cell_bits": Integer(1, 8, "Bits per ReRAM cell."),
    "weight_bits": Integer(1, 32, "Bits per weight."),
    "input_bits": Integer(1, 32, "Bits per input activation."),
    "dac_bits": Integer(1, 8, "Input bits a DAC applies per crossbar cycle."),
    "read_ns": Number(
        0.01,
        10_000.0,
        closed_min=True,
        closed_max=True,
        description="One crossbar read (one input bit-slice), ns.",
    ),
    "adc_bits": AutoOr(
        Integer(MIN_ADC_BITS, MAX_ADC_BITS),
        "ADC resolution: auto (what an MVM needs) or bits.",
    ),
    "adc_bits_truncate": Bool("Accept adc_bits below what an MVM needs (precision is lost)."),
    "adcs_per_crossbar": Integer(1, 1024, "ADCs shared by one crossbar's columns."),
    "adc_rate_gsps": Number(
        0.001,
        100.0,
        closed_min=True,
        closed_max=True,
        description="Each ADC's sample rate, GS/s.",
    ),
    "crossbars_per_ima": Integer(1, 1024, "Crossbars per IMA (PUMA: per core)."),
    "imas_per_tile": Integer(1, 1024, "IMAs per tile."),
    "tiles_per_chip": Integer(1, 16_384, "Tiles per chip."),
    "edram_kb": Integer(1, 1 << 20, "eDRAM per tile, KB."),
    "chips": Integer(1, 4096, "Chips available when the budget names none."),
    "weight_encoding": Choice(
        ("offset", "differential"),
        description="offset: ISAAC's biased, flipped encoding; differential: a positive and a"
        " negative array (twice the columns).",
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
    "clock_ghz": Number(
        0.001,
        100.0,
        closed_min=True,
        closed_max=True,
        description="Digital units' and eDRAM bus's clock, GHz.",
    ),
    "bus_bits": Integer(1, 1 << 16, "Width of the eDRAM–IMA bus, bits."),
    "static_fraction": Number(
        0.0, 1.0, closed_min=True, description="Share of table power drawn as leakage."
    ),
    "interconnect": Choice(
        ("isaac", "ideal"),
        description="isaac: links, routers and eDRAM bandwidth and capacity cost time and"
        " energy; ideal: data moves free.",
    ),
    "topology": Choice(
        ("chain", "ring"),
        description="chain: chips joined in layer order; ring: the chain closed by a link"
        " from the last chip to the first, traffic routed either way round.",
    ),
    "link_gbps": Number(
        0.001,
        10_000.0,
        closed_min=True,
        closed_max=True,
        description="Chip-to-chip bandwidth per link and direction, GB/s.",
    ),
    "links_per_chip": Integer(
        2, 64, "Chip-to-chip links per chip (half to each neighbour).", even=True
    ),
    "link_pj_per_bit": Number(
        0.0, 1000.0, closed_min=True, description="Energy per bit over a chip-to-chip link, pJ."
    ),
    "router_pj_per_bit": Number(
        0.0, 1000.0, closed_min=True, description="Energy per bit through an on-chip router, pJ."
    ),
    "tiles_per_router": Integer(1, 4096, "Tiles sharing one router of the on-chip mesh."),
    "flit_bits": Integer(
        1, 4096, "Width of a flit of the on-chip mesh (a router's datapath), bits."
    ),
    "write_ns": Number(
        0.0,
        1e6,
        closed_min=True,
        closed_max=True,
        description="Writing one crossbar row (its cells in parallel), ns: products of two"
        " activations write one operand every inference.",
    ),
    "write_pj_per_cell": Number(
        0.0, 1e6, closed_min=True, closed_max=True, description="Energy per ReRAM cell written, pJ."
    ),
    "endurance_writes": Number(
        1.0,
        1e18,
        closed_min=True,
        closed_max=True,
        description="Writes a ReRAM cell endures before it wears out.",
    ),
    "digital": Choice(
        ("units", "ideal"),
        description="units: softmax, layer norm and GELU take time on digital units, and"
        " products of two activations may run on MAC units; ideal: digital work never limits.",
    ),
    "mac_units_per_ima": Integer(
        0, 1 << 16, "Digital MAC units per IMA (one multiply-accumulate per clock each)."
    ),
    "mac_pj": Number(0.0, 1e6, closed_min=True, description="Energy of one digital MAC, pJ."),
    "mac_area_mm2": Number(
        0.0, 1e3, closed_min=True, description="Area of one digital MAC unit, mm²."
    ),
}


def _cross_checks(hw: Hardware, path: str, problems: list[str]) -> None:
    """What no single field says: the ADC's resolution, and sizes the fields multiply out to."""
    need = hw.required_adc_bits
    if need > MAX_ADC_BITS:
        problems.append(
            f"{path}: an MVM over {hw.rows} rows of {hw.cell_bits}-bit cells with"
            f" {hw.dac_bits}-bit inputs needs {need}-bit ADCs; hitm models {MIN_ADC_BITS} to"
            f" {MAX_ADC_BITS} bits (lower rows, cell_bits or dac_bits)"
        )
    elif hw.adc_bits != "auto" and hw.adc_resolution < need and not hw.adc_bits_truncate:
        problems.append(
            f"{path}.adc_bits: {hw.adc_resolution} bits is below the {need} an MVM over"
            f" {hw.rows} rows of {hw.cell_bits}-bit cells with {hw.dac_bits}-bit inputs needs"
            " (set adc_bits_truncate: true to accept the lost precision)"
        )
    if hw.adcs_per_crossbar > hw.cols:
        problems.append(
            f"{path}.adcs_per_crossbar: {hw.adcs_per_crossbar} ADCs for {hw.cols} columns;"
            " at most one per column"
        )
    if hw.dac_bits > hw.input_bits:
        problems.append(
            f"{path}.dac_bits: {hw.dac_bits} bits per slice of {hw.input_bits}-bit inputs;"
            " at most input_bits"
        )
    if hw.cell_bits > hw.weight_bits:
        problems.append(
            f"{path}.cell_bits: {hw.cell_bits}-bit cells for {hw.weight_bits}-bit weights;"
            " at most weight_bits"
        )
    if hw.crossbars_per_chip > MAX_CROSSBARS_PER_CHIP:
        problems.append(
            f"{path}: crossbars_per_ima × imas_per_tile × tiles_per_chip ="
            f" {hw.crossbars_per_chip:,} crossbars per chip; at most {MAX_CROSSBARS_PER_CHIP:,}"
        )


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
    hardware = dataclasses.replace(base, name=name, **values)
    _cross_checks(hardware, path, problems)
    if problems:
        raise DescriptionError(problems)
    return hardware


def _override(
    base: Hardware, overrides: Mapping[str, Mapping[str, float]], path: str, problems: list[str]
) -> tuple[Component, ...]:
    """The preset's component table with checked overrides; geometry-set counts refused."""
    changed: dict[str, Component] = {}
    for name, fields in overrides.items():
        component = base.components.named(name)
        if "count" in fields and component.count is None:
            rule = component.rule
            problems.append(
                f"{path}.{name}.count: set by the crossbar geometry"
                f" ({rule.geometry} = {base.units(component):g}); change those fields instead"
            )
            continue
        if fields:  # a value the user gives is final: the scaling law leaves it alone
            fixed = component.fixed | set(fields)
            changed[name] = dataclasses.replace(component, **fields, fixed=frozenset(fixed))
    return tuple(changed.get(c.name, c) for c in base.components)
