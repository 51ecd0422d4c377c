"""The ``hitm`` commands: each parses its arguments, calls the library, prints.

Exit codes: 0 success, 2 bad input, 3 infeasible budget, 4 solver error or
disagreement (:mod:`hitm.errors`).

Each command imports the parts of hitm it uses when it runs, so that parsing a
command line, ``--help`` and ``--version`` load typer and rich only
(bench/results/startup.md; tests/test_architecture.py keeps it so).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hitm.cli.options import (
    PRESET_NAMES,
    BackendOpt,
    BudgetFlags,
    ChipsOpt,
    CrossbarsOpt,
    CsvOpt,
    FileArg,
    JsonOpt,
    MethodOpt,
    PlotOpt,
    TimeOpt,
    UsageError,
    budget_options,
    check_budget_flags,
)
from hitm.cli.output import (
    OneLineErrors,
    busy,
    emit_json,
    err,
    left_of,
    out,
    reports_errors,
    show,
    warn,
    wrote,
)
from hitm.errors import DescriptionError, InfeasibleError, suggest
from hitm.resources import FRONTIER_RESOURCES
from hitm.resources import resource as find_resource

if TYPE_CHECKING:
    import pandas as pd

    from hitm.description.load import Instance
    from hitm.hardware import Hardware
    from hitm.pipeline import Metrics
    from hitm.problem import AllocationProblem

__all__ = ["app"]

app = typer.Typer(
    cls=OneLineErrors,
    name="hitm",
    help="Design high-throughput ReRAM PIM pipelines for multi-modal DNNs (HitM).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        sys.stdout.write(f"hitm {version('hitm')}\n")
        raise typer.Exit(0)


@app.callback()
def _main(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print hitm's version and exit.",
            callback=_show_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Design high-throughput ReRAM PIM pipelines for multi-modal DNNs (HitM)."""  # fmt: skip


def _problem(instance: Instance) -> AllocationProblem:
    """The instance's allocation problem; an infeasible budget is the user's error (exit 3)."""
    from hitm.analysis import analyze
    from hitm.problem import build_problem

    problem = build_problem(
        analyze(instance.network, instance.hardware), instance.budget, design=instance.design
    )
    if problem.shortfall():
        raise InfeasibleError(f"budget: {problem.shortfall_message()}")
    return problem


def _check_plot(plot: Path | None) -> None:
    if plot is not None:
        from hitm.report.plots import check_plot_path  # matplotlib loads only when plotting

        check_plot_path(plot)


def _check_csv(path: Path | None) -> None:
    if path is not None:
        from hitm.report.frames import check_csv_path  # pandas loads only when writing CSV

        check_csv_path(path)


def _write_csv(frame_of: Callable[[], pd.DataFrame], path: Path | None) -> None:
    if path is not None:
        from hitm.report.frames import write_csv

        wrote(write_csv(frame_of(), path))


@app.command("analyze")
@reports_errors
def analyze_cmd(
    file: FileArg,
    as_json: JsonOpt = False,
    all_layers: Annotated[
        bool, typer.Option("--all", help="Also list layers without weights.")
    ] = False,
    csv: CsvOpt = None,
) -> None:
    """Static analysis: per-layer params, MACs, crossbars, steps, parallel work, data in and out.

    --all also lists layers without weights and every edge of the DAG with its
    data. --csv writes a row per layer (every layer).
    """
    from hitm.analysis import analyze
    from hitm.report.format import fmt_bits
    from hitm.report.tables import analysis_table, edges_table
    from hitm.traffic import traffic

    _check_csv(csv)
    instance = BudgetFlags().load(file)
    analysis = analyze(instance.network, instance.hardware)
    flows = traffic(analysis)
    _write_csv(analysis.to_dataframe, csv)
    warnings = instance.hardware.warnings
    if as_json:
        from hitm.report.documents import analysis_json
        from hitm.report.provenance import provenance_json

        emit_json(
            analysis_json(analysis, flows), warnings, provenance_json(file, instance.hardware)
        )
        return
    warn(warnings)
    show(analysis_table(analysis, flows, all_layers))
    if all_layers:
        show(edges_table(flows))
    out.print(
        f"every edge of the layer DAG: {fmt_bits(flows.total_bits)} per inference"
        + ("" if all_layers else " (--all lists them)")
    )
    hw = instance.hardware
    out.print(
        f"one MVM = {hw.input_slices} bit-slices × {hw.cycle_ps / 1e3:g} ns = {hw.mvm_ps / 1e6:g} µs;"
        f" {hw.slices} columns per {hw.weight_bits}-bit weight; {hw.crossbars_per_chip:,} crossbars per chip"
    )


