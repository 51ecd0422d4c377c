"""The allocation problem and the pipeline model that scores every design.

Times are ISAAC's (DESIGN.md): one MVM 1,600,000 ps, a one-hot lookup 100,000 ps.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hitm.analysis import analyze, busy_ps
from hitm.budget import Budget
from hitm.description.load import load_instance, parse_instance
from hitm.errors import DescriptionError
from hitm.pipeline import check_allocation, evaluate, naive_copies, unlimited_copies
from hitm.problem import AllocationProblem, build_problem, choice_from_copies, useful_copies

INSTANCES = Path(__file__).resolve().parent.parent / "instances"
MVM = 1_600_000
ONEHOT = 100_000


def problem_from(
    inputs: dict[str, Any],
    layers: list[dict[str, Any]],
    *,
    feedback: list[dict[str, Any]] | None = None,
    budget: dict[str, int] | None = None,
    hardware: dict[str, Any] | None = None,
    prune: bool = True,
) -> AllocationProblem:
    network: dict[str, Any] = {"inputs": inputs, "layers": layers}
    if feedback:
        network["feedback"] = feedback
    doc: dict[str, Any] = {"network": network, "budget": budget or {"chips": 1}}
    if hardware:
        doc["hardware"] = hardware
    instance = parse_instance(doc)
    analysis = analyze(instance.network, instance.hardware)
    return build_problem(analysis, instance.budget, prune=prune)


def instance_problem(name: str, **kwargs: Any) -> AllocationProblem:
    instance = load_instance(INSTANCES / f"{name}.yaml")
    return build_problem(analyze(instance.network, instance.hardware), instance.budget, **kwargs)


# --- busy times and options ---------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "parallel", "copies", "expected"),
    [
        (1, 50_176, 1, 50_176 * MVM),  # VGG conv1_1 naive: 80.28 ms
        (1, 50_176, 2, 25_088 * MVM),
        (1, 50_176, 3, 16_726 * MVM),  # ceil(50176 / 3) = 16,725.33 -> 16,726
        (1, 50_176, 50_176, MVM),
        (20, 1, 1, 20 * MVM),  # a recurrence: copies cannot split dependent steps
        (16, 10, 4, 16 * 3 * MVM),  # ceil(10 / 4) = 3
    ],
)
def test_busy_is_steps_times_rounds_times_mvm(
    steps: int, parallel: int, copies: int, expected: int
) -> None:
    assert busy_ps(steps, parallel, copies, MVM) == expected


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


# --- latency: critical path through the DAG ---------------------------------------

BRANCH_LAYERS = [
    {"name": "a", "op": "linear", "input": "x", "out_features": 16},
    {"name": "b1", "op": "linear", "input": "x", "out_features": 16},
    {"name": "b2", "op": "linear", "input": "b1", "out_features": 16},
    {"name": "cat", "op": "concat", "inputs": ["a", "b2"]},
    {"name": "out", "op": "linear", "input": "cat", "out_features": 10},
]


@pytest.mark.parametrize(
    ("copies", "latency_rounds", "bottleneck_rounds"),
    [
        # a: 8 rounds; b1 + b2: 4 + 2; out: 1 -> max(8, 6) + 1 = 9
        ({"a": 1, "b1": 2, "b2": 4, "out": 8}, 9, 8),
        # a: 2 rounds; b1 + b2: 4 + 2 -> max(2, 6) + 1 = 7; the longer path moved
        ({"a": 4, "b1": 2, "b2": 4, "out": 8}, 7, 4),
        # naive: every linear runs 8 items one after another: max(8, 16) + 8
        ({"a": 1, "b1": 1, "b2": 1, "out": 1}, 24, 8),
    ],
)
def test_latency_is_the_critical_path(
    copies: dict[str, int], latency_rounds: int, bottleneck_rounds: int
) -> None:
    problem = problem_from({"x": {"shape": [16], "seq": 8}}, BRANCH_LAYERS)
    metrics = evaluate(problem, copies)
    assert metrics.latency_ps == latency_rounds * MVM
    assert metrics.bottleneck_ps == bottleneck_rounds * MVM
    assert metrics.throughput_per_s == pytest.approx(1e12 / (bottleneck_rounds * MVM))


# --- baselines -------------------------------------------------------------------


def test_naive_and_unlimited_designs_of_the_captioner() -> None:
    problem = instance_problem("captioner")
    analysis = problem.analysis
    naive = evaluate(problem, naive_copies(problem))
    # conv1: 112 × 112 = 12,544 MVMs one after another
    assert naive.bottleneck_stage == "conv1"
    assert naive.bottleneck_ps == 12_544 * MVM
    assert naive.crossbars_used == analysis.totals["crossbars"] == 8_096
    assert naive.fits
    unlimited = evaluate(problem, unlimited_copies(problem))
    # Fastest option of each stage is steps × mvm; the loop's members add up.
    fastest = {
        "loop:embed..word": 20 * (ONEHOT + MVM + MVM),
        **{layer.name: layer.steps * layer.mvm_ps for layer in analysis.weight_layers
           if layer.loop is None},
    }  # fmt: skip
    assert unlimited.bottleneck_ps == max(fastest.values()) == 66_000_000
    assert unlimited.bottleneck_stage == "loop:embed..word"
    assert {s.name: s.busy_ps for s in unlimited.stages} == fastest
    assert not unlimited.fits  # 40 chips' worth: the ceiling, not a design


def test_unlimited_bottleneck_of_vgg16_is_one_mvm() -> None:
    problem = instance_problem("vgg16")
    unlimited = evaluate(problem, unlimited_copies(problem))
    assert unlimited.bottleneck_ps == MVM
    naive = evaluate(problem, naive_copies(problem))
    # conv1_1 and conv1_2 both take 50,176 MVMs; the first in order is reported
    assert naive.bottleneck_ps == 80_281_600_000
    assert naive.bottleneck_stage == "conv1_1"


# --- the solver-independent checker ---------------------------------------------


def test_check_allocation_catches_every_violation() -> None:
    problem = problem_from({"x": {"shape": [16], "seq": 8}}, BRANCH_LAYERS, budget={"crossbars": 8})
    good = {"a": 1, "b1": 1, "b2": 1, "out": 1}
    assert check_allocation(problem, good) == []
    missing = check_allocation(problem, {"a": 1, "b1": 1, "b2": 1})
    assert missing == ["copies.out: missing"]
    unknown = check_allocation(problem, {**good, "cat": 1})
    assert unknown == ["copies.cat: not a weight layer of this network"]
    for bad in (0, 9, -1):
        (msg,) = check_allocation(problem, {**good, "a": bad})
        assert msg.startswith("copies.a: must be between 1 and 8")
    (msg,) = check_allocation(problem, {**good, "a": 2.0})
    assert msg.startswith("copies.a: expected an integer")
    # each linear here is 1 crossbar (16 × 16·8 = 128 columns); 2+2+2+2 = 8 fits, 9 does not
    assert check_allocation(problem, {"a": 2, "b1": 2, "b2": 2, "out": 2}) == []
    (msg,) = check_allocation(problem, {"a": 3, "b1": 2, "b2": 2, "out": 2})
    assert msg == "budget: uses 9 crossbars, 1 over the 8 available"
    with pytest.raises(DescriptionError, match=r"copies\.out: missing"):
        evaluate(problem, {"a": 1, "b1": 1, "b2": 1})
    # evaluate scores over-budget designs (the caller decides) and says they do not fit
    assert not evaluate(problem, {"a": 3, "b1": 2, "b2": 2, "out": 2}).fits


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


# --- Pareto filter of composite options ------------------------------------------


def _brute_pareto(cost: np.ndarray, busy: np.ndarray) -> set[tuple[int, ...]]:
    points = {(int(b), *map(int, c)) for b, c in zip(busy, cost, strict=True)}
    return {
        p
        for p in points
        if not any(q != p and all(qi <= pi for qi, pi in zip(q, p, strict=True)) for q in points)
    }


@pytest.mark.parametrize("resources", [1, 2])
@pytest.mark.parametrize("seed", range(20))
def test_pareto_filter_matches_brute_force(resources, seed):
    from hitm.problem import _pareto

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 40))
    busy = rng.integers(1, 12, n).astype(np.int64)
    cost = rng.integers(0, 8, (n, resources)).astype(np.int64)
    copies = np.arange(n)[:, None]
    kept_copies, kept_adcs, kept_cost, kept_busy = _pareto(copies, copies % 3, cost, busy)
    got = {(int(b), *map(int, c)) for b, c in zip(kept_busy, kept_cost, strict=True)}
    assert got == _brute_pareto(cost, busy)
    assert len(got) == len(kept_busy)  # no duplicates kept
    # slow → fast; with two resources, equally fast options may trade one for the other
    assert np.all(np.diff(kept_busy) < 0) if resources == 1 else np.all(np.diff(kept_busy) <= 0)
    for d, a, c, b in zip(kept_copies[:, 0], kept_adcs[:, 0], kept_cost, kept_busy, strict=True):
        # copies and ADCs travel with their option
        assert busy[d] == b and np.array_equal(cost[d], c) and a == d % 3


def test_a_tie_names_the_stage_nothing_can_speed_up():
    """A conv over 4 positions and an LSTM over 4 steps both take 4 MVMs with one copy;
    only the conv can be sped up, so the LSTM is what caps the pipeline."""
    p = problem_from(
        {"x": {"shape": [8, 2, 2]}, "s": {"shape": [16], "seq": 4}},
        [
            {"name": "conv", "op": "conv2d", "input": "x", "out_channels": 8, "kernel": 1},
            {"name": "rnn", "op": "lstm", "input": "s", "hidden": 16},
        ],
    )
    m = evaluate(p, naive_copies(p))
    assert [s.busy_ps for s in m.stages] == [4 * MVM, 4 * MVM]
    assert m.bottleneck_stage == "rnn"
