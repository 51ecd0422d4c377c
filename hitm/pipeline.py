"""The ReRAM pipeline model: the one scorer of any allocation.

Every design, whoever produced it (a solver, a user's copies file, a
baseline), is scored here, so methods are compared on identical terms
(DESIGN.md, "Pipeline model"). A stage holds one inference at a time; the
slowest stage sets the pipeline's period ``T`` and throughput ``1 / T``.
Every design also gets its energy per inference, power and area from the cost
model (:mod:`hitm.costs`, docs/energy.md).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

from hitm.analysis import Analysis
from hitm.budget import Budget
from hitm.costs import DesignCosts, design_costs, digital_costs, layer_costs
from hitm.digital import (
    element_busy_ps,
    on_crossbars,
    on_mac_units,
    product_busy_ps,
    stage_elements,
    with_elements,
)
from hitm.errors import DescriptionError, InfeasibleError, SolverError
from hitm.mesh import router_bits
from hitm.movement import copy_crossbars, edram_busy_ps, layer_hosts, stage_edram_bits
from hitm.optimize.result import SolveResult, Status
from hitm.patterns import per_layer
from hitm.problem import AllocationProblem, build_problem

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Metrics",
    "StageMetrics",
    "baselines",
    "ceiling",
    "cheapest_reaching",
    "check_allocation",
    "evaluate",
    "naive_adcs",
    "naive_copies",
    "unlimited_adcs",
    "unlimited_copies",
    "verified",
    "verify",
]

SECONDS_PER_YEAR = 365.25 * 24 * 3600
PS_PER_S = 10**12


@dataclass(frozen=True)
class LinkMetrics:
    """The link from chip ``chip`` to chip ``chip + 1``: its cut, traffic and busy time.

    On a ring, ``back_bits`` is what it carries the other way (traffic routed
    round the ring), and the ``wrap`` link runs from the last chip to chip 0.
    """

    chip: int
    cut: int  # stage coordinate of the chip boundary
    bits: Fraction  # per inference
    busy_ps: int
    back_bits: Fraction = Fraction(0)
    wrap: bool = False

    @property
    def name(self) -> str:
        return f"link {self.chip}-{0 if self.wrap else self.chip + 1}"


@dataclass(frozen=True)
class StageMetrics:
    """One stage of a scored design."""

    name: str
    kind: str
    members: tuple[str, ...]
    copies: tuple[int, ...]
    crossbars: int
    tiles: int
    busy_ps: int
    utilisation: float  # busy / T: the share of each period this stage works
    adcs: tuple[int, ...] = ()  # ADCs per crossbar of each member
    edram_ps: int = 0  # time its tiles' eDRAM needs per inference (0: data moves free)
    units: tuple[int, ...] = ()  # digital MAC units of each member (0: on crossbars)
    elements_ps: int = 0  # its softmax, layer norm and GELU on activation units


@dataclass(frozen=True)
class Metrics:
    """A scored design: per-stage figures and whole-pipeline figures.

    ``costs`` holds its energy per inference (by component), average power at
    its throughput, area and efficiency (:class:`hitm.costs.DesignCosts`),
    computed from ``analysis`` when first asked for.
    """

    stages: tuple[StageMetrics, ...]
    bottleneck_ps: int
    bottleneck_stage: str
    latency_ps: int
    crossbars_used: int
    tiles_used: int
    chips_used: int
    usage: Mapping[str, int]
    capacity: Mapping[str, int]
    analysis: Analysis = field(repr=False, compare=False)
    links: tuple[LinkMetrics, ...] = ()
    cuts: tuple[int, ...] = ()
    chip_crossbars: tuple[int, ...] = ()
    # What sets the period: "stage" (its crossbars), "edram" (its tiles' eDRAM
    # bandwidth) or "link" (a chip-to-chip link).
    bottleneck_kind: str = "stage"
    noc_bits: float = 0  # bits through on-chip routers per inference
    # Each weight layer's busy time with its copies, ADCs or MAC units (what latency sums).
    layer_busy_ps: Mapping[str, int] = field(default_factory=dict)

    @property
    def stage_chips(self) -> tuple[tuple[int, int], ...]:
        """Per stage, the first and last chip its crossbars lie on (placed designs only)."""
        if not self.chip_crossbars:
            return ()
        ends = list(itertools.accumulate(self.chip_crossbars))
        spans, start = [], 0
        for stage in self.stages:
            end = start + stage.crossbars
            first = next(c for c, e in enumerate(ends) if e > start or c == len(ends) - 1)
            last = next(c for c, e in enumerate(ends) if e >= end)
            spans.append((first, max(first, last)))
            start = end
        return tuple(spans)

    @property
    def link_bits(self) -> Fraction:
        """Bits per inference over chip-to-chip links (a bit crossing two links counts twice)."""
        return sum((link.bits + link.back_bits for link in self.links), Fraction(0))

    @property
    def throughput_per_s(self) -> float:
        return PS_PER_S / self.bottleneck_ps if self.bottleneck_ps else float("inf")

    @property
    def fits(self) -> bool:
        return all(self.usage[r] <= self.capacity[r] for r in self.capacity)

    @property
    def copies(self) -> dict[str, int]:
        return {m: d for s in self.stages for m, d in zip(s.members, s.copies, strict=True)}

    @property
    def adcs(self) -> dict[str, int]:
        return {m: a for s in self.stages for m, a in zip(s.members, s.adcs, strict=True)}

    @property
    def units(self) -> dict[str, int]:
        """Digital MAC units of each product computed on them (the others are absent)."""
        return {m: u for s in self.stages for m, u in zip(s.members, s.units, strict=True) if u}

    @property
    def has_mac_units(self) -> bool:
        """Whether the design's model has MAC units (``digital: units`` with a product)."""
        return "mac_units" in self.capacity

    def stage_rows(self) -> list[dict[str, object]]:
        """Each stage as a plain dict: ``name``, ``kind``, ``members``, ``copies`` and
        ``adcs`` (one per member), ``crossbars``, ``busy_ps``, ``utilisation`` (busy
        over the period). The rows of ``--json``'s ``stages`` and of :meth:`to_dataframe`.
        With MAC units modelled, also ``mac_units`` (one per member, 0 on crossbars)
        and ``elements_ps`` (its softmax, layer norm and GELU)."""
        rows = []
        for s in self.stages:
            row = {
                "name": s.name,
                "kind": s.kind,
                "members": list(s.members),
                "copies": list(s.copies),
                "adcs": list(s.adcs),
                "crossbars": s.crossbars,
                "busy_ps": s.busy_ps,
                "utilisation": s.utilisation,
            }
            if self.has_mac_units:
                row["mac_units"] = list(s.units)
                row["elements_ps"] = s.elements_ps
            rows.append(row)
        return rows

    def to_dataframe(self) -> pd.DataFrame:
        """One row per stage, in pipeline order (pandas is imported only here): the
        columns of :meth:`stage_rows` and ``bottleneck`` (whether it sets the period)."""
        import pandas as pd

        frame = pd.DataFrame(self.stage_rows())
        frame["bottleneck"] = frame["name"] == self.bottleneck_stage
        return frame

    @property
    def written_cells(self) -> int:
        """ReRAM cell writes per inference: every copy of every product of two activations
        rewrites its operand (once per step inside a decoder loop)."""
        copies = self.copies
        return sum(
            copies[layer.name] * layer.written_cells * layer.rewrites
            for layer in self.analysis.weight_layers
            if layer.rewrites
        )

    @property
    def lifetime_years(self) -> float | None:
        """Years until the most rewritten cell wears out at this throughput (None: no writes).

        A cell of a written operand is rewritten ``rewrites`` times per
        inference, one inference leaves every period ``T``: it lasts
        ``endurance_writes × T / rewrites``.
        """
        copies = self.copies
        rewrites = max(
            (layer.rewrites for layer in self.analysis.weight_layers if copies[layer.name]),
            default=0,
        )
        if not rewrites:
            return None
        hw = self.analysis.hardware
        seconds = hw.endurance_writes * self.bottleneck_ps / PS_PER_S / rewrites
        return seconds / SECONDS_PER_YEAR

    @cached_property
    def costs(self) -> DesignCosts:
        """Energy per inference, power at this throughput, area and efficiency."""
        return design_costs(
            self.analysis,
            self.bottleneck_ps,
            self.tiles_used,
            self.chips_used,
            area_um2=int(self.usage["area_um2"]),
            written_cells=self.written_cells,
            on_mac_units=tuple(self.units),
            link_bits=self.link_bits,
            noc_bits=self.noc_bits,
        )


