"""One-hot MILP of the min-max multiple-choice knapsack, solved through PuLP.

Backends: HiGHS (in-process via ``highspy``) and CBC (the binary bundled with
PuLP, or a system ``cbc``).  See ``README.md`` for the maths.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
import os
import re
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import pulp

from formulations import matrix
from formulations.lagrange import lagrangian_bound
from formulations.placement import Placement, link_busy
from formulations.problem import (
    MIN_PHASE2_SECONDS,
    Clock,
    OutOfTime,
    Placed,
    Problem,
    Reduced,
    check_inputs,
    fitting_hint,
    least_cost,
    placed_warm_start,
    reduce_options,
    too_costly,
)
from formulations.result import FormulationResult, Status, finisher

__all__ = ["available_backends", "solve_ilp"]

# Objectives are integral in model units (scaled busy / integer cost), so any
# absolute gap below 1 proves optimality; 0.5 leaves room for float tolerances.
_GAP_ABS = 0.5
# Relative slack applied to solver-reported bounds before rounding them up, to
# absorb LP tolerances and CBC's printed precision (keeps the bound valid).
_BOUND_RTOL = 1e-6

# HiGHS's integrality and primal feasibility tolerances (see _solve_highs).
_HIGHS_TOL = 1e-10


@dataclass(frozen=True)
class _Tol:
    """What a solve is asked to resolve: HiGHS's tolerances, the absolute gap."""

    integrality: float = _HIGHS_TOL
    feasibility: float = _HIGHS_TOL
    gap_abs: float = _GAP_ABS


def _placed_tol(cost: Sequence[np.ndarray], gap_abs: float = _GAP_ABS) -> _Tol:
    """HiGHS's tolerances with a placement.

    At 1e-10 HiGHS 1.16 returned wrong "Optimal" periods (and once
    "Infeasible") on 4 of 1,500 tiny placed models, and at 1e-9 integrality it
    took 3.5 times as long as at 1e-6 on a 20-stage, 8-chip one. So rows are
    kept to 1e-9, and integrality only as tight as the costs need: a binary
    off by the tolerance in every stage hides under half a unit of any budget.
    """
    top = max(int(c.max()) for c in cost) if cost else 1
    hidden = 0.5 / (len(cost) * max(top, 1))
    return _Tol(min(1e-6, max(1e-9, hidden)), 1e-9, gap_abs)


# The proof question's integrality when the default one passed a design no faster.
# Not the default: at 1e-9 a 20-stage, 8-chip model took 3.5 times as long (_placed_tol).
_TIGHT_INTEGRALITY = 1e-9

# With a placement phase 1's T is continuous and its optimum is rounded up to
# whole ps, so the gap is closed to a thousandth of a ps and the bound is
# trusted to a relative 1e-9 (the feasibility tolerance), not 1e-6.
_PLACED_GAP_PS = 1e-3
_BOUND_RTOL_PLACED = 1e-9

# Largest busy coefficient (after dividing by the gcd) handed to the MILP as is.
_MAX_COEF = 10**6
# Link rows are integer; a row whose largest coefficient exceeds this is divided by a
# power of two (exact in floating point). HiGHS treats 1e15 as infinite: s2vt's rows
# at 16 chips, with the period a constant, reached 1.6e15 and HiGHS refused them.
# Below 1e13 an integer is also exact in the 13 digits of PuLP's MPS file for CBC.
_MAX_ROW_COEF = 2**43

_PULP_NAMES = {"highs": ("HiGHS",), "cbc": ("COIN_CMD", "PULP_CBC_CMD")}


@functools.cache
def _available() -> tuple[str, ...]:
    names = set(pulp.listSolvers(onlyAvailable=True))
    return tuple(b for b, alias in _PULP_NAMES.items() if names.intersection(alias))


def available_backends() -> list[str]:
    """Backends of :func:`solve_ilp` usable in this environment.

    Returns
    -------
    list of str
        Subset of ``["highs", "cbc"]`` (from ``pulp.listSolvers(onlyAvailable=True)``).
    """
    return list(_available())


def solve_ilp(
    busy: Sequence[np.ndarray],
    cost: Sequence[np.ndarray],
    capacity: np.ndarray,
    *,
    secondary: int = 0,
    time_limit: float = 10.0,
    backend: str = "highs",
    hint: Sequence[int] | None = None,
    placement: Placement | None = None,
    hint_cuts: Sequence[int] | None = None,
) -> FormulationResult:
    """Solve the lexicographic min-max multiple-choice knapsack as a MILP.

    Parameters
    ----------
    busy : sequence of (n_s,) int arrays
        Busy time of every option of every stage (e.g. picoseconds).
    cost : sequence of (n_s, R) int arrays
        Non-negative resource cost of every option.
    capacity : (R,) int array
        Budget per resource.
    secondary : int, default 0
        Resource whose total cost is minimised among bottleneck-optimal choices.
    time_limit : float, default 10.0
        Wall-time budget in seconds shared by both phases.
    backend : {"highs", "cbc"}
        MILP solver used through PuLP.
    hint : sequence of int, optional
        One option index per stage (need not be feasible), passed to CBC as a
        MIP start; ignored by HiGHS (see ``README.md``).
    placement : Placement, optional
        Also place the stages on a chain of chips (``README.md``, "Placement"):
        the model chooses the chip boundaries too, and the bottleneck becomes
        the period (every stage's and every link's busy time).
    hint_cuts : sequence of int, optional
        With a placement, ``chips - 1`` chip boundaries completing ``hint``'s MIP start.

    Returns
    -------
    FormulationResult
        Never raises for infeasible instances or time-outs; an unavailable
        backend gives status ``"error"``.

    Raises
    ------
    ValueError
        On malformed arrays, placement or hint, or an unknown backend name.
    """
    clock = Clock.started(time_limit)
    if backend not in _PULP_NAMES:
        raise ValueError(f"unknown backend {backend!r}; expected one of {list(_PULP_NAMES)}")
    problem, hint, placed, hint_cuts = check_inputs(
        busy, cost, capacity, secondary, time_limit, hint, placement, hint_cuts
    )
    done = finisher(problem, placed, clock.start)
    try:
        return _run(problem, placed, hint, hint_cuts, backend, clock, done)
    except OutOfTime as exc:
        return done("timeout", None, None, f"ILP/{backend}: {exc}")


