"""The crossbar design space: where ISAAC's own choice falls in hitm's cost model.

Run from the repository root:  python bench/hardware_space.py   (about 2 minutes on 2 cores)

Every point of rows × cols ∈ {64, 128, 256, 512}², cell bits ∈ {1, 2, 4}, DAC
bits ∈ {1, 2} and ADCs per crossbar ∈ {1, 2, 4} (288 chips, everything else
ISAAC's: 8 crossbars per IMA, 12 IMAs per tile, 168 tiles, 100 ns reads,
1.28 GS/s ADCs of the resolution the array needs) is scored twice:

- one chip at peak: GOPS/mm² (ISAAC's CE) and GOPS/W (its PE), every crossbar
  doing full MVMs back to back (docs/energy.md, "Peak figures");
- two zoo networks (nic: Inception-v3 + LSTM captioner; lrcn_activity: 16
  frames of CaffeNet + LSTM) on a fixed area, the tile area of 4 ISAAC chips
  (250.2 mm²): the crossbars that area holds at the point's own tile area,
  allocated by bisect (exact for copy counts), giving inferences/s per mm² of
  that area and inferences per joule.

Each point is scored under four sets of assumptions, to see which of them
decides the answer:

- ``laws``: hitm's model as documented (docs/energy.md): the crossbar reads in
  100 ns whatever its size, ADC energy and area follow ISAAC's ADC table;
- ``read ∝ rows``: the read time grows with the rows, 100 ns at 128 (the PUMA
  simulator's crossbar latency is ∝ its size);
- ``ADC ×2/bit``: the ADC's energy and area double per bit from ISAAC's 8-bit
  point (what Accelergy's IsaacADC code applies, and a constant Walden
  figure of merit), set as component overrides;
- ``both``.

Writes bench/results/hardware_space.csv, hardware_space.md and
hardware_space.png, with the machine, versions and commit.
"""

from __future__ import annotations

import csv
import itertools
import math
import sys
import time

import matplotlib

matplotlib.use("Agg")  # files only, never a display

import matplotlib.pyplot as plt
from common import RESULTS, ROOT, environment, markdown_table

from hitm import Budget, analyze, build_problem, evaluate, load_instance, solve
from hitm.costs import cost_table, crossbar_share
from hitm.hardware import load_hardware

SIZES = (64, 128, 256, 512)
CELL_BITS = (1, 2, 4)
DAC_BITS = (1, 2)
ADCS = (1, 2, 4)
NETWORKS = ("nic", "lrcn_activity")
ISAAC_POINT = {"rows": 128, "cols": 128, "cell_bits": 2, "dac_bits": 1, "adcs_per_crossbar": 1}
AREA_CHIPS = 4  # the fixed area: the tiles of this many ISAAC chips
CSV = RESULTS / "hardware_space.csv"
MD = RESULTS / "hardware_space.md"
PNG = RESULTS / "hardware_space.png"


SCENARIOS = ("laws", "read ∝ rows", "ADC ×2/bit", "both")


def points() -> list[dict[str, int]]:
    grid = itertools.product(SIZES, SIZES, CELL_BITS, DAC_BITS, ADCS)
    return [
        {"rows": r, "cols": c, "cell_bits": w, "dac_bits": v, "adcs_per_crossbar": a}
        for r, c, w, v, a in grid
    ]


def hardware_of(point: dict[str, int], scenario: str):
    """The chip of ``point`` under ``scenario``'s assumptions."""
    spec: dict[str, object] = dict(point)
    if scenario in ("read ∝ rows", "both"):
        spec["read_ns"] = 100.0 * point["rows"] / 128
    hw = load_hardware(spec)
    if scenario in ("ADC ×2/bit", "both"):
        isaac = load_hardware({}).components.named("adc")
        scale = 2.0 ** (hw.adc_resolution - 8)
        spec["components"] = {
            "adc": {"power_mw": isaac.power_mw * scale, "area_mm2": isaac.area_mm2 * scale}
        }
        hw = load_hardware(spec)
    return hw


