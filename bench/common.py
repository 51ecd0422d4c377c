"""What every benchmark records beside its numbers: machine, versions, commit."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

# The multi-modal zoo's CNN + RNN networks (docs/zoo.md; its transformers have
# bench/transformers.py): the networks the paper's experiment and the gap benchmark run.
ZOO = (
    "nic",
    "nic_vgg16",
    "s2vt",
    "lrcn_caption",
    "lrcn_activity",
    "vqa",
    "sat",
    "captioner",
    "video_lstm",
)


def progress(message: str) -> None:
    """One line of progress on stderr, at once: stdout is left to results."""
    print(message, file=sys.stderr, flush=True)


def environment() -> dict[str, str]:
    """Machine, Python and solver versions, and the git commit of the tree."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        # Results a benchmark is rewriting do not make the code it ran dirty.
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/results"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        commit += " (uncommitted changes)" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    versions = {name: _version(name) for name in ("hitm", "numpy", "ortools", "pulp", "highspy")}
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": ", ".join(f"{k} {v}" for k, v in versions.items()),
        "commit": commit,
    }


def environment_lines() -> list[str]:
    """:func:`environment` as the markdown list every results file opens with."""
    return [f"- {k}: {v}" for k, v in environment().items()]


def write_result(name: str, lines: list[str]) -> Path:
    """Write ``lines`` to ``results/name`` and say so on stderr."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / name
    path.write_text("\n".join(lines))
    progress(f"wrote {path}")
    return path


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
