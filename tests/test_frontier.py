"""The exact budget → throughput frontier, checked by enumeration and exact solves.

Every point of the small instances' frontiers is re-derived by CP-SAT (and
one by the MILP): the optimum at the point's budget is its bottleneck, and
one unit below it is the previous point's (infeasible below the first). The
zoo check (captioner, ISAAC, 1 chip) verifies a sample of five points: the
first, the knee, the chosen design, the middle one and the ceiling.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from helpers import ISAAC, MVM, instance
from typer.testing import CliRunner

from hitm import analyze, build_problem, load_instance, solve
from hitm.budget import Budget, DesignSpace
from hitm.cli import app
from hitm.costs import crossbar_share
from hitm.errors import DescriptionError
from hitm.frontier import (
    KNEE_MIN_LIFT,
    frontier,
    knee_index,
    resource_cap,
    verify_frontier,
)
from hitm.pipeline import evaluate, naive_adcs, naive_copies
from hitm.report.documents import frontier_json
from hitm.staircase import breakpoints


def pareto_by_enumeration(busy, cost):
    """(budget, bottleneck) Pareto points over every combination of options."""
    best: dict[int, int] = {}
    for combo in itertools.product(*(range(len(b)) for b in busy)):
        t = max(int(b[o]) for b, o in zip(busy, combo, strict=True))
        c = sum(int(x[o]) for x, o in zip(cost, combo, strict=True))
        best[t] = min(best.get(t, c), c)
    points, cheapest = [], None
    for t in sorted(best):  # fast → slow: keep those cheaper than every faster one
        if cheapest is None or best[t] < cheapest:
            points.append((best[t], t))
            cheapest = best[t]
    return points[::-1]


def test_breakpoints_by_hand():
    # Stage A: 8 → 4 → 2 at cost 1, 2, 4; stage B: 6 → 3 at cost 1, 3.
    budget, t = breakpoints(
        [np.array([8, 4, 2]), np.array([6, 3])], [np.array([1, 2, 4]), np.array([1, 3])]
    )
    # T=8: 1+1; T=6: 2+1; T=4: 2+3; T=3: 4+3 (B cannot go below 3).
    assert list(budget) == [2, 3, 5, 7]
    assert list(t) == [8, 6, 4, 3]


@pytest.mark.parametrize("seed", range(25))
def test_breakpoints_match_enumeration(seed):
    rng = np.random.default_rng(seed)
    busy, cost = [], []
    for _ in range(rng.integers(1, 5)):
        n = int(rng.integers(1, 6))
        busy.append(rng.integers(1, 40, n))  # any order, ties allowed
        cost.append(rng.integers(0, 30, n))  # not monotone: the suffix minimum must handle it
    budget, t = breakpoints(busy, cost)
    assert list(zip(budget.tolist(), t.tolist(), strict=True)) == pareto_by_enumeration(busy, cost)
    assert np.all(np.diff(budget) > 0) and np.all(np.diff(t) < 0)


def test_knee_rule():
    # Throughput 1/T rises steeply, then flattens: the knee is the bend.
    budget = np.array([10, 20, 30, 40, 100])
    bottleneck = np.array([1000, 20, 11, 10, 9])  # normalised: x 0, .11, .22, .33, 1
    i, lift = knee_index(budget, bottleneck)  # y 0, .45, .82, .90, 1
    assert i == 2 and lift == pytest.approx(0.595, abs=1e-3)
    # A straight line has no knee ...
    straight = np.array([10, 20, 30, 40])
    i, lift = knee_index(straight, 1200 // (straight // 10))
    assert i is None and lift < KNEE_MIN_LIFT
    # ... nor have two points.
    assert knee_index(np.array([1, 2]), np.array([2, 1])) == (None, 0.0)


def three_convs():
    """1×1 convs: per copy c0 8 crossbars (parallel 4), c1 2 (16), c2 4 (9)."""
    layers, inputs = [], {}
    for name, (c_in, hw, c_out) in {
        "c0": (200, 2, 64),
        "c1": (100, 4, 32),
        "c2": (8, 3, 64),
    }.items():
        inputs[f"x_{name}"] = {"shape": [c_in, hw, hw]}
        layers.append(
            {"name": name, "op": "conv2d", "input": f"x_{name}", "kernel": 1, "out_channels": c_out}
        )
    inst = instance(layers, inputs, budget={"crossbars": 40})
    return inst, analyze(inst.network, inst.hardware)


def test_crossbar_frontier_of_a_small_network_every_point_proven():
    inst, a = three_convs()
    front = frontier(a, "crossbars", budget=inst.budget)
    assert [layer.crossbars for layer in a.weight_layers] == [8, 2, 4]
    # Naive: 8 + 2 + 4 crossbars, bottleneck c1's 16 MVMs; ceiling: one MVM.
    assert (front.budget[0], front.bottleneck_ps[0]) == (14, 16 * MVM)
    assert front.naive.budget == 14 and front.naive.bottleneck_ps == 16 * MVM
    assert front.unlimited_ps == MVM
    assert front.ceiling.budget == 4 * 8 + 16 * 2 + 9 * 4 == front.unlimited.budget
    checks = verify_frontier(a, front)  # CP-SAT at every point and one crossbar below
    assert [c.index for c in checks] == list(range(len(front)))
    assert checks[0].below_ps is None  # one crossbar short of the naive design: infeasible
    # The MILP agrees on the chosen point (the best within 40 crossbars).
    assert front.cap == 40 and front.chosen == front.at(40)
    (check,) = verify_frontier(a, front, indices=[front.index(front.chosen)], method="ilp")
    assert check.bottleneck_ps == front.chosen.bottleneck_ps


def test_crossbar_frontier_is_the_dp_curve():
    """The DP's budget → bottleneck curve, run up to the ceiling, is the same staircase."""
    for _inst, a in (three_convs(), _captioner()):
        front = frontier(a, "crossbars")
        dp = solve(build_problem(a, Budget(crossbars=int(front.budget[-1]))), "dp")
        assert dp.status == "optimal" and dp.bottleneck_ps == front.unlimited_ps
        assert list(dp.curve.budget) == list(front.budget)
        assert list(dp.curve.bottleneck_ps) == list(front.bottleneck_ps)


