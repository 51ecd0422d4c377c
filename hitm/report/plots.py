"""Plots of a frontier and of a design's stages (matplotlib: PNG, SVG or PDF).

Imported only by the commands that plot, so the rest of hitm never loads
matplotlib. Figures are drawn on :class:`matplotlib.figure.Figure` objects
with the Agg canvas (no pyplot, no global state, no display); the format
comes from the file's suffix, and a file is written whole (a temporary file
renamed into place) so that an error leaves nothing half-written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, NullFormatter

from hitm.errors import DescriptionError, ParameterError
from hitm.files import write_whole
from hitm.frontier import Frontier
from hitm.pipeline import PS_PER_S, Metrics

__all__ = ["FORMATS", "check_plot_path", "plot_frontier", "plot_stages"]

FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
# Dates left out so the same design draws the same file.
_METADATA = {"svg": {"Date": None}, "pdf": {"CreationDate": None, "ModDate": None}}
"""File suffix → matplotlib format."""

_STYLE = {
    "font.size": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "svg.fonttype": "none",  # keep text as text: readable and searchable SVG
    "svg.hashsalt": "hitm",  # stable element ids
}
_CURVE = "#1f77b4"
_HIGHLIGHT = "#d62728"
_MUTED = "#9e9e9e"
_TIED = "#f1a340"


def check_plot_path(path: Path) -> str:
    """The format ``path`` asks for (``png``, ``svg`` or ``pdf``).

    Raises
    ------
    ParameterError
        If the suffix is not ``.png``, ``.svg`` or ``.pdf``, or the directory does not exist.
    """
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        got = f"'{path.suffix}'" if path.suffix else "no suffix"
        raise ParameterError(
            "path", f"{path}: the suffix sets the format, .png, .svg or .pdf; got {got}"
        )
    if not path.parent.is_dir():
        raise ParameterError("path", f"{path}: directory {path.parent} does not exist")
    return fmt


def save_figure(fig: Figure, path: Path) -> Path:
    """Write ``fig`` to ``path`` whole, in the format its suffix names."""
    fmt = check_plot_path(path)
    FigureCanvasAgg(fig)  # the Agg canvas draws PNG; SVG goes through matplotlib's SVG backend

    def draw(handle: BinaryIO) -> None:
        with matplotlib.rc_context(_STYLE):
            fig.savefig(handle, format=fmt, dpi=150, metadata=_METADATA.get(fmt))

    try:
        return write_whole(path, draw)
    except DescriptionError as exc:
        raise ParameterError("path", str(exc)) from None


def _rate(per_s: float) -> str:
    return f"{per_s:,.0f}/s" if per_s >= 100 else f"{per_s:,.3g}/s"


def _amount(front: Frontier, amount: int) -> str:
    value = front.user(amount)
    return f"{value:,.0f} {front.unit}" if front.scale == 1 else f"{value:,.2f} {front.unit}"


def _plain(value: float, _pos: object = None) -> str:
    """One tick format on every axis, linear or log: ``8,000``, ``10,000``, ``0.5``, ``31.4``."""
    if value == 0:
        return "0"
    if abs(value) >= 1 and float(value).is_integer():
        return f"{value:,.0f}"
    digits = max(0, 2 - int(np.floor(np.log10(abs(value)))))
    return f"{value:,.{digits}f}".rstrip("0").rstrip(".")


def _ticks(axis: Any) -> None:
    """Plain numbers on ``axis`` (no ``1e+04`` next to ``8,000``); log axes label decades only."""
    axis.set_major_formatter(FuncFormatter(_plain))
    axis.set_minor_formatter(NullFormatter())


def plot_frontier(front: Frontier, path: Path, *, title: str | None = None) -> Path:
    """Throughput against budget: the exact staircase with its landmarks.

    A step plot of throughput (inferences/s) against the budget of the
    frontier's resource; an axis is logarithmic when its values span more
    than two decades (the throughput axis of most networks: the naive design
    runs a few hundred times slower than the ceiling, and on a linear axis
    it would lie on the x-axis). Marked: the naive design, the unlimited
    throughput, the knee, the instance's budget and the best design within
    it; every mark is in the legend, which sits below the axes so that it
    never covers the curve. ``path``'s suffix sets the format.

    Returns
    -------
    Path
        ``path``, once written.
    """
    check_plot_path(path)
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(7, 5), layout="constrained")
        ax = fig.add_subplot()
        x = np.asarray(front.budget, dtype=np.float64)
        y = front.throughput_per_s
        drawn = int(front.amount[-1])  # with up_to, landmarks beyond the cut are not drawn
        knee = front.knee if front.knee is not None and front.knee.amount <= drawn else None
        chosen = front.chosen if front.chosen is not None and front.chosen.amount <= drawn else None
        right = x[-1]
        if front.cap is not None and chosen is not None:
            right = max(right, front.user(front.cap))
        right = right * 1.02 if len(x) > 1 or right > x[0] else x[0] * 1.05
        ax.step(
            np.append(x, right),
            np.append(y, y[-1]),
            where="post",
            color=_CURVE,
            lw=1.4,
            label=f"least {front.resource} for each bottleneck"
            f" ({len(front):,} breakpoint{'s' if len(front) != 1 else ''})",
        )
        unlimited = PS_PER_S / front.unlimited_ps
        naive = front.naive
        ax.axhline(
            unlimited,
            color="black",
            ls="--",
            lw=1,
            label=f"unlimited: {_rate(unlimited)}, reached from {_amount(front, front.ceiling.amount)}",
        )
        ax.plot(
            naive.budget,
            naive.throughput_per_s,
            "o",
            color=_MUTED,
            mec="black",
            mew=0.6,
            ms=7,
            label=f"naive design: {_rate(naive.throughput_per_s)}"
            f" ({front.pct_of_unlimited(naive.bottleneck_ps):.3g}% of unlimited)"
            f" on {_amount(front, naive.amount)}",
        )
        if knee is not None:
            ax.plot(
                knee.budget,
                knee.throughput_per_s,
                "D",
                color="#ff7f0e",
                ms=7,
                label=f"knee: {_amount(front, knee.amount)},"
                f" {front.pct_of_unlimited(knee.bottleneck_ps):.1f}% of unlimited"
                f" (lift {front.knee_lift:.2f})",
            )
        if chosen is not None and front.cap is not None:
            ax.axvline(
                front.user(front.cap),
                color=_HIGHLIGHT,
                lw=0.9,
                ls="-.",
                alpha=0.7,
                label=f"budget: {_amount(front, front.cap)}",
            )
            ax.plot(
                chosen.budget,
                chosen.throughput_per_s,
                "*",
                color=_HIGHLIGHT,
                ms=13,
                label=f"best within the budget: {_rate(chosen.throughput_per_s)},"
                f" {front.pct_of_unlimited(chosen.bottleneck_ps):.1f}% of unlimited"
                f" on {_amount(front, chosen.amount)}",
            )
        if right / x[0] > 100:
            ax.set_xscale("log")
        if unlimited / min(naive.throughput_per_s, y[0]) > 100:
            ax.set_yscale("log")
            ax.set_ylim(bottom=min(naive.throughput_per_s, y[0]) / 1.6, top=unlimited * 1.6)
        else:
            ax.set_ylim(bottom=0, top=unlimited * 1.08)
        _ticks(ax.xaxis)
        _ticks(ax.yaxis)
        ax.set_xlabel(
            "crossbar budget" if front.scale == 1 else f"{front.resource} budget ({front.unit})"
        )
        ax.set_ylabel("throughput (inferences/s)")
        mode = ", design mode" if front.design else ""
        scope = "" if front.complete else " (cut at --up-to)"
        ax.set_title(
            title or f"{front.network}: exact {front.resource} → throughput frontier{mode}{scope}",
            loc="left",
        )
        fig.legend(loc="outside lower center", ncols=1, fontsize=8, frameon=False)
    return save_figure(fig, path)


GROUP_ABOVE = 30
"""Stages beyond this many are drawn in groups (blocks of a backbone), one bar each."""


@dataclass(frozen=True)
class _Bar:
    label: str
    busy_ps: int  # the slowest stage of the group
    crossbars: int
    copies: str  # "×12" for one stage, "×1–×12" for a group
    hot: bool  # holds the bottleneck stage
    tied: bool  # holds another stage at T


def _prefix(name: str, depth: int) -> str:
    parts = name.split(".")
    return ".".join(parts[:depth]) if len(parts) > depth else name


def _bars(metrics: Metrics) -> tuple[list[_Bar], int]:
    """The stages, or at most :data:`GROUP_ABOVE` groups of consecutive stages.

    Groups are the deepest name prefix (``resnet50.layer1.0``: a residual
    block) whose consecutive runs number at most :data:`GROUP_ABOVE`; the
    depth used is returned (0: one bar per stage).
    """
    stages = metrics.stages
    depth = 0
    runs: list[list[int]] = [[i] for i in range(len(stages))]
    if len(stages) > GROUP_ABOVE:
        deepest = max(len(s.name.split(".")) for s in stages)
        for d in range(deepest - 1, 0, -1):
            grouped: list[list[int]] = []
            for i, s in enumerate(stages):
                key = _prefix(s.name, d)
                if grouped and _prefix(stages[grouped[-1][0]].name, d) == key:
                    grouped[-1].append(i)
                else:
                    grouped.append([i])
            if len(grouped) <= GROUP_ABOVE:
                runs, depth = grouped, d
                break
        else:  # no prefix groups few enough: equal runs in pipeline order
            size = -(-len(stages) // GROUP_ABOVE)
            runs = [list(range(i, min(i + size, len(stages)))) for i in range(0, len(stages), size)]
            depth = -1
    bars = []
    for run in runs:
        members = [stages[i] for i in run]
        copies = [c for s in members for c in s.copies]
        if depth == 0:
            label = members[0].name
        elif depth > 0:
            label = _prefix(members[0].name, depth)
        else:
            label = f"{members[0].name} …"
        if len(members) > 1:
            label += f" ({len(members)} stages)"
        low, high = min(copies), max(copies)
        bars.append(
            _Bar(
                label=label,
                busy_ps=max(s.busy_ps for s in members),
                crossbars=sum(s.crossbars for s in members),
                copies=f"×{low:,}" if low == high else f"×{low:,}–{high:,}",
                hot=any(s.name == metrics.bottleneck_stage for s in members),
                tied=any(
                    s.busy_ps == metrics.bottleneck_ps and s.name != metrics.bottleneck_stage
                    for s in members
                ),
            )
        )
    return bars, depth


def plot_stages(metrics: Metrics, path: Path, *, title: str | None = None) -> Path:
    """Per-stage busy time and crossbars as horizontal bars, the bottleneck highlighted.

    Stages run top to bottom in pipeline order. Left: busy time per
    inference, the period ``T`` (the bottleneck's busy time) a vertical line;
    times in µs, or ms when ``T`` is 1 ms or more. Right: the crossbars each
    stage holds, its copies written beside. A design of more than
    :data:`GROUP_ABOVE` stages is drawn by blocks (the deepest name prefix
    that leaves at most that many: ``resnet50.layer1.0``), each bar the
    block's slowest stage and its crossbars' sum. ``path``'s suffix sets the
    format.

    Returns
    -------
    Path
        ``path``, once written.
    """
    check_plot_path(path)
    scale, unit = (1e9, "ms") if metrics.bottleneck_ps >= 1e9 else (1e6, "µs")
    bars, depth = _bars(metrics)
    n = len(bars)
    busy = np.array([b.busy_ps for b in bars], dtype=np.float64) / scale
    crossbars = np.array([b.crossbars for b in bars], dtype=np.float64)
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(8, 1.9 + 0.22 * max(n, 3)), layout="constrained")
        left, right = fig.subplots(1, 2, sharey=True, width_ratios=[3, 2])
        rows = np.arange(n)
        colors = [_HIGHLIGHT if b.hot else _TIED if b.tied else _CURVE for b in bars]
        left.barh(rows, busy, color=colors, height=0.75)
        period = metrics.bottleneck_ps / scale
        line = left.axvline(period, color="black", ls="--", lw=1)
        right.barh(rows, crossbars, color=colors, height=0.75, alpha=0.55)
        for row, bar, t, c in zip(rows, bars, busy, crossbars, strict=True):
            for ax, value, text in ((left, t, f"{t:,.4g}"), (right, c, f"{c:,.0f} {bar.copies}")):
                ax.annotate(
                    text,
                    (value, row),
                    xytext=(3, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=7,
                )
        left.set_yticks(rows, labels=[b.label for b in bars], fontsize=7 if n > 20 else 8)
        for label, bar in zip(left.get_yticklabels(), bars, strict=True):
            if bar.hot:
                label.set_color(_HIGHLIGHT)
                label.set_fontweight("bold")
        left.set_ylim(n - 0.5, -0.5)  # pipeline order, first stage on top
        left.set_xlim(0, period * 1.25)
        right.set_xlim(0, crossbars.max() * 1.45)
        grouped = " (slowest stage of each block)" if depth else ""
        left.set_xlabel(f"busy time per inference ({unit}){grouped}")
        right.set_xlabel("crossbars (× copies)")
        for ax in (left, right):
            ax.grid(axis="y", visible=False)
            _ticks(ax.xaxis)
        line.set_label(f"period T = {period:,.4g} {unit}")
        handles = [Patch(color=_HIGHLIGHT, label=f"bottleneck: {metrics.bottleneck_stage}"), line]
        tied = sum(
            s.busy_ps == metrics.bottleneck_ps and s.name != metrics.bottleneck_stage
            for s in metrics.stages
        )
        if tied:
            handles.insert(1, Patch(color=_TIED, label=f"{tied} more stage{'s' * (tied > 1)} at T"))
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8)
        fig.suptitle(
            title
            or f"{metrics.analysis.network.name}: {len(metrics.stages)} stages,"
            f" {metrics.throughput_per_s:,.4g} inferences/s, {metrics.crossbars_used:,} crossbars",
            x=0.01,
            ha="left",
            fontsize=10,
        )
    return save_figure(fig, path)
