"""Plots of a frontier and of a design's stages (matplotlib, PNG or SVG).

Imported only by the commands that plot, so the rest of hitm never loads
matplotlib. Figures are drawn on :class:`matplotlib.figure.Figure` objects
with the Agg canvas (no pyplot, no global state, no display); the format
comes from the file's suffix, and a file is written whole (a temporary file
renamed into place) so that an error leaves nothing half-written.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import StrMethodFormatter

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


def _amount(front: Frontier, budget: int) -> str:
    value = front.user(budget)
    return f"{value:,.0f} {front.unit}" if front.scale == 1 else f"{value:,.2f} {front.unit}"


def plot_frontier(front: Frontier, path: Path, *, title: str | None = None) -> Path:
    """Throughput against budget: the exact staircase with its landmarks.

    A step plot of throughput (inferences/s) against the budget of the
    frontier's resource (log budget axis when it spans more than two
    decades); horizontal lines at the naive design's and the unlimited
    throughput; the knee and the chosen design (the best within the
    instance's budget) marked. ``path``'s suffix sets the format.

    Returns
    -------
    Path
        ``path``, once written.
    """
    check_plot_path(path)
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(8, 5), layout="constrained")
        ax = fig.add_subplot()
        x = np.asarray(front.user(front.budget), dtype=np.float64)
        y = front.throughput_per_s
        drawn = int(front.budget[-1])  # with up_to, landmarks beyond the cut are not drawn
        knee = front.knee if front.knee is not None and front.knee.budget <= drawn else None
        chosen = front.chosen if front.chosen is not None and front.chosen.budget <= drawn else None
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
        naive = front.naive.throughput_per_s
        ax.axhline(
            unlimited,
            color="black",
            ls="--",
            lw=1,
            label=f"unlimited: {_rate(unlimited)} from {_amount(front, front.unlimited.budget)}",
        )
        ax.axhline(
            naive,
            color=_MUTED,
            ls=":",
            lw=1.2,
            label=f"naive design: {_rate(naive)} ({front.pct_of_unlimited(front.naive.bottleneck_ps):.3g}%)"
            f" on {_amount(front, front.naive.budget)}",
        )
        if knee is not None:
            k = knee
            ax.plot(
                front.user(k.budget),
                k.throughput_per_s,
                "D",
                color="#ff7f0e",
                ms=7,
                label=f"knee: {_amount(front, k.budget)}, {front.pct_of_unlimited(k.bottleneck_ps):.1f}%"
                f" of unlimited (lift {front.knee_lift:.2f})",
            )
        if chosen is not None and front.cap is not None:
            c = chosen
            ax.axvline(front.user(front.cap), color=_HIGHLIGHT, lw=0.8, alpha=0.5)
            ax.plot(
                front.user(c.budget),
                c.throughput_per_s,
                "*",
                color=_HIGHLIGHT,
                ms=13,
                label=f"chosen (budget {_amount(front, front.cap)}): {_rate(c.throughput_per_s)},"
                f" {front.pct_of_unlimited(c.bottleneck_ps):.1f}% of unlimited",
            )
        if x[-1] / x[0] > 100:  # decades of budget: log-log, where throughput ∝ budget is straight
            ax.set_xscale("log")
            ax.set_yscale("log")
        ax.set_xlabel(
            "crossbar budget" if front.scale == 1 else f"{front.resource} budget ({front.unit})"
        )
        ax.set_ylabel("throughput (inferences/s)")
        if ax.get_yscale() == "log":
            ax.set_ylim(bottom=min(naive, y[0]) / 2, top=unlimited * 1.5)
        else:
            ax.set_ylim(bottom=0, top=unlimited * 1.08)
            ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        if ax.get_xscale() == "linear":
            ax.xaxis.set_major_formatter(
                StrMethodFormatter("{x:,.0f}" if front.scale == 1 else "{x:,.4g}")
            )
        mode = ", design mode" if front.design else ""
        scope = "" if front.complete else " (cut at --up-to)"
        ax.set_title(
            title or f"{front.network}: exact {front.resource} → throughput frontier{mode}{scope}",
            loc="left",
        )
        ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    return save_figure(fig, path)


def plot_stages(metrics: Metrics, path: Path, *, title: str | None = None) -> Path:
    """Per-stage busy time as horizontal bars, the bottleneck highlighted.

    Stages run top to bottom in pipeline order; the period ``T`` (the
    bottleneck's busy time) is a vertical line. Times in µs, or ms when
    ``T`` is 1 ms or more. ``path``'s suffix sets the format.

    Returns
    -------
    Path
        ``path``, once written.
    """
    check_plot_path(path)
    scale, unit = (1e9, "ms") if metrics.bottleneck_ps >= 1e9 else (1e6, "µs")
    names = [s.name for s in metrics.stages]
    busy = np.array([s.busy_ps for s in metrics.stages], dtype=np.float64) / scale
    hot = [s.name == metrics.bottleneck_stage for s in metrics.stages]
    tied = [
        s.busy_ps == metrics.bottleneck_ps and not h
        for s, h in zip(metrics.stages, hot, strict=True)
    ]
    n = len(names)
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(8, 1.8 + 0.2 * max(n, 3)), layout="constrained")
        ax = fig.add_subplot()
        rows = np.arange(n)
        colors = [
            _HIGHLIGHT if h else _TIED if t else _CURVE for h, t in zip(hot, tied, strict=True)
        ]
        ax.barh(rows, busy, color=colors, height=0.75)
        period = metrics.bottleneck_ps / scale
        line = ax.axvline(period, color="black", ls="--", lw=1)
        for row, value, h in zip(rows, busy, hot, strict=True):
            if h or n <= 40:
                ax.annotate(
                    f"{value:,.4g}",
                    (value, row),
                    xytext=(3, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=7,
                )
        ax.set_yticks(rows, labels=names, fontsize=7 if n > 30 else 9)
        for label, h in zip(ax.get_yticklabels(), hot, strict=True):
            if h:
                label.set_color(_HIGHLIGHT)
                label.set_fontweight("bold")
        ax.set_ylim(n - 0.5, -0.5)  # pipeline order, first stage on top
        ax.set_xlim(0, period * 1.15)
        ax.set_xlabel(f"busy time per inference ({unit})")
        ax.grid(axis="y", visible=False)
        handles = [
            Patch(color=_HIGHLIGHT, label=f"bottleneck: {metrics.bottleneck_stage}"),
            line,
        ]
        line.set_label(f"period T = {period:,.4g} {unit}")
        if any(tied):
            handles.insert(1, Patch(color=_TIED, label=f"{sum(tied)} more stages at T"))
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8)
        ax.set_title(
            title
            or f"{metrics.analysis.network.name}: busy time per stage,"
            f" {metrics.throughput_per_s:,.4g} inferences/s",
            loc="left",
        )
    return save_figure(fig, path)
