"""The pipeline model that scores every design: busy times, latency, bottleneck, checks.

``evaluate`` and ``check_allocation`` on small networks and the shipped
instances: the critical-path latency, the naive and unlimited baselines, the
bottleneck stage named on a tie, and every violation the checker reports. The
problem they score (stages, options, pruning) is tested in test_problem.py.

Times are ISAAC's (DESIGN.md): one MVM 1,600,000 ps, a one-hot lookup 100,000 ps.
"""

from __future__ import annotations

from typing import Any

import pytest
from helpers import INSTANCES, MVM, ONEHOT, problem_from

from hitm.analysis import analyze, busy_ps
from hitm.description.load import load_instance
from hitm.errors import DescriptionError
from hitm.pipeline import check_allocation, evaluate, naive_copies, unlimited_copies
from hitm.problem import AllocationProblem, build_problem


def instance_problem(name: str, **kwargs: Any) -> AllocationProblem:
    instance = load_instance(INSTANCES / f"{name}.yaml")
    return build_problem(analyze(instance.network, instance.hardware), instance.budget, **kwargs)


# --- busy times ----------------------------------------------------------------------


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


# --- the bottleneck stage ----------------------------------------------------------


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
