"""The exact budget → throughput frontier of one resource.

For a resource ``R`` (crossbars, power or area), with every other resource
unconstrained, the least amount of ``R`` that reaches a bottleneck ``T`` is

    C_R(T) = Σ_stages min{cost_R(o) : busy(o) ≤ T}

because the bottleneck is a maximum over stages: each stage independently
takes its cheapest option that meets ``T``. ``C_R`` is a staircase that only
changes at a stage's busy time, so its breakpoints are found exactly, with no
sampled grid, by evaluating it at every distinct busy time between the
unlimited ceiling (no stage below its fastest) and the slowest option, and
keeping the Pareto points: more ``R`` buys a strictly shorter ``T``.

The frontier is built from the allocation problem with no option pruned, so
the instance's own budget never truncates it (``up_to`` does, when asked).
The same formula holds in design mode, where options also choose ADCs per
crossbar: with ``R`` = power or area their price is in the cost.
:func:`verify_frontier` checks points against exact solves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from hitm.analysis import Analysis
from hitm.budget import Budget, DesignSpace
from hitm.costs import crossbar_share
from hitm.errors import DescriptionError, ParameterError, SolverError
from hitm.optimize import Method, Status, solve
from hitm.pipeline import (
    PS_PER_S,
    evaluate,
    naive_adcs,
    naive_copies,
    unlimited_adcs,
    unlimited_copies,
    verify,
)
from hitm.problem import AllocationProblem, build_problem
from hitm.resources import FRONTIER_RESOURCES, Resource
from hitm.resources import resource as find_resource
from hitm.staircase import Staircase, breakpoints

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FRONTIER_RESOURCES",
    "KNEE_MIN_LIFT",
    "Frontier",
    "FrontierPoint",
    "PointCheck",
    "frontier",
    "frontier_problem",
    "knee_index",
    "resource_cap",
    "verify_frontier",
]


class _InUnits:
    """The units of a budget held as an ``amount`` of ``resource``."""

    resource: str

    @property
    def spec(self) -> Resource:
        """The resource: its problem key, units and scale."""
        return FRONTIER_RESOURCES[self.resource]

    @property
    def unit(self) -> str:
        """The unit of ``budget`` (crossbars, W, mm²)."""
        return self.spec.unit

    @property
    def amount_unit(self) -> str:
        """The unit of ``amount`` (crossbars, µW, µm²)."""
        return self.spec.problem_unit


@dataclass(frozen=True)
class FrontierPoint(_InUnits):
    """A budget and its bottleneck.

    Attributes
    ----------
    resource
        ``crossbars``, ``power`` or ``area``.
    amount
        The budget in the resource's integer units (:attr:`amount_unit`:
        crossbars, µW, µm²), exact.
    bottleneck_ps
        The best bottleneck within that budget.
    """

    resource: str
    amount: int
    bottleneck_ps: int

    @property
    def budget(self) -> int | float:
        """The budget in the user's unit (:attr:`unit`: crossbars, W, mm²)."""
        return self.spec.to_user(self.amount)

    @property
    def throughput_per_s(self) -> float:
        return PS_PER_S / self.bottleneck_ps


