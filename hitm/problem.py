"""The allocation problem: pipeline stages, their options, and the budget.

Built once, as integer arrays, so that every solver reads the same data
(DESIGN.md, "Allocation problem"). A stage is a weight layer outside any
feedback loop, or a loop's composite (its members' busy times add up).
Each stage's options are Pareto-optimal (cost, busy) pairs sorted from the
slowest and cheapest (one copy of everything) to the fastest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from hitm.analysis import Analysis, LayerDemand, busy_ps
from hitm.description.ops import RECURRENT_GATES
from hitm.errors import DescriptionError
from hitm.hardware import Budget

__all__ = [
    "MAX_OPTIONS",
    "AllocationProblem",
    "Stage",
    "build_problem",
    "choice_from_copies",
    "useful_copies",
]

MAX_OPTIONS = 500_000  # over this the problem would take minutes and gigabytes: refuse
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
    cost
        ``(n_options, n_resources)`` integer cost of each option.
    busy_ps
        ``(n_options,)`` integer busy time of each option, non-increasing (strictly
        with one resource; with several, equally fast options trade one for another).
    """

    name: str
    kind: str
    members: tuple[str, ...]
    copies: np.ndarray
    cost: np.ndarray
    busy_ps: np.ndarray

    @property
    def n_options(self) -> int:
        return len(self.busy_ps)


@dataclass(frozen=True, eq=False)
class AllocationProblem:
    """Stages with options, resources, and capacities, all integers.

    ``pruned`` tells whether options that could never fit the budget were
    dropped (done whenever the naive design fits).
    """

    analysis: Analysis
    budget: Budget
    stages: tuple[Stage, ...]
    resources: tuple[str, ...]
    capacity: np.ndarray
    pruned: bool = False
    _stage_of: dict[str, int] = field(default_factory=dict, repr=False)

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

    def naive_cost(self) -> np.ndarray:
        """Resources one copy of every layer needs."""
        return np.sum([stage.cost[0] for stage in self.stages], axis=0, dtype=np.int64)

    def shortfall(self) -> dict[str, int]:
        """Per resource, how much the naive design exceeds the budget (empty if it fits)."""
        need = self.naive_cost()
        return {
            r: int(n - c)
            for r, n, c in zip(self.resources, need, self.capacity, strict=True)
            if n > c
        }


