"""Every method on one problem: the results, their designs, the best bound, and agreement.

What ``hitm compare`` prints, as a library call: each solver of the registry
runs on the same problem, every allocation is verified by the pipeline model,
and the proven optima must agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hitm.errors import SolverError
from hitm.optimize import SolveResult, Status, solve, variants
from hitm.pipeline import Metrics, verify
from hitm.problem import AllocationProblem

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Comparison", "compare"]


@dataclass(frozen=True)
class Comparison:
    """The outcome of running every method on one problem.

    Attributes
    ----------
    results
        One per method and backend, in the registry's order (backends that
        are not installed are left out).
    designs
        The verified design of every result with an allocation, by label.
    best_bound_ps
        The best (largest) proven lower bound on the bottleneck, if any.
    """

    results: tuple[SolveResult, ...]
    designs: Mapping[str, Metrics]
    best_bound_ps: int | None

    def to_dataframe(self) -> pd.DataFrame:
        """One row per method (pandas is imported only here): ``method`` (its label,
        ``ilp:highs``), ``status``, ``bottleneck_ps``, ``crossbars_used``, ``bound_ps``,
        ``gap_to_best_bound`` (against :attr:`best_bound_ps`), ``seconds``, ``message``."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "method": r.label,
                    "status": str(r.status),
                    "bottleneck_ps": r.bottleneck_ps,
                    "crossbars_used": r.crossbars_used,
                    "bound_ps": r.bound_ps,
                    "gap_to_best_bound": r.gap_to(self.best_bound_ps),
                    "seconds": r.seconds,
                    "message": r.message,
                }
                for r in self.results
            ]
        ).astype({"bottleneck_ps": "Int64", "crossbars_used": "Int64", "bound_ps": "Int64"})

    @property
    def agree(self) -> bool:
        """Whether every result claiming ``optimal`` has the same bottleneck and crossbars."""
        return len(self._optima) <= 1

    @property
    def _optima(self) -> set[tuple[int | None, int | None]]:
        return {
            (r.bottleneck_ps, r.crossbars_used) for r in self.results if r.status == Status.OPTIMAL
        }

    def check_agreement(self) -> None:
        """Raise :class:`SolverError` naming each proven optimum if they disagree."""
        if self.agree:
            return
        pairs = ", ".join(
            f"{r.label}: ({r.bottleneck_ps} ps, {r.crossbars_used} crossbars)"
            for r in self.results
            if r.status == Status.OPTIMAL
        )
        raise SolverError(f"exact methods disagree: {pairs}")


def compare(problem: AllocationProblem, time_limit: float = 10.0) -> Comparison:
    """Run every method (:func:`hitm.optimize.variants`) on ``problem`` and verify each.

    Raises
    ------
    SolverError
        If a solver returns an allocation that breaks the budget or misreports
        its bottleneck (disagreement is reported by :meth:`Comparison.check_agreement`).
    """
    results = [solve(problem, m, time_limit, backend=b) for m, b in variants()]
    results = [r for r in results if not (r.backend and "not available" in r.message)]
    designs = {r.label: m for r in results if (m := verify(problem, r)) is not None}
    bounds = [r.bound_ps for r in results if r.bound_ps is not None]
    return Comparison(tuple(results), designs, max(bounds) if bounds else None)
