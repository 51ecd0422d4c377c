"""hitm: high-throughput ReRAM PIM pipelines for multi-modal DNNs (HitM, ICCAD 2020).

The data flows one way: :func:`load_instance` → :func:`analyze` →
:func:`build_problem` → :func:`solve` → :func:`evaluate`.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# Names are imported when first used (PEP 562), so that `import hitm` or the
# command line loads only the modules a task needs: the solvers, the frontier
# and the sweeps cost a tenth of a second that `hitm analyze` does not need.
_HOME = {
    "Analysis": "hitm.analysis",
    "LayerDemand": "hitm.analysis",
    "analyze": "hitm.analysis",
    "Budget": "hitm.budget",
    "DesignSpace": "hitm.budget",
    "Comparison": "hitm.comparison",
    "compare": "hitm.comparison",
    "Instance": "hitm.description.load",
    "load_instance": "hitm.description.load",
    "parse_instance": "hitm.description.load",
    "DescriptionError": "hitm.errors",
    "HitmError": "hitm.errors",
    "InfeasibleError": "hitm.errors",
    "ParameterError": "hitm.errors",
    "SolverError": "hitm.errors",
    "Frontier": "hitm.frontier",
    "frontier": "hitm.frontier",
    "PRESETS": "hitm.hardware",
    "Hardware": "hitm.hardware",
    "METHODS": "hitm.optimize",
    "Method": "hitm.optimize",
    "SolveResult": "hitm.optimize",
    "Status": "hitm.optimize",
    "solve": "hitm.optimize",
    "Metrics": "hitm.pipeline",
    "check_allocation": "hitm.pipeline",
    "evaluate": "hitm.pipeline",
    "verify": "hitm.pipeline",
    "AllocationProblem": "hitm.problem",
    "build_problem": "hitm.problem",
    "Staircase": "hitm.staircase",
    "sweep": "hitm.sweeps",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'hitm' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))


if TYPE_CHECKING:
    from hitm.analysis import Analysis, LayerDemand, analyze
    from hitm.budget import Budget, DesignSpace
    from hitm.comparison import Comparison, compare
    from hitm.description.load import Instance, load_instance, parse_instance
    from hitm.errors import (
        DescriptionError,
        HitmError,
        InfeasibleError,
        ParameterError,
        SolverError,
    )
    from hitm.frontier import Frontier, frontier
    from hitm.hardware import PRESETS, Hardware
    from hitm.optimize import METHODS, Method, SolveResult, Status, solve
    from hitm.pipeline import Metrics, check_allocation, evaluate, verify
    from hitm.problem import AllocationProblem, build_problem
    from hitm.staircase import Staircase
    from hitm.sweeps import sweep

__all__ = [
    "METHODS",
    "PRESETS",
    "AllocationProblem",
    "Analysis",
    "Budget",
    "Comparison",
    "DescriptionError",
    "DesignSpace",
    "Frontier",
    "Hardware",
    "HitmError",
    "InfeasibleError",
    "Instance",
    "LayerDemand",
    "Method",
    "Metrics",
    "ParameterError",
    "SolveResult",
    "SolverError",
    "Staircase",
    "Status",
    "analyze",
    "build_problem",
    "check_allocation",
    "compare",
    "evaluate",
    "frontier",
    "load_instance",
    "parse_instance",
    "solve",
    "sweep",
    "verify",
]
