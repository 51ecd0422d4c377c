"""Copies and placement together: the least period on a chain of chips, exactly.

The placement model is formulations/README.md's "Placement on a chain of chips":
stages laid out in order along the crossbars, chips holding consecutive
segments, a link between neighbours carrying the exact traffic of its cut.

**Search.** For a period ``T``, is there a choice of options and cuts with every
stage's busy time and every link's busy time at most ``T``? The options a stage
may take are those with busy ≤ T. A dynamic program runs over the stages in
order; its state after a stage is the number of chips begun, and for each, the
least fill of the last chip: a state with less fill dominates (every later cut
is priced by its stage coordinate alone, never by where a chip began, so more
room only helps). From a state, a stage is placed

- whole on the current chip, with its cheapest option meeting ``T`` (a dearer
  option only takes more room when no cut falls inside it);
- after a cut at its start (the boundary before it must carry at most T × bandwidth);
- or cut inside, for each option meeting ``T`` (its copy count decides what the
  cuts inside carry): each cut as late as the chip's room and the cut's traffic
  allow. Whether an offset is feasible depends on the offset only, so the
  latest feasible cut reaches furthest and the fewest cuts leave the least on
  the last chip; the same with one cut more (as late as it may lie) begins one
  more chip with even less on it, a state the first does not dominate. More
  cuts than that only begin more chips for the same least fill.

The search for a period keeps, per number of chips begun, only the state with
the least fill; it cuts a stage for all its options at once in numpy
(:func:`_span_least`, the same closed forms in int64 where no product can
overflow), keeping per number of cuts the way that pruning would keep, so it
visits the same states as the option-by-option loop (tested).

``T`` is feasible iff some state fits the chips; feasibility is monotone in
``T``, so bisection on integer ``T`` finds the least. At that ``T`` a second
pass keeps, per state, the Pareto front of (fill, crossbars) and reconstructs
the allocation with the fewest crossbars. Both passes are exact.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple

import numpy as np

from formulations.placement import Placement, period
from hitm.optimize.arrays import monotone
from hitm.optimize.result import Method, SolveResult, Status
from hitm.problem import AllocationProblem
from hitm.staircase import distinct

__all__ = ["best_cuts", "fill_cuts", "solve_blind", "solve_placed"]


@dataclass(frozen=True)
class _Cuts:
    """Per-stage traffic figures (bits per inference) the cut rules read."""

    through: tuple[int, ...]  # A_k: passing over stage k
    into: tuple[int, ...]  # I_k
    out: tuple[int, ...]  # O_k
    boundary: tuple[int, ...]  # after stage k
    state: tuple[int, ...]

    @staticmethod
    def of(place: Placement) -> _Cuts:
        s = place.n_stages
        return _Cuts(
            tuple(place.through(k) for k in range(s)),
            tuple(place.into(k) for k in range(s)),
            tuple(place.out_of(k) for k in range(s)),
            tuple(place.boundary(k) for k in range(s)),
            tuple(int(place.state[k]) for k in range(s)),
        )

    def period(
        self,
        place: Placement,
        busy: Sequence[int],
        crossbars: Sequence[int],
        copies: Sequence[int],
        cuts: Sequence[int],
    ) -> int:
        """:func:`formulations.placement.period` of a design the search laid out (so valid),
        from these figures: the same cut traffic, without re-summing the flows per cut."""
        ends = list(itertools.accumulate(int(x) for x in crossbars))
        total = ends[-1] if ends else 0
        num, den = place.bandwidth.numerator, place.bandwidth.denominator
        slowest = max(busy, default=0)
        for q in cuts:
            if q <= 0 or q >= total:
                continue
            k = bisect.bisect_left(ends, q)
            if ends[k] == q:
                bits, scale = self.boundary[k], 1
            else:  # cut_traffic's sum over the common denominator d²c, in integers
                start = ends[k - 1] if k else 0
                d, c = int(copies[k]), place.unit(k, crossbars[k])
                n, r = divmod(q - start, c)
                made = n * c + r
                bits = (
                    self.through[k] * d * d * c
                    + self.into[k] * (d - n) * d * c
                    + self.out[k] * made * d
                    + self.state[k] * made * (d - n)
                )
                scale = d * d * c
            slowest = max(slowest, -(-bits * den // (scale * num)))  # ceil(bits / bandwidth)
        return slowest


def _cap(place: Placement, t: int) -> Fraction:
    """The most bits a link carries within ``t`` ps."""
    return place.bandwidth * t


def _latest_inside(
    a: int, i: int, o: int, d: int, p: int, x: int, limit: int, num: int, den: int
) -> int:
    """The latest offset in ``[1, min(limit, x − 1)]`` inside a stage whose cut carries ≤ cap.

    0 if there is none. The stage has ``d`` copies of ``p`` crossbars (``x``
    in all); ``a``, ``i`` and ``o`` are the bits passing over it, its input
    and its output plus its state (:class:`_Cuts`); the cap is ``num / den``
    bits. The traffic at offset ``n·p + r`` is ``A + I(d − n)/d + O(n p + r)/(d p)``;
    for fixed ``n`` it grows with ``r``, so each copy segment is solved in
    closed form, in integers: traffic·d·p·den ≤ num·d·p ⇔ base(n) + o·r·den ≤ room.
    """
    top = min(limit, x - 1)
    if top < 1:
        return 0
    dp = d * p
    room = num * dp
    n_top, r_top = divmod(top, p)
    slack = room - (a * dp + i * (d - n_top) * p + o * n_top * p) * den
    if slack >= 0:
        r = r_top if o == 0 else min(r_top, slack // (o * den))
        if n_top * p + r >= 1:
            return n_top * p + r
    if o <= i:  # base(n) does not fall with n: no earlier copy segment is cheaper
        return 0
    # base(n) grows with n: the latest copy segment starting within the cap.
    n = min(n_top - 1, (room // den - (a + i) * dp) // ((o - i) * p))
    while n >= 0:  # at most two steps: the bound on n is exact up to rounding
        slack = room - (a * dp + i * (d - n) * p + o * n * p) * den
        if slack >= 0:
            r = p - 1 if o == 0 else min(p - 1, slack // (o * den))
            if n * p + r >= 1:
                return n * p + r
        n -= 1
    return 0


def _span(
    flows: tuple[int, int, int],
    d: int,
    p: int,
    x: int,
    fill: int,
    chip: int,
    cap: tuple[int, int],
) -> list[tuple[int, list[int]]]:
    """A stage (``x`` crossbars) begun at ``fill`` of a chip, cut inside as late as allowed.

    ``flows`` and ``cap`` are :func:`_latest_inside`'s ``(a, i, o)`` and
    ``(num, den)``. Returns up to two ways, each the fill of the last chip
    reached and the cuts (offsets inside the stage): the fewest cuts that lay
    the stage out (none if it fits), and the same with one more cut, as late as
    it may lie, which begins one more chip but leaves less on it. More cuts
    than that only begin more chips for the same least fill.
    """
    a, i, o = flows
    num, den = cap
    ways: list[tuple[int, list[int]]] = []
    offsets: list[int] = []
    start = 0  # offset where the current chip's share of the stage begins
    room = chip - fill
    while x - start > room:
        t = _latest_inside(a, i, o, d, p, x, start + room, num, den)
        if t <= start:
            return []
        offsets.append(t)
        start, room = t, chip
    ways.append((x - start, offsets))
    t = _latest_inside(a, i, o, d, p, x, start + room, num, den)
    if t > start:
        ways.append((x - t, [*offsets, t]))
    return ways


def _latest_inside_all(
    a: int,
    i: int,
    o: int,
    d: np.ndarray,
    p: np.ndarray,
    x: np.ndarray,
    limit: np.ndarray,
    num: int,
    den: int,
) -> np.ndarray:
    """:func:`_latest_inside` for many options at once (int64 arrays; the caller has
    checked that no product overflows): the same closed form, step for step."""
    top = np.minimum(limit, x - 1)
    out = np.zeros_like(top)
    valid = top >= 1
    dp = d * p
    room = num * dp
    n_top, r_top = np.divmod(top, p)
    slack = room - (a * dp + i * (d - n_top) * p + o * n_top * p) * den
    r = r_top if o == 0 else np.minimum(r_top, np.maximum(slack, 0) // (o * den))
    t = n_top * p + r
    first = valid & (slack >= 0) & (t >= 1)
    out[first] = t[first]
    if o <= i:
        return out
    n = np.minimum(n_top - 1, (room // den - (a + i) * dp) // ((o - i) * p))
    active = valid & ~first
    while True:
        active &= n >= 0
        if not active.any():
            return out
        slack = room - (a * dp + i * (d - n) * p + o * n * p) * den
        r = p - 1 if o == 0 else np.minimum(p - 1, np.maximum(slack, 0) // (o * den))
        t = n * p + r
        hit = active & (slack >= 0) & (t >= 1)
        out[hit] = t[hit]
        active &= ~hit
        n = n - 1


_INT64_SAFE = 1 << 62


def _int64_safe(flows: tuple[int, int, int], cap: tuple[int, int], widest: int) -> bool:
    """Whether :func:`_latest_inside_all`'s products stay inside int64 for these figures."""
    a, i, o = flows
    num, den = cap
    return (num + (a + i + o) * den) * widest * 4 < _INT64_SAFE


