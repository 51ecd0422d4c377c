"""Time every solver on every shipped instance at several budgets.

Run from the repository root:  python bench/solvers.py [--time-limit 10] [--placement]
Writes bench/results/solvers.csv and bench/results/solvers.md.

With ``--placement``: every shipped instance (the multi-modal zoo with its
transformers, and the backbones) at 2, 4, 8 and 16 chips with
``interconnect: isaac`` (copies and chip boundaries chosen together), every
method; targets bisect ≤ 50 ms, cpsat and ilp optimal in ≤ 10 s, and every
proven optimum equal to bisect's. Writes solvers_placement.csv and .md.

Budgets per instance: the fewest whole chips that hold the naive design, the
instance's default budget, and twice the default. Targets (on the default
budget, on a 2-core machine): bisect < 10 ms, dp < 1 s, cpsat and ilp proving
optimality in < 10 s. Times are wall seconds of `hitm.optimize.solve`, the
fastest of three runs for dp, bisect and greedy and one run for cpsat and ilp
(which include the DP hint they are warm-started from). The fast methods run
on every case before the exact ones, so that no solver stopped at its limit
is still winding down while they are timed.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

from common import RESULTS, ROOT, environment_lines, markdown_table

from hitm.analysis import analyze
from hitm.budget import Budget
from hitm.description.load import load_instance
from hitm.hardware import load_hardware
from hitm.optimize import Method, solve, variants
from hitm.pipeline import verify
from hitm.problem import build_problem, naive_chips

TARGET_S = {"bisect": 0.010, "dp": 1.0, "cpsat": 10.0, "ilp": 10.0}
PLACED_TARGET_S = {"bisect": 0.050, "cpsat": 10.0, "ilp": 10.0}
PLACED_CHIPS = (2, 4, 8, 16)
RUNS = variants()


def budgets(inst, analysis) -> list[tuple[str, int]]:
    tight = naive_chips(analysis)
    default = inst.budget.chips or inst.hardware.chips
    labels: dict[int, list[str]] = {}
    for label, chips in (("tight", tight), ("default", default), ("2x default", 2 * default)):
        labels.setdefault(chips, []).append(label)
    return [(" = ".join(names), chips) for chips, names in sorted(labels.items())]


def timed(problem, method, backend, time_limit):
    repeats = 3 if method in (Method.DP, Method.BISECT, Method.GREEDY) else 1
    best = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        r = solve(problem, method, time_limit, backend=backend)
        wall = time.perf_counter() - t0
        best = (r, wall) if best is None or wall < best[1] else best
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument(
        "--placement",
        action="store_true",
        help="every instance with interconnect: isaac at 2-16 chips",
    )
    parser.add_argument("instances", nargs="*", type=Path)
    args = parser.parse_args()
    placed = args.placement
    files = args.instances or sorted((ROOT / "instances").glob("*.yaml"))
    targets = PLACED_TARGET_S if placed else TARGET_S
    rows = []
    cases = []
    for path in files:
        inst = load_instance(path)
        hw = load_hardware({"preset": "isaac", "interconnect": "isaac"}) if placed else None
        analysis = analyze(inst.network, hw or inst.hardware)
        runs = budgets(inst, analysis) if not placed else [("", c) for c in PLACED_CHIPS]
        for label, chips in runs:
            problem = build_problem(analysis, Budget(chips=chips))
            if placed and problem.shortfall():
                continue  # one copy of every layer does not fit: no design to place
            cases.append((path, label, chips, problem))
    # The fast methods first, on every case, then the exact ones: a solver stopped at its
    # limit may leave a thread winding down (HiGHS's) that would share the CPU with the
    # next case's timings.
    fast = [(m, b) for m, b in RUNS if m in (Method.DP, Method.BISECT, Method.GREEDY)]
    exact = [(m, b) for m, b in RUNS if (m, b) not in fast]
    solved: dict[tuple[int, Method, str | None], tuple] = {}
    for runs in (fast, exact):
        for i, (_, _, _, problem) in enumerate(cases):
            for method, backend in runs:
                r, wall = timed(problem, method, backend, args.time_limit)
                verify(problem, r)
                solved[i, method, backend] = (r, wall)
    for i, (path, label, chips, problem) in enumerate(cases):
        results = [solved[i, m, b] for m, b in RUNS]
        bounds = [r.bound_ps for r, _ in results if r.bound_ps is not None]
        best_bound = max(bounds) if bounds else None
        optima = {(r.bottleneck_ps, r.crossbars_used) for r, _ in results if r.status == "optimal"}
        for r, wall in results:
            target = targets.get(r.method)
            met = ""
            if (placed or "default" in label.split(" = ")) and target is not None:
                ok = wall < target and (r.status == "optimal")
                met = "yes" if ok else "NO"
            gap = r.gap_to(best_bound)
            rows.append(
                {
                    "instance": path.stem,
                    "budget": f"{label} ({chips} chips)" if label else f"{chips} chips",
                    "stages": len(problem.stages),
                    "options": problem.n_options,
                    "method": r.label,
                    "status": r.status,
                    "bottleneck_ps": r.bottleneck_ps,
                    "crossbars": r.crossbars_used,
                    "gap_to_best_bound": "" if gap is None else f"{100 * gap:.3f}%",
                    "seconds": f"{wall:.4f}",
                    "target_met": met,
                    "exact_agree": "yes" if len(optima) <= 1 else "NO",
                }
            )
        print(
            f"{path.stem:>20} {label:>10}: "
            + ", ".join(f"{r.label} {r.status} {wall:.3f}s" for r, wall in results),
            file=sys.stderr,
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = "solvers_placement" if placed else "solvers"
    with open(RESULTS / f"{stem}.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    header = list(rows[0])
    body = [[str(row[k]) for k in header] for row in rows]
    missed = [row for row in rows if row["target_met"] == "NO"]
    flag = " --placement" if placed else ""
    text = [
        "# Solver benchmark" + (": copies and placement (`interconnect: isaac`)" if placed else ""),
        "",
        f"Command: `python bench/solvers.py --time-limit {args.time_limit:g}{flag}`",
        "",
        *environment_lines(),
        "",
        (
            "Every shipped instance (the multi-modal zoo, its transformers and the backbones,"
            " docs/zoo.md) on ISAAC with `interconnect: isaac` at 2, 4, 8 and 16 chips (where"
            " one copy of every layer fits). Targets: bisect ≤ 50 ms, cpsat and ilp optimal in"
            " ≤ 10 s; exact_agree: every proven optimum (period, crossbars) is the same."
            if placed
            else "Targets at the default budget: bisect < 10 ms, dp < 1 s, cpsat and ilp optimal"
            " in < 10 s."
        ),
        f"Missed: {len(missed)} of {sum(1 for r in rows if r['target_met'])}"
        + (
            ""
            if not missed
            else " (" + ", ".join(f"{r['instance']} {r['method']}" for r in missed) + ")"
        ),
        "",
        *(_summary(rows, targets) if placed else []),
        markdown_table(header, body),
        "",
    ]
    (RESULTS / f"{stem}.md").write_text("\n".join(text))
    return 0


def _summary(rows: list[dict], targets: dict[str, float]) -> list[str]:
    """Per method: problems solved within its target, and its slowest."""
    body = []
    for method in dict.fromkeys(r["method"] for r in rows):
        mine = [r for r in rows if r["method"] == method]
        slowest = max(mine, key=lambda r: float(r["seconds"]))
        target = targets.get(method.split(":")[0])
        met = sum(r["target_met"] == "yes" for r in mine)
        body.append([
            method,
            f"{met} of {len(mine)}" if target is not None else "",
            f"{target:g} s" if target is not None else "",
            f"{float(slowest['seconds']):.4f} s ({slowest['instance']}, {slowest['budget']})",
            str(sum(r["exact_agree"] == "yes" for r in mine)),
        ])  # fmt: skip
    header = ["method", "within target", "target", "slowest", "exact_agree yes"]
    return [markdown_table(header, body), ""]


if __name__ == "__main__":
    sys.exit(main())
