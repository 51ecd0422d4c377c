"""Files hitm writes, under ``kill -9`` and concurrent writers, with real processes.

``kill -9`` cannot be caught, so the promise rests on how files are written
(:func:`hitm.files.write_whole`: a hidden temporary file beside the target, then
a rename): whatever the moment of the kill, the target is absent or whole. What
a killed run leaves is a hidden temporary file, swept by the next write to the
same path (tests/test_files.py). The sweep store's own test is in
tests/test_sweep.py.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "tests" / "data" / "video_gru.onnx"
INSTANCE = ROOT / "instances" / "captioner.yaml"
PNG_END = b"IEND\xaeB`\x82"


def hitm(*args: object) -> list[str]:
    return [sys.executable, "-m", "hitm", *(str(a) for a in args)]


def command(kind: str, out: Path) -> list[str]:
    if kind == "import":
        return hitm("import", MODEL, "-o", out, "--force")
    return hitm("solve", INSTANCE, "--plot", out)


def whole(kind: str, data: bytes, reference: bytes) -> bool:
    # A plot is checked for its end (the bytes of two runs may differ in nothing
    # but could in metadata); an import is the reference, byte for byte.
    return data.endswith(PNG_END) if kind == "plot" else data == reference


@pytest.mark.parametrize("kind", ["import", "plot"])
def test_kill_9_at_any_moment_leaves_the_file_whole_or_absent(tmp_path, kind) -> None:
    """One run to completion gives the reference and its duration; then runs killed at
    40–99% of it (the later ones where the file is being written; the first, under a
    loaded machine, surely before it) each leave it absent or whole."""
    suffix = ".yaml" if kind == "import" else ".png"
    ref = tmp_path / f"reference{suffix}"
    t = time.perf_counter()
    subprocess.run(command(kind, ref), check=True, capture_output=True, timeout=120)
    duration = time.perf_counter() - t
    reference = ref.read_bytes()
    assert whole(kind, reference, reference)
    absent = 0
    for i, fraction in enumerate((0.4, 0.7, 0.85, 0.95, 0.99)):
        out = tmp_path / f"killed{i}{suffix}"
        proc = subprocess.Popen(
            command(kind, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(fraction * duration)
        proc.kill()
        assert proc.wait(30) == -9 or out.exists()  # a run that ended first wrote its file
        if out.exists():
            assert whole(kind, out.read_bytes(), reference), f"killed at {fraction:.0%}"
        else:
            absent += 1
    assert absent, "no kill landed before the file was written: the test exercised nothing"
    names = [p.name for p in tmp_path.iterdir()]
    strays = [n for n in names if n.startswith(".")]
    assert all(n.startswith(".killed") for n in strays), strays  # hidden, beside the target


def rows(text: str) -> list[dict[str, str]]:
    """A sweep's CSV rows without their timing columns (the rest is deterministic)."""
    assert text.endswith("\n")  # a cut-off file ends mid-row
    return [
        {k: v for k, v in row.items() if "second" not in k and "rows_per" not in k}
        for row in csv.DictReader(io.StringIO(text))
    ]


def test_kill_9_during_a_sweep_leaves_its_csv_whole_or_absent(tmp_path) -> None:
    """``sweep --csv`` writes its rows through the same whole-file path: killed at any
    point of its run, the CSV is absent or holds every row (header and four rows here)."""
    spec = tmp_path / "spec.yaml"
    spec.write_text("networks: [captioner]\nhardware: {axes: {rows: [64, 128]}}\n"
                    "budgets: {chips: [1, 2]}\n")  # fmt: skip
    args = ["sweep", spec, "--store", tmp_path / "reference.duckdb", "--csv"]
    t = time.perf_counter()
    subprocess.run(hitm(*args, tmp_path / "reference.csv"), check=True, capture_output=True)
    duration = time.perf_counter() - t
    reference = (tmp_path / "reference.csv").read_text()
    assert len(reference.splitlines()) == 5
    for i, fraction in enumerate((0.8, 0.95, 0.99)):
        out = tmp_path / f"killed{i}.csv"
        store = tmp_path / f"killed{i}.duckdb"
        proc = subprocess.Popen(
            hitm("sweep", spec, "--store", store, "--csv", out),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(fraction * duration)
        proc.kill()
        proc.wait(30)
        if out.exists():
            assert rows(out.read_text()) == rows(reference), f"killed at {fraction:.0%}"


def test_concurrent_writers_to_one_path_leave_one_complete_file(tmp_path) -> None:
    """Four imports with different budgets write one path at once (``--force``), beside
    four writing their own: the shared file is exactly one writer's text."""
    alone = [tmp_path / f"alone{k}.yaml" for k in range(1, 5)]
    shared = tmp_path / "shared.yaml"
    procs = [
        subprocess.Popen(hitm("import", MODEL, "-o", path, "--chips", k), stderr=subprocess.PIPE)
        for k, path in enumerate(alone, 1)
    ]
    procs += [
        subprocess.Popen(
            hitm("import", MODEL, "-o", shared, "--chips", k, "--force"), stderr=subprocess.PIPE
        )
        for k in range(1, 5)
    ]
    for proc in procs:
        assert proc.wait(120) == 0, proc.stderr.read().decode()
    texts = [p.read_text() for p in alone]
    assert len(set(texts)) == 4  # the budgets differ, so a mixed file would show
    assert shared.read_text() in texts
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [p.name for p in alone] + ["shared.yaml"]
    )