def naive_copies(problem: AllocationProblem) -> dict[str, int]:
    """One copy of every weight layer."""
    return {m: 1 for stage in problem.stages for m in stage.members}


def unlimited_copies(problem: AllocationProblem) -> dict[str, int]:
    """Every layer at its fastest: one copy per independent MVM (no budget)."""
    return {layer.name: layer.parallel for layer in problem.analysis.weight_layers}


def naive_units(problem: AllocationProblem) -> dict[str, int]:
    """One MAC unit for each product that must run on MAC units (``implementation: digital``)."""
    hw = problem.analysis.hardware
    return {
        m.name: 1
        for m in problem.analysis.weight_layers
        if on_mac_units(m, hw) and not on_crossbars(m, hw)
    }


def unlimited_units(problem: AllocationProblem) -> dict[str, int]:
    """MAC units of each product that is fastest on them: one per dot product of a round."""
    hw = problem.analysis.hardware
    units = {}
    for m in problem.analysis.weight_layers:
        if not on_mac_units(m, hw):
            continue
        widest = m.widest
        digital = int(product_busy_ps(hw, m, np.array([widest]))[0])
        if not on_crossbars(m, hw) or digital < m.busy_ps(m.parallel):
            units[m.name] = widest
    return units


def naive_adcs(problem: AllocationProblem) -> dict[str, int]:
    """The fewest ADCs per crossbar the design space offers, for every layer."""
    return dict.fromkeys(naive_copies(problem), min(problem.adc_choices))


