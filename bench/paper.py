"""The paper's experiment: naive, hitm and unlimited designs of the multi-modal zoo.

Run from the repository root:
python bench/paper.py [--time-limit 60] [--exact cpsat ilp] [--movement-exact cpsat]
    [--movement-time-limit 20] [--no-movement]

For every multi-modal zoo instance and every budget of whole ISAAC chips in
``CHIPS`` that holds the naive design (one copy of every layer), it scores
three designs with the one pipeline model: the naive design, hitm's design
(the paper's DP, checked by ``hitm.pipeline.verify`` and re-solved by the exact
solvers, which must prove the same optimum) and the unlimited optimum (every
layer at its fastest, no budget). Any disagreement, unproven exact result or
invalid allocation stops the run with exit code 1. The CNN-only backbones are
run at their tight and default budgets in a separate table.

Writes, in bench/results/: paper.csv (one row per network, budget and design),
paper_stages.csv (busy time per stage kind at the default budget), paper.md
(the tables and the averages in the paper's two metrics) and the plots
paper_throughput.png, paper_time_by_kind.png and solvers_time.png (the last
from solvers.csv, written by bench/solvers.py). About a minute on 2 cores, data movement included.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import movement
import plots
from common import RESULTS, ROOT, ZOO, environment_lines, markdown_table, progress

from hitm import (
    AllocationProblem,
    Analysis,
    Budget,
    Metrics,
    analyze,
    build_problem,
    evaluate,
    load_instance,
    solve,
    verify,
)
from hitm.errors import HitmError
from hitm.pipeline import cheapest_reaching as cheapest_design
from hitm.pipeline import naive_copies, unlimited_copies

BACKBONES = (
    "alexnet",
    "caffenet",
    "vgg16",
    "vgg19",
    "googlenet",
    "inception_v3",
    "resnet18",
    "resnet50",
    "resnet152",
    "mobilenet_v2",
)
# Every whole chip up to 16 (every zoo default budget), then coarser steps to 64,
# where all but s2vt reach the unlimited throughput.
CHIPS = (*range(1, 17), 24, 32, 48, 64)
FIXED_CHIPS = (1, 2, 4, 8, 16, 32, 64)  # budgets the summary averages over, where they fit
PAPER_THROUGHPUT_PCT = 78.01
PAPER_HARDWARE_PCT = 64.52
KINDS = ("conv", "linear", "recurrent", "embedding", "loop")
EXACT_LABELS = {"cpsat": "cpsat", "ilp": "ilp_highs"}


class Disagreement(Exception):
    """The DP and an exact solver (or the checker) do not agree: the results are not trusted."""


@dataclass(frozen=True)
class Network:
    """One instance's budget-independent figures.

    Its analysis, naive size, unlimited design, and the fewest crossbars any
    design needs to reach the unlimited throughput and 78.01% of it.
    """

    name: str
    group: str
    analysis: Analysis
    crossbars_per_chip: int
    default_chips: int
    naive_crossbars: int
    tight_chips: int
    unlimited: Metrics
    min_crossbars_unlimited: int  # cheapest design reaching the unlimited bottleneck
    min_crossbars_paper: int  # cheapest design reaching 78.01% of the unlimited throughput


def load_network(name: str, group: str) -> Network:
    """Load ``instances/<name>.yaml`` and compute its budget-independent figures.

    Parameters
    ----------
    name
        Instance file stem.
    group
        ``zoo`` or ``backbone``: which table the network belongs to.

    Returns
    -------
    Network
        Naive size, tight budget, the unlimited design, and the fewest crossbars
        any design needs to reach the unlimited throughput and 78.01% of it.
    """
    inst = load_instance(ROOT / "instances" / f"{name}.yaml")
    analysis = analyze(inst.network, inst.hardware)
    per_chip = inst.hardware.crossbars_per_chip
    naive = sum(layer.crossbars for layer in analysis.weight_layers)
    unlimited_xb = sum(layer.crossbars * layer.parallel for layer in analysis.weight_layers)
    # A crossbar budget that holds the unlimited design keeps every option of every stage.
    problem = build_problem(analysis, Budget(crossbars=unlimited_xb))
    unlimited = evaluate(problem, unlimited_copies(problem))
    target = unlimited.bottleneck_ps * 10_000 // round(PAPER_THROUGHPUT_PCT * 100)
    return Network(
        name=name,
        group=group,
        analysis=analysis,
        crossbars_per_chip=per_chip,
        default_chips=inst.budget.chips or inst.hardware.chips,
        naive_crossbars=naive,
        tight_chips=-(-naive // per_chip),
        unlimited=unlimited,
        min_crossbars_unlimited=cheapest_reaching(problem, unlimited.bottleneck_ps),
        min_crossbars_paper=cheapest_reaching(problem, target),
    )


def cheapest_reaching(problem: AllocationProblem, bottleneck_ps: int) -> int:
    """Fewest crossbars of any design whose bottleneck is at most ``bottleneck_ps``.

    With crossbars the only resource, stages are independent once the
    bottleneck is fixed: each takes its cheapest option that is fast enough.
    The allocation is rescored by the pipeline model as a check.

    Parameters
    ----------
    problem
        An allocation problem whose stages keep all their options.
    bottleneck_ps
        The bottleneck to reach.

    Returns
    -------
    int
        Crossbars of the cheapest such design.
    """
    metrics = cheapest_design(problem, bottleneck_ps)
    if metrics.bottleneck_ps > bottleneck_ps:
        raise Disagreement(f"{problem.analysis.network.name}: cheapest-reaching check failed")
    return metrics.crossbars_used


def reaches_paper(bottleneck_ps: int, unlimited_ps: int) -> bool:
    """Whether a design has at least 78.01% of the unlimited throughput (exact, in integers)."""
    return bottleneck_ps * round(PAPER_THROUGHPUT_PCT * 100) <= unlimited_ps * 10_000


def pct(part: float, whole: float) -> float:
    """``100 · part / whole``."""
    return 100.0 * part / whole


def stage_kind(metrics: Metrics, stage_name: str) -> str:
    """The kind (conv, linear, recurrent, embedding, loop) of a design's stage."""
    return next(s.kind for s in metrics.stages if s.name == stage_name)