@dataclass(frozen=True, eq=False)
class Frontier(_InUnits):
    """Every breakpoint of one resource's budget → bottleneck staircase.

    Attributes
    ----------
    network
        The network's name.
    resource
        ``crossbars``, ``power`` or ``area``.
    curve
        The breakpoints: increasing amounts (in the integer units, crossbars,
        µW or µm²) and strictly decreasing bottlenecks; from ``amount[i]``
        on, ``bottleneck_ps[i]`` is the best reachable. :attr:`budget` holds
        the same budgets in the user's :attr:`unit` (crossbars, W, mm²).
    unlimited_ps
        The ceiling: the bottleneck with every stage at its fastest.
    naive
        The naive design (one copy of every layer, fewest ADCs): the amount
        of the resource it uses and its bottleneck. It is the first point,
        except in design mode over crossbars, where extra ADCs are free and
        the first point is as cheap and faster.
    ceiling
        The cheapest design that reaches the unlimited throughput (the full
        frontier's last point).
    unlimited
        The unlimited design (every layer at its fastest): what it uses,
        more than ``ceiling`` when stages off the bottleneck need not be at
        their fastest, at the same bottleneck.
    knee, knee_lift
        Where extra budget stops paying (:func:`knee_index`), None if the
        frontier has no knee short of its ceiling; and the largest height
        above the naive → ceiling chord, in normalised units.
    cap, chosen
        The instance's budget for the resource (in the integer units, as
        ``amount``), and the best point within it
        (None without a cap, or below the naive design's cost). The knee,
        ceiling and chosen point are those of the whole frontier, even when
        ``up_to`` keeps only part of it.
    design
        Whether options include ADC choices (design mode).
    complete
        False when ``up_to`` cut the frontier short of the ceiling.
    """

    network: str
    resource: str
    curve: Staircase
    unlimited_ps: int
    naive: FrontierPoint
    ceiling: FrontierPoint
    unlimited: FrontierPoint
    knee: FrontierPoint | None
    knee_lift: float
    cap: int | None
    chosen: FrontierPoint | None
    design: bool
    complete: bool = True

    def __len__(self) -> int:
        return len(self.curve)

    @property
    def amount(self) -> np.ndarray:
        """Increasing budgets, in the resource's integer units (:attr:`amount_unit`)."""
        return self.curve.budget

    @property
    def budget(self) -> np.ndarray:
        """Increasing budgets, in the user's unit (:attr:`unit`: crossbars, W, mm²)."""
        return self.user(self.amount)

    @property
    def bottleneck_ps(self) -> np.ndarray:
        """Strictly decreasing bottlenecks, one per budget."""
        return self.curve.bottleneck_ps

    @property
    def scale(self) -> int:
        """Problem units (crossbars, µW, µm²) per user unit (crossbars, W, mm²)."""
        return self.spec.scale

    @property
    def key(self) -> str:
        """The problem's name for the resource (``crossbars``, ``power_uw``, ``area_um2``)."""
        return self.spec.key

    @property
    def points(self) -> list[FrontierPoint]:
        return [
            FrontierPoint(self.resource, int(b), int(t))
            for b, t in zip(self.amount, self.bottleneck_ps, strict=True)
        ]

    @property
    def throughput_per_s(self) -> np.ndarray:
        return PS_PER_S / self.bottleneck_ps.astype(np.float64)

    def pct_of_unlimited(self, bottleneck_ps: int | np.ndarray) -> float | np.ndarray:
        """Throughput as a percentage of the unlimited ceiling."""
        return 100 * self.unlimited_ps / bottleneck_ps

    def user(self, amount: int | np.ndarray) -> float | np.ndarray:
        """An amount (integer units) in the user's unit (crossbars, W, mm²)."""
        return amount / self.scale if self.scale != 1 else amount

    def budget_columns(self, amount: int | np.ndarray) -> dict[str, Any]:
        """An amount under keys that carry their units, as JSON and CSV write it.

        ``{"crossbars": n}``; ``{"power_w": W, "power_uw": µW}``; ``{"area_mm2":
        mm², "area_um2": µm²}``: the user's unit, then the exact integer.
        """
        spec = self.spec
        if spec.scale == 1:
            return {spec.budget_field: amount}
        return {spec.budget_field: self.user(amount), spec.key: amount}

    def to_dataframe(self) -> pd.DataFrame:
        """Every breakpoint, one row each (pandas is imported only here).

        Columns: the budget under keys that carry their units
        (:meth:`budget_columns`: ``crossbars``, or ``power_w`` and ``power_uw``,
        or ``area_mm2`` and ``area_um2``), ``bottleneck_ps``,
        ``throughput_per_s``, ``pct_of_unlimited``.
        """
        import pandas as pd

        return pd.DataFrame(
            {
                **self.budget_columns(self.amount),
                "bottleneck_ps": self.bottleneck_ps,
                "throughput_per_s": self.throughput_per_s,
                "pct_of_unlimited": self.pct_of_unlimited(self.bottleneck_ps),
            }
        )

    def at(self, amount: int) -> FrontierPoint | None:
        """The best point within ``amount`` (integer units); None below the first point."""
        i = self.curve.position(amount)
        if i < 0:
            return None
        return FrontierPoint(self.resource, int(self.amount[i]), int(self.bottleneck_ps[i]))

    def index(self, point: FrontierPoint | None) -> int | None:
        """Index of ``point`` among the breakpoints (None if absent)."""
        return None if point is None else self.curve.index(point.amount)


KNEE_MIN_LIFT = 0.05
"""A knee must stand this far above the chord (in normalised units) to count."""


def knee_index(
    budget: np.ndarray, bottleneck_ps: np.ndarray, min_lift: float = KNEE_MIN_LIFT
) -> tuple[int | None, float]:
    """Where extra budget stops paying: the Kneedle rule on the staircase's corners.

    Budget and throughput are normalised to [0, 1] between the first point
    (the naive end) and the last (the ceiling); the knee is the point farthest
    above the straight line between them (the largest *lift* ``y − x``).

    Linear budget, not log: copies split work evenly, so throughput grows
    about linearly with budget until the ceiling, and on a log budget axis
    that stretch bends upwards (the curve is then convex, with no knee at
    all). Because the curve is nearly straight, the largest lift is often
    only the staircase's roughness: a knee counts only if its lift is at
    least ``min_lift``; otherwise the frontier has no knee short of the
    ceiling (its last point, past which nothing pays).

    Returns
    -------
    index, lift
        The knee's index (None with fewer than three points or a lift below
        ``min_lift``) and the largest lift found (0 with fewer than three points).
    """
    if len(budget) < 3:
        return None, 0.0
    x = (budget - budget[0]) / (budget[-1] - budget[0])
    thr = 1.0 / bottleneck_ps.astype(np.float64)
    y = (thr - thr[0]) / (thr[-1] - thr[0])
    lift = y - x
    i = int(np.argmax(lift))
    best = float(lift[i])
    return (i if best >= min_lift and best > 0 else None), max(best, 0.0)


