"""The allocation problem: pipeline stages, their options, and the budget.

Built once, as integer arrays, so that every solver reads the same data
(DESIGN.md, "Allocation problem"). A stage is a weight layer outside any
feedback loop, or a loop's composite (its members' busy times add up).
Each stage's options are Pareto-optimal (cost, busy) pairs sorted from the
slowest and cheapest (one copy of everything) to the fastest.

In design mode (a :class:`~hitm.budget.DesignSpace`) an option is a pair
(copies, ADCs per crossbar) per member: more ADCs shorten the crossbar cycle
where the ADC, not the array read, limits it, at their power and area.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from hitm.analysis import Analysis, LayerDemand
from hitm.budget import Budget, DesignSpace, chips_for
from hitm.costs import crossbar_share, digital_costs, layer_costs
from hitm.description.ops import RECURRENT_GATES, WEIGHT_OPS
from hitm.digital import (
    element_busy_ps,
    on_crossbars,
    on_mac_units,
    product_busy_ps,
    stage_elements,
    with_elements,
)
from hitm.errors import DescriptionError
from hitm.hardware import Hardware
from hitm.movement import copy_crossbars, edram_busy_ps, layer_hosts, stage_edram_bits, stage_flows
from hitm.resources import RESOURCES
from hitm.staircase import distinct

if TYPE_CHECKING:  # built only with data movement (start-up time)
    from formulations.placement import Placement

__all__ = [
    "MAX_OPTIONS",
    "AllocationProblem",
    "Stage",
    "build_problem",
    "choice_from_copies",
    "naive_chips",
    "useful_copies",
]

# Beyond this a problem would take minutes to build; a 10,000-layer chain (1,218,000
# options at 64 chips) builds in 1.1 s and dp and bisect answer it in 0.2 s
# (bench/results/targets.md).
MAX_OPTIONS = 5_000_000
MAX_BUSY_PS = 2**52  # ~75 minutes per inference; also keeps busy times exact as floats
_MAX_MERGE = 4_000_000  # option pairs formed when merging two loop members


@dataclass(frozen=True, eq=False)
class Stage:
    """One pipeline stage and its options.

    Attributes
    ----------
    name
        The layer's name, or the loop's name for a composite.
    kind
        ``conv``, ``linear``, ``recurrent``, ``embedding`` or ``loop``.
    members
        The weight layers the stage holds (one, except for loops).
    copies
        ``(n_options, n_members)``: copies of each member in each option.
    adcs
        ``(n_options, n_members)``: ADCs per crossbar of each member in each option.
    cost
        ``(n_options, n_resources)`` integer cost of each option.
    busy_ps
        ``(n_options,)`` integer busy time of each option, non-increasing (strictly
        with one resource; with several, equally fast options trade one for another).
    units
        ``(n_options, n_members)``: digital MAC units of each member in each option
        (a product of two activations computed digitally has 0 copies; 0 elsewhere).
    """

    name: str
    kind: str
    members: tuple[str, ...]
    copies: np.ndarray
    adcs: np.ndarray
    cost: np.ndarray
    busy_ps: np.ndarray
    units: np.ndarray

    @property
    def is_loop(self) -> bool:
        """A decoder loop's composite: placed as one block (one "copy") of its crossbars."""
        return len(self.members) > 1

    @property
    def n_options(self) -> int:
        return len(self.busy_ps)

    @cached_property
    def dearer_when_faster(self) -> bool:
        """Whether each option costs at least the one before it in every resource."""
        return bool(np.all(np.diff(self.cost, axis=0) >= 0))

    def keep(self, mask: np.ndarray) -> Stage:
        """The stage with only the options ``mask`` selects."""
        return Stage(
            self.name,
            self.kind,
            self.members,
            self.copies[mask],
            self.adcs[mask],
            self.cost[mask],
            self.busy_ps[mask],
            self.units[mask],
        )


