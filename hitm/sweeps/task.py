"""One sweep task: a network on one hardware point, answered for every budget and method.

The task builds the network's analysis once. For the paper's DP on copy counts
alone (no design mode, budgets in chips or crossbars only) it answers every
budget from one exact budget → bottleneck staircase (:func:`hitm.staircase.
breakpoints`): the DP's optimum at a budget is the staircase's bottleneck there,
reached by each stage's cheapest option meeting it, which is exactly the
allocation ``solve(problem, "dp")`` returns. Other methods, design mode and
power or area caps solve budget by budget. A failure becomes a row with its
message, never an exception.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np

from hitm.analysis import Analysis, analyze
from hitm.budget import Budget
from hitm.description.load import parse_instance
from hitm.errors import HitmError
from hitm.hardware import Hardware
from hitm.optimize import Method, Status, solve
from hitm.pipeline import Metrics, evaluate, verify
from hitm.problem import AllocationProblem, build_problem
from hitm.resources import binding
from hitm.staircase import breakpoints
from hitm.sweeps.spec import Point

__all__ = ["BUDGET_COLUMNS", "HARDWARE_COLUMNS", "RESULT_COLUMNS", "run_point"]

HARDWARE_COLUMNS = tuple(
    f.name for f in dataclasses.fields(Hardware) if f.name not in ("name", "components")
)


def _sql_type(name: str) -> str:
    default = getattr(Hardware(), name)
    if name == "adc_bits":  # "auto" or a number: the resolved resolution is its own column
        return "VARCHAR"
    if isinstance(default, bool):
        return "BOOLEAN"
    if isinstance(default, int):
        return "BIGINT"
    return "DOUBLE" if isinstance(default, float) else "VARCHAR"


BUDGET_COLUMNS = tuple(f"budget_{f.name}" for f in dataclasses.fields(Budget))
RESULT_COLUMNS: dict[str, str] = {
    "row_key": "VARCHAR",
    "point_key": "VARCHAR",
    "sweep": "VARCHAR",
    "network": "VARCHAR",
    "network_hash": "VARCHAR",
    "preset": "VARCHAR",
    **{c: _sql_type(c) for c in HARDWARE_COLUMNS},
    "adc_resolution": "BIGINT",
    "components": "VARCHAR",
    **{c: "DOUBLE" for c in BUDGET_COLUMNS},
    "design": "VARCHAR",
    "method": "VARCHAR",
    "backend": "VARCHAR",
    "status": "VARCHAR",
    "message": "VARCHAR",
    "bottleneck_ps": "BIGINT",
    "bottleneck_stage": "VARCHAR",
    "binds": "VARCHAR",
    "throughput_per_s": "DOUBLE",
    "pct_of_unlimited": "DOUBLE",
    "crossbars_used": "BIGINT",
    "tiles_used": "BIGINT",
    "chips_used": "BIGINT",
    "energy_pj": "DOUBLE",
    "power_w": "DOUBLE",
    "area_mm2": "DOUBLE",
    "inferences_per_j": "DOUBLE",
    "seconds": "DOUBLE",
    "hitm_version": "VARCHAR",
}
"""Every column of a sweep's rows and its DuckDB type (docs: README, "Sweeps")."""


@lru_cache(maxsize=64)
def _instance(document_json: str, hardware_json: str, design_json: str):
    doc = json.loads(document_json)
    doc["hardware"] = json.loads(hardware_json)
    design = json.loads(design_json)
    if design is not None:
        doc["design"] = design
    return parse_instance(doc)


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("hitm")
    except metadata.PackageNotFoundError:  # pragma: no cover - a source tree on sys.path
        return "unknown"


def _base_row(point: Point, sweep: str, hw: Hardware | None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "point_key": point.key,
        "sweep": sweep,
        "network": point.network,
        "network_hash": point.network_hash,
        "preset": str(point.hardware.get("preset", "isaac")),
        "components": json.dumps(point.hardware.get("components"), sort_keys=True),
        "design": json.dumps(point.design, sort_keys=True),
        "hitm_version": _version(),
    }
    for name in HARDWARE_COLUMNS:
        value = getattr(hw, name) if hw is not None else point.hardware.get(name)
        row[name] = str(value) if name == "adc_bits" and value is not None else value
    row["adc_resolution"] = hw.adc_resolution if hw is not None else None
    return row


def _budget_row(budget: Budget) -> dict[str, Any]:
    return {f"budget_{k}": v for k, v in dataclasses.asdict(budget).items()}


def _metrics_row(
    metrics: Metrics, unlimited_ps: int, capacity: Mapping[str, int]
) -> dict[str, Any]:
    costs = metrics.costs
    found = binding(metrics.usage, capacity)
    return {
        "bottleneck_ps": metrics.bottleneck_ps,
        "bottleneck_stage": metrics.bottleneck_stage,
        "binds": found[0] if found else None,
        "throughput_per_s": metrics.throughput_per_s,
        "pct_of_unlimited": 100 * unlimited_ps / metrics.bottleneck_ps,
        "crossbars_used": metrics.crossbars_used,
        "tiles_used": metrics.tiles_used,
        "chips_used": metrics.chips_used,
        "energy_pj": costs.energy_pj,
        "power_w": costs.power_w,
        "area_mm2": costs.area_mm2,
        "inferences_per_j": costs.inferences_per_j,
    }


