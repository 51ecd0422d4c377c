"""The exact formulations' problem: validated integer arrays, and exact option reduction.

The problem (see ``README.md``): choose one option per stage so that the summed
cost vector fits ``capacity``; minimise the bottleneck busy time, then the total
cost of the ``secondary`` resource. Both solvers share these helpers
(validation, exact option reduction, re-evaluation of a choice); they are not
part of the public API.
"""

from __future__ import annotations

import itertools
import math
import numbers
import time
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from formulations.placement import Placement, check_placement, link_busy, period

__all__ = [
    "MIN_PHASE2_SECONDS",
    "Clock",
    "CutSpot",
    "OutOfTime",
    "Placed",
    "Problem",
    "Reduced",
    "Run",
    "check_cuts",
    "check_hint",
    "check_inputs",
    "check_placed",
    "check_problem",
    "reduce_options",
    "too_costly",
]

# Phase 2 always gets at least this much wall time (capped by the total limit),
# so a phase-1 optimum is not thrown away by a zero-second phase 2.
MIN_PHASE2_SECONDS = 0.05


class OutOfTime(Exception):
    """The time limit ran out before a model was built; the message says where."""


@dataclass(frozen=True)
class Clock:
    """A formulation's time limit, counted from its call, checked while models are built.

    Building a 1,000-stage model takes seconds in Python; without these checks a
    short limit would only bound the solver's own search.
    """

    start: float
    limit: float

    @classmethod
    def started(cls, limit: float) -> Clock:
        return cls(time.perf_counter(), float(limit))

    def left(self, at_least: float = 1e-3, *, after: float = 0.0) -> float:
        """Seconds left once ``after`` more is spent (e.g. PuLP handing a model to its
        solver, whose own clock starts only then), never below ``at_least`` (a solver
        is never handed zero)."""
        return max(self.limit - (time.perf_counter() - self.start) - after, at_least)

    def check(self, doing: str) -> None:
        """Raise :class:`OutOfTime` if the limit has passed (``doing`` goes in its message)."""
        if time.perf_counter() - self.start > self.limit:
            raise OutOfTime(f"the time limit ran out {doing}")


@dataclass(frozen=True)
class Problem:
    """Validated copy of a problem instance (int64 arrays)."""

    busy: tuple[np.ndarray, ...]  # (n_s,) per stage
    cost: tuple[np.ndarray, ...]  # (n_s, R) per stage
    capacity: np.ndarray  # (R,)
    secondary: int

    @property
    def n_stages(self) -> int:
        return len(self.busy)

    def evaluate(self, choice: Sequence[int]) -> tuple[int, tuple[int, ...]]:
        """Exact bottleneck and per-resource cost of ``choice`` (original indices)."""
        bottleneck = max(int(b[o]) for b, o in zip(self.busy, choice, strict=True))
        total = [0] * len(self.capacity)
        for c, o in zip(self.cost, choice, strict=True):
            for r, v in enumerate(c[o]):
                total[r] += int(v)
        return bottleneck, tuple(total)

    def fits(self, total: Sequence[int]) -> bool:
        return all(int(t) <= int(c) for t, c in zip(total, self.capacity, strict=True))


