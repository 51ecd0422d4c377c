"""Human tables: ``rich`` renderables from analyses, designs, results and frontiers.

Pure functions; the CLI decides where they go.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from hitm.analysis import Analysis
from hitm.budget import Budget
from hitm.costs import CostTable
from hitm.hardware import LEVELS, Hardware, groups_of
from hitm.optimize import SolveResult
from hitm.pipeline import LinkMetrics, Metrics
from hitm.problem import AllocationProblem
from hitm.report.format import (
    fmt_binding,
    fmt_bits,
    fmt_energy,
    fmt_num,
    fmt_pct,
    fmt_power,
    fmt_rate,
    fmt_time,
)

if TYPE_CHECKING:
    from hitm.frontier import Frontier
    from hitm.traffic import Traffic

__all__ = [
    "FRONTIER_ROWS",
    "analysis_table",
    "baselines_table",
    "compare_table",
    "costs_table",
    "design_table",
    "edges_table",
    "frontier_notes",
    "frontier_table",
    "hardware_peak_table",
    "hardware_table",
    "placement_table",
]


def analysis_table(analysis: Analysis, flows: Traffic, all_layers: bool = False) -> Table:
    """Per-layer demand table (weight layers only unless ``all_layers``), with bits in and out.

    The total row sums the columns over the rows shown (``hitm analyze`` prints the
    bits on every edge of the layer DAG below it).
    """
    t = Table(title=f"{analysis.network.name} on {analysis.hardware.name}", title_justify="left")
    for col in (
        "layer",
        "op",
        "output",
        "params",
        "MACs",
        "matrices",
        "crossbars",
        "steps",
        "parallel",
        "naive busy",
        "in",
        "out",
    ):
        t.add_column(
            col, justify="left" if col in ("layer", "op", "output", "matrices") else "right"
        )
    shown = [layer for layer in analysis.layers if layer.has_weights or all_layers]
    for layer in shown:
        mats = sorted(set(layer.matrices))
        matrices = ", ".join(
            f"{layer.matrices.count(m)}×{m[0]}×{m[1]}"
            if layer.matrices.count(m) > 1
            else f"{m[0]}×{m[1]}"
            for m in mats
        )
        t.add_row(
            Text(layer.name).append(f" ({layer.loop})" if layer.loop else "", style="dim"),
            layer.op,
            str(layer.shape),
            f"{layer.params:,}",
            f"{layer.macs:,}",
            matrices,
            f"{layer.crossbars:,}" if layer.has_weights else "",
            f"{layer.steps:,}" if layer.has_weights else "",
            f"{layer.parallel:,}" if layer.has_weights else "",
            fmt_time(layer.busy_ps(1)) if layer.has_weights else "",
            fmt_bits(flows.bits_in(layer.name)),
            fmt_bits(flows.bits_out(layer.name)),
        )
    totals = analysis.totals
    t.add_section()
    t.add_row(
        "total",
        "",
        "",
        f"{totals['params']:,}",
        f"{totals['macs']:,}",
        "",
        f"{totals['crossbars']:,}",
        "",
        "",
        "",
        fmt_bits(sum(flows.bits_in(layer.name) for layer in shown)),
        fmt_bits(sum(flows.bits_out(layer.name) for layer in shown)),
    )
    return t


def edges_table(flows: Traffic) -> Table:
    """Every edge of the DAG and the data it carries per inference."""
    t = Table(title="data flow per inference", title_justify="left")
    for col in ("from", "to", "kind", "data"):
        t.add_column(col, justify="right" if col == "data" else "left")
    for e in flows.edges:
        t.add_row(e.source, e.target, e.kind, fmt_bits(e.bits))
    return t


def design_table(metrics: Metrics, title: str, adcs: bool = False) -> Table:
    """Per-stage table of one design, the bottleneck marked (ADCs per crossbar if ``adcs``).

    A placed design (data movement priced) also shows each stage's chips and
    the time its tiles' eDRAM needs; with MAC units modelled (``digital:
    units``), each stage's MAC units and the time its softmax, layer norm and
    GELU take on its tiles' activation units.
    """
    t = Table(title=title, title_justify="left")
    spans = metrics.stage_chips
    digital = metrics.has_mac_units
    cols = (
        "stage",
        "kind",
        "copies",
        *(("ADCs",) if adcs else ()),
        "crossbars",
        *(("MAC units", "elements") if digital else ()),
        *(("chips", "eDRAM") if spans else ()),
        "busy",
    )
    for col in (*cols, "utilisation"):
        t.add_column(col, justify="left" if col in ("stage", "kind") else "right")
    for k, s in enumerate(metrics.stages):
        mark = s.name == metrics.bottleneck_stage
        copies = "+".join(f"{d:,}" for d in s.copies)
        per = ("+".join(str(a) for a in s.adcs),) if adcs else ()
        units = ()
        if digital:
            units = (
                "+".join(f"{u:,}" for u in s.units) if any(s.units) else "",
                fmt_time(s.elements_ps) if s.elements_ps else "",
            )
        placed = ()
        if spans:
            first, last = spans[k]
            placed = (f"{first}" if first == last else f"{first}–{last}", fmt_time(s.edram_ps))
        t.add_row(
            ("▶ " if mark else "  ") + s.name,
            s.kind,
            copies,
            *per,
            f"{s.crossbars:,}",
            *units,
            *placed,
            fmt_time(s.busy_ps),
            f"{100 * s.utilisation:.1f}%",
            style="bold red" if mark else None,
        )
    return t


def placement_table(metrics: Metrics) -> Table:
    """A placed design's chips and links: crossbars per chip, each link's cut, traffic and busy.

    One row per chip: its crossbars, how full it is, the stages on it; then the
    link to the next chip: the bits per inference crossing it, its busy time
    and its share of the period. The link that sets the period is marked;
    unused chips at the end of the chain share one row. On a ring a column
    gives what each link carries the other way round, and a last row the wrap
    link back to chip 0.
    """
    ring = any(link.wrap for link in metrics.links)
    blank = ("",) * (5 if ring else 4)
    t = Table(title=f"placement: period set by {_bound_by(metrics)}", title_justify="left")
    columns = ["chip", "crossbars", "full", "stages", "link →", "traffic", "busy", "% of T"]
    for col in [*columns, *(["← back"] if ring else [])]:
        t.add_column(col, justify="left" if col == "stages" else "right")
    capacity = metrics.analysis.hardware.crossbars_per_chip
    names = [s.name for s in metrics.stages]
    chips = len(metrics.chip_crossbars)
    used = max((c + 1 for c, n in enumerate(metrics.chip_crossbars) if n), default=1)

    def cells(link: LinkMetrics | None) -> tuple[tuple[str, ...], bool]:
        if link is None:
            return blank, False
        mark = metrics.bottleneck_kind == "link" and link.name == metrics.bottleneck_stage
        share = link.busy_ps / metrics.bottleneck_ps if metrics.bottleneck_ps else 0.0
        row = (
            f"{'▶ ' if mark else ''}{link.name.removeprefix('link ')}",
            fmt_bits(float(link.bits)),
            fmt_time(link.busy_ps),
            fmt_pct(share),
        )
        back = [] if not ring else [""] if link.wrap else [fmt_bits(float(link.back_bits))]
        return (*row, *back), mark

    for c in range(used):
        n = metrics.chip_crossbars[c]
        on = [names[k] for k, (a, b) in enumerate(metrics.stage_chips) if a <= c <= b]
        stages = on[0] if len(on) == 1 else f"{on[0]} … {on[-1]} ({len(on)})" if on else ""
        link = metrics.links[c] if c < len(metrics.links) and c < used - 1 else None
        row, mark = cells(link)
        t.add_row(f"{c}", f"{n:,}", fmt_pct(n / capacity), stages, *row,
                  style="bold red" if mark else None)  # fmt: skip
    if used < chips:
        rest = f"{used}" if used == chips - 1 else f"{used}–{chips - 1}"
        t.add_row(rest, "0", fmt_pct(0), "(unused)", *blank)
    if ring:
        row, mark = cells(metrics.links[-1])
        t.add_row("", "", "", "(round the ring to chip 0)", *row,
                  style="bold red" if mark else None)  # fmt: skip
    return t


_BOUND_NOTE = {"edram": " (eDRAM)", "digital": " (softmax/norm units)"}


def _bound_by(metrics: Metrics) -> str:
    """What sets the period, in words: a stage's crossbars, its tiles' eDRAM, or a link."""
    if metrics.bottleneck_kind == "link":
        return metrics.bottleneck_stage
    if metrics.bottleneck_kind == "edram":
        return f"the eDRAM of {metrics.bottleneck_stage}'s tiles"
    if metrics.bottleneck_kind == "digital":
        return f"the activation units of {metrics.bottleneck_stage}'s tiles"
    return f"stage {metrics.bottleneck_stage}"


def baselines_table(
    problem: AllocationProblem, designs: Mapping[str, Metrics], unlimited: Metrics
) -> Table:
    """One row per design: bottleneck, throughput, % of unlimited, resources and % of budget."""
    t = Table(
        title=f"budget: {problem.budget.describe(problem.analysis.hardware)}", title_justify="left"
    )
    for col in (
        "design",
        "bottleneck",
        "at stage",
        "throughput",
        "% of unlimited",
        "crossbars",
        "% of budget",
        "binds",
        "chips",
        "latency",
    ):
        t.add_column(col, justify="left" if col in ("design", "at stage", "binds") else "right")
    cap = int(problem.capacity[0])
    for name, m in designs.items():
        t.add_row(
            name,
            fmt_time(m.bottleneck_ps),
            m.bottleneck_stage + _BOUND_NOTE.get(m.bottleneck_kind, ""),
            fmt_rate(m.throughput_per_s),
            fmt_pct(unlimited.bottleneck_ps / m.bottleneck_ps),
            f"{m.crossbars_used:,}",
            fmt_pct(m.crossbars_used / cap) + ("" if m.fits else " (over)"),
            fmt_binding(m.usage, m.capacity),
            f"{m.chips_used:,}",
            fmt_time(m.latency_ps),
        )
    return t


_GROUP_TITLES = {
    "crossbar": "crossbar",
    "dac": "DAC",
    "adc": "ADC, S&H",
    "digital": "digital",
    "memory": "eDRAM+bus",
    "link": "links",
    "noc": "routers",
    "write": "cell writes",
    "static": "static",
}


def costs_table(designs: Mapping[str, Metrics], title: str = "energy, power and area") -> Table:
    """One row per design: energy per inference and its split, power, area, efficiency."""
    t = Table(title=title, title_justify="left")
    t.add_column("design", justify="left")
    t.add_column("energy/inference", justify="right")
    groups = [
        g for g in groups_of(True, True) if any(g in m.costs.split_pj for m in designs.values())
    ]
    for g in groups:
        t.add_column(_GROUP_TITLES[g], justify="right")
    for col in ("power", "area", "inferences/J", "GOPS/W", "GOPS/mm²"):
        t.add_column(col, justify="right")
    for name, m in designs.items():
        c = m.costs
        t.add_row(
            name,
            fmt_energy(c.energy_pj),
            *(fmt_pct(c.split_pj.get(g, 0) / c.energy_pj) if c.energy_pj else "" for g in groups),
            fmt_power(c.power_w),
            f"{c.area_mm2:,.2f} mm²",
            f"{c.inferences_per_j:,.1f}",
            f"{c.gops_per_w:,.1f}",
            f"{c.gops_per_mm2:,.2f}",
        )
    return t


def hardware_table(table: CostTable) -> Table:
    """The component cost table by level, with IMA, tile and chip totals."""
    hw = table.hardware
    t = Table(title=f"{hw.name}: component costs", title_justify="left")
    for col in ("component", "count", "mW each", "power mW", "mm² each", "area mm²", "note"):
        t.add_column(col, justify="left" if col in ("component", "note") else "right")
    within = {
        "ima": "per IMA",
        "tile": f"per tile (with {hw.imas_per_tile} IMAs)",
        "chip": f"per chip ({hw.tiles_per_chip} tiles + links)",
    }
    totals = {
        "ima": (table.ima_power_mw, table.ima_area_mm2),
        "tile": (table.tile_power_mw, table.tile_area_mm2),
        "chip": (table.chip_power_mw, table.chip_area_mm2),
    }
    for level in LEVELS:
        rows = [r for r in table.rows if r.component.level == level]
        # A tile holds its IMAs and a chip its tiles: one row for each, as the table prints them.
        inner = {
            "tile": ("IMAs", hw.imas_per_tile, table.ima_power_mw, table.ima_area_mm2),
            "chip": ("tiles", hw.tiles_per_chip, table.tile_power_mw, table.tile_area_mm2),
        }.get(level)
        if inner is not None:
            name, count, power_mw, area_mm2 = inner
            t.add_row(
                f"{count} {name}",
                fmt_num(count),
                fmt_num(power_mw),
                fmt_num(count * power_mw),
                fmt_num(area_mm2),
                fmt_num(count * area_mm2),
                "",
            )
        for r in rows:
            c = r.component
            t.add_row(
                "  " + c.name,
                fmt_num(r.count),
                fmt_num(c.power_mw),
                fmt_num(r.power_mw),
                fmt_num(c.area_mm2),
                fmt_num(r.area_mm2),
                c.note,
            )
        power, area = totals[level]
        t.add_row(
            f"total {within[level]}", "", "", fmt_num(power), "", fmt_num(area), "", style="bold"
        )
        t.add_section()
    return t


def hardware_peak_table(table: CostTable) -> Table:
    """Timing, peak throughput and efficiency of one chip, and per-event energies."""
    hw = table.hardware
    t = Table(title=f"{hw.name}: one chip at peak", title_justify="left")
    t.add_column("quantity", justify="left")
    t.add_column("value", justify="right")
    t.add_column("how", justify="left")
    rows = [
        (
            "crossbar cycle",
            fmt_time(hw.cycle_ps),
            f"max(read {hw.read_ns:g} ns, {hw.cols // hw.adcs_per_crossbar} columns"
            f" / {hw.adc_rate_gsps:g} GS/s)",
        ),
        (
            "one MVM",
            fmt_time(hw.mvm_ps),
            f"({hw.input_slices} bit-slices + {hw.mvm_fill_cycles} fill) × cycle",
        ),
        (
            "MACs per crossbar per MVM",
            f"{table.macs_per_crossbar_mvm:,}",
            f"{hw.rows} rows × {hw.cols} columns / {hw.slices} slices",
        ),
        (
            "peak MAC/s",
            f"{table.peak_macs_per_s:.4g}",
            f"{hw.crossbars_per_chip:,} crossbars × MACs per MVM / MVM",
        ),
        ("peak GOPS", f"{table.peak_gops:,.1f}", "2 ops per MAC"),
        ("GOPS/mm²", f"{table.gops_per_mm2:,.1f}", f"/ {table.chip_area_mm2:,.2f} mm²"),
        ("GOPS/W", f"{table.gops_per_w:,.1f}", f"/ {table.chip_power_mw / 1000:,.2f} W"),
        (
            f"one {hw.rows}×{hw.cols} MVM energy",
            fmt_energy(table.mvm_energy_pj),
            f"{hw.matrix_crossbars(hw.rows, hw.cols)} crossbars with DACs, S&H, ADCs"
            f" × {hw.mvm_cycles} cycles at table power",
        ),
    ]
    for quantity, value, how in rows:
        t.add_row(quantity, value, how)
    t.add_section()
    for r in table.rows:
        if r.component.rule.work is not None:
            t.add_row(
                f"{r.component.name} energy",
                f"{r.event_pj:.4g} pJ",
                f"for {r.component.rule.meaning}",
            )
    return t


def compare_table(
    problem: AllocationProblem,
    results: list[SolveResult],
    best_bound: int | None,
    unlimited: Metrics,
) -> Table:
    """One row per method: status, bottleneck, throughput, crossbars, gap, seconds."""
    hw = problem.analysis.hardware
    t = Table(
        title=f"{problem.analysis.network.name}, budget {problem.budget.describe(hw)}",
        title_justify="left",
    )
    for col in (
        "method",
        "status",
        "bottleneck",
        "throughput",
        "% of unlimited",
        "crossbars",
        "binds",
        "gap to best bound",
        "seconds",
        "note",
    ):
        t.add_column(
            col, justify="left" if col in ("method", "status", "binds", "note") else "right"
        )
    capacity = problem.capacities()
    for r in results:
        has = r.bottleneck_ps is not None
        gap = r.gap_to(best_bound)
        t.add_row(
            r.label,
            r.status,
            fmt_time(r.bottleneck_ps) if has else "",
            fmt_rate(1e12 / r.bottleneck_ps) if has else "",
            fmt_pct(unlimited.bottleneck_ps / r.bottleneck_ps) if has else "",
            f"{r.crossbars_used:,}" if r.crossbars_used is not None else "",
            fmt_binding(r.cost, capacity) if r.cost is not None else "",
            fmt_pct(gap) if gap is not None else "",
            f"{r.seconds:.3f}",
            r.message,
        )
    return t


FRONTIER_ROWS = 30  # a longer frontier shows landmarks and every k-th point; --json has all


def _budget(front: Frontier, amount: int) -> str:
    value = front.user(amount)
    return f"{value:,}" if front.scale == 1 else f"{value:,.3f}"


def frontier_table(front: Frontier) -> Table:
    """Breakpoints of a frontier: all of them, or the landmarks and every k-th."""
    n = len(front)
    marks: dict[int, list[str]] = {}
    for label, point in (("knee", front.knee), ("chosen", front.chosen)):
        i = front.index(point)
        if i is not None:
            marks.setdefault(i, []).append(label)
    marks.setdefault(0, []).insert(0, "first")
    if front.complete:
        marks.setdefault(n - 1, []).append("ceiling")
    step = max(1, math.ceil(n / FRONTIER_ROWS))
    rows = sorted(set(range(0, n, step)) | set(marks) | {n - 1})
    shown = "all shown" if len(rows) == n else f"{len(rows)} shown: every {step}th and the marked"
    unit = front.unit
    t = Table(
        title=f"{front.network}: exact {front.resource} frontier{', design mode' if front.design else ''},"
        f" {n:,} breakpoint{'s' if n != 1 else ''} ({shown})",
        title_justify="left",
    )
    for col in ("#", f"budget ({unit})", "bottleneck", "throughput", "% of unlimited", "mark"):
        t.add_column(col, justify="left" if col == "mark" else "right")
    for i in rows:
        b, ps = int(front.amount[i]), int(front.bottleneck_ps[i])
        mark = ", ".join(marks.get(i, []))
        t.add_row(
            f"{i:,}",
            _budget(front, b),
            fmt_time(ps),
            fmt_rate(1e12 / ps),
            fmt_pct(front.unlimited_ps / ps),
            mark,
            style="bold" if mark else None,
        )
    return t


def frontier_notes(front: Frontier, budget: Budget, hardware: Hardware) -> list[str]:
    """The frontier's landmarks in words, ``budget`` being the instance's."""
    from hitm.frontier import KNEE_MIN_LIFT

    unit = front.unit
    capacity = budget.capacity(hardware)
    crossbars = capacity["crossbars"]
    if front.key in capacity:
        source = f"the budget's {front.resource}"
    else:
        source = f"the provisioned {front.resource} of the budget's {crossbars:,} crossbars"

    def at(b: int, ps: int) -> str:
        pct = fmt_pct(front.unlimited_ps / ps)
        return f"{_budget(front, b)} {unit}: {fmt_time(ps)}, {pct} of unlimited"

    lines = [
        f"naive design (one copy of every layer{', fewest ADCs' if front.design else ''}):"
        f" {at(front.naive.amount, front.naive.bottleneck_ps)}",
        f"ceiling: {fmt_time(front.unlimited_ps)} from {_budget(front, front.ceiling.amount)}"
        f" {unit} on (the unlimited design, every layer at its fastest, uses"
        f" {_budget(front, front.unlimited.amount)} {unit})",
    ]
    if front.knee is not None:
        lines.append(
            f"knee: {at(front.knee.amount, front.knee.bottleneck_ps)}"
            f" (lift {front.knee_lift:.3f} above the naive → ceiling line)"
        )
    elif len(front) < 3 and front.complete:
        lines.append("knee: none (fewer than three breakpoints)")
    else:
        lines.append(
            f"knee: none; no point stands {KNEE_MIN_LIFT} above the naive → ceiling line"
            f" (largest lift {front.knee_lift:.3f}): returns do not diminish before the ceiling"
        )
    if front.cap is None:
        lines.append("chosen: no budget for this resource")
    elif front.chosen is None:
        lines.append(
            f"chosen: none; {source}, {_budget(front, front.cap)} {unit}, is below the"
            " cheapest design"
        )
    else:
        lines.append(
            f"chosen, within {_budget(front, front.cap)} {unit} ({source}):"
            f" {at(front.chosen.amount, front.chosen.bottleneck_ps)}"
        )
    if not front.complete:
        lines.append("cut at --up-to: the ceiling lies beyond")
    lines.append("every other resource is unconstrained; --json lists every breakpoint")
    return lines
