"""Human tables and JSON documents for analyses and designs.

Pure functions from results to ``rich`` renderables or plain dicts; the CLI
decides where they go.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.table import Table

from hitm.analysis import Analysis
from hitm.optimize.result import SolveResult
from hitm.pipeline import Metrics
from hitm.problem import AllocationProblem

__all__ = [
    "analysis_json",
    "analysis_table",
    "baselines_table",
    "compare_table",
    "design_json",
    "design_table",
    "fmt_time",
    "result_json",
]


def fmt_time(ps: int | float) -> str:
    """Human-readable time from picoseconds (``80.28 ms``, ``1.60 µs``)."""
    for unit, scale in (("s", 1e12), ("ms", 1e9), ("µs", 1e6), ("ns", 1e3)):
        if ps >= scale:
            return f"{ps / scale:.2f} {unit}"
    return f"{ps:.0f} ps"


def fmt_pct(fraction: float) -> str:
    """A percentage with two decimals, or three significant digits below 1%."""
    pct = 100 * fraction
    return f"{pct:.2f}%" if pct >= 1 or pct == 0 else f"{pct:.3g}%"


def fmt_rate(per_s: float) -> str:
    return f"{per_s:,.2f}/s" if per_s < 1e6 else f"{per_s:.3e}/s"


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


def design_table(metrics: Metrics, title: str) -> Table:
    """Per-stage table of one design, the bottleneck marked."""
    t = Table(title=title, title_justify="left")
    for col in ("stage", "kind", "copies", "crossbars", "busy", "utilisation"):
        t.add_column(col, justify="left" if col in ("stage", "kind") else "right")
    for s in metrics.stages:
        mark = s.name == metrics.bottleneck_stage
        copies = "+".join(f"{d:,}" for d in s.copies)
        t.add_row(
            ("▶ " if mark else "  ") + s.name,
            s.kind,
            copies,
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
        "chips",
        "latency",
    ):
        t.add_column(col, justify="left" if col in ("design", "at stage") else "right")
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
        "stages": [
            {
                "name": s.name,
                "kind": s.kind,
                "members": list(s.members),
                "copies": list(s.copies),
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
    return doc


def result_json(result: SolveResult, best_bound: int | None = None) -> dict[str, Any]:
    """A solver result as a JSON-ready dict (``gap_to_best_bound`` given ``best_bound``)."""
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
    }
    if best_bound is not None:
        doc["gap_to_best_bound"] = _gap(result.bottleneck_ps, best_bound)
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
        "gap to best bound",
        "seconds",
        "note",
    ):
        t.add_column(col, justify="left" if col in ("method", "status", "note") else "right")
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
            fmt_pct(gap) if gap is not None else "",
            f"{r.seconds:.3f}",
            r.message,
        )
    return t
