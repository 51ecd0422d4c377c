"""The ``hitm`` command line: parses arguments, calls the API, prints.

Human tables go to stdout; ``--json`` puts exactly one JSON document on
stdout instead. Errors are one line on stderr with a non-zero exit code:
2 bad input, 3 infeasible budget, 4 solver error or disagreement.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from hitm.analysis import analyze
from hitm.description.load import Instance, load_instance, read_document
from hitm.errors import DescriptionError, HitmError, InfeasibleError, SolverError
from hitm.hardware import Budget
from hitm.optimize import BACKENDS, METHODS, SolveResult, solve
from hitm.pipeline import Metrics, evaluate, naive_copies, unlimited_copies, verify
from hitm.problem import AllocationProblem, build_problem
from hitm.report import (
    analysis_json,
    analysis_table,
    baselines_table,
    compare_table,
    design_json,
    design_table,
    result_json,
)

app = typer.Typer(
    name="hitm",
    help="Design high-throughput ReRAM PIM pipelines for multi-modal DNNs (HitM).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console(width=160)
err = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])

FileArg = Annotated[Path, typer.Argument(help="Instance file (.yaml, .yml or .json).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of tables.")]
ChipsOpt = Annotated[
    int | None, typer.Option("--chips", help="Budget in whole chips (overrides the file).", min=1)
]
CrossbarsOpt = Annotated[
    int | None, typer.Option("--crossbars", help="Budget in crossbars (overrides the file).", min=1)
]


def _reports_errors(func: F) -> F:
    """Turn hitm's exceptions into one stderr line and the error's exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except HitmError as exc:
            err.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


def _load(file: Path, chips: int | None = None, crossbars: int | None = None) -> Instance:
    instance = load_instance(file)
    if chips is not None or crossbars is not None:
        instance = dataclasses.replace(instance, budget=Budget(chips=chips, crossbars=crossbars))
    return instance


