"""Designs on a ring of chips (``topology: ring``): the chain's design, routed both ways round.

Every method places its stages as on the chain (the same cuts, the same
search); the design is then priced on the ring, with each piece of traffic
routed forward or backward over the wrap so that the period is least
(:func:`formulations.ring.ring_routes`). That is an upper bound on the ring's
optimum. The lower bound is the chain's least period with twice the link
bandwidth (every ring design is such a chain design: formulations/ring.py's
docstring), found by the placed bisection; a design meeting it, with as few
crossbars as that chain's optimum, is proven optimal on the ring, else it is
``feasible`` with that bound. The placed search (``dp``, ``bisect``) also
tries the chain's optimal designs with 1.25, 1.5, 1.75 and 2 times the
bandwidth (a placement that leaves more on each link for the wrap to take) and
keeps the best; on the zoo at 16 chips each of them wins somewhere
(bench/results/ring.md).
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction

from formulations.ring import ring_routes
from hitm.optimize.placement import layout, solve_placed
from hitm.optimize.result import Method, SolveResult, Status
from hitm.problem import AllocationProblem

__all__ = ["on_ring"]

_PLACED_SEARCH = (Method.DP, Method.BISECT)
_WIDER = (Fraction(5, 4), Fraction(3, 2), Fraction(7, 4))  # tried besides 1 and 2


def _wider(problem: AllocationProblem, times: Fraction) -> SolveResult:
    """The chain's optimum with ``times`` the link bandwidth (2: the ring's lower bound)."""
    place = problem.placement
    wider = dataclasses.replace(place, bandwidth=place.bandwidth * times)
    return solve_placed(dataclasses.replace(problem, placement=wider), Method.BISECT)


def _crossbars(result: SolveResult) -> int:
    return (result.cost or {}).get("crossbars", 0)


def _routed(problem: AllocationProblem, result: SolveResult) -> int:
    busy, crossbars, copies = layout(problem, result.choice)
    return ring_routes(problem.placement, busy, crossbars, copies, result.cuts).period


def on_ring(problem: AllocationProblem, result: SolveResult) -> SolveResult:
    """``result`` (a design placed on the chain) priced on the ring, its status against the bound.

    Greedy (the placement-blind baseline) is priced only: it never claims a bound.
    """
    if result.choice is None or result.cuts is None:
        return result
    period = _routed(problem, result)
    if result.method == Method.GREEDY:
        return dataclasses.replace(result, bottleneck_ps=period)
    bound = _wider(problem, Fraction(2))
    if bound.choice is None:  # pragma: no cover - the chain's design fits the doubled chain
        raise AssertionError("the chain's design does not fit a chain with more bandwidth")
    note = "ring: the chain's placement routed both ways round"
    if result.method in _PLACED_SEARCH:
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
    proven = (period, _crossbars(result)) == (bound.bottleneck_ps, _crossbars(bound))
    if result.status in (Status.OPTIMAL, Status.FEASIBLE):
        status = Status.OPTIMAL if proven else Status.FEASIBLE
        if not proven:
            note += f"; not proven: the bound is {bound.bottleneck_ps:,} ps"
    else:
        status = result.status
    message = f"{result.message}; {note}" if result.message else note
    return dataclasses.replace(
        result, status=status, bottleneck_ps=period, bound_ps=bound.bottleneck_ps, message=message
    )
