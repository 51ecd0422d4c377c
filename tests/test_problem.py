"""The allocation problem: stages, their options, pruning and the budget.

What ``build_problem`` makes of an analysis, checked against brute force: the
useful copy counts (the smallest count per distinct number of rounds), the
Pareto filter of options, pruning (exact: no feasible design is lost), a
feedback loop as one composite stage, the budget in chips, the naive design's
shortfall, and the ADC options of design mode.

Times are ISAAC's (DESIGN.md): one MVM 1,600,000 ps, a one-hot lookup 100,000 ps.
Design mode assumes a 25 ns array read (docs/design.md), so a crossbar cycle
with ``a`` ADCs is max(25 ns, 128 / (a × 1.28 GS/s)): 100, 50, 25, 25 ns for
a = 1, 2, 4, 8.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from helpers import MVM, ONEHOT, instance, problem_from
from hypothesis import given, settings
from hypothesis import strategies as st

from hitm.analysis import analyze
from hitm.budget import Budget, DesignSpace
from hitm.optimize import solve
from hitm.pipeline import evaluate, naive_copies
from hitm.problem import AllocationProblem, build_problem, choice_from_copies, useful_copies

# --- useful copies: the options of a stage ---------------------------------------


def brute_force_useful(parallel: int, limit: int | None = None) -> list[int]:
    """Smallest d in 1..parallel for each distinct ceil(parallel / d)."""
    first: dict[int, int] = {}
    for d in range(1, parallel + 1):
        first.setdefault(-(-parallel // d), d)
    top = parallel if limit is None else limit
    return sorted(d for d in first.values() if d <= top)


@pytest.mark.parametrize("parallel", [*range(1, 120), 169, 729, 1000, 3025, 12_544])
def test_useful_copies_are_the_smallest_d_per_round_count(parallel: int) -> None:
    assert useful_copies(parallel) == brute_force_useful(parallel)


@pytest.mark.parametrize(("parallel", "limit"), [(100, 7), (169, 13), (3025, 1), (50, 500)])
def test_useful_copies_respect_the_limit(parallel: int, limit: int) -> None:
    assert useful_copies(parallel, limit) == brute_force_useful(parallel, limit)


def test_problem_options_are_the_useful_copies() -> None:
    # conv on 3×13×13, k3 p1: parallel 169, 1 crossbar (27 × 8·8 = 64 columns)
    problem = problem_from(
        {"x": {"shape": [3, 13, 13]}},
        [{"name": "c", "op": "conv2d", "input": "x", "out_channels": 8, "kernel": 3,
          "padding": 1}],
        prune=False,
    )  # fmt: skip
    (stage,) = problem.stages
    expected = brute_force_useful(169)
    assert stage.copies[:, 0].tolist() == expected
    assert stage.cost[:, 0].tolist() == expected  # 1 crossbar per copy
    assert stage.busy_ps.tolist() == [-(-169 // d) * MVM for d in expected]
    assert all(np.diff(stage.busy_ps) < 0)  # strictly faster, option by option


# --- a feedback loop is one composite stage ------------------------------------

LOOP_INPUTS = {"start": {"shape": [1]}}
LOOP_LAYERS = [
    {"name": "embed", "op": "embedding", "input": "start", "vocab": 1000, "dim": 128},
    {"name": "lstm", "op": "lstm", "input": "embed", "hidden": 128},
    {"name": "logits", "op": "linear", "input": "lstm", "out_features": 1000},
    {"name": "word", "op": "argmax", "input": "logits"},
]
LOOP_FEEDBACK = [{"from": "word", "to": "embed", "steps": 20}]


def test_loop_composite_busy_is_the_sum_of_its_members() -> None:
    problem = problem_from(LOOP_INPUTS, LOOP_LAYERS, feedback=LOOP_FEEDBACK)
    (stage,) = problem.stages
    assert stage.kind == "loop"
    assert stage.members == ("embed", "lstm", "logits")
    # Each of 20 steps: one-hot lookup, then the LSTM's MVM, then the logits' MVM.
    composite = 20 * (ONEHOT + MVM + MVM)
    assert composite == 66_000_000
    assert stage.busy_ps.tolist() == [composite]  # parallel 1: copies cannot help
    # embed 1000 × 128: 8 × 8; lstm 2 × (128 × 512): 2 × 1 × 32; logits 128 × 1000: 1 × 63
    assert stage.cost[0, 0] == 64 + 64 + 63
    metrics = evaluate(problem, naive_copies(problem))
    assert metrics.bottleneck_ps == composite
    assert metrics.bottleneck_stage == "loop:embed..word"
    assert metrics.latency_ps == composite
    assert metrics.crossbars_used == 191


# --- the budget and the naive design ----------------------------------------------


def test_naive_design_must_fit_every_resource() -> None:
    # Layers may not share a tile and a chip has one tile: three 1-crossbar layers
    # need 3 tiles, the 2-chip budget has 2. The crossbars fit (3 of 192).
    problem = problem_from(
        {"x": {"shape": [16], "seq": 4}},
        [
            {"name": "a", "op": "linear", "input": "x", "out_features": 16},
            {"name": "b", "op": "linear", "input": "a", "out_features": 16},
            {"name": "c", "op": "linear", "input": "b", "out_features": 16},
        ],
        budget={"chips": 2},
        hardware={"share_tiles": False, "tiles_per_chip": 1},
    )
    assert problem.resources == ("crossbars", "tiles")
    assert not problem.pruned
    assert all(stage.n_options >= 1 for stage in problem.stages)
    assert problem.shortfall() == {"tiles": 1}


def test_budget_in_chips() -> None:
    problem = problem_from(LOOP_INPUTS, LOOP_LAYERS, feedback=LOOP_FEEDBACK,
                           budget={"chips": 2})  # fmt: skip
    assert problem.capacity.tolist() == [2 * 16_128]
    assert problem.budget == Budget(chips=2)


# --- pruning is exact ------------------------------------------------------------

PRUNE_LAYERS = [
    # 3×6×6 k3 p1: parallel 36, 1 crossbar
    {"name": "c1", "op": "conv2d", "input": "x", "out_channels": 8, "kernel": 3, "padding": 1},
    # 8×6×6 k3 p1: 72 × 128 columns -> 1 crossbar, parallel 36
    {"name": "c2", "op": "conv2d", "input": "c1", "out_channels": 16, "kernel": 3, "padding": 1},
    # 16 → 32, k3 on 6×6 without padding: 144 rows -> 2 × 2 = 4 crossbars, parallel 16
    {"name": "c3", "op": "conv2d", "input": "c2", "out_channels": 32, "kernel": 3},
    {"name": "flat", "op": "flatten", "input": "c3"},
    {"name": "fc", "op": "linear", "input": "flat", "out_features": 10},
]


def brute_force(problem: AllocationProblem) -> tuple[tuple[int, int], list[dict[str, int]]]:
    """(T, crossbars) lexicographic optimum and every feasible design, by enumeration."""
    best = None
    feasible = []
    for choice in itertools.product(*(range(s.n_options) for s in problem.stages)):
        cost = sum(s.cost[o] for s, o in zip(problem.stages, choice, strict=True))
        if np.any(cost > problem.capacity):
            continue
        period = max(int(s.busy_ps[o]) for s, o in zip(problem.stages, choice, strict=True))
        feasible.append(problem.copies_of(choice))
        key = (period, int(cost[0]))
        best = key if best is None or key < best else best
    assert best is not None
    return best, feasible


@pytest.mark.parametrize("crossbars", [15, 20, 33, 60])
def test_pruning_keeps_every_feasible_design(crossbars: int) -> None:
    kwargs = {"budget": {"crossbars": crossbars}}
    full = problem_from({"x": {"shape": [3, 6, 6]}}, PRUNE_LAYERS, prune=False, **kwargs)
    pruned = problem_from({"x": {"shape": [3, 6, 6]}}, PRUNE_LAYERS, **kwargs)
    assert pruned.pruned and not full.pruned
    assert pruned.n_options < full.n_options
    best_full, feasible = brute_force(full)
    best_pruned, _ = brute_force(pruned)
    assert best_pruned == best_full
    for copies in feasible:
        assert choice_from_copies(pruned, copies) is not None, copies


# --- Pareto filter of composite options ------------------------------------------


def _brute_pareto(cost: np.ndarray, busy: np.ndarray) -> set[tuple[int, ...]]:
    points = {(int(b), *map(int, c)) for b, c in zip(busy, cost, strict=True)}
    return {
        p
        for p in points
        if not any(q != p and all(qi <= pi for qi, pi in zip(q, p, strict=True)) for q in points)
    }


@pytest.mark.parametrize("resources", [1, 2, 3])
@pytest.mark.parametrize("seed", range(20))
def test_pareto_filter_matches_brute_force(resources, seed):
    from hitm.problem import _pareto

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 40))
    busy = rng.integers(1, 12, n).astype(np.int64)
    cost = rng.integers(0, 8, (n, resources)).astype(np.int64)
    copies = np.arange(n)[:, None]
    kept_copies, kept_adcs, kept_cost, kept_busy, _ = _pareto(
        copies, copies % 3, cost, busy, np.zeros_like(copies)
    )
    got = {(int(b), *map(int, c)) for b, c in zip(kept_busy, kept_cost, strict=True)}
    assert got == _brute_pareto(cost, busy)
    assert len(got) == len(kept_busy)  # no duplicates kept
    # slow → fast; with two resources, equally fast options may trade one for the other
    assert np.all(np.diff(kept_busy) < 0) if resources == 1 else np.all(np.diff(kept_busy) <= 0)
    for d, a, c, b in zip(kept_copies[:, 0], kept_adcs[:, 0], kept_cost, kept_busy, strict=True):
        # copies and ADCs travel with their option
        assert busy[d] == b and np.array_equal(cost[d], c) and a == d % 3


# --- design mode: ADCs per crossbar are part of an option --------------------------


def lstm_net():
    return instance(
        [{"name": "rnn", "op": "lstm", "input": "x", "hidden": 128}],
        {"x": {"shape": [64], "seq": 10}},
    )


def test_recurrent_layers_get_a_lever():
    inst = lstm_net()
    a = analyze(inst.network, inst.hardware)
    # With crossbars the only budget, more ADCs cost nothing: the fastest dominates.
    (alone,) = build_problem(a, Budget(chips=1), design=DesignSpace()).stages
    assert list(alone.adcs[:, 0]) == [4]
    # A power cap prices them, so every useful ADC count stays an option.
    p = build_problem(a, Budget(chips=1, power_w=100), design=DesignSpace())
    (stage,) = p.stages
    # Copies cannot split a recurrence; ADCs shorten each of its 10 steps.
    assert set(stage.copies[:, 0]) == {1}
    assert list(stage.adcs[:, 0]) == [1, 2, 4]  # 8 ADCs: same cycle as 4, dearer: dominated
    assert list(stage.busy_ps) == [10 * 16 * c for c in (100_000, 50_000, 25_000)]
    best = solve(p, "cpsat")
    assert best.status == "optimal" and best.bottleneck_ps == 4_000_000
    assert best.adcs == {"rnn": 4}


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(0, 4)), max_size=40),
    st.sampled_from([1, 3, 256]),
)
def test_undominated_rows_are_the_brute_force_ones(rows, block) -> None:
    """Rows in sweep order (fastest first): a row is dropped iff an earlier row is no dearer
    in every column; with ties the first stays. Blocks of 1, 3 and 256 rows all agree."""
    from hitm.problem import _undominated

    cost = np.array(rows, dtype=np.int64).reshape(-1, 3)
    brute = [
        i
        for i in range(len(rows))
        if not any(all(a <= b for a, b in zip(rows[j], rows[i], strict=True)) for j in range(i))
    ]
    assert _undominated(cost, block).tolist() == brute


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=60))
def test_the_two_resource_staircase_sweep_keeps_the_brute_force_rows(rows) -> None:
    """Two resources (crossbars and power, say): the O(n log n) staircase sweep keeps
    exactly the rows no earlier row is no dearer than in both, ties keeping the first."""
    from hitm.problem import _undominated_2d

    cost = np.array(rows, dtype=np.int64).reshape(-1, 2)
    brute = [
        i
        for i in range(len(rows))
        if not any(all(a <= b for a, b in zip(rows[j], rows[i], strict=True)) for j in range(i))
    ]
    assert _undominated_2d(cost).tolist() == brute


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 3)), max_size=8),
        min_size=1,
        max_size=4,
    ),
    st.randoms(use_true_random=False),
)
def test_chains_of_options_keep_the_brute_force_rows(chains, rng) -> None:
    """Options in chains (one ADC choice's copy counts: every column rises with speed),
    interleaved in sweep order: the per-chain check keeps exactly the rows no earlier
    row is no dearer than in every column, ties keeping the first. A label that is no
    chain gives None (the caller then checks pairwise)."""
    from hitm.problem import _undominated_chains

    rows: list[tuple[int, int, int]] = []
    labels: list[int] = []
    for label, steps in enumerate(chains):
        # Cumulative steps from the fast end: costs never rise along sweep order.
        level = np.cumsum(np.array(steps or [(0, 0, 0)]), axis=0)[::-1]
        rows += [tuple(int(v) for v in r) for r in level]
        labels += [label] * len(level)
    merged: list[int] = []
    # Any interleaving that keeps each chain's own order is a sweep order here.
    queues = {lab: [i for i in range(len(rows)) if labels[i] == lab] for lab in set(labels)}
    while any(queues.values()):
        lab = rng.choice([k for k, q in queues.items() if q])
        merged.append(queues[lab].pop(0))
    cost = np.array([rows[i] for i in merged], dtype=np.int64).reshape(-1, 3)
    tags = np.array([labels[i] for i in merged])
    brute = [
        i for i in range(len(cost)) if not any(bool(np.all(cost[j] <= cost[i])) for j in range(i))
    ]
    assert _undominated_chains(cost, tags).tolist() == brute
    if len(cost) >= 2 and bool(np.any(cost[1] > cost[0])):
        assert _undominated_chains(cost, np.zeros(len(cost), dtype=int)) is None


def test_three_resource_filter_matches_brute_force_across_blocks():
    """600 options (three blocks of 256) with three resources: the kept set is exactly the
    options no other option beats in busy and every resource (numpy brute force)."""
    from hitm.problem import _pareto

    rng = np.random.default_rng(7)
    n = 600
    busy = rng.integers(1, 40, n).astype(np.int64)
    cost = rng.integers(0, 30, (n, 3)).astype(np.int64)
    copies = np.arange(n)[:, None]
    _, _, kept_cost, kept_busy, _ = _pareto(copies, copies, cost, busy, np.zeros_like(copies))
    points = np.unique(np.column_stack([busy, cost]), axis=0)
    leq = np.all(points[None, :, :] <= points[:, None, :], axis=2)  # [i, j]: j ≤ i
    np.fill_diagonal(leq, False)
    want = {tuple(map(int, p)) for p in points[~leq.any(axis=1)]}
    got = {(int(b), *map(int, c)) for b, c in zip(kept_busy, kept_cost, strict=True)}
    assert got == want and len(got) == len(kept_busy)


@given(st.lists(st.integers(-5, 40), max_size=60))
def test_distinct_is_numpys_unique(values: list[int]) -> None:
    """hitm.staircase.distinct stands in for np.unique (which imports numpy.ma at start-up)."""
    from hitm.staircase import distinct

    array = np.array(values, dtype=np.int64)
    assert distinct(array).tolist() == np.unique(array).tolist()
