"""JSON documents: plain dicts for ``--json``, one per command, with units in their keys.

Pure functions; the CLI writes them to stdout.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hitm.analysis import Analysis
from hitm.comparison import Comparison
from hitm.costs import CostTable, DesignCosts
from hitm.frontier import Frontier, FrontierPoint
from hitm.optimize import SolveResult
from hitm.pipeline import Metrics, ceiling
from hitm.problem import AllocationProblem
from hitm.resources import binding
from hitm.traffic import Traffic

__all__ = [
    "analysis_json",
    "compare_json",
    "costs_json",
    "design_json",
    "evaluate_json",
    "frontier_json",
    "hardware_json",
    "result_json",
    "solve_json",
]


def analysis_json(analysis: Analysis, flows: Traffic) -> dict[str, Any]:
    """The ``hitm analyze --json`` document: demand vectors, and the DAG's edges with their bits."""
    hw = analysis.hardware
    return {
        "network": analysis.network.name,
        "hardware": {
            **hw.to_dict(),
            "slices": hw.slices,
            "adc_resolution": hw.adc_resolution,
            "required_adc_bits": hw.required_adc_bits,
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
                "write_ps": layer.write_ps,
                "written_cells": layer.written_cells,
                "naive_busy_ps": layer.busy_ps(1) if layer.has_weights else 0,
                "elements": layer.elements,
                "bits_in": flows.bits_in(layer.name),
                "bits_out": flows.bits_out(layer.name),
                "loop": layer.loop,
            }
            for layer in analysis.layers
        ],
        "edges": [
            {"from": e.source, "to": e.target, "bits": e.bits, "kind": e.kind} for e in flows.edges
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
        "totals": {**analysis.totals, "edge_bits": flows.total_bits},
    }


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
        "stages": metrics.stage_rows(),
    }
    if metrics.has_mac_units:
        doc["units"] = metrics.units  # MAC units of each product computed on them
    doc["bottleneck_kind"] = metrics.bottleneck_kind
    if metrics.chip_crossbars:
        doc["placement"] = placement_json(metrics)
    if unlimited is not None:
        doc["pct_of_unlimited"] = 100 * unlimited.bottleneck_ps / metrics.bottleneck_ps
        doc["pct_of_budget"] = 100 * metrics.crossbars_used / metrics.capacity["crossbars"]
    doc["energy"] = costs_json(metrics.costs)
    if metrics.lifetime_years is not None:
        doc["cell_writes_per_inference"] = metrics.written_cells
        doc["lifetime_years"] = metrics.lifetime_years
    return doc


def placement_json(metrics: Metrics) -> dict[str, Any]:
    """Where a placed design's stages sit and what its links carry.

    ``cuts`` are the chip boundaries in stage coordinates (crossbars counted
    from the first stage's); per chip its crossbars and the stages on it; per
    link its cut, bits per inference (a float of the exact fraction) and
    busy time; per stage its chips and eDRAM time. On a ring every link also
    gives ``back_bits``, what it carries the other way round, and the last,
    ``"c-0"``, is the wrap link back to chip 0.
    """
    names = [s.name for s in metrics.stages]
    spans = metrics.stage_chips
    topology = metrics.analysis.hardware.topology
    ring = topology == "ring"
    return {
        "topology": topology,
        "cuts": list(metrics.cuts),
        "chips": [
            {
                "chip": c,
                "crossbars": n,
                "stages": [names[k] for k, (a, b) in enumerate(spans) if n and a <= c <= b],
            }
            for c, n in enumerate(metrics.chip_crossbars)
        ],
        "links": [
            {
                "link": link.name.removeprefix("link "),
                "cut": link.cut,
                "bits": float(link.bits),
                "busy_ps": link.busy_ps,
                **({"back_bits": float(link.back_bits)} if ring else {}),
            }
            for link in metrics.links
        ],
        "stages": [
            {"name": s.name, "chips": list(span), "edram_ps": s.edram_ps}
            for s, span in zip(metrics.stages, spans, strict=True)
        ],
        "link_bits": float(metrics.link_bits),
        "noc_bits": float(metrics.noc_bits),
    }


