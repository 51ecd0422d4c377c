"""The ``hitm`` command line: parses arguments, calls the API, prints.

Human tables go to stdout; ``--json`` puts exactly one JSON document on
stdout instead. Errors are one line on stderr with a non-zero exit code:
2 bad input, 3 infeasible budget, 4 solver error or disagreement.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import tempfile
from collections.abc import Callable
from fractions import Fraction
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from hitm.analysis import analyze
from hitm.budget import Budget, DesignSpace, load_design
from hitm.costs import cost_table
from hitm.description.load import Instance, load_instance, parse_instance, read_document
from hitm.description.ops import WEIGHT_OPS
from hitm.errors import DescriptionError, HitmError, InfeasibleError, SolverError, suggest
from hitm.frontier import (
    FRONTIER_RESOURCES,
    KNEE_MIN_LIFT,
    Frontier,
    frontier,
    frontier_json,
    resource_spec,
)
from hitm.hardware import PRESETS, Hardware, load_hardware
from hitm.optimize import METHODS, SolveResult, solve, variants
from hitm.pipeline import (
    Metrics,
    evaluate,
    naive_copies,
    unlimited_adcs,
    unlimited_copies,
    verify,
)
from hitm.problem import AllocationProblem, build_problem, naive_chips
from hitm.report import (
    analysis_json,
    analysis_table,
    baselines_table,
    compare_table,
    costs_json,
    costs_table,
    design_json,
    design_table,
    fmt_amount,
    fmt_pct,
    fmt_rate,
    fmt_time,
    hardware_json,
    hardware_peak_table,
    hardware_table,
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

FileArg = Annotated[
    Path, typer.Argument(help="Instance file (.yaml, .yml or .json) or ONNX model (.onnx).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of tables.")]
ChipsOpt = Annotated[
    int | None, typer.Option("--chips", help="Budget in whole chips (overrides the file).", min=1)
]
CrossbarsOpt = Annotated[
    int | None, typer.Option("--crossbars", help="Budget in crossbars (overrides the file).", min=1)
]
TilesOpt = Annotated[int | None, typer.Option("--tiles", help="Cap on tiles.", min=1)]
PowerOpt = Annotated[
    float | None,
    typer.Option(
        "--power-w", help="Cap on the provisioned power of the tiles used, in W.", min=0.0
    ),
]
AreaOpt = Annotated[
    float | None,
    typer.Option("--area-mm2", help="Cap on the area of the tiles used, in mm².", min=0.0),
]
DesignOpt = Annotated[
    bool,
    typer.Option("--design", help="Design mode: each layer also chooses its ADCs per crossbar."),
]
AdcsOpt = Annotated[
    str | None,
    typer.Option(
        "--adcs", help="Design mode's ADCs per crossbar, e.g. 1,2,4,8 (implies --design)."
    ),
]
PlotOpt = Annotated[
    Path | None,
    typer.Option("--plot", help="Also draw a plot to this file; .png or .svg sets the format."),
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


def _load(
    file: Path,
    chips: int | None = None,
    crossbars: int | None = None,
    *,
    tiles: int | None = None,
    power_w: float | None = None,
    area_mm2: float | None = None,
    design: bool = False,
    adcs: str | None = None,
) -> Instance:
    """Load an instance and apply the command line's budget and design options.

    ``--chips``/``--crossbars`` replace the file's chips and crossbars; the
    other budget options replace only the field they name.
    """
    instance = load_instance(file)
    budget = instance.budget
    if chips is not None or crossbars is not None:
        budget = dataclasses.replace(budget, chips=chips, crossbars=crossbars)
    elif file.suffix.lower() == ".onnx":  # ONNX holds no budget
        budget = _fewest_chips(instance)
    limits = {"tiles": tiles, "power_w": power_w, "area_mm2": area_mm2}
    for key, value in limits.items():
        if value is not None and not value > 0:
            raise DescriptionError(f"--{key.replace('_', '-')}: must be positive, got {value}")
    budget = dataclasses.replace(budget, **{k: v for k, v in limits.items() if v is not None})
    space = instance.design
    if adcs is not None:
        try:
            choices = [int(a) for a in adcs.split(",")]
        except ValueError:
            raise DescriptionError(
                f"--adcs: expected integers like 1,2,4,8, got {adcs!r}"
            ) from None
        read_ns = space.read_ns if space else DesignSpace().read_ns
        space = load_design({"adcs": choices, "read_ns": read_ns}, "--adcs")
    elif design and space is None:
        space = DesignSpace()
    return dataclasses.replace(instance, budget=budget, design=space)


def _fewest_chips(instance: Instance) -> Budget:
    """The fewest whole chips that hold one copy of every layer (the naive design)."""
    return Budget(chips=naive_chips(analyze(instance.network, instance.hardware)))


def _problem(instance: Instance) -> AllocationProblem:
    problem = build_problem(
        analyze(instance.network, instance.hardware), instance.budget, design=instance.design
    )
    if problem.shortfall():
        raise InfeasibleError(f"budget: {problem.shortfall_message()}")
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


@app.command("import")
@_reports_errors
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
    from hitm.description.load import onnx_document
    from hitm.description.onnx import dump_document  # loads onnx only here

    if file.suffix.lower() != ".onnx":
        raise DescriptionError(f"{file}: import reads an ONNX model (.onnx)")
    if output is not None:
        if output.resolve() == file.resolve():
            raise DescriptionError(f"{output}: is the model being imported")
        if output.exists() and not force:
            raise DescriptionError(f"{output}: already exists (use --force to overwrite)")
    doc = onnx_document(file)
    instance = parse_instance(doc, default_name=file.stem)
    if chips is not None or crossbars is not None:
        doc["budget"] = {
            k: v for k, v in (("chips", chips), ("crossbars", crossbars)) if v is not None
        }
        origin = "from the command line"
    else:
        doc["budget"] = {"chips": _fewest_chips(instance).chips}
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
    _write_whole(output, text)
    n_weight = sum(1 for layer in instance.network.layers if layer.op in WEIGHT_OPS)
    budget = Budget(**doc["budget"]).describe(instance.hardware)
    err.print(
        f"wrote {output}: {len(instance.network.layers)} layers ({n_weight} with weights),"
        f" budget {budget}",
        highlight=False,
        markup=False,
    )


def _write_whole(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` all at once: a failure leaves no half-written file."""
    tmp = None
    try:
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
        ) as handle:
            tmp = Path(handle.name)
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise DescriptionError(f"{path}: cannot write ({exc.strerror or exc})") from None