def unlimited_adcs(problem: AllocationProblem) -> dict[str, int]:
    """The fewest ADCs per crossbar that reach the shortest cycle, for every layer."""
    best = min(problem.adc_choices, key=lambda a: (problem.cycle_ps(a), a))
    return dict.fromkeys(naive_copies(problem), best)


def check_allocation(
    problem: AllocationProblem,
    copies: Mapping[str, int],
    adcs: Mapping[str, int] | None = None,
    units: Mapping[str, int] | None = None,
) -> list[str]:
    """Solver-independent check of an allocation; returns every violation found.

    Checks that every weight layer has an integer copy count between 1 and
    its parallel work (or MAC units, for a product computed on them) and an
    ADC count the design space offers, that no unknown layer is named, and
    that the design fits every budgeted resource.
    """
    adcs = naive_adcs(problem) if adcs is None else adcs
    units = naive_units(problem) if units is None else units
    copies = _digital_copies(copies, units)
    problems = _argument_problems(problem, copies, adcs, units)
    if problems:
        return problems
    return _budget_problems(_score(problem, copies, adcs, units))


def _digital_copies(copies: Mapping[str, int], units: Mapping[str, int]) -> dict[str, int]:
    """Copies with every layer given MAC units at 0 copies (its units take precedence)."""
    return {**copies, **{m: 0 for m, u in units.items() if u}}


def _budget_problems(metrics: Metrics) -> list[str]:
    """Every budgeted resource a scored design exceeds."""
    return [
        f"budget: uses {metrics.usage[r]:,} {r}, {metrics.usage[r] - metrics.capacity[r]:,}"
        f" over the {metrics.capacity[r]:,} available"
        for r in metrics.capacity
        if metrics.usage[r] > metrics.capacity[r]
    ]


