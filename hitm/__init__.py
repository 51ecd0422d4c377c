"""hitm: high-throughput ReRAM PIM pipelines for multi-modal DNNs (HitM, ICCAD 2020).

The data flows one way: :func:`load_instance` → :func:`analyze` →
:func:`build_problem` → :func:`solve` → :func:`evaluate`.
"""

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
