"""The cost model: component-table totals, peak figures, and energy per inference.

Power and area come from the hardware's component table
(:class:`hitm.hardware.Component`). Energy per inference is the work a network
does, counted from the static analysis (crossbar cycles, driven rows, ADC
conversions, digital elements, bytes through eDRAM), times per-event energies
derived from the table and the timing model, plus the static (leakage) power of
the hardware a design occupies over one pipeline period. The work does not
depend on copy counts: copies split the same MVMs. The equations, and what
they leave out, are in docs/energy.md.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from types import MappingProxyType

import numpy as np

from hitm.analysis import Analysis, LayerDemand
from hitm.description.model import Layer
from hitm.description.ops import RECURRENT_GATES
from hitm.digital import PASSES
from hitm.hardware import CHARGES, GROUPS, Charge, Component, Hardware, groups_of
from hitm.resources import RESOURCES

__all__ = [
    "GROUPS",
    "CostRow",
    "CostTable",
    "DesignCosts",
    "Work",
    "cost_table",
    "crossbar_share",
    "design_costs",
    "digital_costs",
    "event_energy_pj",
    "inference_work",
    "layer_costs",
    "layer_work",
    "work_energy_pj",
]

PJ_PER_J = 10**12

ACTIVATION_OPS = frozenset({"relu", "relu6", "sigmoid", "tanh", "softmax", "lrn", "gelu"})
POOL_OPS = frozenset({"maxpool", "avgpool", "global_avgpool", "argmax"})
ARITHMETIC_OPS = frozenset({"add", "mul", "batchnorm", "layernorm"})
# Ops that only re-address data already in eDRAM: no unit works, nothing moves.
# A learned tensor (param) is read where it is used: its consumer moves it.
LAYOUT_OPS = frozenset(
    {"flatten", "reshape", "identity", "dropout", "concat", "slice", "tokens", "param"}
)


# -- the component table ---------------------------------------------------------


@dataclass(frozen=True)
class CostRow:
    """One component of a hardware's cost table, its count resolved."""

    component: Component
    count: float
    event_pj: float  # dynamic energy per event it is charged for

    @property
    def power_mw(self) -> float:
        return self.count * self.component.power_mw

    @property
    def area_mm2(self) -> float:
        return self.count * self.component.area_mm2


@dataclass(frozen=True)
class CostTable:
    """A hardware's component table with its totals and peak figures.

    Totals: an IMA is its components; a tile is its components plus
    ``imas_per_tile`` IMAs; a chip is ``tiles_per_chip`` tiles plus its
    chip-level components (the links).
    """

    hardware: Hardware
    rows: tuple[CostRow, ...]
    # Totals per IMA, tile, chip-level links and chip, set from the rows.
    ima_power_mw: float = field(init=False)
    ima_area_mm2: float = field(init=False)
    tile_power_mw: float = field(init=False)
    tile_area_mm2: float = field(init=False)
    links_power_mw: float = field(init=False)
    links_area_mm2: float = field(init=False)
    chip_power_mw: float = field(init=False)
    chip_area_mm2: float = field(init=False)

    def __post_init__(self) -> None:
        hw = self.hardware
        for unit in ("power_mw", "area_mm2"):
            ima = self._sum("ima", unit)
            tile = self._sum("tile", unit) + hw.imas_per_tile * ima
            links = self._sum("chip", unit)  # ISAAC: the HyperTransport links
            chip = hw.tiles_per_chip * tile + links
            for level, total in (("ima", ima), ("tile", tile), ("links", links), ("chip", chip)):
                object.__setattr__(self, f"{level}_{unit}", total)

    def _sum(self, level: str, attr: str) -> float:
        return sum(getattr(r, attr) for r in self.rows if r.component.level == level)

    @property
    def macs_per_crossbar_mvm(self) -> int:
        """MACs one crossbar does per MVM: its rows × the weights its columns hold."""
        hw = self.hardware
        return hw.rows * hw.cols // hw.slices

    @property
    def peak_macs_per_s(self) -> float:
        """Every crossbar of one chip doing full MVMs back to back."""
        hw = self.hardware
        return hw.crossbars_per_chip * self.macs_per_crossbar_mvm * PJ_PER_J / hw.mvm_ps

    @property
    def peak_gops(self) -> float:
        """Peak giga-operations per second (one MAC = 2 operations)."""
        return 2 * self.peak_macs_per_s / 1e9

    @property
    def gops_per_mm2(self) -> float:
        return self.peak_gops / self.chip_area_mm2

    @property
    def gops_per_w(self) -> float:
        return self.peak_gops / (self.chip_power_mw / 1000)

    @property
    def mvm_energy_pj(self) -> float:
        """One MVM of a full ``rows × cols`` matrix of weights at table power.

        Counts the crossbars, DACs, sample-and-holds and ADCs it occupies for
        ``mvm_cycles`` cycles (dynamic plus leakage): PUMA's "MVMU energy".
        """
        hw = self.hardware
        work = _matrix_work(hw, hw.rows, hw.cols, onehot=False)
        dynamic = sum(
            r.event_pj * work.events(r.component.charged_per)
            for r in self.rows
            if r.component.rule.analog
        )
        return dynamic / (1 - hw.static_fraction)


