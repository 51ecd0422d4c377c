"""The fuzz campaign's profiles: the default (100 cases, in the normal suite) and ``long``.

``python -m pytest tests/fuzz --hypothesis-profile=long`` runs 10,000 cases and
writes the table of outcomes per verb to ``bench/results/fuzz.md``.
"""

from __future__ import annotations

import os
import platform
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

LONG_CASES = 10_000
settings.register_profile(
    "long",
    max_examples=LONG_CASES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
RESULTS = Path(__file__).resolve().parent.parent.parent / "bench" / "results"


@pytest.fixture(scope="session", autouse=True)
def outcome_table():
    """After a long run, the calls per verb and outcome, with the machine and the time."""
    start = time.perf_counter()
    commit = subprocess.run(  # the code under test is the code at the start
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    yield
    if settings.default.max_examples < LONG_CASES:
        return
    from campaign import TALLY, table

    RESULTS.mkdir(exist_ok=True)
    machine = f"{platform.platform()}, {os.cpu_count()} cores, commit {commit or 'unknown'}"
    text = table(TALLY, time.perf_counter() - start, machine)
    (RESULTS / "fuzz.md").write_text(text, encoding="utf-8")
