"""Tables fit the terminal they are printed in, checked in real pseudo-terminals.

``hitm`` sizes stdout by the terminal (rich folds cells to fit) and leaves piped
output unfolded (tests/test_plain.py). A CliRunner's stdout is never a terminal,
so these tests run ``python -m hitm`` on a pty with ``COLUMNS`` set, as a user's
shell would, and measure every line in terminal cells.
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys

import pytest
from helpers import INSTANCES
from rich.cells import cell_len

ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def in_terminal(args: list[str], columns: int) -> list[str]:
    """The lines ``hitm args`` prints on a ``columns``-wide terminal (escapes removed)."""
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": str(columns), "LINES": "50", "TERM": "xterm"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hitm", *args],
        stdin=slave,
        stdout=slave,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 1 << 16)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(60) == 0
    text = ESCAPES.sub("", b"".join(chunks).decode()).replace("\r", "")
    return [line for line in text.splitlines() if line.strip()]


CAPTIONER = str(INSTANCES / "captioner.yaml")
COMMANDS = {
    "solve": ["solve", CAPTIONER],
    "compare": ["compare", CAPTIONER, "--time-limit", "5"],
    "pareto": ["pareto", CAPTIONER],
    "placed": ["solve", str(INSTANCES / "nic.yaml"), "--interconnect", "isaac", "--chips", "4"],
}


@pytest.mark.parametrize("columns", [80, 200])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_line_fits_the_terminal(command: str, columns: int) -> None:
    lines = in_terminal(COMMANDS[command], columns)
    assert len(lines) > 10
    widest = max(cell_len(line) for line in lines)
    assert widest <= columns, f"{command}: a line of {widest} cells in {columns} columns"


def test_at_200_columns_compare_keeps_each_method_on_one_line() -> None:
    """In 200 columns compare's note column once still wrapped; now each method is one row."""
    lines = in_terminal(COMMANDS["compare"], 200)
    rows = [line for line in lines if "CP-SAT OPTIMAL in both phases" in line]
    assert len(rows) == 1 and "cpsat" in rows[0] and "105.60 µs" in rows[0]