@app.command("import")
@reports_errors
def import_cmd(
    file: Annotated[Path, typer.Argument(help="ONNX model (.onnx).")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="YAML instance file to write (default: stdout)."),
    ] = None,
    chips: ChipsOpt = None,
    crossbars: CrossbarsOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Convert an ONNX model into a YAML instance (network, ISAAC hardware, budget)."""
    from hitm.analysis import analyze
    from hitm.budget import Budget
    from hitm.description.load import onnx_document, parse_instance
    from hitm.description.onnx import dump_document  # loads onnx only here
    from hitm.description.ops import WEIGHT_OPS
    from hitm.files import write_whole
    from hitm.problem import naive_chips

    if file.suffix.lower() != ".onnx":
        raise UsageError(f"{file}: import reads an ONNX model (.onnx)")
    if output is not None:
        if output.resolve() == file.resolve():
            raise UsageError(f"{output}: is the model being imported")
        if output.exists() and not force:
            raise UsageError(f"{output}: already exists (use --force to overwrite)")
    doc = onnx_document(file)
    instance = parse_instance(doc, default_name=file.stem)
    check_budget_flags(chips=chips, crossbars=crossbars)
    if chips is not None or crossbars is not None:
        doc["budget"] = {
            k: v for k, v in (("chips", chips), ("crossbars", crossbars)) if v is not None
        }
        origin = "from the command line"
    else:
        doc["budget"] = {"chips": naive_chips(analyze(instance.network, instance.hardware))}
        origin = "the fewest whole chips holding one copy of every layer"
    header = [
        f"Imported by `hitm import` from {doc['source']}.",
        "Only the graph and the weights' shapes were read; the hardware is ISAAC's;",
        f"budget: {origin}.",
    ]
    text = dump_document(doc, header)
    if output is None:
        sys.stdout.write(text)
        return
    write_whole(output, text, exclusive=not force)
    n_weight = sum(1 for layer in instance.network.layers if layer.op in WEIGHT_OPS)
    budget = Budget(**doc["budget"]).describe(instance.hardware)

    err.print(
        f"wrote {output}: {len(instance.network.layers)} layers ({n_weight} with weights),"
        f" budget {budget}",
        highlight=False,
        markup=False,
    )


def _print_design(
    problem: AllocationProblem,
    title: str,
    label: str,
    design: Metrics,
    naive: Metrics,
    unlimited: Metrics,
) -> None:
    """A design's stages, then it beside the naive, ceiling and unlimited designs, then costs."""
    from hitm.pipeline import ceiling
    from hitm.report.format import fmt_years
    from hitm.report.tables import baselines_table, costs_table, design_table, placement_table

    show(design_table(design, title, adcs=problem.design is not None))
    if design.links or design.chip_crossbars:
        show(placement_table(design))
    designs = {label: design, "naive": naive}
    top = ceiling(problem, unlimited)
    if top is not None:
        designs["ceiling (cheapest at the unlimited throughput)"] = top
    designs["unlimited (every layer at its fastest)"] = unlimited
    show(baselines_table(problem, designs, unlimited))
    show(costs_table(designs))
    if design.lifetime_years is not None:
        hw = problem.analysis.hardware
        out.print(
            f"cell writes: {design.written_cells:,} per inference (products of two activations"
            f" write one operand each inference); at {design.throughput_per_s:,.1f}/s a cell"
            f" enduring {hw.endurance_writes:.3g} writes lasts {fmt_years(design.lifetime_years)}",
            highlight=False,
        )