def event_energy_pj(hw: Hardware, component: Component, cycle_ps: int | None = None) -> float:
    """Dynamic energy (pJ) ``component`` spends per event it is charged for.

    A unit's table power splits into leakage (``static_fraction``) and the
    rest, spent only while it works; so a unit busy all the time draws its
    table power: the energy per event is its table power times the time one
    event holds the unit (:data:`hitm.hardware.CHARGES`), less the leakage
    share. ``cycle_ps`` saves recomputing ``hw.cycle_ps``.
    """
    cycle_ns = (hw.cycle_ps if cycle_ps is None else cycle_ps) / 1000
    energy = component.rule.energy_pj(hw, component.power_mw, hw.units(component), cycle_ns)
    return (1 - hw.static_fraction) * energy


def cost_table(hw: Hardware) -> CostTable:
    """The component table of ``hw``: counts resolved, totals, peak figures."""
    cycle_ps = hw.cycle_ps
    return CostTable(
        hw,
        tuple(CostRow(c, hw.units(c), event_energy_pj(hw, c, cycle_ps)) for c in hw.parts),
    )


# -- work per inference ---------------------------------------------------------


@dataclass(frozen=True)
class Work:
    """Events one inference (or one layer of it) causes; what energy is charged for.

    Attributes
    ----------
    crossbar_cycles
        Crossbar activations × cycles each (bit-slices plus any fill).
    row_cycles
        Rows driven by a DAC × cycles.
    conversions
        Columns sampled and converted × cycles.
    outputs
        Partial MVM results the tile adds, and elements of add, mul and batchnorm.
    activations
        Elements through an activation unit (recurrent gates included).
    pooled
        Elements a pooling or argmax layer reads.
    bytes_moved
        Bytes read from and written to eDRAM over the bus.
    """

    crossbar_cycles: int = 0
    row_cycles: int = 0
    conversions: int = 0
    outputs: int = 0
    activations: int = 0
    pooled: int = 0
    bytes_moved: int = 0

    def __add__(self, other: Work) -> Work:
        return Work(*(getattr(self, f) + getattr(other, f) for f in _WORK_FIELDS))

    def scaled(self, factor: int) -> Work:
        return Work(*(getattr(self, f) * factor for f in _WORK_FIELDS))

    def events(self, charge: Charge) -> int:
        """The count of the events a component charged per ``charge`` is charged for."""
        counted = CHARGES[charge].work
        return 0 if counted is None else getattr(self, counted)


_WORK_FIELDS = tuple(f.name for f in fields(Work))


def _matrix_work(hw: Hardware, k: int, n: int, onehot: bool) -> Work:
    """One MVM of a ``k × n`` matrix (a one-hot input drives one row)."""
    col_blocks = hw.matrix_crossbars(1, n)  # crossbars across the outputs, per row block
    row_blocks = 1 if onehot else math.ceil(k / hw.rows)
    driven = 1 if onehot else k
    cycles = hw.onehot_mvm_cycles if onehot else hw.mvm_cycles
    return Work(
        crossbar_cycles=row_blocks * col_blocks * cycles,
        row_cycles=driven * col_blocks * cycles,
        conversions=row_blocks * n * hw.slices * cycles,
        outputs=row_blocks * n,
    )