def test_power_frontier_in_design_mode_every_point_proven():
    _inst, a = three_convs()
    space = DesignSpace(adcs=(1, 2, 4))
    front = frontier(a, "power", design=space, budget=Budget(crossbars=40, power_w=0.15))
    # ADCs are priced in power: the cheapest design is the naive one, one ADC each.
    share_uw = crossbar_share(ISAAC, 1)[0] * 1e3
    assert front.naive.amount == front.amount[0]
    assert front.naive.amount == pytest.approx(14 * share_uw, abs=3)
    assert front.naive.budget == front.naive.amount / 1e6 and front.naive.unit == "W"
    assert front.naive.amount_unit == "µW"
    assert front.naive.bottleneck_ps == front.bottleneck_ps[0] == 16 * MVM
    # 4 ADCs per crossbar: a 25 ns cycle, so the ceiling is a quarter of an MVM.
    assert front.unlimited_ps == MVM // 4
    assert front.cap == 150_000 and front.chosen == front.at(150_000)
    checks = verify_frontier(a, front, design=space)
    assert len(checks) == len(front) > 10


def test_design_mode_crossbar_frontier_prices_no_adcs():
    _inst, a = three_convs()
    plain = frontier(a, "crossbars")
    front = frontier(a, "crossbars", design=DesignSpace(adcs=(1, 2, 4)))
    # ADCs cost no crossbars: the first point takes 4 per crossbar, as fast as the
    # naive design's crossbars allow, so the naive design (1 ADC) is 4x slower.
    assert front.budget[0] == front.naive.budget == plain.budget[0]
    assert front.naive.bottleneck_ps == 4 * front.bottleneck_ps[0]
    assert list(front.budget) == list(plain.budget)
    assert list(front.bottleneck_ps * 4) == list(plain.bottleneck_ps)


def _captioner():
    inst = load_instance("instances/captioner.yaml")
    return inst, analyze(inst.network, inst.hardware)


