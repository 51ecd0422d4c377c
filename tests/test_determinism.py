"""The same command twice gives the same ``--json``, but for its times.

Timing fields (any key with ``seconds`` in it) and the solve times solver
messages quote, e.g. "HiGHS Optimal (0.0165 s)", are the only differences
allowed: every design, bound, energy and table figure must repeat exactly.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from helpers import INSTANCES
from typer.testing import CliRunner

from hitm.cli import app

FILE = str(INSTANCES / "captioner.yaml")
_TIME = re.compile(r"\d+(?:\.\d+)?(?:e-?\d+)? s\b")


def _without_times(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: _without_times(v) for k, v in doc.items() if "seconds" not in k}
    if isinstance(doc, list):
        return [_without_times(v) for v in doc]
    if isinstance(doc, str):
        return _TIME.sub("<time>", doc)
    return doc


COMMANDS = [
    ["analyze", FILE, "--json"],
    ["pareto", FILE, "--json"],
    ["hardware", "--json"],
    ["compare", FILE, "--json"],
    ["compare", FILE, "--json", "--interconnect", "isaac"],
    *(["solve", FILE, "--json", "-m", m] for m in ("dp", "bisect", "greedy", "cpsat")),
    ["solve", FILE, "--json", "-m", "ilp", "--backend", "highs"],
    ["solve", FILE, "--json", "-m", "ilp", "--backend", "cbc"],
    ["solve", FILE, "--json", "--design", "-m", "cpsat"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_twice_the_same_json(args) -> None:
    runner = CliRunner()
    first, second = runner.invoke(app, args), runner.invoke(app, args)
    assert first.exit_code == second.exit_code == 0, first.output
    assert _without_times(json.loads(first.stdout)) == _without_times(json.loads(second.stdout))
