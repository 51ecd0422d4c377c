"""`hitm compare` with placement on every shipped instance at 2, 4, 8 and 16 chips.

Run from the repository root:  python bench/compare_placed.py [--time-limit 10]
Writes bench/results/compare_placed.csv and bench/results/compare_placed.md.

Each problem is one `hitm compare FILE --chips C --interconnect isaac --json`
process, as a user runs it: its exit code, its `agree` verdict, and each
method's status, period and crossbars. Exit 3 is the budget error (one copy of
every layer does not fit the chips), with its message.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time

from common import RESULTS, ROOT, environment_lines, markdown_table, progress

CHIPS = (2, 4, 8, 16)


def run(path, chips: int, time_limit: float) -> dict[str, object]:
    cmd = [sys.executable, "-m", "hitm", "compare", str(path), "--chips", str(chips),
           "--interconnect", "isaac", "--time-limit", f"{time_limit:g}", "--json"]  # fmt: skip
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    wall = time.perf_counter() - t0
    row: dict[str, object] = {"instance": path.stem, "chips": chips, "exit": out.returncode}
    if out.returncode != 0:
        row.update(agree="", methods="", period_ps="", crossbars="", seconds=f"{wall:.2f}")
        row["message"] = out.stderr.strip().splitlines()[-1] if out.stderr.strip() else ""
        return row
    doc = json.loads(out.stdout)
    results = doc["results"]
    optimal = [r for r in results if r["status"] == "optimal"]
    row.update(
        agree=str(doc["agree"]).lower(),
        methods="; ".join(
            f"{r['method']}{':' + r['backend'] if r['backend'] else ''} {r['status']}"
            for r in results
        ),
        period_ps=optimal[0]["bottleneck_ps"] if optimal else "",
        crossbars=optimal[0]["crossbars_used"] if optimal else "",
        seconds=f"{wall:.2f}",
        message="",
    )
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=10.0)
    args = parser.parse_args()
    rows = []
    for path in sorted((ROOT / "instances").glob("*.yaml")):
        for chips in CHIPS:
            rows.append(run(path, chips, args.time_limit))
            progress(
                f"{path.stem} at {chips} chips: exit {rows[-1]['exit']}, agree {rows[-1]['agree']}"
            )
    with (RESULTS / "compare_placed.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    ran = [r for r in rows if r["exit"] == 0]
    agreed = [r for r in ran if r["agree"] == "true"]
    refused = [r for r in rows if r["exit"] == 3]
    other = [r for r in rows if r["exit"] not in (0, 3)]
    header = list(rows[0])
    text = [
        "# `hitm compare` with placement (`--interconnect isaac`)",
        "",
        f"Command: `python bench/compare_placed.py --time-limit {args.time_limit:g}`",
        "",
        *environment_lines(),
        "",
        f"Every shipped instance at {', '.join(map(str, CHIPS))} chips, one `hitm compare"
        " FILE --chips C --interconnect isaac --json` process each.",
        f"Ran: {len(ran)} of {len(rows)}; `agree: true` on {len(agreed)} of them."
        f" Exit 3 (one copy of every layer does not fit): {len(refused)}."
        f" Any other exit: {len(other)}.",
        "",
        markdown_table(header, [[str(r[k]) for k in header] for r in rows]),
        "",
    ]
    (RESULTS / "compare_placed.md").write_text("\n".join(text), encoding="utf-8")
    return 0 if len(agreed) == len(ran) and not other else 1


if __name__ == "__main__":
    sys.exit(main())