def _read_copies(path: Path) -> tuple[dict, dict | None, dict | None]:
    """Copies per layer, ADCs per crossbar per layer (design mode) and MAC units per
    product (``digital: units``), the last two if given.

    Either a plain mapping ``layer: copies`` or ``{copies: {...}, adcs: {...}, units: {...}}``.
    """
    from hitm.description.load import read_document

    doc = read_document(path)
    adcs = units = None
    if isinstance(doc, dict) and "copies" in doc and set(doc) <= {"copies", "adcs", "units"}:
        doc, adcs, units = doc["copies"], doc.get("adcs"), doc.get("units")
        if not isinstance(adcs, dict | None):
            raise DescriptionError(f"{path}: adcs must map layer names to ADCs per crossbar")
        if not isinstance(units, dict | None):
            raise DescriptionError(f"{path}: units must map products to MAC units")
    if not isinstance(doc, dict):
        raise DescriptionError(f"{path}: expected a mapping of layer names to copy counts")
    return doc, adcs, units


@app.command("evaluate")
@reports_errors
@budget_options
def evaluate_cmd(
    file: FileArg,
    copies: Annotated[
        Path,
        typer.Option(
            "--copies",
            help="YAML/JSON mapping: layer -> copies (or {copies, adcs, units} sections).",
        ),
    ],
    flags: BudgetFlags,
    as_json: JsonOpt = False,
) -> None:
    """Score an allocation (copies per layer) beside the naive and unlimited designs."""
    from hitm.pipeline import baselines, evaluate
    from hitm.report.format import fmt_amount

    instance = flags.load(file)
    problem = _problem(instance)
    wanted, wanted_adcs, wanted_units = _read_copies(copies)
    metrics = evaluate(problem, wanted, wanted_adcs, units=wanted_units)
    if not metrics.fits:
        over = ", ".join(
            f"{fmt_amount(r, metrics.usage[r])} of {fmt_amount(r, metrics.capacity[r])}"
            for r in metrics.capacity
            if metrics.usage[r] > metrics.capacity[r]
        )
        raise InfeasibleError(f"{copies}: the allocation does not fit the budget: uses {over}")
    naive, unlimited = baselines(problem)
    if as_json:
        from hitm.report.documents import evaluate_json
        from hitm.report.provenance import provenance_json

        emit_json(
            evaluate_json(problem, metrics, naive, unlimited),
            instance.hardware.warnings,
            provenance_json(file, instance.hardware, problem.budget),
        )
        return
    warn(instance.hardware.warnings)
    title = f"{instance.network.name}: design from {copies}"
    _print_design(problem, title, "design", metrics, naive, unlimited)


