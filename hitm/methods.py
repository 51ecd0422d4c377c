"""The solver and status ids, importable without the solvers.

The command line builds its help text from them before it knows which
command runs; :mod:`hitm.optimize` re-exports them.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["METHODS", "Method", "Status"]


class Method(StrEnum):
    """Solver ids: the same string in module names, the registry, CLI choices and JSON."""

    DP = "dp"
    BISECT = "bisect"
    GREEDY = "greedy"
    CPSAT = "cpsat"
    ILP = "ilp"


METHODS: tuple[Method, ...] = tuple(Method)


class Status(StrEnum):
    """How a solve ended."""

    OPTIMAL = "optimal"  # proven
    FEASIBLE = "feasible"  # valid, not proven
    INFEASIBLE = "infeasible"  # proven: no allocation fits
    TIMEOUT = "timeout"  # no allocation within the time limit
    ERROR = "error"  # the solver failed; the message says why