def _problem(instance: Instance) -> AllocationProblem:
    problem = build_problem(analyze(instance.network, instance.hardware), instance.budget)
    short = problem.shortfall()
    if short:
        hw = instance.hardware
        need = dict(zip(problem.resources, (int(n) for n in problem.naive_cost()), strict=True))
        chips = -(-need["crossbars"] // hw.crossbars_per_chip)
        if "tiles" in need:
            chips = max(chips, -(-need["tiles"] // hw.tiles_per_chip))
        needs = " and ".join(f"{n:,} {r}" for r, n in need.items())
        gaps = ", ".join(f"{v:,} {r} short" for r, v in short.items())
        raise InfeasibleError(
            f"budget: {instance.budget.describe(hw)} cannot hold one copy of every layer:"
            f" the naive design needs {needs} ({chips} chip{'s' if chips != 1 else ''}); {gaps}"
        )
    return problem


def _emit_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")


@app.command("analyze")
@_reports_errors
def analyze_cmd(
    file: FileArg,
    as_json: JsonOpt = False,
    all_layers: Annotated[
        bool, typer.Option("--all", help="Also list layers without weights.")
    ] = False,
) -> None:
    """Static analysis: per-layer params, MACs, crossbars, steps, parallel work."""
    instance = _load(file)
    analysis = analyze(instance.network, instance.hardware)
    if as_json:
        _emit_json(analysis_json(analysis))
        return
    out.print(analysis_table(analysis, all_layers))
    hw = instance.hardware
    out.print(
        f"one MVM = {hw.input_slices} bit-slices × {hw.cycle_ps / 1e3:g} ns = {hw.mvm_ps / 1e6:g} µs;"
        f" {hw.slices} columns per {hw.weight_bits}-bit weight; {hw.crossbars_per_chip:,} crossbars per chip"
    )


def _read_copies(path: Path) -> dict[str, Any]:
    doc = read_document(path)
    if isinstance(doc, dict) and set(doc) == {"copies"}:
        doc = doc["copies"]
    if not isinstance(doc, dict):
        raise DescriptionError(f"{path}: expected a mapping of layer names to copy counts")
    return doc


@app.command("evaluate")
@_reports_errors
def evaluate_cmd(
    file: FileArg,
    copies: Annotated[Path, typer.Option("--copies", help="YAML/JSON mapping: layer -> copies.")],
    chips: ChipsOpt = None,
    crossbars: CrossbarsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Score an allocation (copies per layer) beside the naive and unlimited designs."""
    instance = _load(file, chips, crossbars)
    problem = _problem(instance)
    wanted = _read_copies(copies)
    design = evaluate(problem, wanted)
    if not design.fits:
        over = ", ".join(
            f"{design.usage[r]:,} {r} of {design.capacity[r]:,}"
            for r in design.usage
            if design.usage[r] > design.capacity[r]
        )
        raise InfeasibleError(f"{copies}: the allocation does not fit the budget: uses {over}")
    naive = evaluate(problem, naive_copies(problem))
    unlimited = evaluate(problem, unlimited_copies(problem))
    if as_json:
        _emit_json(
            {
                "network": instance.network.name,
                "design": design_json(design, unlimited),
                "naive": design_json(naive, unlimited),
                "unlimited": design_json(unlimited, unlimited),
            }
        )
        return
    out.print(design_table(design, f"{instance.network.name}: design from {copies}"))
    out.print(
        baselines_table(
            problem, {"design": design, "naive": naive, "unlimited": unlimited}, unlimited
        )
    )


MethodOpt = Annotated[str, typer.Option("--method", "-m", help=f"Solver: {', '.join(METHODS)}.")]
TimeOpt = Annotated[
    float, typer.Option("--time-limit", help="Seconds for cpsat and ilp.", min=0.01)
]
BackendOpt = Annotated[str, typer.Option("--backend", help="MILP backend for ilp: highs or cbc.")]


def _baselines(problem: AllocationProblem) -> tuple[Metrics, Metrics]:
    return evaluate(problem, naive_copies(problem)), evaluate(problem, unlimited_copies(problem))


def _solved(problem: AllocationProblem, result: SolveResult) -> Metrics:
    """The verified design of a result, or the error a user should see."""
    metrics = verify(problem, result)
    if metrics is not None:
        return metrics
    if result.status == "infeasible":
        raise InfeasibleError(f"{result.label}: infeasible: {result.message}")
    raise SolverError(f"{result.label}: {result.status}: {result.message or 'no allocation found'}")


@app.command("solve")
@_reports_errors
def solve_cmd(
    file: FileArg,
    method: MethodOpt = "dp",
    chips: ChipsOpt = None,
    crossbars: CrossbarsOpt = None,
    time_limit: TimeOpt = 10.0,
    backend: BackendOpt = "highs",
    as_json: JsonOpt = False,
) -> None:
    """Choose copies per layer for the highest throughput within the budget."""
    instance = _load(file, chips, crossbars)
    problem = _problem(instance)
    result = solve(problem, method, time_limit, backend=backend)
    design = _solved(problem, result)
    naive, unlimited = _baselines(problem)
    if as_json:
        _emit_json(
            {
                "network": instance.network.name,
                **result_json(result),
                **design_json(design, unlimited),
                "crossbars_budget": int(problem.capacity[0]),
                "naive": design_json(naive, unlimited),
                "unlimited": design_json(unlimited, unlimited),
            }
        )
        return
    proof = f"{result.status} in {result.seconds:.3f} s"
    if result.message:
        proof += f" ({result.message})"
    out.print(design_table(design, f"{instance.network.name}: {result.label} design, {proof}"))
    out.print(
        baselines_table(
            problem, {result.label: design, "naive": naive, "unlimited": unlimited}, unlimited
        )
    )


@app.command("compare")
@_reports_errors
def compare_cmd(
    file: FileArg,
    chips: ChipsOpt = None,
    crossbars: CrossbarsOpt = None,
    time_limit: TimeOpt = 10.0,
    as_json: JsonOpt = False,
) -> None:
    """Run every method on the same problem; exit 4 if two proven optima disagree."""
    instance = _load(file, chips, crossbars)
    problem = _problem(instance)
    results = [solve(problem, m, time_limit) for m in METHODS if m != "ilp"]
    results += [solve(problem, "ilp", time_limit, backend=b) for b in BACKENDS]
    results = [r for r in results if not (r.method == "ilp" and "not available" in r.message)]
    for r in results:
        verify(problem, r)
    _, unlimited = _baselines(problem)
    optima = {(r.bottleneck_ps, r.crossbars_used) for r in results if r.status == "optimal"}
    agree = len(optima) <= 1
    bounds = [r.bound_ps for r in results if r.bound_ps is not None]
    best_bound = max(bounds) if bounds else None
    if as_json:
        _emit_json(
            {
                "network": instance.network.name,
                "crossbars_budget": int(problem.capacity[0]),
                "best_bound_ps": best_bound,
                "unlimited_bottleneck_ps": unlimited.bottleneck_ps,
                "results": [result_json(r, best_bound) for r in results],
                "agree": agree,
            }
        )
    else:
        out.print(compare_table(problem, results, best_bound, unlimited))
        verdict = "all proven optima agree" if agree else "DISAGREEMENT between proven optima"
        out.print(f"{verdict}; best proven bound {best_bound} ps")
    if not agree:
        pairs = ", ".join(
            f"{r.label}: ({r.bottleneck_ps} ps, {r.crossbars_used} crossbars)"
            for r in results
            if r.status == "optimal"
        )
        raise SolverError(f"exact methods disagree: {pairs}")


def main() -> None:  # pragma: no cover - console entry for python -m hitm
    app()
