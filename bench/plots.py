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

Every figure is COLUMN_WIDTH (3.5 in, one column of a two-column paper) wide,
with PAPER_STYLE's 6.5 to 7 pt text, saved at DPI (300).
"""

from __future__ import annotations

import csv
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a display

import matplotlib.pyplot as plt
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter

__all__ = [
    "COLUMN_WIDTH",
    "DPI",
    "METHOD_STYLE",
    "PAPER_STYLE",
    "paper_plots",
    "read_csv",
    "scaling_plot",
    "seconds_label",
    "solver_times_plot",
    "throughput_plot",
    "time_by_kind_plot",
]

RESULTS = Path(__file__).resolve().parent / "results"
COLUMN_WIDTH = 3.5  # inches: one column of a two-column paper; every figure is this wide
DPI = 300
# Sizes for a figure printed at COLUMN_WIDTH: 6.5 to 7 pt text, thin lines.
PAPER_STYLE = {
    "font.size": 7,
    "axes.titlesize": 7,
    "axes.labelsize": 7,
    "figure.titlesize": 7,
    "figure.labelsize": 7,
    "xtick.labelsize": 6.5,
    "ytick.labelsize": 6.5,
    "legend.fontsize": 6.5,
    "legend.title_fontsize": 6.5,
    "legend.frameon": False,
    "legend.handlelength": 1.6,
    "legend.columnspacing": 1.2,
    "axes.linewidth": 0.6,
    "axes.titlepad": 2.5,
    "grid.linewidth": 0.4,
    "grid.alpha": 0.35,
    "lines.linewidth": 1.0,
    "lines.markersize": 2.5,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.minor.width": 0.4,
    "ytick.minor.width": 0.4,
    "xtick.major.size": 2.5,
    "ytick.major.size": 2.5,
    "xtick.minor.size": 1.5,
    "ytick.minor.size": 1.5,
    "xtick.major.pad": 2,
    "ytick.major.pad": 2,
    "figure.constrained_layout.h_pad": 0.02,
    "figure.constrained_layout.w_pad": 0.02,
}
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


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV file as dicts (an empty list if the file is missing).

    Parameters
    ----------
    path
        The CSV file.

    Returns
    -------
    list of dict
        One dict per row, keyed by the header.
    """
    if not path.exists():
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _plain_number(value: float) -> str:
    """A tick value as a plain number: 0.1, 2.5, 10, 1,000, 10,000 (never 1e+04)."""
    return f"{value:,.0f}" if value >= 1000 else f"{value:g}"


def seconds_label(seconds: float) -> str:
    """A time tick in the unit that keeps it short: 100 µs, 1 ms, 10 ms, 1 s, 10 s.

    Parameters
    ----------
    seconds
        The tick's value in seconds.

    Returns
    -------
    str
        The label.
    """
    for unit, scale in (("s", 1.0), ("ms", 1e-3)):
        if seconds >= scale:
            # Rounded: 0.01 / 1e-3 is 10.000000000000002.
            return f"{_plain_number(round(seconds / scale, 6))} {unit}"
    return f"{_plain_number(round(seconds / 1e-6, 6))} µs"


def _decades(axis: Axis, label: Callable[[float], str] = _plain_number) -> None:
    """Major ticks on every decade only, labelled by ``label``; unlabelled minor ticks."""
    # numticks well above the decades shown, else LogLocator thins them to every other one.
    axis.set_major_locator(LogLocator(base=10, numticks=40))
    axis.set_major_formatter(FuncFormatter(lambda v, _: label(v)))
    axis.set_minor_locator(LogLocator(base=10, subs=tuple(range(2, 10)), numticks=40))
    axis.set_minor_formatter(NullFormatter())


def _sparse_decades(axis: Axis, low: float, high: float, every: int = 2) -> None:
    """Labelled ticks on every ``every``-th decade from ``high`` down; the others unlabelled.

    For a short log axis spanning many decades: a label on each would touch.
    """
    decades = range(round(math.log10(low)), round(math.log10(high)) + 1)
    top = decades[-1]
    axis.set_major_locator(FixedLocator([10.0**k for k in decades if (top - k) % every == 0]))
    axis.set_minor_locator(FixedLocator([10.0**k for k in decades if (top - k) % every]))
    axis.set_major_formatter(FuncFormatter(lambda v, _: _plain_number(v)))
    axis.set_minor_formatter(NullFormatter())