def frontier_problem(
    analysis: Analysis, resource: str = "crossbars", design: DesignSpace | None = None
) -> AllocationProblem:
    """The allocation problem the frontier reads: ``resource`` priced, no option pruned.

    Power or area is made a resource by a nominal cap (its value is never
    used: nothing is pruned), so each stage keeps every option that is
    Pareto-optimal in busy time, crossbars and that resource.
    """
    spec = find_resource(resource, frontier=True)
    nominal = {} if spec.scale == 1 else {spec.budget_field: 1.0}
    return build_problem(analysis, Budget(**nominal), design=design, prune=False)


def resource_cap(analysis: Analysis, budget: Budget, resource: str) -> int:
    """The budget's cap on ``resource`` in its integer units.

    Crossbars: the budget's crossbars. Power and area: the budget's cap if it
    has one, else the provisioned power (area) of its crossbars with the
    hardware's own ADCs per crossbar (1 chip of ISAAC: 168 tiles, 55.4 W, 62.5 mm²).
    """
    hw = analysis.hardware
    spec = find_resource(resource, frontier=True)
    cap = budget.capacity(hw)
    if spec.key in cap:
        return int(cap[spec.key])
    power_mw, area_mm2 = crossbar_share(hw)
    per_crossbar = (power_mw if spec.key == "power_uw" else area_mm2) * spec.from_table
    return math.floor(cap["crossbars"] * per_crossbar + 1e-6)


def frontier(
    analysis: Analysis,
    resource: str = "crossbars",
    *,
    design: DesignSpace | None = None,
    budget: Budget | None = None,
    up_to: int | None = None,
) -> Frontier:
    """The exact budget → bottleneck frontier of one resource, others unconstrained.

    Parameters
    ----------
    analysis
        Per-layer demand vectors.
    resource
        ``crossbars``, ``power`` or ``area``.
    design
        Design mode: options also choose ADCs per crossbar.
    budget
        The instance's budget: marks the best point within its cap on
        ``resource`` (:func:`resource_cap`). None: no chosen point.
    up_to
        Keep only points within this budget (in the resource's integer units);
        default: up to the least budget reaching the unlimited ceiling.

    Returns
    -------
    Frontier
        Every breakpoint, the naive design, the ceiling, the knee and the
        chosen point.

    Raises
    ------
    ParameterError
        If the resource is unknown or ``up_to`` is below the frontier's first point.
    """
    if analysis.hardware.moves_data:
        # The staircase prices stages only; a frontier with links would need a placement per point.
        raise DescriptionError(
            "hardware.interconnect: the frontier does not model data movement yet;"
            " use interconnect: ideal, or solve at each budget (hitm sweep)"
        )
    spec = find_resource(resource, frontier=True)
    problem = frontier_problem(analysis, spec.name, design)
    column = problem.resources.index(spec.key)
    budgets, bottlenecks = breakpoints(
        [s.busy_ps for s in problem.stages], [s.cost[:, column] for s in problem.stages]
    )
    naive = evaluate(problem, naive_copies(problem), naive_adcs(problem))
    fastest = evaluate(problem, unlimited_copies(problem), unlimited_adcs(problem))
    unlimited_ps = int(bottlenecks[-1])
    if fastest.bottleneck_ps != unlimited_ps:  # two routes to the same ceiling: a bug
        raise SolverError(
            f"frontier: the unlimited design runs at {fastest.bottleneck_ps} ps but the"
            f" fastest options reach {unlimited_ps} ps"
        )
    knee, lift = knee_index(budgets, bottlenecks)
    name = spec.name
    knee_point = (
        None if knee is None else FrontierPoint(name, int(budgets[knee]), int(bottlenecks[knee]))
    )
    last = FrontierPoint(name, int(budgets[-1]), unlimited_ps)
    cap = None if budget is None else resource_cap(analysis, budget, spec.name)
    chosen = None
    if cap is not None:
        i = int(np.searchsorted(budgets, cap, side="right")) - 1
        if i >= 0:
            chosen = FrontierPoint(name, int(budgets[i]), int(bottlenecks[i]))
    complete = True
    if up_to is not None:
        if up_to < budgets[0]:
            raise ParameterError(
                "up_to",
                f"{up_to / spec.scale:,g} {spec.unit} is below the"
                f" {budgets[0] / spec.scale:,g} {spec.unit} that run the network at all",
            )
        n = int(np.searchsorted(budgets, up_to, side="right"))
        complete = n == len(budgets)
        budgets, bottlenecks = budgets[:n], bottlenecks[:n]
    return Frontier(
        network=analysis.network.name,
        resource=spec.name,
        curve=Staircase(budgets, bottlenecks),
        unlimited_ps=unlimited_ps,
        naive=FrontierPoint(name, int(naive.usage[spec.key]), naive.bottleneck_ps),
        ceiling=last,
        unlimited=FrontierPoint(name, int(fastest.usage[spec.key]), unlimited_ps),
        knee=knee_point,
        knee_lift=lift,
        cap=cap,
        chosen=chosen,
        design=design is not None,
        complete=complete,
    )