def score(
    point: dict[str, int], scenario: str, networks, area_mm2: float
) -> dict[str, object]:
    hw = hardware_of(point, scenario)
    table = cost_table(hw)
    row: dict[str, object] = {
        "scenario": scenario,
        **point,
        "adc_bits": hw.adc_resolution,
        "read_ns": hw.read_ns,
        "cycle_ns": hw.cycle_ps / 1000,
        "mvm_ns": hw.mvm_ps / 1000,
        "chip_area_mm2": round(table.chip_area_mm2, 4),
        "chip_power_w": round(table.chip_power_mw / 1000, 4),
        "peak_gops": round(table.peak_gops, 2),
        "gops_per_mm2": round(table.gops_per_mm2, 3),
        "gops_per_w": round(table.gops_per_w, 3),
    }
    crossbars = math.floor(area_mm2 / crossbar_share(hw)[1])
    row["crossbars_in_area"] = crossbars
    for name, inst in networks.items():
        analysis = analyze(inst.network, hw)
        problem = build_problem(analysis, Budget(crossbars=crossbars))
        if problem.shortfall():
            row[f"{name}_throughput_per_s"] = ""
            row[f"{name}_per_mm2"] = ""
            row[f"{name}_inferences_per_j"] = ""
            continue
        design = evaluate(problem, solve(problem, "bisect").copies)
        row[f"{name}_throughput_per_s"] = round(design.throughput_per_s, 3)
        row[f"{name}_per_mm2"] = round(design.throughput_per_s / area_mm2, 4)
        row[f"{name}_inferences_per_j"] = round(design.costs.inferences_per_j, 4)
    return row


def _is_isaac(row) -> bool:
    return all(int(row[k]) == v for k, v in ISAAC_POINT.items())


def _label(row) -> str:
    return (
        f"{row['rows']}×{row['cols']}, {row['cell_bits']}-bit cells, {row['dac_bits']}-bit DAC,"
        f" {row['adcs_per_crossbar']} ADC{'s' if int(row['adcs_per_crossbar']) > 1 else ''}"
        f" ({row['adc_bits']}-bit)"
    )


def _rank(rows, key) -> tuple[int, int]:
    """ISAAC's rank (1 = best) among the points that have ``key``, and how many do."""
    scored = sorted((r for r in rows if r[key] != ""), key=lambda r: -float(r[key]))
    return next(i for i, r in enumerate(scored, 1) if _is_isaac(r)), len(scored)


def _top(rows, key, n=8) -> list[list[str]]:
    scored = sorted((r for r in rows if r[key] != ""), key=lambda r: -float(r[key]))[:n]
    return [[str(i), _label(r), f"{float(r[key]):,.4g}"] for i, r in enumerate(scored, 1)]


