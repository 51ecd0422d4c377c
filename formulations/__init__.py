"""Exact solvers for the min-max multiple-choice knapsack on plain integer arrays.

Stage ``s`` offers options with integer busy times ``busy[s]`` and resource costs
``cost[s]``; pick one option per stage within ``capacity`` to minimise the
bottleneck ``max_s busy``, then the total cost of one ``secondary`` resource.
Nothing here knows about DNNs.  See ``README.md`` for the models.

The solvers load OR-Tools and PuLP when first used, so importing this package
(or :mod:`formulations.result`) costs neither.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["FormulationResult", "available_backends", "relative_gap", "solve_cpsat", "solve_ilp"]

_HOME = {
    "FormulationResult": "formulations.result",
    "relative_gap": "formulations.result",
    "solve_cpsat": "formulations.cpsat",
    "solve_ilp": "formulations.ilp",
    "available_backends": "formulations.ilp",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(_HOME[name]), name)
    raise AttributeError(f"module 'formulations' has no attribute {name!r}")