@app.command("solve")
@reports_errors
@budget_options
def solve_cmd(
    file: FileArg,
    flags: BudgetFlags,
    method: MethodOpt = "dp",
    time_limit: TimeOpt = 10.0,
    backend: BackendOpt = "highs",
    as_json: JsonOpt = False,
    plot: PlotOpt = None,
    csv: CsvOpt = None,
) -> None:
    """Choose copies per layer for the highest throughput within the budget.

    --plot draws each stage's busy time and crossbars as bars, the
    bottleneck highlighted and the period T marked; --csv writes a row per
    stage of the design.
    """
    from hitm.optimize import solve
    from hitm.pipeline import baselines, verified

    _check_plot(plot)
    _check_csv(csv)
    instance = flags.load(file)
    problem = _problem(instance)
    limit = left_of(time_limit)
    options = sum(stage.n_options for stage in problem.stages)
    with busy(f"{method}: {options:,} options, up to {limit:.1f} s"):
        result = solve(problem, method, limit, backend=backend)
    design = verified(problem, result)
    naive, unlimited = baselines(problem)
    if plot is not None:
        from hitm.report.plots import plot_stages

        title = f"{instance.network.name}: {result.label} design, busy time per stage"
        wrote(plot_stages(design, plot, title=title))
    _write_csv(design.to_dataframe, csv)
    if as_json:
        from hitm.report.documents import solve_json
        from hitm.report.provenance import provenance_json

        emit_json(
            solve_json(problem, result, design, naive, unlimited),
            instance.hardware.warnings,
            provenance_json(file, instance.hardware, problem.budget, [result.label]),
        )
        return
    warn(instance.hardware.warnings)
    proof = f"{result.status} in {result.seconds:.3f} s"
    if result.message:
        proof += f" ({result.message})"
    title = f"{instance.network.name}: {result.label} design, {proof}"
    _print_design(problem, title, result.label, design, naive, unlimited)


@app.command("compare")
@reports_errors
@budget_options
def compare_cmd(
    file: FileArg,
    flags: BudgetFlags,
    time_limit: TimeOpt = 10.0,
    as_json: JsonOpt = False,
    csv: CsvOpt = None,
) -> None:
    """Run every method on the same problem; exit 4 if two proven optima disagree.

    --csv writes a row per method.
    """
    from hitm.comparison import compare
    from hitm.pipeline import baselines
    from hitm.report.tables import compare_table, costs_table

    _check_csv(csv)
    problem = _problem(flags.load(file))
    with busy(f"every method, up to {time_limit:g} s each"):
        comparison = compare(problem, time_limit)
    _write_csv(comparison.to_dataframe, csv)
    _, unlimited = baselines(problem)
    warnings = problem.analysis.hardware.warnings
    if as_json:
        from hitm.report.documents import compare_json
        from hitm.report.provenance import provenance_json

        labels = [r.label for r in comparison.results]
        where = provenance_json(file, problem.analysis.hardware, problem.budget, labels)
        emit_json(compare_json(problem, comparison, unlimited), warnings, where)
    else:
        warn(warnings)
        show(compare_table(problem, list(comparison.results), comparison.best_bound_ps, unlimited))
        show(costs_table(comparison.designs))
        agree = comparison.agree
        verdict = "all proven optima agree" if agree else "DISAGREEMENT between proven optima"
        out.print(f"{verdict}; best proven bound {comparison.best_bound_ps} ps")
    comparison.check_agreement()


ResourceOpt = Annotated[
    str,
    typer.Option(
        "--resource", "-r", help=f"The budgeted resource: {', '.join(FRONTIER_RESOURCES)}."
    ),
]
UpToOpt = Annotated[
    float | None,
    typer.Option(
        "--up-to",
        help="Stop the frontier at this budget, in the resource's unit (crossbars, W, mm²);"
        " default: where the unlimited throughput is first reached.",
        min=0.0,
    ),
]


