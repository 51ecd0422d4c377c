"""Sweeps: the spec, exact answers off one staircase, Dask (local and a real cluster), resume.

Real parts throughout: DuckDB files, a local Dask cluster of two processes, a
``dask scheduler`` and ``dask worker`` started as processes on 127.0.0.1, and a
sweep process killed with SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import INSTANCES
from typer.testing import CliRunner

import hitm
from hitm.budget import Budget
from hitm.cli import app
from hitm.errors import DescriptionError
from hitm.optimize import solve
from hitm.problem import build_problem
from hitm.report.sweep import pareto_front
from hitm.sweeps import RESULT_COLUMNS, Store, parse_spec, run_sweep
from hitm.sweeps.spec import sweep_schema

ROOT = Path(__file__).resolve().parent.parent
VOLATILE = ["seconds", "hitm_version"]


def _stable(frame):
    return frame.drop(columns=VOLATILE).sort_values("row_key").reset_index(drop=True)


def _write(path: Path, doc) -> Path:
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


SMALL = {
    "name": "small",
    "networks": ["captioner", "video_lstm"],
    "hardware": {"axes": {"rows": [64, 128, 256], "cell_bits": [1, 2]}},
    "budgets": {"chips": [1, 2, 4]},
    "methods": ["dp", "bisect"],
}


def test_a_bad_spec_lists_every_problem():
    with pytest.raises(DescriptionError) as info:
        parse_spec(
            {
                "networks": ["no_such_net"],
                "hardware": {"axes": {"rowz": [128]}},
                "budgets": {"chipz": [1]},
                "methods": ["dpp"],
                "sampling": {"random": 0},
            }
        )
    problems = info.value.problems
    assert any(p.startswith("networks[0]: no zoo network 'no_such_net'") for p in problems)
    assert any(
        p.startswith("hardware.axes.rowz: unknown hardware field (did you mean 'rows'?)")
        for p in problems
    )
    assert any(
        p.startswith("budgets.chipz: unknown field (did you mean 'chips'?)") for p in problems
    )
    assert any(p.startswith("methods[0]: must be one of dp, bisect") for p in problems)
    assert any(p.startswith("sampling: expected grid") for p in problems)
    with pytest.raises(
        DescriptionError, match=r"hardware\.axes\.rows\[100\]\.rows: must be a power of two"
    ):
        parse_spec({"networks": ["captioner"], "hardware": {"axes": {"rows": [100]}}})
    # A list where an axis value belongs is refused by its field (it was a TypeError from
    # hashing it; found by the fuzz campaign).
    with pytest.raises(
        DescriptionError, match=r"hardware\.axes\.rows\[\[\[1\]\]\]\.rows: expected an integer"
    ):
        parse_spec({"networks": ["captioner"], "hardware": {"axes": {"rows": [[[1]]]}}})


def test_ranges_log_ranges_and_sampling():
    spec = parse_spec(
        {
            "networks": ["captioner"],
            "hardware": {
                "axes": {
                    "adc_rate_gsps": {"range": [0.64, 2.56, 0.64]},
                    "edram_kb": {"log": [16, 256, 5]},
                }
            },
        }
    )
    rates = sorted({p.hardware["adc_rate_gsps"] for p in spec.points})
    kbs = sorted({p.hardware["edram_kb"] for p in spec.points})
    assert rates == pytest.approx([0.64, 1.28, 1.92, 2.56])
    assert kbs == pytest.approx([16, 32, 64, 128, 256])
    assert len(spec.points) == 20
    rates = [0.25 * k for k in range(1, 9)]
    lhs = {"networks": ["captioner"],
           "hardware": {"axes": {"adc_rate_gsps": rates, "edram_kb": {"log": [8, 1024, 8]}}},
           "sampling": {"latin_hypercube": 8}, "seed": 3}  # fmt: skip
    first, again = parse_spec(lhs), parse_spec(lhs)
    assert [p.key for p in first.points] == [p.key for p in again.points]
    # A Latin hypercube of 8 over axes of 8 values takes each value of each axis once.
    assert sorted(p.hardware["adc_rate_gsps"] for p in first.points) == rates
    assert sorted(p.hardware["edram_kb"] for p in first.points) == [
        8,
        16,
        32,
        64,
        128,
        256,
        512,
        1024,
    ]
    random = parse_spec({**lhs, "sampling": {"random": 20}})
    assert len({p.key for p in random.points}) == len(random.points) == 20  # distinct points


def test_dp_rows_off_one_staircase_are_the_dps_own_answers():
    """Every budget answered from one curve equals a solve of the DP at that budget."""
    budgets = {"chips": [1, 2, 3], "crossbars": [7000, 8096, 9000, 12000, 30000]}
    frame = hitm.sweep({"networks": ["captioner"], "budgets": budgets, "methods": ["dp"]})
    inst = hitm.load_instance(INSTANCES / "captioner.yaml")
    analysis = hitm.analyze(inst.network, inst.hardware)
    assert len(frame) == 15
    for _, row in frame.iterrows():
        budget = Budget(chips=int(row["budget_chips"]), crossbars=int(row["budget_crossbars"]))
        result = solve(build_problem(analysis, budget), "dp")
        assert row["status"] == str(result.status)
        if result.bottleneck_ps is None:
            assert pd.isna(row["bottleneck_ps"])
        else:
            assert (row["bottleneck_ps"], row["crossbars_used"]) == (
                result.bottleneck_ps,
                result.crossbars_used,
            )
    assert set(RESULT_COLUMNS) == set(frame.columns)


def test_failing_points_are_rows_and_a_rerun_skips_what_is_stored(tmp_path):
    spec = parse_spec({**SMALL, "methods": ["dp"]})
    with Store(tmp_path / "s.duckdb") as db:
        first = run_sweep(spec, db)
        assert first.points == len(spec.points) == 12 and first.rows == 36
        assert first.statuses["infeasible"] > 0  # 64-row 1-bit arrays do not fit one chip
        again = run_sweep(spec, db)
        assert (again.points, again.skipped, again.rows) == (0, 12, 0)
        frame = db.frame()
    assert len(frame) == 36 and frame["row_key"].is_unique
    bad = frame[frame["status"] == "infeasible"]
    assert bad["message"].str.contains("one copy of every layer needs").all()


def test_two_local_workers_give_the_rows_of_one_process(tmp_path):
    spec = parse_spec(SMALL)
    local = hitm.sweep(spec)
    with Store(tmp_path / "dask.duckdb") as db:
        run_sweep(spec, db, workers=2)
        distributed = db.frame()
    assert _stable(local).equals(_stable(distributed))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_real_dask_cluster_through_scheduler(tmp_path):
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
         "--port", str(port), "--dashboard-address", ":0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    worker = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers", "1",
         "--nthreads", "1", "--dashboard-address", ":0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT,
    )  # fmt: skip
    try:
        spec = _write(tmp_path / "spec.yaml", {**SMALL, "methods": ["dp"]})
        result = None
        for _ in range(30):  # the worker takes a few seconds to join
            result = CliRunner().invoke(
                app,
                ["sweep", str(spec), "--scheduler", address, "--store", str(tmp_path / "c.duckdb")],
            )
            if result.exit_code == 0:
                break
            time.sleep(1)
        assert result is not None and result.exit_code == 0, result.output
        with Store(tmp_path / "c.duckdb") as db:
            remote = db.frame()
        assert _stable(remote).equals(_stable(hitm.sweep(parse_spec({**SMALL, "methods": ["dp"]}))))
    finally:
        for proc in (worker, scheduler):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_a_sweep_killed_part_way_resumes_to_the_uninterrupted_rows(tmp_path):
    doc = {
        "name": "long",
        "networks": ["captioner"],
        "hardware": {"axes": {"rows": [64, 128, 256], "cell_bits": [1, 2, 4],
                              "adc_rate_gsps": {"range": [0.32, 5.12, 0.32]}}},
        "budgets": {"chips": [1, 2, 4, 8]},
        "methods": ["bisect", "greedy"],  # some 4 s of solving; rows are stored each second
    }  # fmt: skip
    spec = _write(tmp_path / "long.yaml", doc)
    store = tmp_path / "long.duckdb"
    command = [sys.executable, "-m", "hitm", "sweep", str(spec), "--store", str(store)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Committed points show in DuckDB's write-ahead log: wait for the table, then for rows.
    wal = store.with_name(store.name + ".wal")
    deadline = time.monotonic() + 60

    def size() -> int:
        return wal.stat().st_size if wal.exists() else 0

    while time.monotonic() < deadline and size() == 0:
        time.sleep(0.02)
    created = size()
    while time.monotonic() < deadline and size() <= created:
        time.sleep(0.02)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with Store(store) as db:
        partial = len(db.point_keys())
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    reference = hitm.sweep(parse_spec(doc, base=tmp_path))
    with Store(store) as db:
        resumed = db.frame()
    assert 0 < partial < 144  # killed after some points, before the last
    assert resumed["row_key"].is_unique and len(resumed) == len(reference) == 144 * 4 * 2
    assert _stable(resumed).equals(_stable(reference))


def test_cli_exports_and_report(tmp_path):
    spec = _write(tmp_path / "spec.yaml", SMALL)
    csv, parquet = tmp_path / "rows.csv", tmp_path / "rows.parquet"
    runner = CliRunner()
    result = runner.invoke(app, ["sweep", str(spec), "--csv", str(csv), "--parquet", str(parquet)])
    assert result.exit_code == 0, result.output
    assert "12 points run (0 already stored), 72 rows" in result.stderr
    assert (tmp_path / "spec.duckdb").is_file()
    assert csv.read_text(encoding="utf-8").splitlines()[0].split(",") == list(RESULT_COLUMNS)
    assert parquet.read_bytes()[:4] == b"PAR1"
    report = runner.invoke(
        app,
        [
            "sweep-report",
            str(tmp_path / "spec.duckdb"),
            "--plot",
            str(tmp_path / "f.pdf"),
            "--json",
        ],
    )
    assert report.exit_code == 0, report.output
    doc = json.loads(report.stdout)
    assert doc["rows"] == 72 and doc["front"]
    assert (tmp_path / "f.pdf").read_bytes().startswith(b"%PDF")
    bad = runner.invoke(app, ["sweep-report", str(tmp_path / "spec.duckdb"), "--pareto", "speed"])
    assert bad.exit_code == 2 and "--pareto: give two or more of" in bad.stderr


@pytest.mark.parametrize("network", ["captioner", "video_lstm"])
def test_the_front_is_non_dominated_by_brute_force(network):
    frame = hitm.sweep(SMALL)
    front = pareto_front(frame, ["throughput", "area"])
    front = front[front["network"] == network]
    designs = frame.dropna(subset=["throughput_per_s", "area_mm2"])
    designs = designs[designs["network"] == network]

    def dominated(r) -> bool:
        better = designs[(designs["throughput_per_s"] >= r["throughput_per_s"])
                         & (designs["area_mm2"] <= r["area_mm2"])]  # fmt: skip
        return bool(((better["throughput_per_s"] > r["throughput_per_s"])
                     | (better["area_mm2"] < r["area_mm2"])).any())  # fmt: skip

    assert not any(dominated(r) for _, r in front.iterrows())
    others = designs[~designs["row_key"].isin(front["row_key"])]
    assert all(
        dominated(r) or ((front["throughput_per_s"] == r["throughput_per_s"])
                         & (front["area_mm2"] == r["area_mm2"])).any()
        for _, r in others.iterrows()
    )  # fmt: skip


def test_committed_sweep_schema_is_what_hitm_prints():
    result = CliRunner().invoke(app, ["schema", "--sweep"])
    assert json.loads(result.stdout) == sweep_schema()
    assert result.stdout == (ROOT / "docs" / "sweep.schema.json").read_text(encoding="utf-8")


def test_onnx_networks_random_sampling_and_design_mode():
    spec = parse_spec(
        {
            "networks": [str(ROOT / "tests" / "data" / "resnet_blocks.onnx")],
            "hardware": {"axes": {"rows": [64, 128, 256], "adcs_per_crossbar": [1, 2, 4]}},
            "sampling": {"random": 5},
            "seed": 7,
            "budgets": {"chips": [1], "power_w": [30, 60]},
            "methods": ["dp", "bisect"],
            "design": {"adcs": [1, 2, 4]},
        }
    )
    assert len(spec.points) == 5
    assert [p.key for p in spec.points] == [
        p.key for p in parse_spec({**spec_doc(), "seed": 7}).points
    ]
    frame = hitm.sweep(spec)
    assert len(frame) == 5 * 2 * 2
    assert set(frame["status"]) <= {"optimal", "feasible", "infeasible"}
    designed = frame.dropna(subset=["power_w"])
    assert not designed.empty and (designed["binds"].notna()).all()


def spec_doc():
    return {
        "networks": [str(ROOT / "tests" / "data" / "resnet_blocks.onnx")],
        "hardware": {"axes": {"rows": [64, 128, 256], "adcs_per_crossbar": [1, 2, 4]}},
        "sampling": {"random": 5},
        "budgets": {"chips": [1], "power_w": [30, 60]},
        "methods": ["dp", "bisect"],
        "design": {"adcs": [1, 2, 4]},
    }
