"""Tables fit the terminal they are printed in.

``hitm`` sizes stdout by the terminal (rich folds cells to fit); piped, it folds to
an exported ``COLUMNS`` and otherwise leaves rows unfolded (tests/test_plain.py).
A CliRunner's stdout is never a terminal, so the same commands are measured twice:
through ``CliRunner`` with ``COLUMNS`` in its environment, and by running
``python -m hitm`` on a real pty with ``COLUMNS`` set, as a user's shell would.
Every line is measured in terminal cells.
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
from typer.testing import CliRunner

from hitm.cli import app

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


def through_clirunner(args: list[str], columns: int) -> list[str]:
    """The lines ``hitm args`` prints through ``CliRunner`` with ``COLUMNS`` exported."""
    result = CliRunner().invoke(app, args, env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return [line for line in result.stdout.splitlines() if line.strip()]


RUNNERS = [
    pytest.param(in_terminal, id="pty"),
    pytest.param(through_clirunner, id="clirunner"),
]


@pytest.mark.parametrize("run", RUNNERS)
@pytest.mark.parametrize("columns", [80, 200])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_line_fits_the_terminal(command: str, columns: int, run) -> None:
    lines = run(COMMANDS[command], columns)
    assert len(lines) > 10
    widest = max(cell_len(line) for line in lines)
    assert widest <= columns, f"{command}: a line of {widest} cells in {columns} columns"


@pytest.mark.parametrize("run", RUNNERS)
def test_at_200_columns_compare_keeps_each_method_on_one_line(run) -> None:
    """In 200 columns compare's note column once still wrapped; now each method is one row."""
    lines = run(COMMANDS["compare"], 200)
    rows = [line for line in lines if "CP-SAT OPTIMAL in both phases" in line]
    assert len(rows) == 1 and "cpsat" in rows[0] and "105.60 µs" in rows[0]


def test_piped_without_columns_keeps_rows_unfolded() -> None:
    """With no ``COLUMNS`` exported, piped rows stay one line each, wider than 80 cells
    where the table is (the placement table of nic on 4 chips)."""
    result = CliRunner().invoke(app, COMMANDS["placed"])
    assert result.exit_code == 0, result.output
    assert max(cell_len(line) for line in result.stdout.splitlines()) > 80
    assert len(through_clirunner(COMMANDS["placed"], 80)) > len(
        [line for line in result.stdout.splitlines() if line.strip()]
    )