def _mvm_layer_work(demand: LayerDemand, hw: Hardware, act_bytes: int) -> Work:
    onehot = demand.op == "embedding"
    mvms = demand.steps * demand.parallel  # MVMs of each matrix per inference
    work = Work()
    for k, n in demand.matrices:
        work = work + _matrix_work(hw, k, n, onehot)
    gates = 0
    if demand.op in RECURRENT_GATES:  # matrices are (W, R) per direction: W's outputs are gates
        gates = sum(n for _, n in demand.matrices[::2])
    reads = len(demand.matrices) if onehot else sum(k for k, _ in demand.matrices)
    return work.scaled(mvms) + Work(
        activations=mvms * gates,
        bytes_moved=act_bytes * (mvms * reads + demand.elements),
    )


def _digital_layer_work(
    demand: LayerDemand, layer: Layer, repeat: int, act_bytes: int, passes: int = 1
) -> Work:
    if demand.op in LAYOUT_OPS:
        return Work()
    reads = sum(s.elements for s in layer.input_shapes) * repeat
    writes = demand.elements  # already counts every decoder step
    return Work(
        outputs=passes * writes if demand.op in ARITHMETIC_OPS else 0,
        activations=passes * writes if demand.op in ACTIVATION_OPS else 0,
        pooled=reads if demand.op in POOL_OPS else 0,
        bytes_moved=act_bytes * (reads + writes),
    )


def layer_work(analysis: Analysis) -> Mapping[str, Work]:
    """The events each layer causes per inference, by layer name.

    Depends only on the network and the hardware's geometry and timing,
    never on copy counts: counted once per analysis (every design with a
    product on MAC units reads it again).
    """
    cached = analysis.derived.get("layer_work")
    if cached is not None:
        return cached
    hw = analysis.hardware
    act_bytes = math.ceil(hw.input_bits / 8)
    layers = {layer.name: layer for layer in analysis.network.layers}
    repeats = {loop.name: loop.steps for loop in analysis.network.loops}
    work: dict[str, Work] = {}
    for demand in analysis.layers:
        if demand.has_weights:
            work[demand.name] = _mvm_layer_work(demand, hw, act_bytes)
        else:
            repeat = repeats.get(demand.loop, 1) if demand.loop else 1
            # Timed digital units make each op's passes over its elements (hitm.digital).
            passes = PASSES.get(demand.op, 1) if hw.digital_units else 1
            work[demand.name] = _digital_layer_work(
                demand, layers[demand.name], repeat, act_bytes, passes
            )
    analysis.derived["layer_work"] = MappingProxyType(work)
    return analysis.derived["layer_work"]


def inference_work(analysis: Analysis) -> Work:
    """The events one inference causes (the sum over layers), counted once per analysis."""
    cached = analysis.derived.get("inference_work")
    if cached is None:
        cached = Work()
        for w in layer_work(analysis).values():
            cached = cached + w
        analysis.derived["inference_work"] = cached
    return cached


def work_energy_pj(work: Work, hw: Hardware | CostTable) -> dict[str, float]:
    """Dynamic energy (pJ) of ``work`` on a hardware (or its cost table), by component."""
    table = hw if isinstance(hw, CostTable) else cost_table(hw)
    return {
        r.component.name: r.event_pj * work.events(r.component.charged_per)
        for r in table.rows
        if r.component.rule.work is not None
    }


# -- one design ------------------------------------------------------------------


