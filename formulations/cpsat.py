"""CP-SAT model of the min-max multiple-choice knapsack with an order encoding of T.

See ``README.md`` for the maths.  A one-hot model (``T >= busy * z``) finds good
solutions but cannot prove the bottleneck optimal on Inception-v3-sized
instances.  Here ``T`` is encoded by Booleans ``t_j = [T < v_j]`` over the
distinct busy values, each level literal bounds per-stage cost variables, and
the search decides levels in bisection order, so refuting a level is pure bound
propagation: 90 stages x 50 options prove optimal in about half a second.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np
from ortools.sat.python import cp_model

from formulations.problem import (
    MIN_PHASE2_SECONDS,
    Problem,
    Reduced,
    check_hint,
    check_problem,
    reduce_options,
)
from formulations.result import FormulationResult, make_result

_MIN_SECONDS = 1e-3  # never hand CP-SAT a zero or negative limit

_STATUS = {
    cp_model.OPTIMAL: "OPTIMAL",
    cp_model.FEASIBLE: "FEASIBLE",
    cp_model.INFEASIBLE: "INFEASIBLE",
    cp_model.UNKNOWN: "UNKNOWN",
    cp_model.MODEL_INVALID: "MODEL_INVALID",
}


def solve_cpsat(
    busy: Sequence[np.ndarray],
    cost: Sequence[np.ndarray],
    capacity: np.ndarray,
    *,
    secondary: int = 0,
    time_limit: float = 10.0,
    hint: Sequence[int] | None = None,
    workers: int = 1,
    seed: int = 0,
) -> FormulationResult:
    """Solve the lexicographic min-max multiple-choice knapsack with CP-SAT.

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
        Wall-time budget in seconds shared by both phases (phase 2 gets what is
        left, but at least a small minimum).
    hint : sequence of int, optional
        One option index per stage used as a solution hint (need not be feasible).
    workers : int, default 1
        CP-SAT ``num_workers``; 1 keeps the search deterministic.
    seed : int, default 0
        CP-SAT ``random_seed``.

    Returns
    -------
    FormulationResult
        Never raises for infeasible instances or time-outs.

    Raises
    ------
    ValueError
        On malformed arrays (shape mismatch, negative cost, empty stage) or hint.
    """
    t0 = time.perf_counter()
    problem = check_problem(busy, cost, capacity, secondary, time_limit)
    hint = check_hint(problem, hint)
    red = reduce_options(problem)

    def done(status: str, choice: Sequence[int] | None, bound: int | None, msg: str):
        return make_result(problem, status, choice, bound, time.perf_counter() - t0, msg)

    if red.empty_stage is not None:
        return done(
            "infeasible",
            None,
            None,
            f"infeasible: every option of stage {red.empty_stage} alone exceeds the capacity",
        )

    m = _Model(problem, red)
    m.set_hint(red.hint_local(hint))

    # Phase 1: maximise the number of levels T is below == minimise T.
    m.model.maximize(cp_model.LinearExpr.sum(m.t))
    left1 = max(time_limit - (time.perf_counter() - t0), _MIN_SECONDS)
    st1, sol1 = m.solve(left1, workers, seed)
    name1 = _STATUS.get(st1, str(st1))
    if st1 == cp_model.MODEL_INVALID:
        return done("error", None, None, f"CP-SAT MODEL_INVALID: {m.model.validate()}")
    if st1 == cp_model.INFEASIBLE:
        return done("infeasible", None, None, "infeasible: CP-SAT proved no choice fits")
    bound = m.level_bound(sol1.best_bound)
    if st1 == cp_model.UNKNOWN:
        return done("timeout", None, bound, f"CP-SAT UNKNOWN after {left1:.3g} s (phase 1)")
    choice1 = m.choice(sol1.values)
    if st1 != cp_model.OPTIMAL:
        return done("feasible", choice1, bound, f"CP-SAT phase 1 {name1}: bottleneck not proven")

    # Phase 2: freeze T at its optimum, minimise the secondary resource.
    t_star, _ = problem.evaluate(choice1)
    m.fix_bottleneck(t_star)
    m.set_hint_from_values(sol1.values)
    m.model.minimize(cp_model.LinearExpr.sum(m.c[problem.secondary]))
    left = max(time_limit - (time.perf_counter() - t0), min(MIN_PHASE2_SECONDS, time_limit))
    st2, sol2 = m.solve(left, workers, seed)
    name2 = _STATUS.get(st2, str(st2))
    if st2 == cp_model.OPTIMAL:
        return done("optimal", m.choice(sol2.values), t_star, "CP-SAT OPTIMAL in both phases")
    best = choice1
    if st2 == cp_model.FEASIBLE:
        choice2 = m.choice(sol2.values)
        sec = problem.secondary
        if problem.evaluate(choice2)[1][sec] <= problem.evaluate(choice1)[1][sec]:
            best = choice2
    extra = f": {m.model.validate()}" if st2 == cp_model.MODEL_INVALID else ""
    return done(
        "feasible",
        best,
        t_star,
        f"bottleneck optimal; CP-SAT phase 2 {name2} after {left:.3g} s{extra}",
    )


class _Solution:
    def __init__(self, values: list[list[bool]] | None, best_bound: float | None) -> None:
        self.values = values
        self.best_bound = best_bound


class _Model:
    """Order-encoded CP-SAT model on the reduced options (see README.md)."""

    def __init__(self, problem: Problem, red: Reduced) -> None:
        self.problem = problem
        self.red = red
        model = cp_model.CpModel()
        self.model = model
        self.busy = [problem.busy[s][k] for s, k in enumerate(red.keep)]
        self.cost = [problem.cost[s][k] for s, k in enumerate(red.keep)]
        self.z = [
            [model.new_bool_var(f"z_{s}_{i}") for i in range(len(k))]
            for s, k in enumerate(red.keep)
        ]
        for zs in self.z:
            model.add_exactly_one(zs)

        # Distinct busy values, descending: v_0 > v_1 > ... > v_{m-1};  t_j <=> T < v_j.
        self.values = np.unique(np.concatenate(self.busy))[::-1].astype(np.int64)
        level = {int(v): j for j, v in enumerate(self.values)}
        self.t = [model.new_bool_var(f"t_{j}") for j in range(len(self.values))]
        for j in range(1, len(self.t)):
            model.add_implication(self.t[j], self.t[j - 1])  # T < v_j  =>  T < v_{j-1}
        # Choosing an option of busy v_k means T >= v_k: z => not t_k.  With the
        # chain and ExactlyOne this is the clause "t_j => some option of the
        # stage is faster than v_j", in O(n) binary clauses instead of O(n^2).
        for zs, b in zip(self.z, self.busy, strict=True):
            for v, bv in zip(zs, b, strict=True):
                model.add_implication(v, self.t[level[int(bv)]].Not())

        # Per-stage cost variables C[r][s] = cost of the chosen option, with the
        # implied bound "t_j => C >= cheapest option of the stage faster than v_j".
        # Only the stage's own busy values need it (the chain covers the rest).
        # It lets plain bound propagation on sum_s C <= capacity refute a level,
        # which is what makes the bottleneck provable without LP branching.
        self.c: list[list[cp_model.IntVar]] = []
        for r, cap in enumerate(problem.capacity):
            row, top = [], 0
            for s, (zs, b, c) in enumerate(zip(self.z, self.busy, self.cost, strict=True)):
                col = c[:, r]
                lo, hi = int(col.min()), int(col.max())
                var = model.new_int_var(lo, hi, f"c_{r}_{s}")
                top += hi
                model.add(var == cp_model.LinearExpr.weighted_sum(zs, [int(x) for x in col]))
                for u in np.unique(b)[1:]:  # the stage minimum has nothing faster
                    cheapest = int(col[b < u].min())
                    if cheapest > lo:
                        model.add(var >= cheapest).only_enforce_if(self.t[level[int(u)]])
                row.append(var)
            self.c.append(row)
            if top > int(cap):  # else never binding
                model.add(cp_model.LinearExpr.sum(row) <= int(cap))

        # Search: decide the levels in bisection order (the chain fixes half of
        # the remaining levels per decision, so this is a binary search on T),
        # then take each stage's cheapest allowed option in the secondary resource.
        model.add_decision_strategy(
            _bisection_order(self.t), cp_model.CHOOSE_FIRST, cp_model.SELECT_MAX_VALUE
        )
        sec = problem.secondary
        by_cost = []
        for zs, c in zip(self.z, self.cost, strict=True):
            keys = [c[:, r] for r in reversed(range(c.shape[1])) if r != sec] + [c[:, sec]]
            by_cost += [zs[i] for i in np.lexsort(keys)]
        model.add_decision_strategy(by_cost, cp_model.CHOOSE_FIRST, cp_model.SELECT_MAX_VALUE)

    def set_hint(self, local: list[int | None] | None) -> None:
        self.model.clear_hints()
        if local is None:
            return
        for zs, h in zip(self.z, local, strict=True):
            if h is not None:
                for i, v in enumerate(zs):
                    self.model.add_hint(v, i == h)
        if all(h is not None for h in local):
            t_hint = max(int(b[h]) for b, h in zip(self.busy, local, strict=True))
            for v, t in zip(self.values, self.t, strict=True):
                self.model.add_hint(t, t_hint < int(v))

    def set_hint_from_values(self, values: list[list[bool]]) -> None:
        self.set_hint([int(np.flatnonzero(row)[0]) for row in values])

    def fix_bottleneck(self, t_star: int) -> None:
        """Forbid options slower than ``t_star`` and pin every level literal."""
        for zs, b in zip(self.z, self.busy, strict=True):
            for i in np.flatnonzero(b > t_star):
                self.model.add(zs[i] == 0)
        for v, t in zip(self.values, self.t, strict=True):
            self.model.add(t == int(t_star < int(v)))

    def solve(self, seconds: float, workers: int, seed: int) -> tuple[int, _Solution]:
        solver = cp_model.CpSolver()
        p = solver.parameters
        p.max_time_in_seconds = float(seconds)
        p.num_workers = int(workers)
        p.random_seed = int(seed)
        p.search_branching = cp_model.FIXED_SEARCH
        # Presolve and probing spend seconds on this model (thousands of
        # Booleans, each probed) and gain nothing that propagation lacks.
        p.cp_model_presolve = False
        p.cp_model_probing_level = 0
        status = solver.solve(self.model)
        values = None
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            values = [[bool(solver.boolean_value(v)) for v in zs] for zs in self.z]
        best = None
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            best = solver.best_objective_bound
        elif status == cp_model.UNKNOWN and solver.best_objective_bound != 0:
            # Stopped before the first propagation, the response holds the
            # proto default 0 (which would claim T >= max busy): not a bound.
            best = solver.best_objective_bound
        return status, _Solution(values, best)

    def level_bound(self, best_bound: float | None) -> int | None:
        """Translate the phase-1 bound (max number of true levels) into a T lower bound.

        If at most ``k`` literals ``t_j`` can be true then ``T >= v_k``.
        """
        if best_bound is None or not math.isfinite(best_bound):
            return None
        k = math.floor(best_bound + 1e-6)
        k = min(max(k, 0), len(self.values) - 1)
        return int(self.values[k])

    def choice(self, values: list[list[bool]]) -> tuple[int, ...]:
        return tuple(
            int(self.red.keep[s][int(np.flatnonzero(row)[0])]) for s, row in enumerate(values)
        )


def _bisection_order(items: Sequence[cp_model.IntVar]) -> list[cp_model.IntVar]:
    """Midpoints of a balanced binary search tree over ``items``, breadth first."""
    out, ranges = [], [(0, len(items) - 1)]
    while ranges:
        nxt = []
        for lo, hi in ranges:
            if lo <= hi:
                mid = (lo + hi) // 2
                out.append(items[mid])
                nxt += [(lo, mid - 1), (mid + 1, hi)]
        ranges = nxt
    return out
