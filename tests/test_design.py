"""Design mode: the ADC lever's timing and price, multi-resource budgets, the DP's gap.

ISAAC figures (DESIGN.md): 128 columns, 1.28 GS/s ADCs, 16 input bit-slices.
Design mode assumes a 25 ns array read (docs/design.md), so a crossbar cycle
with ``a`` ADCs is max(25 ns, 128 / (a × 1.28 GS/s)): 100, 50, 25, 25 ns for
a = 1, 2, 4, 8. The ADC options a stage gets are tested in test_problem.py.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from helpers import ISAAC, instance
from typer.testing import CliRunner

from hitm import analyze, build_problem, evaluate, load_instance, solve, verify
from hitm.budget import Budget, DesignSpace, load_budget, load_design
from hitm.cli import app
from hitm.costs import cost_table, crossbar_share, layer_costs
from hitm.errors import DescriptionError
from hitm.pipeline import check_allocation

EXACT = ("cpsat", "ilp")


def test_cycle_per_adc_count():
    space = DesignSpace()
    assert [space.cycle_ps(ISAAC, a) for a in (1, 2, 4, 8)] == [100_000, 50_000, 25_000, 25_000]
    # ISAAC's own timing is unchanged outside design mode.
    assert ISAAC.cycle_ps == 100_000


def test_crossbar_share_adds_up_to_the_tile_and_prices_each_adc():
    power_mw, area_mm2 = crossbar_share(ISAAC, 1)
    table = cost_table(ISAAC)
    assert power_mw * 96 == pytest.approx(table.tile_power_mw)
    assert area_mm2 * 96 == pytest.approx(table.tile_area_mm2)
    adc = ISAAC.component("adc")  # Table I: 8 ADCs per IMA, 16 mW, 0.0096 mm² in all
    assert adc.power_mw == pytest.approx(2.0) and adc.area_mm2 == pytest.approx(0.0012)
    four_mw, four_mm2 = crossbar_share(ISAAC, 4)
    assert four_mw - power_mw == pytest.approx(3 * 2.0)
    assert four_mm2 - area_mm2 == pytest.approx(3 * 0.0012)
    costs = layer_costs(ISAAC, 4, [1, 3], 2)
    assert list(costs["crossbars"]) == [4, 12] and list(costs["adcs"]) == [8, 24]


def gap_case():
    """Four 1×1 convolutions with a crossbar and a power cap, found by random search.

    Per copy: c0 8 crossbars (K 200 → 2 row blocks, N 64 → 4), parallel 4;
    c1 2 crossbars, parallel 16; c2 2 crossbars, parallel 1; c3 4, parallel 4.
    """
    layers, inputs = [], {}
    for name, (c_in, hw, c_out) in {
        "c0": (200, 2, 64),
        "c1": (100, 4, 32),
        "c2": (100, 1, 32),
        "c3": (8, 2, 64),
    }.items():
        inputs[f"x_{name}"] = {"shape": [c_in, hw, hw]}
        layers.append(
            {"name": name, "op": "conv2d", "input": f"x_{name}", "kernel": 1, "out_channels": c_out}
        )
    inst = instance(layers, inputs)
    a = analyze(inst.network, inst.hardware)
    return build_problem(
        a, Budget(crossbars=28, power_w=0.1063), design=DesignSpace(adcs=(1, 2, 4))
    )


def brute_force(problem):
    """Best (bottleneck, crossbars) over every copy count and ADC choice of every layer."""
    layers = problem.analysis.weight_layers
    names = [layer.name for layer in layers]
    per_layer = [
        list(itertools.product(range(1, layer.parallel + 1), problem.adc_choices))
        for layer in layers
    ]
    best = None
    for combo in itertools.product(*per_layer):
        copies = dict(zip(names, (d for d, _ in combo), strict=True))
        adcs = dict(zip(names, (a for _, a in combo), strict=True))
        if check_allocation(problem, copies, adcs):
            continue
        m = evaluate(problem, copies, adcs)
        key = (m.bottleneck_ps, m.crossbars_used)
        best = key if best is None or key < best else best
    return best


def test_single_dimension_dp_is_suboptimal_and_exact_methods_are_not():
    p = gap_case()
    assert p.resources == ("crossbars", "power_uw")
    assert [layer.crossbars for layer in p.analysis.weight_layers] == [8, 2, 2, 4]
    # Brute force over all 4·3 × 16·3 × 1·3 × 4·3 = 20,736 designs.
    best = brute_force(p)
    assert best == (4_800_000, 20)
    for method in EXACT:
        r = solve(p, method)
        verify(p, r)
        assert r.status == "optimal"
        assert (r.bottleneck_ps, r.crossbars_used) == best
    dp = solve(p, "dp")
    verify(p, dp)  # valid, within both budgets ...
    assert dp.status == "feasible"  # ... never claimed optimal ...
    assert dp.bottleneck_ps == 6_400_000  # ... and measurably worse: a 25% longer period
    assert (dp.bottleneck_ps - best[0]) / dp.bottleneck_ps == pytest.approx(0.25)


def test_compare_reports_the_gap_and_the_binding_budget(tmp_path):
    import yaml

    p = gap_case()
    doc = {
        "network": {
            "inputs": {n: {"shape": list(s.dims)} for n, s in p.analysis.network.inputs.items()},
            "layers": [
                {
                    "name": layer.name,
                    "op": "conv2d",
                    "input": layer.inputs[0],
                    "kernel": 1,
                    "out_channels": layer.shape.dims[0],
                }
                for layer in p.analysis.network.layers
            ],
        },
        "budget": {"crossbars": 28, "power_w": 0.1063},
        "design": {"adcs": [1, 2, 4]},
    }
    path = tmp_path / "gap.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = CliRunner().invoke(app, ["compare", str(path), "--json"])
    assert result.exit_code == 0, result.output
    import json

    out = json.loads(result.stdout)
    assert out["agree"] is True
    rows = {(r["method"], r["backend"]): r for r in out["results"]}
    assert out["best_bound_ps"] == 4_800_000
    assert rows[("dp", None)]["gap_to_best_bound"] == pytest.approx(0.25)
    assert rows[("cpsat", None)]["gap_to_best_bound"] == 0
    assert rows[("dp", None)]["binding"] in ("crossbars", "power_uw")


@pytest.mark.parametrize("seed", range(6))
def test_random_design_problems_exact_methods_agree_with_brute_force(seed):
    rng = np.random.default_rng(seed)
    layers, inputs = [], {}
    for i in range(3):
        hw = int(rng.choice([1, 2, 3]))
        inputs[f"x{i}"] = {"shape": [int(rng.choice([8, 100, 200])), hw, hw]}
        layers.append(
            {
                "name": f"c{i}",
                "op": "conv2d",
                "input": f"x{i}",
                "kernel": 1,
                "out_channels": int(rng.choice([16, 32, 64])),
            }
        )
    inst = instance(layers, inputs)
    a = analyze(inst.network, inst.hardware)
    space = DesignSpace(adcs=(1, 2, 4))
    naive = build_problem(a, Budget(crossbars=10**6), design=space).naive_cost()
    share_mw = crossbar_share(ISAAC, 1)[0]
    budget = Budget(
        crossbars=int(naive[0] * rng.uniform(1.0, 2.5)),
        power_w=round(float(naive[0] * share_mw / 1000 * rng.uniform(1.0, 2.5)), 4),
    )
    p = build_problem(a, budget, design=space)
    expected = brute_force(p)
    for method in ("dp", "bisect", "greedy", "cpsat", "ilp"):
        r = solve(p, method)
        if expected is None:
            assert r.copies is None
            continue
        verify(p, r)
        assert (r.bottleneck_ps, r.crossbars_used) >= expected
        if method in EXACT:
            assert r.status == "optimal"
            assert (r.bottleneck_ps, r.crossbars_used) == expected


def test_budget_and_design_fields_are_validated():
    with pytest.raises(DescriptionError, match=r"budget\.power: unknown field \(use power_w\)"):
        load_budget({"power": 40})
    with pytest.raises(DescriptionError, match=r"budget\.area_mm2: must be positive"):
        load_budget({"area_mm2": -1})
    with pytest.raises(DescriptionError, match=r"design\.adcs: expected a list"):
        load_design({"adcs": [0, 2]})
    with pytest.raises(DescriptionError, match=r"design\.read_n: unknown field.*read_ns"):
        load_design({"read_n": 10})
    assert load_design({"adcs": [4, 1, 4]}).adcs == (1, 4)


def test_power_budget_from_the_cli_binds_and_is_respected(tmp_path):
    result = CliRunner().invoke(
        app, ["solve", "instances/captioner.yaml", "--design", "--power-w", "40", "--json"]
    )
    assert result.exit_code == 0, result.output
    import json

    doc = json.loads(result.stdout)
    assert doc["capacity"]["power_uw"] == 40_000_000
    assert doc["usage"]["power_uw"] <= 40_000_000
    assert set(doc["adcs"].values()) <= {1, 2, 4, 8}


def test_power_budget_below_the_naive_design_is_infeasible_in_watts():
    result = CliRunner().invoke(app, ["solve", "instances/captioner.yaml", "--power-w", "10"])
    assert result.exit_code == 3
    assert "W short" in result.stderr and "Traceback" not in result.output


def test_exact_methods_agree_at_a_cap_one_microwatt_above_a_design():
    """Regression: at HiGHS's default integrality tolerance the MILP once took a design
    1 µW over this cap for optimal (78.4 µs); the true optimum is 80 µs."""
    inst = load_instance("instances/captioner.yaml")
    a = analyze(inst.network, inst.hardware)
    p = build_problem(a, Budget(chips=1, power_w=51.425188), design=DesignSpace())
    results = [solve(p, "cpsat"), solve(p, "ilp"), solve(p, "ilp", backend="cbc")]
    for r in results:
        verify(p, r)
        assert r.status == "optimal", r.message
        assert r.bottleneck_ps == 80_000_000
    assert len({r.crossbars_used for r in results}) == 1