@dataclass(frozen=True, eq=False)
class AllocationProblem:
    """Stages with options, resources, and capacities, all integers.

    ``resources`` always starts with ``crossbars``; ``tiles`` follows when
    layers may not share a tile, then ``power_uw`` and ``area_um2`` when the
    budget caps them. ``design`` is set in design mode. ``pruned`` tells whether
    options that could never fit the budget were dropped (done whenever the
    naive design fits). ``placement`` is set when data movement costs
    something (``interconnect`` not ``ideal``): the chips, the flows between
    stages and the link bandwidth a design's cuts are priced with
    (``formulations/README.md``, "Placement on a chain of chips").
    """

    analysis: Analysis
    budget: Budget
    stages: tuple[Stage, ...]
    resources: tuple[str, ...]
    capacity: np.ndarray
    pruned: bool = False
    design: DesignSpace | None = None
    _stage_of: dict[str, int] = field(default_factory=dict, repr=False)
    placement: Placement | None = None

    @property
    def adc_choices(self) -> tuple[int, ...]:
        """ADCs per crossbar a layer may take (one value outside design mode)."""
        hw = self.analysis.hardware
        return self.design.adcs if self.design else (hw.adcs_per_crossbar,)

    def cycle_ps(self, adcs: int) -> int:
        """Crossbar cycle with ``adcs`` ADCs per crossbar."""
        hw = self.analysis.hardware
        return self.design.cycle_ps(hw, adcs) if self.design else hw.cycle_ps

    @property
    def has_mac_units(self) -> bool:
        """Whether some product of two activations may run on digital MAC units."""
        return "mac_units" in self.resources

    def capacities(self) -> dict[str, int]:
        return dict(zip(self.resources, (int(c) for c in self.capacity), strict=True))

    @property
    def n_options(self) -> int:
        return sum(stage.n_options for stage in self.stages)

    def stage_of(self, layer: str) -> int:
        """Index of the stage holding weight layer ``layer``."""
        return self._stage_of[layer]

    def copies_of(self, choice: Sequence[int]) -> dict[str, int]:
        """Copies per weight layer for one chosen option index per stage."""
        copies: dict[str, int] = {}
        for stage, o in zip(self.stages, choice, strict=True):
            copies.update(zip(stage.members, (int(d) for d in stage.copies[o]), strict=True))
        return copies

    def units_of(self, choice: Sequence[int]) -> dict[str, int]:
        """Digital MAC units per weight layer computed on them, for one option per stage."""
        units: dict[str, int] = {}
        for stage, o in zip(self.stages, choice, strict=True):
            units.update(
                (m, int(u)) for m, u in zip(stage.members, stage.units[o], strict=True) if u
            )
        return units

    def adcs_of(self, choice: Sequence[int]) -> dict[str, int]:
        """ADCs per crossbar per weight layer for one chosen option index per stage."""
        adcs: dict[str, int] = {}
        for stage, o in zip(self.stages, choice, strict=True):
            adcs.update(zip(stage.members, (int(a) for a in stage.adcs[o]), strict=True))
        return adcs

    def naive_cost(self) -> np.ndarray:
        """Resources the slowest option of every stage needs: one copy of every layer
        (fewest ADCs in design mode; a product on one MAC unit, if that is slower)."""
        return np.sum([stage.cost[0] for stage in self.stages], axis=0, dtype=np.int64)

    def floor_cost(self) -> np.ndarray:
        """Per resource, the least any design needs: each stage's cheapest option in it.

        The naive design's cost when options only get dearer as they get faster
        (every slowest option is then cheapest in every resource, ADCs included);
        below it when a product may run on MAC units or on crossbars.
        """
        if not self.has_mac_units:
            return self.naive_cost()
        return np.sum([stage.cost.min(axis=0) for stage in self.stages], axis=0, dtype=np.int64)

    def shortfall(self) -> dict[str, int]:
        """Per resource, how much even the least design exceeds the budget (empty if it fits)."""
        need = self.floor_cost()
        return {
            r: int(n - c)
            for r, n, c in zip(self.resources, need, self.capacity, strict=True)
            if n > c
        }

    def shortfall_message(self) -> str:
        """Why the budget cannot hold the naive design, in words; empty if it can."""
        short = self.shortfall()
        if not short:
            return ""
        hw = self.analysis.hardware
        need = dict(zip(self.resources, (int(n) for n in self.floor_cost()), strict=True))
        chips = chips_for(hw, need["crossbars"], need.get("tiles"))
        needs = " and ".join(RESOURCES[r].fmt(n) for r, n in need.items())
        cap = self.capacities()
        gaps = ", ".join(
            f"{RESOURCES[r].fmt(v)} short ({RESOURCES[r].number(v)} more than"
            f" the {RESOURCES[r].fmt(cap[r])} budgeted)"
            for r, v in short.items()
        )
        return (
            f"{self.budget.describe(hw)} cannot hold one copy of every layer: the naive design"
            f" needs {needs} ({chips} chip{'s' if chips != 1 else ''}); {gaps}"
        )