def _read_copies(path: Path) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Copies per layer, and ADCs per crossbar per layer if given (design mode).

    Either a plain mapping ``layer: copies`` or ``{copies: {...}, adcs: {...}}``.
    """
    doc = read_document(path)
    adcs = None
    if isinstance(doc, dict) and "copies" in doc and set(doc) <= {"copies", "adcs"}:
        doc, adcs = doc["copies"], doc.get("adcs")
        if not isinstance(adcs, dict | None):
            raise DescriptionError(f"{path}: adcs must map layer names to ADCs per crossbar")
    if not isinstance(doc, dict):
        raise DescriptionError(f"{path}: expected a mapping of layer names to copy counts")
    return doc, adcs


@app.command("evaluate")
@_reports_errors
def evaluate_cmd(
    file: FileArg,
    copies: Annotated[Path, typer.Option("--copies", help="YAML/JSON mapping: layer -> copies.")],
    chips: ChipsOpt = None,
    crossbars: CrossbarsOpt = None,
    tiles: TilesOpt = None,
    power_w: PowerOpt = None,
    area_mm2: AreaOpt = None,
    design: DesignOpt = False,
    adcs: AdcsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Score an allocation (copies per layer) beside the naive and unlimited designs."""
    instance = _load(
        file,
        chips,
        crossbars,
        tiles=tiles,
        power_w=power_w,
        area_mm2=area_mm2,
        design=design,
        adcs=adcs,
    )
    problem = _problem(instance)
    wanted, wanted_adcs = _read_copies(copies)
    metrics = evaluate(problem, wanted, wanted_adcs)
    if not metrics.fits:
        over = ", ".join(
            f"{fmt_amount(r, metrics.usage[r])} of {fmt_amount(r, metrics.capacity[r])}"
            for r in metrics.capacity
            if metrics.usage[r] > metrics.capacity[r]
        )
        raise InfeasibleError(f"{copies}: the allocation does not fit the budget: uses {over}")
    naive, unlimited = _baselines(problem)
    if as_json:
        _emit_json(
            {
                "network": instance.network.name,
                "design": design_json(metrics, unlimited),
                "naive": design_json(naive, unlimited),
                "unlimited": design_json(unlimited, unlimited),
            }
        )
        return
    title = f"{instance.network.name}: design from {copies}"
    out.print(design_table(metrics, title, adcs=problem.design is not None))
    designs = {"design": metrics, "naive": naive, "unlimited": unlimited}
    out.print(baselines_table(problem, designs, unlimited))
    out.print(costs_table(designs))


MethodOpt = Annotated[str, typer.Option("--method", "-m", help=f"Solver: {', '.join(METHODS)}.")]
TimeOpt = Annotated[
    float, typer.Option("--time-limit", help="Seconds for cpsat and ilp.", min=0.01)
]
BackendOpt = Annotated[str, typer.Option("--backend", help="MILP backend for ilp: highs or cbc.")]