def _run(
    problem: Problem,
    placed: Placed | None,
    hint: list[int] | None,
    hint_cuts: list[int] | None,
    backend: str,
    clock: Clock,
    done: Callable[..., FormulationResult],
) -> FormulationResult:
    """Both phases; :class:`OutOfTime` if the limit runs out while a model is built."""
    if backend not in _available():
        return done("error", None, None, f"ILP backend {backend!r} is not available")
    red = reduce_options(problem, placed, clock)
    if red.empty_stage is not None:
        return done(
            "infeasible",
            None,
            None,
            f"infeasible: every option of stage {red.empty_stage} alone exceeds the capacity",
        )
    short = too_costly(problem, red)
    if short is not None:
        return done("infeasible", None, None, short)
    if placed is not None:
        x = [problem.cost[s][k, 0] for s, k in enumerate(red.keep)]
        short = placed.shortfall([int(v.min()) for v in x], [int(v.max()) for v in x])
        if short is not None:
            return done("infeasible", None, None, short)
        return done(*_solve_placed(problem, red, placed, backend, clock, hint, hint_cuts))

    tag = f"ILP/{backend}"
    presolve = clock.limit >= _PRESOLVE_SECONDS
    keep = red.keep
    busy_k = [problem.busy[s][k] for s, k in enumerate(keep)]
    cost_k = [problem.cost[s][k] for s, k in enumerate(keep)]
    local_hint = red.hint_local(hint)
    warm = fitting_hint(problem, keep, local_hint)
    if warm is None:
        outcome, overhead = _phase1(problem, keep, local_hint, backend, clock, presolve, tag)
        if outcome[0] != "optimal":
            return done(*outcome)
        choice1, msg1 = outcome[1], outcome[3]
    else:
        # Decide the level below the warm start's bottleneck first, over the options
        # faster than it: infeasible proves the warm start's bottleneck (bisection's
        # is optimal), and otherwise that model's optimum is the optimum.
        t_hint, choice1 = warm
        faster = [k[b < t_hint] for k, b in zip(keep, busy_k, strict=True)]
        overhead = 0.0
        presolve = presolve and sum(k.size for k in keep) >= _PRESOLVE_OPTIONS
        lower, at_bound = None, None
        if len(problem.capacity) > 1:  # several budgets: the Lagrangian bound first
            lower = lagrangian_bound(problem, keep, t_hint)[0]
            if lower < t_hint:  # one feasibility solve at the bound (README.md)
                at_bound = _at_bound(problem, keep, busy_k, lower, backend, clock, presolve, tag)
        if lower == t_hint:
            msg1 = f"{tag} phase 1: the Lagrangian bound meets the warm start's bottleneck"
        elif at_bound is not None and at_bound[0] is not None:
            choice1, msg1 = at_bound[0], at_bound[1]
        elif any(not f.size for f in faster):
            msg1 = f"{tag} phase 1: no stage can be faster than the warm start's slowest"
        else:
            outcome, overhead = _phase1(problem, faster, None, backend, clock, presolve, tag)
            status, found, bound, msg1 = outcome
            if status == "infeasible":
                msg1 = f"{msg1.removeprefix('infeasible: ')}: nothing faster than the warm start"
            elif status in ("timeout", "feasible"):  # the warm start is the best known
                if lower is not None:  # the Lagrangian bound may be the stronger
                    bound = lower if bound is None else max(bound, lower)
                if found is None or problem.evaluate(found)[0] >= t_hint:
                    msg1 = f"{msg1}; out of time: the warm start's design, not proven"
                    return done("feasible", choice1, bound, msg1)
                return done("feasible", found, bound, f"{msg1}; bottleneck not proven optimal")
            elif status != "optimal":
                return done(*outcome)
            else:
                choice1 = found

    # ---- phase 2: only options with busy <= T*, minimise the secondary resource
    t_star, _ = problem.evaluate(choice1)
    skipped = f"bottleneck optimal; {tag} phase 2: no time left to build its model"
    if clock.left(0.0) < 3 * overhead:  # build, convert, solve: it would overrun the limit
        return done("feasible", choice1, t_star, skipped)
    allowed = [np.flatnonzero(b <= t_star) for b in busy_k]
    keep2 = [k[a] for k, a in zip(keep, allowed, strict=True)]
    cost2 = [c[a] for c, a in zip(cost_k, allowed, strict=True)]
    try:
        m2 = _prepare(
            matrix.one_hot(cost2, problem.capacity, objective=problem.secondary),
            backend,
            "secondary",
            clock,
        )
    except OutOfTime:
        return done("feasible", choice1, t_star, skipped)
    start2 = m2.matrix.start(
        [int(np.flatnonzero(k == o)[0]) for k, o in zip(keep2, choice1, strict=True)]
    )
    left = clock.left(min(MIN_PHASE2_SECONDS, clock.limit), after=m2.overhead)
    run2, x2 = _solve_matrix(m2, backend, left, start2, presolve=presolve)
    msg2 = f"{tag} phase 2: {run2.detail}"
    local2 = None
    if not run2.error and run2.sol_status in _SOLVED and x2 is not None:
        local2 = m2.matrix.choice(x2)
    if local2 is None:
        return done("feasible", choice1, t_star, f"bottleneck optimal; {msg2}")
    choice2 = [int(keep2[s][i]) for s, i in enumerate(local2)]
    if run2.sol_status == pulp.LpSolutionOptimal:
        return done("optimal", choice2, t_star, f"{tag} optimal in both phases")
    sec = problem.secondary
    if problem.evaluate(choice1)[1][sec] < problem.evaluate(choice2)[1][sec]:
        choice2 = choice1
    return done("feasible", choice2, t_star, f"bottleneck optimal; {msg2}")


def _phase1(
    problem: Problem,
    keep: Sequence[np.ndarray],
    local_hint: Sequence[int | None] | None,
    backend: str,
    clock: Clock,
    presolve: bool,
    tag: str,
) -> tuple[tuple[Status, list[int] | None, int | None, str], float]:
    """Phase 1 over the options ``keep``: minimise the bottleneck T.

    Returns ``done``'s arguments (status ``"optimal"`` for a proven bottleneck)
    and the time the model takes to hand to the solver.
    """
    busy_k = [problem.busy[s][k] for s, k in enumerate(keep)]
    cost_k = [problem.cost[s][k] for s, k in enumerate(keep)]
    levels = np.unique(np.concatenate(busy_k))  # ascending distinct busy values
    scaled, unit = _scale(busy_k, levels)
    m = _prepare(
        matrix.one_hot(cost_k, problem.capacity, busy=scaled), backend, "bottleneck", clock
    )
    start = None
    if local_hint is not None and all(h is not None for h in local_hint):
        local = [int(h) for h in local_hint if h is not None]
        start = m.matrix.start(local, [max(b[h] for b, h in zip(scaled, local, strict=True))])
    if clock.left(0.0) < m.overhead:  # converting it alone would overrun the limit
        raise OutOfTime("before the MILP could be handed to the solver")
    run1, x = _solve_matrix(m, backend, clock.left(after=m.overhead), start, presolve=presolve)
    msg1 = f"{tag} phase 1: {run1.detail}"
    out: tuple[Status, list[int] | None, int | None, str]
    if run1.error:
        return ("error", None, None, msg1), m.overhead
    if run1.infeasible:
        return ("infeasible", None, None, f"infeasible: {msg1}"), m.overhead
    bound = _lift_bound(run1.bound, unit, levels)
    if run1.sol_status not in _SOLVED or x is None:
        return ("timeout" if run1.timed_out else "error", None, bound, msg1), m.overhead
    local1 = m.matrix.choice(x)
    if local1 is None:
        return ("error", None, bound, f"{msg1}; solution is not one-hot"), m.overhead
    choice1 = [int(keep[s][i]) for s, i in enumerate(local1)]
    found = problem.evaluate(choice1)[0]
    if run1.sol_status == pulp.LpSolutionOptimal:
        out = ("optimal", choice1, bound, msg1)
    elif bound is not None and bound >= found:
        # The bottleneck is a busy value: a bound that rounds up to it proves it,
        # though the solver stopped with a gap in its continuous T.
        out = ("optimal", choice1, bound, f"{msg1}; its bound rounds up to this bottleneck")
    else:
        out = ("feasible", choice1, bound, f"{msg1}; bottleneck not proven optimal")
    return out, m.overhead


def _at_bound(
    problem: Problem,
    keep: Sequence[np.ndarray],
    busy_k: Sequence[np.ndarray],
    lower: int,
    backend: str,
    clock: Clock,
    presolve: bool,
    tag: str,
) -> tuple[list[int] | None, str]:
    """A choice with bottleneck ``lower`` (a proven lower bound), if the MILP finds one.

    Over the options no slower than ``lower`` any solution meets the bound, so
    it is optimal in phase 1 whatever the solver's own status says.
    """
    at = [k[b <= lower] for k, b in zip(keep, busy_k, strict=True)]
    if any(not a.size for a in at):
        return None, ""
    outcome, _ = _phase1(problem, at, None, backend, clock, presolve, tag)
    status, found, _, msg = outcome
    if status in ("optimal", "feasible") and found is not None:
        return found, f"{msg.split(';')[0]}: a design at the Lagrangian bound"
    return None, msg


@dataclass
class _Prepared:
    """A model ready for its backend: the arrays, and for CBC the PuLP model of them."""

    matrix: matrix.Matrix
    prob: pulp.LpProblem | None = None
    cols: list[pulp.LpVariable] | None = None
    overhead: float = 0.0  # expected time from the solve call to the solver's own start


