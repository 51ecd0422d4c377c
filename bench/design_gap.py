"""How far the heuristics land from the exact optimum in design mode.

Run from the repository root:  python bench/design_gap.py [--random 200] [--time-limit 60]
Writes bench/results/design_gap.csv, design_gap.md and design_gap.png; about
2 minutes on 2 cores (the Markdown states the run's own time).

Design mode: every layer chooses its copies and its ADCs per crossbar (1, 2,
4 or 8; a 25 ns array read, so 4 ADCs give the shortest cycle), under a
crossbar budget and a power cap, so the problem has two resources and
``dp``, ``bisect`` and ``greedy`` budget one scaled cost (never claimed
optimal). ``cpsat`` and ``ilp`` (HiGHS) must both prove the optimum and agree
on it, bottleneck and crossbars, else the run stops with exit code 1 and
writes nothing.

Instances:

- the multi-modal zoo (``nic``, ``nic_vgg16``, ``s2vt``, ``lrcn_caption``,
  ``lrcn_activity``, ``vqa``, ``sat``, ``captioner``, ``video_lstm``) at its
  default chips, with the power cap at 25, 50, 75 and 100% of the way from
  the naive design's provisioned power (one copy, one ADC per crossbar) to
  the chips' full provisioned power (their tiles' table power, 55.41 W per
  ISAAC chip);
- random design-mode instances (seeded, the same every run): chains of 5 to
  40 weight layers, 3×3 or 1×1 convolutions on a clip or image, then
  linears and LSTMs in random order, with a crossbar budget of 1.2 to 4 times
  and a power cap of 1.05 to 3 times the naive design's (uniform draws).

Gaps: of the bottleneck, ``(T_method − T*) / T*``; and where a method
reaches ``T*``, of the crossbars it uses, ``(X_method − X*) / X*``. A method
that returns no design counts as an infinite gap.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from pathlib import Path

import numpy as np
from common import RESULTS, ROOT, ZOO, environment, markdown_table
from matplotlib.figure import Figure

from hitm import Budget, analyze, build_problem, load_instance, parse_instance, solve, verify
from hitm.budget import DesignSpace
from hitm.frontier import resource_cap
from hitm.pipeline import evaluate, naive_adcs, naive_copies

CAP_STEPS = (0.25, 0.5, 0.75, 1.0)  # power cap: share of the way from naive to full power
HEURISTICS = ("dp", "bisect", "greedy")
EXACT = ("cpsat", "ilp")
METHODS = HEURISTICS + EXACT
SPACE = DesignSpace(adcs=(1, 2, 4, 8))
SEED = 2020
LAYERS = (5, 40)
FIELDS = (
    "set",
    "instance",
    "weight_layers",
    "stages",
    "options",
    "crossbars_cap",
    "power_cap_w",
    "cap_step",
    "method",
    "status",
    "bottleneck_ps",
    "crossbars",
    "power_w",
    "seconds",
    "optimal_bottleneck_ps",
    "optimal_crossbars",
    "gap_bottleneck",
    "gap_crossbars_at_equal_t",
)


class ExactFailure(Exception):
    """An exact method did not prove an optimum, or two proven optima differ."""


def random_instance(index: int, seed: int = SEED) -> dict[str, object]:
    """Random design-mode instance ``index``: a chain of 5 to 40 weight layers.

    Convolutions first (3×3 with padding 1, or 1×1; 16 to 128 channels; a
    2×2 max-pool after each third of them while the map is at least 8 wide),
    on an image or a clip of 4 to 16 frames, then global pooling and, in
    random order, linears (64 to 512 outputs) and LSTMs (hidden 32 to 256,
    over the frames). Returns a document for :func:`hitm.parse_instance`.
    """
    rng = np.random.default_rng([seed, index])
    n = int(rng.integers(LAYERS[0], LAYERS[1] + 1))
    n_conv = max(1, round(n * rng.uniform(0.3, 0.7)))
    n_lstm = round((n - n_conv) * rng.uniform(0.0, 0.5))
    n_linear = n - n_conv - n_lstm
    frames = int(rng.choice([4, 8, 16])) if n_lstm else int(rng.choice([1, 4, 8]))
    side = int(rng.choice([16, 32, 56]))
    channels = int(rng.choice([3, 8, 16]))
    layers: list[dict[str, object]] = []
    prev, width = "x", side
    pools = {n_conv * q // 3 for q in (1, 2)} - {0}
    for i in range(n_conv):
        if i in pools and width >= 8:
            layers.append({"name": f"pool{i}", "op": "maxpool", "input": prev, "kernel": 2})
            prev, width = f"pool{i}", width // 2
        k = int(rng.choice([1, 3]))
        layers.append(
            {
                "name": f"conv{i}",
                "op": "conv2d",
                "input": prev,
                "out_channels": int(rng.choice([16, 32, 64, 128])),
                "kernel": k,
                "padding": k // 2,
            }
        )
        prev = f"conv{i}"
    layers += [
        {"name": "gap", "op": "global_avgpool", "input": prev},
        {"name": "flat", "op": "flatten", "input": "gap"},
    ]
    prev = "flat"
    kinds = ["linear"] * n_linear + ["lstm"] * n_lstm
    rng.shuffle(kinds)
    for i, kind in enumerate(kinds):
        if kind == "linear":
            size = int(rng.choice([64, 128, 256, 512]))
            layers.append({"name": f"fc{i}", "op": "linear", "input": prev, "out_features": size})
        else:
            size = int(rng.choice([32, 64, 128, 256]))
            layers.append({"name": f"lstm{i}", "op": "lstm", "input": prev, "hidden": size})
        prev = f"{'fc' if kind == 'linear' else 'lstm'}{i}"
    shape = {"shape": [channels, side, side]}
    if frames > 1:
        shape["seq"] = frames
    return {
        "name": f"random{index:03d}",
        "network": {"inputs": {"x": shape}, "layers": layers},
        "hardware": {"preset": "isaac"},
        "_draws": (float(rng.uniform(1.2, 4.0)), float(rng.uniform(1.05, 3.0))),
    }


def naive_usage(analysis) -> tuple[int, int]:
    """Crossbars and provisioned power (µW) of one copy of every layer, one ADC each."""
    problem = build_problem(analysis, Budget(crossbars=1 << 40), design=SPACE, prune=False)
    usage = evaluate(problem, naive_copies(problem), naive_adcs(problem)).usage
    return int(usage["crossbars"]), int(usage["power_uw"])


def watts(power_uw: int) -> float:
    """A power cap in W that is exactly ``power_uw`` µW (integers below 10^15 round-trip)."""
    return power_uw / 10**6


def run_case(set_name, name, analysis, budget, cap_step, time_limit) -> list[dict[str, object]]:
    """Every method on one problem; the gaps to the agreed exact optimum."""
    problem = build_problem(analysis, budget, design=SPACE)
    results = {}
    for method in METHODS:
        r = solve(problem, method, time_limit, backend="highs")
        verify(problem, r)  # the allocation fits every budget and its bottleneck is real
        results[method] = r
    exact = [results[m] for m in EXACT]
    bad = [f"{r.label}: {r.status} {r.message}" for r in exact if r.status != "optimal"]
    optima = {(r.bottleneck_ps, r.crossbars_used) for r in exact}
    if bad or len(optima) != 1:
        pairs = ", ".join(f"{r.label} ({r.bottleneck_ps}, {r.crossbars_used})" for r in exact)
        raise ExactFailure(f"{name} at {budget}: {'; '.join(bad) or 'disagree'}: {pairs}")
    ((t_star, x_star),) = optima
    cap = problem.capacities()
    rows = []
    for r in results.values():
        has = r.bottleneck_ps is not None
        gap_t = (r.bottleneck_ps - t_star) / t_star if has else math.inf
        gap_x = (r.crossbars_used - x_star) / x_star if has and r.bottleneck_ps == t_star else ""
        rows.append(
            {
                "set": set_name,
                "instance": name,
                "weight_layers": len(analysis.weight_layers),
                "stages": len(problem.stages),
                "options": problem.n_options,
                "crossbars_cap": cap["crossbars"],
                "power_cap_w": cap["power_uw"] / 1e6,
                "cap_step": cap_step,
                "method": r.label,
                "status": r.status,
                "bottleneck_ps": r.bottleneck_ps if has else "",
                "crossbars": r.crossbars_used if has else "",
                "power_w": r.cost["power_uw"] / 1e6 if has else "",
                "seconds": round(r.seconds, 4),
                "optimal_bottleneck_ps": t_star,
                "optimal_crossbars": x_star,
                "gap_bottleneck": gap_t,
                "gap_crossbars_at_equal_t": gap_x,
            }
        )
    return rows


def zoo_cases(time_limit: float) -> list[dict[str, object]]:
    rows = []
    for name in ZOO:
        inst = load_instance(ROOT / "instances" / f"{name}.yaml")
        analysis = analyze(inst.network, inst.hardware)
        _, naive_uw = naive_usage(analysis)
        full_uw = resource_cap(analysis, inst.budget, "power")
        for step in CAP_STEPS:
            cap_uw = naive_uw + round(step * (full_uw - naive_uw))
            budget = Budget(chips=inst.budget.chips, power_w=watts(cap_uw))
            rows += run_case("zoo", name, analysis, budget, step, time_limit)
        print(f"zoo {name}: done", file=sys.stderr)
    return rows


def random_cases(count: int, time_limit: float) -> list[dict[str, object]]:
    rows = []
    for index in range(count):
        doc = random_instance(index)
        crossbar_factor, power_factor = doc.pop("_draws")
        inst = parse_instance(doc)
        analysis = analyze(inst.network, inst.hardware)
        naive_x, naive_uw = naive_usage(analysis)
        budget = Budget(
            crossbars=math.ceil(naive_x * crossbar_factor),
            power_w=watts(math.ceil(naive_uw * power_factor)),
        )
        rows += run_case("random", inst.name, analysis, budget, "", time_limit)
        if (index + 1) % 50 == 0:
            print(f"random: {index + 1}/{count}", file=sys.stderr)
    return rows


def summary(rows: list[dict[str, object]], set_name: str) -> list[list[str]]:
    """Per method: cases, share at zero gap, median, p90, max; crossbar gaps at equal T."""
    out = []
    for method in (*HEURISTICS, "cpsat", "ilp:highs"):
        mine = [r for r in rows if r["set"] == set_name and r["method"] == method]
        if not mine:
            continue
        gaps = np.array([float(r["gap_bottleneck"]) for r in mine])
        at_t = np.array(
            [
                float(r["gap_crossbars_at_equal_t"])
                for r in mine
                if r["gap_crossbars_at_equal_t"] != ""
            ]
        )
        none = int(np.sum(np.isinf(gaps)))
        out.append(
            [
                method,
                f"{len(mine)}",
                pct(np.mean(gaps == 0)),
                pct(quantile(gaps, 0.5)),
                pct(quantile(gaps, 0.9)),
                pct(np.max(gaps)),
                f"{none}",
                f"{len(at_t)}",
                pct(np.mean(at_t == 0)) if len(at_t) else "–",
                pct(quantile(at_t, 0.5)) if len(at_t) else "–",
                pct(np.max(at_t)) if len(at_t) else "–",
                f"{np.median([float(r['seconds']) for r in mine]) * 1e3:.1f}",
            ]
        )
    return out


def quantile(values: np.ndarray, q: float) -> float:
    """A value of the sample (no interpolation, so an infinite gap stays infinite)."""
    return float(np.quantile(values, q, method="inverted_cdf"))


def pct(x: float) -> str:
    if math.isinf(x):
        return "∞"
    return f"{100 * x:.2f}%"


def zoo_table(rows: list[dict[str, object]]) -> list[list[str]]:
    table = []
    for name in ZOO:
        for step in CAP_STEPS:
            case = {r["method"]: r for r in rows if r["instance"] == name and r["cap_step"] == step}
            if not case:
                continue
            opt = case["cpsat"]
            cells = [
                name,
                f"{step:.0%}",
                f"{float(opt['power_cap_w']):,.2f}",
                f"{int(opt['optimal_bottleneck_ps']) / 1e6:,.1f}",
                f"{int(opt['optimal_crossbars']):,}",
            ]
            for method in HEURISTICS:
                r = case[method]
                gx = r["gap_crossbars_at_equal_t"]
                cells.append(
                    f"{pct(float(r['gap_bottleneck']))} / {pct(float(gx)) if gx != '' else '–'}"
                )
            table.append(cells)
    return table


def plot(rows: list[dict[str, object]], path: Path) -> None:
    """ECDFs of the bottleneck gap and the crossbar gap at equal T, zoo and random."""
    fig = Figure(figsize=(11, 7), layout="constrained")
    # Coinciding curves stay visible: wide solid, dashed over it, dotted on top.
    styles = {
        "dp": {"color": "#1f77b4", "lw": 3.5, "alpha": 0.6},
        "bisect": {"color": "#2ca02c", "lw": 1.6, "ls": "--"},
        "greedy": {"color": "#d62728", "lw": 1.4, "ls": ":"},
    }
    sets = [s for s in ("zoo", "random") if any(r["set"] == s for r in rows)]
    axes = fig.subplots(2, len(sets), squeeze=False)
    for col, set_name in enumerate(sets):
        for row, (key, what) in enumerate(
            (
                ("gap_bottleneck", "bottleneck gap"),
                ("gap_crossbars_at_equal_t", "crossbar gap at T*"),
            )
        ):
            ax = axes[row][col]
            for method in HEURISTICS:
                vals = np.array(
                    sorted(
                        float(r[key])
                        for r in rows
                        if r["set"] == set_name and r["method"] == method and r[key] != ""
                    )
                )
                if not len(vals):
                    continue
                finite = np.where(np.isinf(vals), np.nan, vals) * 100
                share = np.arange(1, len(vals) + 1) / len(vals)
                ax.step(
                    np.concatenate([[0], finite]),
                    np.concatenate([[0], share]),
                    where="post",
                    **styles[method],
                    label=f"{method} (zero gap: {np.mean(vals == 0):.0%} of {len(vals)})",
                )
            n_cases = len({(r["instance"], r["cap_step"]) for r in rows if r["set"] == set_name})
            ax.set_title(f"{set_name} ({n_cases} problems): {what}", loc="left", fontsize=10)
            ax.set_xlabel(f"{what} to the exact optimum (%)")
            ax.set_ylabel("share of problems at or below")
            ax.set_ylim(0, 1.02)
            ax.set_xlim(left=0)
            ax.grid(alpha=0.3)
            ax.legend(loc="lower right", fontsize=8)
    fig.suptitle(
        "Design mode (copies × ADCs 1, 2, 4, 8; crossbar and power budgets):"
        " heuristics versus the proven optimum",
        fontsize=11,
    )
    fig.savefig(path, dpi=130)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--random", type=int, default=200, help="random instances (200)")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per exact solve")
    parser.add_argument("--no-zoo", action="store_true", help="skip the zoo (a quick check)")
    args = parser.parse_args()
    start = time.perf_counter()
    try:
        rows = [] if args.no_zoo else zoo_cases(args.time_limit)
        zoo_seconds = time.perf_counter() - start
        rows += random_cases(args.random, args.time_limit)
    except ExactFailure as exc:
        print(f"design_gap: exact methods failed: {exc}", file=sys.stderr)
        return 1
    total = time.perf_counter() - start
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(RESULTS / "design_gap.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    plot(rows, RESULTS / "design_gap.png")
    (RESULTS / "design_gap.md").write_text(
        markdown(rows, args, zoo_seconds, total), encoding="utf-8"
    )
    print(f"wrote {RESULTS / 'design_gap.md'} in {total:.0f} s", file=sys.stderr)
    return 0


def markdown(rows, args, zoo_seconds: float, total: float) -> str:
    env = environment()
    header = [
        "method",
        "problems",
        "zero gap",
        "median",
        "p90",
        "max",
        "no design",
        "at T*",
        "zero crossbar gap",
        "median",
        "max",
        "median ms",
    ]
    random_rows = [r for r in rows if r["set"] == "random" and r["method"] == "cpsat"]
    layers = [int(r["weight_layers"]) for r in random_rows]
    options = [int(r["options"]) for r in random_rows]
    parts = [
        "# Design mode: heuristics versus the exact optimum",
        "",
        "Generated by `python bench/design_gap.py"
        + (f" --random {args.random}" if args.random != 200 else "")
        + (f" --time-limit {args.time_limit:g}" if args.time_limit != 60 else "")
        + (" --no-zoo" if args.no_zoo else "")
        + "`; how the instances and budgets are drawn is in the script's docstring.",
        "",
        f"- machine: {env['machine']}; Python {env['python']}",
        f"- versions: {env['versions']}",
        f"- commit: {env['commit']}",
        f"- run time: {total:.0f} s (zoo {zoo_seconds:.0f} s, random {total - zoo_seconds:.0f} s)",
        "",
        "Each problem: every layer picks copies and ADCs per crossbar (1, 2, 4, 8), under a"
        " crossbar budget and a power cap. `cpsat` and `ilp` (HiGHS) proved the same optimum"
        " `(T*, X*)` on every problem (else the run would have stopped). `dp`, `bisect` and"
        " `greedy` budget one scaled cost and are never claimed optimal. Bottleneck gap"
        " `(T − T*) / T*`; crossbar gap at `T*`, `(X − X*) / X*`, over the problems where the"
        " method reached `T*` (column *at T\\**).",
        "",
    ]
    if not args.no_zoo:
        parts += [
            "## Zoo",
            "",
            f"{len(ZOO)} instances at their default chips, power cap at 25, 50, 75 and 100% of"
            " the way from the naive design's provisioned power to the chips' full provisioned"
            f" power: {len(ZOO) * len(CAP_STEPS)} problems.",
            "",
            markdown_table(header, summary(rows, "zoo")),
            "",
            "Per problem (bottleneck gap / crossbar gap at T*):",
            "",
            markdown_table(
                ["instance", "cap step", "power cap W", "T* µs", "X*", *HEURISTICS],
                zoo_table(rows),
            ),
            "",
        ]
    if random_rows:
        parts += [
            "## Random instances",
            "",
            f"{len(random_rows)} seeded chains (seed {SEED}): {min(layers)} to {max(layers)}"
            f" weight layers (median {int(np.median(layers))}), {min(options):,} to"
            f" {max(options):,} options per problem (median {int(np.median(options)):,}).",
            "",
            markdown_table(header, summary(rows, "random")),
            "",
        ]
    problems: dict[tuple[object, ...], dict[str, dict[str, object]]] = {}
    for r in rows:
        problems.setdefault((r["set"], r["instance"], r["cap_step"]), {})[str(r["method"])] = r
    same_t = sum(len({c[m]["bottleneck_ps"] for m in HEURISTICS}) == 1 for c in problems.values())
    same_x = sum(c["dp"]["crossbars"] == c["bisect"]["crossbars"] for c in problems.values())
    parts += [
        f"`dp`, `bisect` and `greedy` reached the same bottleneck on {same_t} of"
        f" {len(problems)} problems, and `dp` and `bisect` the same crossbars on {same_x}:"
        " all three rank options by the same scaled cost (`hitm.optimize.arrays.scalar_costs`,"
        " one number weighing crossbars and power), while the exact methods budget each"
        " resource on its own; `greedy` then spends more crossbars reaching the same bottleneck.",
        "",
        "![gap distributions](design_gap.png)",
        "",
    ]
    return "\n".join(parts)


if __name__ == "__main__":
    sys.exit(main())