def write_markdown(all_rows, area_mm2: float, seconds: float) -> None:
    env = environment()
    rows = [r for r in all_rows if r["scenario"] == "laws"]
    isaac = next(r for r in rows if _is_isaac(r))
    lines = [
        "# The crossbar design space",
        "",
        f"Command: `python bench/hardware_space.py` ({seconds / 60:.1f} min on this machine)",
        "",
        f"- machine: {env['machine']}",
        f"- python: {env['python']}; {env['versions']}",
        f"- commit: {env['commit']}",
        "",
        f"{len(rows)} chips: rows × cols ∈ {{64, 128, 256, 512}}², cell bits ∈ {{1, 2, 4}},"
        " DAC bits ∈ {1, 2}, ADCs per crossbar ∈ {1, 2, 4}; everything else ISAAC's (8"
        " crossbars per IMA, 12 IMAs per tile, 168 tiles, 100 ns reads, 1.28 GS/s ADCs at the"
        " resolution each array needs, the scaling laws of docs/energy.md). The networks run on"
        f" a fixed area, the tiles of {AREA_CHIPS} ISAAC chips ({area_mm2:.1f} mm²), allocated"
        " by bisect (exact). All figures are in bench/results/hardware_space.csv.",
        "",
        f"ISAAC's point ({_label(isaac)}): {float(isaac['gops_per_mm2']):,.1f} GOPS/mm²,"
        f" {float(isaac['gops_per_w']):,.1f} GOPS/W at peak.",
        "",
    ]
    keys = [
        ("gops_per_mm2", "peak GOPS/mm² of one chip (ISAAC's CE)"),
        ("gops_per_w", "peak GOPS/W of one chip (ISAAC's PE)"),
    ]
    for name in NETWORKS:
        keys += [
            (f"{name}_per_mm2", f"{name}: inferences/s per mm² of the fixed area"),
            (f"{name}_inferences_per_j", f"{name}: inferences per joule on the fixed area"),
        ]
    lines += ["## ISAAC's rank under each set of assumptions", ""]
    table_rows = []
    for scenario in SCENARIOS:
        mine = [r for r in all_rows if r["scenario"] == scenario]
        for key, title in keys:
            best = _top(mine, key, 1)[0]
            table_rows.append(
                [scenario, title, "{} of {}".format(*_rank(mine, key)), best[1], best[2]]
            )
    lines.append(
        markdown_table(
            ["assumptions", "metric", "ISAAC's rank", "best point", "best value"], table_rows
        )
    )
    lines += ["", "## ISAAC's rank with the documented laws", ""]
    lines.append(
        markdown_table(
            ["metric", "ISAAC's rank", "ISAAC's value", "best point", "best value"],
            [
                [
                    title,
                    "{} of {}".format(*_rank(rows, key)),
                    f"{float(isaac[key]):,.4g}" if isaac[key] != "" else "does not fit",
                    _top(rows, key, 1)[0][1],
                    _top(rows, key, 1)[0][2],
                ]
                for key, title in keys
            ],
        )
    )
    for key, title in keys:
        lines += ["", f"## Best by {title} (documented laws)", ""]
        lines.append(markdown_table(["#", "point", "value"], _top(rows, key)))
    MD.write_text("\n".join(lines) + "\n", encoding="utf-8")


def plot(rows) -> None:
    fig, axes = plt.subplots(1, 1 + len(NETWORKS), figsize=(5.2 * (1 + len(NETWORKS)), 4.4))
    panels = [("gops_per_mm2", "gops_per_w", "peak GOPS/mm²", "peak GOPS/W", "one chip at peak")]
    panels += [
        (f"{n}_per_mm2", f"{n}_inferences_per_j", "inferences/s per mm²", "inferences/J", n)
        for n in NETWORKS
    ]
    for ax, (x, y, xl, yl, title) in zip(axes, panels, strict=True):
        kept = [r for r in rows if r[x] != ""]
        colors = [{1: "#4c72b0", 2: "#55a868", 4: "#c44e52"}[int(r["cell_bits"])] for r in kept]
        ax.scatter([float(r[x]) for r in kept], [float(r[y]) for r in kept], s=14, c=colors,
                   alpha=0.7, linewidths=0)  # fmt: skip
        isaac = next(r for r in kept if _is_isaac(r))
        ax.scatter([float(isaac[x])], [float(isaac[y])], s=120, facecolors="none",
                   edgecolors="black", linewidths=1.5, label="ISAAC's choice")  # fmt: skip
        ax.set_xlabel(xl)
        ax.set_ylabel(yl)
        ax.set_title(title)
        ax.grid(alpha=0.3)
    for bits, color in ((1, "#4c72b0"), (2, "#55a868"), (4, "#c44e52")):
        axes[0].scatter([], [], s=14, c=color, label=f"{bits}-bit cells")
    axes[0].legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(PNG, dpi=130)
    plt.close(fig)


def main() -> int:
    start = time.perf_counter()
    networks = {n: load_instance(ROOT / "instances" / f"{n}.yaml") for n in NETWORKS}
    isaac = cost_table(load_hardware({}))
    area_mm2 = AREA_CHIPS * isaac.hardware.tiles_per_chip * isaac.tile_area_mm2
    rows = []
    for scenario in SCENARIOS:
        rows += [score(point, scenario, networks, area_mm2) for point in points()]
        print(f"{scenario}: {time.perf_counter() - start:.0f} s", file=sys.stderr)
    with CSV.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plot([r for r in rows if r["scenario"] == "laws"])
    write_markdown(rows, area_mm2, time.perf_counter() - start)
    print(f"done in {time.perf_counter() - start:.0f} s; see {MD}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