def _baselines(problem: AllocationProblem) -> tuple[Metrics, Metrics]:
    """The naive design and the unlimited optimum (fastest copies and ADCs, no budget)."""
    unlimited = evaluate(problem, unlimited_copies(problem), unlimited_adcs(problem))
    return evaluate(problem, naive_copies(problem)), unlimited


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
    tiles: TilesOpt = None,
    power_w: PowerOpt = None,
    area_mm2: AreaOpt = None,
    design: DesignOpt = False,
    adcs: AdcsOpt = None,
    time_limit: TimeOpt = 10.0,
    backend: BackendOpt = "highs",
    as_json: JsonOpt = False,
    plot: PlotOpt = None,
) -> None:
    """Choose copies per layer for the highest throughput within the budget.

    --plot draws each stage's busy time as a bar, the bottleneck highlighted
    and the period T marked.
    """
    if plot is not None:
        from hitm.plots import check_plot_path  # matplotlib loads only when plotting

        check_plot_path(plot)
    instance = _load(
        file,
        chips,
        crossbars,
        tiles=tiles,
        power_w=power_w,
        area_mm2=area_mm2,
        design=design,
        adcs=adcs,
    )
    problem = _problem(instance)
    result = solve(problem, method, time_limit, backend=backend)
    design = _solved(problem, result)
    naive, unlimited = _baselines(problem)
    if plot is not None:
        from hitm.plots import plot_stages

        title = f"{instance.network.name}: {result.label} design, busy time per stage"
        _wrote(plot_stages(design, plot, title=title))
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
    title = f"{instance.network.name}: {result.label} design, {proof}"
    out.print(design_table(design, title, adcs=problem.design is not None))
    designs = {result.label: design, "naive": naive, "unlimited": unlimited}
    out.print(baselines_table(problem, designs, unlimited))
    out.print(costs_table(designs))


@app.command("compare")
@_reports_errors
def compare_cmd(
    file: FileArg,
    chips: ChipsOpt = None,
    crossbars: CrossbarsOpt = None,
    tiles: TilesOpt = None,
    power_w: PowerOpt = None,
    area_mm2: AreaOpt = None,
    design: DesignOpt = False,
    adcs: AdcsOpt = None,
    time_limit: TimeOpt = 10.0,
    as_json: JsonOpt = False,
) -> None:
    """Run every method on the same problem; exit 4 if two proven optima disagree."""
    instance = _load(
        file,
        chips,
        crossbars,
        tiles=tiles,
        power_w=power_w,
        area_mm2=area_mm2,
        design=design,
        adcs=adcs,
    )
    problem = _problem(instance)
    results = [solve(problem, m, time_limit, backend=b) for m, b in variants()]
    results = [r for r in results if not (r.method == "ilp" and "not available" in r.message)]
    designs = {r.label: m for r in results if (m := verify(problem, r)) is not None}
    _, unlimited = _baselines(problem)
    optima = {(r.bottleneck_ps, r.crossbars_used) for r in results if r.status == "optimal"}
    agree = len(optima) <= 1
    bounds = [r.bound_ps for r in results if r.bound_ps is not None]
    best_bound = max(bounds) if bounds else None
    capacity = problem.capacities()
    if as_json:
        _emit_json(
            {
                "network": instance.network.name,
                "crossbars_budget": int(problem.capacity[0]),
                "best_bound_ps": best_bound,
                "unlimited_bottleneck_ps": unlimited.bottleneck_ps,
                "results": [
                    {
                        **result_json(r, best_bound, capacity),
                        "energy": costs_json(designs[r.label].costs),
                    }
                    if r.label in designs
                    else result_json(r, best_bound, capacity)
                    for r in results
                ],
                "agree": agree,
            }
        )
    else:
        out.print(compare_table(problem, results, best_bound, unlimited))
        out.print(costs_table(designs))
        verdict = "all proven optima agree" if agree else "DISAGREEMENT between proven optima"
        out.print(f"{verdict}; best proven bound {best_bound} ps")
    if not agree:
        pairs = ", ".join(
            f"{r.label}: ({r.bottleneck_ps} ps, {r.crossbars_used} crossbars)"
            for r in results
            if r.status == "optimal"
        )
        raise SolverError(f"exact methods disagree: {pairs}")


