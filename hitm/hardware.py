"""The ReRAM PIM chip: geometry, precision, timing, and presets.

All times are integers in picoseconds so that the exact solvers see integer
data. The ``isaac`` preset follows ISAAC (Shafiee et al., ISCA 2016): 128×128
crossbars of 2-bit cells, 16-bit weights and inputs, 1-bit DACs, one 8-bit
1.28 GS/s ADC per crossbar, 8 crossbars per IMA, 12 IMAs per tile, 168 tiles
per chip.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from hitm.errors import DescriptionError, suggest

__all__ = ["PRESETS", "Budget", "Hardware", "load_budget", "load_hardware"]

_MAX_COUNT = 1 << 20  # refuses absurd geometry before it reaches a solver


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
    def mvm_ps(self) -> int:
        """One full-precision matrix-vector multiply: all input bit-slices."""
        return self.input_slices * self.cycle_ps

    @property
    def onehot_mvm_ps(self) -> int:
        """A one-hot input (embedding lookup) needs a single bit-slice."""
        return self.cycle_ps

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


PRESETS: dict[str, Hardware] = {"isaac": Hardware()}

_CHOICES = {
    "weight_encoding": ("offset", "differential"),
    "slice_layout": ("packed", "split"),
}


def load_hardware(spec: Mapping[str, Any] | None, path: str = "hardware") -> Hardware:
    """Build a :class:`Hardware` from ``{"preset": name, field: value, ...}``.

    Every bad field is collected and reported in one :class:`DescriptionError`.
    """
    spec = dict(spec or {})
    problems: list[str] = []
    preset_name = spec.pop("preset", "isaac")
    if preset_name not in PRESETS:
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


@dataclass(frozen=True)
class Budget:
    """The resources a design may use: whole chips, or an explicit crossbar count.

    ``chips`` sets crossbars and tiles to the chips' totals; ``crossbars``
    alone budgets crossbars only (tiles are then unlimited).
    """

    chips: int | None = None
    crossbars: int | None = None

    def capacity(self, hardware: Hardware) -> dict[str, int]:
        """Resource name → integer capacity for this hardware."""
        if self.crossbars is not None:
            cap = {"crossbars": self.crossbars}
            if self.chips is not None:
                cap["tiles"] = self.chips * hardware.tiles_per_chip
            return cap
        chips = self.chips if self.chips is not None else hardware.chips
        return {
            "crossbars": chips * hardware.crossbars_per_chip,
            "tiles": chips * hardware.tiles_per_chip,
        }

    def describe(self, hardware: Hardware) -> str:
        cap = self.capacity(hardware)
        if self.crossbars is not None:
            return f"{cap['crossbars']:,} crossbars"
        chips = self.chips if self.chips is not None else hardware.chips
        return f"{chips} chip{'s' if chips != 1 else ''} ({cap['crossbars']:,} crossbars)"


def load_budget(spec: Mapping[str, Any] | None, path: str = "budget") -> Budget:
    """Build a :class:`Budget` from ``{"chips": n}`` and/or ``{"crossbars": n}``."""
    spec = dict(spec or {})
    problems: list[str] = []
    values: dict[str, int] = {}
    for key, value in spec.items():
        if key not in ("chips", "crossbars"):
            problems.append(
                f"{path}.{key}: unknown field{suggest(str(key), ('chips', 'crossbars'))}"
            )
        elif isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{path}.{key}: expected an integer, got {value!r}")
        elif not 1 <= value <= (4096 if key == "chips" else 1 << 26):
            limit = 4096 if key == "chips" else 1 << 26
            problems.append(f"{path}.{key}: must be between 1 and {limit:,}, got {value}")
        else:
            values[key] = value
    if problems:
        raise DescriptionError(problems)
    return Budget(**values)
