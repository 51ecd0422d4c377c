"""Sweep throughput: a 10,368-row sweep in process and on two local Dask workers.

Run from the repository root:  python bench/sweep.py   (about 2 minutes on 2 cores)

The sweep: two zoo networks (captioner, video_lstm) × 324 hardware points
(rows ∈ {64, 128, 256}, cols ∈ {64, 128, 256}, cell bits ∈ {1, 2, 4}, ADCs per
crossbar ∈ {1, 2, 4}, ADC rate ∈ {0.64, 1.28, 2.56, 5.12} GS/s) × 16 budgets
(1 to 16 chips) with the DP: 648 tasks, 10,368 rows, each a scored design.

Measured, each into a fresh in-memory store:

- in this process, every budget answered off one exact staircase per task
  (what ``hitm sweep`` does for the DP);
- the same on a local Dask cluster of 2 worker processes (cluster start-up included);
- the old way, for one task in ten: the DP re-solved at every budget, problem
  built anew each time, to give the speed-up of the staircase.

Writes bench/results/sweep.md and sweep.csv with the machine, versions and commit.
"""

from __future__ import annotations

import csv
import sys
import time

from common import RESULTS, environment, markdown_table

from hitm.analysis import analyze
from hitm.sweeps import Store, parse_spec, run_sweep
from hitm.sweeps.task import _base_row, _instance, _solve_rows

SPEC = {
    "name": "bench",
    "networks": ["captioner", "video_lstm"],
    "hardware": {
        "axes": {
            "rows": [64, 128, 256],
            "cols": [64, 128, 256],
            "cell_bits": [1, 2, 4],
            "adcs_per_crossbar": [1, 2, 4],
            "adc_rate_gsps": [0.64, 1.28, 2.56, 5.12],
        }
    },
    "budgets": {"chips": list(range(1, 17))},
    "methods": ["dp"],
}
CSV = RESULTS / "sweep.csv"
MD = RESULTS / "sweep.md"


def timed_run(spec, workers: int) -> tuple[float, int]:
    with Store(":memory:") as db:
        start = time.perf_counter()
        run = run_sweep(spec, db, workers=workers)
        seconds = time.perf_counter() - start
        assert run.points == len(spec.points)
        return seconds, run.rows


def resolve_every_budget(spec, every: int = 10) -> tuple[float, int, int]:
    """The DP solved afresh at every budget, for every ``every``-th task."""
    import json

    sample = spec.points[::every]
    start = time.perf_counter()
    rows = 0
    for point in sample:
        inst = _instance(
            json.dumps(point.document, sort_keys=True),
            json.dumps(dict(point.hardware), sort_keys=True),
            json.dumps(point.design, sort_keys=True),
        )
        analysis = analyze(inst.network, inst.hardware)
        rows += len(_solve_rows(analysis, point, "dp", None, _base_row(point, spec.name, inst.hardware)))
    return time.perf_counter() - start, len(sample), rows


def main() -> int:
    spec = parse_spec(SPEC)
    tasks = len(spec.points)
    print(f"{tasks} tasks, {spec.n_rows} rows", file=sys.stderr)
    results = []
    local_s, rows = timed_run(spec, 1)
    print(f"in process: {local_s:.1f} s", file=sys.stderr)
    results.append(("in process, one staircase per task", 1, local_s, tasks, rows))
    dask_s, rows2 = timed_run(spec, 2)
    print(f"2 Dask workers: {dask_s:.1f} s", file=sys.stderr)
    results.append(("2 local Dask workers, one staircase per task", 2, dask_s, tasks, rows2))
    resolve_s, sampled, resolved_rows = resolve_every_budget(spec)
    print(f"re-solve, {sampled} tasks: {resolve_s:.1f} s", file=sys.stderr)
    results.append(("in process, the DP re-solved at every budget (1 task in 10)", 1, resolve_s,
                    sampled, resolved_rows))  # fmt: skip
    with CSV.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["run", "workers", "seconds", "tasks", "rows", "tasks_per_s", "rows_per_s"])
        for name, workers, seconds, n_tasks, n_rows in results:
            writer.writerow([name, workers, f"{seconds:.3f}", n_tasks, n_rows,
                             f"{n_tasks / seconds:.2f}", f"{n_rows / seconds:.1f}"])  # fmt: skip
    env = environment()
    per_task_curve = local_s / tasks
    per_task_resolve = resolve_s / sampled
    lines = [
        "# Sweep throughput",
        "",
        "Command: `python bench/sweep.py`",
        "",
        f"- machine: {env['machine']}",
        f"- python: {env['python']}; {env['versions']}",
        f"- commit: {env['commit']}",
        "",
        f"The sweep of bench/sweep.py: {tasks} tasks (2 networks × 324 hardware points), 16 budgets"
        f" each, the DP: {spec.n_rows:,} rows. Wall seconds, fresh in-memory DuckDB store.",
        "",
        markdown_table(
            ["run", "workers", "seconds", "tasks", "rows", "tasks/s", "rows/s"],
            [
                [name, str(workers), f"{seconds:.1f}", f"{n_tasks:,}", f"{n_rows:,}",
                 f"{n_tasks / seconds:,.1f}", f"{n_rows / seconds:,.0f}"]
                for name, workers, seconds, n_tasks, n_rows in results
            ],
        ),
        "",
        f"One staircase per task answers its 16 budgets in {1000 * per_task_curve:.0f} ms; re-solving"
        f" the DP at each budget takes {1000 * per_task_resolve:.0f} ms a task: a speed-up of"
        f" {per_task_resolve / per_task_curve:.1f}× from the staircase. Two local workers run the"
        f" sweep {local_s / dask_s:.2f}× as fast as one process, cluster start-up included.",
    ]
    MD.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {MD}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