def _wrote(path: Path) -> None:
    err.print(f"wrote {path}", highlight=False, markup=False)


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
@_reports_errors
def pareto_cmd(
    file: FileArg,
    resource: ResourceOpt = "crossbars",
    chips: ChipsOpt = None,
    crossbars: CrossbarsOpt = None,
    tiles: TilesOpt = None,
    power_w: PowerOpt = None,
    area_mm2: AreaOpt = None,
    design: DesignOpt = False,
    adcs: AdcsOpt = None,
    up_to: UpToOpt = None,
    as_json: JsonOpt = False,
    plot: PlotOpt = None,
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
    or without one the power or area of its crossbars).
    """
    spec = resource_spec(resource)
    if plot is not None:
        from hitm.plots import check_plot_path  # matplotlib loads only when plotting

        check_plot_path(plot)
    instance = _load(
        file,
        chips,
        crossbars,
        tiles=tiles,
        power_w=power_w,
        area_mm2=area_mm2,
        design=design,
        adcs=adcs,
    )
    cap = None
    if up_to is not None:
        if not up_to > 0:
            raise DescriptionError(f"--up-to: must be positive, got {up_to}")
        cap = math.floor(Fraction(str(up_to)) * spec.scale)
    analysis = analyze(instance.network, instance.hardware)
    front = frontier(analysis, resource, design=instance.design, budget=instance.budget, up_to=cap)
    if plot is not None:
        from hitm.plots import plot_frontier

        _wrote(plot_frontier(front, plot))
    if as_json:
        _emit_json(frontier_json(front))
        return
    out.print(_frontier_table(front))
    for line in _frontier_notes(front, instance):
        out.print(line, highlight=False)


TABLE_ROWS = 30  # a longer frontier shows landmarks and every k-th point; --json has all


def _frontier_budget(front: Frontier, budget: int) -> str:
    value = front.user(budget)
    return f"{value:,}" if front.scale == 1 else f"{value:,.3f}"


def _frontier_table(front: Frontier) -> Table:
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
    step = max(1, math.ceil(n / TABLE_ROWS))
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
        b, ps = int(front.budget[i]), int(front.bottleneck_ps[i])
        mark = ", ".join(marks.get(i, []))
        t.add_row(
            f"{i:,}",
            _frontier_budget(front, b),
            fmt_time(ps),
            fmt_rate(1e12 / ps),
            fmt_pct(front.unlimited_ps / ps),
            mark,
            style="bold" if mark else None,
        )
    return t


def _frontier_notes(front: Frontier, instance: Instance) -> list[str]:
    """The frontier's landmarks in words."""
    unit = front.unit
    hw = instance.hardware
    crossbars = instance.budget.capacity(hw)["crossbars"]
    if front.key in instance.budget.capacity(hw):
        source = f"the budget's {front.resource}"
    else:
        source = f"the provisioned {front.resource} of the budget's {crossbars:,} crossbars"

    def at(b: int, ps: int) -> str:
        pct = fmt_pct(front.unlimited_ps / ps)
        return f"{_frontier_budget(front, b)} {unit}: {fmt_time(ps)}, {pct} of unlimited"

    lines = [
        f"naive design (one copy of every layer{', fewest ADCs' if front.design else ''}):"
        f" {at(front.naive.budget, front.naive.bottleneck_ps)}",
        f"ceiling: {fmt_time(front.unlimited_ps)} from {_frontier_budget(front, front.unlimited.budget)}"
        f" {unit} on (every layer at its fastest would use"
        f" {_frontier_budget(front, front.unlimited_design_budget)} {unit})",
    ]
    if front.knee is not None:
        lines.append(
            f"knee: {at(front.knee.budget, front.knee.bottleneck_ps)}"
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
            f"chosen: none; {source}, {_frontier_budget(front, front.cap)} {unit}, is below the"
            " cheapest design"
        )
    else:
        lines.append(
            f"chosen, within {_frontier_budget(front, front.cap)} {unit} ({source}):"
            f" {at(front.chosen.budget, front.chosen.bottleneck_ps)}"
        )
    if not front.complete:
        lines.append("cut at --up-to: the ceiling lies beyond")
    lines.append("every other resource is unconstrained; --json lists every breakpoint")
    return lines


def _hardware_of(spec: str) -> Hardware:
    """A preset by name, or the hardware of a YAML/JSON file (``hardware:`` or bare)."""
    if spec in PRESETS:
        return load_hardware({"preset": spec})
    path = Path(spec)
    if path.suffix.lower() not in (".yaml", ".yml", ".json") and not path.exists():
        raise DescriptionError(
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
@_reports_errors
def hardware_cmd(
    preset_or_file: Annotated[
        str,
        typer.Argument(
            help=f"A preset ({', '.join(PRESETS)}) or a YAML/JSON file with a hardware mapping."
        ),
    ] = "isaac",
    as_json: JsonOpt = False,
) -> None:
    """The component cost table: power and area per IMA, tile and chip, and peak figures."""
    table = cost_table(_hardware_of(preset_or_file))
    if as_json:
        _emit_json(hardware_json(table))
        return
    out.print(hardware_table(table))
    out.print(hardware_peak_table(table))


def main() -> None:  # pragma: no cover - console entry for python -m hitm
    app()
