"""Plots of the benchmark results, drawn from the CSV files in bench/results.

Run from the repository root:  python bench/plots.py
Redraws every plot from the committed CSVs without re-running a benchmark
(bench/paper.py and bench/scaling.py call these functions after their runs):

- paper_throughput.png: per network, throughput versus budget for the naive,
  hitm and unlimited designs (paper.csv);
- paper_time_by_kind.png: where hitm's designs spend their busy time and their
  crossbars, by stage kind, at each network's default budget (paper_stages.csv);
- solvers_time.png: solve time of each method on each instance (solvers.csv);
- scaling.png: solve time versus layers and versus budget (scaling.csv).
"""

from __future__ import annotations

import csv
import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a display

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

__all__ = [
    "METHOD_STYLE",
    "paper_plots",
    "read_csv",
    "scaling_plot",
    "solver_times_plot",
    "throughput_plot",
    "time_by_kind_plot",
]

RESULTS = Path(__file__).resolve().parent / "results"
KIND_COLORS = {
    "conv": "#4c72b0",
    "linear": "#dd8452",
    "recurrent": "#55a868",
    "embedding": "#8172b3",
    "loop": "#c44e52",
}
DESIGN_STYLE = {
    "naive": {"color": "#7f7f7f", "marker": "s", "label": "naive (1 copy per layer)"},
    "hitm": {"color": "#1f77b4", "marker": "o", "label": "hitm (DP, proven optimal)"},
}
METHOD_STYLE = {
    "dp": {"color": "#1f77b4", "marker": "o"},
    "bisect": {"color": "#ff7f0e", "marker": "v"},
    "greedy": {"color": "#2ca02c", "marker": "^"},
    "cpsat": {"color": "#d62728", "marker": "s"},
    "ilp:highs": {"color": "#9467bd", "marker": "D"},
    "ilp:cbc": {"color": "#8c564b", "marker": "P"},
}
DPI = 130


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV file as dicts (an empty list if the file is missing)."""
    if not path.exists():
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _chips_axis(ax, top: int) -> None:
    ax.set_xscale("log", base=2)
    ticks = [2**k for k in range(int(math.log2(top)) + 1)]
    ax.set_xticks(ticks)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def throughput_plot(rows: Sequence[Mapping[str, str]], out: Path) -> None:
    """Per network, throughput versus budget: naive, hitm, unlimited and 78.01% of it.

    Parameters
    ----------
    rows
        paper.csv rows of the multi-modal zoo.
    out
        PNG path.
    """
    networks = list(dict.fromkeys(r["network"] for r in rows))
    cols = 3
    fig, axes = plt.subplots(
        math.ceil(len(networks) / cols), cols, figsize=(13, 3.4 * math.ceil(len(networks) / cols))
    )
    top = max(int(r["chips"]) for r in rows if r["chips"])
    for ax, name in zip(axes.flat, networks, strict=False):
        mine = [r for r in rows if r["network"] == name]
        for design, style in DESIGN_STYLE.items():
            pts = [
                (int(r["chips"]), float(r["throughput_per_s"]))
                for r in mine
                if r["design"] == design
            ]
            ax.plot(*zip(*pts, strict=True), markersize=3.5, linewidth=1.3, **style)
        unl = next(float(r["throughput_per_s"]) for r in mine if r["design"] == "unlimited")
        ax.axhline(unl, color="#d62728", linestyle="--", linewidth=1.2, label="unlimited optimum")
        ax.axhline(
            unl * 0.7801, color="#d62728", linestyle=":", linewidth=1.0, label="78.01% of unlimited"
        )
        default = next((int(r["chips"]) for r in mine if r["default_budget"]), None)
        if default:
            ax.axvline(
                default, color="#999999", linewidth=0.8, linestyle="-.", label="default budget"
            )
        ax.set_yscale("log")
        _chips_axis(ax, top)
        ax.set_xlim(0.85, top * 1.15)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("budget (ISAAC chips, 16,128 crossbars each)", fontsize=8)
        ax.set_ylabel("throughput (inferences/s)", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(True, which="major", alpha=0.3)
    for ax in list(axes.flat)[len(networks) :]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=5, fontsize=9, frameon=False)
    fig.suptitle("Throughput versus budget: naive, hitm and unlimited designs (ISAAC)", fontsize=12)
    fig.tight_layout(rect=(0, 0.035, 1, 0.97))
    fig.savefig(out, dpi=DPI)
    plt.close(fig)


def time_by_kind_plot(rows: Sequence[Mapping[str, str]], out: Path) -> None:
    """Stacked bars per network of hitm's design at its default budget, by stage kind.

    Left: each kind's share of the summed stage busy time (where the time
    goes); right: its share of the crossbars (where the hardware goes). Each
    bar is labelled with the period T and the bottleneck stage's kind.

    Parameters
    ----------
    rows
        paper_stages.csv rows (the ``hitm`` design's are drawn).
    out
        PNG path.
    """
    rows = [r for r in rows if r["design"] == "hitm"]
    networks = list(dict.fromkeys(r["network"] for r in rows))
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2))
    panels = (
        ("busy_ps", "share of summed stage busy time (%)", "where the time goes"),
        ("crossbars", "share of crossbars used (%)", "where the crossbars go"),
    )
    for ax, (key, ylabel, title) in zip(axes, panels, strict=True):
        bottom = [0.0] * len(networks)
        for kind, color in KIND_COLORS.items():
            share = []
            for n in networks:
                mine = [r for r in rows if r["network"] == n]
                total = sum(float(r[key]) for r in mine)
                part = sum(float(r[key]) for r in mine if r["kind"] == kind)
                share.append(100 * part / total if total else 0.0)
            ax.bar(networks, share, bottom=bottom, color=color, label=kind, width=0.7)
            bottom = [b + s for b, s in zip(bottom, share, strict=True)]
        for i, n in enumerate(networks):
            first = next(r for r in rows if r["network"] == n)
            label = f"T {_short_time(float(first['bottleneck_ps']))}, {first['bottleneck_kind']}"
            ax.text(i, 102, label, ha="center", va="bottom", fontsize=7, rotation=90)
        ax.set_ylim(0, 150)
        ax.set_yticks(range(0, 101, 20))
        ax.set_title(f"{title} (bar label: period T, bottleneck kind)", fontsize=10)
        ax.set_ylabel(ylabel)
        ax.set_xlabel("network (hitm design at its default budget)")
        ax.tick_params(axis="x", rotation=45, labelsize=8)
        ax.grid(True, axis="y", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, title="stage kind", loc="center right", fontsize=9)
    fig.suptitle("hitm's designs by stage kind: busy time and crossbars", fontsize=12)
    fig.tight_layout(rect=(0, 0, 0.9, 0.96))
    fig.savefig(out, dpi=DPI)
    plt.close(fig)


def _short_time(ps: float) -> str:
    for unit, scale in (("s", 1e12), ("ms", 1e9), ("µs", 1e6)):
        if ps >= scale:
            return f"{ps / scale:.3g} {unit}"
    return f"{ps / 1e3:.3g} ns"


def solver_times_plot(rows: Sequence[Mapping[str, str]], out: Path) -> None:
    """Solve seconds of every method on every instance at its default budget (log scale).

    Parameters
    ----------
    rows
        solvers.csv rows (bench/solvers.py).
    out
        PNG path.
    """
    # Budget labels are "tight", "default", "2x default" or joined with " = " when equal.
    rows = [r for r in rows if "default" in r["budget"].split(" (")[0].split(" = ")]
    instances = list(dict.fromkeys(r["instance"] for r in rows))
    methods = [m for m in METHOD_STYLE if any(r["method"] == m for r in rows)]
    fig, ax = plt.subplots(figsize=(13, 5))
    width = 0.8 / max(len(methods), 1)
    for j, method in enumerate(methods):
        xs, ys = [], []
        for i, inst in enumerate(instances):
            hit = [r for r in rows if r["instance"] == inst and r["method"] == method]
            if hit:
                xs.append(i - 0.4 + width * (j + 0.5))
                ys.append(max(float(hit[0]["seconds"]), 1e-5))
        ax.scatter(xs, ys, s=22, label=method, **METHOD_STYLE[method])
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10))
    ax.set_xticks(range(len(instances)))
    chips = {r["instance"]: r["budget"].split("(")[-1].split()[0] for r in rows}
    ax.set_xticklabels(
        [f"{inst} ({chips[inst]} ch.)" for inst in instances],
        rotation=40,
        rotation_mode="anchor",
        ha="right",
        fontsize=8,
    )
    for i in range(1, len(instances)):
        ax.axvline(i - 0.5, color="#eeeeee", linewidth=0.8, zorder=0)
    ax.set_ylabel("solve time (s, wall, log scale)")
    ax.set_xlabel("instance (default budget)")
    ax.grid(True, axis="y", which="major", alpha=0.3)
    ax.legend(title="method", fontsize=8, ncol=6, loc="upper left")
    ax.set_title("Solve time per method at each instance's default budget (bench/solvers.py)")
    fig.tight_layout()
    fig.savefig(out, dpi=DPI)
    plt.close(fig)


def scaling_plot(
    rows: Sequence[Mapping[str, str]],
    chips: int,
    layers: Sequence[int],
    limit_s: float,
    out: Path,
) -> None:
    """Solve time versus layers (at ``chips``) and versus budget (at each of ``layers``).

    Solved points are joined by lines; a method that ran out of time is a
    cross at the limit, one that refused to run (the DP's table over its size
    limit) a cross at the bottom; skipped points are absent.

    Parameters
    ----------
    rows
        scaling.csv rows.
    chips
        The budget of the first panel (time versus chain length).
    layers
        The chain lengths of the other panels (time versus budget).
    limit_s
        The per-solve time limit (drawn as a dashed line).
    out
        PNG path.
    """
    panels = [("layers", "chips", chips, f"chain length (layers), budget {chips} chips")]
    panels += [("chips", "layers", n, f"budget (ISAAC chips), chain of {n} layers") for n in layers]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.6 * len(panels), 4.8), sharey=True)
    floor = 1e-4
    for ax, (x_key, fix_key, fix_val, xlabel) in zip(axes, panels, strict=True):
        mine = [r for r in rows if int(r[fix_key]) == fix_val]
        for method, style in METHOD_STYLE.items():
            pts = sorted(
                (int(r[x_key]), r["status"], float(r["seconds"]) if r["seconds"] else None)
                for r in mine
                if r["method"] == method
            )
            greedy = method == "greedy"
            solved = [
                (x, s) for x, st, s in pts if st == "optimal" or (greedy and st == "feasible")
            ]
            if solved:
                ax.plot(*zip(*solved, strict=True), label=method, markersize=4, **style)
            over = [
                x
                for x, st, _ in pts
                if st in ("timeout", "killed") or (not greedy and st == "feasible")
            ]
            if over:
                ax.scatter(over, [limit_s] * len(over), marker="x", s=50, color=style["color"])
            failed = [x for x, st, _ in pts if st == "error"]
            if failed:
                ax.scatter(failed, [floor] * len(failed), marker="x", s=50, color=style["color"])
        ax.axhline(limit_s, color="#999999", linestyle="--", linewidth=0.8)
        ax.annotate(
            f"time limit {limit_s:g} s",
            (0.02, limit_s * 1.15),
            xycoords=("axes fraction", "data"),
            fontsize=8,
            color="#666666",
        )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(floor / 2, limit_s * 3)
        if x_key == "chips":
            _chips_axis(ax, max(int(r["chips"]) for r in rows))
        else:
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_xlabel(xlabel)
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel("solve time (s, wall, log scale)")
    axes[0].legend(title="method", fontsize=8, loc="lower right")
    fig.suptitle(
        "Solve time on synthetic chains (× at the limit: no proof in time; × at the bottom:"
        " the DP's table over its size limit; missing: skipped, predicted over the limit)",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(out, dpi=DPI)
    plt.close(fig)


def paper_plots(results: Path = RESULTS) -> list[Path]:
    """Draw the plots of bench/paper.py (and the solver benchmark's) from the CSVs in ``results``.

    Returns
    -------
    list of Path
        The PNGs written; solvers_time.png is skipped (with a note on stderr)
        when solvers.csv is missing.
    """
    written = []
    zoo = [r for r in read_csv(results / "paper.csv") if r["group"] == "zoo"]
    if zoo:
        throughput_plot(zoo, results / "paper_throughput.png")
        written.append(results / "paper_throughput.png")
    stages = read_csv(results / "paper_stages.csv")
    if stages:
        time_by_kind_plot(stages, results / "paper_time_by_kind.png")
        written.append(results / "paper_time_by_kind.png")
    solvers = read_csv(results / "solvers.csv")
    if solvers:
        solver_times_plot(solvers, results / "solvers_time.png")
        written.append(results / "solvers_time.png")
    else:
        print("plots: no solvers.csv; run python bench/solvers.py first", file=sys.stderr)
    return written


def main() -> int:
    written = paper_plots(RESULTS)
    scaling = read_csv(RESULTS / "scaling.csv")
    if scaling:
        from scaling import PLOT_CHIPS, PLOT_LAYERS  # the panels bench/scaling.py draws

        scaling_plot(
            scaling,
            PLOT_CHIPS,
            PLOT_LAYERS,
            float(scaling[0]["time_limit_s"]),
            RESULTS / "scaling.png",
        )
        written.append(RESULTS / "scaling.png")
    for path in written:
        print(path, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