def costs_json(costs: DesignCosts) -> dict[str, Any]:
    """A design's ``energy`` block: energy per inference split by group and by
    component, static power, average power, area and efficiency."""
    return {
        "energy_pj": costs.energy_pj,
        "dynamic_pj": costs.dynamic_pj,
        "static_pj": costs.static_pj,
        "split_pj": dict(costs.split_pj),
        "components_pj": dict(costs.components_pj),
        "static_power_w": costs.static_power_w,
        "power_w": costs.power_w,
        "area_mm2": costs.area_mm2,
        "inferences_per_j": costs.inferences_per_j,
        "gops_per_w": costs.gops_per_w,
        "gops_per_mm2": costs.gops_per_mm2,
    }


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
                "law": r.component.law,
            }
            for r in table.rows
        ],
        "derived": {
            "required_adc_bits": hw.required_adc_bits,
            "adc_bits": hw.adc_resolution,
            "lost_bits": hw.lost_bits,
        },
        "warnings": list(hw.warnings),
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
        "seconds": result.seconds,
        "message": result.message,
        "copies": result.copies,
        "adcs": result.adcs,
    }
    if result.units:
        doc["units"] = result.units  # MAC units of each product computed on them
    if result.cuts is not None:
        doc["cuts"] = list(result.cuts)  # chip boundaries, in crossbars along the stages
    if best_bound is not None:
        doc["gap_to_best_bound"] = result.gap_to(best_bound)
    if capacity is not None and result.cost is not None:
        doc["binding"] = (binding(result.cost, capacity) or (None,))[0]
    return doc


def frontier_json(front: Frontier) -> dict[str, Any]:
    """The ``hitm pareto --json`` document.

    Every budget carries its unit in its key (:meth:`Frontier.budget_columns`):
    ``crossbars``; ``power_w`` with the exact ``power_uw``; ``area_mm2`` with
    the exact ``area_um2``.
    """

    def point(p: FrontierPoint | None, **extra: Any) -> dict[str, Any] | None:
        if p is None:
            return None
        return {
            **front.budget_columns(p.amount),
            "bottleneck_ps": p.bottleneck_ps,
            "throughput_per_s": p.throughput_per_s,
            "pct_of_unlimited": float(front.pct_of_unlimited(p.bottleneck_ps)),
            **extra,
        }

    return {
        "network": front.network,
        "resource": front.resource,
        "unit": front.unit,
        "design": front.design,
        "definition": "least budget reaching each bottleneck T, every other resource"
        " unconstrained: C(T) = sum over stages of min{cost(o) : busy(o) <= T}",
        "n_points": len(front),
        "complete": front.complete,
        "points": [point(p) for p in front.points],
        "knee": point(front.knee, lift=front.knee_lift),
        "knee_lift": front.knee_lift,
        "cap": None if front.cap is None else front.budget_columns(front.cap),
        "chosen": point(front.chosen),
        "naive": point(front.naive),
        "ceiling": point(front.ceiling),
        "unlimited": point(front.unlimited),
    }


def solve_json(
    problem: AllocationProblem,
    result: SolveResult,
    design: Metrics,
    naive: Metrics,
    unlimited: Metrics,
) -> dict[str, Any]:
    """The ``hitm solve --json`` document: the result, its design and the two baselines."""
    return {
        "network": problem.analysis.network.name,
        **result_json(result),
        **design_json(design, unlimited),
        "crossbars_budget": int(problem.capacity[0]),
        "naive": design_json(naive, unlimited),
        **_unlimited_json(problem, unlimited),
    }


def _unlimited_json(problem: AllocationProblem, unlimited: Metrics) -> dict[str, Any]:
    """The two unlimited designs: ``unlimited`` (every layer at its fastest) and ``ceiling``
    (the cheapest reaching the same throughput; null with data movement priced)."""
    top = ceiling(problem, unlimited)
    return {
        "ceiling": None if top is None else design_json(top, unlimited),
        "unlimited": design_json(unlimited, unlimited),
    }


def evaluate_json(
    problem: AllocationProblem, design: Metrics, naive: Metrics, unlimited: Metrics
) -> dict[str, Any]:
    """The ``hitm evaluate --json`` document: a user's design beside the two baselines."""
    return {
        "network": problem.analysis.network.name,
        "design": design_json(design, unlimited),
        "naive": design_json(naive, unlimited),
        **_unlimited_json(problem, unlimited),
    }


def compare_json(
    problem: AllocationProblem, comparison: Comparison, unlimited: Metrics
) -> dict[str, Any]:
    """The ``hitm compare --json`` document: every method's result and whether optima agree."""
    capacity = problem.capacities()
    best = comparison.best_bound_ps
    results = []
    for r in comparison.results:
        doc = result_json(r, best, capacity)
        if r.label in comparison.designs:
            doc["energy"] = costs_json(comparison.designs[r.label].costs)
        results.append(doc)
    return {
        "network": problem.analysis.network.name,
        "crossbars_budget": int(problem.capacity[0]),
        "best_bound_ps": best,
        "unlimited_bottleneck_ps": unlimited.bottleneck_ps,
        "results": results,
        "agree": comparison.agree,
    }
