"""The paper's experiment with data movement priced: ISAAC's interconnect beside `ideal`.

Run by bench/paper.py (``--no-movement`` skips it). For every multi-modal zoo
instance and every budget of ``paper.CHIPS``, the same network on the ISAAC
preset with ``interconnect: isaac``:

- **aware**: the placed DP (copies and cuts chosen together, exact), checked by
  ``hitm.pipeline.verify`` and re-solved by the exact solvers with placement
  (``--movement-exact``, CP-SAT by default): a proven optimum must be the same
  (period, crossbars), an unproven one is recorded in the "exact check" column;
- **blind**: the crossbar-only optimum laid out chip after chip in order, then
  priced with its links (``greedy`` with placement): what ignoring data
  movement costs;
- **ideal**: bench/paper.py's own design (free data movement), for reference.

Throughput is given as a share of the one unlimited ceiling of paper.md (every
layer at its fastest, data movement free), so the three columns compare.
Writes bench/results/paper_movement.csv and paper_movement.md.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence

from common import RESULTS, environment, markdown_table, progress

from hitm import Budget, analyze, build_problem, solve, verify
from hitm.description.load import Instance
from hitm.hardware import load_hardware
from hitm.pipeline import Metrics


def placed_analysis(inst: Instance):
    """The instance's network on ISAAC with ISAAC's interconnect."""
    return analyze(inst.network, load_hardware({"preset": "isaac", "interconnect": "isaac"}))


def _binds(metrics: Metrics) -> str:
    """What sets T, and the busiest link when it is within 1% of T without setting it."""
    if metrics.bottleneck_kind == "link":
        return metrics.bottleneck_stage
    what = (f"eDRAM of {metrics.bottleneck_stage}" if metrics.bottleneck_kind == "edram"
            else f"stage {metrics.bottleneck_stage}")  # fmt: skip
    busiest = max(metrics.links, key=lambda link: link.busy_ps, default=None)
    if busiest is not None and busiest.busy_ps >= 0.99 * metrics.bottleneck_ps:
        share = 100 * busiest.busy_ps / metrics.bottleneck_ps
        what += f"; {busiest.name} at {share:.1f}%"
    return what


def movement_rows(
    net,
    inst: Instance,
    chips_list: Iterable[int],
    ideal_rows: Sequence[Mapping[str, object]],
    exact: Sequence[str],
    time_limit: float,
    disagreement: type[Exception],
) -> list[dict[str, object]]:
    """One row per budget: the aware, blind and ideal designs of ``net`` side by side."""
    analysis = placed_analysis(inst)
    ideal = {
        r["chips"]: r for r in ideal_rows if r["network"] == net.name and r["design"] == "hitm"
    }
    unlimited_ps = net.unlimited.bottleneck_ps
    rows = []
    for chips in chips_list:
        if chips not in ideal:
            continue  # the naive design does not fit: paper.md leaves the budget out too
        where = f"{net.name} at {chips} chips (interconnect: isaac)"
        progress(f"  {where}")
        problem = build_problem(analysis, Budget(chips=chips))
        budget = chips * net.crossbars_per_chip
        row: dict[str, object] = {"network": net.name, "chips": chips,
                                  "default_budget": "yes" if chips == net.default_chips else ""}  # fmt: skip
        aware = solve(problem, "dp")
        if aware.status != "optimal":
            row.update(status=str(aware.status), message=aware.message)
            rows.append(row)
            continue
        metrics = verify(problem, aware)
        if metrics is None:
            raise disagreement(f"{where}: the placed DP's design does not verify")
        checks = []
        for method in exact:
            r = solve(problem, method, time_limit, backend="highs")
            if r.status != "optimal":  # recorded, not fatal: only a proven disagreement is
                checks.append(f"{r.label} {r.status} after {r.seconds:.1f} s")
                continue
            if (r.bottleneck_ps, r.crossbars_used) != (aware.bottleneck_ps, aware.crossbars_used):
                raise disagreement(
                    f"{where}: dp gives ({aware.bottleneck_ps} ps, {aware.crossbars_used}"
                    f" crossbars) but {r.label} proves ({r.bottleneck_ps} ps,"
                    f" {r.crossbars_used} crossbars)"
                )
            verify(problem, r)
            checks.append(f"{r.label} optimal {r.seconds:.2f} s")
        blind = solve(problem, "greedy")
        blind_metrics = verify(problem, blind) if blind.choice is not None else None
        base = ideal[chips]
        row.update(
            status="optimal",
            message="",
            ideal_ps=int(base["bottleneck_ps"]),
            ideal_pct_unlimited=float(base["pct_unlimited_throughput"]),
            ideal_pct_budget=float(base["pct_budget_used"]),
            aware_ps=metrics.bottleneck_ps,
            aware_pct_unlimited=100 * unlimited_ps / metrics.bottleneck_ps,
            aware_pct_budget=100 * metrics.crossbars_used / budget,
            aware_crossbars=metrics.crossbars_used,
            aware_chips_used=metrics.chips_used,
            aware_binds=_binds(metrics),
            aware_bottleneck_kind=metrics.bottleneck_kind,
            aware_link_bits=float(metrics.link_bits),
            aware_energy_uj=metrics.costs.energy_pj / 1e6,
            aware_movement_energy_pct=100
            * (metrics.costs.split_pj.get("link", 0.0) + metrics.costs.split_pj.get("noc", 0.0))
            / metrics.costs.energy_pj,
            aware_seconds=aware.seconds,
            blind_ps=blind_metrics.bottleneck_ps if blind_metrics else "",
            blind_pct_unlimited=100 * unlimited_ps / blind_metrics.bottleneck_ps
            if blind_metrics
            else "",
            blind_binds=_binds(blind_metrics) if blind_metrics else blind.message,
            aware_gain_vs_blind=blind_metrics.bottleneck_ps / metrics.bottleneck_ps
            if blind_metrics
            else "",
            ideal_over_aware=metrics.bottleneck_ps / int(base["bottleneck_ps"]),
            exact_check="; ".join(checks),
        )
        rows.append(row)
    return rows


def _time(ps: float) -> str:
    for unit, scale in (("s", 1e12), ("ms", 1e9), ("µs", 1e6)):
        if ps >= scale:
            return f"{ps / scale:.4g} {unit}"
    return f"{ps / 1e3:.4g} ns"


def averages(
    rows: Sequence[Mapping[str, object]], nets, fixed_chips: Sequence[int]
) -> list[list[str]]:
    """Means over networks at each budget rule, ideal beside aware beside blind."""
    ok = {(r["network"], r["chips"]): r for r in rows if r.get("status") == "optimal"}
    rules = [("default budget of each instance file", {n.name: n.default_chips for n in nets})]
    rules += [(f"{c} chip{'s' * (c > 1)}", {n.name: c for n in nets}) for c in fixed_chips]
    out = []
    for label, pick in rules:
        picked = [ok[(n, c)] for n, c in pick.items() if (n, c) in ok]
        if not picked:
            continue
        blind = [r for r in picked if r["blind_ps"] != ""]
        out.append(
            [
                label,
                f"{len(picked)} of {len(nets)}",
                f"{statistics.mean(r['ideal_pct_unlimited'] for r in picked):.2f}%",
                f"{statistics.mean(r['aware_pct_unlimited'] for r in picked):.2f}%",
                f"{statistics.mean(r['blind_pct_unlimited'] for r in blind):.2f}%" if blind else "",
                f"{statistics.mean(r['ideal_pct_budget'] for r in picked):.2f}%",
                f"{statistics.mean(r['aware_pct_budget'] for r in picked):.2f}%",
                f"{sum(r['aware_bottleneck_kind'] == 'link' for r in picked)} of {len(picked)}",
                f"{statistics.geometric_mean(r['aware_gain_vs_blind'] for r in blind):.3g}×"
                if blind
                else "",
            ]
        )
    return out


def network_table(rows: Sequence[Mapping[str, object]], name: str) -> str:
    header = ["chips", "T ideal", "T aware", "× ideal", "% unl. aware", "% budget aware",
              "binds (aware)", "T blind", "blind binds", "aware gain", "links + routers energy",
              "solve", "exact check"]  # fmt: skip
    body = []
    for r in rows:
        if r["network"] != name:
            continue
        chips = f"{r['chips']}{' (default)' if r['default_budget'] else ''}"
        if r.get("status") != "optimal":
            body.append([chips, "", "", "", "", "", f"{r['status']}: {r['message']}", *[""] * 6])
            continue
        body.append(
            [
                chips,
                _time(r["ideal_ps"]),
                _time(r["aware_ps"]),
                f"{r['ideal_over_aware']:.3g}",
                f"{r['aware_pct_unlimited']:.2f}%",
                f"{r['aware_pct_budget']:.2f}%",
                str(r["aware_binds"]),
                _time(r["blind_ps"]) if r["blind_ps"] != "" else "",
                str(r["blind_binds"]),
                f"{r['aware_gain_vs_blind']:.3g}×" if r["aware_gain_vs_blind"] != "" else "",
                f"{r['aware_movement_energy_pct']:.3g}%",
                f"{r['aware_seconds']:.3f} s",
                str(r["exact_check"]),
            ]
        )
    return markdown_table(header, body)


def write_markdown(rows, nets, fixed_chips, command: str, seconds: float) -> None:
    """bench/results/paper_movement.md: the averages, then every network at every budget."""
    avg_header = ["budget per network", "networks", "ideal % of unlimited", "aware % of unlimited",
                  "blind % of unlimited", "ideal % of budget", "aware % of budget",
                  "link-bound (aware)", "aware × blind (geo. mean)"]  # fmt: skip
    text = [
        "# The paper's experiment with data movement: `interconnect: isaac` beside `ideal`",
        "",
        f"Command: `{command}` (this part: {seconds / 60:.1f} min on this machine)",
        "",
        *[f"- {k}: {v}" for k, v in environment().items()],
        "",
        "Hardware: ISAAC (`isaac` preset) with `interconnect: isaac`: chips in a chain, 2 "
        "HyperTransport links of 6.4 GB/s between neighbours, copies padded to hold their "
        'eDRAM working sets, eDRAM bandwidth per tile (docs/model.md, "Data movement"). '
        "**ideal**: paper.md's design (free data movement). **aware**: the placed DP, "
        "copies and chip boundaries chosen together, re-solved by the exact solvers named "
        "in the last column. **blind**: the crossbar-only optimum laid out chip after chip "
        "and priced with its links. % of unlimited: paper.md's unlimited bottleneck (every "
        "layer at its fastest, free data movement) / the design's. aware gain: blind T / "
        "aware T. What these numbers mean: bench/README.md.",
        "",
        "## Averages over the multi-modal zoo (arithmetic means over networks)",
        "",
        markdown_table(avg_header, averages(rows, nets, fixed_chips)),
        "",
        "## Per network",
        "",
    ]
    for net in nets:
        text += [f"### {net.name}", "", network_table(rows, net.name), ""]
    (RESULTS / "paper_movement.md").write_text("\n".join(text))
