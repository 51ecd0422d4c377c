"""The paper's experiment on the transformer zoo, beside the CNN + RNN zoo's.

Run from the repository root:  python bench/transformers.py [--time-limit 60]

For every transformer instance (``vit_b_16``, ``clip_b16``, ``vit_gpt2_caption``,
``blip_vqa``) and every budget of whole ISAAC chips in bench/paper.py's ``CHIPS``
that holds the naive design, hitm's design is the DP's, checked by
``hitm.pipeline.verify`` and re-solved by CP-SAT, which must prove the same
(bottleneck, crossbars) optimum (else the run stops with exit code 1). Per
design: % of the unlimited throughput, % of the budget used, what binds, the
share of the layers' summed busy time in the products of two activations
(Q·Kᵀ, A·V: their operand written into crossbars every inference) and in
decoder loops, the share of energy spent writing cells, and how long the
most-written cells last at the design's throughput (10⁹ writes per cell).
The products run as crossbar writes, the one implementation hitm models so
far; the digital one, and the optimiser's choice between them, are not built.

Writes results/transformers.csv and results/transformers.md. About a minute.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence

import paper
from common import RESULTS, environment_lines, markdown_table, progress, write_result

from hitm.errors import HitmError
from hitm.pipeline import SECONDS_PER_YEAR, Metrics

NETWORKS = ("vit_b_16", "clip_b16", "vit_gpt2_caption", "blip_vqa")
FIXED = (16, 64)


def busy_shares(metrics: Metrics) -> tuple[float, float]:
    """Percentages of the weight layers' summed busy time in the products of two
    activations and inside decoder loops (layer by layer, with the design's copies)."""
    layers = metrics.analysis
    busy = {m: layers.layer(m).busy_ps(d) for m, d in metrics.copies.items()}
    total = sum(busy.values()) or 1

    def pct_of(keep) -> float:
        return 100 * sum(b for m, b in busy.items() if keep(layers.layer(m))) / total

    return pct_of(lambda x: x.op == "matmul"), pct_of(lambda x: x.loop is not None)


def design_row(net: paper.Network, chips: int, metrics: Metrics, info: dict) -> dict[str, object]:
    costs = metrics.costs
    lifetime = metrics.lifetime_years
    products, loops = busy_shares(metrics)
    return {
        "network": net.name,
        "chips": chips,
        "default_budget": "yes" if chips == net.default_chips else "",
        "bottleneck_ps": metrics.bottleneck_ps,
        "throughput_per_s": f"{metrics.throughput_per_s:.6g}",
        "pct_unlimited_throughput": f"{paper.pct(net.unlimited.bottleneck_ps, metrics.bottleneck_ps):.2f}",
        "crossbars_used": metrics.crossbars_used,
        "pct_budget_used": f"{paper.pct(metrics.crossbars_used, chips * net.crossbars_per_chip):.2f}",
        "pct_ceiling_crossbars": f"{paper.pct(metrics.crossbars_used, net.min_crossbars_unlimited):.2f}",
        "bottleneck_stage": metrics.bottleneck_stage,
        "bottleneck_kind": paper.stage_kind(metrics, metrics.bottleneck_stage),
        "pct_busy_in_products": f"{products:.2f}",
        "pct_busy_in_loops": f"{loops:.2f}",
        "pct_energy_writing": f"{100 * costs.split_pj.get('write', 0) / costs.energy_pj:.2f}",
        "lifetime_days": "" if lifetime is None else f"{lifetime * SECONDS_PER_YEAR / 86400:.4g}",
        "energy_uj": f"{costs.energy_pj / 1e6:.6g}",
        **info,
    }


def averages(rows: Sequence[dict[str, object]], nets: Sequence[paper.Network]) -> list[list[str]]:
    rules = [("default budget of each instance file", {n.name: n.default_chips for n in nets})]
    rules += [(f"{c} chips", {n.name: c for n in nets}) for c in FIXED]
    by_key = {(r["network"], r["chips"]): r for r in rows}
    out = []
    for label, pick in rules:
        hit = [by_key[(n, c)] for n, c in pick.items() if (n, c) in by_key]
        if not hit:
            continue

        def mean(key: str, rows: list = hit) -> str:
            return f"{statistics.mean(float(r[key]) for r in rows):.2f}%"

        out.append(
            [
                label,
                f"{len(hit)} of {len(nets)}",
                mean("pct_unlimited_throughput"),
                mean("pct_budget_used"),
                mean("pct_busy_in_products"),
                mean("pct_energy_writing"),
                f"{min(float(r['lifetime_days']) for r in hit):.3g}–"
                f"{max(float(r['lifetime_days']) for r in hit):.3g} days",
            ]
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per CP-SAT solve")
    args = parser.parse_args()
    start = time.perf_counter()
    rows: list[dict[str, object]] = []
    nets = []
    try:
        for name in NETWORKS:
            net = paper.load_network(name, "transformer")
            nets.append(net)
            for chips in sorted({c for c in paper.CHIPS if c >= net.tight_chips}):
                progress(f"  {name} at {chips} chips")
                _problem, metrics, info = paper.hitm_design(net, chips, ["cpsat"], args.time_limit)
                rows.append(design_row(net, chips, metrics, info))
    except (paper.Disagreement, HitmError) as exc:
        progress(f"transformers.py: results not trusted, nothing written: {exc}")
        return 1
    seconds = time.perf_counter() - start
    RESULTS.mkdir(exist_ok=True)
    paper.write_csv(RESULTS / "transformers.csv", rows)
    header = ["network", "chips", "T", "% unl. thr.", "% budget", "% of ceiling crossbars",
              "binds", "% busy in products", "% busy in loops", "% energy writing", "cells last",
              "cpsat"]  # fmt: skip
    table = [
        [
            str(r["network"]),
            f"{r['chips']}{' (default)' if r['default_budget'] else ''}",
            paper._time(float(r["bottleneck_ps"])),
            f"{r['pct_unlimited_throughput']}%",
            f"{r['pct_budget_used']}%",
            f"{r['pct_ceiling_crossbars']}%",
            f"{r['bottleneck_stage']} ({r['bottleneck_kind']})",
            f"{r['pct_busy_in_products']}%",
            f"{r['pct_busy_in_loops']}%",
            f"{r['pct_energy_writing']}%",
            f"{float(r['lifetime_days']):.3g} days",
            f"{r['cpsat_status']} {float(r['cpsat_seconds']):.2f} s",
        ]
        for r in rows
    ]
    avg_header = ["budget per network", "networks", "hitm % of unlimited throughput",
                  "hitm % of budget used", "% of busy time in the products",
                  "% of energy writing cells", "cells last"]  # fmt: skip
    text = [
        "# The paper's experiment on the transformer zoo",
        "",
        f"Command: `python bench/transformers.py` ({seconds:.0f} s on this machine)",
        "",
        *environment_lines(),
        "",
        "Hardware: ISAAC (`isaac` preset), budgets as bench/paper.py's (whole chips of 16,128 "
        "crossbars, each only where the naive design fits). hitm's design is the DP's, "
        "re-solved by CP-SAT, which proved the same optimum at every budget. The products of "
        "two activations (Q·Kᵀ, A·V) write their second operand into crossbars every "
        "inference (docs/model.md); the digital implementation is not modelled yet. % unl. "
        "thr. = unlimited bottleneck / design bottleneck; % of ceiling crossbars: of the "
        "cheapest design reaching the unlimited throughput. Cells last: 10⁹ writes at the "
        "design's throughput. What it means: bench/README.md.",
        "",
        "## Averages (arithmetic means over the networks)",
        "",
        markdown_table(avg_header, averages(rows, nets)),
        "",
        "## Every network at every budget",
        "",
        markdown_table(header, table),
        "",
    ]
    write_result("transformers.md", text)
    progress(f"done in {seconds:.0f} s; see {RESULTS / 'transformers.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