def useful_copies(parallel: int, limit: int | None = None) -> list[int]:
    """The smallest copy count for each distinct ``ceil(parallel / d)``, ascending.

    About ``2·sqrt(parallel)`` values; ``limit`` caps the largest count.
    """
    limit = parallel if limit is None else min(limit, parallel)
    out, d = [], 1
    while d <= limit:
        out.append(d)
        q = -(-parallel // d)
        if q == 1:
            break
        d = -(-parallel // (q - 1))  # first d whose ceil(parallel/d) drops below q
    return out


def _kind(layer: LayerDemand) -> str:
    if layer.op == "conv2d":
        return "conv"
    return "recurrent" if layer.op in RECURRENT_GATES else layer.op


def _layer_options(
    layer: LayerDemand, resources: tuple[str, ...], per_tile: int, limit: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    copies = np.array(useful_copies(layer.parallel, limit), dtype=np.int64)
    crossbars = copies * layer.crossbars
    columns = {"crossbars": crossbars, "tiles": -(-crossbars // per_tile)}
    cost = np.stack([columns[r] for r in resources], axis=1)
    busy = np.array([busy_ps(layer.steps, layer.parallel, int(d), layer.mvm_ps) for d in copies])
    return copies[:, None], cost, busy.astype(np.int64)


def _pareto(copies: np.ndarray, cost: np.ndarray, busy: np.ndarray):
    """Keep options no other option beats in busy and every resource; sort slow → fast.

    Of options with equal busy and cost, the first (fewest copies) is kept.
    """
    # Fastest first, then cheapest: an option can only be dominated by one before it.
    order = np.lexsort((*cost.T[::-1], busy))
    copies, cost, busy = copies[order], cost[order], busy[order]
    if cost.shape[1] == 1:
        # One resource: kept iff strictly cheaper than every faster-or-equal option before it.
        c = cost[:, 0]
        prior = np.concatenate([[np.iinfo(np.int64).max], np.minimum.accumulate(c)[:-1]])
        keep = np.flatnonzero(c < prior)
    else:
        keep_list: list[int] = []
        for i in range(len(busy)):  # dominated iff a kept, faster option is no dearer anywhere
            if not np.any(np.all(cost[keep_list] <= cost[i], axis=1)):
                keep_list.append(i)
        keep = np.array(keep_list, dtype=np.int64)
    keep = keep[::-1]  # slow → fast
    return copies[keep], cost[keep], busy[keep]


def _merge(a, b):
    """Options of two members run one after another: costs and busy times add."""
    ca, xa, ba = a
    cb, xb, bb = b
    if len(ba) * len(bb) > _MAX_MERGE:
        raise DescriptionError(
            f"network: a feedback loop's members have {len(ba):,} × {len(bb):,} option pairs"
            f" (limit {_MAX_MERGE:,}); lower the budget or the work inside the loop"
        )
    ia, ib = np.meshgrid(np.arange(len(ba)), np.arange(len(bb)), indexing="ij")
    ia, ib = ia.ravel(), ib.ravel()
    return _pareto(np.concatenate([ca[ia], cb[ib]], axis=1), xa[ia] + xb[ib], ba[ia] + bb[ib])


def build_problem(
    analysis: Analysis, budget: Budget | None = None, *, prune: bool = True
) -> AllocationProblem:
    """Turn an analysis and a budget into the allocation problem.

    Parameters
    ----------
    analysis
        Per-layer demand vectors.
    budget
        Chips or crossbars available; defaults to the hardware's ``chips``.
    prune
        Drop options that cannot fit even with every other stage at one copy
        (exact: such options are in no feasible design). Skipped when the
        naive design itself does not fit, so its shortfall can be reported.

    Raises
    ------
    DescriptionError
        If the problem would have more than :data:`MAX_OPTIONS` options.
    """
    budget = budget or Budget()
    hw = analysis.hardware
    full = budget.capacity(hw)
    resources = ("crossbars",) if hw.share_tiles else ("crossbars", "tiles")
    capacity = np.array([full.get(r, np.iinfo(np.int64).max // 4) for r in resources], np.int64)
    weight_layers = analysis.weight_layers
    per_tile = hw.crossbars_per_tile
    naive = int(sum(layer.crossbars for layer in weight_layers))
    # One copy of every layer must fit every budgeted resource (tiles too, when
    # layers may not share a tile), else pruning would empty a stage's options.
    naive_need = {
        "crossbars": naive,
        "tiles": sum(-(-layer.crossbars // per_tile) for layer in weight_layers),
    }
    fits = all(naive_need[r] <= c for r, c in zip(resources, capacity, strict=True))

    def options(layer: LayerDemand, slack: int | None):
        limit = None if slack is None else 1 + slack // layer.crossbars
        return _layer_options(layer, resources, per_tile, limit)

    slack = int(capacity[0]) - naive if (prune and fits) else None
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

    estimate = sum(
        len(useful_copies(m.parallel, None if slack is None else 1 + slack // m.crossbars))
        for _, _, members in groups
        for m in members
    )
    if estimate > MAX_OPTIONS:
        raise DescriptionError(
            f"budget: the problem would have {estimate:,} options (limit {MAX_OPTIONS:,});"
            " lower the budget or the input sizes"
        )

    # Busy times add up inside loops and across solvers' objectives: keep them in int64.
    slowest = sum(m.busy_ps(1) for m in weight_layers)
    if slowest > MAX_BUSY_PS:
        raise DescriptionError(
            f"network: one inference would keep the layers busy for {slowest / 1e12:,.0f} s;"
            " the sizes or step counts are too large to model"
        )
    stages: list[Stage] = []
    stage_of: dict[str, int] = {}
    for name, kind, members in groups:
        # A layer's useful copy counts are already Pareto-optimal and ordered slow → fast.
        opts = options(members[0], slack)
        for member in members[1:]:
            opts = _merge(opts, options(member, slack))
        copies, cost, busy = opts
        for m in members:
            stage_of[m.name] = len(stages)
        stages.append(Stage(name, kind, tuple(m.name for m in members), copies, cost, busy))

    if slack is not None:
        stages = _prune(stages, capacity)
    return AllocationProblem(
        analysis, budget, tuple(stages), resources, capacity, slack is not None, stage_of
    )


def _prune(stages: list[Stage], capacity: np.ndarray) -> list[Stage]:
    """Drop options that exceed the capacity left once every other stage takes its cheapest."""
    floor = np.sum([s.cost[0] for s in stages], axis=0)
    pruned = []
    for s in stages:
        room = capacity - (floor - s.cost[0])
        keep = np.all(s.cost <= room, axis=1)
        pruned.append(
            Stage(s.name, s.kind, s.members, s.copies[keep], s.cost[keep], s.busy_ps[keep])
        )
    return pruned


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
