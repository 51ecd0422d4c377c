"""Shared builders for tests: small networks written as instance dicts."""

from __future__ import annotations

from typing import Any

from hitm.analysis import analyze
from hitm.budget import Budget
from hitm.description.load import Instance, parse_instance
from hitm.problem import AllocationProblem, build_problem


def instance(layers: list[dict[str, Any]], inputs: dict[str, Any], **extra: Any) -> Instance:
    """An instance from inline layers (ISAAC hardware unless ``hardware`` is given)."""
    network: dict[str, Any] = {"inputs": inputs, "layers": layers}
    if "feedback" in extra:
        network["feedback"] = extra.pop("feedback")
    return parse_instance({"network": network, **extra}, default_name="test")


def problem_of(inst: Instance, crossbars: int | None = None, **kw: Any) -> AllocationProblem:
    budget = Budget(crossbars=crossbars) if crossbars is not None else inst.budget
    return build_problem(analyze(inst.network, inst.hardware), budget, **kw)
