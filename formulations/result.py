"""What an exact formulation returns, and the relative gap of a bound."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # annotations only: a caller reading results needs no model code
    from formulations.problem import Placed, Problem

__all__ = ["FormulationResult", "Status", "finisher", "make_result", "relative_gap"]

Status = Literal["optimal", "feasible", "infeasible", "timeout", "error"]


def relative_gap(value: int | None, bound: int | None) -> float | None:
    """``(value − bound) / value``, at least 0; None without both, 0 for a zero value."""
    if value is None or bound is None:
        return None
    if value == 0:
        return 0.0
    return max(0.0, (value - bound) / value)


@dataclass(frozen=True)
class FormulationResult:
    """Outcome of one exact solve.

    Attributes
    ----------
    status : str
        ``"optimal"`` (both lexicographic phases proven), ``"feasible"`` (valid
        choice, optimality not proven), ``"infeasible"`` (proven: no choice fits),
        ``"timeout"`` (no solution within the limit) or ``"error"``.
    choice : tuple of int or None
        Chosen option index per stage, in the caller's original indexing.
    bottleneck : int or None
        ``max_s busy[s][choice[s]]``, recomputed exactly from the arrays; with
        a placement, the period (every stage's and every link's busy time,
        :func:`formulations.placement.period`).
    cost : tuple of int or None
        Total cost per resource of ``choice``, recomputed exactly.
    bound : int or None
        Proven lower bound on the optimal bottleneck (integer), if the solver
        provided one.  Equals ``bottleneck`` when phase 1 was proven optimal.
    seconds : float
        Wall time of the whole call.
    message : str
        Solver detail for humans.
    cuts : tuple of int or None
        With a placement, the chosen chip boundaries ``q_1..q_{chips-1}`` in
        stage coordinates (crossbars); None without one or without a choice.
    """

    status: Status
    choice: tuple[int, ...] | None
    bottleneck: int | None
    cost: tuple[int, ...] | None
    bound: int | None
    seconds: float
    message: str = ""
    cuts: tuple[int, ...] | None = None

    @property
    def gap(self) -> float | None:
        """Relative optimality gap of the bottleneck, ``(bottleneck - bound) / bottleneck``.

        Returns
        -------
        float or None
            ``None`` if either the bottleneck or the bound is missing.
        """
        return relative_gap(self.bottleneck, self.bound)


def make_result(
    problem: Problem,
    status: Status,
    choice: Sequence[int] | None,
    bound: int | None,
    seconds: float,
    message: str,
    placed: Placed | None = None,
    cuts: Sequence[int] | None = None,
) -> FormulationResult:
    """Build a result, recomputing bottleneck (or period) and cost exactly from the arrays.

    With a placement the choice needs its ``cuts``, and the bottleneck is the
    placed design's period; cuts that do not place the choice validly are, like
    a choice over the capacity, a modelling or numerics bug reported as ``"error"``.
    """
    if choice is None:
        return FormulationResult(status, None, None, None, bound, seconds, message)
    bottleneck, total = problem.evaluate(choice)
    if not problem.fits(total):  # a modelling/numerics bug: never report it as a solution
        return FormulationResult(
            "error", None, None, None, bound, seconds, f"solver choice violates capacity; {message}"
        )
    if placed is not None:
        if cuts is None:
            raise ValueError("a placed result needs its cuts")
        cuts = tuple(int(q) for q in cuts)
        try:
            bottleneck = placed.period(problem, choice, cuts)
        except ValueError as exc:
            return FormulationResult(
                "error",
                None,
                None,
                None,
                bound,
                seconds,
                f"solver cuts are invalid ({exc}); {message}",
            )
    if bound is not None:
        bound = min(int(bound), bottleneck)
    return FormulationResult(
        status, tuple(choice), bottleneck, total, bound, seconds, message, cuts
    )


def finisher(
    problem: Problem, placed: Placed | None, t0: float
) -> Callable[..., FormulationResult]:
    """``done(status, choice, bound, message, cuts=None)``: a result timed from ``t0``."""

    def done(
        status: Status,
        choice: Sequence[int] | None,
        bound: int | None,
        message: str,
        cuts: Sequence[int] | None = None,
    ) -> FormulationResult:
        seconds = time.perf_counter() - t0
        return make_result(problem, status, choice, bound, seconds, message, placed, cuts)

    return done
