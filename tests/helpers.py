"""Builders and constants shared by several test modules.

A plain module, not fixtures: the builders take the network as arguments
(``instance(layers, inputs)``, ``problem_from(inputs, layers, ...)``), which a
fixture cannot without a factory wrapper. Test modules import it as
``from helpers import ...``; pytest's default ``prepend`` import mode puts
``tests/`` on ``sys.path`` for every test module in it (``tests/`` has no
``__init__.py``). Anything used by one test module only stays in that module.

Timing constants are the ISAAC preset's (DESIGN.md): a 100 ns crossbar cycle,
16 input bit-slices per MVM, one bit-slice for a one-hot lookup.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from formulations import FormulationResult, available_backends, solve_cpsat, solve_ilp
from hitm.analysis import analyze
from hitm.budget import Budget
from hitm.description.load import Instance, parse_instance
from hitm.hardware import PRESETS
from hitm.problem import AllocationProblem, build_problem

__all__ = ["INSTANCES", "ISAAC", "MVM", "ONEHOT", "instance", "problem_from", "problem_of"]

INSTANCES = Path(__file__).resolve().parent.parent / "instances"
ISAAC = PRESETS["isaac"]
MVM = 1_600_000  # ps, ISAAC: 16 bit-slices × 100 ns
ONEHOT = 100_000  # ps, ISAAC: a one-hot input is one bit-slice


def instance(layers: list[dict[str, Any]], inputs: dict[str, Any], **extra: Any) -> Instance:
    """An instance from inline layers (ISAAC hardware unless ``hardware`` is given)."""
    network: dict[str, Any] = {"inputs": inputs, "layers": layers}
    if "feedback" in extra:
        network["feedback"] = extra.pop("feedback")
    return parse_instance({"network": network, **extra}, default_name="test")


def problem_of(inst: Instance, crossbars: int | None = None, **kw: Any) -> AllocationProblem:
    """The instance's problem, at its own budget or at ``crossbars``."""
    budget = Budget(crossbars=crossbars) if crossbars is not None else inst.budget
    return build_problem(analyze(inst.network, inst.hardware), budget, **kw)


def problem_from(
    inputs: dict[str, Any],
    layers: list[dict[str, Any]],
    hardware: dict[str, Any] | None = None,
    *,
    feedback: list[dict[str, Any]] | None = None,
    budget: dict[str, Any] | None = None,
    prune: bool = True,
) -> AllocationProblem:
    """The problem of inline layers on one chip (or ``budget``), ISAAC unless ``hardware``."""
    extra: dict[str, Any] = {"budget": budget or {"chips": 1}}
    if hardware:
        extra["hardware"] = hardware
    if feedback:
        extra["feedback"] = feedback
    return problem_of(instance(layers, inputs, **extra), prune=prune)


# --- the exact formulations, each backend a solver -----------------------------------------

BACKENDS = available_backends()
Solver = Callable[..., FormulationResult]


def ilp_on(backend: str) -> Solver:
    """``solve_ilp`` with its backend fixed, called like ``solve_cpsat``."""

    def solve(*args: Any, **kwargs: Any) -> FormulationResult:
        return solve_ilp(*args, backend=backend, **kwargs)

    return solve


FORMULATIONS = [pytest.param(solve_cpsat, id="cpsat")] + [
    pytest.param(ilp_on(b), id=f"ilp-{b}") for b in BACKENDS
]
"""Every exact model and backend available here, as pytest parameters."""
