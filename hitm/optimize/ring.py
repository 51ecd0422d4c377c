"""Designs on a ring of chips (``topology: ring``): chain designs, routed both ways round.

A ring design is placed as on the chain (the same cuts) and priced on the
ring, each piece of traffic routed forward or backward over the wrap so that
the period is least (:func:`formulations.ring.ring_routes`). Every ring design
is a chain design with twice the link bandwidth (formulations/ring.py's
docstring), so that chain's least period bounds the ring's from below:

- ``dp`` and ``bisect`` route the chain's optimal designs with 1, 1.25, 1.5,
  1.75 and 2 times the bandwidth (the placed search, exact for each) and keep
  the best; the bound is the doubled chain's optimum, and a design meeting it
  with as few crossbars is proven optimal on the ring, else ``feasible``;
- ``cpsat`` and ``ilp`` solve the doubled chain exactly (so they prove the
  bound on their own, cross-checking the placed search's) and route their
  design: optimal on the ring when its routed period is the doubled chain's;
- ``greedy`` (the placement-blind baseline) is routed, never bounded.

On the zoo at 16 chips each of the five bandwidths wins somewhere
(bench/results/ring.md).
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction

from formulations.ring import ring_routes
from hitm.optimize.placement import layout, solve_placed
from hitm.optimize.result import Method, SolveResult, Status
from hitm.problem import AllocationProblem

__all__ = ["on_ring", "wider"]

_WIDER = (Fraction(5, 4), Fraction(3, 2), Fraction(7, 4))  # tried besides 1 and 2


def wider(problem: AllocationProblem, times: Fraction | int) -> AllocationProblem:
    """``problem`` on a chain whose links carry ``times`` the bandwidth."""
    place = problem.placement
    return dataclasses.replace(
        problem, placement=dataclasses.replace(place, bandwidth=place.bandwidth * times)
    )


def _wider(problem: AllocationProblem, times: Fraction) -> SolveResult:
    """The chain's optimum with ``times`` the link bandwidth (2: the ring's lower bound)."""
    return solve_placed(wider(problem, times), Method.BISECT)


def _crossbars(result: SolveResult) -> int:
    return (result.cost or {}).get("crossbars", 0)


def _routed(problem: AllocationProblem, result: SolveResult) -> int:
    busy, crossbars, copies = layout(problem, result.choice)
    return ring_routes(problem.placement, busy, crossbars, copies, result.cuts).period


def _unproven(status: Status) -> Status:
    """A design's status once its optimality is not proven on the ring."""
    return Status.FEASIBLE if status == Status.OPTIMAL else status


def on_ring(problem: AllocationProblem, result: SolveResult) -> SolveResult:
    """``result`` (a design placed on the chain) priced on the ring, its status against the bound.

    Greedy (the placement-blind baseline) is priced only: it never claims a bound.
    """
    if result.choice is None or result.cuts is None:
        return result
    period = _routed(problem, result)
    if result.method == Method.GREEDY:
        return dataclasses.replace(result, bottleneck_ps=period)
    if result.method not in (Method.DP, Method.BISECT):  # an exact model's, doubled chain
        proven = result.status == Status.OPTIMAL and period == result.bottleneck_ps
        note = "ring: a chain with twice the bandwidth solved (the ring's bound), routed both ways"
        if result.status == Status.OPTIMAL and not proven:
            note += f"; not proven: the bound is {result.bottleneck_ps:,} ps"
        status = Status.OPTIMAL if proven else _unproven(result.status)
        message = f"{result.message}; {note}" if result.message else note
        return dataclasses.replace(result, status=status, bottleneck_ps=period, message=message)
    bound = _wider(problem, Fraction(2))
    if bound.choice is None:  # pragma: no cover - the chain's design fits the doubled chain
        raise AssertionError("the chain's design does not fit a chain with more bandwidth")
    # The placed search (dp, bisect): the best of the chain's designs at 1 to 2x the bandwidth.
    note = "ring: the chain's placement routed both ways round"
    best, least = (period, _crossbars(result)), (bound.bottleneck_ps, _crossbars(bound))
    for times in (*_WIDER, Fraction(2)):
        if best == least:
            break  # proven: nothing is better
        other = bound if times == 2 else _wider(problem, times)
        key = (_routed(problem, other), _crossbars(other))
        if key < best:
            best = key
            result = dataclasses.replace(
                result, choice=other.choice, cuts=other.cuts, cost=other.cost
            )
            note = f"ring: the placement of a chain with {float(times):g}x the bandwidth,"
            note += " routed both ways round"
    period = best[0]
    proven = best == least
    status = Status.OPTIMAL if proven else _unproven(result.status)
    if not proven:
        note += f"; not proven: the bound is {bound.bottleneck_ps:,} ps"
    message = f"{result.message}; {note}" if result.message else note
    return dataclasses.replace(
        result, status=status, bottleneck_ps=period, bound_ps=bound.bottleneck_ps, message=message
    )