@app.command("pareto")
@reports_errors
@budget_options
def pareto_cmd(
    file: FileArg,
    flags: BudgetFlags,
    resource: ResourceOpt = "crossbars",
    up_to: UpToOpt = None,
    as_json: JsonOpt = False,
    plot: PlotOpt = None,
    csv: CsvOpt = None,
) -> None:
    """The exact budget → throughput frontier of one resource, every breakpoint.

    For the resource R, with every other resource unconstrained, the least R
    reaching a bottleneck T is C(T) = Σ_stages min{cost_R(o) : busy(o) ≤ T}:
    each stage takes its cheapest option meeting T. The breakpoints are the
    bottlenecks where C changes, from the cheapest design to the least R
    reaching the unlimited throughput, computed exactly (no sampled grid).
    Marked: the naive design, the unlimited ceiling, the knee (the point
    farthest above the naive → ceiling line in normalised linear budget and
    throughput, if at least 0.05 above it) and the chosen design (the best
    within the instance's budget for R: its crossbars, its power or area cap,
    or without one the power or area of its crossbars). --csv writes a row
    per breakpoint.
    """
    from hitm.analysis import analyze
    from hitm.frontier import frontier
    from hitm.report.tables import frontier_notes, frontier_table

    spec = find_resource(resource, frontier=True)
    _check_plot(plot)
    _check_csv(csv)
    instance = flags.load(file)
    cap = None
    if up_to is not None:
        if not up_to > 0:
            raise UsageError(f"--up-to: must be positive, got {up_to}")
        cap = spec.to_units(up_to)
    analysis = analyze(instance.network, instance.hardware)
    with busy(f"the exact {resource} frontier"):
        front = frontier(
            analysis, resource, design=instance.design, budget=instance.budget, up_to=cap
        )
    if plot is not None:
        from hitm.report.plots import plot_frontier

        wrote(plot_frontier(front, plot))
    _write_csv(front.to_dataframe, csv)
    if as_json:
        from hitm.report.documents import frontier_json
        from hitm.report.provenance import provenance_json

        emit_json(
            frontier_json(front),
            instance.hardware.warnings,
            provenance_json(file, instance.hardware, instance.budget),
        )
        return
    warn(instance.hardware.warnings)
    show(frontier_table(front))
    for line in frontier_notes(front, instance.budget, instance.hardware):
        out.print(line, highlight=False)


@app.command("schema")
@reports_errors
def schema_cmd(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the schema to this file (default: stdout)."),
    ] = None,
    for_sweep: Annotated[
        bool, typer.Option("--sweep", help="The sweep spec's schema instead of an instance's.")
    ] = False,
) -> None:
    """The instance (or sweep spec) format as JSON Schema, for editors with a YAML language server.

    Put `# yaml-language-server: $schema=<path to the file>` at the top of an
    instance file to have it completed and checked as you type.
    """
    import json

    from hitm.files import write_whole

    if for_sweep:
        from hitm.sweeps.spec import sweep_schema as schema
    else:
        from hitm.description.schema import instance_schema as schema

    text = json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    wrote(write_whole(output, text))


def _hardware_of(spec: str) -> Hardware:
    """A preset by name, or the hardware of a YAML/JSON file (``hardware:`` or bare)."""
    from hitm.description.load import read_document
    from hitm.hardware import PRESETS, load_hardware

    if spec in PRESETS:
        return load_hardware({"preset": spec})
    path = Path(spec)
    if path.suffix.lower() not in (".yaml", ".yml", ".json") and not path.exists():
        raise UsageError(
            f"unknown preset '{spec}'{suggest(spec, PRESETS)}; known: {', '.join(PRESETS)}"
            " (or give a .yaml/.json file)"
        )
    doc = read_document(path)
    if isinstance(doc, dict) and "hardware" in doc:
        doc = doc["hardware"]
    if doc is not None and not isinstance(doc, dict):
        raise DescriptionError(f"{path}: expected a hardware mapping (or an instance with one)")
    return load_hardware(doc)


@app.command("hardware")
@reports_errors
def hardware_cmd(
    preset_or_file: Annotated[
        str,
        typer.Argument(
            help=f"A preset ({', '.join(PRESET_NAMES)}) or a YAML/JSON file with a hardware mapping."
        ),
    ] = "isaac",
    as_json: JsonOpt = False,
) -> None:
    """The component cost table: power and area per IMA, tile and chip, and peak figures."""
    from hitm.costs import cost_table
    from hitm.report.tables import hardware_peak_table, hardware_table

    table = cost_table(_hardware_of(preset_or_file))
    if as_json:
        from hitm.report.documents import hardware_json

        emit_json(hardware_json(table))  # carries its own warnings
        return
    warn(table.hardware.warnings)
    show(hardware_table(table))
    show(hardware_peak_table(table))


