"""A Lagrangian lower bound on the bottleneck, proven in integers.

For a bottleneck ``T`` the stages may use only options with busy ≤ T. Relaxing
the capacity rows with multipliers ``λ ≥ 0`` gives weak duality: if

    Σ_s min_{o : b_so ≤ T} Σ_r λ_r c_sor  >  Σ_r λ_r C_r

then no choice meets ``T`` (every choice costs at least the left side in the
weighted sum, and a fitting one at most the right). The multipliers are found in
floating point (mirror ascent on the simplex, on costs scaled by the
capacities) and then made integers, and the inequality is checked in exact
integer arithmetic: a level is called infeasible only with such a certificate.

A certificate at ``T`` holds at every lower level too (fewer options, larger
minima), so bisection over the distinct busy values gives the least level
without one: ``T* ≥`` that level. The relaxation's best equals the LP relaxation
of the one-hot model, so it can fall short of the optimum; on the 36 design-mode
zoo problems of ``bench/design_gap.py`` it met it on all (``README.md``,
"Lagrangian bound").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from formulations.problem import Problem

__all__ = ["Certificate", "lagrangian_bound", "proves_infeasible"]

_ITERATIONS = 200  # mirror-ascent steps per level at most


@dataclass(frozen=True)
class Certificate:
    """Integer multipliers that prove no choice meets ``level`` (and so any lower one)."""

    level: int
    multipliers: tuple[int, ...]


def proves_infeasible(
    problem: Problem, keep: Sequence[np.ndarray], t: int, lam: Sequence[int]
) -> bool:
    """Whether integer multipliers ``lam`` prove that no choice of ``keep`` meets ``t``.

    Exact: int64 arithmetic where :func:`_headroom` shows no sum can overflow,
    Python integers otherwise.
    """
    weights = np.array([int(v) for v in lam], dtype=object)
    if any(w < 0 for w in weights) or not any(weights):
        return False
    right = int(sum(w * int(c) for w, c in zip(weights, problem.capacity, strict=True)))
    rows = [c[k[b[k] <= t]] for b, c, k in zip(problem.busy, problem.cost, keep, strict=True)]
    if any(not r.shape[0] for r in rows):
        return True  # a stage with no option at all meets nothing
    fast = _headroom(rows, weights)
    left = 0
    for r in rows:
        if fast:
            left += int((r @ weights.astype(np.int64)).min())
        else:
            left += min(
                int(sum(w * int(v) for w, v in zip(weights, row, strict=True))) for row in r
            )
    return left > right


def _headroom(rows: Sequence[np.ndarray], weights: np.ndarray) -> bool:
    """Whether every weighted sum (per option, and over the stages) stays below 2**62."""
    top = sum(int(r.max(axis=0).astype(object) @ weights) for r in rows)
    return top < 2**62 and all(int(w) < 2**62 for w in weights)


def lagrangian_bound(
    problem: Problem, keep: Sequence[np.ndarray], upper: int | None = None
) -> tuple[int, Certificate | None]:
    """The least busy level without a certificate of infeasibility, at most ``upper``.

    Parameters
    ----------
    problem
        The validated problem.
    keep
        Per stage, the option indices to consider (after the exact reduction),
        at least one each.
    upper
        A level known to be met (a feasible design's bottleneck); the search
        stays at or below it. Without it, the largest busy value.

    Returns
    -------
    (int, Certificate or None)
        ``T* ≥`` the level; the certificate of the level just below it (None if
        the least level itself has no certificate, or below the least a stage
        can run at, which needs none).
    """
    busy = [b[k] for b, k in zip(problem.busy, keep, strict=True)]
    cost = [c[k] for c, k in zip(problem.cost, keep, strict=True)]
    floor = max(int(b.min()) for b in busy)  # no stage is faster than its fastest option
    levels = np.unique(np.concatenate(busy))
    levels = levels[levels >= floor]
    if upper is not None:
        levels = levels[levels <= upper]
    if not levels.size:
        return (floor if upper is None else min(floor, upper)), None
    cap = problem.capacity.astype(float)
    scaled = [c / np.maximum(cap, 1.0) for c in cost]
    lo, hi, proof = 0, len(levels) - 1, None
    while lo < hi:  # the least level without a certificate lies in [lo, hi]
        mid = (lo + hi) // 2
        lam = _search(busy, scaled, int(levels[mid]), cap)
        if lam is not None and proves_infeasible(problem, keep, int(levels[mid]), lam):
            proof = Certificate(int(levels[mid]), tuple(lam))
            lo = mid + 1
        else:
            hi = mid
    if proof is not None and lo > 0 and proof.level != int(levels[lo - 1]):
        proof = Certificate(int(levels[lo - 1]), proof.multipliers)  # a higher level's holds
    return int(levels[lo]), proof


def _search(
    busy: Sequence[np.ndarray], scaled: Sequence[np.ndarray], t: int, cap: np.ndarray
) -> list[int] | None:
    """Integer multipliers whose weighted sums look infeasible at ``t``, or None.

    Maximises ``g(μ) = Σ_s min_o μ·c'_so − Σ_r μ_r`` (``c' = c / C``) over the
    simplex by mirror ascent (multiplicative steps along the supergradient,
    ``Σ_s c'_{s,o*} − 1``), stopping at the first ``μ`` with ``g > 0``.
    """
    rows = [c[b <= t] for b, c in zip(busy, scaled, strict=True)]
    if any(not r.shape[0] for r in rows):
        return [1] * cap.size
    n_res = cap.size
    sizes = np.array([r.shape[0] for r in rows])
    flat = np.concatenate(rows)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    mu = np.full(n_res, 1.0 / n_res)
    step = 1.0
    for _ in range(_ITERATIONS):
        w = flat @ mu
        mins = np.minimum.reduceat(w, starts)
        g = float(mins.sum()) - 1.0
        if g > 1e-9:
            scale = 2**61 // (len(rows) + 2)  # λ_r·C_r ≈ μ_r·scale: the sums stay in int64
            lam = [round(m * scale / max(c, 1.0)) for m, c in zip(mu, cap, strict=True)]
            return lam if any(lam) else None
        # The supergradient: the chosen (cheapest weighted) options' costs, less 1.
        at_min = np.flatnonzero(w <= np.repeat(mins, sizes))
        pick = at_min[np.searchsorted(at_min, starts)]  # each stage's first cheapest
        grad = flat[pick].sum(axis=0) - 1.0
        if np.all(grad <= 0):  # μ cannot rise along any resource: the level looks feasible
            return None
        mu = mu * np.exp(step * grad / max(float(np.abs(grad).max()), 1e-12))
        mu /= mu.sum()
        step *= 0.97
    return None
