"""Exact solvers for the min-max multiple-choice knapsack on plain integer arrays.

Stage ``s`` offers options with integer busy times ``busy[s]`` and resource costs
``cost[s]``; pick one option per stage within ``capacity`` to minimise the
bottleneck ``max_s busy``, then the total cost of one ``secondary`` resource.
With a :class:`Placement` the stages are also laid out on a chain of chips and
the bottleneck is the period, links included.  Nothing here knows about DNNs.
See ``README.md`` for the models.

The solvers load OR-Tools and PuLP when first used, so importing this package
(or :mod:`formulations.result`) costs neither.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "FormulationResult",
    "Placement",
    "available_backends",
    "relative_gap",
    "solve_cpsat",
    "solve_ilp",
]

_HOME = {
    "FormulationResult": "formulations.result",
    "Placement": "formulations.placement",
    "relative_gap": "formulations.result",
    "solve_cpsat": "formulations.cpsat",
    "solve_ilp": "formulations.ilp",
    "available_backends": "formulations.ilp",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(_HOME[name]), name)
    raise AttributeError(f"module 'formulations' has no attribute {name!r}")