def _unlimited_ps(problem: AllocationProblem) -> int:
    """The bottleneck with every stage at its fastest option (the problem keeps every option)."""
    return max(int(s.busy_ps.min()) for s in problem.stages)


def _curve_rows(
    analysis: Analysis, budgets: tuple[Budget, ...], base: dict[str, Any]
) -> list[dict[str, Any]]:
    """The DP's answer at every budget from one exact staircase."""
    start = time.perf_counter()
    hw = analysis.hardware
    caps = [b.capacity(hw)["crossbars"] for b in budgets]
    problem = build_problem(analysis, Budget(crossbars=max(caps)), prune=False)
    unlimited = _unlimited_ps(problem)
    curve = breakpoints([s.busy_ps for s in problem.stages], [s.cost[:, 0] for s in problem.stages])
    share = (time.perf_counter() - start) / len(budgets)
    rows = []
    for budget, cap in zip(budgets, caps, strict=True):
        t0 = time.perf_counter()
        row = {**base, **_budget_row(budget), "method": "dp", "backend": None}
        target = curve.at(cap)
        if target is None:
            row.update(status=str(Status.INFEASIBLE), message=_short(problem, cap))
        else:
            # Each stage's cheapest option meeting T: options run slow → fast, dearer as they go.
            choice = [
                int(np.searchsorted(-s.busy_ps, -target, side="left")) for s in problem.stages
            ]
            metrics = evaluate(problem, problem.copies_of(choice))
            row.update(
                status=str(Status.OPTIMAL),
                message="",
                **_metrics_row(metrics, unlimited, {"crossbars": cap}),
            )
        row["seconds"] = share + time.perf_counter() - t0
        rows.append(row)
    return rows


def _short(problem: AllocationProblem, cap: int) -> str:
    need = int(problem.floor_cost()[0])
    return f"one copy of every layer needs {need:,} crossbars, {need - cap:,} more than the {cap:,} budgeted"


def _solve_rows(
    analysis: Analysis, point: Point, method: str, design, base: dict[str, Any]
) -> list[dict[str, Any]]:
    rows = []
    unlimited = None
    for budget in point.budgets:
        t0 = time.perf_counter()
        row = {**base, **_budget_row(budget), "method": method}
        row["backend"] = point.backend if method == Method.ILP else None
        try:
            problem = build_problem(analysis, budget, design=design)
            if unlimited is None:
                free = build_problem(
                    analysis, Budget(crossbars=1 << 40), design=design, prune=False
                )
                unlimited = _unlimited_ps(free)
            result = solve(problem, method, point.time_limit, backend=point.backend)
            metrics = verify(problem, result)
            row.update(status=str(result.status), message=result.message)
            if metrics is not None:
                row.update(_metrics_row(metrics, unlimited, problem.capacities()))
        except HitmError as exc:
            row.update(status=str(Status.ERROR), message=str(exc))
        row["seconds"] = time.perf_counter() - t0
        rows.append(row)
    return rows


def run_point(point: Point, sweep: str = "sweep") -> list[dict[str, Any]]:
    """Every row of one point: one per budget and method, each with its ``row_key``.

    Never raises for a bad point: its rows say ``error`` and why.
    """
    try:
        inst = _instance(
            json.dumps(point.document, sort_keys=True),
            json.dumps(dict(point.hardware), sort_keys=True),
            json.dumps(point.design, sort_keys=True),
        )
    except HitmError as exc:
        base = _base_row(point, sweep, None)
        rows = [
            {
                **base,
                **_budget_row(b),
                "method": m,
                "status": str(Status.ERROR),
                "message": str(exc),
            }
            for b in point.budgets
            for m in point.methods
        ]
    else:
        base = _base_row(point, sweep, inst.hardware)
        try:
            analysis = analyze(inst.network, inst.hardware)
        except HitmError as exc:  # pragma: no cover - the network parsed; analysis cannot fail
            analysis, error = None, str(exc)
        rows = []
        curve_ok = (  # one staircase answers every budget: crossbar-only problems
            inst.design is None
            and inst.hardware.share_tiles
            and not inst.hardware.moves_data
            and all(
                b.tiles is None and b.power_w is None and b.area_mm2 is None for b in point.budgets
            )
        )
        for method in point.methods:
            if analysis is None:
                rows += [
                    {
                        **base,
                        **_budget_row(b),
                        "method": method,
                        "status": "error",
                        "message": error,
                    }
                    for b in point.budgets
                ]
            elif method == Method.DP and curve_ok:
                try:
                    rows += _curve_rows(analysis, point.budgets, base)
                except HitmError as exc:
                    rows += [
                        {**base, **_budget_row(b), "method": method, "status": "error",
                         "message": str(exc)}
                        for b in point.budgets
                    ]  # fmt: skip
            else:
                rows += _solve_rows(analysis, point, method, inst.design, base)
    for row in rows:
        for column in RESULT_COLUMNS:
            row.setdefault(column, None)
        budget = json.dumps({k: row[k] for k in BUDGET_COLUMNS}, sort_keys=True)
        row["row_key"] = _hash(point.key, budget, row["method"])
    return rows


def _hash(*parts: str) -> str:
    import hashlib

    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