def _as_int_array(a: object, what: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype.kind in "iub":
        return arr.astype(np.int64)
    # Accept floats only when they hold exact integers (e.g. an empty float array).
    if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        return arr.astype(np.int64)
    raise ValueError(f"{what} must hold integers, got dtype {arr.dtype}")


def check_problem(
    busy: Sequence[np.ndarray],
    cost: Sequence[np.ndarray],
    capacity: np.ndarray,
    secondary: int,
    time_limit: float,
) -> Problem:
    """Validate shapes and signs; raise ``ValueError`` on malformed input."""
    cap = _as_int_array(capacity, "capacity")
    if cap.ndim != 1 or cap.size == 0:
        raise ValueError(f"capacity must be a non-empty 1-D array, got shape {cap.shape}")
    n_res = cap.size
    if len(busy) == 0:
        raise ValueError("at least one stage is required")
    if len(busy) != len(cost):
        raise ValueError(f"busy has {len(busy)} stages but cost has {len(cost)}")
    if not 0 <= int(secondary) < n_res:
        raise ValueError(f"secondary={secondary} is not a resource index (R={n_res})")
    if not time_limit > 0:
        raise ValueError(f"time_limit must be positive, got {time_limit}")
    b_out, c_out = [], []
    for s, (b, c) in enumerate(zip(busy, cost, strict=True)):
        b = _as_int_array(b, f"busy[{s}]")
        c = _as_int_array(c, f"cost[{s}]")
        if b.ndim != 1:
            raise ValueError(f"busy[{s}] must be 1-D, got shape {b.shape}")
        if b.size == 0:
            raise ValueError(f"stage {s} has no options")
        if c.shape != (b.size, n_res):
            raise ValueError(f"cost[{s}] has shape {c.shape}, expected {(b.size, n_res)}")
        if np.any(b < 0):
            raise ValueError(f"busy[{s}] has negative entries")
        if np.any(c < 0):
            raise ValueError(f"cost[{s}] has negative entries")
        b_out.append(b)
        c_out.append(c)
    return Problem(tuple(b_out), tuple(c_out), cap, int(secondary))


def check_hint(problem: Problem, hint: Sequence[int] | None) -> list[int] | None:
    """Validate a hint (one original option index per stage)."""
    if hint is None:
        return None
    hint = [int(h) for h in hint]
    if len(hint) != problem.n_stages:
        raise ValueError(f"hint has {len(hint)} entries, expected {problem.n_stages}")
    for s, h in enumerate(hint):
        if not 0 <= h < problem.busy[s].size:
            raise ValueError(f"hint[{s}]={h} out of range for {problem.busy[s].size} options")
    return hint


@dataclass(frozen=True)
class CutSpot:
    """Where one chip boundary may lie: in which stages, and whether at either end.

    ``stages`` are the stages ``k`` with possibly ``Q_{k-1} < q <= Q_k < Q``
    (strictly inside the stage or at its end); ``at_start`` is ``q = 0`` and
    ``at_end`` is ``q = Q`` (an unused chip on that side, no traffic).
    """

    stages: tuple[int, ...]
    at_start: bool
    at_end: bool


@dataclass(frozen=True)
class Run:
    """What lies between two consecutive chip boundaries at a constant period.

    The boundary before lies in stage ``tail[0]`` at most at its greatest
    allowed offset, the next in stage ``head[0]`` at least at its least, and
    none in the ``whole`` stages between; so ``tail[1][o]`` crossbars of the
    first (for its option ``o``: beyond that offset), the ``whole`` stages and
    ``head[1][o]`` crossbars of the second fit one chip. ``tail`` is None
    before the first stage a boundary may lie in, ``head`` after the last.
    """

    whole: tuple[int, ...]
    tail: tuple[int, tuple[int, ...]] | None
    head: tuple[int, tuple[int, ...]] | None


@dataclass(frozen=True)
class Placed:
    """A validated placement and the exact per-stage traffic terms both models read.

    Bits per inference (README.md, "Placement"): ``through[k]`` is ``A_k``
    (passing over stage ``k``), ``into[k]`` is ``I_k``, ``out_of[k]`` is
    ``O_k``, ``boundary[k]`` the cut right after stage ``k``. The bandwidth is
    ``num / den`` bits per ps.
    """

    place: Placement
    num: int
    den: int
    through: tuple[int, ...]
    into: tuple[int, ...]
    out_of: tuple[int, ...]
    state: tuple[int, ...]
    boundary: tuple[int, ...]
    total_bits: int  # no cut carries more: every cut's traffic is at most this

    @property
    def n_cuts(self) -> int:
        return self.place.chips - 1

    @property
    def chip_capacity(self) -> int:
        return self.place.chip_capacity

    def max_link_ps(self) -> int:
        """Busy time of a link carrying every bit there is: bounds every link's."""
        return link_busy(self.place, Fraction(self.total_bits))

    def link_row(
        self, k: int, d: int, cap_ps: int | None = None, *, x: int = 0
    ) -> tuple[int, int, int, int] | None:
        """A boundary inside stage ``k`` with ``d`` copies: the integer row ``a_n·n + a_r·r + c <= a_t·T``.

        It is "traffic ≤ T × bandwidth" multiplied by ``d·p`` and the
        bandwidth's denominator, at offset ``n·p + r`` (``n = d, r = 0`` is the
        stage's end), ``p`` the crossbars per copy (a block stage's: the
        option's crossbars ``x``). Returns ``(a_n, a_r, a_t, c)`` divided by
        their gcd, or None if the row holds for every offset once ``T >= cap_ps``.
        """
        p = self.place.unit(k, x)
        a, i, o, st = self.through[k], self.into[k], self.out_of[k], self.state[k]
        # The state term (np + r)(d − n)/d² reduces to r/p: a state implies d = 1.
        a_n, a_r = self.den * p * (o - i), self.den * (o + st)
        const, a_t = self.den * (a + i) * d * p, self.num * d * p
        largest = const + max(a_n * d, 0) + a_r * (p - 1)  # a bound on the left side
        if cap_ps is not None and largest <= a_t * cap_ps:
            return None
        g = math.gcd(a_n, a_r, const, a_t)
        return a_n // g, a_r // g, a_t // g, const // g

    def fixed_row(self, k: int, period: int) -> tuple[int, int, int] | None:
        """A boundary inside stage ``k`` (copies of ``per_copy`` crossbars) with the period a constant.

        :meth:`link_row` at ``T = period`` is linear in the stage's crossbars
        ``x = d·p``: ``a_x·x + a_n·n + a_r·r <= 0``, the same row for every
        option. Returns ``(a_x, a_n, a_r)`` divided by their gcd, or None if it
        holds at every offset of every option (then ``a_x``, ``a_n``, ``a_r`` are
        never positive).
        """
        p = self.place.per_copy[k]
        a, i, o, st = self.through[k], self.into[k], self.out_of[k], self.state[k]
        a_x = self.den * (a + i) - self.num * period
        a_n, a_r = self.den * p * (o - i), self.den * (o + st)
        if a_x <= 0 and a_n <= 0 and a_r <= 0:
            return None
        g = math.gcd(a_x, a_n, a_r)
        return a_x // g, a_n // g, a_r // g

    def cut_range(self, k: int, x: int, d: int, period: int) -> tuple[int, int] | None:
        """Least and greatest offset of a boundary inside stage ``k`` whose link keeps ``period``.

        The option holds ``x`` crossbars in ``d`` copies; an offset ``u`` in
        ``1..x`` (``x`` is the stage's end) is allowed when the cut there is busy
        at most ``period`` ps (:meth:`link_row`; an atomic stage only at its end).
        Returns None when no offset is allowed.
        """
        if x < 1:
            return None
        if self.place.atomic[k]:
            fits = link_busy(self.place, Fraction(self.boundary[k])) <= period
            return (x, x) if fits else None
        p = self.place.unit(k, x)
        a_n, a_r, a_t, const = self.link_row(k, d, x=p)
        return _offset_range(a_n, a_r, a_t * period - const, p, d)

    def runs(
        self, crossbars: Sequence[np.ndarray], copies: Sequence[np.ndarray], period: int
    ) -> list[Run]:
        """The runs between consecutive boundaries at ``period`` that could overfill a chip.

        Redundant rows for both models (README.md, "Run rows"): at ``period`` a
        boundary inside stage ``k`` takes only the offsets :meth:`cut_range`
        allows, so the boundaries before and after the end of a stage ``j`` that
        allows one lie in ``j`` (at most at its greatest offset) and in the next
        stage ``k`` that allows one (at least at its least), none between. A
        stage whose option allows no offset counts whole. ``crossbars[k]`` and
        ``copies[k]`` hold each kept option's; runs that fit a chip at their
        largest are left out.
        """
        n_stages, chip = len(crossbars), self.chip_capacity
        spans = [
            [self.cut_range(k, int(x), int(d), period) for x, d in zip(xs, ds, strict=True)]
            for k, (xs, ds) in enumerate(zip(crossbars, copies, strict=True))
        ]
        cuttable = [k for k in range(n_stages) if any(s is not None for s in spans[k])]
        out = []
        for j, k in itertools.pairwise([-1, *cuttable, n_stages]):
            whole = tuple(range(j + 1, k))
            most = sum(int(crossbars[m].max()) for m in whole)
            tail = head = None
            if j >= 0:  # stage j beyond its greatest allowed offset
                beyond = tuple(
                    int(x) - (s[1] if s else 0) for x, s in zip(crossbars[j], spans[j], strict=True)
                )
                tail, most = (j, beyond), most + max(beyond)
            if k < n_stages:  # stage k before its least
                before = tuple(
                    s[0] if s else int(x) for x, s in zip(crossbars[k], spans[k], strict=True)
                )
                head, most = (k, before), most + max(before)
            if most > chip:
                out.append(Run(whole, tail, head))
        return out

    def layout(
        self, problem: Problem, choice: Sequence[int]
    ) -> tuple[list[int], list[int], list[int]]:
        """Busy time, crossbars and copies of every stage's chosen option."""
        busy = [int(b[o]) for b, o in zip(problem.busy, choice, strict=True)]
        crossbars = [int(c[o, 0]) for c, o in zip(problem.cost, choice, strict=True)]
        copies = [int(d[o]) for d, o in zip(self.place.copies, choice, strict=True)]
        return busy, crossbars, copies

    def period(self, problem: Problem, choice: Sequence[int], cuts: Sequence[int]) -> int:
        """Exact period of ``choice`` placed with ``cuts`` (``placement.period``).

        Raises
        ------
        ValueError
            If the cuts are not a valid placement of the choice.
        """
        return period(self.place, *self.layout(problem, choice), cuts)[0]

    def locate(self, crossbars: Sequence[int], q: int) -> tuple[int, int, int]:
        """Where stage coordinate ``q`` lies, as ``(k, n, r)``.

        ``k = -1`` for ``q = 0``, ``k = S`` for ``q = Q`` (all the crossbars),
        else the stage with ``Q_{k-1} < q <= Q_k``, at offset
        ``q - Q_{k-1} = n·per_copy + r`` (``n = r = 0`` for an atomic stage).
        """
        total = int(sum(crossbars))
        if q <= 0:
            return -1, 0, 0
        if q >= total:
            return len(crossbars), 0, 0
        start = 0
        for k, x in enumerate(crossbars):
            if start < q <= start + int(x):
                if self.place.atomic[k]:
                    return k, 0, 0
                n, r = divmod(q - start, self.place.unit(k, x))
                return k, n, r
            start += int(x)
        raise AssertionError("unreachable: 0 < q < Q lies in some stage")  # pragma: no cover

    def shortfall(self, x_lo: Sequence[int], x_hi: Sequence[int]) -> str | None:
        """Why no layout fits the chain, if the least crossbars already do not (else None)."""
        need, room = int(sum(x_lo)), self.place.chips * self.chip_capacity
        if need > room:
            return (
                f"infeasible: the stages need at least {need} crossbars, the chain of"
                f" {self.place.chips} chips holds {room} (short by {need - room})"
            )
        for c, spot in enumerate(self.spots(x_lo, x_hi), start=1):
            if not (spot.stages or spot.at_start or spot.at_end):
                return f"infeasible: no position fits the boundary between chips {c - 1} and {c}"
        return None

    def spots(self, x_lo: Sequence[int], x_hi: Sequence[int]) -> list[CutSpot]:
        """Where each chip boundary ``q_1..q_{M-1}`` may lie, given each stage's crossbar range.

        Chips before boundary ``c`` hold ``q_c <= c·C``, those after hold
        ``Q - q_c <= (M - c)·C``; a stage starting at or beyond ``c·C`` or
        followed by more than ``(M - c)·C`` crossbars cannot hold the boundary.
        """
        m, cap, s = self.place.chips, self.place.chip_capacity, len(x_lo)
        before = np.concatenate([[0], np.cumsum(x_lo)])  # least Q_{k-1}
        after_lo = np.concatenate([np.cumsum(np.asarray(x_lo)[::-1])[::-1], [0]])[1:]
        after_hi = np.concatenate([np.cumsum(np.asarray(x_hi)[::-1])[::-1], [0]])[1:]
        out = []
        for c in range(1, m):
            room_before, room_after = c * cap, (m - c) * cap
            stages = []
            for k in range(s):
                if x_hi[k] < 1 or after_lo[k] > room_after:
                    continue
                if self.place.atomic[k]:
                    ok = before[k] + x_lo[k] <= room_before and after_hi[k] >= 1
                else:
                    ok = before[k] + 1 <= room_before
                if ok:
                    stages.append(k)
            out.append(
                CutSpot(tuple(stages), int(before[s]) <= room_after, int(before[s]) <= room_before)
            )
        return out


def _offset_range(a_n: int, a_r: int, room: int, p: int, d: int) -> tuple[int, int] | None:
    """Least and greatest ``u = n·p + r`` with ``a_n·n + a_r·r <= room``, or None.

    Over the offsets of a stage of ``d`` copies of ``p``: ``n = 0`` with
    ``r`` in ``1..p-1``, ``n`` in ``1..d-1`` with ``r`` in ``0..p-1``, and the
    end ``n = d, r = 0``. A larger ``n`` always means a larger ``u`` (``r < p``),
    so the extremes are the extreme feasible ``n``, then the extreme ``r``.
    """

    def r_span(n: int) -> tuple[int, int] | None:
        lo, hi = (1 if n == 0 else 0), (0 if n == d else p - 1)
        slack = room - a_n * n  # a_r·r <= slack
        if a_r > 0:
            hi = min(hi, slack // a_r)
        elif a_r < 0:
            lo = max(lo, -(slack // -a_r))  # ceil(slack / a_r)
        elif slack < 0:
            return None
        return (lo, hi) if lo <= hi else None

    # Between the ends every r is allowed, so n is feasible iff a_n·n <= room - min_r a_r·r.
    slack = room - min(0, a_r * (p - 1))
    n_lo, n_hi = 1, d - 1
    if a_n > 0:
        n_hi = min(n_hi, slack // a_n)
    elif a_n < 0:
        n_lo = max(n_lo, -(slack // -a_n))
    elif slack < 0:
        n_lo, n_hi = 1, 0
    rows = [0, *((n_lo, n_hi) if n_lo <= n_hi else ()), d]
    spans = [(n, r_span(n)) for n in sorted(set(rows))]
    ok = [(n, span) for n, span in spans if span is not None]
    if not ok:
        return None
    (n0, (r0, _)), (n1, (_, r1)) = ok[0], ok[-1]
    return n0 * p + r0, n1 * p + r1


def _as_rational(x: object, what: str) -> Fraction:
    if isinstance(x, numbers.Rational) and not isinstance(x, bool):
        return Fraction(int(x.numerator), int(x.denominator))
    raise ValueError(f"{what} must be exact (a Fraction or an int), got {type(x).__name__}")


def check_placed(problem: Problem, placement: Placement) -> Placed:
    """Validate a placement against the problem; raise ``ValueError`` on malformed input.

    Beyond :func:`check_placement`: traffic must be integer bits, the bandwidth
    exact, and a non-atomic stage's crossbars (resource 0) ``copies × per_copy``
    for every option (the offset of a cut inside it is read in copies), or at
    least one for a block stage.
    """
    n_opt = [b.size for b in problem.busy]
    s = problem.n_stages
    if len(placement.per_copy) != s or len(placement.copies) != s or len(placement.atomic) != s:
        raise ValueError(f"the placement must cover the problem's {s} stages")
    copies = []
    for k, d in enumerate(placement.copies):
        d = _as_int_array(d, f"copies[{k}]")
        if d.ndim != 1:
            raise ValueError(f"copies[{k}] must be 1-D, got shape {d.shape}")
        copies.append(d)
    place = Placement(
        chips=int(placement.chips),
        chip_capacity=int(placement.chip_capacity),
        copies=tuple(copies),
        per_copy=tuple(int(p) for p in placement.per_copy),
        atomic=tuple(bool(a) for a in placement.atomic),
        source=_as_int_array(placement.source, "source"),
        flow=_as_int_array(placement.flow, "flow"),
        state=_as_int_array(placement.state, "state"),
        bandwidth=_as_rational(placement.bandwidth, "bandwidth"),
    )
    check_placement(place, n_opt)
    for k in range(s):
        if place.atomic[k]:
            continue
        if place.per_copy[k] == 0:
            if np.any(problem.cost[k][:, 0] < 1):
                raise ValueError(f"stage {k} is one block, so every option needs a crossbar")
        elif np.any(problem.cost[k][:, 0] != copies[k] * place.per_copy[k]):
            raise ValueError(
                f"stage {k} can be cut, so its crossbars (resource 0) must be copies × per_copy"
            )
    bw = place.bandwidth
    return Placed(
        place,
        bw.numerator,
        bw.denominator,
        tuple(place.through(k) for k in range(s)),
        tuple(place.into(k) for k in range(s)),
        tuple(place.out_of(k) for k in range(s)),
        tuple(int(v) for v in place.state),
        tuple(place.boundary(k) for k in range(s)),
        int(place.source.sum() + place.flow.sum() + place.state.sum()),
    )


def check_cuts(placed: Placed | None, cuts: Sequence[int] | None) -> list[int] | None:
    """Validate hinted chip boundaries (``chips - 1`` integers; their validity is not required)."""
    if cuts is None:
        return None
    if placed is None:
        raise ValueError("hint_cuts needs a placement")
    cuts = [int(q) for q in cuts]
    if len(cuts) != placed.n_cuts:
        raise ValueError(f"hint_cuts has {len(cuts)} entries, expected {placed.n_cuts}")
    return cuts


def check_inputs(
    busy: Sequence[np.ndarray],
    cost: Sequence[np.ndarray],
    capacity: np.ndarray,
    secondary: int,
    time_limit: float,
    hint: Sequence[int] | None,
    placement: Placement | None,
    hint_cuts: Sequence[int] | None,
) -> tuple[Problem, list[int] | None, Placed | None, list[int] | None]:
    """Every input a model reads, validated: the problem, the hint, the placement, the hinted cuts.

    Raises
    ------
    ValueError
        On malformed arrays, hint, placement or cuts.
    """
    problem = check_problem(busy, cost, capacity, secondary, time_limit)
    placed = check_placed(problem, placement) if placement is not None else None
    return problem, check_hint(problem, hint), placed, check_cuts(placed, hint_cuts)


@dataclass(frozen=True)
class Reduced:
    """Options that survive the exact reduction, per stage.

    ``keep[s]`` are original indices (ascending busy); ``rep[s][o]`` maps every
    original option to a kept option at least as good in every respect, or -1
    if the option can never be chosen (it alone exceeds the capacity).
    """

    keep: tuple[np.ndarray, ...]
    rep: tuple[np.ndarray, ...]
    empty_stage: int | None  # first stage with no usable option, if any

    def at_most(self, problem: Problem, t: int) -> Reduced:
        """Only the kept options with busy at most ``t``.

        Exact once a design with bottleneck (or period) ``t`` is known: the
        optimum is no slower, so no slower option is in it. Options mapped to
        a dropped one are at least as slow, and are dropped too.
        """
        keep, rep = [], []
        for b, k, r in zip(problem.busy, self.keep, self.rep, strict=True):
            drop = k[b[k] > t]
            r = r.copy()
            r[np.isin(r, drop)] = -1
            keep.append(k[b[k] <= t])
            rep.append(r)
        return Reduced(tuple(keep), tuple(rep), self.empty_stage)

    def hint_local(self, hint: Sequence[int] | None) -> list[int | None] | None:
        """Hint as positions into ``keep[s]`` (None where the hinted option is unusable)."""
        if hint is None:
            return None
        out: list[int | None] = []
        for s, h in enumerate(hint):
            k = int(self.rep[s][h])
            out.append(None if k < 0 else int(np.flatnonzero(self.keep[s] == k)[0]))
        return out


def reduce_options(
    problem: Problem, placed: Placed | None = None, clock: Clock | None = None
) -> Reduced:
    """Drop options that cannot matter, exactly.

    An option is dropped if (a) its own cost exceeds the capacity in some
    resource (it can never be part of a feasible choice), or (b) another option
    of the same stage has busy <= and cost <= in every resource (swapping to the
    dominating option keeps feasibility and never worsens either objective).
    Exact duplicates keep the lowest index.

    With a placement, (a) also drops an option larger than the chain (or, for
    an atomic stage, than one chip), and (b) also asks for the same footprint
    on the chain, since the traffic of a cut inside a stage depends on its
    copies. For a stage that can be cut the dominator must have the same
    copies (hence the same crossbars and the same traffic at every offset);
    for an atomic stage it may be smaller but not empty (shifting the later
    stages left keeps every cut's traffic and no chip grows; an empty stage
    would move the cut at its end onto an earlier stage's boundary).

    With one resource and no placement, the sweep below is a running minimum
    (kept costs strictly fall along it), computed with numpy in O(n log n).

    Raises
    ------
    OutOfTime
        If ``clock`` runs out (checked between stages).
    """
    keep, rep = [], []
    empty = None
    for s, (b, c) in enumerate(zip(problem.busy, problem.cost, strict=True)):
        n = b.size
        r = np.full(n, -1, dtype=np.int64)
        fits = np.all(c <= problem.capacity, axis=1)
        if placed is not None:
            chain = placed.place.chips * placed.chip_capacity
            limit = placed.chip_capacity if placed.place.atomic[s] else chain
            fits &= c[:, 0] <= limit
        cand = np.flatnonzero(fits)
        # Lexicographic sweep by (busy, cost_0, ..., cost_{R-1}, index): any
        # dominator of an option comes before it, so the kept set is final
        # (the footprint conditions are transitive too).
        order = cand[np.lexsort((cand, *c[cand].T[::-1], b[cand]))]
        if clock is not None:
            clock.check("while reducing the options")
        if placed is None and (c.shape[1] == 1 or order.size <= _PAIRWISE_MAX):
            if c.shape[1] == 1:
                kept_arr = _running_minimum(c[order, 0], order, r)
            else:
                kept_arr = _pairwise_sweep(c[order], order, r)
            if not kept_arr.size and empty is None:
                empty = s
            keep.append(kept_arr)
            rep.append(r)
            continue
        kept: list[int] = []
        kept_cost = np.empty((order.size, c.shape[1]), dtype=np.int64)
        for o in order:
            dom = np.all(kept_cost[: len(kept)] <= c[o], axis=1)
            if placed is not None and kept:
                dom &= _same_footprint(placed, s, np.asarray(kept), int(o), c)
            dom = np.flatnonzero(dom)
            if dom.size:
                r[o] = kept[int(dom[0])]
                continue
            kept_cost[len(kept)] = c[o]
            kept.append(int(o))
            r[o] = o
        if not kept and empty is None:
            empty = s
        keep.append(np.asarray(kept, dtype=np.int64))
        rep.append(r)
    return Reduced(tuple(keep), tuple(rep), empty)


def fitting_hint(
    problem: Problem, keep: Sequence[np.ndarray], local: Sequence[int | None] | None
) -> tuple[int, list[int]] | None:
    """The warm start's bottleneck and choice, if it names every stage and fits."""
    if local is None or any(h is None for h in local):
        return None
    choice = [int(k[h]) for k, h in zip(keep, local, strict=True) if h is not None]
    t_hint, total = problem.evaluate(choice)
    return (t_hint, choice) if problem.fits(total) else None


def placed_warm_start(
    problem: Problem,
    red: Reduced,
    placed: Placed | None,
    hint: Sequence[int] | None,
    cuts: Sequence[int] | None,
) -> tuple[int, list[int], list[int]] | None:
    """A placed hint's period, choice (kept options) and cuts, if it is a valid design."""
    if placed is None or hint is None or cuts is None:
        return None
    fitting = fitting_hint(problem, red.keep, red.hint_local(hint))
    if fitting is None:
        return None
    try:
        return placed.period(problem, fitting[1], cuts), fitting[1], [int(q) for q in cuts]
    except ValueError:  # not a valid placement of the (reduced) choice
        return None


def least_cost(problem: Problem, keep: Sequence[np.ndarray], resource: int) -> int:
    """Every stage's cheapest option in ``keep`` of one resource, summed: no choice costs less.

    A stage with no option in ``keep`` adds nothing.
    """
    return sum(int(problem.cost[s][k, resource].min()) for s, k in enumerate(keep) if k.size)


def too_costly(problem: Problem, red: Reduced) -> str | None:
    """Why no choice can fit, if even each stage's cheapest option per resource is too much.

    A necessary condition checked before any model is built, so that an
    infeasible budget costs a sum, not a model of every option.
    """
    for r, cap in enumerate(problem.capacity):
        least = least_cost(problem, red.keep, r)
        if least > int(cap):
            return (
                f"infeasible: the stages' cheapest options need {least:,} of resource {r},"
                f" over its capacity {int(cap):,}"
            )
    return None


def _running_minimum(cost: np.ndarray, order: np.ndarray, rep: np.ndarray) -> np.ndarray:
    """One resource, options in sweep order: keep those cheaper than every earlier one.

    Fills ``rep`` for the swept options: the first kept option (in sweep order)
    that costs no more, which is the loop's "first dominator". Returns the kept
    option indices in sweep order.
    """
    if not order.size:
        return order.astype(np.int64)
    before = np.minimum.accumulate(cost)
    kept = np.ones(order.size, dtype=bool)
    kept[1:] = cost[1:] < before[:-1]
    kept_idx = order[kept]
    kept_cost = cost[kept]  # strictly decreasing
    # First kept position whose cost is <= this option's: search the rising negation.
    pos = np.searchsorted(-kept_cost, -cost, side="left")
    rep[order] = kept_idx[pos]
    return kept_idx.astype(np.int64)


# A stage's options compared pairwise at once up to this many (a boolean
# matrix of this size squared); beyond it, one option at a time.
_PAIRWISE_MAX = 2048


def _pairwise_sweep(cost: np.ndarray, order: np.ndarray, rep: np.ndarray) -> np.ndarray:
    """Several resources, options in sweep order: the loop of :func:`reduce_options` at once.

    An option is kept iff no earlier one costs no more in every resource
    (dominance is transitive, so "no earlier kept one" is the same), and
    ``rep`` maps each to its first kept dominator (itself if kept).
    """
    n = order.size
    if not n:
        return order.astype(np.int64)
    le = np.ones((n, n), dtype=bool)  # le[p, o]: p costs no more than o in every resource
    for r in range(cost.shape[1]):
        le &= cost[:, None, r] <= cost[None, :, r]
    earlier = np.triu(le, 1)  # [p, o] with p before o, as the loop sees them
    kept = ~earlier.any(axis=0)
    first = np.argmax(le[kept], axis=0)  # the first kept option dominating each one
    kept_idx = order[kept]
    rep[order] = kept_idx[first]
    return kept_idx.astype(np.int64)


def _same_footprint(
    placed: Placed, s: int, kept: np.ndarray, o: int, cost: np.ndarray
) -> np.ndarray:
    """Which kept options of stage ``s`` may stand in for option ``o`` on the chain."""
    if placed.place.atomic[s]:
        return (cost[kept, 0] >= 1) | (cost[o, 0] == 0)
    copies = placed.place.copies[s]  # and the same crossbars (a block stage's differ)
    return (copies[kept] == copies[o]) & (cost[kept, 0] == cost[o, 0])