@app.command("sweep")
@reports_errors
def sweep_cmd(
    spec: Annotated[Path, typer.Argument(help="Sweep spec (.yaml, .yml or .json).")],
    store: Annotated[
        Path | None,
        typer.Option("--store", help="DuckDB file of results (default: <spec>.duckdb beside it)."),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", help="Local worker processes (1: in this process).", min=1)
    ] = 1,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="An existing Dask scheduler, e.g. tcp://host:8786."),
    ] = None,
    csv: Annotated[Path | None, typer.Option("--csv", help="Also write the rows as CSV.")] = None,
    parquet: Annotated[
        Path | None, typer.Option("--parquet", help="Also write the rows as Parquet.")
    ] = None,
) -> None:
    """Sweep networks × hardware points × budgets × methods; resumable from its store.

    Every point already in the store is skipped, so a sweep stopped at any moment
    picks up where it was. Rows: one per (network, hardware point, budget,
    method), with the design's throughput, bottleneck, what binds, crossbars,
    energy, power and area (README, "Sweeps").
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    from hitm.sweeps import Store, load_spec, run_sweep

    class Rate(ProgressColumn):
        def render(self, task) -> Text:
            return Text(f"{task.speed:,.1f} points/s" if task.speed else "")

    parsed = load_spec(spec)
    where = store or spec.with_suffix(".duckdb")
    bar = Progress(
        TextColumn("sweep"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("points"),
        Rate(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err.console,
    )
    with Store(where) as db, bar:
        task = bar.add_task("points", total=None)
        run = run_sweep(
            parsed,
            db,
            workers=workers,
            scheduler=scheduler,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
        keys = {p.key for p in parsed.points}
        if csv is not None:
            db.export(csv, "csv", keys)
        if parquet is not None:
            db.export(parquet, "parquet", keys)
    statuses = ", ".join(f"{n:,} {s}" for s, n in sorted(run.statuses.items()))
    err.print(
        f"{parsed.name}: {run.points:,} points run ({run.skipped:,} already stored),"
        f" {run.rows:,} rows ({statuses or 'none'}) in {run.seconds:.1f} s,"
        f" {run.points_per_s:,.1f} points/s; store {where}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    for reason, n in run.failures.most_common(5):
        err.print(f"  {n:,} rows: {reason}", highlight=False, markup=False, soft_wrap=True)
    if csv is not None:
        wrote(csv)
    if parquet is not None:
        wrote(parquet)


@app.command("sweep-report")
@reports_errors
def sweep_report_cmd(
    store: Annotated[Path, typer.Argument(help="A sweep's DuckDB store.")],
    pareto: Annotated[
        str,
        typer.Option(
            "--pareto",
            help="Objectives of the front: throughput, area, power, energy, crossbars, efficiency.",
        ),
    ] = "throughput,area",
    plot: PlotOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The non-dominated designs of a sweep over the chosen objectives, and their plot."""
    from hitm.report.sweep import pareto_front, plot_sweep, sweep_table
    from hitm.sweeps import Store

    _check_plot(plot)
    if not store.is_file():
        raise UsageError(f"{store}: no such sweep store")
    with Store(store) as db:
        frame = db.frame()
    objectives = [o.strip() for o in pareto.split(",") if o.strip()]
    front = pareto_front(frame, objectives)
    if plot is not None:
        wrote(plot_sweep(frame, front, plot, objectives))
    if as_json:
        emit_json(
            {
                "store": str(store),
                "objectives": objectives,
                "rows": len(frame),
                "front": json.loads(front.to_json(orient="records")),
            }
        )
        return
    show(sweep_table(front, f"{store}: {len(front):,} non-dominated of {len(frame):,} rows"))