def _chips_axis(ax: Axes, top: int, every: int = 1) -> None:
    """A log2 budget axis with a tick on every power of two up to ``top``.

    Every ``every``-th power (1, 4, 16, ... for 2) gets a number; the others
    stay as unlabelled minor ticks so a narrow panel is not crammed.
    """
    ax.set_xscale("log", base=2)
    ticks = [2**k for k in range(int(math.log2(top)) + 1)]
    major = ticks[::every]
    ax.xaxis.set_major_locator(FixedLocator(major))
    ax.xaxis.set_minor_locator(FixedLocator([t for t in ticks if t not in major]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _plain_number(v)))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _legend_entries(axes: Sequence[Axes]) -> tuple[list[Artist], list[str]]:
    """Handles and labels of all ``axes``, each label once, in order of appearance."""
    seen: dict[str, Artist] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(label, handle)
    return list(seen.values()), list(seen)


@plt.rc_context(PAPER_STYLE)
def throughput_plot(rows: Sequence[Mapping[str, str]], out: Path) -> None:
    """Per network, throughput versus budget: naive, hitm, unlimited and 78.01% of it.

    Small multiples, one panel per network, on shared log axes (budget in
    ISAAC chips, log2; throughput, log10) with one legend below them.

    Parameters
    ----------
    rows
        paper.csv rows of the multi-modal zoo.
    out
        PNG path.
    """
    networks = list(dict.fromkeys(r["network"] for r in rows))
    cols = 3
    n_rows = math.ceil(len(networks) / cols)
    panels_h, legend_h = 0.95 * n_rows + 0.4, 0.42
    fig = plt.figure(figsize=(COLUMN_WIDTH, panels_h + legend_h), layout="constrained")
    # The legend gets its own subfigure: an "outside" legend would collide with supxlabel.
    top_fig, legend_fig = fig.subfigures(2, 1, height_ratios=[panels_h, legend_h])
    axes = top_fig.subplots(n_rows, cols, sharex=True, sharey=True, squeeze=False)
    top = max(int(r["chips"]) for r in rows if r["chips"])
    values = [float(r["throughput_per_s"]) for r in rows if r["throughput_per_s"]]
    low = 10 ** math.floor(math.log10(min(values)))
    high = 10 ** math.ceil(math.log10(max(values) * 1.3))  # headroom above the unlimited line
    for ax, name in zip(axes.flat, networks, strict=False):
        mine = [r for r in rows if r["network"] == name]
        for design, style in DESIGN_STYLE.items():
            pts = sorted(
                (int(r["chips"]), float(r["throughput_per_s"]))
                for r in mine
                if r["design"] == design and r["throughput_per_s"]
            )
            if pts:
                ax.plot(*zip(*pts, strict=True), markersize=1.4, linewidth=0.9, **style)
        unl = next(float(r["throughput_per_s"]) for r in mine if r["design"] == "unlimited")
        ax.axhline(unl, color="#d62728", linestyle="--", linewidth=0.8, label="unlimited optimum")
        ax.axhline(
            unl * 0.7801, color="#d62728", linestyle=":", linewidth=0.8, label="78.01% of unlimited"
        )
        default = next((int(r["chips"]) for r in mine if r["default_budget"]), None)
        if default:
            ax.axvline(
                default, color="#888888", linewidth=0.7, linestyle="-.", label="default budget"
            )
        ax.set_yscale("log")
        ax.set_ylim(low, high)
        _sparse_decades(ax.yaxis, low, high)
        _chips_axis(ax, top, every=2)
        ax.set_xlim(0.8, top * 1.25)
        ax.set_title(name, fontsize=6.5)
        ax.grid(True, which="both", axis="y")
        ax.grid(True, which="major", axis="x")
    for ax in list(axes.flat)[len(networks) :]:
        ax.set_visible(False)
        # The panel above an empty slot is the bottom of its column: give it tick labels.
        axes.flat[list(axes.flat).index(ax) - cols].xaxis.set_tick_params(labelbottom=True)
    top_fig.supxlabel("budget (ISAAC chips, 16,128 crossbars each)")
    top_fig.supylabel("throughput (inferences/s)")
    handles, labels = _legend_entries(list(axes.flat))
    legend_fig.legend(handles, labels, loc="center", ncol=2)
    fig.savefig(out, dpi=DPI)
    plt.close(fig)


