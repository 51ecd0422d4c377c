"""How long a command takes to start: hitm's commands against the libraries it stands on.

Compiles hitm's bytecode first (as an install does), then runs each command as a
fresh process ``REPEATS`` times, in rounds (each command once per round, so a slow
spell of the machine reaches all alike), and keeps each one's least wall time (the
machine's noise only ever adds): the baseline
``python -c "import numpy, rich, typer, yaml"`` (the libraries every command
needs), then ``hitm --version``, ``hitm --help``, ``hitm analyze`` and
``hitm solve`` on the captioner, ``hitm solve --json`` and ``hitm pareto``.
The target (issue 16): ``hitm --help`` and ``hitm solve instances/captioner.yaml``
within 2× the baseline. Also lists the modules, beyond the baseline's, that
take the most import time in ``hitm solve`` (``python -X importtime``, self
time, one run), so the table says where the rest goes.

Writes results/startup.md. Run it on a quiet machine: it measures wall time.
Usage: ``python bench/startup.py`` (about 30 s).
"""

from __future__ import annotations

import compileall
import os
import shutil
import statistics
import subprocess
import sys
import time

from common import (
    ROOT,
    environment_lines,
    markdown_table,
    progress,
    write_result,
)

REPEATS = 15
TARGET = 2.0
CAPTIONER = "instances/captioner.yaml"
HITM = [sys.executable, "-m", "hitm"]
COMMANDS: dict[str, list[str]] = {
    "baseline: python -c 'import numpy, rich, typer, yaml'": [
        sys.executable,
        "-c",
        "import numpy, rich, typer, yaml",
    ],
    "hitm --version": [*HITM, "--version"],
    "hitm --help": [*HITM, "--help"],
    f"hitm analyze {CAPTIONER}": [*HITM, "analyze", CAPTIONER],
    f"hitm solve {CAPTIONER}": [*HITM, "solve", CAPTIONER],
    f"hitm solve {CAPTIONER} --json": [*HITM, "solve", CAPTIONER, "--json"],
    f"hitm pareto {CAPTIONER}": [*HITM, "pareto", CAPTIONER],
}
TARGETED = ("hitm --help", f"hitm solve {CAPTIONER}")


PACKAGES = ("hitm", "formulations")  # hitm's own sources, compiled as an install would


def wall(args: list[str], env: dict[str, str] | None = None) -> float:
    """Wall seconds of one run of ``args`` (stdout and stderr discarded)."""
    start = time.perf_counter()
    subprocess.run(args, cwd=ROOT, capture_output=True, check=True, env=env)
    return time.perf_counter() - start


def least_wall(args: list[str], env: dict[str, str] | None = None) -> float:
    """The least wall seconds of ``REPEATS`` runs of ``args``."""
    return min(wall(args, env) for _ in range(REPEATS))


def least_walls(commands: dict[str, list[str]]) -> tuple[dict[str, float], dict[str, float]]:
    """Each command's least wall seconds over ``REPEATS`` rounds (every command once per
    round, so that a slow spell of the machine reaches all alike), and the median over
    the rounds of its time over the baseline's (the first command) in the same round."""
    runs: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(REPEATS):
        for label, args in commands.items():
            runs[label].append(wall(args))
    base = runs[next(iter(commands))]
    least = {label: min(times) for label, times in runs.items()}
    paired = {
        label: statistics.median(t / b for t, b in zip(times, base, strict=True))
        for label, times in runs.items()
    }
    return least, paired


def uncompiled_wall(args: list[str]) -> float:
    """``least_wall`` with hitm's bytecode removed and never written: each start compiles
    hitm's sources (what an editable install does where PYTHONDONTWRITEBYTECODE is set)."""
    for package in PACKAGES:
        for cache in (ROOT / package).rglob("__pycache__"):
            shutil.rmtree(cache)
    return least_wall(args, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


def compile_packages() -> None:
    """hitm's bytecode, as ``pip install`` compiles it for a regular install."""
    for package in PACKAGES:
        compileall.compile_dir(ROOT / package, quiet=1)


def self_times(args: list[str]) -> dict[str, int]:
    """Module → self import time (µs) of one ``python -X importtime`` run."""
    done = subprocess.run(
        [args[0], "-X", "importtime", *args[1:]], cwd=ROOT, capture_output=True, text=True
    )
    out: dict[str, int] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _cumulative, name = (part.strip() for part in line[12:].split("|"))
        out[name] = int(self_us)
    return out


def _cli_versions() -> str:
    """typer's and rich's versions (typer 0.29 and later would add pydantic's start-up)."""
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for name in ("typer", "rich", "pydantic"):
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} not installed")
    return ", ".join(found)


def main() -> int:
    rows = []
    solve_label = f"hitm solve {CAPTIONER}"
    uncompiled = uncompiled_wall(COMMANDS[solve_label])
    progress(f"{solve_label}, compiling hitm's sources each start: {uncompiled:.3f} s")
    compile_packages()
    walls, paired = least_walls(COMMANDS)
    for label, seconds in walls.items():
        progress(f"{label}: {seconds:.3f} s")
    base = walls[next(iter(COMMANDS))]
    for label, seconds in walls.items():
        ratio = seconds / base
        verdict = ("met" if ratio <= TARGET else "missed") if label in TARGETED else ""
        rows.append(
            [
                f"`{label}`",
                f"{seconds * 1000:,.0f}",
                f"{ratio:.2f}×",
                f"{paired[label]:.2f}×",
                verdict,
            ]
        )
    rows.append(
        [
            f"`{solve_label}`, hitm's sources compiled at each start",
            f"{uncompiled * 1000:,.0f}",
            f"{uncompiled / base:.2f}×",
            "",
            "",
        ]
    )
    baseline = self_times(COMMANDS[next(iter(COMMANDS))])
    solve = self_times(COMMANDS[f"hitm solve {CAPTIONER}"])
    extra = sorted(((us, name) for name, us in solve.items() if name not in baseline), reverse=True)
    total = sum(us for us, _ in extra)
    top = [[f"`{name}`", f"{us / 1000:.1f}"] for us, name in extra[:15]]
    text = [
        "# Start-up time",
        "",
        f"Command: `python bench/startup.py`; each command run {REPEATS} times as a fresh "
        "process from the repository root, in rounds (every command once per round), least "
        "wall time kept, with hitm's bytecode "
        "compiled first (`compileall`, as `pip install` does for a regular install). The last "
        "row is the same solve with that bytecode removed and never written "
        "(`PYTHONDONTWRITEBYTECODE=1`, which this machine sets for every process): each start "
        "then compiles hitm's sources too.",
        "",
        *environment_lines(),
        f"- command-line libraries: {_cli_versions()}",
        "",
        f"Target: `hitm --help` and `hitm solve {CAPTIONER}` within {TARGET:g}× the baseline.",
        "",
        "`× baseline`: least time over the baseline's least time (the target's test);"
        " `paired median`: the median, over the rounds, of the command's time over the"
        " baseline's in the same round (less moved by one lucky run).",
        "",
        markdown_table(["command", "wall ms", "× baseline", "paired median", "target"], rows),
        "",
        f"## Where `hitm solve {CAPTIONER}` spends its imports beyond the baseline's",
        "",
        f"Self import time of the modules the baseline does not load: {total / 1000:.0f} ms "
        "in all (one `python -X importtime` run, which itself slows imports); the largest:",
        "",
        markdown_table(["module", "self ms"], top),
        "",
    ]
    write_result("startup.md", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
