"""Files written whole: permissions as the umask allows, nothing left on failure."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time

import pytest

from hitm.errors import DescriptionError
from hitm.files import STALE_SECONDS, write_whole


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_written_file_honours_the_umask(tmp_path, umask, mode) -> None:
    """The temporary file behind the rename is 0600; the result must not be."""
    old = os.umask(umask)
    try:
        path = write_whole(tmp_path / "out.txt", "hello")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert path.read_text() == "hello"


def test_a_failed_write_leaves_nothing(tmp_path) -> None:
    def fail(handle) -> None:
        handle.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(DescriptionError, match="cannot write"):
        write_whole(tmp_path / "out.bin", fail)
    assert list(tmp_path.iterdir()) == []


def test_exclusive_writers_racing_for_one_path_leave_one_whole_file(tmp_path) -> None:
    """Eight processes write the same new path exclusively: one wins, the others are told
    it exists, and the file is one writer's content, whole."""
    script = (
        "import sys\nfrom pathlib import Path\nfrom hitm.files import write_whole\n"
        "from hitm.errors import DescriptionError\n"
        "try:\n    write_whole(Path(sys.argv[1]), sys.argv[2] * 200_000, exclusive=True)\n"
        "except DescriptionError as e:\n    print(e, file=sys.stderr); sys.exit(2)\n"
    )
    target = tmp_path / "out.txt"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(target), str(i)], stderr=subprocess.PIPE
        )
        for i in range(8)
    ]
    results = [(p.wait(60), p.stderr.read().decode()) for p in procs]
    winners = [code for code, _ in results if code == 0]
    assert len(winners) == 1, results
    assert all("already exists" in err for code, err in results if code != 0)
    text = target.read_text()
    assert len(text) == 200_000 and len(set(text)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]  # no temporary file left


def test_exclusive_refuses_an_existing_file(tmp_path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("mine")
    with pytest.raises(DescriptionError, match="already exists"):
        write_whole(target, "theirs", exclusive=True)
    assert target.read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_sigterm_during_a_write_leaves_no_temporary_file(tmp_path) -> None:
    """The CLI turns SIGTERM into an exit that unwinds, so write_whole's cleanup runs."""
    script = (
        "import sys, time\nfrom pathlib import Path\nfrom hitm.files import write_whole\n"
        "from hitm.cli.output import _terminate_cleanly\n"
        "def slow(handle):\n    handle.write(b'half')\n    print('ready', flush=True)\n"
        "    time.sleep(60)\n"
        "with _terminate_cleanly():\n    write_whole(Path(sys.argv[1]), slow)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path / "plot.png")], stdout=subprocess.PIPE
    )
    assert proc.stdout.readline() == b"ready\n"
    assert any(tmp_path.iterdir())  # the temporary file exists while it writes
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 128 + signal.SIGTERM
    assert list(tmp_path.iterdir()) == []


def test_temporary_files_a_killed_run_left_are_swept(tmp_path) -> None:
    """``kill -9`` cannot be caught; the next write to the same path removes what it left
    (older than an hour), and leaves a temporary file another writer may be using."""
    stale = tmp_path / ".plot.png.abc123.png"
    fresh = tmp_path / ".plot.png.def456.png"
    other = tmp_path / ".other.png.abc123.png"
    for p in (stale, fresh, other):
        p.write_bytes(b"half")
    hour_ago = time.time() - STALE_SECONDS - 60
    os.utime(stale, (hour_ago, hour_ago))
    os.utime(other, (hour_ago, hour_ago))
    write_whole(tmp_path / "plot.png", b"png")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [".plot.png.def456.png", ".other.png.abc123.png", "plot.png"]
    )