def _kind_shares(
    rows: Sequence[Mapping[str, str]], networks: Sequence[str], key: str
) -> dict[str, list[float]]:
    """Per stage kind, its share (%) of ``key`` summed over each network's stages."""
    kinds = list(KIND_COLORS) + sorted({r["kind"] for r in rows} - set(KIND_COLORS))
    shares: dict[str, list[float]] = {kind: [] for kind in kinds}
    for n in networks:
        mine = [r for r in rows if r["network"] == n]
        total = sum(float(r[key]) for r in mine)
        for kind in kinds:
            part = sum(float(r[key]) for r in mine if r["kind"] == kind)
            shares[kind].append(100 * part / total if total else 0.0)
    return shares


@plt.rc_context(PAPER_STYLE)
def time_by_kind_plot(rows: Sequence[Mapping[str, str]], out: Path) -> None:
    """Stacked bars per network of hitm's design at its default budget, by stage kind.

    Left: each kind's share of the summed stage busy time (where the time
    goes); right: its share of the crossbars (where the hardware goes). The
    networks are rows, each labelled with its period T and the bottleneck
    stage's kind; the legend lists only the kinds with a non-zero share.

    Parameters
    ----------
    rows
        paper_stages.csv rows (the ``hitm`` design's are drawn).
    out
        PNG path.
    """
    rows = [r for r in rows if r["design"] == "hitm"]
    networks = list(dict.fromkeys(r["network"] for r in rows))
    panels = (
        ("busy_ps", "share of summed\nstage busy time (%)"),
        ("crossbars", "share of\ncrossbars (%)"),
    )
    shares = {key: _kind_shares(rows, networks, key) for key, _ in panels}
    largest = {
        kind: max(max(s[kind], default=0.0) for s in shares.values()) for kind in shares["busy_ps"]
    }
    kinds = [kind for kind, most in largest.items() if most > 0]
    fig, axes = plt.subplots(
        1,
        2,
        figsize=(COLUMN_WIDTH, 0.15 * len(networks) + 0.75),
        sharey=True,
        layout="constrained",
    )
    # Room between the panels, else "100" of the left one touches "0" of the right one.
    fig.get_layout_engine().set(wspace=0.08)
    ys = list(range(len(networks)))
    for ax, (key, xlabel) in zip(axes, panels, strict=True):
        left = [0.0] * len(networks)
        for kind in kinds:
            # A kind that never reaches 1% is a sliver: say so, or the reader hunts for it.
            label = f"{kind} (<1%)" if largest[kind] < 1 else kind
            share = shares[key][kind]
            ax.barh(
                ys,
                share,
                left=left,
                height=0.72,
                color=KIND_COLORS.get(kind, "#999999"),
                label=label,
                linewidth=0,
            )
            left = [a + b for a, b in zip(left, share, strict=True)]
        ax.set_xlim(0, 100)
        ax.set_xticks([0, 50, 100])
        ax.set_xticks([25, 75], minor=True)
        ax.set_xlabel(xlabel)
        ax.grid(True, axis="x", which="both")
        ax.set_axisbelow(True)
        ax.tick_params(axis="y", length=0)
    axes[0].set_yticks(ys, labels=networks)
    axes[0].set_ylim(len(networks) - 0.5, -0.5)  # first network on top
    # Period and bottleneck kind as a column of labels right of the crossbar panel.
    right = axes[1].twinx()
    right.set_ylim(axes[1].get_ylim())
    periods = []
    for n in networks:
        first = next(r for r in rows if r["network"] == n)
        periods.append(f"{_short_time(float(first['bottleneck_ps']))}, {first['bottleneck_kind']}")
    right.set_yticks(ys, labels=periods)
    right.tick_params(axis="y", length=0)
    right.set_ylabel("period T, bottleneck kind")
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(
        handles,
        names,
        loc="outside lower center",
        ncol=len(names),
        handlelength=1.0,
        columnspacing=0.9,
        handletextpad=0.4,
    )
    fig.savefig(out, dpi=DPI)
    plt.close(fig)


def _short_time(ps: float) -> str:
    for unit, scale in (("s", 1e12), ("ms", 1e9), ("µs", 1e6)):
        if ps >= scale:
            return f"{ps / scale:.3g} {unit}"
    return f"{ps / 1e3:.3g} ns"


