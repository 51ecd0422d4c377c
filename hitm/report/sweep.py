"""A sweep's results as a reader sees them: the non-dominated designs, and their plots."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

from hitm.errors import ParameterError
from hitm.report.format import fmt_energy, fmt_power, fmt_rate, fmt_time

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["OBJECTIVES", "pareto_front", "plot_sweep", "sweep_table"]

OBJECTIVES: dict[str, tuple[str, bool]] = {
    "throughput": ("throughput_per_s", True),
    "area": ("area_mm2", False),
    "power": ("power_w", False),
    "energy": ("energy_pj", False),
    "crossbars": ("crossbars_used", False),
    "efficiency": ("inferences_per_j", True),
}
"""Objective name → (column, whether larger is better)."""


def _objectives(names: Sequence[str]) -> list[tuple[str, bool]]:
    unknown = [n for n in names if n not in OBJECTIVES]
    if unknown or len(names) < 2:
        raise ParameterError(
            "pareto",
            f"give two or more of {', '.join(OBJECTIVES)}, got {','.join(names) or 'none'}",
        )
    return [OBJECTIVES[n] for n in names]


def pareto_front(frame: pd.DataFrame, objectives: Sequence[str]) -> pd.DataFrame:
    """Per network, the designs no other design of it beats in every objective."""
    import pandas as pd

    columns = _objectives(objectives)
    rows = frame.dropna(subset=[c for c, _ in columns]).reset_index(drop=True)
    if rows.empty:
        return rows
    fronts = [_front(group, columns) for _, group in rows.groupby("network", sort=True)]
    return pd.concat(fronts).reset_index(drop=True)


def _front(rows: pd.DataFrame, columns: list[tuple[str, bool]]) -> pd.DataFrame:
    import numpy as np

    rows = rows.reset_index(drop=True)
    # Larger-is-better objectives are negated: minimise everything.
    values = np.stack(
        [(-1 if up else 1) * rows[c].to_numpy(dtype=float) for c, up in columns], axis=1
    )
    order = np.lexsort(values.T[::-1])
    keep: list[int] = []
    for i in order:
        if not any(np.all(values[j] <= values[i]) for j in keep):
            keep.append(int(i))
    return rows.iloc[sorted(keep)].reset_index(drop=True)


def sweep_table(front: pd.DataFrame, title: str) -> Table:
    """One row per non-dominated design."""
    t = Table(title=title, title_justify="left")
    for col in ("network", "hardware", "budget", "method", "bottleneck", "throughput",
                "energy", "power", "area"):  # fmt: skip
        t.add_column(
            col, justify="left" if col in ("network", "hardware", "budget", "method") else "right"
        )
    for _, r in front.iterrows():
        hardware = (
            f"{r['rows']}×{r['cols']}, {r['cell_bits']}-bit cells, {r['adc_resolution']}-bit ADC"
        )
        budget = ", ".join(
            f"{k.removeprefix('budget_')} {r[k]:g}" for k in front.columns
            if k.startswith("budget_") and r[k] == r[k] and r[k] is not None
        )  # fmt: skip
        t.add_row(
            str(r["network"]),
            hardware,
            budget,
            str(r["method"]),
            fmt_time(r["bottleneck_ps"]),
            fmt_rate(r["throughput_per_s"]),
            fmt_energy(r["energy_pj"]),
            fmt_power(r["power_w"]),
            f"{r['area_mm2']:,.2f} mm²",
        )
    return t


def plot_sweep(
    frame: pd.DataFrame, front: pd.DataFrame, path: Path, objectives: Sequence[str] = ()
) -> Path:
    """Throughput against area and against power, a colour per network, the front circled."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    from hitm.report.plots import save_figure

    fig = Figure(figsize=(9.0, 3.8))
    designs = frame.dropna(subset=["throughput_per_s"])
    keys = set(front["row_key"])
    for ax, x, label in zip(
        fig.subplots(1, 2), ("area_mm2", "power_w"), ("area (mm²)", "power (W)"), strict=True
    ):
        for i, (name, rows) in enumerate(designs.groupby("network")):
            color = f"C{i % 10}"
            ax.scatter(rows[x], rows["throughput_per_s"], s=10, alpha=0.5, color=color, label=name)
            best = rows[rows["row_key"].isin(keys)]
            ax.scatter(best[x], best["throughput_per_s"], s=40, facecolors="none",
                       edgecolors=color, linewidths=1.2)  # fmt: skip
        ax.set_xlabel(label)
        ax.set_ylabel("inferences/s")
        ax.set_xscale("log")
        ax.set_yscale("log")
        for axis in (ax.xaxis, ax.yaxis):  # plain numbers at 1, 2, 5 × 10^k
            axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            axis.set_major_formatter(
                FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:.2g}")
            )
            axis.set_minor_formatter(NullFormatter())
        ax.grid(alpha=0.3, which="both")
    over = " and ".join(objectives) if objectives else "the objectives"
    fig.axes[0].legend(fontsize=7, loc="lower right", title=f"○ non-dominated in {over}",
                       title_fontsize=7)  # fmt: skip
    fig.tight_layout()
    return save_figure(fig, path)
