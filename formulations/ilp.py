"""One-hot MILP of the min-max multiple-choice knapsack, solved through PuLP.

Backends: HiGHS (in-process via ``highspy``) and CBC (the binary bundled with
PuLP, or a system ``cbc``).  See ``README.md`` for the maths.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import re
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pulp

from formulations.problem import (
    MIN_PHASE2_SECONDS,
    check_hint,
    check_problem,
    reduce_options,
)
from formulations.result import FormulationResult, make_result

# Objectives are integral in model units (scaled busy / integer cost), so any
# absolute gap below 1 proves optimality; 0.5 leaves room for float tolerances.
_GAP_ABS = 0.5
# Relative slack applied to solver-reported bounds before rounding them up, to
# absorb LP tolerances and CBC's printed precision (keeps the bound valid).
_BOUND_RTOL = 1e-6

# Largest busy coefficient (after dividing by the gcd) handed to the MILP as is.
_MAX_COEF = 10**6

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

    Returns
    -------
    FormulationResult
        Never raises for infeasible instances or time-outs; an unavailable
        backend gives status ``"error"``.

    Raises
    ------
    ValueError
        On malformed arrays or hint, or an unknown backend name.
    """
    t0 = time.perf_counter()
    if backend not in _PULP_NAMES:
        raise ValueError(f"unknown backend {backend!r}; expected one of {list(_PULP_NAMES)}")
    problem = check_problem(busy, cost, capacity, secondary, time_limit)
    hint = check_hint(problem, hint)

    def done(status: str, choice: Sequence[int] | None, bound: int | None, msg: str):
        return make_result(problem, status, choice, bound, time.perf_counter() - t0, msg)

    if backend not in _available():
        return done("error", None, None, f"ILP backend {backend!r} is not available")
    red = reduce_options(problem)
    if red.empty_stage is not None:
        return done(
            "infeasible",
            None,
            None,
            f"infeasible: every option of stage {red.empty_stage} alone exceeds the capacity",
        )

    keep = red.keep
    busy_k = [problem.busy[s][k] for s, k in enumerate(keep)]
    cost_k = [problem.cost[s][k] for s, k in enumerate(keep)]
    levels = np.unique(np.concatenate(busy_k))  # ascending distinct busy values
    scaled, unit = _scale(busy_k, levels)
    local_hint = red.hint_local(hint)
    tag = f"ILP/{backend}"

    # ---- phase 1: minimise T
    prob = pulp.LpProblem("bottleneck", pulp.LpMinimize)
    z = _one_hot(prob, keep, cost_k, problem.capacity)
    t_var = _new_var(prob, "T", 0, None, pulp.LpContinuous)
    prob += t_var
    for s, (zs, b) in enumerate(zip(z, scaled, strict=True)):
        prob += pulp.LpAffineExpression(list(zip(zs, b, strict=True))) <= t_var, f"T_{s}"
    start = None
    if local_hint is not None and all(h is not None for h in local_hint):
        start = _start_values(z, local_hint)
        start[t_var] = max(b[h] for b, h in zip(scaled, local_hint, strict=True))
    run1 = _solve(prob, backend, max(time_limit - (time.perf_counter() - t0), 1e-3), start)
    msg1 = f"{tag} phase 1: {run1.detail}"
    if run1.error:
        return done("error", None, None, msg1)
    if run1.infeasible:
        return done("infeasible", None, None, f"infeasible: {msg1}")
    bound = _lift_bound(run1.bound, unit, levels)
    if run1.sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        return done("timeout" if run1.timed_out else "error", None, bound, msg1)
    local1 = _read_choice(z)
    if local1 is None:
        return done("error", None, bound, f"{msg1}; solution is not one-hot")
    choice1 = [int(keep[s][i]) for s, i in enumerate(local1)]
    if run1.sol_status != pulp.LpSolutionOptimal:
        return done("feasible", choice1, bound, f"{msg1}; bottleneck not proven optimal")

    # ---- phase 2: only options with busy <= T*, minimise the secondary resource
    t_star, _ = problem.evaluate(choice1)
    allowed = [np.flatnonzero(b <= t_star) for b in busy_k]
    keep2 = [k[a] for k, a in zip(keep, allowed, strict=True)]
    cost2 = [c[a] for c, a in zip(cost_k, allowed, strict=True)]
    prob2 = pulp.LpProblem("secondary", pulp.LpMinimize)
    z2 = _one_hot(prob2, keep2, cost2, problem.capacity)
    sec = problem.secondary
    prob2 += pulp.LpAffineExpression(
        [(v, int(c[i, sec])) for zs, c in zip(z2, cost2, strict=True) for i, v in enumerate(zs)]
    )
    start2 = _start_values(
        z2, [int(np.flatnonzero(k == o)[0]) for k, o in zip(keep2, choice1, strict=True)]
    )
    left = max(time_limit - (time.perf_counter() - t0), min(MIN_PHASE2_SECONDS, time_limit))
    run2 = _solve(prob2, backend, left, start2)
    msg2 = f"{tag} phase 2: {run2.detail}"
    local2 = None
    if not run2.error and run2.sol_status in (
        pulp.LpSolutionOptimal,
        pulp.LpSolutionIntegerFeasible,
    ):
        local2 = _read_choice(z2)
    if local2 is None:
        return done("feasible", choice1, t_star, f"bottleneck optimal; {msg2}")
    choice2 = [int(keep2[s][i]) for s, i in enumerate(local2)]
    if run2.sol_status == pulp.LpSolutionOptimal:
        return done("optimal", choice2, t_star, f"{tag} optimal in both phases")
    if problem.evaluate(choice1)[1][sec] < problem.evaluate(choice2)[1][sec]:
        choice2 = choice1
    return done("feasible", choice2, t_star, f"bottleneck optimal; {msg2}")