@plt.rc_context(PAPER_STYLE)
def solver_times_plot(rows: Sequence[Mapping[str, str]], out: Path) -> None:
    """Solve seconds of every method on every instance at its default budget (log scale).

    One row per instance (its default budget in chips in the label), one
    marker per method, offset within the row so equal times stay visible.

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
    fig, ax = plt.subplots(
        figsize=(COLUMN_WIDTH, 0.15 * len(instances) + 0.75), layout="constrained"
    )
    step = 0.72 / max(len(methods), 1)
    for j, method in enumerate(methods):
        xs, ys = [], []
        for i, inst in enumerate(instances):
            hit = [r for r in rows if r["instance"] == inst and r["method"] == method]
            if hit and hit[0]["seconds"]:
                xs.append(max(float(hit[0]["seconds"]), 1e-5))  # a 0.0000 s time stays drawable
                ys.append(i + step * (j - (len(methods) - 1) / 2))
        ax.scatter(xs, ys, s=7, linewidths=0, label=method, zorder=3, **METHOD_STYLE[method])
    ax.set_xscale("log")
    times = [max(float(r["seconds"]), 1e-5) for r in rows if r["seconds"]]
    if times:  # whole decades, so both ends of the axis carry a label
        ax.set_xlim(
            10 ** math.floor(math.log10(min(times))), 10 ** math.ceil(math.log10(max(times)))
        )
    _decades(ax.xaxis, seconds_label)
    chips = {r["instance"]: r["budget"].split("(")[-1].split()[0] for r in rows}
    ax.set_yticks(
        range(len(instances)),
        labels=[f"{i}, {chips[i]} chip{'' if chips[i] == '1' else 's'}" for i in instances],
    )
    # Row separators, not gridlines through the markers.
    ax.set_yticks([i + 0.5 for i in range(len(instances) - 1)], minor=True)
    ax.tick_params(axis="y", which="both", length=0)
    ax.grid(True, axis="y", which="minor", color="#dddddd", alpha=1)
    ax.grid(True, axis="x", which="major")
    ax.set_ylim(len(instances) - 0.5, -0.5)  # first instance on top
    ax.set_xlabel("solve time at the default budget (wall, log scale)")
    fig.legend(
        loc="outside lower center",
        ncol=len(methods),
        handletextpad=0.2,
        columnspacing=0.9,
        markerscale=1.3,
    )
    fig.savefig(out, dpi=DPI)
    plt.close(fig)


def _timed_out(method: str, status: str) -> bool:
    """No proof within the limit (a greedy 'feasible' is its normal, solved, answer)."""
    return status in ("timeout", "killed") or (status == "feasible" and method != "greedy")


@plt.rc_context(PAPER_STYLE)
def scaling_plot(
    rows: Sequence[Mapping[str, str]],
    chips: int,
    layers: Sequence[int],
    limit_s: float,
    out: Path,
) -> None:
    """Solve time versus layers (at ``chips``) and versus budget (at each of ``layers``).

    Panels stacked vertically. Solved points are joined by lines; a method
    that ran out of time is a cross on the limit line; one that refused to
    run (the DP's table over its size limit: no time was measured) is a cross
    in a "refused" strip under its panel, apart from the time axis (the strips
    are drawn only when some result was refused); skipped points are absent.

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
    panels += [
        ("chips", "layers", n, f"budget (ISAAC chips), chain of {n:,} layers") for n in layers
    ]
    chosen = [[r for r in rows if int(r[fix]) == val] for _, fix, val, _ in panels]
    refused = any(r["status"] == "error" for mine in chosen for r in mine)
    n = len(panels)
    if refused:
        fig, grid = plt.subplots(
            2 * n,
            1,
            figsize=(COLUMN_WIDTH, 1.75 * n + 0.7),
            height_ratios=[1, 0.13] * n,
            layout="constrained",
        )
        mains, strips = list(grid[0::2]), list(grid[1::2])
    else:
        fig, grid = plt.subplots(
            n, 1, figsize=(COLUMN_WIDTH, 1.55 * n + 0.6), squeeze=False, layout="constrained"
        )
        mains, strips = list(grid[:, 0]), [None] * n
    solved_times = [
        float(r["seconds"])
        for mine in chosen
        for r in mine
        if r["seconds"] and not _timed_out(r["method"], r["status"]) and r["status"] != "error"
    ]
    low = 10 ** math.floor(math.log10(max(min(solved_times, default=limit_s), 1e-6)))
    top_chips = max(int(r["chips"]) for r in rows)
    for ax, strip, mine, (x_key, _, _, xlabel) in zip(mains, strips, chosen, panels, strict=True):
        if strip is not None:
            strip.sharex(ax)  # before the scale is set, so the strip's x is the same log axis
        xs_all = sorted({int(r[x_key]) for r in mine})
        # Crosses of different methods at one point are nudged apart (a few % of an octave).
        nudge = (max(xs_all) / min(xs_all)) ** 0.014 if xs_all else 1.0
        late: dict[int, list[str]] = {}
        gave_up: dict[int, list[str]] = {}
        for method, style in METHOD_STYLE.items():
            pts = sorted(
                (int(r[x_key]), r["status"], float(r["seconds"]) if r["seconds"] else None)
                for r in mine
                if r["method"] == method
            )
            greedy = method == "greedy"
            # An unsolved point (timed out, refused) breaks the line: NaN, not a bridge over it.
            line = [
                (x, s if st == "optimal" or (greedy and st == "feasible") else math.nan)
                for x, st, s in pts
            ]
            if any(not math.isnan(s) for _, s in line):
                ax.plot(*zip(*line, strict=True), label=method, markersize=2.8, **style)
            for x, st, _ in pts:
                if _timed_out(method, st):
                    late.setdefault(x, []).append(method)
                elif st == "error":
                    gave_up.setdefault(x, []).append(method)
        for x, methods in late.items():
            for k, method in enumerate(methods):
                ax.plot(
                    x * nudge ** (2 * k - len(methods) + 1),
                    limit_s,
                    marker="x",
                    markersize=4,
                    markeredgewidth=1.0,
                    color=METHOD_STYLE[method]["color"],
                    zorder=4,
                )
        ax.axhline(limit_s, color="#888888", linestyle="--", linewidth=0.7, zorder=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        _decades(ax.yaxis, seconds_label)
        ax.set_ylim(low / 1.5, limit_s * 4)
        if x_key == "chips":
            _chips_axis(ax, top_chips)
        else:
            ax.xaxis.set_major_locator(FixedLocator(xs_all))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _plain_number(v)))
            ax.xaxis.set_minor_formatter(NullFormatter())
        if xs_all:
            ax.set_xlim(min(xs_all) / 1.25, max(xs_all) * 1.25)
        ax.grid(True, which="major")
        if strip is None:
            ax.set_xlabel(xlabel)
            continue
        # The refused strip: same x as its panel, no time scale at all.
        ax.tick_params(axis="x", which="both", labelbottom=False)
        for x, methods in gave_up.items():
            for k, method in enumerate(methods):
                strip.plot(
                    x * nudge ** (2 * k - len(methods) + 1),
                    0,
                    marker="x",
                    markersize=4,
                    markeredgewidth=1.0,
                    color=METHOD_STYLE[method]["color"],
                )
        strip.set_ylim(-1, 1)
        strip.set_yticks([0], labels=["refused"])
        strip.tick_params(axis="y", length=0)
        strip.set_facecolor("#f4f4f4")
        strip.grid(True, axis="x", which="major")
        strip.set_xlabel(xlabel)
    fig.supylabel("solve time (wall, log scale)")
    handles, labels = _legend_entries(mains)
    # The limit line with a cross on it is one legend entry: what a cross there means.
    limit = Line2D([], [], color="#888888", linestyle="--", linewidth=0.7)
    cross = Line2D([], [], color="#444444", marker="x", linestyle="none", markersize=4)
    handles.append((limit, cross))
    labels.append(f"on the {limit_s:g} s limit: no proof in time")
    if refused:
        handles.append(cross)
        labels.append("refused: DP table over its size limit")
    handles.append(Line2D([], [], linestyle="none"))
    labels.append("absent: skipped (predicted too slow)")
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncol=3,
        handler_map={tuple: HandlerTuple(ndivide=1)},
    )
    fig.savefig(out, dpi=DPI)
    plt.close(fig)


def paper_plots(results: Path = RESULTS) -> list[Path]:
    """Draw the plots of bench/paper.py (and the solver benchmark's) from the CSVs in ``results``.

    Parameters
    ----------
    results
        The directory holding the CSVs; the PNGs are written next to them.

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