def useful_copies(parallel: int, limit: int | None = None) -> list[int]:
    """The smallest copy count for each distinct ``ceil(parallel / d)``, ascending.

    About ``2·sqrt(parallel)`` values; ``limit`` caps the largest count.
    """
    return copy_counts(parallel, limit).tolist()


def copy_counts(parallel: int, limit: int | None = None) -> np.ndarray:
    """:func:`useful_copies` as an int64 array, in numpy.

    Every such ``d`` is either at most ``r = isqrt(parallel)`` or the smallest
    count giving a round count ``q <= r + 1``, which is ``ceil(parallel / q)``; of
    the candidates (ascending), keep the first of each round count.
    """
    limit = parallel if limit is None else min(limit, parallel)
    r = math.isqrt(parallel)
    q = np.arange(1, r + 2, dtype=np.int64)
    # Sorted, a repeated candidate has its predecessor's round count: dropped below.
    cand = np.sort(np.concatenate([np.arange(1, r + 1, dtype=np.int64), -(-parallel // q)]))
    cand = cand[cand <= limit]
    rounds = -(-parallel // cand)
    first = np.ones(cand.size, dtype=bool)
    first[1:] = rounds[1:] < rounds[:-1]
    return cand[first]


def _kind(layer: LayerDemand) -> str:
    if layer.op == "conv2d":
        return "conv"
    return "recurrent" if layer.op in RECURRENT_GATES else layer.op


def _layer_options(
    layer: LayerDemand,
    per_copy: int,
    hw: Hardware,
    resources: tuple[str, ...],
    adc_cycles: Sequence[tuple[int, int]],
    limit: int | None,
    unit_limit: int | None = None,
    pool: int | None = None,
    shares: Mapping[int, tuple[float, float]] | None = None,
) -> tuple[np.ndarray, ...] | None:
    """(copies, adcs, cost, busy, units) of every useful copy count at every ADC choice,
    and for a product of two activations on MAC units, of every useful unit count.

    ``per_copy`` is the crossbars one copy reserves (:func:`hitm.movement.copy_crossbars`).
    With ``pool`` (a decoder loop's shared MAC units), a product's one digital option
    runs on that pool at no cost of its own (none with a pool of 0); None if the layer
    then has no option at all.
    """
    parts = []
    shares = shares or {}
    if on_crossbars(layer, hw):
        copies = copy_counts(layer.parallel, limit)
        rounds = -(-layer.parallel // copies)
        for adcs, cycle in adc_cycles:
            costs = layer_costs(hw, per_copy, copies, adcs, shares.get(adcs))
            # busy_at_cycle_ps, for every count at once (each fits int64: see MAX_BUSY_PS)
            busy = layer.write_ps + layer.steps * rounds * (layer.mvm_cycles * cycle)
            cost = np.stack([costs[r] for r in resources], axis=1)
            n = len(copies)
            parts.append(
                (copies[:, None], np.full((n, 1), adcs), cost, busy, np.zeros((n, 1), np.int64))
            )
    if on_mac_units(layer, hw) and pool != 0:
        # A pool wider than the product's rounds leaves the rest idle: it uses its width.
        widest = layer.widest
        units = copy_counts(widest, unit_limit) if pool is None else np.array([min(pool, widest)])
        costs = digital_costs(hw, units if pool is None else np.zeros(1, np.int64))
        n = len(units)
        parts.append(
            (
                np.zeros((n, 1), np.int64),
                np.full((n, 1), adc_cycles[0][0]),
                np.stack([costs[r] for r in resources], axis=1),
                product_busy_ps(hw, layer, units),
                units[:, None],
            )
        )
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]  # useful copy (or unit) counts are already Pareto-optimal, slow → fast
    chains = np.repeat(np.arange(len(parts)), [len(part[3]) for part in parts])
    columns = (np.concatenate(column) for column in zip(*parts, strict=True))
    return _pareto(*columns, chains=chains)


def _pareto(
    copies: np.ndarray,
    adcs: np.ndarray,
    cost: np.ndarray,
    busy: np.ndarray,
    units: np.ndarray,
    chains: np.ndarray | None = None,
):
    """Keep options no other option beats in busy and every resource; sort slow → fast.

    Of options with equal busy and cost, the first (fewest copies) is kept.
    ``chains`` may label options that form chains (one ADC choice's copy counts):
    with three or more resources they are then filtered by :func:`_undominated_chains`.
    """
    # Fastest first, then cheapest: an option can only be dominated by one before it.
    order = np.lexsort((*cost.T[::-1], busy))
    copies, adcs, cost, busy, units = (a[order] for a in (copies, adcs, cost, busy, units))
    keep = None
    if chains is not None and cost.shape[1] > 2:
        keep = _undominated_chains(cost, chains[order])
    if cost.shape[1] == 1:
        # One resource: kept iff strictly cheaper than every faster-or-equal option before it.
        c = cost[:, 0]
        prior = np.concatenate([[np.iinfo(np.int64).max], np.minimum.accumulate(c)[:-1]])
        keep = np.flatnonzero(c < prior)
    elif cost.shape[1] == 2:
        keep = _undominated_2d(cost)
    elif keep is None:
        keep = _undominated(cost)
    keep = keep[::-1]  # slow → fast
    return copies[keep], adcs[keep], cost[keep], busy[keep], units[keep]


def _undominated(cost: np.ndarray, block: int = 256) -> np.ndarray:
    """Indices of rows no earlier row is at most in every column (rows sorted fastest first).

    Row ``i`` is dropped iff some earlier kept row is no dearer anywhere; checked
    a block at a time against the kept rows and within the block, in numpy.
    Within a block any earlier row will do, kept or not: domination is
    transitive, so a dropped row that is no dearer than ``i`` has a kept row
    (earlier still) that is no dearer either.
    """
    kept = np.empty((0, cost.shape[1]), dtype=cost.dtype)
    keep: list[np.ndarray] = []
    for start in range(0, len(cost), block):
        rows = cost[start : start + block]
        # Dominated by an option kept from an earlier block?
        alive = ~_no_dearer(kept, rows).any(axis=1)
        # Within the block, by an earlier row that is itself alive.
        earlier = np.tri(len(rows), len(rows), -1, dtype=bool)  # [i, j]: j before i
        alive &= ~(_no_dearer(rows, rows) & earlier).any(axis=1)
        idx = np.flatnonzero(alive)
        keep.append(start + idx)
        kept = np.concatenate([kept, rows[idx]])
    return np.concatenate(keep) if keep else np.empty(0, dtype=np.int64)


def _undominated_chains(cost: np.ndarray, chains: np.ndarray) -> np.ndarray | None:
    """:func:`_undominated` when the rows fall into chains, in O(n log n) per chain.

    Rows are in sweep order (fastest first). A chain is a set of rows whose
    costs never rise along that order in any column (more copies at one ADC
    choice: faster and dearer everywhere). Of a chain's rows before row ``i``
    the last is then no dearer than any other in every column, so ``i`` is
    dominated by the chain iff by that one row. None if some label is not a
    chain (the caller falls back to the pairwise check).
    """
    n = len(cost)
    dominated = np.zeros(n, dtype=bool)
    position = np.arange(n)
    for label in distinct(chains):
        members = np.flatnonzero(chains == label)  # ascending: sweep order
        if np.any(cost[members[1:]] > cost[members[:-1]]):
            return None
        last = np.searchsorted(members, position, side="left") - 1  # the last one before
        has = last >= 0
        rows = members[last[has]]
        dominated[has] |= np.all(cost[rows] <= cost[has], axis=1)
    return np.flatnonzero(~dominated)


def _no_dearer(by: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``[i, j]``: row ``j`` of ``by`` is at most row ``i`` of ``rows`` in every column.

    Column by column on 2-D masks, which is several times faster than one 3-D
    comparison reduced over its last axis.
    """
    mask = by[None, :, 0] <= rows[:, None, 0]
    for c in range(1, rows.shape[1]):
        mask &= by[None, :, c] <= rows[:, None, c]
    return mask


def _undominated_2d(cost: np.ndarray) -> np.ndarray:
    """:func:`_undominated` for two resources, by a staircase sweep in O(n log n).

    The kept rows so far form a staircase: by the first resource ascending, the
    second strictly descending. A row is dominated iff the step at or left of
    its first resource is no dearer in the second; else it joins the staircase
    and the steps it now dominates (no cheaper in either) leave it.
    """
    xs: list[int] = []  # first resource of each step, ascending
    ys: list[int] = []  # second resource, strictly descending
    keep = []
    for i, (x, y) in enumerate(cost.tolist()):
        at = bisect.bisect_right(xs, x)
        if at and ys[at - 1] <= y:
            continue  # an earlier row is no dearer in both
        keep.append(i)
        end = at
        while end < len(xs) and ys[end] >= y:
            end += 1  # steps right of x that are no cheaper in the second: dominated now
        xs[at:end] = [x]
        ys[at:end] = [y]
    return np.asarray(keep, dtype=np.int64)


def _merge(a, b):
    """Options of two members run one after another: costs and busy times add."""
    ca, aa, xa, ba, ua = a
    cb, ab, xb, bb, ub = b
    if len(ba) * len(bb) > _MAX_MERGE:
        raise DescriptionError(
            f"network: a feedback loop's members have {len(ba):,} × {len(bb):,} option pairs"
            f" (limit {_MAX_MERGE:,}); lower the budget or the work inside the loop"
        )
    ia, ib = np.meshgrid(np.arange(len(ba)), np.arange(len(bb)), indexing="ij")
    ia, ib = ia.ravel(), ib.ravel()
    return _pareto(
        np.concatenate([ca[ia], cb[ib]], axis=1),
        np.concatenate([aa[ia], ab[ib]], axis=1),
        xa[ia] + xb[ib],
        ba[ia] + bb[ib],
        np.concatenate([ua[ia], ub[ib]], axis=1),
    )


def build_problem(
    analysis: Analysis,
    budget: Budget | None = None,
    *,
    design: DesignSpace | None = None,
    prune: bool = True,
) -> AllocationProblem:
    """Turn an analysis and a budget into the allocation problem.

    Parameters
    ----------
    analysis
        Per-layer demand vectors.
    budget
        Chips, crossbars, tiles, power and area available; defaults to the
        hardware's ``chips``.
    design
        Design mode: each layer also chooses its ADCs per crossbar.
    prune
        Drop options that cannot fit even with every other stage at its
        cheapest (exact: such options are in no feasible design). Skipped when
        the naive design itself does not fit, so its shortfall can be reported.

    Raises
    ------
    DescriptionError
        If the network has no layer with weights (nothing to place on
        crossbars), or the problem would have more than :data:`MAX_OPTIONS` options.
    """
    if not analysis.weight_layers:
        raise DescriptionError(
            f"network: none of its {len(analysis.layers):,} layers has weights"
            f" ({', '.join(sorted(WEIGHT_OPS))}), so there is nothing to put on crossbars"
        )
    budget = budget or Budget()
    hw = analysis.hardware
    full = budget.capacity(hw)
    weight_layers = analysis.weight_layers
    digital = [m for m in weight_layers if on_mac_units(m, hw)]
    _check_digital(analysis, budget, digital)
    resources = ("crossbars",) + (() if hw.share_tiles else ("tiles",))
    resources += tuple(r for r in ("power_uw", "area_um2") if r in full)
    resources += ("mac_units",) if digital else ()
    unbounded = np.iinfo(np.int64).max // 4  # sums of costs stay exact in int64 below it
    capacity = [min(int(full.get(r, unbounded)), unbounded) for r in resources]
    capacity = np.array(capacity, np.int64)
    adc_choices = design.adcs if design else (hw.adcs_per_crossbar,)
    adc_cycles = [(a, design.cycle_ps(hw, a) if design else hw.cycle_ps) for a in adc_choices]

    # One copy of every layer, fewest ADCs, must fit every budgeted resource, else
    # pruning would empty a stage's options and the shortfall is what to report. A
    # product that may run on MAC units needs no crossbars, and one on crossbars no units.
    per_copy = {layer.name: copy_crossbars(analysis, layer.name) for layer in weight_layers}
    naive_need = np.zeros(len(resources), dtype=np.int64)
    # Each layer's costs price its crossbars by the same shares of a tile: look them up once.
    shares = {a: crossbar_share(hw, a) for a in adc_choices}
    for layer in weight_layers:
        if on_mac_units(layer, hw):
            continue
        costs = layer_costs(hw, per_copy[layer.name], [1], adc_choices[0], shares[adc_choices[0]])
        naive_need += np.array([costs[r][0] for r in resources])
    fits = bool(np.all(naive_need <= capacity))
    slack = int(capacity[0] - naive_need[0]) if (prune and fits) else None
    # At least one unit: a product that must run on MAC units keeps its slowest option,
    # so a budget of none is reported as short of them.
    unit_limit = max(int(capacity[-1]), 1) if (digital and slack is not None) else None

    def limit(layer: LayerDemand) -> int | None:
        return None if slack is None else 1 + slack // per_copy[layer.name]

    groups: list[tuple[str, str, list[LayerDemand]]] = []
    seen_loops: dict[str, int] = {}
    for layer in weight_layers:
        if layer.loop is None:
            groups.append((layer.name, _kind(layer), [layer]))
        elif layer.loop in seen_loops:
            groups[seen_loops[layer.loop]][2].append(layer)
        else:
            seen_loops[layer.loop] = len(groups)
            groups.append((layer.loop, "loop", [layer]))

    groups = _in_pipeline_order(analysis, groups)

    estimate = len(adc_choices) * sum(copy_counts(m.parallel, limit(m)).size for m in weight_layers)
    estimate += sum(copy_counts(m.widest, unit_limit).size for m in digital)
    if estimate > MAX_OPTIONS:
        raise DescriptionError(
            f"budget: the problem would have {estimate:,} options (limit {MAX_OPTIONS:,});"
            " lower the budget or the input sizes"
        )
    # Busy times add up inside loops and across solvers' objectives: keep them in int64.
    slowest = sum(m.busy_ps(1) for m in weight_layers)
    slowest += sum(int(product_busy_ps(hw, m, np.ones(1))[0]) for m in digital)
    if slowest > MAX_BUSY_PS:
        raise DescriptionError(
            f"network: one inference would keep the layers busy for {slowest / 1e12:,.0f} s;"
            " the sizes or step counts are too large to model"
        )

    stages: list[Stage] = []
    stage_of: dict[str, int] = {}

    def options(m: LayerDemand):
        return _layer_options(
            m, per_copy[m.name], hw, resources, adc_cycles, limit(m), unit_limit, shares=shares
        )

    def loop_options(members: list[LayerDemand]):
        # The members of a loop run one after another each step, so the MAC units the
        # loop holds serve each of its products in turn: one pool of u units, bought
        # once. For each pool size, merge the members with their products on u units
        # free; then charge the pool to the options that use it.
        products = [m for m in members if on_mac_units(m, hw)]
        pools = distinct(np.concatenate([copy_counts(m.widest, unit_limit) for m in products]))
        levels = []
        for u in (0, *pools.tolist()):
            opts = None
            for m in members:
                own = _layer_options(
                    m,
                    per_copy[m.name],
                    hw,
                    resources,
                    adc_cycles,
                    limit(m),
                    unit_limit,
                    pool=u,
                    shares=shares,
                )
                if own is None:  # a product that must run on MAC units, and no pool
                    break
                opts = own if opts is None else _merge(opts, own)
            else:
                if u:
                    pooled = opts[4].any(axis=1)
                    pool_cost = digital_costs(hw, [u])
                    charge = np.array([pool_cost[r][0] for r in resources], dtype=np.int64)
                    opts = (opts[0], opts[1], opts[2] + np.outer(pooled, charge), *opts[3:])
                levels.append(opts)
        return _pareto(*(np.concatenate(column) for column in zip(*levels, strict=True)))

    for name, kind, members in groups:
        if len(members) > 1 and any(on_mac_units(m, hw) for m in members):
            opts = loop_options(members)
        else:
            opts = options(members[0])
            for member in members[1:]:
                opts = _merge(opts, options(member))
        for m in members:
            stage_of[m.name] = len(stages)
        stages.append(Stage(name, kind, tuple(m.name for m in members), *opts))

    if hw.digital_units:
        stages = _with_digital_elements(analysis, stages, stage_of)
    placement = None
    if hw.moves_data:
        stages, placement = _with_data_movement(analysis, stages, stage_of, per_copy, capacity)
    if slack is not None:
        pruned = _prune(stages, capacity)
        # An emptied stage means no design fits (its every option exceeds what the others
        # leave even at their cheapest): keep the options so that solvers say infeasible.
        slack = slack if all(s.n_options for s in pruned) else None
        stages = pruned if slack is not None else stages
        if placement is not None and slack is not None:
            placement = dataclasses.replace(placement, copies=_placed_copies(stages))
    return AllocationProblem(
        analysis,
        budget,
        tuple(stages),
        resources,
        capacity,
        slack is not None,
        design,
        stage_of,
        placement,
    )


def _check_digital(analysis: Analysis, budget: Budget, digital: Sequence[LayerDemand]) -> None:
    """What ``digital: units`` needs: MAC units for products that must use them, and a
    budget of MAC units only where some product may use them."""
    hw = analysis.hardware
    forced = [m.name for m in analysis.weight_layers if not on_crossbars(m, hw)]
    if forced and hw.mac_units_per_ima == 0:
        raise DescriptionError(
            f"layer {forced[0]}: implementation digital needs MAC units, but the hardware"
            " has mac_units_per_ima: 0"
        )
    if hw.moves_data and digital:
        raise DescriptionError(
            f"layer {digital[0].name}: products on MAC units are not placed on chips yet"
            " (interconnect: isaac); set implementation: write on the products, or"
            " digital: ideal, or interconnect: ideal"
        )
    if budget.mac_units is not None and not digital:
        why = (
            "the hardware's digital is ideal (set digital: units)"
            if not hw.digital_units
            else "no product of two activations may run on MAC units"
        )
        raise DescriptionError(f"budget.mac_units: nothing uses MAC units: {why}")


def _with_digital_elements(
    analysis: Analysis, stages: list[Stage], stage_of: Mapping[str, int]
) -> list[Stage]:
    """Each stage's busy with its softmax, layer norm and GELU on its tiles' activation units.

    The units work beside the crossbars, item by item: a stage's busy is the
    larger of the two. Inside a decoder loop each step waits for the last, so a
    loop's element time adds to its members' (docs/model.md, "Digital units").
    """
    hw = analysis.hardware
    passes = stage_elements(analysis, layer_hosts(analysis, stage_of), len(stages))
    timed = []
    for stage, work in zip(stages, passes, strict=True):
        if not work:
            timed.append(stage)
            continue
        crossbars = stage.cost[:, 0]
        units = stage.units.max(axis=1)  # a loop's products share one pool of MAC units
        elements = element_busy_ps(hw, work, crossbars, units)
        busy = with_elements(stage.busy_ps, elements, stage.is_loop)
        opts = _pareto(stage.copies, stage.adcs, stage.cost, busy, stage.units)
        timed.append(Stage(stage.name, stage.kind, stage.members, *opts))
    return timed


def _in_pipeline_order(
    analysis: Analysis, groups: list[tuple[str, str, list[LayerDemand]]]
) -> list[tuple[str, str, list[LayerDemand]]]:
    """Stages in an order where every stage comes after the stages feeding it: the
    order of the DAG with each loop contracted (:meth:`Analysis.loop_dag`)."""
    _, order = analysis.loop_dag()
    position = {n: i for i, (n, _) in enumerate(order)}
    return sorted(groups, key=lambda g: position[g[0]])


def _with_data_movement(
    analysis: Analysis,
    stages: list[Stage],
    stage_of: dict[str, int],
    per_copy: Mapping[str, int],
    capacity: np.ndarray,
) -> tuple[list[Stage], Placement]:
    """Each stage's busy bounded by its eDRAM bandwidth; the placement data of its flows."""
    hw = analysis.hardware
    members = [s.members for s in stages]
    hosts = layer_hosts(analysis, stage_of)
    edram = stage_edram_bits(analysis, hosts, len(stages))
    bounded = []
    for stage, bits in zip(stages, edram, strict=True):
        busy = np.maximum(stage.busy_ps, edram_busy_ps(hw, bits, stage.cost[:, 0]))
        if np.array_equal(busy, stage.busy_ps):
            bounded.append(stage)
            continue
        opts = _pareto(stage.copies, stage.adcs, stage.cost, busy, stage.units)
        bounded.append(Stage(stage.name, stage.kind, stage.members, *opts))
    flows = stage_flows(analysis, stage_of, members)
    from formulations.placement import Placement

    placement = Placement(
        chips=max(1, -(-int(capacity[0]) // hw.crossbars_per_chip)),
        chip_capacity=hw.crossbars_per_chip,
        copies=_placed_copies(bounded),
        # A loop is one block of its option's crossbars (per_copy 0), cut anywhere.
        per_copy=tuple(0 if s.is_loop else per_copy[s.members[0]] for s in bounded),
        atomic=(False,) * len(bounded),
        source=flows.source,
        flow=flows.flow,
        state=flows.state,
        bandwidth=hw.link_bits_per_ps,
    )
    return bounded, placement


def _placed_copies(stages: Sequence[Stage]) -> tuple[np.ndarray, ...]:
    """Copies per option as the placement reads them: a loop's block is one copy."""
    return tuple(
        np.ones(s.n_options, dtype=np.int64) if s.is_loop else s.copies[:, 0].copy() for s in stages
    )


def _prune(stages: list[Stage], capacity: np.ndarray) -> list[Stage]:
    """Drop options that exceed the capacity left once every other stage takes its cheapest."""
    floor = np.sum([s.cost.min(axis=0) for s in stages], axis=0)
    return [
        s.keep(np.all(s.cost <= capacity - (floor - s.cost.min(axis=0)), axis=1)) for s in stages
    ]


def naive_chips(analysis: Analysis) -> int:
    """The fewest whole chips that hold one copy of every layer (the naive design)."""
    hw = analysis.hardware
    layers = analysis.weight_layers
    crossbars = sum(copy_crossbars(analysis, layer.name) for layer in layers)
    tiles = None
    if not hw.share_tiles:  # each layer has whole tiles to itself
        tiles = sum(
            -(-copy_crossbars(analysis, layer.name) // hw.crossbars_per_tile) for layer in layers
        )
    return max(1, chips_for(hw, crossbars, tiles))


def choice_from_copies(problem: AllocationProblem, copies: Mapping[str, int]) -> list[int] | None:
    """Option index per stage matching ``copies`` exactly; None if a stage has no such option."""
    choice = []
    for stage in problem.stages:
        want = np.array([copies[m] for m in stage.members])
        hits = np.flatnonzero(np.all(stage.copies == want, axis=1))
        if len(hits) == 0:
            return None
        choice.append(int(hits[0]))
    return choice
