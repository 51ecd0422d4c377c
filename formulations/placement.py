"""Placement on a chain of chips: the data, the exact traffic of a cut, and a design's period.

Plain integer arrays, nothing of DNNs (``README.md``, "Placement"). Stages
``0..S-1`` are laid out in order along one axis of crossbars without gaps
("stage coordinates"); the chain of ``chips`` chips of ``chip_capacity``
crossbars each holds consecutive segments ``[q_c, q_{c+1})`` of that axis, with
``q_0 = 0``, ``q_chips = Q`` (all the crossbars) and every segment at most
``chip_capacity`` long. The link between chips ``c`` and ``c + 1`` carries the
traffic of the cut at ``q_{c+1}``; it is busy for ``ceil(traffic / bandwidth)``
ps, and the period is the largest of every stage's busy time and every link's.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

__all__ = ["Placement", "check_placement", "cut_traffic", "link_busy", "period"]


@dataclass(frozen=True)
class Placement:
    """What a placement needs beyond the options' busy times and costs.

    Attributes
    ----------
    chips, chip_capacity
        Chips in the chain and crossbars per chip (resource 0 is crossbars).
    copies
        Per stage, ``(n_s,)`` copies of each option (a stage's crossbars are
        ``copies × per_copy``).
    per_copy
        Per stage, crossbars of one copy: a non-atomic stage's option ``o``
        holds ``copies[o] × per_copy`` crossbars (its cost in resource 0). 0
        for a *block* stage (not atomic, every option one copy): each option is
        one block of its own crossbars, cut anywhere.
    atomic
        Per stage, whether it must lie within one chip (never cut); ``per_copy``
        is 0 and copies are not read for such a stage.
    source
        ``(S,)`` bits per inference from the network inputs (at position 0) into each stage.
    flow
        ``(S, S)`` bits per inference from stage ``i`` to stage ``j`` (``i < j``; zero elsewhere).
    state
        ``(S,)`` bits a stage sends itself (a recurrent state); nonzero only for
        stages whose every option has one copy.
    bandwidth
        Link bandwidth in bits per ps, exactly (``Fraction``).
    """

    chips: int
    chip_capacity: int
    copies: tuple[np.ndarray, ...]
    per_copy: tuple[int, ...]
    atomic: tuple[bool, ...]
    source: np.ndarray
    flow: np.ndarray
    state: np.ndarray
    bandwidth: Fraction

    @property
    def n_stages(self) -> int:
        return len(self.per_copy)

    def unit(self, k: int, crossbars: int) -> int:
        """Crossbars of one copy of stage ``k`` when its option holds ``crossbars``."""
        return self.per_copy[k] or int(crossbars)

    def through(self, k: int) -> int:
        """Bits crossing stage ``k`` from earlier stages (or the inputs) to later ones."""
        return int(self.flow[:k, k + 1 :].sum() + self.source[k + 1 :].sum())

    def into(self, k: int) -> int:
        """Bits stage ``k`` reads from earlier stages and the inputs."""
        return int(self.flow[:k, k].sum() + self.source[k])

    def out_of(self, k: int) -> int:
        """Bits stage ``k`` sends to later stages."""
        return int(self.flow[k, k + 1 :].sum())

    def boundary(self, k: int) -> int:
        """Bits crossing the cut right after stage ``k`` (``k = S - 1``: none)."""
        return int(self.flow[: k + 1, k + 1 :].sum() + self.source[k + 1 :].sum())


def check_placement(place: Placement, n_options: Sequence[int]) -> None:
    """Validate shapes and signs; raise ``ValueError`` on malformed input."""
    s = place.n_stages
    if place.chips < 1 or place.chip_capacity < 1:
        raise ValueError("chips and chip_capacity must be positive")
    if not (len(place.copies) == len(place.atomic) == len(n_options) == s):
        raise ValueError("copies, per_copy, atomic and the options must cover the same stages")
    if place.source.shape != (s,) or place.flow.shape != (s, s) or place.state.shape != (s,):
        raise ValueError("source, flow and state must be (S,), (S, S) and (S,)")
    if np.any(place.flow[np.tril_indices(s)] != 0):
        raise ValueError("flow must be strictly upper triangular (stage i to a later stage j)")
    if np.any(place.source < 0) or np.any(place.flow < 0) or np.any(place.state < 0):
        raise ValueError("traffic must be non-negative")
    for k in range(s):
        if len(place.copies[k]) != n_options[k] or np.any(place.copies[k] < 1):
            raise ValueError(f"copies[{k}] must give a positive count for each option")
        if place.per_copy[k] < 0:
            raise ValueError(f"per_copy[{k}] must be non-negative")
        if not place.atomic[k] and place.per_copy[k] == 0 and np.any(place.copies[k] != 1):
            raise ValueError(f"stage {k} is one block (per_copy 0) but has an option with copies")
        if place.state[k] and np.any(place.copies[k] != 1):
            raise ValueError(f"stage {k} has a state but an option with several copies")
    if not place.bandwidth > 0:
        raise ValueError("bandwidth must be positive")


def cut_traffic(
    place: Placement, crossbars: Sequence[int], copies: Sequence[int], q: int
) -> Fraction:
    """Exact bits per inference crossing the cut at stage coordinate ``q``.

    ``crossbars`` and ``copies`` are each stage's chosen crossbars and copies.
    At a stage boundary the cut carries every flow from the stages before it
    to those after. Inside stage ``k`` (``q − Q_{k−1} = n·c + r`` with ``c``
    crossbars per copy): the stages' through-traffic, the share of the stage's
    input that its ``d − n`` copies touching the far side read, and the share
    ``(n·c + r) / (d·c)`` of its output (and state) produced before the cut.
    """
    total = int(sum(crossbars))
    if q <= 0 or q >= total:
        return Fraction(0)
    start = 0
    for k, x in enumerate(crossbars):
        end = start + int(x)
        if q == end:
            return Fraction(place.boundary(k))
        if start < q < end:
            d, c = int(copies[k]), place.unit(k, x)
            n, r = divmod(q - start, c)
            before = Fraction(n * c + r, d * c)
            reached = Fraction(d - n, d)
            return (
                place.through(k)
                + place.into(k) * reached
                + place.out_of(k) * before
                + int(place.state[k]) * before * reached
            )
        start = end
    raise AssertionError("unreachable: q lies in some stage")  # pragma: no cover


def link_busy(place: Placement, bits: Fraction) -> int:
    """Integer ps a link is busy carrying ``bits`` per inference: ``ceil(bits / bandwidth)``."""
    return math.ceil(bits / place.bandwidth)


def period(
    place: Placement,
    busy: Sequence[int],
    crossbars: Sequence[int],
    copies: Sequence[int],
    cuts: Sequence[int],
) -> tuple[int, list[int]]:
    """The period of a placed design and each link's busy time.

    ``cuts`` are the ``chips − 1`` chip boundaries ``q_1 ≤ ... ≤ q_{chips−1}``
    in stage coordinates.

    Raises
    ------
    ValueError
        If the cuts are not a valid placement: out of order, a chip over its
        capacity, or an atomic stage cut.
    """
    total = int(sum(crossbars))
    bounds = [0, *(int(q) for q in cuts), total]
    if len(bounds) != place.chips + 1 or any(a > b for a, b in itertools.pairwise(bounds)):
        raise ValueError(f"cuts must be {place.chips - 1} nondecreasing positions in [0, {total}]")
    if any(b - a > place.chip_capacity for a, b in itertools.pairwise(bounds)):
        raise ValueError("a chip holds more crossbars than its capacity")
    start = 0
    for k, x in enumerate(crossbars):
        if place.atomic[k] and any(start < q < start + x for q in bounds):
            raise ValueError(f"stage {k} is atomic but a chip boundary cuts it")
        start += int(x)
    links = [link_busy(place, cut_traffic(place, crossbars, copies, q)) for q in bounds[1:-1]]
    return max([*busy, *links], default=0), links