def _prepare(m: matrix.Matrix, backend: str, name: str, clock: Clock) -> _Prepared:
    """HiGHS takes the arrays as they are; CBC gets them as a PuLP model.

    PuLP then writes CBC's model file in about as long as building it took,
    before CBC's own clock starts: that is the overhead counted against the limit.
    """
    clock.check("while the MILP was built")
    if backend == "highs":
        return _Prepared(m)
    built = time.perf_counter()
    prob = pulp.LpProblem(name, pulp.LpMinimize)
    cols = []
    for i, (lo, up, integer) in enumerate(zip(m.lower, m.upper, m.integer, strict=True)):
        binary = integer and lo == 0 and up == 1
        cat = pulp.LpBinary if binary else pulp.LpInteger if integer else pulp.LpContinuous
        cols.append(_new_var(prob, f"x_{i}", float(lo), None if np.isinf(up) else float(up), cat))
        if i % 4096 == 0:
            clock.check("while the MILP was built")
    nz = np.flatnonzero(m.cost)
    prob += pulp.LpAffineExpression([(cols[i], float(m.cost[i])) for i in nz])
    for r, (ix, vx, lo, up) in enumerate(m.rows()):
        expr = pulp.LpAffineExpression(
            [(cols[i], float(v)) for i, v in zip(ix.tolist(), vx.tolist(), strict=True)]
        )
        if lo == up:
            prob += expr == up, f"r_{r}"
        else:
            prob += expr <= up, f"r_{r}"  # rows here have no finite lower side otherwise
        if r % 256 == 0:
            clock.check("while the MILP was built")
    return _Prepared(m, prob, cols, time.perf_counter() - built)


def _solve_matrix(
    m: _Prepared,
    backend: str,
    seconds: float,
    start: np.ndarray | None,
    tol: _Tol = _Tol(),
    *,
    presolve: bool = True,
) -> tuple[_Run, np.ndarray | None]:
    """Solve a prepared model; the run and, if there is a solution, its column values.

    HiGHS gets no start (see ``README.md``, "Warm start"); CBC gets ``start``.
    """
    if backend != "highs":
        assert m.prob is not None and m.cols is not None
        pulp_start = None if start is None else dict(zip(m.cols, start.tolist(), strict=True))
        run = _solve(m.prob, backend, seconds, pulp_start, tol, presolve=presolve)
        x = None
        if run.sol_status in _SOLVED:
            x = np.array([v.varValue if v.varValue is not None else 0.0 for v in m.cols])
        return run, x
    t = time.perf_counter()
    try:
        with _silent_stdout():
            h = matrix.solve_highs(
                m.matrix,
                seconds,
                gap_abs=tol.gap_abs,
                integrality=tol.integrality,
                feasibility=tol.feasibility,
                presolve=presolve,
            )
    except (RuntimeError, OSError) as exc:
        return _Run(
            pulp.LpSolutionNoSolutionFound, False, None, False, True, f"solver failed: {exc}"
        ), None
    if h.optimal:
        sol = pulp.LpSolutionOptimal
    elif h.x is not None:
        sol = pulp.LpSolutionIntegerFeasible
    elif h.infeasible:
        sol = pulp.LpSolutionInfeasible
    else:
        sol = pulp.LpSolutionNoSolutionFound
    detail = f"HiGHS {h.status} ({time.perf_counter() - t:.3g} s)"
    return _Run(sol, h.infeasible, h.bound, h.timed_out, h.error, detail), h.x


# --------------------------------------------------------------------------- model


def _one_hot(
    prob: pulp.LpProblem,
    keep: Sequence[np.ndarray],
    cost: Sequence[np.ndarray],
    capacity: np.ndarray,
    clock: Clock | None = None,
) -> list[list[pulp.LpVariable]]:
    """Add binaries, one-hot rows and knapsack rows; return z[s][i]."""
    z = []
    for s, k in enumerate(keep):
        z.append([_new_var(prob, f"z_{s}_{int(o)}", 0, 1, pulp.LpBinary) for o in k])
        if clock is not None:
            clock.check("while the MILP was built")
    for s, zs in enumerate(z):
        prob += pulp.lpSum(zs) == 1, f"one_{s}"
    for r, cap in enumerate(capacity):
        terms = [(v, int(c[i, r])) for zs, c in zip(z, cost, strict=True) for i, v in enumerate(zs)]
        terms = [(v, w) for v, w in terms if w]
        if terms and sum(w for _, w in terms) > int(cap):  # else never binding
            prob += pulp.LpAffineExpression(terms) <= int(cap), f"cap_{r}"
    return z


def _new_var(
    prob: pulp.LpProblem, name: str, low: float | None, up: float | None, cat: str
) -> pulp.LpVariable:
    # PuLP >= 3.3 deprecates free-standing LpVariable(...) in favour of the model method.
    if hasattr(prob, "add_variable"):
        return prob.add_variable(name, low, up, cat=cat)
    return pulp.LpVariable(name, low, up, cat=cat)


def _start_values(
    z: list[list[pulp.LpVariable]], local: Sequence[int]
) -> dict[pulp.LpVariable, float]:
    return {v: float(i == h) for zs, h in zip(z, local, strict=True) for i, v in enumerate(zs)}


def _read_choice(z: list[list[pulp.LpVariable]]) -> list[int] | None:
    out = []
    for zs in z:
        vals = np.array([v.varValue if v.varValue is not None else 0.0 for v in zs])
        i = int(np.argmax(vals))
        if vals[i] <= 0.5:
            return None
        out.append(i)
    return out