def _argument_problems(
    problem: AllocationProblem,
    copies: Mapping[str, int],
    adcs: Mapping[str, int],
    units: Mapping[str, int] | None = None,
) -> list[str]:
    """Every copy, ADC or MAC unit count that is missing, unknown or out of range."""
    units = units or {}
    problems = []
    hw = problem.analysis.hardware
    weight = {m.name: m for m in problem.analysis.weight_layers}
    for name, u in units.items():
        layer = weight.get(name)
        if layer is None:
            problems.append(f"units.{name}: not a weight layer of this network")
            continue
        if not on_mac_units(layer, hw):
            why = (
                "the hardware's digital is ideal"
                if not hw.digital_units
                else "not a product of two activations that may use them"
            )
            problems.append(f"units.{name}: cannot run on MAC units ({why})")
            continue
        widest = layer.widest
        if isinstance(u, bool) or not isinstance(u, int | np.integer):
            problems.append(f"units.{name}: expected an integer, got {u!r}")
        elif not 1 <= u <= widest:
            problems.append(
                f"units.{name}: must be between 1 and {widest:,} (its dot products per round),"
                f" got {u}"
            )
    for layer in weight.values():
        if not on_crossbars(layer, hw) and not units.get(layer.name):
            problems.append(f"units.{layer.name}: missing (its implementation is digital)")
    for name, a in adcs.items():
        if a not in problem.adc_choices:
            choices = ", ".join(map(str, problem.adc_choices))
            problems.append(
                f"adcs.{name}: {a!r} ADCs per crossbar is not offered (choices: {choices})"
            )
    layers = {layer.name: layer for layer in problem.analysis.weight_layers}
    for name in copies:
        if name not in layers:
            problems.append(f"copies.{name}: not a weight layer of this network")
    for name, layer in layers.items():
        d = copies.get(name)
        if d is None:
            problems.append(f"copies.{name}: missing")
        elif isinstance(d, bool) or not isinstance(d, int | np.integer):
            problems.append(f"copies.{name}: expected an integer, got {d!r}")
        elif d == 0 and units.get(name):
            continue  # computed on MAC units
        elif d == 0 and on_mac_units(layer, hw):
            problems.append(
                f"copies.{name}: 0 copies; a product computed on MAC units needs its units"
                " (units=...)"
            )
        elif not 1 <= d <= layer.parallel:
            problems.append(
                f"copies.{name}: must be between 1 and {layer.parallel:,} (its parallel work), got {d}"
            )
    problems += [f"adcs.{name}: missing" for name in layers if name not in adcs]
    return problems


def evaluate(
    problem: AllocationProblem,
    copies: Mapping[str, int],
    adcs: Mapping[str, int] | None = None,
    *,
    units: Mapping[str, int] | None = None,
    cuts: Sequence[int] | None = None,
) -> Metrics:
    """Score an allocation (copies per weight layer) with the pipeline model.

    Parameters
    ----------
    problem
        The allocation problem (stages, resources, budget).
    copies
        Copies of each weight layer's weights, ``1 <= copies <= parallel``; keys
        may also be ``default`` and glob patterns (``"encoder.layer4.*": 2``,
        :func:`hitm.patterns.per_layer`).
    adcs
        ADCs per crossbar of each weight layer (design mode), keyed as
        ``copies``; by default the fewest the design space offers (the
        hardware's own outside design mode).
    units
        Digital MAC units of each product of two activations computed on them
        (``digital: units``); such a layer's copies are ignored. By default
        none, except one unit for products whose implementation is ``digital``.
    cuts
        Where the chip boundaries fall (stage coordinates, ``chips − 1`` of
        them) when data movement costs something; by default the placement
        with the least period for these copies.

    Returns
    -------
    Metrics
        Per-stage busy times and utilisation, the bottleneck, latency,
        resources used, and energy, power and area (``costs``); ``fits``
        tells whether the budget holds it.

    Raises
    ------
    DescriptionError
        If a layer is missing, unknown, or has an out-of-range copy count.
    """
    names = [layer.name for layer in problem.analysis.weight_layers]
    bad: list[str] = []
    copies = per_layer(copies, names, "copies", bad)
    adcs = naive_adcs(problem) if adcs is None else per_layer(adcs, names, "adcs", bad)
    units = naive_units(problem) if units is None else dict(units)
    copies = _digital_copies(copies, units)
    bad += _argument_problems(problem, copies, adcs, units)
    if bad:
        raise DescriptionError(bad)
    return _score(problem, copies, adcs, units, cuts)


def _per_stage(problem: AllocationProblem, what: str, count) -> list[int]:
    """``count(analysis, hosts, n_stages)`` for this problem's stages, once per analysis."""
    analysis = problem.analysis
    key = (what, tuple(s.members for s in problem.stages))
    cached = analysis.derived.get(key)
    if cached is None:
        stage_of = {m: k for k, s in enumerate(problem.stages) for m in s.members}
        hosts = layer_hosts(analysis, stage_of)
        cached = analysis.derived[key] = count(analysis, hosts, len(problem.stages))
    return cached