# --------------------------------------------------------------------------- model


def _one_hot(
    prob: pulp.LpProblem,
    keep: Sequence[np.ndarray],
    cost: Sequence[np.ndarray],
    capacity: np.ndarray,
) -> list[list[pulp.LpVariable]]:
    """Add binaries, one-hot rows and knapsack rows; return z[s][i]."""
    z = [
        [_new_var(prob, f"z_{s}_{int(o)}", 0, 1, pulp.LpBinary) for o in k]
        for s, k in enumerate(keep)
    ]
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
) -> _Run:
    t = time.perf_counter()
    try:
        if backend == "highs":
            run = _solve_highs(prob, seconds)
        else:
            run = _solve_cbc(prob, seconds, start)
    except (pulp.PulpSolverError, OSError) as exc:
        return _Run(
            pulp.LpSolutionNoSolutionFound, False, None, False, True, f"solver failed: {exc}"
        )
    run.detail += f" ({time.perf_counter() - t:.3g} s)"
    return run


def _solve_highs(prob: pulp.LpProblem, seconds: float) -> _Run:
    # No MIP start: PuLP's HiGHS wrapper ignores warmStart, and handing highspy
    # a start via setSolution made HiGHS 1.16 return a wrong "Optimal" (objective
    # below the true optimum, solution = the start) on a two-resource instance.
    # Resource rows carry coefficients up to ~1e7 (power in µW): at HiGHS's default
    # integrality tolerance (1e-6) a "binary" of 1 − 1e-6 hides 10 units of a row, and
    # the rounded choice can break a tight budget. 1e-10 keeps that below one unit.
    solver = pulp.HiGHS(
        msg=False,
        timeLimit=float(seconds),
        gapRel=0.0,
        gapAbs=_GAP_ABS,
        mip_feasibility_tolerance=1e-10,
        primal_feasibility_tolerance=1e-10,
    )
    with _silent_stdout():
        prob.solve(solver)
    h = prob.solverModel
    status = h.getModelStatus()
    name = h.modelStatusToString(status)
    info = h.getInfo()
    bound = float(info.mip_dual_bound)
    timed_out = status in _highs_limit_statuses()
    error = _no_solution(prob) and not timed_out
    if prob.sol_status == pulp.LpSolutionOptimal:
        bound = float(info.objective_function_value) if not math.isfinite(bound) else bound
    return _Run(prob.sol_status, _infeasible(prob), bound, timed_out, error, f"HiGHS {name}")


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


def _solve_cbc(
    prob: pulp.LpProblem, seconds: float, start: dict[pulp.LpVariable, float] | None
) -> _Run:
    if start:
        for v in prob.variables():
            v.setInitialValue(start.get(v, 0.0))
    with tempfile.TemporaryDirectory() as tmp:
        log_path = os.path.join(tmp, "cbc.log")
        kw: dict[Any, Any] = dict(
            msg=False,
            timeLimit=float(seconds),
            gapRel=0.0,
            gapAbs=_GAP_ABS,
            warmStart=bool(start),
            logPath=log_path,
        )
        if _system_cbc():
            solver = pulp.COIN_CMD(**kw)
        else:
            with warnings.catch_warnings():  # PuLP 3.x deprecates the bundled CBC
                warnings.simplefilter("ignore", DeprecationWarning)
                solver = pulp.PULP_CBC_CMD(**kw)
        prob.solve(solver)
        with open(log_path, errors="replace") as f:
            log = f.read()
    # The summary line is "Result - ..." after branch and bound, or e.g.
    # "Problem is infeasible - 0.00 seconds" when the LP already decides.
    result = re.search(r"^(?:Result - (.*)|(Problem is .*?)(?: - [\d.]+ seconds)?)$", log, re.M)
    summary = (result.group(1) or result.group(2)).strip() if result else "status unknown"
    detail = f"CBC {summary}"
    timed_out = bool(re.search(r"Stopped on (time|iterations|nodes)", log))
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
    error = _no_solution(prob) and not timed_out
    if error and not result:
        detail += "; " + " | ".join(log.strip().splitlines()[-3:])
    return _Run(prob.sol_status, _infeasible(prob), bound, timed_out, error, detail)