@dataclass(frozen=True)
class DesignCosts:
    """Energy per inference, power, area and efficiency of one design.

    Attributes
    ----------
    components_pj
        Dynamic energy per inference by component (depends only on the work).
    split_pj
        Energy per inference by group (:data:`GROUPS`), static included.
    static_power_w
        Leakage of the tiles the design occupies and of the links of its chips.
    static_pj
        ``static_power × T``: leakage over one pipeline period per inference.
    period_ps
        The pipeline period ``T`` (one inference leaves every ``T``).
    macs
        Multiply-accumulates per inference.
    area_mm2
        The design's area: each crossbar's share of its tile's area, with its
        layer's ADCs (:func:`crossbar_share`), summed; the figure an area
        budget caps and ``hitm pareto -r area`` plots. Chip-level links
        (HyperTransport) are not counted.
    """

    components_pj: Mapping[str, float]
    split_pj: Mapping[str, float]
    static_power_w: float
    static_pj: float
    period_ps: int
    macs: int
    area_mm2: float

    @property
    def dynamic_pj(self) -> float:
        """Dynamic energy per inference, every component's summed."""
        return sum(self.components_pj.values())

    @property
    def energy_pj(self) -> float:
        """Energy per inference: dynamic plus static."""
        return self.dynamic_pj + self.static_pj

    @property
    def power_w(self) -> float:
        """Average power at the design's throughput: energy per inference / T (pJ/ps = W)."""
        return self.energy_pj / self.period_ps if self.period_ps else 0.0

    @property
    def inferences_per_j(self) -> float:
        return PJ_PER_J / self.energy_pj if self.energy_pj else math.inf

    @property
    def gops_per_w(self) -> float:
        """2·MACs per joule, in GOPS/W (ops/pJ × 1,000)."""
        return 2e3 * self.macs / self.energy_pj if self.energy_pj else math.inf

    @property
    def gops_per_mm2(self) -> float:
        """2·MACs × throughput per mm² of the design's area."""
        if not (self.period_ps and self.area_mm2):
            return 0.0
        return 2 * self.macs * (PJ_PER_J / self.period_ps) / 1e9 / self.area_mm2


def design_costs(
    analysis: Analysis,
    period_ps: int,
    tiles_used: int,
    chips_used: int,
    work: Work | None = None,
    *,
    area_um2: int,
    link_bits: float = 0,
    noc_bits: float = 0,
    written_cells: int = 0,
    on_mac_units: Sequence[str] = (),
) -> DesignCosts:
    """Energy, power, area and efficiency of a design.

    Parameters
    ----------
    analysis
        The network's analysis on the hardware (its work per inference).
    period_ps
        The design's pipeline period ``T`` (bottleneck busy time).
    tiles_used, chips_used
        Hardware the design occupies: its static power (unused tiles are
        power-gated; the links of every chip used leak).
    work
        The work per inference, if already counted (:func:`inference_work`).
    area_um2
        The design's area in µm² as its budget counts it (``usage["area_um2"]``).
    written_cells
        ReRAM cells the design writes per inference (every copy of a product of
        two activations rewrites its operand): the ``write`` group, component
        ``cell_writes``; 0 leaves both out.
    on_mac_units
        Products of two activations the design computes on digital MAC units:
        their crossbar work is replaced by their MACs at ``mac_pj`` each
        (component ``mac_units``, group ``digital``).
    link_bits, noc_bits
        Bits per inference over chip-to-chip links (each link a bit crosses
        counts) and through on-chip routers; priced only when data movement
        costs something (``interconnect`` not ``ideal``): the ``link`` and
        ``noc`` energy groups, as the components ``chip_links`` and ``routers``.

    Returns
    -------
    DesignCosts
        Dynamic energy by component (independent of copies), static energy
        ``static power × T``, area and efficiency.
    """
    hw = analysis.hardware
    table = cost_table(hw)
    work = inference_work(analysis) if work is None else work
    macs = 0
    if on_mac_units:
        per_layer = layer_work(analysis)
        for name in on_mac_units:
            w = per_layer[name]  # its activations still move through eDRAM
            work = work + Work(bytes_moved=w.bytes_moved) + w.scaled(-1)
            # Its dot products on MAC units (a causal mask skips the masked scores).
            macs += sum(rep * n * k for rep, n, k in analysis.layer(name).dots)
    dynamic = work_energy_pj(work, table)
    static_mw = hw.static_fraction * (
        tiles_used * table.tile_power_mw + chips_used * table.links_power_mw
    )
    static_pj = static_mw * period_ps / 1000  # mW × ns
    groups = dict.fromkeys(groups_of(hw.moves_data, written_cells > 0), 0.0)
    for c in hw.parts:
        if c.name in dynamic:
            groups[c.rule.group] += dynamic[c.name]
    if hw.moves_data:
        dynamic["chip_links"] = float(link_bits) * hw.link_pj_per_bit
        dynamic["routers"] = float(noc_bits) * hw.router_pj_per_bit
        groups["link"] += dynamic["chip_links"]
        groups["noc"] += dynamic["routers"]
    if macs:
        dynamic["mac_units"] = macs * hw.mac_pj
        groups["digital"] += dynamic["mac_units"]
    if written_cells:
        dynamic["cell_writes"] = written_cells * hw.write_pj_per_cell
        groups["write"] += dynamic["cell_writes"]
    groups["static"] += static_pj
    return DesignCosts(
        components_pj=MappingProxyType(dynamic),
        split_pj=MappingProxyType(groups),
        static_power_w=static_mw / 1000,
        static_pj=static_pj,
        period_ps=period_ps,
        macs=analysis.totals["macs"],
        area_mm2=area_um2 / _UM2_PER_MM2,
    )


