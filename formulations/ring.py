"""Placement on a ring of chips: who sends what to which chip, and routing both ways round.

A ring is the chain of ``placement.py`` with one more link, from the last chip
back to the first, and links used in both directions. Stages are laid out on
the chips exactly as on the chain (the same cuts); what changes is the route:
each piece of traffic may travel forward, as on the chain, or backward, the
other way round the ring, through the wrap link.

**Pieces.** :func:`chip_flows` splits the chain's cut traffic into pieces
``(a, b, z) → bits``: data made on chip ``a`` and read on chips ``b..z``
(``a ≤ b ≤ z``). A stage makes its output evenly along its crossbars and each
of its ``d`` copies reads ``1/d`` of its input (a copy split across chips reads
its share on each of them), so a flow ``f`` from stage ``i`` to stage ``j``
sends ``f × (share of i on chip a) / d`` to each copy of ``j``; the inputs come
from the chip holding the first crossbar; a stage's state made on chip ``a``
crosses to the end of the stage. Forward, a piece crosses the links
``a → a+1 … z−1 → z``; summed over pieces that is the chain's
:func:`~formulations.placement.cut_traffic` at every cut, exactly (tested).

**Routes.** Backward, a piece goes ``a → … → 0``, over the wrap to chip
``M − 1`` and down to ``b``: it uses none of the forward links and every piece
routed so crosses the wrap, so the wrap carries the most of any backward
direction and it alone bounds them. Pieces may be split (an activation's
channels sent part each way). For a cap ``K`` bits per link the least total
sent backward that brings every forward link within ``K`` is an interval
cover: walking the links in order, cover what a link still needs with the
pieces that cross it and reach furthest (an exchange argument: the links
before are met already, and a piece reaching further covers a superset of
the ones after). The cap is met iff that least total fits the wrap too; it
is monotone in ``K``, so bisection on the integer period gives the least.

**Bound.** Every forward link plus the wrap carry at most ``2K``, and each
chain cut's traffic is at most the forward link's plus what the wrap carries:
any ring design is a chain design with twice the bandwidth. The least period
on a chain with twice the bandwidth is a lower bound on the ring's.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from formulations.placement import Placement, cut_traffic, link_busy, period

__all__ = ["RingRoutes", "chip_flows", "least_backward", "ring_routes"]

Piece = tuple[int, int, int]  # (made on chip a, read from chip b to chip z)


def _chip_of(bounds: Sequence[int], pos: int) -> int:
    """The chip holding stage coordinate ``pos`` (an empty chip holds nothing)."""
    return bisect.bisect_right(bounds, pos) - 1


def _where(bounds: Sequence[int], start: int) -> int:
    """The chip of a stage of no crossbars at ``start``: after a cut there, as the chain
    prices it (at the very end, the last chip holding anything)."""
    return _chip_of(bounds, min(start, max(bounds[-1] - 1, 0)))


def _made_on(bounds: Sequence[int], start: int, end: int) -> list[tuple[int, Fraction]]:
    """Per chip, the share of ``[start, end)`` it holds (how a stage's output is made)."""
    size = end - start
    if size == 0:
        return [(_where(bounds, start), Fraction(1))]
    first, last = _chip_of(bounds, start), _chip_of(bounds, end - 1)
    shares = []
    for c in range(first, last + 1):
        held = min(end, bounds[c + 1]) - max(start, bounds[c])
        if held > 0:
            shares.append((c, Fraction(held, size)))
    return shares


def _read_on(
    bounds: Sequence[int], start: int, copies: int, unit: int
) -> dict[tuple[int, int], int]:
    """How many of a stage's copies span each (first chip, last chip)."""
    if unit == 0:
        return {(_where(bounds, start),) * 2: copies}
    spans: dict[tuple[int, int], int] = {}
    t = 0
    while t < copies:
        lo = start + t * unit
        first = _chip_of(bounds, lo)
        # Every copy from t on that ends on this chip lies on it alone: count them at once.
        whole = max(0, min(copies - t, (bounds[first + 1] - lo) // unit))
        if whole:
            spans[(first, first)] = spans.get((first, first), 0) + whole
            t += whole
            continue
        last = _chip_of(bounds, lo + unit - 1)
        spans[(first, last)] = spans.get((first, last), 0) + 1
        t += 1
    return spans


def chip_flows(
    place: Placement, crossbars: Sequence[int], copies: Sequence[int], cuts: Sequence[int]
) -> dict[Piece, Fraction]:
    """Bits per inference made on chip ``a`` and read on chips ``b..z``, for pieces with ``z > a``.

    ``crossbars`` and ``copies`` are each stage's, ``cuts`` the ``chips − 1``
    chip boundaries in stage coordinates (as :func:`~formulations.placement.period`).
    """
    total = int(sum(crossbars))
    bounds = [0, *(int(q) for q in cuts), total]
    starts = [0, *itertools.accumulate(int(x) for x in crossbars)]
    made = [_made_on(bounds, starts[k], starts[k + 1]) for k in range(place.n_stages)]
    pieces: dict[Piece, Fraction] = {}

    def add(a: int, b: int, z: int, bits: Fraction) -> None:
        if z > a and bits:
            b = max(b, a + 1)  # chip a has its own data
            pieces[(a, b, z)] = pieces.get((a, b, z), Fraction(0)) + bits

    for j in range(place.n_stages):
        d = 1 if place.per_copy[j] == 0 else int(copies[j])  # a block or atomic stage: one
        reads = _read_on(bounds, starts[j], d, place.unit(j, crossbars[j]))
        senders = [(i, int(place.flow[i, j])) for i in range(j) if place.flow[i, j]]
        for (b, z), n in reads.items():
            share = Fraction(n, d)
            if place.source[j]:
                add(_chip_of(bounds, 0), b, z, int(place.source[j]) * share)
            for i, f in senders:
                for a, part in made[i]:
                    add(a, b, z, f * part * share)
        if place.state[j]:
            last = made[j][-1][0]
            for a, part in made[j]:
                add(a, a + 1, last, int(place.state[j]) * part)
    return pieces


@dataclass(frozen=True)
class RingRoutes:
    """A placed design's traffic on a ring: what goes each way and how long each link is busy.

    Attributes
    ----------
    period
        The design's period on the ring: its stages' and every link's busy time.
    forward
        Per link ``c → c+1`` (``chips − 1`` of them), the bits it carries forward.
    backward
        Per link ``c → c+1``, the bits it carries the other way (routed round the ring).
    wrap
        Bits over the wrap link, chip ``chips − 1`` to chip 0 (every piece sent backward).
    """

    period: int
    forward: tuple[Fraction, ...]
    backward: tuple[Fraction, ...]
    wrap: Fraction

    @property
    def back_hops(self) -> Fraction:
        """Link crossings of the traffic sent backward, in bits × links (the wrap's included)."""
        return sum(self.backward, self.wrap)


def least_backward(
    pieces: Sequence[tuple[Piece, Fraction]], need: Sequence[Fraction], limit: Fraction
) -> dict[Piece, Fraction] | None:
    """The least bits to send backward so that link ``k`` sheds ``need[k]``; None above ``limit``.

    ``pieces`` are sorted by their first chip. Greedy over the links in order, taking
    from the crossing pieces that reach furthest (module docstring).
    """
    sent: dict[Piece, Fraction] = {}
    left = {piece: bits for piece, bits in pieces}
    reaching: list[tuple[int, Piece]] = []  # max-heap on the last chip reached
    shed = [Fraction(0)] * (len(need) + 1)  # difference array of bits no longer forward
    covered, total, p = Fraction(0), Fraction(0), 0
    for k, wanted in enumerate(need):
        covered += shed[k]
        while p < len(pieces) and pieces[p][0][0] <= k:
            heapq.heappush(reaching, (-pieces[p][0][2], pieces[p][0]))
            p += 1
        while covered < wanted:
            while reaching and -reaching[0][0] <= k:
                heapq.heappop(reaching)  # ends at or before chip k: does not cross link k
            if not reaching:
                return None
            piece = reaching[0][1]
            take = min(left[piece], wanted - covered)
            left[piece] -= take
            if not left[piece]:
                heapq.heappop(reaching)
            sent[piece] = sent.get(piece, Fraction(0)) + take
            covered += take
            shed[piece[2]] -= take
            total += take
            if total > limit:
                return None
    return sent


def ring_routes(
    place: Placement,
    busy: Sequence[int],
    crossbars: Sequence[int],
    copies: Sequence[int],
    cuts: Sequence[int],
) -> RingRoutes:
    """The least period of a placed design on a ring, and the routes that give it.

    The design's cuts as on the chain (validated by
    :func:`~formulations.placement.period`); each piece of traffic goes
    forward or, in part or whole, backward through the wrap (module
    docstring). Of the routes that reach the least period, the one sending the
    fewest bits backward.
    """
    chain, _ = period(place, busy, crossbars, copies, cuts)
    chain_bits = [cut_traffic(place, crossbars, copies, int(q)) for q in cuts]
    pieces = sorted(chip_flows(place, crossbars, copies, cuts).items())
    stage_floor = max(busy, default=0)

    def routes(t: int) -> dict[Piece, Fraction] | None:
        cap = place.bandwidth * t
        return least_backward(pieces, [max(Fraction(0), b - cap) for b in chain_bits], cap)

    lo, hi = stage_floor, chain  # the chain's routes (nothing backward) meet ``chain``
    while lo < hi:
        mid = (lo + hi) // 2
        if routes(mid) is None:
            lo = mid + 1
        else:
            hi = mid
    sent = routes(lo) or {}
    chips = place.chips
    forward = list(chain_bits)
    backward = [Fraction(0)] * (chips - 1)
    for (a, b, z), bits in sent.items():
        for k in range(a, z):
            forward[k] -= bits
        for k in [*range(a), *range(b, chips - 1)]:  # a → 0, then the wrap, then M − 1 → b
            backward[k] += bits
    wrap = sum(sent.values(), Fraction(0))
    links = [link_busy(place, bits) for bits in (*forward, wrap)]
    return RingRoutes(max([stage_floor, *links]), tuple(forward), tuple(backward), wrap)
