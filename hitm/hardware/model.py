"""The ReRAM PIM chip: geometry, precision, timing and its component cost table.

All times are integers in picoseconds so that the exact solvers see integer
data. The presets' values (ISAAC, PUMA) are data in :mod:`hitm.hardware.presets`;
reading a hardware file is :mod:`hitm.hardware.load`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import Any

from hitm.hardware.adc import required_adc_bits
from hitm.hardware.component import Component
from hitm.hardware.presets import ISAAC_COMPONENTS, PRESET_FIELDS
from hitm.named import Named

# Writing ReRAM cells (products of two activations write one operand per inference);
# sources in docs/model.md, "Products of two activations".
WRITE_NS = 20.0  # a row: one 10 ns SET and one 10 ns RESET pulse (NVSim sample_RRAM.cell)
WRITE_PJ_PER_CELL = 0.6  # a cell's SET or RESET energy (NVSim sample_RRAM.cell)
ENDURANCE_WRITES = 1e9  # the technology requirement (Lanza et al., Adv. Electron. Mater. 2019)
# Digital MAC units (products of two activations may run on them instead); sources in
# docs/model.md, "Digital units".
MAC_UNITS_PER_IMA = 2  # PUMA's core VFU: 4 ALU lanes, a MAC is a multiply and an add
MAC_PJ = 2.565  # Aladdin's 16x16 multiplier + 32-bit adder (Accelergy library), 40 -> 32 nm
MAC_AREA_MM2 = 0.0012456  # the same unit's area, 1,245.6 um^2 at 32 nm

__all__ = ["PRESETS", "Hardware"]


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
    adc_bits
        ADC resolution: ``auto`` (what an MVM needs, :attr:`required_adc_bits`)
        or a number of bits, at least the requirement unless ``adc_bits_truncate``.
    adc_bits_truncate
        Accept ``adc_bits`` below the requirement: the design then loses the
        low bits of every column sum, and every output says so.
    adcs_per_crossbar, adc_rate_gsps
        ADCs shared by one crossbar, and each ADC's rate.
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
    interconnect
        ``isaac``: data movement costs time and energy (chip-to-chip links, the
        on-chip routers, each tile's eDRAM bandwidth and capacity; docs/model.md,
        "Data movement"); ``ideal``: it is free, as hitm modelled it before.
    topology
        How the chips are joined: ``chain`` (neighbours in layer order) or
        ``ring`` (the chain and a link from the last chip back to the first,
        traffic routed either way round; docs/model.md, "Data movement").
    link_gbps, links_per_chip, link_pj_per_bit
        Chip-to-chip links: GB/s per link and direction, links per chip (split
        evenly between a chip's two neighbours), energy per bit.
    router_pj_per_bit
        Energy of one bit through one on-chip router.
    tiles_per_router, flit_bits
        The on-chip concentrated mesh: tiles sharing one router (the routers
        form a mesh, each transfer passes the routers between its ends), and
        the width of a flit (a router's datapath).
    write_ns, write_pj_per_cell, endurance_writes
        Writing ReRAM cells, which products of two activations do every
        inference (one operand written into crossbars, then read as MVMs):
        the time to write one crossbar row (its cells in parallel), the energy
        per cell written, and the writes a cell endures before it wears out.
    digital
        ``units``: softmax, layer norm and GELU take time on their tiles'
        activation units, and a product of two activations may run on digital
        MAC units instead of crossbars (the optimiser chooses; docs/model.md,
        "Digital units"); ``ideal``: digital work never limits, as hitm
        modelled it before.
    mac_units_per_ima, mac_pj, mac_area_mm2
        Digital MAC units (one multiply-accumulate per unit per clock) per IMA,
        a budgeted resource (``mac_units``); the energy of one MAC and the
        area of one unit.
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
    adc_bits: int | str = "auto"
    adc_bits_truncate: bool = False
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
    interconnect: str = "ideal"
    topology: str = "chain"
    link_gbps: float = 6.4
    links_per_chip: int = 4
    link_pj_per_bit: float = 26 / 128
    router_pj_per_bit: float = 20.74 / 256
    tiles_per_router: int = 4
    flit_bits: int = 32
    write_ns: float = WRITE_NS
    write_pj_per_cell: float = WRITE_PJ_PER_CELL
    endurance_writes: float = ENDURANCE_WRITES
    digital: str = "ideal"
    mac_units_per_ima: int = MAC_UNITS_PER_IMA
    mac_pj: float = MAC_PJ
    mac_area_mm2: float = MAC_AREA_MM2
    components: tuple[Component, ...] = ISAAC_COMPONENTS

    def __post_init__(self) -> None:
        object.__setattr__(self, "components", Named(self.components))

    # -- precision ------------------------------------------------------------
    @cached_property
    def required_adc_bits(self) -> int:
        """Bits an ADC needs to convert a column sum without loss (ISAAC's rule, docs/model.md)."""
        flipped = self.weight_encoding == "offset"
        return required_adc_bits(self.rows, self.dac_bits, self.cell_bits, flipped)

    @cached_property
    def adc_resolution(self) -> int:
        """The ADC bits in force: the requirement under ``auto``, else ``adc_bits``."""
        return self.required_adc_bits if self.adc_bits == "auto" else int(self.adc_bits)

    @property
    def lost_bits(self) -> int:
        """Low bits of every column sum the ADC drops (0 unless ``adc_bits_truncate``)."""
        return max(0, self.required_adc_bits - self.adc_resolution)

    @property
    def moves_data(self) -> bool:
        """Whether data movement costs anything (``interconnect`` is not ``ideal``)."""
        return self.interconnect != "ideal"

    @property
    def digital_units(self) -> bool:
        """Whether digital work takes time and products may run on MAC units (``digital: units``)."""
        return self.digital != "ideal"

    @cached_property
    def mac_units_per_tile(self) -> int:
        """Digital MAC units in one tile: ``mac_units_per_ima`` × IMAs (ISAAC: 24)."""
        return self.mac_units_per_ima * self.imas_per_tile

    @cached_property
    def clock_ps(self) -> Fraction:
        """One clock of the digital units, in ps (exact)."""
        return 1000 / Fraction(str(self.clock_ghz))

    @cached_property
    def link_bits_per_ps(self) -> Fraction:
        """Bandwidth between two neighbouring chips, one direction, in bits per ps (exact).

        A chip's links are split evenly between its two neighbours of the chain
        or ring: ISAAC's 4 links of 6.4 GB/s give 12.8 GB/s = 0.1024 bits/ps.
        """
        per_neighbour = Fraction(self.links_per_chip, 2)
        return per_neighbour * Fraction(str(self.link_gbps)) * 8 / 1000

    @cached_property
    def routers_per_chip(self) -> int:
        """Routers of one chip's mesh: one per ``tiles_per_router`` tiles, rounded up."""
        return -(-self.tiles_per_chip // self.tiles_per_router)

    @cached_property
    def mesh_width(self) -> int:
        """Routers in one row of the mesh: the square root of the routers, rounded up."""
        return math.isqrt(self.routers_per_chip - 1) + 1

    @cached_property
    def edram_bits_per_ps(self) -> Fraction:
        """One tile's eDRAM bandwidth: its bus width × clock, in bits per ps (exact)."""
        return Fraction(self.bus_bits) * Fraction(str(self.clock_ghz)) / 1000

    @property
    def edram_bits(self) -> int:
        """One tile's eDRAM capacity, in bits."""
        return self.edram_kb * 1024 * 8

    @property
    def warnings(self) -> tuple[str, ...]:
        """What every output must say about this chip (a truncating ADC)."""
        if not self.lost_bits:
            return ()
        return (
            f"precision lost: {self.adc_resolution}-bit ADCs drop {self.lost_bits} low"
            f" bit{'s' if self.lost_bits != 1 else ''} of every column sum (an MVM over"
            f" {self.rows} rows of {self.cell_bits}-bit cells with {self.dac_bits}-bit inputs"
            f" needs {self.required_adc_bits})",
        )

    # -- derived geometry ---------------------------------------------------
    @cached_property
    def slices(self) -> int:
        """Columns (or arrays, for ``split``) one weight occupies: ceil(weight/cell bits)."""
        base = math.ceil(self.weight_bits / self.cell_bits)
        return base * (2 if self.weight_encoding == "differential" else 1)

    @cached_property
    def crossbars_per_tile(self) -> int:
        """Crossbars in one tile: its IMAs' crossbars.

        ISAAC: 8 per IMA × 12 IMAs = 96.
        """
        return self.crossbars_per_ima * self.imas_per_tile

    @cached_property
    def crossbars_per_chip(self) -> int:
        """Crossbars in one chip.

        ISAAC: 96 per tile × 168 tiles = 16,128.
        """
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
    @cached_property
    def read_ps(self) -> int:
        """One crossbar read (one input bit-slice), in ps."""
        return math.ceil(Fraction(str(self.read_ns)) * 1000)

    @cached_property
    def adc_ps(self) -> int:
        """Time for the crossbar's ADCs to convert all its columns once."""
        samples = math.ceil(self.cols / self.adcs_per_crossbar)
        return math.ceil(Fraction(samples * 1000) / Fraction(str(self.adc_rate_gsps)))

    @cached_property
    def cycle_ps(self) -> int:
        """One input bit-slice through a crossbar: max(read, ADC conversion)."""
        return max(self.read_ps, self.adc_ps)

    @property
    def input_slices(self) -> int:
        """Bit-slices one input takes through the DACs: ceil(input bits / DAC bits)."""
        return math.ceil(self.input_bits / self.dac_bits)

    @property
    def mvm_cycles(self) -> int:
        """Crossbar cycles one full-precision MVM holds its crossbars."""
        return self.input_slices + self.mvm_fill_cycles

    @property
    def onehot_mvm_cycles(self) -> int:
        """Crossbar cycles of a one-hot MVM (embedding lookup): a single bit-slice."""
        return 1 + self.mvm_fill_cycles

    @cached_property
    def write_ps(self) -> int:
        """Writing one crossbar row, in ps."""
        return round(self.write_ns * 1000)

    @cached_property
    def mvm_ps(self) -> int:
        """One full-precision matrix-vector multiply: all input bit-slices (plus any fill)."""
        return self.mvm_cycles * self.cycle_ps

    @cached_property
    def onehot_mvm_ps(self) -> int:
        """A one-hot input (embedding lookup) needs a single bit-slice."""
        return self.onehot_mvm_cycles * self.cycle_ps

    # -- component table ---------------------------------------------------
    @cached_property
    def parts(self) -> Named[Component]:
        """The component table on this configuration: each row scaled by its law, labelled.

        ``components`` holds the rows as given (each at its reference
        configuration); the cost model reads these.
        """
        return Named(tuple(c.resolved(self) for c in self.components))

    def component(self, name: str) -> Component:
        """The component called ``name`` on this configuration (``KeyError`` if none)."""
        return self.parts.named(name)

    def units(self, component: Component) -> float:
        """Units of ``component`` per IMA, tile or chip (the geometry sets some)."""
        if component.count is not None:
            return component.count
        per_crossbar = component.rule.per_crossbar
        if per_crossbar is None:  # the table's own rows always carry a count
            raise ValueError(f"component {component.name}: no count and no geometry rule")
        return self.crossbars_per_ima * per_crossbar(self)

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
            for c in self.parts
        }
        return doc


PRESETS: dict[str, Hardware] = {
    name: Hardware(name=name, **fields) for name, fields in PRESET_FIELDS.items()
}
"""The published chips by name (their data: :mod:`hitm.hardware.presets`)."""