def _anywhere(
    flows: tuple[int, int, int], columns: Columns, cap: tuple[int, int]
) -> np.ndarray | None:
    """Each option's latest cut anywhere inside the stage (0: none), or None if int64
    could overflow. It is the "one more cut" of every way :func:`_span_least` lays an
    option out, whatever the fill: what is left after its cuts fits a chip."""
    _, x, d = columns
    if not len(x) or not _int64_safe(flows, cap, int(x.max())):
        return None
    return _latest_inside_all(*flows, d, x // d, x, x - 1, *cap)


def _span_least(
    flows: tuple[int, int, int],
    ids: np.ndarray,
    d: np.ndarray,
    x: np.ndarray,
    fill: int,
    chip: int,
    cap: tuple[int, int],
    cuts_left: int,
    anywhere: np.ndarray | None = None,
) -> list[tuple[int, int, int, int, tuple[int, ...]]] | None:
    """:func:`_span` for every option of a stage at once, keeping what the period search
    (``pareto`` off) keeps: for each number of cuts, the way with the least fill on its
    last chip (then the fewest crossbars, then the first option, first way).

    ``cuts_left`` bounds the cuts (more begin chips beyond the last). ``anywhere``:
    each option's latest cut anywhere inside it (:func:`_anywhere`), if the caller
    has it. Returns ``(cuts, fill, option id, crossbars, offsets)`` per number of
    cuts, or None when a product could overflow int64 (the caller falls back to
    :func:`_span`).
    """
    a, i, o = flows
    num, den = cap
    if not _int64_safe(flows, cap, int(x.max())):
        return None
    p = x // d
    n = len(x)
    start = np.zeros(n, dtype=np.int64)
    room = np.full(n, chip - fill, dtype=np.int64)
    alive = np.ones(n, dtype=bool)
    made = np.zeros(n, dtype=np.int64)
    offsets = np.zeros((n, cuts_left + 1), dtype=np.int64)
    while True:
        need = alive & (x - start > room)
        if not need.any():
            break
        at = np.flatnonzero(need)
        limit = start[at] + room[at]
        t = _latest_inside_all(a, i, o, d[at], p[at], x[at], limit, num, den)
        dead = t <= start[at]
        alive[at[dead]] = False
        go = at[~dead]
        t = t[~dead]
        over = made[go] >= cuts_left  # one more cut would begin a chip beyond the last
        alive[go[over]] = False
        go, t = go[~over], t[~over]
        offsets[go, made[go]] = t
        made[go] += 1
        start[go] = t
        room[go] = chip
    # Every way: (cuts, last fill, crossbars, order of the scalar loop, option, extra cut).
    live = np.flatnonzero(alive)
    fewest = live[made[live] > 0]
    more = live[made[live] < cuts_left]
    if anywhere is None:
        extra = _latest_inside_all(
            a, i, o, d[more], p[more], x[more], start[more] + room[more], num, den
        )
    else:  # what is left of a live option fits its chip: the room never binds that cut
        extra = anywhere[more]
    ok = extra > start[more]
    more, extra = more[ok], extra[ok]
    option = np.concatenate([fewest, more])
    n_cuts = np.concatenate([made[fewest], made[more] + 1])
    last = np.concatenate([x[fewest] - start[fewest], x[more] - extra])
    order = np.concatenate([2 * fewest, 2 * more + 1])
    extras = np.concatenate([np.full(len(fewest), -1, dtype=np.int64), extra])
    if not len(option):
        return []
    # Per number of cuts the least (fill, crossbars, order): sorted, the first of each count.
    rank = np.lexsort((order, x[option], last, n_cuts))
    counts, first = np.unique(n_cuts[rank], return_index=True)
    out = []
    for c, w in zip(counts.tolist(), rank[first].tolist(), strict=True):
        j = int(option[w])
        cut = offsets[j, : made[j]].tolist()
        if extras[w] >= 0:
            cut.append(int(extras[w]))
        out.append((c, int(last[w]), int(ids[j]), int(x[j]), tuple(cut)))
    return out


class _Node(NamedTuple):
    """A DP state and how it was reached (a tuple: a search makes thousands).

    ``chip``: chips begun (0-based index of the last); ``fill``: crossbars on it;
    ``end``: stage coordinate where the next stage begins; ``crossbars`` so far.
    """

    chip: int
    fill: int
    end: int
    crossbars: int
    option: int = -1
    cuts: tuple[int, ...] = ()  # the cuts made at this stage (stage coordinates)
    parent: _Node | None = None


# A stage's candidates for a period: (option id, crossbars, copies), the cheapest first;
# the same as three int64 arrays.
Candidates = list[tuple[int, int, int]]
Columns = tuple[np.ndarray, np.ndarray, np.ndarray]


def _search(
    place: Placement,
    candidates: list[Candidates],
    cap: Fraction,
    pareto: bool,
    budget: int | None = None,
    cuts: _Cuts | None = None,
    columns: list[Columns] | None = None,
) -> list[_Node]:
    """The DP with link cap ``cap`` bits: the final states, or [] if none fits the chips.

    ``budget`` caps the crossbars in all when it is less than the chips hold
    (a crossbar budget that is not a whole number of chips); the pruning must
    then keep crossbars too (``pareto``). ``cuts``: ``_Cuts.of(place)``, if the
    caller searches the same placement several times. ``columns``: the
    candidates as arrays, if the caller has them.
    """
    budget = place.chips * place.chip_capacity if budget is None else budget
    cuts = _Cuts.of(place) if cuts is None else cuts
    chip, chips = place.chip_capacity, place.chips
    # The least the stages after each one need: no state may leave less room than that.
    after = [0] * (len(candidates) + 1)
    for k in range(len(candidates) - 1, -1, -1):
        after[k] = after[k + 1] + (candidates[k][0][1] if candidates[k] else 0)
    layer = [_Node(0, 0, 0, 0)]
    latest: dict[tuple[int, int], int] = {}  # per (stage, option): the latest cut inside it
    anywhere: dict[int, np.ndarray | None] = {}  # the same per stage, for every option
    for k, options in enumerate(candidates):
        if not options:
            return []
        cheap_id, cheap_x, _ = options[0]
        sizes = columns[k][1] if columns is not None else [o[1] for o in options]
        cuttable = cuts_ok(cuts, k, cap)  # the boundary before the stage: once, not per state
        flows = _flows(cuts, k)
        one_by_one = functools.partial(_inside, flows=flows, latest=latest)
        at_once = None  # the period search, with the stage's options as arrays
        if not pareto and columns is not None and len(options) >= _VECTOR_OPTIONS:
            at_once = functools.partial(_inside_least, columns[k], chips, anywhere, flows=flows)
        nxt: list[_Node] = []
        for node in layer:
            room = (
                min((chips - node.chip) * chip - node.fill, budget - node.crossbars) - after[k + 1]
            )
            # Cheapest first: the options that fit are a prefix (the rest cannot fit).
            options = candidates[k][: bisect.bisect_right(sizes, room)]
            if not options:
                continue
            found: list[tuple[int, int, int, int, tuple[int, ...]]] = []  # chip, fill, id, x, cuts
            if node.fill + cheap_x <= chip:
                found.append((node.chip, node.fill + cheap_x, cheap_id, cheap_x, ()))
            inside = at_once if at_once and len(options) >= _VECTOR_OPTIONS else one_by_one
            if node.fill > 0 and node.chip + 1 < chips and cuttable:
                # A cut at the stage's start: a fresh chip, then the stage whole or cut inside.
                if cheap_x <= chip:
                    found.append((node.chip + 1, cheap_x, cheap_id, cheap_x, (node.end,)))
                found += inside(
                    place, cuts, k, options, 0, node.chip + 1, node.end, cap, (node.end,)
                )
            found += inside(place, cuts, k, options, node.fill, node.chip, node.end, cap, ())
            for c, fill, o, x, made in found:
                if c < chips:
                    nxt.append(_Node(c, fill, node.end + x, node.crossbars + x, o, made, node))
        layer = _prune(nxt, pareto)
        if not layer:
            return []
    return layer


def cuts_ok(cuts: _Cuts, k: int, cap: Fraction) -> bool:
    """Whether the boundary before stage ``k`` may be cut (``k > 0``)."""
    return k > 0 and cuts.boundary[k - 1] <= cap


def _inside(place, cuts, k, options, fill, chip, begin, cap, made, flows=None, latest=None):
    """Stage ``k`` cut inside (:func:`_span`), for each candidate option.

    Laying a stage out whole is left to the caller (the cheapest option does it best).
    ``flows``: the stage's :func:`_flows`, if the caller has them. ``latest``: a dict
    the caller keeps for one search (one cap), remembering per (stage, option) the
    latest cut anywhere inside it.
    """
    if place.atomic[k]:
        return []
    out = []
    flows = flows or _flows(cuts, k)
    ratio = (cap.numerator, cap.denominator)
    chip_capacity = place.chip_capacity
    for o, x, d in options:
        if latest is not None and x <= chip_capacity - fill:
            # It fits: its only way with a cut is the latest cut anywhere inside it, the
            # same whatever the fill (:func:`_span`'s "one more cut" with no cut needed).
            t = latest.get((k, o))
            if t is None:
                t = latest[k, o] = _latest_inside(*flows, d, x // d, x, x - 1, *ratio)
            if t > 0:
                out.append((chip + 1, x - t, o, x, (*made, begin + t)))
            continue
        for last_fill, offsets in _span(flows, d, x // d, x, fill, chip_capacity, ratio):
            if offsets:
                out.append(
                    (chip + len(offsets), last_fill, o, x, (*made, *(begin + t for t in offsets)))
                )
    return out


def _flows(cuts: _Cuts, k: int) -> tuple[int, int, int]:
    """What a cut inside stage ``k`` carries: bits passing over it, its input, its output
    and state (:func:`_latest_inside`'s ``a``, ``i``, ``o``)."""
    return cuts.through[k], cuts.into[k], cuts.out[k] + cuts.state[k]


# From this many options on, the period search cuts a stage for all of them at once.
_VECTOR_OPTIONS = 4


def _inside_least(
    columns, chips, memo, place, cuts, k, options, fill, chip, begin, cap, made, flows
):
    """:func:`_inside` for the period search: of the ways each option is cut, those
    :func:`_prune` could keep (:func:`_span_least`), computed for all options at once.

    ``columns`` are the stage's candidates as arrays (ids, crossbars, copies), cheapest
    first; ``options`` are those within ``room``, in the same order; ``memo`` keeps per
    stage, for one search, each option's latest cut anywhere inside it.
    """
    if place.atomic[k]:
        return []
    ratio = (cap.numerator, cap.denominator)
    if k not in memo:
        memo[k] = _anywhere(flows, columns, ratio)
    fit = len(options)  # a prefix of the columns
    ids, x, d = (col[:fit] for col in columns)
    anywhere = memo[k][:fit] if memo[k] is not None else None
    ways = _span_least(
        flows, ids, d, x, fill, place.chip_capacity, ratio, chips - 1 - chip, anywhere
    )
    if ways is None:  # numbers too large for int64: one option at a time
        return _inside(place, cuts, k, options, fill, chip, begin, cap, made, flows)
    return [
        (chip + n_cuts, last_fill, o, xo, (*made, *(begin + t for t in offsets)))
        for n_cuts, last_fill, o, xo, offsets in ways
    ]


def _prune(nodes: list[_Node], pareto: bool) -> list[_Node]:
    """The states no other beats: fewer chips begun and less fill (and, with ``pareto``,
    fewer crossbars) can do all a state can, since later cuts are priced by their
    place in the stages alone."""
    kept: list[_Node] = []
    for node in sorted(nodes, key=lambda n: (n.chip, n.fill, n.crossbars)):
        if not pareto:
            if not kept or node.fill < kept[-1].fill:
                kept.append(node)  # sorted by chips: kept only if it leaves more room
            continue
        if not any(k.fill <= node.fill and k.crossbars <= node.crossbars for k in kept):
            kept.append(node)
    return kept


def _reconstruct(node: _Node, chips: int) -> tuple[list[int], list[int]]:
    """Options per stage and the chips − 1 cuts of a final state."""
    total = node.end
    choice: list[int] = []
    made: list[int] = []
    while node.parent is not None:
        choice.append(node.option)
        made = [*node.cuts, *made]
        node = node.parent
    choice.reverse()
    return choice, [*made, *([total] * (chips - 1 - len(made)))]


class _Options:
    """Each stage's options as the placement search reads them, for any period.

    Options run slow → fast; for a period ``T`` a stage's candidates are those
    with busy ≤ T, cheapest (fewest crossbars) first.
    """

    def __init__(self, problem: AllocationProblem) -> None:
        self.busy = [s.busy_ps for s in problem.stages]
        self.sorted = monotone(problem)  # cost grows as busy falls: a suffix, cheapest first
        self.columns = [
            (np.arange(s.n_options, dtype=np.int64), s.cost[:, 0].astype(np.int64),
             np.asarray(d, dtype=np.int64))
            for s, d in zip(problem.stages, problem.placement.copies, strict=True)
        ]  # fmt: skip
        self.rows = [
            list(zip(*(col.tolist() for col in cols), strict=True)) for cols in self.columns
        ]
        # Busy falls along the options: -busy rises (lists: bisect beats numpy on small ones).
        self._falling = [(-b).tolist() for b in self.busy]
        # The last suffixes built, with where each stage's begins.
        self._last: tuple[tuple[int, ...], tuple[list[Candidates], list[Columns]]] | None = None

    def at(self, t: int) -> tuple[list[Candidates], list[Columns]]:
        """Each stage's candidates for period ``t``, as rows and as the same columns.

        Periods between two busy values admit the same options: the lists are
        built once for them (a stage may hold thousands).
        """
        if self.sorted:
            firsts = tuple(bisect.bisect_left(b, -t) for b in self._falling)
            if self._last is None or self._last[0] != firsts:
                rows = [rows[f:] for rows, f in zip(self.rows, firsts, strict=True)]
                cols = [
                    tuple(col[f:] for col in cols)
                    for cols, f in zip(self.columns, firsts, strict=True)
                ]
                self._last = (firsts, (rows, cols))
            return self._last[1]
        out, columns = [], []
        for busy, rows, cols in zip(self.busy, self.rows, self.columns, strict=True):
            ok = np.flatnonzero(busy <= t)
            order = ok[np.argsort(cols[1][ok], kind="stable")]
            out.append([rows[j] for j in order.tolist()])
            columns.append(tuple(col[order] for col in cols))
        return out, columns


def _upper(place: Placement, busy: int) -> int:
    """A period every placement meets: the slowest stage, or every bit over one link."""
    total_bits = int(place.source.sum() + place.flow.sum() + place.state.sum())
    bw = place.bandwidth
    return max(busy, -(-total_bits * bw.denominator // bw.numerator))


def layout(
    problem: AllocationProblem, choice: Sequence[int]
) -> tuple[list[int], list[int], list[int]]:
    """Busy time, crossbars and copies (as the placement counts them) of each chosen option."""
    stages, copies = problem.stages, problem.placement.copies
    return (
        [int(s.busy_ps[o]) for s, o in zip(stages, choice, strict=True)],
        [int(s.cost[o, 0]) for s, o in zip(stages, choice, strict=True)],
        [int(d[o]) for d, o in zip(copies, choice, strict=True)],
    )


def _relaxed(problem: AllocationProblem) -> SolveResult:
    """The crossbar-only optimum (links free, chips pooled): a lower bound on the placed period."""
    free = dataclasses.replace(problem, placement=None)
    if monotone(free):
        from hitm.optimize.bisect import solve_bisect

        return solve_bisect(free)
    from hitm.optimize.dp import solve_dp

    return solve_dp(free)


def solve_placed(problem: AllocationProblem, method: Method = Method.BISECT) -> SolveResult:
    """The least period over copies and placement, then the fewest crossbars (exact).

    The period lies between the crossbar-only optimum (a relaxation: the same
    problem without chip boundaries or links) and the placement-blind design's
    period (one valid placement). The search bisects over the stages' busy
    values, then over the periods only links set, probing near the best design.
    """
    start = time.perf_counter()
    place = problem.placement
    if place is None:  # pragma: no cover - callers check
        raise ValueError("solve_placed needs a problem with a placement")
    if len(problem.resources) > 1:
        return SolveResult(
            method,
            Status.ERROR,
            seconds=time.perf_counter() - start,
            message=f"{method} does not place with several budgeted resources yet: cpsat and"
            " ilp do; or budget crossbars or chips only, or set interconnect: ideal",
        )
    relaxed = _relaxed(problem)
    if relaxed.bottleneck_ps is None:
        return SolveResult(method, relaxed.status, seconds=time.perf_counter() - start,
                           message=relaxed.message)  # fmt: skip
    budget = int(problem.capacity[0])
    tight = budget < place.chips * place.chip_capacity  # the chips hold more than the budget
    options = _Options(problem)
    figures = _Cuts.of(place)

    def achieved(t: int) -> int | None:
        """The period of a design meeting ``t`` (at most ``t``), or None if none does."""
        (candidates, columns), cap = options.at(t), _cap(place, t)
        # Each stage's cheapest option alone often fits already: a quick proof of feasibility.
        final = _search(place, [c[:1] for c in candidates], cap, tight, budget, figures)
        final = final or _search(place, candidates, cap, tight, budget, figures, columns)
        if not final:
            return None
        choice, cuts = _reconstruct(final[0], place.chips)
        return figures.period(place, *layout(problem, choice), cuts)

    lo = relaxed.bottleneck_ps
    blind = _blind(problem, relaxed)
    hi = blind.bottleneck_ps or _upper(place, max(int(s.busy_ps.max()) for s in problem.stages))
    top = achieved(hi)
    if top is None:
        return SolveResult(
            method,
            Status.INFEASIBLE,
            seconds=time.perf_counter() - start,
            message=f"the stages cannot be laid out on {place.chips} chip"
            f"{'s' if place.chips != 1 else ''} of {place.chip_capacity:,} crossbars",
        )
    hi = top
    # The least period is a stage's busy time or a link's. First the least busy value that
    # is feasible (the options a period admits change only there), then, between it and
    # the busy value below, the periods only links can set.
    values = distinct(np.concatenate([st.busy_ps for st in problem.stages]))
    values = [int(v) for v in values[(values >= lo) & (values < hi)]] + [hi]
    first, last = 0, len(values) - 1
    while first < last:
        mid = (first + last) // 2
        found = achieved(values[mid])
        if found is None:
            first = mid + 1
        else:
            last = int(np.searchsorted(values, found, side="left"))
            hi = min(hi, found)
    hi = min(hi, values[first])
    lo = max(lo, values[first - 1] + 1 if first > 0 else lo)
    probe = hi - 1  # often nothing is faster than the best design so far: that ends it
    refuted = True
    while lo < hi:
        found = achieved(probe)
        refuted = found is None
        if refuted:
            lo = probe + 1
        else:
            hi = found
        # After a refutation, near the top: a probe that fails costs a search over every
        # option (5 ms on googlenet at 16 chips), one that succeeds mostly only the cheapest
        # options', and a failure an eighth below the best design leaves an eighth of the
        # range. After a success, halving, so that successes just below their probe cannot
        # take more than twice bisection's probes. googlenet at 16 chips: 61 ms by halving.
        probe = hi - max(1, (hi - lo) // 8) if refuted else (lo + hi) // 2
    (candidates, columns), cap = options.at(lo), _cap(place, lo)
    # If every stage's cheapest option fits, that is the fewest crossbars at this period.
    final = _search(place, [c[:1] for c in candidates], cap, True, budget, figures)
    final = final or _search(place, candidates, cap, True, budget, figures, columns)
    node = min(final, key=lambda n: (n.crossbars, n.chip, n.fill))
    choice, cuts = _reconstruct(node, place.chips)
    stages = problem.stages
    busy, crossbars, copies = layout(problem, choice)
    t, _ = period(place, busy, crossbars, copies, cuts)
    if t != lo:  # pragma: no cover - the search and the model must agree
        raise AssertionError(f"placed search reached {lo} ps but the model prices {t} ps")
    cost = np.sum([s.cost[o] for s, o in zip(stages, choice, strict=True)], axis=0)
    return SolveResult(
        method,
        Status.OPTIMAL,
        choice=tuple(choice),
        bottleneck_ps=lo,
        cost=dict(zip(problem.resources, (int(c) for c in cost), strict=True)),
        bound_ps=lo,
        seconds=time.perf_counter() - start,
        cuts=tuple(cuts),
    )


def fill_cuts(place: Placement, crossbars: list[int]) -> list[int] | None:
    """The placement that ignores traffic: chips filled in stage order, a loop moved whole.

    None if the stages do not fit the chips that way.
    """
    cuts: list[int] = []
    fill = position = 0
    for k, x in enumerate(crossbars):
        if place.atomic[k] and fill + x > place.chip_capacity:
            if fill > 0:
                cuts.append(position)  # the loop starts a chip of its own
                fill = 0
            if x > place.chip_capacity:
                return None
        remaining = x
        while fill + remaining > place.chip_capacity:
            take = place.chip_capacity - fill
            position += take
            remaining -= take
            cuts.append(position)
            fill = 0
        fill += remaining
        position += remaining
    if len(cuts) > place.chips - 1:
        return None
    return cuts + [position] * (place.chips - 1 - len(cuts))


def best_cuts(
    place: Placement, busy: list[int], crossbars: list[int], copies: list[int]
) -> list[int] | None:
    """For fixed crossbars and copies per stage, the cuts with the least period (exact).

    None if they do not fit the chips at all.
    """
    fixed = [[(0, x, d)] for x, d in zip(crossbars, copies, strict=True)]
    figures = _Cuts.of(place)

    def layout(t: int) -> list[int] | None:
        final = _search(place, fixed, _cap(place, t), pareto=False, cuts=figures)
        if not final:
            return None
        return _reconstruct(min(final, key=lambda n: (n.chip, n.fill)), place.chips)[1]

    lo = max(busy, default=0)
    hi = _upper(place, lo)
    if layout(hi) is None:
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if layout(mid) is not None:
            hi = mid
        else:
            lo = mid + 1
    return layout(lo)


def solve_blind(problem: AllocationProblem) -> SolveResult:
    """The placement-blind baseline: the crossbar-only optimum, chips filled in stage order.

    What a design that ignores data movement does: copies chosen as if links
    were free (the crossbar-only optimum, as the paper's DP finds it), then
    laid out chip after chip and priced with the traffic its cuts carry. Never
    assumed optimal.
    """
    start = time.perf_counter()
    if problem.placement is None:  # pragma: no cover - callers check
        raise ValueError("solve_blind needs a problem with a placement")
    result = _blind(problem, _relaxed(problem))
    return dataclasses.replace(result, seconds=time.perf_counter() - start)


def _blind(problem: AllocationProblem, relaxed: SolveResult) -> SolveResult:
    """The crossbar-only optimum ``relaxed`` laid out in order and priced."""
    place = problem.placement
    if relaxed.choice is None:
        return SolveResult(Method.GREEDY, relaxed.status, message=relaxed.message)
    busy, crossbars, copies = layout(problem, relaxed.choice)
    cuts = fill_cuts(place, crossbars)
    if cuts is None:
        return SolveResult(
            Method.GREEDY,
            Status.ERROR,
            message="the crossbar-only design does not fit the chips filled in order"
            " (a decoder loop straddles a chip)",
        )
    t, _ = period(place, busy, crossbars, copies, cuts)
    return SolveResult(
        Method.GREEDY,
        Status.FEASIBLE,
        choice=relaxed.choice,
        bottleneck_ps=t,
        cost=relaxed.cost,
        message="placement-blind: the crossbar-only optimum, chips filled in order",
        cuts=tuple(cuts),
    )
