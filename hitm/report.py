"""Human tables and JSON documents for analyses and designs.

Pure functions from results to ``rich`` renderables or plain dicts; the CLI
decides where they go.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.table import Table

from hitm.analysis import Analysis
from hitm.costs import CostTable, DesignCosts
from hitm.hardware import GROUPS, LEVELS
from hitm.optimize.result import SolveResult
from hitm.pipeline import Metrics
from hitm.problem import AllocationProblem

__all__ = [
    "analysis_json",
    "analysis_table",
    "baselines_table",
    "binding",
    "compare_table",
    "costs_json",
    "costs_table",
    "design_json",
    "design_table",
    "fmt_amount",
    "fmt_energy",
    "fmt_power",
    "fmt_time",
    "hardware_json",
    "hardware_peak_table",
    "hardware_table",
    "result_json",
]


def fmt_time(ps: int | float) -> str:
    """Human-readable time from picoseconds (``80.28 ms``, ``1.60 µs``)."""
    for unit, scale in (("s", 1e12), ("ms", 1e9), ("µs", 1e6), ("ns", 1e3)):
        if ps >= scale:
            return f"{ps / scale:.2f} {unit}"
    return f"{ps:.0f} ps"


_RESOURCE_UNITS = {
    "crossbars": (1, "crossbars"),
    "tiles": (1, "tiles"),
    "power_uw": (1e6, "W"),
    "area_um2": (1e6, "mm²"),
}


def fmt_amount(resource: str, value: int | float) -> str:
    """A resource amount in its user-facing unit (power in W, area in mm²)."""
    scale, unit = _RESOURCE_UNITS.get(resource, (1, resource))
    if scale == 1:
        return f"{int(value):,} {unit}"
    return f"{value / scale:,.2f} {unit}"


def resource_name(resource: str) -> str:
    """``power_uw`` → ``power``: the name a user reads."""
    return resource.rsplit("_", 1)[0] if resource in ("power_uw", "area_um2") else resource


def binding(usage: Mapping[str, int], capacity: Mapping[str, int]) -> tuple[str, float] | None:
    """The budgeted resource used closest to its capacity, and the share used."""
    shares = {r: usage[r] / capacity[r] for r in capacity if r in usage and capacity[r]}
    if not shares:
        return None
    r = max(shares, key=lambda k: shares[k])
    return r, shares[r]


def fmt_binding(usage: Mapping[str, int], capacity: Mapping[str, int]) -> str:
    found = binding(usage, capacity)
    return "" if found is None else f"{resource_name(found[0])} {fmt_pct(found[1])}"


def fmt_pct(fraction: float) -> str:
    """A percentage with two decimals, or three significant digits below 1%."""
    pct = 100 * fraction
    return f"{pct:.2f}%" if pct >= 1 or pct == 0 else f"{pct:.3g}%"


def fmt_rate(per_s: float) -> str:
    return f"{per_s:,.2f}/s" if per_s < 1e6 else f"{per_s:.3e}/s"


def fmt_energy(pj: float) -> str:
    """Human-readable energy from picojoules (``3.70 mJ``, ``43.97 nJ``)."""
    for unit, scale in (("J", 1e12), ("mJ", 1e9), ("µJ", 1e6), ("nJ", 1e3)):
        if pj >= scale:
            return f"{pj / scale:.2f} {unit}"
    return f"{pj:.2f} pJ"


def fmt_power(w: float) -> str:
    """Human-readable power from watts (``65.81 W``, ``330.00 mW``)."""
    for unit, scale in (("kW", 1e3), ("W", 1.0), ("mW", 1e-3)):
        if w >= scale:
            return f"{w / scale:.2f} {unit}"
    return f"{w * 1e6:.2f} µW"


def _num(x: float) -> str:
    """A count or cost with at most 4 significant digits, no trailing zeros."""
    return f"{x:,.4g}" if abs(x) < 1e4 else f"{x:,.0f}"


def analysis_json(analysis: Analysis) -> dict[str, Any]:
    """The ``hitm analyze --json`` document."""
    hw = analysis.hardware
    return {
        "network": analysis.network.name,
        "hardware": {
            **hw.to_dict(),
            "slices": hw.slices,
            "cycle_ps": hw.cycle_ps,
            "mvm_ps": hw.mvm_ps,
        },
        "layers": [
            {
                "name": layer.name,
                "op": layer.op,
                "shape": layer.shape.to_list(),
                "params": layer.params,
                "macs": layer.macs,
                "matrices": [list(m) for m in layer.matrices],
                "crossbars": layer.crossbars,
                "steps": layer.steps,
                "parallel": layer.parallel,
                "mvm_ps": layer.mvm_ps,
                "naive_busy_ps": layer.busy_ps(1) if layer.has_weights else 0,
                "elements": layer.elements,
                "loop": layer.loop,
            }
            for layer in analysis.layers
        ],
        "loops": [
            {
                "name": loop.name,
                "from": loop.source,
                "to": loop.target,
                "steps": loop.steps,
                "members": list(loop.members),
            }
            for loop in analysis.network.loops
        ],
        "totals": analysis.totals,
    }


def analysis_table(analysis: Analysis, all_layers: bool = False) -> Table:
    """Per-layer demand table (weight layers only unless ``all_layers``)."""
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
    ):
        t.add_column(
            col, justify="left" if col in ("layer", "op", "output", "matrices") else "right"
        )
    for layer in analysis.layers:
        if not (layer.has_weights or all_layers):
            continue
        mats = sorted(set(layer.matrices))
        matrices = ", ".join(
            f"{layer.matrices.count(m)}×{m[0]}×{m[1]}"
            if layer.matrices.count(m) > 1
            else f"{m[0]}×{m[1]}"
            for m in mats
        )
        t.add_row(
            layer.name + (f" [dim]({layer.loop})[/]" if layer.loop else ""),
            layer.op,
            str(layer.shape),
            f"{layer.params:,}",
            f"{layer.macs:,}",
            matrices,
            f"{layer.crossbars:,}" if layer.has_weights else "",
            f"{layer.steps:,}" if layer.has_weights else "",
            f"{layer.parallel:,}" if layer.has_weights else "",
            fmt_time(layer.busy_ps(1)) if layer.has_weights else "",
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
    )
    return t


def design_table(metrics: Metrics, title: str, adcs: bool = False) -> Table:
    """Per-stage table of one design, the bottleneck marked (ADCs per crossbar if ``adcs``)."""
    t = Table(title=title, title_justify="left")
    cols = ("stage", "kind", "copies", *(("ADCs",) if adcs else ()), "crossbars", "busy")
    for col in (*cols, "utilisation"):
        t.add_column(col, justify="left" if col in ("stage", "kind") else "right")
    for s in metrics.stages:
        mark = s.name == metrics.bottleneck_stage
        copies = "+".join(f"{d:,}" for d in s.copies)
        per = ("+".join(str(a) for a in s.adcs),) if adcs else ()
        t.add_row(
            ("▶ " if mark else "  ") + s.name,
            s.kind,
            copies,
            *per,
            f"{s.crossbars:,}",
            fmt_time(s.busy_ps),
            f"{100 * s.utilisation:.1f}%",
            style="bold red" if mark else None,
        )
    return t


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
            m.bottleneck_stage,
            fmt_rate(m.throughput_per_s),
            fmt_pct(unlimited.bottleneck_ps / m.bottleneck_ps),
            f"{m.crossbars_used:,}",
            fmt_pct(m.crossbars_used / cap) + ("" if m.fits else " (over)"),
            fmt_binding(m.usage, m.capacity),
            f"{m.chips_used:,}",
            fmt_time(m.latency_ps),
        )
    return t


def design_json(metrics: Metrics, unlimited: Metrics | None = None) -> dict[str, Any]:
    """A design as a JSON-ready dict."""
    doc: dict[str, Any] = {
        "bottleneck_ps": metrics.bottleneck_ps,
        "bottleneck_stage": metrics.bottleneck_stage,
        "throughput_per_s": metrics.throughput_per_s,
        "latency_ps": metrics.latency_ps,
        "crossbars_used": metrics.crossbars_used,
        "tiles_used": metrics.tiles_used,
        "chips_used": metrics.chips_used,
        "usage": dict(metrics.usage),
        "capacity": dict(metrics.capacity),
        "fits": metrics.fits,
        "copies": metrics.copies,
        "adcs": metrics.adcs,
        "binding": (binding(metrics.usage, metrics.capacity) or (None,))[0],
        "stages": [
            {
                "name": s.name,
                "kind": s.kind,
                "members": list(s.members),
                "copies": list(s.copies),
                "adcs": list(s.adcs),
                "crossbars": s.crossbars,
                "busy_ps": s.busy_ps,
                "utilisation": s.utilisation,
            }
            for s in metrics.stages
        ],
    }
    if unlimited is not None:
        doc["throughput_pct_of_unlimited"] = 100 * unlimited.bottleneck_ps / metrics.bottleneck_ps
        doc["budget_pct_used"] = 100 * metrics.crossbars_used / metrics.capacity["crossbars"]
    doc["energy"] = costs_json(metrics.costs)
    return doc


def costs_json(costs: DesignCosts) -> dict[str, Any]:
    """A design's ``energy`` block: energy per inference split by group and by
    component, static power, average power, area and efficiency."""
    return {
        "per_inference_pj": costs.energy_pj,
        "dynamic_pj": costs.dynamic_total_pj,
        "static_pj": costs.static_pj,
        "split_pj": dict(costs.groups_pj),
        "components_pj": dict(costs.dynamic_pj),
        "static_power_w": costs.static_power_mw / 1000,
        "power_w": costs.power_w,
        "area_mm2": costs.area_mm2,
        "inferences_per_j": costs.inferences_per_j,
        "gops_per_w": costs.gops_per_w,
        "gops_per_mm2": costs.gops_per_mm2,
    }


_GROUP_TITLES = {
    "crossbar": "crossbar",
    "dac": "DAC",
    "adc": "ADC, S&H",
    "digital": "digital",
    "memory": "eDRAM+bus",
    "static": "static",
}


def costs_table(designs: Mapping[str, Metrics], title: str = "energy, power and area") -> Table:
    """One row per design: energy per inference and its split, power, area, efficiency."""
    t = Table(title=title, title_justify="left")
    t.add_column("design", justify="left")
    t.add_column("energy/inference", justify="right")
    for g in GROUPS:
        t.add_column(_GROUP_TITLES[g], justify="right")
    for col in ("power", "area", "inferences/J", "GOPS/W", "GOPS/mm²"):
        t.add_column(col, justify="right")
    for name, m in designs.items():
        c = m.costs
        t.add_row(
            name,
            fmt_energy(c.energy_pj),
            *(fmt_pct(c.groups_pj[g] / c.energy_pj) if c.energy_pj else "" for g in GROUPS),
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
                _num(count),
                _num(power_mw),
                _num(count * power_mw),
                _num(area_mm2),
                _num(count * area_mm2),
                "",
            )
        for r in rows:
            c = r.component
            t.add_row(
                "  " + c.name,
                _num(r.count),
                _num(c.power_mw),
                _num(r.power_mw),
                _num(c.area_mm2),
                _num(r.area_mm2),
                c.note,
            )
        power, area = totals[level]
        t.add_row(f"total {within[level]}", "", "", _num(power), "", _num(area), "", style="bold")
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


def hardware_json(table: CostTable) -> dict[str, Any]:
    """The ``hitm hardware --json`` document."""
    hw = table.hardware
    return {
        "name": hw.name,
        "hardware": {k: v for k, v in hw.to_dict().items() if k != "components"},
        "components": [
            {
                "name": r.component.name,
                "level": r.component.level,
                "charged_per": r.component.charged_per,
                "count": r.count,
                "unit_power_mw": r.component.power_mw,
                "unit_area_mm2": r.component.area_mm2,
                "power_mw": r.power_mw,
                "area_mm2": r.area_mm2,
                "event_pj": r.event_pj,
                "note": r.component.note,
            }
            for r in table.rows
        ],
        "totals": {
            "ima": {"power_mw": table.ima_power_mw, "area_mm2": table.ima_area_mm2},
            "tile": {"power_mw": table.tile_power_mw, "area_mm2": table.tile_area_mm2},
            "links": {"power_mw": table.links_power_mw, "area_mm2": table.links_area_mm2},
            "chip": {"power_mw": table.chip_power_mw, "area_mm2": table.chip_area_mm2},
        },
        "timing": {
            "cycle_ps": hw.cycle_ps,
            "mvm_ps": hw.mvm_ps,
            "onehot_mvm_ps": hw.onehot_mvm_ps,
            "slices": hw.slices,
            "crossbars_per_chip": hw.crossbars_per_chip,
        },
        "peak": {
            "macs_per_s": table.peak_macs_per_s,
            "gops": table.peak_gops,
            "gops_per_mm2": table.gops_per_mm2,
            "gops_per_w": table.gops_per_w,
            "mvm_energy_pj": table.mvm_energy_pj,
        },
    }


def result_json(
    result: SolveResult,
    best_bound: int | None = None,
    capacity: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """A solver result as a JSON-ready dict.

    ``gap_to_best_bound`` is added given ``best_bound``, and ``binding`` (the
    resource used closest to its capacity) given ``capacity``.
    """
    doc: dict[str, Any] = {
        "method": result.method,
        "backend": result.backend,
        "status": result.status,
        "bottleneck_ps": result.bottleneck_ps,
        "throughput_per_s": 1e12 / result.bottleneck_ps if result.bottleneck_ps else None,
        "crossbars_used": result.crossbars_used,
        "cost": result.cost,
        "bound_ps": result.bound_ps,
        "gap": result.gap,
        "solve_seconds": result.seconds,
        "message": result.message,
        "copies": result.copies,
        "adcs": result.adcs,
    }
    if best_bound is not None:
        doc["gap_to_best_bound"] = _gap(result.bottleneck_ps, best_bound)
    if capacity is not None and result.cost is not None:
        doc["binding"] = (binding(result.cost, capacity) or (None,))[0]
    return doc


def _gap(value: int | None, bound: int | None) -> float | None:
    if value is None or bound is None or not value:
        return None
    return max(0.0, (value - bound) / value)


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
        gap = _gap(r.bottleneck_ps, best_bound)
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