def _score(
    problem: AllocationProblem,
    copies: Mapping[str, int],
    adcs: Mapping[str, int],
    units: Mapping[str, int] | None = None,
    cuts: Sequence[int] | None = None,
) -> Metrics:
    analysis = problem.analysis
    hw = analysis.hardware
    units = units or {}
    per_tile = hw.crossbars_per_tile
    layer_busy: dict[str, int] = {}
    keys = ("power_uw", "area_um2", "adcs") + (("mac_units",) if problem.has_mac_units else ())
    totals = dict.fromkeys(keys, 0)
    edram_bits = (
        _per_stage(problem, "stage_edram_bits", stage_edram_bits) if hw.moves_data else None
    )
    passes = _per_stage(problem, "stage_elements", stage_elements) if hw.digital_units else None
    rows = []
    compute_of: dict[str, int] = {}
    edram_of: dict[str, int] = {}
    elements_of: dict[str, int] = {}
    for k, stage in enumerate(problem.stages):
        busy = crossbars = tiles = 0
        for m in stage.members:
            layer, d, a, u = analysis.layer(m), int(copies[m]), int(adcs[m]), int(units.get(m, 0))
            if u:
                layer_busy[m] = int(product_busy_ps(hw, layer, np.array([u]))[0])
                busy += layer_busy[m]
                continue
            layer_busy[m] = layer.busy_at_cycle_ps(d, problem.cycle_ps(a))
            busy += layer_busy[m]
            costs = layer_costs(hw, copy_crossbars(analysis, m), [d], a)
            crossbars += int(costs["crossbars"][0])
            tiles += int(costs["tiles"][0])
            for key in totals:
                totals[key] += int(costs[key][0])
        # A loop's products take its MAC units in turn: the stage holds the largest count.
        stage_units = max((int(units.get(m, 0)) for m in stage.members), default=0)
        if stage_units:
            costs = digital_costs(hw, [stage_units])
            for key in totals:
                totals[key] += int(costs[key][0])
        edram = edram_busy_ps(hw, edram_bits[k], crossbars) if edram_bits is not None else 0
        elements = 0
        if passes is not None and passes[k]:
            elements = int(element_busy_ps(hw, passes[k], [crossbars], [stage_units])[0])
        total = int(with_elements(busy, elements, stage.is_loop))
        rows.append((stage, max(total, edram), crossbars, tiles, edram, elements))
        compute_of[stage.name], edram_of[stage.name] = busy, edram
        elements_of[stage.name] = elements
    stage_period = max((row[1] for row in rows), default=0)
    links, cuts = _links(problem, copies, rows, cuts)
    period = max([stage_period, *(link.busy_ps for link in links)])
    tied = [row[0] for row in rows if row[1] == period]
    fastest_cycle = min(problem.cycle_ps(a) for a in problem.adc_choices)

    def fastest(m: str) -> bool:
        # At its fastest: more copies, ADCs or MAC units could not shorten it.
        layer = analysis.layer(m)
        if units.get(m):
            return units[m] >= layer.widest
        return int(copies[m]) >= layer.parallel and problem.cycle_ps(int(adcs[m])) == fastest_cycle

    def capped(stage) -> bool:
        return all(fastest(m) for m in stage.members)

    # Of stages tied at T, name one nothing can speed up: it is what caps the pipeline.
    # A link binds only if it is slower than every stage.
    if tied:
        first = next((s for s in tied if capped(s)), tied[0])
        # A stage whose eDRAM takes longer than its crossbars: its tiles' buffers bind.
        kind = "edram" if edram_of[first.name] == period > compute_of[first.name] else "stage"
        if not first.is_loop and elements_of[first.name] == period > compute_of[first.name]:
            kind = "digital"  # its softmax, layer norm or GELU on its activation units
        bottleneck = first.name
    else:
        bottleneck, kind = next(link.name for link in links if link.busy_ps == period), "link"
    stages = tuple(
        StageMetrics(
            s.name,
            s.kind,
            s.members,
            tuple(int(copies[m]) for m in s.members),
            crossbars,
            tiles,
            busy,
            busy / period if period else 0.0,
            tuple(int(adcs[m]) for m in s.members),
            edram,
            tuple(int(units.get(m, 0)) for m in s.members),
            elements,
        )
        for s, busy, crossbars, tiles, edram, elements in rows
    )
    crossbars_used = sum(s.crossbars for s in stages)
    # Layers may share a tile unless the hardware forbids it.
    tiles_used = -(-crossbars_used // per_tile) if hw.share_tiles else sum(s.tiles for s in stages)
    chips_used = -(-tiles_used // hw.tiles_per_chip)
    chip_crossbars: tuple[int, ...] = ()
    if problem.placement is not None and cuts is not None:
        bounds = [0, *cuts, crossbars_used]
        chip_crossbars = tuple(b - a for a, b in itertools.pairwise(bounds))
        chips_used = max((c + 1 for c, n in enumerate(chip_crossbars) if n), default=1)
    usage = {"crossbars": crossbars_used, "tiles": tiles_used, **totals}
    capacity = problem.capacities()
    used = {"crossbars_used": crossbars_used, "tiles_used": tiles_used, "chips_used": chips_used}
    return Metrics(
        stages,
        period,
        bottleneck,
        _latency(problem, layer_busy),
        usage=usage,
        capacity=capacity,
        analysis=analysis,
        links=links,
        cuts=tuple(cuts or ()),
        chip_crossbars=chip_crossbars,
        bottleneck_kind=kind,
        noc_bits=_noc_bits(problem, [row[2] for row in rows], cuts),
        layer_busy_ps=MappingProxyType(layer_busy),
        **used,
    )


def _noc_bits(problem: AllocationProblem, crossbars: list[int], cuts: list[int] | None) -> int:
    """Bits through on-chip routers per inference: the mesh's hops (:mod:`hitm.mesh`)."""
    place = problem.placement
    if place is None:
        return 0
    hw = problem.analysis.hardware
    return router_bits(hw, place.source, place.flow, crossbars, cuts or (), place.chip_capacity)


def _links(problem: AllocationProblem, copies, rows, cuts):
    """Every link's traffic and busy time under ``cuts`` (the best cuts when None)."""
    place = problem.placement
    if place is None:
        return (), None
    from formulations.placement import cut_traffic
    from formulations.placement import period as placed_period
    from hitm.optimize.placement import best_cuts

    busy = [row[1] for row in rows]
    crossbars = [row[2] for row in rows]
    per_stage = [1 if s.is_loop else int(copies[s.members[0]]) for s, *_ in rows]  # as placed
    if cuts is None:
        if sum(crossbars) > place.chips * place.chip_capacity:
            # More than the chain holds (the unlimited design): no cuts to price, the
            # stages alone bound it.
            return (), None
        cuts = best_cuts(place, busy, crossbars, per_stage)
        if cuts is None:
            raise DescriptionError(
                f"copies: the design's stages do not fit {place.chips} chip"
                f"{'s' if place.chips != 1 else ''} of {place.chip_capacity:,} crossbars"
            )
    try:  # each validates the cuts
        if problem.analysis.hardware.topology == "ring":
            return _ring_links(place, busy, crossbars, per_stage, cuts), list(cuts)
        _, link_busy = placed_period(place, busy, crossbars, per_stage, cuts)
    except ValueError as exc:
        raise SolverError(f"placement: {exc}") from None
    links = tuple(
        LinkMetrics(c, int(q), cut_traffic(place, crossbars, per_stage, int(q)), b)
        for c, (q, b) in enumerate(zip(cuts, link_busy, strict=True))
    )
    return links, list(cuts)


def _ring_links(place, busy, crossbars, per_stage, cuts) -> tuple[LinkMetrics, ...]:
    """The links of a ring, each piece of traffic routed the way that gives the least period."""
    from formulations.placement import link_busy
    from formulations.ring import ring_routes

    routes = ring_routes(place, busy, crossbars, per_stage, cuts)
    forward = [
        LinkMetrics(c, int(q), bits, link_busy(place, bits), back)
        for c, (q, bits, back) in enumerate(zip(cuts, routes.forward, routes.backward, strict=True))
    ]
    wrap = LinkMetrics(
        place.chips - 1, int(sum(crossbars)), routes.wrap, link_busy(place, routes.wrap), wrap=True
    )
    return (*forward, wrap) if place.chips > 1 else ()


def _latency(problem: AllocationProblem, layer_busy: Mapping[str, int]) -> int:
    """Critical path of busy times through the layer DAG, each loop contracted to one node."""
    group, order = problem.analysis.loop_dag()
    weight: dict[str, int] = {}
    for name, busy in layer_busy.items():
        weight[group[name]] = weight.get(group[name], 0) + busy
    finish: dict[str, int] = {}
    for node, preds in order:
        start = max((finish[p] for p in preds), default=0)
        finish[node] = start + weight.get(node, 0)
    return max(finish.values(), default=0)


def verify(problem: AllocationProblem, result: SolveResult) -> Metrics | None:
    """Check a solver's allocation and score it; None if the result has none.

    Trusts nothing the solver says: the allocation is checked against every
    budgeted resource and its bottleneck recomputed by this model.

    Raises
    ------
    SolverError
        If the allocation breaks the budget or its bottleneck differs from
        what the solver reported: a bug, never rounding.
    """
    if result.copies is None:
        return None
    adcs = result.adcs if result.adcs is not None else naive_adcs(problem)
    units = result.units or {}
    copies = _digital_copies(result.copies, units)
    problems = _argument_problems(problem, copies, adcs, units)
    metrics = None if problems else _score(problem, copies, adcs, units, result.cuts)
    if metrics is not None:
        problems = _budget_problems(metrics)
    if problems or metrics is None:
        raise SolverError(f"{result.label} returned an invalid allocation: {'; '.join(problems)}")
    if metrics.bottleneck_ps != result.bottleneck_ps:
        raise SolverError(
            f"{result.label} reported bottleneck {result.bottleneck_ps} ps but the pipeline"
            f" model computes {metrics.bottleneck_ps} ps"
        )
    return metrics


def verified(problem: AllocationProblem, result: SolveResult) -> Metrics:
    """The checked and scored design of ``result``, or the error a user should see.

    Raises
    ------
    InfeasibleError
        If the result proves the budget infeasible (its message says why).
    SolverError
        If there is no allocation for another reason, or the allocation is invalid.
    """
    metrics = verify(problem, result)
    if metrics is not None:
        return metrics
    if result.status == Status.INFEASIBLE:
        raise InfeasibleError(f"{result.label}: infeasible: {result.message}")
    raise SolverError(f"{result.label}: {result.status}: {result.message or 'no allocation found'}")


def baselines(problem: AllocationProblem) -> tuple[Metrics, Metrics]:
    """The naive design and the unlimited optimum (fastest copies, ADCs and MAC units, no budget)."""
    unlimited = evaluate(
        problem,
        unlimited_copies(problem),
        unlimited_adcs(problem),
        units=unlimited_units(problem),
    )
    return evaluate(problem, naive_copies(problem)), unlimited


def ceiling(problem: AllocationProblem, unlimited: Metrics) -> Metrics | None:
    """The cheapest design that reaches the unlimited throughput, without a budget.

    The unlimited design puts every layer at its fastest (a copy per independent
    MVM); most layers reach its bottleneck with far fewer copies. Each stage
    takes its cheapest option (crossbars first) meeting that bottleneck: the
    frontier's ceiling point. None with data movement priced (links make the
    period depend on the placement, which the frontier does not model).
    """
    if problem.placement is not None:
        return None
    # The budget's own problem may leave out the copy counts the ceiling needs.
    free = build_problem(
        problem.analysis,
        Budget(crossbars=_holding(problem, unlimited)),
        design=problem.design,
    )
    cheapest = cheapest_reaching(free, unlimited.bottleneck_ps)
    return evaluate(problem, cheapest.copies, cheapest.adcs, units=cheapest.units)


def _holding(problem: AllocationProblem, design: Metrics) -> int:
    """Crossbars whose tiles hold ``design``'s crossbars and its MAC units."""
    hw = problem.analysis.hardware
    units = design.usage.get("mac_units", 0)
    tiles = -(-units // hw.mac_units_per_tile) if units else 0
    return max(design.usage["crossbars"], tiles * hw.crossbars_per_tile, 1)


def cheapest_reaching(problem: AllocationProblem, bottleneck_ps: int) -> Metrics:
    """The cheapest design (crossbars first) whose bottleneck is at most ``bottleneck_ps``.

    The bottleneck is a maximum over stages, so each stage takes its cheapest
    option meeting it. ``problem`` must keep every option that does (a budget
    holding the unlimited design, as :func:`ceiling` builds).
    """
    choice = []
    for stage in problem.stages:
        meets = np.flatnonzero(stage.busy_ps <= bottleneck_ps)
        cheapest = np.lexsort(stage.cost[meets].T[::-1])[0]  # crossbars, then the rest
        choice.append(int(meets[cheapest]))
    return evaluate(
        problem, problem.copies_of(choice), problem.adcs_of(choice), units=problem.units_of(choice)
    )