def _scale(busy: Sequence[np.ndarray], levels: np.ndarray) -> tuple[list[list[int]], int]:
    """Integer busy coefficients for the MILP, and the unit they are counted in.

    Busy times reach 1e11 ps.  Divided by their gcd they usually stay below
    ``_MAX_COEF`` and keep their real proportions (a better LP relaxation).
    Otherwise use each value's rank among the distinct busy values: any strictly
    increasing map leaves the argmin of a max unchanged, and ranks are tiny.
    (With raw 1e10..1e11 coefficients CBC returned wrong "optimal" answers.)
    Returns unit 0 for ranks.  The bottleneck is always recomputed exactly
    from the chosen indices.
    """
    g = int(np.gcd.reduce(levels)) or 1
    if int(levels[-1]) // g <= _MAX_COEF:
        return [[int(v) // g for v in b] for b in busy], g
    return [[int(r) + 1 for r in np.searchsorted(levels, b)] for b in busy], 0


def _lift_bound(bound: float | None, unit: int, levels: np.ndarray) -> int | None:
    """Turn a bound on the model's T into an integer T bound in original units.

    The optimal T is one of the busy values, so the bound is raised to the
    smallest busy value not below it.  ``unit`` 0 means T counts ranks.
    """
    if bound is None or not math.isfinite(bound):
        return None
    x = bound - _BOUND_RTOL * max(1.0, abs(bound))
    # With ranks, rank r (1-based) stands for levels[r - 1].
    i = int(np.searchsorted(levels, x * unit)) if unit else max(math.ceil(x) - 1, 0)
    return int(levels[min(i, len(levels) - 1)])


# --------------------------------------------------------------------------- placement

# (status, choice, bound, message, cuts), as make_result takes them.
_Outcome = tuple[Status, list[int] | None, int | None, str, list[int] | None]


def _solve_placed(
    problem: Problem,
    red: Reduced,
    placed: Placed,
    backend: str,
    clock: Clock,
    hint: Sequence[int] | None,
    hint_cuts: Sequence[int] | None,
) -> _Outcome:
    """Both phases with a placement (README.md, "Placement", MILP).

    Phase 1 starts from the warm start's design, or else minimises a continuous
    T (the period before rounding up) and re-scores its answer exactly. The
    design is then proven by asking for a period one picosecond shorter, in a
    model of only the options that fast (:func:`_faster_than`): "infeasible"
    proves it, a solution is a better design (repeat), and a solution no better
    means the solver's tolerances cannot decide: T is then minimised once (its
    bound may still prove the period), else the design is ``feasible``.
    """
    tag = f"ILP/{backend}"
    # A valid warm start's period bounds the optimum: no slower option is needed.
    warm = placed_warm_start(problem, red, placed, hint, hint_cuts)
    if warm is not None:
        red = red.at_most(problem, warm[0])
    presolve = clock.limit >= _PRESOLVE_SECONDS
    best: tuple[int, list[int], list[int]] | None = warm  # period, choice, cuts
    bound: int | None = None
    minimised = False  # whether the period model has been solved
    tight = False  # whether the question is asked at integrality _TIGHT_INTEGRALITY
    if best is None:
        status, best, bound, msg = _least_period(
            problem, red, placed, backend, clock, hint, hint_cuts
        )
        minimised = True
        if status != "optimal":
            return status, best and best[1], bound, msg, best and best[2]
    # Ask for a period shorter than the best design's: "infeasible" is the proof; a
    # faster design is asked the same of, until none is left.
    while bound is None or bound < best[0]:
        verdict, better, msg = _faster_than(problem, red, placed, backend, clock, best[0], tight)
        if verdict == "proven":
            bound = best[0]
        elif better is not None:
            best = better
        elif verdict == "undecided" and not tight:
            # A binary a tolerance away from 0 or 1 passed a design no faster (the
            # McCormick rows let it hold a fraction of a stage's crossbars): ask again
            # at a tighter integrality (nic_vgg16 at 16 chips: infeasible in 1.7 s).
            tight = True
        elif verdict == "undecided" and not minimised:
            # The tolerances passed a design no faster: minimise T instead, whose
            # bound may prove the period (the decoder loop of tests/test_placement.py).
            status, found, lb, msg = _least_period(
                problem, red, placed, backend, clock, hint, hint_cuts
            )
            minimised = True
            if lb is not None:
                bound = lb if bound is None else max(bound, lb)
            if found is not None and found[0] < best[0]:
                best = found
            if status not in ("optimal", "feasible") and (bound is None or bound < best[0]):
                return "feasible", best[1], bound, msg, best[2]
        else:
            return "feasible", best[1], bound, msg, best[2]

    # ---- phase 2: period <= T* (constant rows), minimise the secondary resource
    t_star, choice1, cuts1 = best
    keep2 = red.at_most(problem, t_star).keep
    sec = problem.secondary
    # Without the chain, the least secondary cost at T* is every stage's cheapest
    # option that fast: a bound on phase 2's optimum, which a design meeting it
    # attains (every placed zoo problem's: phase 2 then costs nothing).
    if problem.evaluate(choice1)[1][sec] == least_cost(problem, keep2, sec):
        msg = f"{tag} period optimal; phase 2: the design's cost is the least at that period"
        return "optimal", choice1, t_star, msg, cuts1
    try:
        built = time.perf_counter()
        model2 = _Chain("secondary", problem, placed, keep2, cap_ps=t_star, clock=clock)
        clock.check("while the phase-2 MILP was built")
        overhead = time.perf_counter() - built
    except OutOfTime as exc:
        return "feasible", choice1, t_star, f"period optimal; {tag} phase 2: {exc}", cuts1
    model2.prob += pulp.LpAffineExpression(
        [
            (v, int(problem.cost[s][o, sec]))
            for s, (zs, k) in enumerate(zip(model2.z, keep2, strict=True))
            for v, o in zip(zs, k, strict=True)
        ]
    )
    local1 = [int(np.flatnonzero(k == o)[0]) for k, o in zip(keep2, choice1, strict=True)]
    left = clock.left(min(MIN_PHASE2_SECONDS, clock.limit), after=overhead)
    run2 = _solve(
        model2.prob,
        backend,
        left,
        model2.start(local1, cuts1),
        _placed_tol(problem.cost),
        presolve=presolve,
        placed=True,
    )
    msg2 = f"{tag} phase 2: {run2.detail}"
    sol2 = None
    if not run2.error and run2.sol_status in _SOLVED:
        sol2 = model2.read()
    if sol2 is not None:
        choice2 = [int(keep2[s][i]) for s, i in enumerate(sol2[0])]
        try:
            ok = placed.period(problem, choice2, sol2[1]) <= t_star
        except ValueError:
            ok = False
        if not ok:
            sol2 = None
    if sol2 is None:
        return "feasible", choice1, t_star, f"period optimal; {msg2}", cuts1
    if run2.sol_status == pulp.LpSolutionOptimal:
        return "optimal", choice2, t_star, f"{tag} optimal in both phases", sol2[1]
    if problem.evaluate(choice1)[1][sec] < problem.evaluate(choice2)[1][sec]:
        return "feasible", choice1, t_star, f"period optimal; {msg2}", cuts1
    return "feasible", choice2, t_star, f"period optimal; {msg2}", sol2[1]


_SOLVED = (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)


def _least_period(
    problem: Problem,
    red: Reduced,
    placed: Placed,
    backend: str,
    clock: Clock,
    hint: Sequence[int] | None,
    hint_cuts: Sequence[int] | None,
) -> tuple[Status, tuple[int, list[int], list[int]] | None, int | None, str]:
    """Minimise the continuous T over the period model (README.md, "Placement", MILP).

    Returns the solver's status, its design (period, choice, cuts) re-scored
    exactly, if any, and the period bound its bound proves.
    """
    tag = f"ILP/{backend} phase 1"
    keep = red.keep
    built = time.perf_counter()
    model = _Chain("period", problem, placed, keep, clock=clock)
    clock.check("while the MILP was built")
    overhead = time.perf_counter() - built
    if clock.left(0.0) < overhead:
        raise OutOfTime("before the MILP could be handed to the solver")
    local = red.hint_local(hint)
    start = None
    if local is not None and all(h is not None for h in local):
        start = model.start([int(h) for h in local if h is not None], hint_cuts)
    run = _solve(
        model.prob,
        backend,
        clock.left(after=overhead),
        start,
        _placed_tol(problem.cost, _PLACED_GAP_PS / model.unit),
        presolve=clock.limit >= _PRESOLVE_SECONDS,
        placed=True,
    )
    msg = f"{tag}: {run.detail}"
    if run.infeasible and not run.error:
        return "infeasible", None, None, f"infeasible: {msg}"
    bound = _bound_below(run.bound, model.unit, model.cap_ps)
    if run.error or run.sol_status not in _SOLVED:
        return ("timeout" if run.timed_out and not run.error else "error"), None, bound, msg
    sol = model.read()
    if sol is None:
        return "error", None, bound, f"{msg}; solution is not one-hot"
    choice = [int(keep[s][i]) for s, i in enumerate(sol[0])]
    try:
        design = (placed.period(problem, choice, sol[1]), choice, sol[1])
    except ValueError as exc:
        return "error", None, bound, f"{msg}; invalid chip boundaries ({exc})"
    if run.sol_status != pulp.LpSolutionOptimal:
        return "feasible", design, bound, f"{msg}; period not proven optimal"
    return "optimal", design, bound, msg


def _faster_than(
    problem: Problem,
    red: Reduced,
    placed: Placed,
    backend: str,
    clock: Clock,
    period: int,
    tight: bool = False,
) -> tuple[str, tuple[int, list[int], list[int]] | None, str]:
    """Whether a design of period below ``period`` exists (README.md, "Placement", MILP).

    The model holds only the options of busy at most ``period - 1`` and that
    constant in every link row, with no objective: smaller than the period model
    capped there, which it replaces (video_lstm at 8 chips: infeasible at HiGHS's
    root in 0.2 s, against 11 s for the capped period model). Returns
    ``("proven", None, msg)`` when none exists, ``("better", design, msg)`` with a
    faster design (period, choice, cuts), ``("undecided", None, msg)`` when the
    solver's tolerances pass a design no faster, and ``("stopped", None, msg)``
    when the solver stopped without an answer. ``tight`` asks HiGHS for
    integrality to ``_TIGHT_INTEGRALITY``.
    """
    tag = f"ILP/{backend} phase 1"
    cap = period - 1
    fast = red.at_most(problem, cap)
    if any(k.size == 0 for k in fast.keep):  # some stage has no option that fast
        return "proven", None, f"{tag}: no option of some stage is faster than {period} ps"
    x = [problem.cost[s][k, 0] for s, k in enumerate(fast.keep)]
    if placed.shortfall([int(v.min()) for v in x], [int(v.max()) for v in x]) is not None:
        return "proven", None, f"{tag}: the options faster than {period} ps do not fit"
    built = time.perf_counter()
    model = _Chain("faster", problem, placed, fast.keep, cap_ps=cap, clock=clock)
    model.prob += pulp.LpAffineExpression([])  # any design will do
    clock.check("while the MILP was built")
    overhead = time.perf_counter() - built
    if clock.left(0.0) < overhead:
        return "stopped", None, f"{tag}: no time left once the MILP was built"
    tol = _placed_tol(problem.cost)
    if tight:
        tol = _Tol(min(tol.integrality, _TIGHT_INTEGRALITY), tol.feasibility, tol.gap_abs)
    run = _solve(
        model.prob,
        backend,
        clock.left(after=overhead),
        None,
        tol,
        presolve=clock.limit >= _PRESOLVE_SECONDS,
        placed=True,
    )
    msg = f"{tag}: {run.detail}"
    if run.infeasible and not run.error:
        return "proven", None, msg
    if run.error or run.sol_status not in _SOLVED:
        return "stopped", None, f"{msg}; period not proven optimal"
    sol = model.read()
    if sol is None:
        return "stopped", None, f"{msg}; solution is not one-hot"
    choice = [int(fast.keep[s][i]) for s, i in enumerate(sol[0])]
    try:
        found = placed.period(problem, choice, sol[1])
    except ValueError:
        return "undecided", None, f"{msg}; invalid chip boundaries"
    if found >= period:
        return "undecided", None, f"{msg}; tolerances cannot prove the period"
    return "better", (found, choice, sol[1]), msg


def _bound_below(bound: float | None, unit: int, cap_ps: int) -> int | None:
    """An integer period bound from phase 1's bound on T (``unit`` ps), below ``cap_ps``.

    A bound found with the period capped at ``cap_ps`` holds for the designs
    under the cap; those over it are at least ``cap_ps + 1``.
    """
    if bound is None or not math.isfinite(bound):
        return None
    ps = bound * unit
    return min(max(math.ceil(ps - _BOUND_RTOL_PLACED * max(1.0, abs(ps))), 0), cap_ps + 1)


class _Chain:
    """The one-hot MILP with the chain of chips (README.md, "Placement", MILP).

    Without ``cap_ps`` the period is a continuous variable ``T`` (in units of
    ``unit`` ps) and the objective; with it, every link row has the constant
    right side ``cap_ps`` and the caller sets the objective.
    """

    def __init__(
        self,
        name: str,
        problem: Problem,
        placed: Placed,
        keep: Sequence[np.ndarray],
        cap_ps: int | None = None,
        clock: Clock | None = None,
    ) -> None:
        # Building the chain's rows through PuLP takes seconds on the zoo at 16 chips:
        # the clock is checked per boundary and stage, not only once it is built.
        doing = f"while the {'phase-2 ' if cap_ps is not None else ''}MILP was built"
        check = (lambda: clock.check(doing)) if clock is not None else (lambda: None)
        self.problem, self.placed, self.keep = problem, placed, keep
        place = placed.place
        prob = pulp.LpProblem(name, pulp.LpMinimize)
        self.prob = prob
        busy = [problem.busy[s][k] for s, k in enumerate(keep)]
        cost = [problem.cost[s][k] for s, k in enumerate(keep)]
        self.z = _one_hot(prob, keep, cost, problem.capacity)
        self.x = [c[:, 0] for c in cost]
        self.copies = [place.copies[s][k] for s, k in enumerate(keep)]
        x_lo = [int(x.min()) for x in self.x]
        x_hi = [int(x.max()) for x in self.x]
        crossbars = [
            pulp.LpAffineExpression([(v, int(w)) for v, w in zip(zs, x, strict=True) if w])
            for zs, x in zip(self.z, self.x, strict=True)
        ]
        chip, n_stages = placed.chip_capacity, problem.n_stages
        if sum(x_hi) > place.chips * chip:  # implied by the chips below; stated for the LP
            prob += pulp.lpSum(crossbars) <= place.chips * chip, "chain"

        t_lo = max(int(b.min()) for b in busy)  # no period is shorter
        if cap_ps is None:
            t_hi = max(max(int(b.max()) for b in busy), placed.max_link_ps())
        else:
            t_hi = cap_ps
        self.unit = _period_unit(busy, t_hi)
        self.cap_ps = t_hi
        self.t_var = None
        if cap_ps is None:
            self.t_var = _new_var(prob, "T", t_lo / self.unit, t_hi / self.unit, pulp.LpContinuous)
            prob += self.t_var
            for s, (zs, b) in enumerate(zip(self.z, busy, strict=True)):
                terms = [(v, int(w) / self.unit) for v, w in zip(zs, b, strict=True) if w]
                prob += pulp.LpAffineExpression(terms) <= self.t_var, f"T_{s}"
        floor = t_lo if cap_ps is None else cap_ps  # rows below this never bind

        # Where each boundary lies (README.md): binaries
        # y[c][k] = "boundary c lies after stage k" (k = -1: after the start),
        # nonincreasing in k; it lies in stage k iff y[c][k-1] - y[c][k] = 1.
        # Its position is sum_k X_k·y[c][k] plus the offset in its stage. In the
        # period model, without big-M, the products are eta = z·y (sum_o eta_o = y,
        # eta_o <= z_o), and inside a stage
        # the offset and the option are disaggregated per option (v, nv, rv
        # vanish unless that option holds the boundary), so each link row is
        # exact with no big-M either.
        total = pulp.lpSum(crossbars)
        # With the period a constant, each stage's crossbars are one variable X_k, and a
        # boundary's position is sum_k P_ck with P_ck = X_k·y[c][k] by McCormick rows
        # (exact with y binary), not eta per option: on s2vt at 16 chips (3,090 options
        # in its first stage) the model shrank from 81,782 rows to 1,317 and HiGHS proves
        # it at its root, where the LP of the eta model alone took 13 s.
        self.xvar: list[Any] = []
        if cap_ps is not None:
            for k, row in enumerate(crossbars):
                self.xvar.append(_new_var(prob, f"X_{k}", x_lo[k], x_hi[k], pulp.LpContinuous))
                prob += self.xvar[k] == row, f"X_{k}"
        self.products: list[dict[int, Any]] = []  # P_ck, the constant-period models
        self.held: list[dict[int, Any]] = []  # H_ck, see _compact
        self.after: list[dict[int, Any]] = []
        self.parts: list[dict[int, list[tuple[Any, Any, Any]]]] = []
        self.eta: list[dict[int, list[Any]]] = []
        self.offsets: list[dict[int, tuple[Any, Any]]] = []
        self.q: list[pulp.LpAffineExpression] = []
        # Never at the start (symmetry, as in CP-SAT): an empty first chip, moved to the
        # end of the chain, leaves every link's traffic as it was. Allowed, a fractional
        # boundary partly at the start (where nothing crosses) kept the LP feasible.
        for c, spot in enumerate(placed.spots(x_lo, x_hi), 1):
            check()
            places = [
                *([-1] if spot.at_start and not (spot.stages or spot.at_end) else []),
                *spot.stages,
                *([n_stages] if spot.at_end else []),
            ]
            after: dict[int, Any] = {}
            for k in range(-1, n_stages):
                if places[0] > k:
                    after[k] = 1
                elif places[-1] <= k:
                    after[k] = 0
                elif k >= 0 and k not in spot.stages:  # not in stage k: after k iff after k - 1
                    after[k] = after[k - 1]
                else:
                    after[k] = _new_var(prob, f"y_{c}_{k}", 0, 1, pulp.LpBinary)
                    if k > -1 and not isinstance(after[k - 1], int):
                        prob += after[k] <= after[k - 1], f"y_{c}_{k}"
            eta: dict[int, list[Any]] = {}
            products: dict[int, Any] = {}
            position = []
            for k in range(n_stages):
                y = after[k]
                if isinstance(y, int):
                    if y and self.xvar:
                        position.append((self.xvar[k], 1))
                    elif y:
                        position += [
                            (zv, int(w)) for zv, w in zip(self.z[k], self.x[k], strict=True)
                        ]
                    continue
                if self.xvar:
                    products[k] = self._product(f"{c}_{k}", k, y, x_lo[k], x_hi[k])
                    position.append((products[k], 1))
                    continue
                e = [
                    _new_var(prob, f"eta_{c}_{k}_{o}", 0, 1, pulp.LpContinuous)
                    for o in range(len(self.z[k]))
                ]
                for o, (ev, zv) in enumerate(zip(e, self.z[k], strict=True)):
                    prob += ev <= zv, f"eta_{c}_{k}_{o}"
                prob += pulp.lpSum(e) == y, f"eta_{c}_{k}"
                eta[k] = e
                position += [(ev, int(w)) for ev, w in zip(e, self.x[k], strict=True)]
            parts: dict[int, list[tuple[Any, Any, Any]]] = {}
            offsets: dict[int, tuple[Any, Any]] = {}
            held: dict[int, Any] = {}
            traffic: list[tuple[Any, float]] = []  # the link's busy time in ps
            for k in spot.stages:
                check()
                w = after[k - 1] - after[k]
                if cap_ps is not None and place.per_copy[k] and not place.atomic[k]:
                    offsets[k], h = self._compact(f"{c}_{k}", k, w, cap_ps, x_hi[k], position)
                    if h is not None:
                        held[k] = h
                    continue
                per_option = []
                for o, (zv, d, xo) in enumerate(
                    zip(self.z[k], self.copies[k], self.x[k], strict=True)
                ):
                    d, tag = int(d), f"{c}_{k}_{o}"
                    v = _new_var(prob, f"v_{tag}", 0, 1 if xo else 0, pulp.LpContinuous)
                    prob += v <= zv, f"vz_{tag}"
                    if place.atomic[k]:  # at its end: offset X_k, the boundary traffic
                        position.append((v, int(xo)))
                        per_option.append((v, None, None))
                        continue
                    p = place.unit(k, int(xo))
                    nv = _new_var(prob, f"nv_{tag}", 0, d, pulp.LpContinuous)
                    rv = _new_var(prob, f"rv_{tag}", 0, p - 1, pulp.LpContinuous)
                    prob += nv <= d * v, f"nmax_{tag}"
                    prob += rv <= (p - 1) * v, f"rmax_{tag}"
                    prob += p * nv + rv >= v, f"umin_{tag}"
                    prob += p * nv + rv <= d * p * v, f"umax_{tag}"
                    position += [(nv, p), (rv, 1)]
                    a_n, a_r, a_t, const = placed.link_row(k, d, x=p)
                    traffic += [(nv, a_n / a_t), (rv, a_r / a_t), (v, const / a_t)]
                    if placed.link_row(k, d, floor, x=p) is not None:
                        if self.t_var is None:
                            row = [(nv, a_n), (rv, a_r), (v, const - a_t * cap_ps)]
                        else:
                            row = [(nv, a_n), (rv, a_r), (v, const), (self.t_var, -a_t * self.unit)]
                        prob += _scaled(row) <= 0, f"link_{tag}"
                    per_option.append((v, nv, rv))
                parts[k] = per_option
                prob += pulp.lpSum(t[0] for t in per_option) == w, f"one_{c}_{k}"
                if place.atomic[k]:
                    bits = placed.boundary[k]
                    ps = float(Fraction(placed.den * bits, placed.num))
                    traffic += [(t[0], ps) for t in per_option]
                    if link_busy(place, bits) > floor:
                        if self.t_var is None:
                            # the cut after it is too slow
                            prob += pulp.lpSum(t[0] for t in per_option) <= 0, f"link_{c}_{k}"
                        else:
                            g = _row_divisor([placed.den * bits, placed.num * self.unit])
                            prob += (
                                placed.den * bits / g * w
                                <= placed.num * self.unit / g * self.t_var,
                                f"link_{c}_{k}",
                            )
                    continue
                # Integer offsets: the disaggregated ones are integral once one option holds.
                p = max(place.unit(k, int(xo)) for xo in self.x[k])
                n = _new_var(prob, f"n_{c}_{k}", 0, int(self.copies[k].max()), pulp.LpInteger)
                r = _new_var(prob, f"r_{c}_{k}", 0, p - 1, pulp.LpInteger)
                prob += n == pulp.lpSum(t[1] for t in per_option), f"n_{c}_{k}"
                prob += r == pulp.lpSum(t[2] for t in per_option), f"r_{c}_{k}"
                offsets[k] = (n, r)
            # Redundant, for the LP: the link's busy time summed over the places
            # (one holds in an integer solution, a convex mix in the LP, which the
            # separate exact rows above would let each see only its share of).
            traffic = [(v, x) for v, x in traffic if x]
            if traffic:
                busy = pulp.LpAffineExpression(traffic)
                if self.t_var is None:
                    prob += busy <= cap_ps, f"link_{c}"
                else:
                    prob += busy <= self.unit * self.t_var, f"link_{c}"
            self.q.append(pulp.LpAffineExpression(position))
            self.after.append(after)
            self.eta.append(eta)
            self.products.append(products)
            self.held.append(held)
            self.parts.append(parts)
            self.offsets.append(offsets)

        ends = [0, *self.q, total]
        for c, (a, b) in enumerate(itertools.pairwise(ends)):
            prob += b - a <= chip, f"chip_{c}"
            if 0 < c < len(self.q):
                prob += a <= b, f"order_{c}"
        for c, (a, b) in enumerate(itertools.pairwise(self.after)):  # redundant: places in order
            for k in range(-1, n_stages):
                if not (isinstance(a[k], int) and isinstance(b[k], int)):
                    prob += a[k] <= b[k], f"places_{c}_{k}"
        if cap_ps is not None:
            self._runs(cap_ps)

    def _runs(self, cap_ps: int) -> None:
        """Redundant, for the LP: what lies between two consecutive boundaries fits one chip.

        One row per :meth:`Placed.runs`. The separate link rows let a fractional
        boundary dodge it: nic at 16 chips, whose proof question took HiGHS 23 s,
        is infeasible at its root.
        """
        for i, run in enumerate(self.placed.runs(self.x, self.copies, cap_ps)):
            row = [(self.xvar[m], 1) for m in run.whole]
            for part in (run.tail, run.head):
                if part is not None:
                    row += list(zip(self.z[part[0]], part[1], strict=True))
            row = [t for t in row if t[1]]
            self.prob += pulp.LpAffineExpression(row) <= self.placed.chip_capacity, f"run_{i}"

    def _product(self, tag: str, k: int, y: Any, lo: int, hi: int) -> Any:
        """``P = X_k·y`` for a binary ``y`` and ``lo <= X_k <= hi``: McCormick's four rows."""
        prob, x = self.prob, self.xvar[k]
        v = _new_var(prob, f"P_{tag}", 0, hi, pulp.LpContinuous)
        prob += v <= x, f"Pa_{tag}"
        prob += v <= hi * y, f"Pb_{tag}"
        prob += v >= x - hi + hi * y, f"Pc_{tag}"
        if lo:
            prob += v >= lo * y, f"Pd_{tag}"
        return v

    def _compact(
        self, tag: str, k: int, w: Any, cap_ps: int, hi: int, position: list[tuple[Any, int]]
    ) -> tuple[tuple[Any, Any], Any]:
        """A boundary inside stage ``k`` (cut by copies) with the period a constant.

        The link row is then linear in the stage's crossbars (``Placed.fixed_row``),
        ``a_x·X_k + a_n·n + a_r·r <= 0``, the same for every option, with one integer
        offset ``n·p + r`` (zero unless the boundary lies in the stage, ``w = 1``).
        Where ``a_x <= 0`` the row holds at ``n = r = 0`` and needs nothing more;
        otherwise it is written in ``H >= X_k - hi·(1 - w)`` (``H = X_k`` at ``w = 1``,
        0 otherwise). Both are exact with ``w`` binary, without a variable per option.
        Returns the offset ``(n, r)`` and ``H`` (or None).
        """
        prob, place = self.prob, self.placed.place
        p, x = place.per_copy[k], self.xvar[k]
        most = int(self.copies[k].max())
        n = _new_var(prob, f"n_{tag}", 0, most, pulp.LpInteger)
        r = _new_var(prob, f"r_{tag}", 0, p - 1, pulp.LpInteger)
        prob += n <= most * w, f"nmax_{tag}"
        prob += r <= (p - 1) * w, f"rmax_{tag}"
        prob += p * n + r >= w, f"umin_{tag}"
        prob += p * n + r <= x, f"umax_{tag}"
        position += [(n, p), (r, 1)]
        row = self.placed.fixed_row(k, cap_ps)
        h = None
        if row is not None:
            a_x, a_n, a_r = row
            if a_x > 0:
                h = _new_var(prob, f"H_{tag}", 0, hi, pulp.LpContinuous)
                prob += h >= x - hi + hi * w, f"H_{tag}"
            prob += (
                _scaled([(h if h is not None else x, a_x), (n, a_n), (r, a_r)]) <= 0,
                (f"link_{tag}"),
            )
        return (n, r), h

    def read(self) -> tuple[list[int], list[int]] | None:
        """Chosen option positions and chip boundaries, or None if not one-hot."""
        local = _read_choice(self.z)
        if local is None:
            return None
        return local, [round(pulp.value(q) or 0.0) for q in self.q]

    def start(self, local: list[int], cuts: Sequence[int] | None) -> dict[pulp.LpVariable, float]:
        """A MIP start: the options, and with valid ``cuts`` every chain variable."""
        values = _start_values(self.z, local)
        choice = [int(k[i]) for k, i in zip(self.keep, local, strict=True)]
        crossbars = [int(x[i]) for x, i in zip(self.x, local, strict=True)]
        period = None
        if cuts is not None:
            # Empty first chips moved to the end: no boundary lies at the start.
            cuts = [int(q) for q in cuts if q > 0] + [sum(crossbars)] * sum(q <= 0 for q in cuts)
            with contextlib.suppress(ValueError):  # not a valid placement: options only
                period = self.placed.period(self.problem, choice, cuts)
        if self.t_var is not None:
            slowest = max(int(self.problem.busy[s][o]) for s, o in enumerate(choice))
            t = (period if period is not None else slowest) / self.unit
            values[self.t_var] = min(max(t, self.t_var.lowBound), self.t_var.upBound)
        if period is None or cuts is None:
            return values
        for x, b in zip(self.xvar, crossbars, strict=False):  # none in the period model
            values[x] = float(b)
        for cut, after, eta, products, held, parts, offsets in zip(
            cuts,
            self.after,
            self.eta,
            self.products,
            self.held,
            self.parts,
            self.offsets,
            strict=True,
        ):
            k, n, r = self.placed.locate(crossbars, int(cut))
            for j, y in after.items():
                if not isinstance(y, int):
                    values[y] = float(k > j)
            for j, v in products.items():
                values[v] = float(crossbars[j]) if k > j else 0.0
            for j, v in held.items():
                values[v] = float(crossbars[j]) if k == j else 0.0
            for j, e in eta.items():
                for o, ev in enumerate(e):
                    values[ev] = float(k > j and o == local[j])
            for j, per_option in parts.items():
                for o, (v, nv, rv) in enumerate(per_option):
                    on = j == k and o == local[j]
                    values[v] = float(on)
                    if nv is not None:
                        values[nv], values[rv] = (float(n), float(r)) if on else (0.0, 0.0)
            for j, (n_var, r_var) in offsets.items():
                values[n_var], values[r_var] = (float(n), float(r)) if j == k else (0.0, 0.0)
        return values


def _row_divisor(coefficients: Sequence[int]) -> int:
    """The power of two bringing the largest of a row's integer coefficients to at most
    ``_MAX_ROW_COEF`` (1 if it already is)."""
    top = max((abs(int(a)) for a in coefficients), default=0)
    return 1 << max(0, math.ceil(math.log2(top / _MAX_ROW_COEF))) if top > _MAX_ROW_COEF else 1


def _scaled(row: Sequence[tuple[Any, int]]) -> pulp.LpAffineExpression:
    """``sum a·x`` of integer coefficients, divided by :func:`_row_divisor` (exactly)."""
    g = _row_divisor([a for _, a in row])
    return pulp.LpAffineExpression([(x, a / g if g > 1 else a) for x, a in row if a])


def _period_unit(busy: Sequence[np.ndarray], t_hi: int) -> int:
    """Picoseconds per unit of T: the busy times' gcd if that keeps T below ``_MAX_COEF``,
    else a power of two (dividing by it is exact in floating point)."""
    levels = np.unique(np.concatenate(busy))
    g = int(np.gcd.reduce(levels)) or 1
    if t_hi // g <= _MAX_COEF:
        return g
    return 1 << max(0, math.ceil(math.log2(max(t_hi, 1) / _MAX_COEF)))


# --------------------------------------------------------------------------- backends


@dataclass
class _Run:
    sol_status: int  # prob.sol_status: tells optimal / feasible-at-limit / none
    infeasible: bool  # proven (CBC's "Integer infeasible" leaves sol_status at 0)
    bound: float | None
    timed_out: bool
    error: bool
    detail: str


def _infeasible(prob: pulp.LpProblem) -> bool:
    return prob.sol_status == pulp.LpSolutionInfeasible or prob.status == pulp.LpStatusInfeasible


def _no_solution(prob: pulp.LpProblem) -> bool:
    ok = (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    return prob.sol_status not in ok and not _infeasible(prob)


def _solve(
    prob: pulp.LpProblem,
    backend: str,
    seconds: float,
    start: dict[pulp.LpVariable, float] | None,
    tol: _Tol = _Tol(),
    *,
    presolve: bool = True,
    placed: bool = False,
) -> _Run:
    t = time.perf_counter()
    try:
        if backend == "highs":
            run = _solve_highs(prob, seconds, tol, presolve)
        else:
            run = _solve_cbc(prob, seconds, start, tol, preprocess=not placed)
    except (pulp.PulpSolverError, OSError) as exc:
        return _Run(
            pulp.LpSolutionNoSolutionFound, False, None, False, True, f"solver failed: {exc}"
        )
    run.detail += f" ({time.perf_counter() - t:.3g} s)"
    return run


_PRESOLVE_SECONDS = 10.0
# From a warm start HiGHS's presolve pays off only on large models: its probing
# took 16 of the 20 s of s2vt's proof at 10 chips (11,827 options; 0.3 s without),
# while the 1,000-layer chains (118,000-122,000 options) prove in 1.3-1.6 s with it
# and 8-11 s without; at 36,000 options (300 layers) it was 0.3 vs 2.1 s at 1 chip
# and 1.5 vs 1.0 s at 4.
_PRESOLVE_OPTIONS = 30_000


def _solve_highs(prob: pulp.LpProblem, seconds: float, tol: _Tol, presolve: bool) -> _Run:
    # No MIP start: PuLP's HiGHS wrapper ignores warmStart, and handing highspy
    # a start via setSolution made HiGHS 1.16 return a wrong "Optimal" (objective
    # below the true optimum, solution = the start) on a two-resource instance.
    # Resource rows carry coefficients up to ~1e7 (power in µW): at HiGHS's default
    # integrality tolerance (1e-6) a "binary" of 1 − 1e-6 hides 10 units of a row, and
    # the rounded choice can break a tight budget. 1e-10 keeps that below one unit
    # (with a placement see _placed_tol).
    # HiGHS's own limit starts only once PuLP has converted the model: its interrupt
    # callbacks stop it at the wall-clock deadline instead (presolve, below, checks
    # neither).
    import highspy

    deadline = time.monotonic() + float(seconds)
    kinds = highspy.cb.HighsCallbackType

    def interrupt(kind: int, message: str, out: Any, into: Any, data: Any) -> None:
        if time.monotonic() > deadline:
            into.user_interrupt = True

    solver = _DeadlineHiGHS(
        deadline,
        msg=False,
        timeLimit=float(seconds),
        gapRel=0.0,
        gapAbs=tol.gap_abs,
        callbackTuple=(interrupt, None),
        callbacksToActivate=[
            kinds.kCallbackSimplexInterrupt,
            kinds.kCallbackIpmInterrupt,
            kinds.kCallbackMipInterrupt,
        ],
        mip_feasibility_tolerance=tol.integrality,
        primal_feasibility_tolerance=tol.feasibility,
        # Presolve ignores both the time limit and the interrupt (2.4 s on s2vt given
        # 0.3 s): it runs only when the whole limit is at least _PRESOLVE_SECONDS.
        # (Without it s2vt proves in 4.3 s instead of 7.2 s, but the 4,500-option
        # pipeline of tests/test_formulations.py in 5.0 s instead of 0.7 s.)
        presolve="choose" if presolve else "off",
    )
    try:
        with _silent_stdout():
            prob.solve(solver)
    except _Left:
        return _Run(
            pulp.LpSolutionNoSolutionFound, False, None, True, False, "HiGHS still running: left"
        )
    h = prob.solverModel
    status = h.getModelStatus()
    name = h.modelStatusToString(status)
    info = h.getInfo()
    bound = float(info.mip_dual_bound)
    timed_out = status in _highs_limit_statuses()
    sol_status = prob.sol_status
    if timed_out and info.primal_solution_status != 2:  # kSolutionStatusFeasible
        sol_status = pulp.LpSolutionNoSolutionFound  # stopped before any integer solution
    error = _no_solution(prob) and not timed_out
    if sol_status == pulp.LpSolutionOptimal:
        bound = float(info.objective_function_value) if not math.isfinite(bound) else bound
    return _Run(sol_status, _infeasible(prob), bound, timed_out, error, f"HiGHS {name}")


class _Left(Exception):
    """HiGHS was still running half a second past the deadline (matrix.run_until)."""


class _DeadlineHiGHS(pulp.HiGHS):
    """PuLP's HiGHS, run in highspy's solver thread and left at the deadline (matrix.run_until)."""

    def __init__(self, deadline: float, **options: Any) -> None:
        super().__init__(**options)
        self.deadline = deadline

    def callSolver(self, lp: pulp.LpProblem) -> None:  # PuLP names it
        if not matrix.run_until(lp.solverModel, self.deadline):
            raise _Left


@contextlib.contextmanager
def _silent_stdout() -> Iterator[None]:
    """Silence file descriptor 1 while HiGHS runs.

    HiGHS prints its banner from C++ when a solver is created, whatever
    ``msg`` says; on stdout it would corrupt a caller's JSON output.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


@functools.cache
def _highs_limit_statuses() -> tuple[Any, ...]:
    import highspy

    s = highspy.HighsModelStatus
    return (s.kTimeLimit, s.kInterrupt, s.kIterationLimit)


@functools.cache
def _system_cbc() -> bool:
    return "COIN_CMD" in pulp.listSolvers(onlyAvailable=True)


# CBC checks its time limit between nodes only: in its heuristics or cut loops
# it has run minutes past it on placed models. A guard interrupts it (CBC then
# stops and writes its best solution) this long after the limit, and kills it
# as long again later.
_GRACE_SECONDS = 0.5

_GUARD = """#!{python}
import os, signal, subprocess, sys, time
p = subprocess.Popen([{cbc!r}, *sys.argv[1:]])
for until, sig in (({deadline!r}, signal.SIGINT), ({deadline!r} + {grace!r}, signal.SIGKILL)):
    try:
        sys.exit(p.wait(max(until - time.time(), 0.0)))
    except subprocess.TimeoutExpired:
        open({marker!r}, "w").close()
        p.send_signal(sig)
sys.exit(p.wait())
"""


# What CBC prints when it has decided infeasibility (its summary, presolve or
# preprocessing). "infeasible or unbounded" is infeasible here: every model is
# bounded (binaries, and T >= 0 minimised).
_CBC_INFEASIBLE = re.compile(
    r"Problem is infeasible|proven infeasible|Integer infeasible|Linear relaxation infeasible"
    r"|Presolve determined that the problem was infeasible|Pre-processing says infeasible",
    re.IGNORECASE,
)


def _guard(tmp: str, cbc: str, seconds: float, marker: str) -> str:
    """An executable in ``tmp`` that runs ``cbc`` and stops it past ``seconds`` (see above)."""
    path = os.path.join(tmp, "cbc-guard")
    # A wall-clock deadline, not a duration: PuLP writes the model file and CBC reads
    # it (seconds at 1,000 stages) before CBC's own clock starts.
    deadline = time.time() + float(seconds) + _GRACE_SECONDS
    text = _GUARD.format(
        python=sys.executable, cbc=cbc, deadline=deadline, grace=_GRACE_SECONDS, marker=marker
    )
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o700)
    return path


def _solve_cbc(
    prob: pulp.LpProblem,
    seconds: float,
    start: dict[pulp.LpVariable, float] | None,
    tol: _Tol,
    preprocess: bool = True,
) -> _Run:
    # Without a placement CBC's preprocessing (CglPreProcess) is left on. With one it
    # is off: on a 10-stage, 4-chip chain's phase-2 model it called a design of 1,113
    # crossbars optimal where HiGHS (and CBC without it) found 649, and with presolve
    # also off it declared the model infeasible.
    if start:
        for v in prob.variables():
            v.setInitialValue(start.get(v, 0.0))
    with tempfile.TemporaryDirectory() as tmp:
        log_path = os.path.join(tmp, "cbc.log")
        kw: dict[Any, Any] = dict(
            msg=False,
            timeLimit=float(seconds),
            gapRel=0.0,
            gapAbs=tol.gap_abs,
            warmStart=bool(start),
            logPath=log_path,
            options=[] if preprocess else ["preprocess off"],
        )
        if _system_cbc():
            solver = pulp.COIN_CMD(**kw)
        else:
            with warnings.catch_warnings():  # PuLP 3.x deprecates the bundled CBC
                warnings.simplefilter("ignore", DeprecationWarning)
                solver = pulp.PULP_CBC_CMD(**kw)
        marker = os.path.join(tmp, "stopped")
        solver.path = _guard(tmp, solver.path, seconds, marker)
        try:
            prob.solve(solver)
        except pulp.PulpSolverError:
            if not os.path.exists(marker):
                raise
            return _Run(
                pulp.LpSolutionNoSolutionFound, False, None, True, False,
                f"CBC did not stop at its time limit and was killed {_GRACE_SECONDS} s later",
            )  # fmt: skip
        with open(log_path, errors="replace") as f:
            log = f.read()
        interrupted = os.path.exists(marker)
    # The summary line is "Result - ..." after branch and bound, or e.g.
    # "Problem is infeasible - 0.00 seconds" when the LP already decides.
    result = re.search(r"^(?:Result - (.*)|(Problem is .*?)(?: - [\d.]+ seconds)?)$", log, re.M)
    summary = (result.group(1) or result.group(2)).strip() if result else "status unknown"
    detail = f"CBC {summary}"
    timed_out = interrupted or bool(re.search(r"Stopped on (time|iterations|nodes)", log))
    bound = None
    if prob.sol_status == pulp.LpSolutionOptimal:
        bound = pulp.value(prob.objective)
    else:
        m = re.search(r"^Lower bound:\s*(\S+)", log, re.MULTILINE)
        if m:
            try:
                bound = float(m.group(1))
            except ValueError:
                bound = None
    # Infeasible only with CBC's own proof in its log: PuLP also reads a run that stopped
    # undecided (no summary line) as infeasible, which is a timeout, not an answer.
    infeasible = _infeasible(prob) and bool(_CBC_INFEASIBLE.search(log))
    if _infeasible(prob) and not infeasible:
        timed_out = True
        detail += " (stopped without a proof either way)"
    error = _no_solution(prob) and not timed_out and not infeasible
    if error and not result:
        detail += "; " + " | ".join(log.strip().splitlines()[-3:])
    return _Run(prob.sol_status, infeasible, bound, timed_out, error, detail)
