"""The ReRAM PIM chip: geometry, precision, timing, component costs, and presets.

All times are integers in picoseconds so that the exact solvers see integer
data. The ``isaac`` preset follows ISAAC (Shafiee et al., ISCA 2016): 128×128
crossbars of 2-bit cells, 16-bit weights and inputs, 1-bit DACs, one 8-bit
1.28 GS/s ADC per crossbar, 8 crossbars per IMA, 12 IMAs per tile, 168 tiles
per chip, and the power and area of every component from its Table I. The
``puma`` preset follows PUMA (Ankit et al., ASPLOS 2019); see ``PUMA`` below
for which of its figures are published and which are ours.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from hitm.errors import DescriptionError, suggest

__all__ = [
    "CHARGES",
    "COST_FIELDS",
    "ISAAC_COMPONENTS",
    "LEVELS",
    "PRESETS",
    "PUMA_COMPONENTS",
    "Budget",
    "Component",
    "DesignSpace",
    "Hardware",
    "load_budget",
    "load_design",
    "load_hardware",
]

_MAX_COUNT = 1 << 20  # refuses absurd geometry before it reaches a solver

LEVELS = ("ima", "tile", "chip")
"""Where a component sits: in every IMA (PUMA: core), every tile, or once per chip."""

CHARGES = {
    "crossbar_cycle": "each active crossbar, each cycle",
    "row_cycle": "each driven row, each cycle",
    "column_cycle": "each sampled column, each cycle",
    "conversion": "each ADC conversion",
    "ima_cycle": "each active crossbar cycle, a 1/crossbars_per_ima share",
    "output": "each partial output of an MVM, or element of add/mul/batchnorm",
    "activation": "each activation element (and recurrent gate)",
    "pool": "each element a pooling or argmax reads",
    "byte": "each byte moved through eDRAM and its bus",
    "static": "nothing: leakage only (its traffic is not modelled)",
}
"""The event the energy model charges each component per (see docs/energy.md)."""

# Components whose count the crossbar geometry fixes (per IMA).
_GEOMETRY_COUNT = {
    "crossbar_cycle": "crossbars_per_ima",
    "row_cycle": "crossbars_per_ima × rows",
    "column_cycle": "crossbars_per_ima × cols",
    "conversion": "crossbars_per_ima × adcs_per_crossbar",
}

COST_FIELDS = {"count": "units", "power_mw": "mW", "area_mm2": "mm²"}
"""The fields a hardware file may override for a component, with their units."""

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
        The event whose count sets the component's dynamic energy (:data:`CHARGES`).
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
    charged_per: str
    power_mw: float
    area_mm2: float
    count: float | None = None
    note: str = ""


def _row(
    name: str,
    level: str,
    charged_per: str,
    count: float,
    power_mw: float,
    area_mm2: float,
    note: str = "",
    geometry: bool = False,
) -> Component:
    """A component from a published table row: row totals for ``count`` units."""
    return Component(
        name,
        level,
        charged_per,
        power_mw / count,
        area_mm2 / count,
        None if geometry else count,
        note,
    )


# ISAAC Table I (32 nm): each row's count, total power (mW) and total area (mm²).
ISAAC_COMPONENTS: tuple[Component, ...] = (
    _row("adc", "ima", "conversion", 8, 16, 0.0096, "8-bit, 1.28 GS/s", geometry=True),
    _row("dac", "ima", "row_cycle", 8 * 128, 4, 0.00017, "1-bit, one per row", geometry=True),
    _row("sample_hold", "ima", "column_cycle", 8 * 128, 0.01, 0.00004, "", geometry=True),
    _row(
        "crossbar", "ima", "crossbar_cycle", 8, 2.4, 0.0002, "128×128, 2-bit cells", geometry=True
    ),
    _row("shift_add", "ima", "ima_cycle", 4, 0.2, 0.00024),
    _row("input_register", "ima", "ima_cycle", 1, 1.24, 0.0021, "2 KB"),
    _row("output_register", "ima", "ima_cycle", 1, 0.23, 0.00077, "256 B"),
    _row("edram", "tile", "byte", 1, 20.7, 0.083, "64 KB"),
    _row("bus", "tile", "byte", 1, 7, 0.090, "eDRAM–IMA bus, 384 wires"),
    _row("router", "tile", "static", 0.25, 42 / 4, 0.151 / 4, "one router shared by 4 tiles"),
    _row("sigmoid", "tile", "activation", 2, 0.52, 0.0006),
    _row("tile_shift_add", "tile", "output", 1, 0.05, 0.00006),
    _row("maxpool", "tile", "pool", 1, 0.4, 0.00024),
    _row("tile_output_register", "tile", "output", 1, 1.68, 0.0032, "3 KB"),
    _row("hyper_transport", "chip", "static", 1, 10_400, 22.88, "off-chip links"),
)


@dataclass(frozen=True)
class Hardware:
    """A ReRAM PIM chip description (one preset plus overrides).

    Attributes
    ----------
    rows, cols
        Crossbar size (wordlines × bitlines).
    cell_bits, weight_bits, input_bits, dac_bits
        Bits per cell, per weight, per input activation, per DAC step.
    read_ns
        Time of one crossbar read (one input bit-slice), in ns.
    adc_bits, adcs_per_crossbar, adc_rate_gsps
        ADC resolution, ADCs shared by one crossbar, and each ADC's rate.
    crossbars_per_ima, imas_per_tile, tiles_per_chip, edram_kb
        Chip hierarchy.
    chips
        Chips available by default (an instance's budget may override).
    weight_encoding
        ``offset`` (ISAAC's biased encoding, no extra columns) or
        ``differential`` (a positive and a negative array: twice the columns).
    slice_layout
        ``packed`` (a weight's bit-slices in adjacent columns) or ``split``
        (each slice in its own array, as PUMA and PIMSYN count it).
    bias_row
        Put biases in one extra crossbar row instead of adding them digitally.
    share_tiles
        Whether layers may share a tile; if not, tiles become a budgeted resource.
    mvm_fill_cycles
        Extra crossbar cycles every MVM spends filling and draining its pipeline
        (PUMA: 2, so an MVM takes ``(16 + 2) × 128`` ns; ISAAC: 0).
    clock_ghz
        Rate of the digital units (one element per unit per clock) and of the
        eDRAM bus (one ``bus_bits`` transfer per clock).
    bus_bits
        Width of the eDRAM–IMA bus.
    static_fraction
        Share of every component's table power drawn whether it works or not
        (leakage); the rest is charged per event (docs/energy.md).
    components
        The component cost table (:class:`Component` rows).
    """

    name: str = "isaac"
    rows: int = 128
    cols: int = 128
    cell_bits: int = 2
    weight_bits: int = 16
    input_bits: int = 16
    dac_bits: int = 1
    read_ns: float = 100.0
    adc_bits: int = 8
    adcs_per_crossbar: int = 1
    adc_rate_gsps: float = 1.28
    crossbars_per_ima: int = 8
    imas_per_tile: int = 12
    tiles_per_chip: int = 168
    edram_kb: int = 64
    chips: int = 1
    weight_encoding: str = "offset"
    slice_layout: str = "packed"
    bias_row: bool = False
    share_tiles: bool = True
    mvm_fill_cycles: int = 0
    clock_ghz: float = 1.28
    bus_bits: int = 384
    static_fraction: float = 0.1
    components: tuple[Component, ...] = ISAAC_COMPONENTS

    # -- derived geometry ---------------------------------------------------
    @property
    def slices(self) -> int:
        """Columns (or arrays, for ``split``) one weight occupies: ceil(weight/cell bits)."""
        base = math.ceil(self.weight_bits / self.cell_bits)
        return base * (2 if self.weight_encoding == "differential" else 1)

    @property
    def crossbars_per_tile(self) -> int:
        return self.crossbars_per_ima * self.imas_per_tile

    @property
    def crossbars_per_chip(self) -> int:
        return self.crossbars_per_tile * self.tiles_per_chip

    def matrix_crossbars(self, rows: int, cols: int, bias: bool = False) -> int:
        """Crossbars holding one copy of a ``rows × cols`` weight matrix.

        ``rows`` are the matrix inputs (K) and ``cols`` its outputs (N).
        """
        k = rows + (1 if bias and self.bias_row else 0)
        if self.slice_layout == "split":
            return self.slices * math.ceil(k / self.rows) * math.ceil(cols / self.cols)
        return math.ceil(k / self.rows) * math.ceil(cols * self.slices / self.cols)

    # -- derived timing (integer picoseconds) ------------------------------
    @property
    def read_ps(self) -> int:
        return math.ceil(Fraction(str(self.read_ns)) * 1000)

    @property
    def adc_ps(self) -> int:
        """Time for the crossbar's ADCs to convert all its columns once."""
        samples = math.ceil(self.cols / self.adcs_per_crossbar)
        return math.ceil(Fraction(samples * 1000) / Fraction(str(self.adc_rate_gsps)))

    @property
    def cycle_ps(self) -> int:
        """One input bit-slice through a crossbar: max(read, ADC conversion)."""
        return max(self.read_ps, self.adc_ps)

    @property
    def input_slices(self) -> int:
        return math.ceil(self.input_bits / self.dac_bits)

    @property
    def mvm_cycles(self) -> int:
        """Crossbar cycles one full-precision MVM holds its crossbars."""
        return self.input_slices + self.mvm_fill_cycles

    @property
    def onehot_mvm_cycles(self) -> int:
        """Crossbar cycles of a one-hot MVM (embedding lookup): a single bit-slice."""
        return 1 + self.mvm_fill_cycles

    @property
    def mvm_ps(self) -> int:
        """One full-precision matrix-vector multiply: all input bit-slices (plus any fill)."""
        return self.mvm_cycles * self.cycle_ps

    @property
    def onehot_mvm_ps(self) -> int:
        """A one-hot input (embedding lookup) needs a single bit-slice."""
        return self.onehot_mvm_cycles * self.cycle_ps

    # -- component table ---------------------------------------------------
    def component(self, name: str) -> Component:
        """The component called ``name``."""
        for c in self.components:
            if c.name == name:
                return c
        raise KeyError(name)

    def units(self, component: Component) -> float:
        """Units of ``component`` per IMA, tile or chip (the geometry sets some)."""
        if component.count is not None:
            return component.count
        per_crossbar = {
            "crossbar_cycle": 1,
            "row_cycle": self.rows,
            "column_cycle": self.cols,
            "conversion": self.adcs_per_crossbar,
        }[component.charged_per]
        return self.crossbars_per_ima * per_crossbar

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain data; ``components`` as name → its fields and count."""
        doc = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        doc["components"] = {
            c.name: {
                "level": c.level,
                "charged_per": c.charged_per,
                "count": self.units(c),
                "power_mw": c.power_mw,
                "area_mm2": c.area_mm2,
                "note": c.note,
            }
            for c in self.components
        }
        return doc


# PUMA (Ankit et al., ASPLOS 2019), mapped onto this model: a core is an IMA and
# an MVMU a group of 8 crossbars (its 128×128 16-bit weights in 8 arrays of 2-bit
# cells, the ``split`` layout), so 2 MVMUs per core = 16 crossbars, 8 cores per
# tile, 138 tiles per node (17,664 crossbars).
# Published: 128×128 crossbars, 2-bit cells, 16-bit weights and inputs, 8 cores ×
# 2 MVMUs per tile, 138 tiles per node, 1 GHz; one MVMU MVM (16,384 16-bit MACs)
# takes 2,304 ns and 43.97 nJ; the node is 90.6 mm² and 62.5 W.
# Not in the public record as a per-component breakdown, so ours:
# - timing: one ADC per crossbar at 1 GS/s converts 128 columns in 128 ns per
#   bit-slice; 16 bit-slices plus 2 pipeline fill cycles give (16 + 2) × 128 ns =
#   2,304 ns, as the PUMA simulator's MVM latency (github.com/Aayush-Ankit/
#   puma-simulator, wiki "PUMA Core"). The 100 ns read is ISAAC's.
# - crossbar, DAC and sample-and-hold units: ISAAC's Table I values (the PUMA
#   simulator reuses them). The ADC's power is calibrated so that an MVMU (8
#   crossbars with their DACs, sample-and-holds and ADCs) draws 43.97 nJ /
#   2,304 ns = 19.08 mW: 1.584 mW, close to ISAAC's 2 mW ADC scaled to 1 GS/s
#   (1.56 mW); its area is ISAAC's.
# - VFU, register file and core control: the PUMA simulator's constants
#   (include/constants.py): ALU scaled 32/45, 1 KB data memory, control unit.
# - eDRAM (64 KB shared memory), its bus, and the router (4 ports, shared by 4
#   tiles): the PUMA simulator's constants, dynamic plus leakage.
# - HyperTransport: ISAAC's links, as the PUMA simulator uses; we assume the
#   published node totals include them.
# - tile_other (tile control, instruction and attribute memories, receive
#   buffer, the rest of the on-chip network): not broken down publicly; chosen
#   so that 138 tiles plus the links come to the published 62.5 W and 90.6 mm².
# - clock 1 GHz (published); 384-bit eDRAM bus (the simulator's, ISAAC's width);
#   8-bit ADCs and offset weight encoding as ISAAC; leakage 10% as ISAAC.
PUMA_COMPONENTS: tuple[Component, ...] = (
    Component("adc", "ima", "conversion", 1.5843, 0.0096 / 8, None, "8-bit, 1 GS/s; calibrated"),
    Component("dac", "ima", "row_cycle", 4 / 1024, 0.00017 / 1024, None, "1-bit; ISAAC's"),
    Component("sample_hold", "ima", "column_cycle", 0.01 / 1024, 0.00004 / 1024, None, "ISAAC's"),
    Component("crossbar", "ima", "crossbar_cycle", 0.3, 0.0002 / 8, None, "128×128; ISAAC's"),
    Component("vfu", "ima", "ima_cycle", 1.899, 0.00403, 1, "vector unit; PUMA simulator"),
    Component("register_file", "ima", "ima_cycle", 0.477, 0.00192, 1, "1 KB; PUMA simulator"),
    Component("core_control", "ima", "ima_cycle", 0.25, 0.00326, 1, "PUMA simulator"),
    Component("edram", "tile", "byte", 9.06, 0.086, 1, "64 KB shared memory; PUMA simulator"),
    Component("bus", "tile", "byte", 3.5, 0.090, 1, "384 wires; PUMA simulator"),
    Component("router", "tile", "static", 16.54, 0.047, 0.25, "shared by 4 tiles; PUMA simulator"),
    Component("tile_other", "tile", "static", 34.48, 0.0691, 1, "calibrated to the node totals"),
    Component("hyper_transport", "chip", "static", 10_400, 22.88, 1, "off-chip links; ISAAC's"),
)

PRESETS: dict[str, Hardware] = {
    "isaac": Hardware(),
    "puma": Hardware(
        name="puma",
        read_ns=100.0,
        adc_rate_gsps=1.0,
        crossbars_per_ima=16,
        imas_per_tile=8,
        tiles_per_chip=138,
        slice_layout="split",
        mvm_fill_cycles=2,
        clock_ghz=1.0,
        components=PUMA_COMPONENTS,
    ),
}

_CHOICES = {
    "weight_encoding": ("offset", "differential"),
    "slice_layout": ("packed", "split"),
}
_MAX_FILL_CYCLES = 1024


def load_hardware(spec: Mapping[str, Any] | None, path: str = "hardware") -> Hardware:
    """Build a :class:`Hardware` from ``{"preset": name, field: value, ...}``.

    ``components`` overrides rows of the preset's cost table, e.g.
    ``{"adc": {"power_mw": 20}, "hyper_transport": {"area_mm2": 20}}``; cost
    fields must carry their unit in their name (:data:`COST_FIELDS`).
    Every bad field is collected and reported in one :class:`DescriptionError`.
    """
    spec = dict(spec or {})
    problems: list[str] = []
    preset_name = spec.pop("preset", "isaac")
    if not isinstance(preset_name, str) or preset_name not in PRESETS:
        raise DescriptionError(
            f"{path}.preset: unknown preset '{preset_name}'{suggest(str(preset_name), PRESETS)}"
            f"; known: {', '.join(PRESETS)}"
        )
    base = PRESETS[preset_name]
    fields = {f.name: f for f in dataclasses.fields(Hardware)}
    values: dict[str, Any] = {}
    for key, value in spec.items():
        where = f"{path}.{key}"
        if key not in fields or key == "name":
            problems.append(f"{where}: unknown field{suggest(str(key), fields)}")
            continue
        default = getattr(base, key)
        if key == "components":
            components = _load_components(value, base, where, problems)
            if components is not None and components != base.components:
                values[key] = components
            continue
        if key == "static_fraction":
            if isinstance(value, bool) or not isinstance(value, int | float):
                problems.append(f"{where}: expected a number, got {value!r}")
            elif not 0 <= value < 1:
                problems.append(f"{where}: must be at least 0 and below 1, got {value}")
            else:
                values[key] = float(value)
            continue
        if key == "mvm_fill_cycles":
            if isinstance(value, bool) or not isinstance(value, int):
                problems.append(f"{where}: expected an integer, got {value!r}")
            elif not 0 <= value <= _MAX_FILL_CYCLES:
                problems.append(f"{where}: must be between 0 and {_MAX_FILL_CYCLES}, got {value}")
            else:
                values[key] = value
            continue
        if isinstance(default, bool):
            if not isinstance(value, bool):
                problems.append(f"{where}: expected true or false, got {value!r}")
                continue
        elif isinstance(default, int):
            if isinstance(value, bool) or not isinstance(value, int):
                problems.append(f"{where}: expected an integer, got {value!r}")
                continue
            if not 1 <= value <= _MAX_COUNT:
                problems.append(f"{where}: must be between 1 and {_MAX_COUNT}, got {value}")
                continue
        elif isinstance(default, float):
            if isinstance(value, bool) or not isinstance(value, int | float):
                problems.append(f"{where}: expected a number, got {value!r}")
                continue
            if not 0 < value < 1e9:
                problems.append(f"{where}: must be positive and finite, got {value}")
                continue
            value = float(value)
        elif key in _CHOICES and value not in _CHOICES[key]:
            problems.append(f"{where}: must be one of {', '.join(_CHOICES[key])}, got {value!r}")
            continue
        values[key] = value
    if problems:
        raise DescriptionError(problems)
    name = preset_name if not values else f"{preset_name}*"
    return dataclasses.replace(base, name=name, **values)


def _load_components(
    spec: Any, base: Hardware, path: str, problems: list[str]
) -> tuple[Component, ...] | None:
    """The preset's component table with ``spec``'s overrides; problems appended."""
    if not isinstance(spec, Mapping):
        problems.append(
            f"{path}: expected a mapping of component names to"
            f" {{count, power_mw, area_mm2}}, got {spec!r}"
        )
        return None
    known = {c.name: c for c in base.components}
    changed: dict[str, Component] = {}
    for name, fields in spec.items():
        where = f"{path}.{name}"
        if name not in known:
            problems.append(
                f"{where}: unknown component{suggest(str(name), known)}; known: {', '.join(known)}"
            )
            continue
        if not isinstance(fields, Mapping):
            problems.append(
                f"{where}: expected a mapping of {', '.join(COST_FIELDS)}, got {fields!r}"
            )
            continue
        component = known[name]
        updates: dict[str, float] = {}
        for key, value in fields.items():
            at = f"{where}.{key}"
            if key not in COST_FIELDS:
                if key in _UNITLESS:
                    problems.append(f"{at}: missing or unsupported unit: use {_UNITLESS[key]}")
                else:
                    problems.append(
                        f"{at}: unknown cost field{suggest(str(key), COST_FIELDS)}"
                        f"; use {', '.join(COST_FIELDS)}"
                    )
                continue
            if key == "count" and component.count is None:
                problems.append(
                    f"{at}: set by the crossbar geometry"
                    f" ({_GEOMETRY_COUNT[component.charged_per]} = {base.units(component):g});"
                    " change those fields instead"
                )
                continue
            unit = COST_FIELDS[key]
            if isinstance(value, str):
                problems.append(
                    f"{at}: expected a number of {unit}, got {value!r}"
                    f" (the unit is in the field's name: give {key}: <number>)"
                )
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                problems.append(f"{at}: expected a number of {unit}, got {value!r}")
                continue
            if not 0 < value < 1e9:
                problems.append(f"{at}: must be positive and finite, got {value}")
                continue
            updates[key] = float(value)
        if updates:
            changed[name] = dataclasses.replace(component, **updates)
    return tuple(changed.get(c.name, c) for c in base.components)


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

    def capacity(self, hardware: Hardware) -> dict[str, int]:
        """Resource name → integer capacity (power in µW, area in µm²)."""
        chips = self.chips
        if chips is None and self.crossbars is None and self.tiles is None:
            chips = hardware.chips
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
        if self.power_w is not None:
            cap["power_uw"] = int(Fraction(str(self.power_w)) * 10**6)
        if self.area_mm2 is not None:
            cap["area_um2"] = int(Fraction(str(self.area_mm2)) * 10**6)
        return cap

    def describe(self, hardware: Hardware) -> str:
        cap = self.capacity(hardware)
        chips = self.chips
        if chips is None and self.crossbars is None and self.tiles is None:
            chips = hardware.chips
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
        return ", ".join(parts)


_BUDGET_LIMITS: dict[str, tuple[type, float]] = {
    "chips": (int, 4096),
    "crossbars": (int, 1 << 26),
    "tiles": (int, 1 << 22),
    "power_w": (float, 1e6),
    "area_mm2": (float, 1e7),
}


def load_budget(spec: Mapping[str, Any] | None, path: str = "budget") -> Budget:
    """Build a :class:`Budget` from ``{"chips": n, "power_w": w, ...}`` (see :class:`Budget`)."""
    spec = dict(spec or {})
    problems: list[str] = []
    values: dict[str, Any] = {}
    for key, value in spec.items():
        if key not in _BUDGET_LIMITS:
            hint = (
                " (use power_w)" if key == "power" else " (use area_mm2)" if key == "area" else ""
            )
            problems.append(
                f"{path}.{key}: unknown field{hint or suggest(str(key), _BUDGET_LIMITS)}"
            )
            continue
        kind, limit = _BUDGET_LIMITS[key]
        if isinstance(value, bool) or not isinstance(value, int | float if kind is float else int):
            expected = "a number" if kind is float else "an integer"
            problems.append(f"{path}.{key}: expected {expected}, got {value!r}")
        elif not 0 < value <= limit or (kind is int and value < 1):
            problems.append(f"{path}.{key}: must be positive and at most {limit:,g}, got {value}")
        else:
            values[key] = value
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


def load_design(spec: Any, path: str = "design") -> DesignSpace | None:
    """Build a :class:`DesignSpace` from ``{"adcs": [...], "read_ns": x}``; None if absent."""
    if spec is None:
        return None
    if spec is True:
        return DesignSpace()
    if not isinstance(spec, Mapping):
        raise DescriptionError(f"{path}: expected a mapping with adcs and read_ns, or true")
    problems: list[str] = []
    values: dict[str, Any] = {}
    for key, value in spec.items():
        if key == "adcs":
            ok = (
                isinstance(value, list)
                and value
                and all(
                    isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 1024 for v in value
                )
            )
            if not ok:
                problems.append(
                    f"{path}.adcs: expected a list of integers from 1 to 1024, got {value!r}"
                )
            else:
                values["adcs"] = tuple(sorted(set(value)))
        elif key == "read_ns":
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e6:
                problems.append(f"{path}.read_ns: expected a positive number, got {value!r}")
            else:
                values["read_ns"] = float(value)
        else:
            problems.append(f"{path}.{key}: unknown field{suggest(str(key), ('adcs', 'read_ns'))}")
    if problems:
        raise DescriptionError(problems)
    return DesignSpace(**values)