def design_row(
    net: Network,
    design: str,
    metrics: Metrics,
    chips: int | None,
    naive_ps: int | None,
    solve_info: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """One CSV row: a design of ``net`` at ``chips`` (None for the unlimited design).

    Parameters
    ----------
    net
        The network.
    design
        ``naive``, ``hitm`` or ``unlimited``.
    metrics
        The design scored by :func:`hitm.evaluate` or :func:`hitm.verify`.
    chips
        The budget in whole chips; None for the unbudgeted unlimited design.
    naive_ps
        The naive bottleneck at this budget, for the speed-up column.
    solve_info
        Solver statuses and times (hitm's design only).
    """
    budget = None if chips is None else chips * net.crossbars_per_chip
    costs = metrics.costs
    row: dict[str, object] = {
        "group": net.group,
        "network": net.name,
        "chips": "" if chips is None else chips,
        "budget_crossbars": "" if budget is None else budget,
        "default_budget": "yes" if chips == net.default_chips else "",
        "design": design,
        "bottleneck_ps": metrics.bottleneck_ps,
        "throughput_per_s": f"{metrics.throughput_per_s:.6g}",
        "pct_unlimited_throughput": f"{pct(net.unlimited.bottleneck_ps, metrics.bottleneck_ps):.2f}",
        "speedup_vs_naive": "" if naive_ps is None else f"{naive_ps / metrics.bottleneck_ps:.4g}",
        "crossbars_used": metrics.crossbars_used,
        "pct_budget_used": "" if budget is None else f"{pct(metrics.crossbars_used, budget):.2f}",
        "pct_ceiling_crossbars": f"{pct(metrics.crossbars_used, net.min_crossbars_unlimited):.2f}",
        "chips_used": metrics.chips_used,
        "energy_uj": f"{costs.energy_pj / 1e6:.6g}",
        "power_w": f"{costs.power_w:.6g}",
        "area_mm2": f"{costs.area_mm2:.6g}",
        "latency_ps": metrics.latency_ps,
        "bottleneck_stage": metrics.bottleneck_stage,
        "bottleneck_kind": stage_kind(metrics, metrics.bottleneck_stage),
        "stages_at_bottleneck": sum(s.busy_ps == metrics.bottleneck_ps for s in metrics.stages),
        "kinds_at_bottleneck": "+".join(
            sorted({s.kind for s in metrics.stages if s.busy_ps == metrics.bottleneck_ps})
        ),
        "dp_seconds": "",
    }
    for label in EXACT_LABELS.values():
        row[f"{label}_status"] = ""
        row[f"{label}_seconds"] = ""
    row.update(solve_info or {})
    return row


def hitm_design(
    net: Network, chips: int, exact: Sequence[str], time_limit: float
) -> tuple[AllocationProblem, Metrics, dict[str, object]]:
    """Solve with the DP, re-solve with each exact method, and insist they agree.

    Parameters
    ----------
    net
        The network.
    chips
        Budget in whole chips (must hold the naive design).
    exact
        Exact methods to check the DP with (``cpsat``, ``ilp``).
    time_limit
        Seconds allowed to each exact solve.

    Returns
    -------
    tuple
        The problem, the DP design's metrics, and the solver statuses and times.

    Raises
    ------
    Disagreement
        If a method is not proven optimal or the optima differ in bottleneck or crossbars.
    """
    problem = build_problem(net.analysis, Budget(chips=chips))
    where = f"{net.name} at {chips} chips"
    dp = solve(problem, "dp")
    if dp.status != "optimal":
        raise Disagreement(f"{where}: dp returned {dp.status} ({dp.message})")
    metrics = verify(problem, dp)
    info: dict[str, object] = {"dp_seconds": f"{dp.seconds:.4f}"}
    for method in exact:
        r = solve(problem, method, time_limit, backend="highs")
        verify(problem, r)
        label = EXACT_LABELS[method]
        info[f"{label}_status"] = r.status
        info[f"{label}_seconds"] = f"{r.seconds:.4f}"
        if r.status != "optimal":
            raise Disagreement(
                f"{where}: {r.label} is {r.status} after {r.seconds:.1f} s, not a proven optimum"
                f" ({r.message}); raise --time-limit"
            )
        if (r.bottleneck_ps, r.crossbars_used) != (dp.bottleneck_ps, dp.crossbars_used):
            raise Disagreement(
                f"{where}: dp gives ({dp.bottleneck_ps} ps, {dp.crossbars_used} crossbars) but"
                f" {r.label} proves ({r.bottleneck_ps} ps, {r.crossbars_used} crossbars)"
            )
    return problem, metrics, info


def kind_rows(net: Network, design: str, metrics: Metrics) -> list[dict[str, object]]:
    """Busy time, stage count and crossbars per stage kind of one design."""
    rows = []
    for kind in KINDS:
        stages = [s for s in metrics.stages if s.kind == kind]
        if stages:
            rows.append(
                {
                    "network": net.name,
                    "design": design,
                    "kind": kind,
                    "stages": len(stages),
                    "busy_ps": sum(s.busy_ps for s in stages),
                    "crossbars": sum(s.crossbars for s in stages),
                    "bottleneck_ps": metrics.bottleneck_ps,
                    "bottleneck_kind": stage_kind(metrics, metrics.bottleneck_stage),
                }
            )
    return rows


def run_network(
    net: Network, chips_list: Iterable[int], exact: Sequence[str], time_limit: float
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Every design of ``net`` at every budget that holds its naive design.

    Returns
    -------
    tuple
        The design rows (naive and hitm per budget, then the unlimited design)
        and the per-kind rows at the default budget.
    """
    rows: list[dict[str, object]] = []
    kinds: list[dict[str, object]] = []
    for chips in sorted({c for c in chips_list if c >= net.tight_chips}):
        progress(f"  {net.name} at {chips} chips")
        problem, hitm, info = hitm_design(net, chips, exact, time_limit)
        naive = evaluate(problem, naive_copies(problem))
        rows.append(design_row(net, "naive", naive, chips, naive.bottleneck_ps))
        rows.append(design_row(net, "hitm", hitm, chips, naive.bottleneck_ps, info))
        if chips == net.default_chips:
            kinds += kind_rows(net, "naive", naive) + kind_rows(net, "hitm", hitm)
    rows.append(design_row(net, "unlimited", net.unlimited, None, None))
    return rows, kinds


# -- summaries ---------------------------------------------------------------------


def _f(row: Mapping[str, object], key: str) -> float:
    return float(row[key])


def averages(rows: Sequence[Mapping[str, object]], nets: Sequence[Network]) -> list[list[str]]:
    """The paper's two metrics averaged over networks, under several budget rules.

    Each rule picks one budget per network; networks whose naive design does
    not fit (or that never reach the paper's share) are left out and counted.
    """
    by_key = {(r["network"], r["chips"], r["design"]): r for r in rows}
    rules: list[tuple[str, dict[str, int]]] = [
        ("tight: fewest chips holding the naive design", {n.name: n.tight_chips for n in nets}),
        ("default budget of each instance file", {n.name: n.default_chips for n in nets}),
        ("2 × tight", {n.name: 2 * n.tight_chips for n in nets}),
    ]
    rules += [(f"{c} chip{'s' * (c > 1)}", {n.name: c for n in nets}) for c in FIXED_CHIPS]
    rules.append(("smallest budget reaching ≥ 78.01%", reach_budgets(rows, nets)))
    out = []
    for label, pick in rules:
        hitm = [by_key.get((n, c, "hitm")) for n, c in pick.items()]
        naive = [by_key.get((n, c, "naive")) for n, c in pick.items()]
        hitm = [r for r in hitm if r is not None]
        naive = [r for r in naive if r is not None]
        if not hitm:
            continue
        out.append(
            [
                label,
                f"{len(hitm)} of {len(nets)}",
                f"{statistics.mean(_f(r, 'pct_unlimited_throughput') for r in hitm):.2f}%",
                f"{statistics.mean(_f(r, 'pct_budget_used') for r in hitm):.2f}%",
                f"{statistics.mean(_f(r, 'pct_ceiling_crossbars') for r in hitm):.2f}%",
                f"{statistics.mean(_f(r, 'pct_unlimited_throughput') for r in naive):.2f}%",
                f"{statistics.mean(_f(r, 'pct_budget_used') for r in naive):.2f}%",
                f"{statistics.geometric_mean(_f(r, 'speedup_vs_naive') for r in hitm):,.1f}×",
            ]
        )
    return out


def reach_budgets(rows: Sequence[Mapping[str, object]], nets: Sequence[Network]) -> dict[str, int]:
    """Per network, the smallest budget run at which hitm reaches 78.01% of unlimited."""
    out: dict[str, int] = {}
    for net in nets:
        hits = [
            int(r["chips"])
            for r in rows
            if r["network"] == net.name
            and r["design"] == "hitm"
            and reaches_paper(int(r["bottleneck_ps"]), net.unlimited.bottleneck_ps)
        ]
        if hits:
            out[net.name] = min(hits)
    return out


def reach_table(rows: Sequence[Mapping[str, object]], nets: Sequence[Network]) -> list[list[str]]:
    """Per network: what reaching 78.01% of the unlimited throughput takes."""
    reach = reach_budgets(rows, nets)
    by_key = {(r["network"], r["chips"], r["design"]): r for r in rows}
    out = []
    for net in nets:
        per_chip = net.crossbars_per_chip
        row = [
            net.name,
            f"{net.naive_crossbars:,} ({net.naive_crossbars / per_chip:.2f})",
            f"{net.unlimited.crossbars_used:,} ({net.unlimited.crossbars_used / per_chip:,.1f})",
            f"{net.min_crossbars_unlimited:,} ({net.min_crossbars_unlimited / per_chip:,.2f})",
            f"{net.min_crossbars_paper:,} ({net.min_crossbars_paper / per_chip:,.2f})",
            f"{pct(net.min_crossbars_paper, net.min_crossbars_unlimited):.2f}%",
        ]
        if net.name in reach:
            r = by_key[(net.name, reach[net.name], "hitm")]
            row += [
                str(reach[net.name]),
                f"{_f(r, 'pct_unlimited_throughput'):.2f}%",
                f"{_f(r, 'pct_budget_used'):.2f}%",
            ]
        else:
            row += [f"none ≤ {max(CHIPS)}", "", ""]
        out.append(row)
    return out


def _num(x: float) -> str:
    """Four significant figures, without exponents for numbers of 1,000 or more."""
    return f"{x:,.0f}" if x >= 1000 else f"{x:.4g}"


def _energy(uj: float) -> str:
    for unit, scale in (("J", 1e6), ("mJ", 1e3)):
        if uj >= scale:
            return f"{uj / scale:.4g} {unit}"
    return f"{uj:.4g} µJ"


def _bottleneck(row: Mapping[str, object]) -> str:
    """The bottleneck stage and kind, and how many other stages tie with it."""
    text = f"{row['bottleneck_stage']} ({row['bottleneck_kind']})"
    ties = int(str(row["stages_at_bottleneck"])) - 1
    if ties:
        text += f" + {ties} tied ({row['kinds_at_bottleneck']})"
    return text


def _time(ps: float) -> str:
    for unit, scale in (("s", 1e12), ("ms", 1e9), ("µs", 1e6)):
        if ps >= scale:
            return f"{ps / scale:.4g} {unit}"
    return f"{ps / 1e3:.4g} ns"


def network_table(rows: Sequence[Mapping[str, object]], net: Network) -> str:
    """The table of one network: the naive design, hitm's at every budget, the unlimited one."""
    mine = [r for r in rows if r["network"] == net.name]
    naive = next(r for r in mine if r["design"] == "naive")  # the same design at every budget
    header = [
        "design",
        "T",
        "throughput /s",
        "% unl. thr.",
        "crossbars",
        "% budget",
        "× naive",
        "energy/inf.",
        "power W",
        "area mm²",
        "bottleneck (kind)",
        "exact check",
    ]
    body = []
    for r in [naive, *(r for r in mine if r["design"] != "naive")]:
        design = r["design"]
        checks = [
            f"{label} {r[f'{label}_status']} {float(r[f'{label}_seconds']):.2f} s"
            for label in EXACT_LABELS.values()
            if r.get(f"{label}_status")
        ]
        if design == "naive":
            name, budget_pct = f"naive (any budget ≥ {r['chips']} chips)", ""
        elif design == "unlimited":
            name, budget_pct = "unlimited (no budget)", ""
        else:
            default = " (default)" if r["default_budget"] else ""
            name, budget_pct = (
                f"hitm, {r['chips']} chips{default}",
                f"{_f(r, 'pct_budget_used'):.2f}%",
            )
        body.append(
            [
                name,
                _time(_f(r, "bottleneck_ps")),
                _num(_f(r, "throughput_per_s")),
                f"{_f(r, 'pct_unlimited_throughput'):.2f}%",
                f"{int(r['crossbars_used']):,}",
                budget_pct,
                f"{naive_ps(net, rows) / _f(r, 'bottleneck_ps'):,.4g}",
                _energy(_f(r, "energy_uj")),
                _num(_f(r, "power_w")),
                f"{_f(r, 'area_mm2'):,.1f}",
                _bottleneck(r),
                "; ".join(checks),
            ]
        )
    return markdown_table(header, body)


def naive_ps(net: Network, rows: Sequence[Mapping[str, object]]) -> float:
    """The naive design's bottleneck of ``net`` (the same at every budget)."""
    return next(
        _f(r, "bottleneck_ps") for r in rows if r["network"] == net.name and r["design"] == "naive"
    )


def write_csv(path, rows: Sequence[Mapping[str, object]]) -> None:
    """Write ``rows`` (dicts with the same keys) to ``path``."""
    with open(path, "w", newline="") as fh:
        fields = list(dict.fromkeys(key for row in rows for key in row))
        writer = csv.DictWriter(fh, fieldnames=fields, restval="")
        writer.writeheader()
        writer.writerows(rows)


def write_markdown(
    rows: Sequence[Mapping[str, object]],
    zoo: Sequence[Network],
    backbones: Sequence[Network],
    command: str,
    seconds: float,
) -> None:
    """Write bench/results/paper.md: environment, averages, reach table, per-network tables."""
    zoo_rows = [r for r in rows if r["group"] == "zoo"]
    bb_rows = [r for r in rows if r["group"] == "backbone"]
    avg_header = [
        "budget per network",
        "networks",
        "hitm % of unlimited throughput",
        "hitm % of budget used",
        "hitm % of the ceiling design's crossbars",
        "naive % of unlimited throughput",
        "naive % of budget used",
        "hitm × naive (geo. mean)",
    ]
    reach_header = [
        "network",
        "naive crossbars (chips)",
        "unlimited design crossbars (chips)",
        "ceiling: fewest crossbars for unlimited throughput (chips)",
        "fewest crossbars for ≥ 78.01% (chips)",
        "that as % of the ceiling design",
        "smallest budget run reaching ≥ 78.01% (chips)",
        "hitm % of unlimited there",
        "hitm % of budget used there",
    ]
    text = [
        "# The paper's experiment: naive, hitm and unlimited designs",
        "",
        f"Command: `{command}` ({seconds / 60:.1f} min on this machine)",
        "",
        *environment_lines(),
        "",
        "Hardware: ISAAC (`isaac` preset). Budgets: whole chips of 16,128 crossbars, "
        f"{', '.join(map(str, CHIPS))}, each only where one copy of every layer fits. "
        "hitm's design is the DP's, checked by `hitm.pipeline.verify` and re-solved by "
        "the exact solvers named in the last column, which proved the same (bottleneck, "
        "crossbars) optimum at every budget. % budget = crossbars used / crossbars "
        "budgeted; % unl. thr. = unlimited bottleneck / design bottleneck; the ceiling "
        "design is the cheapest reaching the unlimited throughput (the unlimited design "
        "puts every layer at its fastest and uses far more). "
        "What these numbers mean and how they compare with the paper: bench/README.md.",
        "",
        "## Averages over the multi-modal zoo (arithmetic means over networks)",
        "",
        f"The paper reports {PAPER_THROUGHPUT_PCT}% of the unlimited throughput on "
        f"{PAPER_HARDWARE_PCT}% of the hardware.",
        "",
        markdown_table(avg_header, averages(zoo_rows, zoo)),
        "",
        "## What reaching 78.01% of the unlimited throughput takes",
        "",
        markdown_table(reach_header, reach_table(zoo_rows, zoo)),
        "",
        "## Per network",
        "",
        "T: the bottleneck (pipeline period); throughput is 1/T. The bottleneck stage is the "
        "first stage at T in network order (as `hitm` reports it); other stages at exactly T "
        "are counted as tied, with the kinds of all of them. The naive design is the "
        "same at every budget that holds it. Energy per inference includes the leakage of "
        "the tiles used over one period (docs/energy.md); area is the crossbars' shares of "
        "tile area, as the area budget counts it (chip links not included).",
        "",
    ]
    for net in zoo:
        text += [f"### {net.name}", "", network_table(zoo_rows, net), ""]
    if backbones:
        text += [
            "## CNN backbones (not part of the paper's experiment)",
            "",
            "Tight and default budget of each instance file.",
            "",
            markdown_table(avg_header, averages(bb_rows, backbones)[:2]),
            "",
        ]
        for net in backbones:
            text += [f"### {net.name}", "", network_table(bb_rows, net), ""]
    (RESULTS / "paper.md").write_text("\n".join(text))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--time-limit", type=float, default=60.0, help="seconds per exact solve (default 60)"
    )
    parser.add_argument(
        "--exact",
        nargs="+",
        choices=sorted(EXACT_LABELS),
        default=["cpsat", "ilp"],
        help="exact methods that must prove the DP's optimum (default: cpsat ilp)",
    )
    parser.add_argument("--no-backbones", action="store_true", help="skip the CNN backbones")
    parser.add_argument(
        "--movement-exact",
        nargs="*",
        choices=sorted(EXACT_LABELS),
        default=["cpsat"],
        help="exact methods re-solving the placed designs (default: cpsat; an unproven"
        " result is recorded in the table, a proven disagreement stops the run)",
    )
    parser.add_argument(
        "--movement-time-limit",
        type=float,
        default=20.0,
        help="seconds per exact solve of a placed design (default 20)",
    )
    parser.add_argument(
        "--no-movement",
        action="store_true",
        help="skip the run with ISAAC's interconnect (paper_movement.md)",
    )
    args = parser.parse_args()
    start = time.perf_counter()
    rows: list[dict[str, object]] = []
    kinds: list[dict[str, object]] = []
    zoo: list[Network] = []
    backbones: list[Network] = []
    try:
        for name in ZOO:
            net = load_network(name, "zoo")
            zoo.append(net)
            r, k = run_network(net, CHIPS, args.exact, args.time_limit)
            rows += r
            kinds += k
            print(
                f"{name:>14}: {len(r) // 2} budgets, {time.perf_counter() - start:.0f} s",
                file=sys.stderr,
            )
        for name in () if args.no_backbones else BACKBONES:
            net = load_network(name, "backbone")
            backbones.append(net)
            r, _ = run_network(
                net, (net.tight_chips, net.default_chips), args.exact, args.time_limit
            )
            rows += r
            print(f"{name:>14}: {time.perf_counter() - start:.0f} s", file=sys.stderr)
    except (Disagreement, HitmError) as exc:
        print(f"paper.py: results not trusted, nothing written: {exc}", file=sys.stderr)
        return 1
    ideal_seconds = time.perf_counter() - start
    moved: list[dict[str, object]] = []
    try:
        for net in () if args.no_movement else zoo:
            inst = load_instance(ROOT / "instances" / f"{net.name}.yaml")
            moved += movement.movement_rows(
                net, inst, CHIPS, rows, args.movement_exact, args.movement_time_limit, Disagreement
            )
            print(
                f"{net.name:>14}: with data movement, {time.perf_counter() - start:.0f} s",
                file=sys.stderr,
            )
    except (Disagreement, HitmError) as exc:
        print(f"paper.py: results not trusted, nothing written: {exc}", file=sys.stderr)
        return 1
    RESULTS.mkdir(parents=True, exist_ok=True)
    write_csv(RESULTS / "paper.csv", rows)
    write_csv(RESULTS / "paper_stages.csv", kinds)
    command = " ".join(["python bench/paper.py", *sys.argv[1:]])
    write_markdown(rows, zoo, backbones, command, ideal_seconds)
    if moved:
        write_csv(RESULTS / "paper_movement.csv", moved)
        movement.write_markdown(
            moved, zoo, FIXED_CHIPS, command, time.perf_counter() - start - ideal_seconds
        )
    plots.paper_plots(RESULTS)
    print(
        f"done in {time.perf_counter() - start:.0f} s; see {RESULTS / 'paper.md'}", file=sys.stderr
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
