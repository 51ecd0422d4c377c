"""Where a JSON document's numbers came from: enough to reproduce them.

Every ``--json`` document carries a ``provenance`` block: hitm's version, the
input file and its sha256, the hardware as resolved (every field after the
preset and the overrides), the budget, and the methods with the versions of
the solver libraries they ran on.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from hitm.budget import Budget
from hitm.hardware import Hardware

__all__ = ["SOLVER_LIBRARIES", "provenance_json"]

SOLVER_LIBRARIES = {
    "cpsat": ("ortools",),
    "ilp:highs": ("pulp", "highspy"),
    "ilp:cbc": ("pulp",),  # CBC is PuLP's bundled binary, or the system's
}
"""The Python distributions each exact method runs on (the others are hitm's own code)."""


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def provenance_json(
    path: Path | None = None,
    hardware: Hardware | None = None,
    budget: Budget | None = None,
    methods: Sequence[str] = (),
) -> dict[str, Any]:
    """The ``provenance`` block of a ``--json`` document.

    Parameters
    ----------
    path
        The input file (its sha256 is taken), if the command read one.
    hardware, budget
        As resolved for the command, after every override.
    methods
        Method labels as :attr:`SolveResult.label` writes them (``cpsat``, ``ilp:highs``).
    """
    out: dict[str, Any] = {"hitm_version": _version("hitm")}
    if path is not None and path.is_file():
        out["input"] = {"path": str(path), "sha256": _sha256(path)}
    if hardware is not None:
        out["hardware"] = {k: v for k, v in hardware.to_dict().items() if k != "components"}
    if budget is not None:
        out["budget"] = {k: v for k, v in dataclasses.asdict(budget).items() if v is not None}
    if methods:
        libraries = sorted({lib for m in methods for lib in SOLVER_LIBRARIES.get(m, ())})
        out["methods"] = list(methods)
        out["solver_versions"] = {lib: _version(lib) for lib in libraries}
    return out