# -- what a layer's copies occupy (the budgeted resources) -------------------------

_UW_PER_MW = RESOURCES["power_uw"].from_table
_UM2_PER_MM2 = RESOURCES["area_um2"].from_table


@functools.lru_cache(maxsize=256)
def crossbar_share(hw: Hardware, adcs: int | None = None) -> tuple[float, float]:
    """Provisioned power (mW) and area (mm²) one crossbar stands for, with ``adcs`` ADCs.

    A crossbar's share of its tile: the tile's table power and area (its IMAs
    and tile units) divided by its crossbars, with the ADCs counted per
    crossbar so that a layer may provision more or fewer of them (design
    mode). With the hardware's own ADC count, ``crossbars_per_tile`` shares
    make exactly one tile of the table.
    """
    table = cost_table(hw)
    adc = hw.component("adc")
    adcs_per_tile = hw.imas_per_tile * hw.units(adc)
    base_mw = (table.tile_power_mw - adcs_per_tile * adc.power_mw) / hw.crossbars_per_tile
    base_mm2 = (table.tile_area_mm2 - adcs_per_tile * adc.area_mm2) / hw.crossbars_per_tile
    a = hw.adcs_per_crossbar if adcs is None else adcs
    return base_mw + a * adc.power_mw, base_mm2 + a * adc.area_mm2


def layer_costs(
    hw: Hardware,
    crossbars_per_copy: int,
    copies: Sequence[int] | np.ndarray,
    adcs: int,
    share: tuple[float, float] | None = None,
) -> dict[str, np.ndarray]:
    """Resources ``copies`` copies of a layer occupy with ``adcs`` ADCs per crossbar.

    The one place these costs are computed: the allocation problem and the
    pipeline model's budget check both call it, so they cannot disagree.

    Returns
    -------
    dict
        ``crossbars``, ``tiles`` (if the layer had tiles to itself), ``power_uw``
        and ``area_um2`` (rounded up), and ``adcs``, each an int64 array.
    """
    d = np.asarray(copies, dtype=np.int64)
    crossbars = d * crossbars_per_copy
    # ``share``: crossbar_share(hw, adcs), looked up once by a caller pricing many layers.
    power_mw, area_mm2 = crossbar_share(hw, adcs) if share is None else share
    return {
        "crossbars": crossbars,
        "tiles": -(-crossbars // hw.crossbars_per_tile),
        "power_uw": np.ceil(crossbars * (power_mw * _UW_PER_MW) - 1e-6).astype(np.int64),
        "area_um2": np.ceil(crossbars * (area_mm2 * _UM2_PER_MM2) - 1e-6).astype(np.int64),
        "adcs": crossbars * adcs,
        "mac_units": np.zeros_like(crossbars),
    }


def digital_costs(hw: Hardware, units: Sequence[int] | np.ndarray) -> dict[str, np.ndarray]:
    """Resources a product of two activations occupies on ``units`` digital MAC units.

    No crossbars, tiles or ADCs; the units' provisioned power (``mac_pj`` ×
    clock: one MAC per clock) and area, keyed as :func:`layer_costs`.
    """
    u = np.asarray(units, dtype=np.int64)
    zeros = np.zeros_like(u)
    power_uw = hw.mac_pj * hw.clock_ghz * _UW_PER_MW  # pJ × GHz = mW
    return {
        "crossbars": zeros,
        "tiles": zeros,
        "power_uw": np.ceil(u * power_uw - 1e-6).astype(np.int64),
        "area_um2": np.ceil(u * (hw.mac_area_mm2 * _UM2_PER_MM2) - 1e-6).astype(np.int64),
        "adcs": zeros,
        "mac_units": u,
    }
