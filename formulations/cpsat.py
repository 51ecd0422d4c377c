"""CP-SAT model of the min-max multiple-choice knapsack with an order encoding of T.

See ``README.md`` for the maths.  A one-hot model (``T >= busy * z``) finds good
solutions but cannot prove the bottleneck optimal on Inception-v3-sized
instances.  Here ``T`` is encoded by Booleans ``t_j = [T < v_j]`` over the
distinct busy values, each level literal bounds per-stage cost variables, and
the search decides levels in bisection order, so refuting a level is pure bound
propagation: 90 stages x 50 options prove optimal in about half a second.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import numpy as np
from ortools.sat.python import cp_model

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
from formulations.result import FormulationResult, finisher

__all__ = ["solve_cpsat"]

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
    placement: Placement | None = None,
    hint_cuts: Sequence[int] | None = None,
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
    placement : Placement, optional
        Also place the stages on a chain of chips (``README.md``, "Placement"):
        the model chooses the chip boundaries too, and the bottleneck becomes
        the period (every stage's and every link's busy time).
    hint_cuts : sequence of int, optional
        With a placement, ``chips - 1`` chip boundaries used as a hint with ``hint``.

    Returns
    -------
    FormulationResult
        Never raises for infeasible instances or time-outs.

    Raises
    ------
    ValueError
        On malformed arrays (shape mismatch, negative cost, empty stage),
        placement or hint.
    """
    clock = Clock.started(time_limit)
    problem, hint, placed, hint_cuts = check_inputs(
        busy, cost, capacity, secondary, time_limit, hint, placement, hint_cuts
    )
    done = finisher(problem, placed, clock.start)
    try:
        return _run(problem, placed, hint, hint_cuts, clock, workers, seed, done)
    except OutOfTime as exc:
        return done("timeout", None, None, f"CP-SAT: {exc}")


def _run(
    problem: Problem,
    placed: Placed | None,
    hint: list[int] | None,
    hint_cuts: list[int] | None,
    clock: Clock,
    workers: int,
    seed: int,
    done: Callable[..., FormulationResult],
) -> FormulationResult:
    """Both phases; :class:`OutOfTime` if the limit runs out while the model is built."""
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

    warm = placed_warm_start(problem, red, placed, hint, hint_cuts)
    if placed is not None and warm is not None:
        return _from_warm_start(problem, red, placed, warm, clock, workers, seed, done)
    fitting, lower = None, None
    if placed is None:
        fitting = fitting_hint(problem, red.keep, red.hint_local(hint))
        if fitting is not None:
            red = red.at_most(problem, fitting[0])
        if len(problem.capacity) > 1:  # several budgets: the Lagrangian bound (README.md)
            lower = lagrangian_bound(problem, red.keep, fitting[0] if fitting else None)[0]
    m = _Model(problem, red, placed, clock)
    if lower is not None:
        m.bound_below(lower)
    m.set_hint(red.hint_local(hint), hint_cuts)
    clock.check("while the CP-SAT model was built")

    # Phase 1: minimise the period T; without a placement, maximise the number
    # of levels the bottleneck is below (the same thing, T being a busy value).
    if placed is None:
        m.model.maximize(cp_model.LinearExpr.sum(m.t))
    else:
        m.model.minimize(m.period)
    left1 = clock.left(_MIN_SECONDS)
    if fitting is not None and lower == fitting[0]:  # the bound meets the warm start
        levels_below = float(np.count_nonzero(m.values > lower))  # phase 1's objective
        st1, sol1 = cp_model.OPTIMAL, _Solution(m.values_of(fitting[1]), levels_below)
    else:
        st1, sol1 = m.solve(left1, workers, seed)
    name1 = _STATUS.get(st1, str(st1))
    if st1 == cp_model.MODEL_INVALID:
        return done("error", None, None, f"CP-SAT MODEL_INVALID: {m.model.validate()}")
    if st1 == cp_model.INFEASIBLE:
        return done("infeasible", None, None, "infeasible: CP-SAT proved no choice fits")
    bound = m.phase1_bound(sol1.best_bound, st1)
    if st1 == cp_model.UNKNOWN:
        return done("timeout", None, bound, f"CP-SAT UNKNOWN after {left1:.3g} s (phase 1)")
    choice1 = m.choice(sol1.values)
    if st1 != cp_model.OPTIMAL:
        return done(
            "feasible",
            choice1,
            bound,
            f"CP-SAT phase 1 {name1}: bottleneck not proven",
            sol1.cuts,
        )

    # Phase 2: freeze T at its optimum, minimise the secondary resource.
    if placed is not None:
        t_star = placed.period(problem, choice1, sol1.cuts)
        return _phase2_placed(
            problem, red, placed, (t_star, list(choice1), sol1.cuts), clock, workers, seed, done
        )
    t_star, _ = problem.evaluate(choice1)
    m.fix_bottleneck(t_star)
    m.set_hint_from_values(sol1)
    m.model.minimize(cp_model.LinearExpr.sum(m.c[problem.secondary]))
    left = clock.left(min(MIN_PHASE2_SECONDS, clock.limit))
    st2, sol2 = m.solve(left, workers, seed)
    name2 = _STATUS.get(st2, str(st2))
    if st2 == cp_model.OPTIMAL:
        return done(
            "optimal",
            m.choice(sol2.values),
            t_star,
            "CP-SAT OPTIMAL in both phases",
            sol2.cuts,
        )
    best, best_cuts = choice1, sol1.cuts
    if st2 == cp_model.FEASIBLE:
        choice2 = m.choice(sol2.values)
        sec = problem.secondary
        if problem.evaluate(choice2)[1][sec] <= problem.evaluate(choice1)[1][sec]:
            best, best_cuts = choice2, sol2.cuts
    extra = f": {m.model.validate()}" if st2 == cp_model.MODEL_INVALID else ""
    return done(
        "feasible",
        best,
        t_star,
        f"bottleneck optimal; CP-SAT phase 2 {name2} after {left:.3g} s{extra}",
        best_cuts,
    )