@pytest.mark.parametrize(("resource", "space"), [("crossbars", None), ("power", DesignSpace())])
def test_zoo_frontier_sampled_points_proven(resource, space):
    inst, a = _captioner()
    front = frontier(a, resource, design=space, budget=inst.budget)
    assert front.knee is not None and front.chosen is not None
    sample = sorted(
        {0, front.index(front.knee), front.index(front.chosen), len(front) // 2, len(front) - 1}
    )
    assert len(sample) == 5
    checks = verify_frontier(a, front, design=space, indices=sample)
    assert [c.index for c in checks] == sample


def test_zoo_landmarks_agree_with_the_solvers():
    inst, a = _captioner()
    front = frontier(a, "crossbars", budget=inst.budget)
    # The chosen design is the lexicographic optimum at the instance's 1 chip.
    best = solve(build_problem(a, inst.budget), "dp")
    assert front.cap == 16_128
    assert front.chosen.bottleneck_ps == best.bottleneck_ps == 105_600_000
    assert front.chosen.budget == best.crossbars_used
    # The naive design is the first point; the ceiling is the decoder loop's 66 µs.
    assert (front.naive.budget, front.naive.bottleneck_ps) == (8_096, front.bottleneck_ps[0])
    assert front.unlimited_ps == 66_000_000
    assert front.unlimited.budget == 633_380  # every layer at its fastest
    assert front.ceiling.budget == front.budget[-1] < front.unlimited.budget


def test_power_cap_defaults_to_the_chips_provisioned_power():
    inst, a = _captioner()
    per_chip = crossbar_share(ISAAC)[0] * 16_128 / 1e3  # W: 168 tiles at 329.8 mW
    assert resource_cap(a, inst.budget, "power") / 1e6 == pytest.approx(per_chip, abs=1e-5)
    assert resource_cap(a, Budget(chips=1, power_w=40), "power") == 40_000_000
    problem = build_problem(a, Budget(chips=1, power_w=40), design=DesignSpace())
    naive = evaluate(problem, naive_copies(problem), naive_adcs(problem))
    front = frontier(a, "power", design=DesignSpace(), budget=Budget(power_w=40))
    assert front.naive.amount == naive.usage["power_uw"]


def test_up_to_cuts_the_frontier_and_keeps_the_landmarks():
    inst, a = _captioner()
    full = frontier(a, "crossbars", budget=inst.budget)
    cut = frontier(a, "crossbars", budget=inst.budget, up_to=10_000)
    assert not cut.complete and full.complete
    assert list(cut.budget) == [b for b in full.budget if b <= 10_000]
    assert cut.chosen == full.chosen and cut.knee == full.knee
    assert cut.unlimited_ps == full.unlimited_ps
    with pytest.raises(DescriptionError, match="below the 8,096 crossbars"):
        frontier(a, "crossbars", up_to=8_000)
    with pytest.raises(DescriptionError, match="did you mean 'power'"):
        frontier(a, "powr")


def test_pareto_cli_json():
    result = CliRunner().invoke(app, ["pareto", "instances/captioner.yaml", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    inst, a = _captioner()
    front = frontier(a, "crossbars", budget=inst.budget)
    assert doc.pop("provenance")["input"]["path"] == "instances/captioner.yaml"
    assert doc == json.loads(json.dumps(frontier_json(front)))
    assert doc["resource"] == "crossbars" and doc["unit"] == "crossbars"
    assert doc["n_points"] == len(doc["points"]) == len(front)
    first, last = doc["points"][0], doc["points"][-1]
    assert first == {
        "crossbars": 8_096,
        "bottleneck_ps": 20_070_400_000,
        "throughput_per_s": pytest.approx(1e12 / 20_070_400_000),
        "pct_of_unlimited": pytest.approx(100 * 66e6 / 20_070_400_000),
    }
    assert last["pct_of_unlimited"] == 100 and doc["ceiling"]["crossbars"] == last["crossbars"]
    assert doc["unlimited"]["crossbars"] == 633_380
    assert doc["cap"] == {"crossbars": 16_128} and doc["chosen"]["bottleneck_ps"] == 105_600_000
    assert doc["knee"]["lift"] == doc["knee_lift"] >= KNEE_MIN_LIFT
    assert doc["naive"]["crossbars"] == 8_096


def test_pareto_cli_power_in_watts_and_table():
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["pareto", "instances/captioner.yaml", "-r", "power", "--adcs", "1,2,4,8", "--json"],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["unit"] == "W" and doc["design"] is True
    assert doc["cap"]["power_w"] == pytest.approx(55.408, abs=1e-3)  # 1 chip's tiles
    assert doc["cap"]["power_uw"] == 55_408_080  # 168 tiles x 329.81 mW, the exact integer
    budgets = [p["power_w"] for p in doc["points"]]
    assert budgets == sorted(budgets) and 20 < budgets[0] < 30
    assert all(p["power_uw"] / 1e6 == p["power_w"] for p in doc["points"])
    table = runner.invoke(
        app, ["pareto", "instances/captioner.yaml", "--power-w", "40", "-r", "power"]
    )
    assert table.exit_code == 0, table.output
    assert "breakpoints" in table.stdout and "knee" in table.stdout and "ceiling" in table.stdout
    assert "within 40.000 W (the budget's power)" in table.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-r", "tiles"], "unknown resource 'tiles'"),
        (["--up-to", "100"], "--up-to: 100 crossbars is below"),
        (["--plot", "out.gif"], ".png, .svg or .pdf"),
    ],
)
def test_pareto_cli_errors(args, message, tmp_path):
    result = CliRunner().invoke(app, ["pareto", "instances/captioner.yaml", *args])
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output
    assert result.stdout == ""
