"""The exact formulations' problem: validated integer arrays, and exact option reduction.

The problem (see ``README.md``): choose one option per stage so that the summed
cost vector fits ``capacity``; minimise the bottleneck busy time, then the total
cost of the ``secondary`` resource. Both solvers share these helpers
(validation, exact option reduction, re-evaluation of a choice); they are not
part of the public API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["MIN_PHASE2_SECONDS", "Problem", "Reduced", "check_hint", "check_problem", "reduce_options"]

# Phase 2 always gets at least this much wall time (capped by the total limit),
# so a phase-1 optimum is not thrown away by a zero-second phase 2.
MIN_PHASE2_SECONDS = 0.05


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
class Reduced:
    """Options that survive the exact reduction, per stage.

    ``keep[s]`` are original indices (ascending busy); ``rep[s][o]`` maps every
    original option to a kept option at least as good in every respect, or -1
    if the option can never be chosen (it alone exceeds the capacity).
    """

    keep: tuple[np.ndarray, ...]
    rep: tuple[np.ndarray, ...]
    empty_stage: int | None  # first stage with no usable option, if any

    def hint_local(self, hint: Sequence[int] | None) -> list[int | None] | None:
        """Hint as positions into ``keep[s]`` (None where the hinted option is unusable)."""
        if hint is None:
            return None
        out: list[int | None] = []
        for s, h in enumerate(hint):
            k = int(self.rep[s][h])
            out.append(None if k < 0 else int(np.flatnonzero(self.keep[s] == k)[0]))
        return out


def reduce_options(problem: Problem) -> Reduced:
    """Drop options that cannot matter, exactly.

    An option is dropped if (a) its own cost exceeds the capacity in some
    resource (it can never be part of a feasible choice), or (b) another option
    of the same stage has busy <= and cost <= in every resource (swapping to the
    dominating option keeps feasibility and never worsens either objective).
    Exact duplicates keep the lowest index.
    """
    keep, rep = [], []
    empty = None
    for s, (b, c) in enumerate(zip(problem.busy, problem.cost, strict=True)):
        n = b.size
        r = np.full(n, -1, dtype=np.int64)
        fits = np.all(c <= problem.capacity, axis=1)
        cand = np.flatnonzero(fits)
        # Lexicographic sweep by (busy, cost_0, ..., cost_{R-1}, index): any
        # dominator of an option comes before it, so the kept set is final.
        order = cand[np.lexsort((cand, *c[cand].T[::-1], b[cand]))]
        kept: list[int] = []
        kept_cost = np.empty((order.size, c.shape[1]), dtype=np.int64)
        for o in order:
            dom = np.flatnonzero(np.all(kept_cost[: len(kept)] <= c[o], axis=1))
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