def _from_warm_start(
    problem: Problem,
    red: Reduced,
    placed: Placed,
    warm: tuple[int, list[int], list[int]],
    clock: Clock,
    workers: int,
    seed: int,
    done: Callable[..., FormulationResult],
) -> FormulationResult:
    """A placed design proven, or bettered, by asking for a period 1 ps shorter.

    Each question is a model of its own, the period a constant ``P − 1`` and
    only the options that fast: infeasible proves ``P``; a solution is a
    faster design, asked the same of in turn. Then phase 2 at the period found.
    The first question undecided in half the time left, the rest goes to the
    period model under the assumption ``T <= P − 1`` (:func:`_assumed_faster`).
    """
    period, choice, cuts = warm
    fallback = True  # the period model not yet asked
    while True:
        faster = red.at_most(problem, period - 1)
        if any(k.size == 0 for k in faster.keep):  # a stage has no faster option
            break
        share = 0.5 if fallback else 1.0
        st, design, invalid = _faster_than(problem, faster, placed, period, clock, share,
                                           workers, seed)  # fmt: skip
        if st == cp_model.MODEL_INVALID:
            return done("error", None, None, f"CP-SAT MODEL_INVALID: {invalid}")
        least = False  # whether the design found is the least period
        if design is None and st != cp_model.INFEASIBLE and fallback:
            fallback = False
            st, design = _assumed_faster(problem, red, placed, period, choice, cuts, clock,
                                         workers, seed)  # fmt: skip
            least = st == cp_model.OPTIMAL
        if st == cp_model.INFEASIBLE:
            break
        if design is None:
            lower = max(int(b[k].min()) for b, k in zip(problem.busy, red.keep, strict=True))
            return done(
                "feasible",
                tuple(choice),
                lower,
                f"CP-SAT: out of time asking for a period below {period} ps: not proven",
                cuts,
            )
        period, choice, cuts = design  # faster: asked the same of, unless the least
        if least:
            break
    return _phase2_placed(problem, red, placed, (period, choice, cuts), clock, workers, seed, done)


def _faster_than(
    problem: Problem,
    faster: Reduced,
    placed: Placed,
    period: int,
    clock: Clock,
    share: float,
    workers: int,
    seed: int,
) -> tuple[int, tuple[int, list[int], list[int]] | None, str]:
    """Whether a design of period below ``period`` exists, with the period a constant.

    ``faster`` holds the options of busy at most ``period − 1``; the solve gets
    ``share`` of the time left. Returns CP-SAT's status, the faster design
    (period, choice, cuts) if one was found, and the validation message of an
    invalid model.
    """
    m = _Model(problem, faster, placed, clock, period=period - 1)
    clock.check("while the CP-SAT model was built")
    st, sol = m.solve(clock.left(_MIN_SECONDS) * share, workers, seed)
    if st not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return st, None, m.model.validate() if st == cp_model.MODEL_INVALID else ""
    return st, _faster_design(problem, placed, m, sol, period), ""