@dataclass(frozen=True)
class PointCheck:
    """One frontier point checked by exact solves.

    ``below_ps`` is the proven optimum one unit below the point's budget
    (None: infeasible there, which only the first point may be).
    """

    index: int
    budget: int
    bottleneck_ps: int
    below_ps: int | None
    seconds: float


def _exact_budget(problem: AllocationProblem, spec: Resource, amount: int) -> Budget:
    """A budget capping ``spec`` at ``amount`` units, every other resource out of reach."""
    if spec.scale == 1:
        return Budget(**{spec.budget_field: amount})
    free = int(sum(int(s.cost[:, 0].max()) for s in problem.stages))  # never binds
    value = amount / spec.scale  # exact round trip below 10^15 units (15 significant digits)
    return Budget(crossbars=free, **{spec.budget_field: value})


def _optimum(
    analysis: Analysis,
    design: DesignSpace | None,
    budget: Budget,
    key: str,
    amount: int,
    method: str,
    time_limit: float,
    backend: str,
) -> tuple[int | None, float]:
    """The proven optimal bottleneck within ``budget`` (None: infeasible), and seconds."""
    problem = build_problem(analysis, budget, design=design)
    got = dict(zip(problem.resources, (int(c) for c in problem.capacity), strict=True))
    if got[key] != amount:
        raise SolverError(f"frontier: a budget of {amount} {key} was built as {got[key]}")
    result = solve(problem, method, time_limit, backend=backend)
    if result.status == Status.INFEASIBLE:
        return None, result.seconds
    if result.status != Status.OPTIMAL:
        raise SolverError(
            f"frontier: {result.label} did not prove an optimum at {amount:,} {key}:"
            f" {result.status} {result.message}"
        )
    verify(problem, result)
    return result.bottleneck_ps, result.seconds


def verify_frontier(
    analysis: Analysis,
    front: Frontier,
    *,
    design: DesignSpace | None = None,
    indices: Sequence[int] | None = None,
    method: str = "cpsat",
    time_limit: float = 60.0,
    backend: str = "highs",
) -> list[PointCheck]:
    """Check frontier points against exact solves; raise on any mismatch.

    For each point ``(C, T)``: the exact optimum with ``C`` of the resource
    (every other resource out of reach) must be proven and equal ``T``, and
    with ``C − 1`` it must be the previous point's bottleneck (or infeasible,
    for the first point). Nothing from the frontier is passed to the solver.

    Parameters
    ----------
    analysis, design
        What the frontier was computed from.
    front
        The frontier.
    indices
        Points to check; default every point.
    method, time_limit, backend
        The exact method (``cpsat`` or ``ilp``) and its limits.

    Raises
    ------
    SolverError
        If a solve is not proven optimal or disagrees with the frontier.
    """
    if method not in (Method.CPSAT, Method.ILP):
        raise ParameterError("method", f"verify_frontier needs an exact method, got '{method}'")
    key = front.key
    problem = frontier_problem(analysis, front.resource, design)
    checks = []
    for i in range(len(front)) if indices is None else indices:
        amount, want = int(front.amount[i]), int(front.bottleneck_ps[i])
        got, s1 = _optimum(
            analysis,
            design,
            _exact_budget(problem, front.spec, amount),
            key,
            amount,
            method,
            time_limit,
            backend,
        )
        below, s2 = _optimum(
            analysis,
            design,
            _exact_budget(problem, front.spec, amount - 1),
            key,
            amount - 1,
            method,
            time_limit,
            backend,
        )
        expect_below = None if i == 0 else int(front.bottleneck_ps[i - 1])
        if got != want or below != expect_below:
            raise SolverError(
                f"frontier point {i} ({amount:,} {key}): the frontier says {want} ps and"
                f" {expect_below} ps one unit below; {method} proves {got} ps and {below} ps"
            )
        checks.append(PointCheck(i, amount, want, below, s1 + s2))
    return checks