def _faster_design(
    problem: Problem, placed: Placed, m: _Model, sol: _Solution, period: int
) -> tuple[int, list[int], list[int]]:
    """The solution's design (period, choice, cuts), which the model admits only below ``period``."""
    choice = list(m.choice(sol.values))
    found = placed.period(problem, choice, sol.cuts)
    if found >= period:  # never happens: the model holds only faster designs
        raise AssertionError(f"CP-SAT's design of period {found} ps is not below {period}")
    return found, choice, sol.cuts


def _assumed_faster(
    problem: Problem,
    red: Reduced,
    placed: Placed,
    period: int,
    choice: list[int],
    cuts: list[int],
    clock: Clock,
    workers: int,
    seed: int,
) -> tuple[int, tuple[int, list[int], list[int]] | None]:
    """The period model, minimising ``T`` under the assumption ``T <= period − 1``.

    Where the constant-period question is slow, this one can be quick, and the
    other way round (the chain at twice the bandwidth of sat at 16 chips: 1.5 s
    here, undecided in 60 s there; s2vt at 16 chips: 10 ms there, undecided in 20 s
    here). Returns CP-SAT's status and its design (period, choice, cuts), if any.
    """
    at = red.at_most(problem, period)
    m = _Model(problem, at, placed, clock)
    m.model.minimize(m.period)
    m.set_hint(at.hint_local(choice), cuts)
    faster = m.model.new_bool_var("faster_than_warm_start")
    m.model.add(m.period <= period - 1).only_enforce_if(faster)
    m.model.add_assumptions([faster])
    clock.check("while the CP-SAT model was built")
    st, sol = m.solve(clock.left(_MIN_SECONDS), workers, seed)
    if st not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return st, None
    return st, _faster_design(problem, placed, m, sol, period)


def _phase2_placed(
    problem: Problem,
    red: Reduced,
    placed: Placed,
    best: tuple[int, list[int], list[int]],
    clock: Clock,
    workers: int,
    seed: int,
    done: Callable[..., FormulationResult],
) -> FormulationResult:
    """Least secondary cost at the proven period ``best[0]``, hinted with ``best``.

    Not asked when ``best`` already costs every stage's cheapest option that fast
    (the chain ignored: a bound on phase 2's optimum), as in the MILP.
    """
    t_star, choice, cuts = best
    at = red.at_most(problem, t_star)
    sec = problem.secondary
    if problem.evaluate(choice)[1][sec] == least_cost(problem, at.keep, sec):
        msg = "CP-SAT period optimal; phase 2: the design's cost is the least at that period"
        return done("optimal", tuple(choice), t_star, msg, cuts)
    m = _Model(problem, at, placed, clock, period=t_star)
    m.set_hint(at.hint_local(choice), cuts)
    m.model.minimize(cp_model.LinearExpr.sum(m.c[problem.secondary]))
    left = clock.left(min(MIN_PHASE2_SECONDS, clock.limit))
    st, sol = m.solve(left, workers, seed)
    if st == cp_model.OPTIMAL:
        return done(
            "optimal", m.choice(sol.values), t_star, "CP-SAT OPTIMAL in both phases", sol.cuts
        )
    if st == cp_model.FEASIBLE:
        found = m.choice(sol.values)
        if problem.evaluate(found)[1][sec] <= problem.evaluate(choice)[1][sec]:
            choice, cuts = list(found), sol.cuts
    extra = f": {m.model.validate()}" if st == cp_model.MODEL_INVALID else ""
    name = _STATUS.get(st, str(st))
    return done(
        "feasible",
        tuple(choice),
        t_star,
        f"period optimal; CP-SAT phase 2 {name} after {left:.3g} s{extra}",
        cuts,
    )


class _Solution:
    def __init__(
        self,
        values: list[list[bool]] | None,
        best_bound: float | None,
        cuts: list[int] | None = None,
    ) -> None:
        self.values = values
        self.best_bound = best_bound
        self.cuts = cuts  # chip boundaries, with a placement


class _Model:
    """Order-encoded CP-SAT model on the reduced options (see README.md)."""

    def __init__(
        self,
        problem: Problem,
        red: Reduced,
        placed: Placed | None = None,
        clock: Clock | None = None,
        period: int | None = None,
    ) -> None:
        """The model of ``red``'s options; with ``period``, that period is a constant.

        With a constant period (a placement's proof question and phase 2, every
        option of ``red`` at most that fast) there are no levels, every link row
        of a stage cut by copies is one row in its crossbars (:meth:`Placed.fixed_row`),
        and with one resource a stage whose options all differ in crossbars is
        one integer, its crossbars, instead of a literal per option.
        """
        self.problem = problem
        self.red = red
        self.placed = placed
        self.fixed = period
        model = cp_model.CpModel()
        self.model = model
        self.busy = [problem.busy[s][k] for s, k in enumerate(red.keep)]
        self.cost = [problem.cost[s][k] for s, k in enumerate(red.keep)]
        # Stages held as their crossbars alone (an empty literal list in z).
        self.by_size = [
            period is not None
            and placed is not None
            and len(problem.capacity) == 1
            and (placed.place.per_copy[s] > 0 or placed.place.atomic[s])
            and np.unique(c[:, 0]).size == c.shape[0]
            for s, c in enumerate(self.cost)
        ]
        self.z: list[list[cp_model.IntVar]] = []
        for s, k in enumerate(red.keep):
            if self.by_size[s]:
                self.z.append([])
                continue
            self.z.append([model.new_bool_var(f"z_{s}_{i}") for i in range(len(k))])
            model.add_exactly_one(self.z[-1])
            if clock is not None:
                clock.check("while the CP-SAT model was built")

        # Distinct busy values, descending: v_0 > v_1 > ... > v_{m-1};  t_j <=> T < v_j.
        # With a constant period every option is at most that fast: no levels.
        self.values = np.unique(np.concatenate(self.busy))[::-1].astype(np.int64)
        if period is not None:
            self.values = self.values[:0]
        self.t = [model.new_bool_var(f"t_{j}") for j in range(len(self.values))]
        self._add_levels(clock)

        # Per-stage cost variables C[r][s] = cost of the chosen option, with the
        # implied bound "t_j => C >= cheapest option of the stage faster than v_j".
        # Only the stage's own busy values need it (the chain covers the rest).
        # It lets plain bound propagation on sum_s C <= capacity refute a level,
        # which is what makes the bottleneck provable without LP branching.
        level = {int(v): j for j, v in enumerate(self.values)}
        self.c: list[list[cp_model.IntVar]] = []
        for r, cap in enumerate(problem.capacity):
            row, top = [], 0
            for s, (zs, b, c) in enumerate(zip(self.z, self.busy, self.cost, strict=True)):
                col = c[:, r]
                lo, hi = int(col.min()), int(col.max())
                top += hi
                if self.by_size[s]:
                    row.append(
                        model.new_int_var_from_domain(
                            cp_model.Domain.from_values(col.tolist()), f"c_{r}_{s}"
                        )
                    )
                    continue
                var = model.new_int_var(lo, hi, f"c_{r}_{s}")
                model.add(var == cp_model.LinearExpr.weighted_sum(zs, [int(x) for x in col]))
                # For each of the stage's busy values u but its least (nothing is
                # faster), the cheapest option faster than u: a prefix minimum over
                # the options sorted by busy time.
                order = np.argsort(b, kind="stable")
                least = np.minimum.accumulate(col[order])
                ranked = b[order]
                first = np.flatnonzero(ranked[1:] != ranked[:-1]) + 1  # each value's first
                cheapest = least[first - 1]
                bound = cheapest > lo
                if period is None:
                    for u, c_u in zip(
                        ranked[first[bound]].tolist(), cheapest[bound].tolist(), strict=True
                    ):
                        model.add(var >= c_u).only_enforce_if(self.t[level[u]])
                row.append(var)
                if clock is not None:
                    clock.check("while the CP-SAT model was built")
            self.c.append(row)
            if top > int(cap):  # else never binding
                model.add(cp_model.LinearExpr.sum(row) <= int(cap))

        if placed is not None:
            self._add_chain(placed)

        self._searching = False  # the decision strategies are added before the first solve
        self._first: int | None = None  # a level decided before any other (bound_below)

    def _add_levels(self, clock: Clock | None) -> None:
        """The chain of level literals and "an option at ``v_j`` implies not ``t_j``"."""
        model = self.model
        for j in range(1, len(self.t)):
            model.add_implication(self.t[j], self.t[j - 1])  # T < v_j  =>  T < v_{j-1}
        if not self.t:
            return
        # Choosing an option of busy v_k means T >= v_k: z => not t_k.  With the
        # chain and ExactlyOne this is the clause "t_j => some option of the
        # stage is faster than v_j", in O(n) binary clauses instead of O(n^2).
        # One constraint per level, t_j => every option at v_j is off: the same
        # binary clauses, one Python call per level rather than per option.
        flat = [v for zs in self.z for v in zs]
        at = len(self.values) - 1 - np.searchsorted(self.values[::-1], np.concatenate(self.busy))
        order = np.argsort(at, kind="stable")
        bounds = np.flatnonzero(np.diff(at[order])) + 1
        for group in np.split(order, bounds):
            if group.size:
                lits = [flat[i].Not() for i in group.tolist()]
                model.add_bool_and(lits).only_enforce_if(self.t[int(at[group[0]])])
        if clock is not None:
            clock.check("while the CP-SAT model was built")

    def bound_below(self, lower: int) -> None:
        """A proven lower bound on the bottleneck (the Lagrangian one): every level
        at or below it is false, and "at most ``lower``" is decided first."""
        for v, t in zip(self.values, self.t, strict=True):
            if int(v) <= lower:
                self.model.add(t == 0)
        above = int(np.count_nonzero(self.values > lower))
        self._first = above - 1 if above else None

    def _add_search(self, next_level: int | None) -> None:
        """The decision strategies, added once, before the first solve.

        With a placement, first each chip boundary as far along the chain as it
        goes, in chain order (its place, latest first, then its position); then
        the levels in bisection order (the chain fixes half of the remaining
        levels per decision, so this is a binary search on T), then each stage's
        cheapest allowed option in the secondary resource. With a hinted
        bottleneck, the level just below it comes first: refuting it is the
        proof when the hint is optimal (bisection's is, for copies), one
        conflict instead of a descent from the middle level.
        """
        if self._searching:
            return
        self._searching = True
        model, problem = self.model, self.problem
        if self.placed is not None:
            for spot, q in zip(self.spot_lits, self.q, strict=True):
                model.add_decision_strategy(
                    spot[::-1], cp_model.CHOOSE_FIRST, cp_model.SELECT_MAX_VALUE
                )
                model.add_decision_strategy([q], cp_model.CHOOSE_FIRST, cp_model.SELECT_MAX_VALUE)
        for level in (self._first, next_level):
            if level is not None and level < len(self.t):
                model.add_decision_strategy(
                    [self.t[level]], cp_model.CHOOSE_FIRST, cp_model.SELECT_MAX_VALUE
                )
        if self.t:
            model.add_decision_strategy(
                _bisection_order(self.t), cp_model.CHOOSE_FIRST, cp_model.SELECT_MAX_VALUE
            )
        sec = problem.secondary
        by_cost = []
        for zs, c in zip(self.z, self.cost, strict=True):
            if not zs:
                continue
            keys = [c[:, r] for r in reversed(range(c.shape[1])) if r != sec] + [c[:, sec]]
            by_cost += [zs[i] for i in np.lexsort(keys)]
        if by_cost:
            model.add_decision_strategy(by_cost, cp_model.CHOOSE_FIRST, cp_model.SELECT_MAX_VALUE)
        sizes = [x for x, flag in zip(self.c[0], self.by_size, strict=True) if flag]
        if sizes:
            model.add_decision_strategy(sizes, cp_model.CHOOSE_FIRST, cp_model.SELECT_MIN_VALUE)

    def _add_chain(self, placed: Placed) -> None:
        """The period T, the chip boundaries and every link's bound (README.md, "Placement").

        Boundary ``q_c`` lies at the start (``q = 0``), at the end (``q = Q``) or
        in one stage ``k`` (``Q_{k-1} < q <= Q_k``, ``q < Q``), at offset
        ``n·p + r``; then for the chosen option (``d`` copies of ``p``
        crossbars), with the traffic multiplied by ``d·p`` and the bandwidth's
        denominator, ``den·((A+I)·d·p + p·(O−I)·n + (O+σ)·r) <= num·d·p·T``.
        ``n = d, r = 0`` is the stage's end, where this is the boundary traffic.
        """
        model, problem, place = self.model, self.problem, placed.place
        n_stages, chip = problem.n_stages, placed.chip_capacity
        x = self.c[0]  # crossbars of each stage's chosen option
        x_lo = [int(c[:, 0].min()) for c in self.cost]
        x_hi = [int(c[:, 0].max()) for c in self.cost]
        copies = [place.copies[s][k] for s, k in enumerate(self.red.keep)]

        t_lo = max(int(b.min()) for b in self.busy)
        if self.fixed is None:
            t_hi = max(int(self.values[0]), placed.max_link_ps())
            self.period = model.new_int_var(t_lo, t_hi, "T")
        else:
            self.period = model.new_constant(self.fixed)
        for v, t in zip(self.values, self.t, strict=True):
            if int(v) > t_lo:
                model.add(self.period >= int(v)).only_enforce_if(t.Not())

        # Running totals Q_k of the chosen crossbars.
        self.q_end: list[cp_model.IntVar] = []
        lo = hi = 0
        for s in range(n_stages):
            lo, hi = lo + x_lo[s], hi + x_hi[s]
            var = model.new_int_var(lo, hi, f"Q_{s}")
            model.add(var == (self.q_end[-1] + x[s] if s else x[s]))
            self.q_end.append(var)
        total = self.q_end[-1]
        chain = place.chips * chip
        if hi > chain:  # implied by the chips below; stated for propagation
            model.add(cp_model.LinearExpr.sum(x) <= chain)

        self.q = [model.new_int_var(0, min(c * chip, hi), f"q_{c}") for c in range(1, place.chips)]
        ends: list[cp_model.LinearExprT] = [0, *self.q, total]
        for a, b in itertools.pairwise(ends):
            model.add(b - a <= chip)
            if not isinstance(a, int):
                model.add(a <= b)

        # Where each boundary lies: one literal per place, in chain order.
        self.spot_lits: list[list[cp_model.IntVar]] = []
        self.spot_of: list[dict[int, cp_model.IntVar]] = []  # key -1 start, S end, else stage
        self.offset: list[dict[int, tuple[cp_model.IntVar, cp_model.IntVar]]] = []
        index = []
        for c, (spot, q) in enumerate(zip(placed.spots(x_lo, x_hi), self.q, strict=True), 1):
            lits: dict[int, cp_model.IntVar] = {}
            offsets: dict[int, tuple[cp_model.IntVar, cp_model.IntVar]] = {}
            # Never at the start (symmetry): an empty first chip, moved to the end of the
            # chain, leaves every link's traffic as it was.
            if spot.at_start and not (spot.stages or spot.at_end):
                lits[-1] = model.new_bool_var(f"start_{c}")
                model.add(q == 0).only_enforce_if(lits[-1])
            for k in spot.stages:
                w = lits[k] = model.new_bool_var(f"in_{c}_{k}")
                model.add(q <= total - 1).only_enforce_if(w)
                before = self.q_end[k - 1] if k else 0
                if place.atomic[k]:
                    model.add(q == self.q_end[k]).only_enforce_if(w)
                    if x_lo[k] < 1:
                        model.add(x[k] >= 1).only_enforce_if(w)
                    busy = link_busy(place, placed.boundary[k])
                    if busy > t_lo:
                        model.add(self.period >= busy).only_enforce_if(w)
                    continue
                units = [place.unit(k, int(xo)) for xo in self.cost[k][:, 0]]
                n = model.new_int_var(0, int(copies[k].max()), f"n_{c}_{k}")
                r = model.new_int_var(0, max(units) - 1, f"r_{c}_{k}")
                offsets[k] = (n, r)
                if place.per_copy[k]:
                    p = place.per_copy[k]
                    model.add(q == before + p * n + r).only_enforce_if(w)
                    model.add(p * n + r >= 1).only_enforce_if(w)
                    model.add(p * n + r <= x[k]).only_enforce_if(w)
                else:  # a block: one copy of the option's crossbars
                    for o, p in enumerate(units):
                        holds = [w, self.z[k][o]]
                        model.add(q == before + p * n + r).only_enforce_if(holds)
                        model.add(r <= p - 1).only_enforce_if(holds)
                        model.add(p * n + r <= p).only_enforce_if(holds)
                    model.add(n + r >= 1).only_enforce_if(w)
                if self.fixed is not None and place.per_copy[k]:
                    # One row for every option, in the stage's crossbars: no option literal
                    # in its enforcement (s2vt at 16 chips: the proof 20 s → 10 ms).
                    row = placed.fixed_row(k, self.fixed)
                    if row is not None:
                        a_x, a_n, a_r = row
                        model.add(a_x * x[k] + a_n * n + a_r * r <= 0).only_enforce_if(w)
                    continue
                for o, (d, p) in enumerate(zip(copies[k], units, strict=True)):
                    row = placed.link_row(k, int(d), t_lo, x=p)
                    if row is not None:
                        a_n, a_r, a_t, const = row
                        model.add(a_n * n + a_r * r + const <= a_t * self.period).only_enforce_if(
                            [w, self.z[k][o]]
                        )
            if spot.at_end:
                lits[n_stages] = model.new_bool_var(f"end_{c}")
                model.add(q == total).only_enforce_if(lits[n_stages])
            model.add_exactly_one(list(lits.values()))
            index.append(
                cp_model.LinearExpr.weighted_sum(list(lits.values()), [k + 1 for k in lits])
            )
            self.spot_lits.append(list(lits.values()))
            self.spot_of.append(lits)
            self.offset.append(offsets)
        # Redundant: later boundaries lie in later (or the same) places.
        for a, b in itertools.pairwise(index):
            model.add(a <= b)
        if self.fixed is not None:  # redundant: each run fits a chip (Placed.runs)
            for run in placed.runs([c[:, 0] for c in self.cost], copies, self.fixed):
                terms = [x[m] for m in run.whole]
                terms += [self._of_option(*part) for part in (run.tail, run.head) if part]
                model.add(cp_model.LinearExpr.sum(terms) <= chip)

    def _of_option(self, k: int, values: Sequence[int]) -> cp_model.LinearExprT:
        """``values[o]`` for stage ``k``'s chosen option ``o``, as a linear expression.

        A stage held as its crossbars alone (no option literals) maps them to
        the value through a table: its options differ in crossbars.
        """
        if min(values) == max(values):
            return int(values[0])
        if self.z[k]:
            return cp_model.LinearExpr.weighted_sum(self.z[k], [int(v) for v in values])
        var = self.model.new_int_var(min(values), max(values), f"run_part_{k}")
        pairs = [(int(x), int(v)) for x, v in zip(self.cost[k][:, 0], values, strict=True)]
        self.model.add_allowed_assignments([self.c[0][k], var], pairs)
        return var

    def set_hint(self, local: list[int | None] | None, cuts: Sequence[int] | None = None) -> None:
        self.model.clear_hints()
        if local is None:
            return
        # Only the chosen literal of each stage: exactly-one implies the rest, and
        # CP-SAT's hint search decides every hinted literal in turn (120,000 at
        # 1,000 stages: 5.4 s, where the 1,000 chosen ones take 0.3 s).
        for s, (zs, h) in enumerate(zip(self.z, local, strict=True)):
            if h is not None and zs:
                self.model.add_hint(zs[h], True)
            elif h is not None:
                self.model.add_hint(self.c[0][s], int(self.cost[s][h, 0]))
        if all(h is not None for h in local):
            t_hint = max(int(b[h]) for b, h in zip(self.busy, local, strict=True))
            for v, t in zip(self.values, self.t, strict=True):
                self.model.add_hint(t, t_hint < int(v))
            if self.placed is None:  # the levels above the hint's bottleneck, then its own
                self._add_search(int(np.count_nonzero(self.values > t_hint)))
            if self.placed is not None and cuts is not None:
                self._hint_chain([int(h) for h in local if h is not None], cuts)

    def _hint_chain(self, local: list[int], cuts: Sequence[int]) -> None:
        placed, problem = self.placed, self.problem
        assert placed is not None
        choice = [int(self.red.keep[s][h]) for s, h in enumerate(local)]
        crossbars = placed.layout(problem, choice)[1]
        for q, cut in zip(self.q, cuts, strict=True):
            self.model.add_hint(q, int(cut))
        for var, end in zip(self.q_end, itertools.accumulate(crossbars), strict=True):
            self.model.add_hint(var, int(end))
        try:
            found = placed.period(problem, choice, cuts)
            if self.fixed is None:
                self.model.add_hint(self.period, found)
        except ValueError:  # not a valid placement: the boundaries stay a plain hint
            return
        for cut, lits, offsets in zip(cuts, self.spot_of, self.offset, strict=True):
            k, n, r = placed.locate(crossbars, int(cut))
            for key, lit in lits.items():
                self.model.add_hint(lit, key == k)
            for key, (n_var, r_var) in offsets.items():
                self.model.add_hint(n_var, n if key == k else 0)
                self.model.add_hint(r_var, r if key == k else 0)

    def set_hint_from_values(self, sol: _Solution) -> None:
        assert sol.values is not None
        self.set_hint([int(np.flatnonzero(row)[0]) for row in sol.values], sol.cuts)

    def fix_bottleneck(self, t_star: int) -> None:
        """Pin every level literal at ``t_star`` (without a placement: with one,
        phase 2 is a model of its own, the period a constant).

        That forbids every option slower than ``t_star`` too: its level literal is
        pinned true, and choosing it implies that literal false (the model's
        ``z => not t`` implications), so no constraint per option is needed
        (60,000 of them at 1,000 stages).
        """
        for v, t in zip(self.values, self.t, strict=True):
            self.model.add(t == int(t_star < int(v)))

    def solve(self, seconds: float, workers: int, seed: int) -> tuple[int, _Solution]:
        self._add_search(None)
        solver = cp_model.CpSolver()
        p = solver.parameters
        p.max_time_in_seconds = float(seconds)
        p.num_workers = int(workers)
        p.random_seed = int(seed)
        # With a placement, refuting a period takes more than propagation (where
        # the boundaries go interacts with the options): the automatic search,
        # which interleaves the strategies above with CP-SAT's own heuristics and
        # its LP, proved 20-stage, 8-chip instances in ~0.1–4 s where the fixed
        # search timed out.
        p.search_branching = (
            cp_model.FIXED_SEARCH if self.placed is None else cp_model.AUTOMATIC_SEARCH
        )
        # Presolve and probing spend seconds on this model (thousands of
        # Booleans, each probed) and gain nothing that propagation lacks.
        p.cp_model_presolve = False
        p.cp_model_probing_level = 0
        # Refuting a level is bound propagation; the LP relaxation only costs time
        # here (a 1,000-stage chain's two solves: 25 s → 7 s; with a placement, the
        # zoo at 8 and 16 chips 1.2–2.9× faster, nic at 16 chips 13.4 → 4.6 s).
        p.linearization_level = 0
        if self.placed is None:  # the symmetry search too
            p.symmetry_level = 0
        status = solver.solve(self.model)
        values = cuts = None
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            # The whole assignment at once (one call per literal is 0.2 s at 1,000 stages).
            solution = np.asarray(solver.response_proto.solution, dtype=np.int64)
            values = [
                (solution[[v.index for v in zs]] != 0).tolist()
                if zs
                else (c[:, 0] == solution[x.index]).tolist()
                for zs, c, x in zip(self.z, self.cost, self.c[0], strict=True)
            ]
            if self.placed is not None:
                cuts = [int(solver.value(q)) for q in self.q]
        best = None
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            best = solver.best_objective_bound
        elif status == cp_model.UNKNOWN and solver.best_objective_bound != 0:
            # Stopped before the first propagation, the response holds the
            # proto default 0 (which would claim T >= max busy): not a bound.
            best = solver.best_objective_bound
        return status, _Solution(values, best, cuts)

    def phase1_bound(self, best_bound: float | None, status: int) -> int | None:
        """Phase 1's objective bound as a lower bound on T (levels, or the period itself)."""
        if self.placed is None:
            return self.level_bound(best_bound)
        if best_bound is None or not math.isfinite(best_bound):
            return None
        return math.ceil(best_bound - 1e-6)

    def level_bound(self, best_bound: float | None) -> int | None:
        """Translate the phase-1 bound (max number of true levels) into a T lower bound.

        If at most ``k`` literals ``t_j`` can be true then ``T >= v_k``.
        """
        if best_bound is None or not math.isfinite(best_bound):
            return None
        k = math.floor(best_bound + 1e-6)
        k = min(max(k, 0), len(self.values) - 1)
        return int(self.values[k])

    def values_of(self, choice: Sequence[int]) -> list[list[bool]]:
        """The option literals' values of ``choice`` (original, kept indices)."""
        return [(k == o).tolist() for k, o in zip(self.red.keep, choice, strict=True)]

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
