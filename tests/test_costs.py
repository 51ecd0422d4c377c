"""The cost model: energy per inference, and the power, area and efficiency of a design.

The component tables it reads (presets, overrides, bad cost fields) are tested
in test_hardware.py.

Golden numbers and their provenance:
- ISAAC Table I (Shafiee et al., ISCA 2016; DESIGN.md): per IMA of 8 crossbars,
  crossbars 2.4 mW, DACs 4 mW, sample-and-holds 0.01 mW, ADCs 16 mW.
- PUMA (Ankit et al., ASPLOS 2019): one MVMU MVM (16,384 16-bit MACs) 2,304 ns
  and 43.97 nJ.
"""

from __future__ import annotations

import pytest
from helpers import MVM, problem_from

from hitm.costs import GROUPS, cost_table, design_costs, inference_work, layer_work
from hitm.hardware import PRESETS
from hitm.pipeline import evaluate, naive_copies
from hitm.problem import AllocationProblem


def dynamic_pj(problem: AllocationProblem, layer: str | None = None) -> dict[str, float]:
    """Dynamic energy by group: of one layer, or of the naive design."""
    if layer is None:
        groups = dict(evaluate(problem, naive_copies(problem)).costs.split_pj)
        groups.pop("static")
        return groups
    analysis = problem.analysis
    work = layer_work(analysis)[layer]
    costs = design_costs(analysis, MVM, 0, 0, work=work, area_um2=0)
    return {g: v for g, v in costs.split_pj.items() if g != "static"}


# --- energy per inference --------------------------------------------------------------

LINEAR = {"name": "fc", "op": "linear", "input": "x"}


def test_dynamic_energy_is_proportional_to_work() -> None:
    one = problem_from({"x": {"shape": [256], "seq": 3}}, [{**LINEAR, "out_features": 64}])
    seq = problem_from({"x": {"shape": [256], "seq": 6}}, [{**LINEAR, "out_features": 64}])
    wide = problem_from({"x": {"shape": [256], "seq": 3}}, [{**LINEAR, "out_features": 128}])
    base = dynamic_pj(one, "fc")
    # twice the items: every event doubles
    assert dynamic_pj(seq, "fc") == pytest.approx({g: 2 * v for g, v in base.items()})
    # twice the outputs: twice the crossbars, driven rows and conversions
    doubled = dynamic_pj(wide, "fc")
    for group in ("crossbar", "dac", "adc"):
        assert doubled[group] == pytest.approx(2 * base[group])
    assert sum(doubled.values()) == pytest.approx(2 * sum(base.values()), rel=0.1)


def test_conv_energy_scales_with_macs() -> None:
    conv = {"name": "c", "op": "conv2d", "input": "x", "out_channels": 16, "kernel": 3}
    small = problem_from({"x": {"shape": [8, 8, 8]}}, [{**conv, "padding": 1}])
    large = problem_from({"x": {"shape": [8, 16, 16]}}, [{**conv, "padding": 1}])
    assert large.analysis.totals["macs"] == 4 * small.analysis.totals["macs"]
    assert dynamic_pj(large, "c") == pytest.approx(
        {g: 4 * v for g, v in dynamic_pj(small, "c").items()}
    )


def test_dynamic_energy_does_not_depend_on_copies() -> None:
    p = problem_from(
        {"x": {"shape": [3, 16, 16]}},
        [
            {"name": "c1", "op": "conv2d", "input": "x", "out_channels": 8, "kernel": 3},
            {"name": "r", "op": "relu", "input": "c1"},
            {"name": "c2", "op": "conv2d", "input": "r", "out_channels": 8, "kernel": 3},
        ],
    )
    designs = [evaluate(p, {"c1": a, "c2": b}) for a, b in ((1, 1), (7, 3), (196, 144))]
    first = designs[0].costs
    for m in designs[1:]:
        assert dict(m.costs.components_pj) == pytest.approx(dict(first.components_pj))
    assert len({m.costs.static_pj for m in designs}) == 3  # static energy does differ


def test_static_energy_is_static_power_over_the_period_and_falls_with_throughput() -> None:
    # 27 × 4 weights: one crossbar per copy, so 1 and 4 copies share one tile
    p = problem_from(
        {"x": {"shape": [3, 8, 8]}},
        [{"name": "c", "op": "conv2d", "input": "x", "out_channels": 4, "kernel": 3, "padding": 1}],
    )
    slow, fast = evaluate(p, {"c": 1}), evaluate(p, {"c": 4})
    assert (slow.tiles_used, fast.tiles_used) == (1, 1)
    assert fast.throughput_per_s == pytest.approx(4 * slow.throughput_per_s)
    for m in (slow, fast):
        c = m.costs
        assert c.static_pj == pytest.approx(c.static_power_w * m.bottleneck_ps)
        table = cost_table(p.analysis.hardware)
        expected_mw = 0.1 * (table.tile_power_mw + table.links_power_mw)
        assert c.static_power_w == pytest.approx(expected_mw / 1000)
    assert fast.costs.static_pj == pytest.approx(slow.costs.static_pj / 4)
    assert fast.costs.energy_pj < slow.costs.energy_pj


def test_power_area_and_efficiency_follow_from_energy() -> None:
    p = problem_from({"x": {"shape": [512], "seq": 4}}, [{**LINEAR, "out_features": 256}])
    m = evaluate(p, {"fc": 2})
    c = m.costs
    table = cost_table(p.analysis.hardware)
    assert c.energy_pj == pytest.approx(c.dynamic_pj + c.static_pj)
    assert sum(c.split_pj.values()) == pytest.approx(c.energy_pj)
    assert set(c.split_pj) == set(GROUPS)
    assert c.power_w == pytest.approx(c.energy_pj * 1e-12 * m.throughput_per_s)
    assert c.inferences_per_j == pytest.approx(1e12 / c.energy_pj)
    assert c.gops_per_w == pytest.approx(2 * 512 * 256 * 4 / (c.energy_pj * 1e-12) / 1e9)
    # Area: each crossbar's share of its tile (96 shares make one ISAAC tile, 0.372 mm²),
    # the figure the area budget caps; the chip's links are not counted.
    assert m.crossbars_used == 128  # 2 copies of 4 row blocks x 16 column blocks
    assert c.area_mm2 == pytest.approx(128 * table.tile_area_mm2 / 96)
    assert c.area_mm2 == m.usage["area_um2"] / 1e6
    assert c.gops_per_mm2 == pytest.approx(
        2 * 512 * 256 * 4 * m.throughput_per_s / 1e9 / c.area_mm2
    )


def test_busy_chip_draws_its_table_power() -> None:
    """A crossbar group doing full MVMs back to back draws its table power."""
    hw = PRESETS["isaac"]
    p = problem_from({"x": {"shape": [128]}}, [{**LINEAR, "out_features": 16, "bias": False}])
    work = inference_work(p.analysis)
    assert work.crossbar_cycles == 16  # 128 × 16 weights fill one crossbar for 16 bit-slices
    analog = sum(v for g, v in dynamic_pj(p, "fc").items() if g in ("crossbar", "dac", "adc"))
    per_crossbar_mw = (2.4 + 4 + 0.01 + 16) / 8
    assert analog == pytest.approx(0.9 * per_crossbar_mw * hw.mvm_ps / 1000)


def test_onehot_lookup_energy_ignores_the_vocabulary() -> None:
    def lookup(vocab: int, seq: int) -> float:
        p = problem_from(
            {"t": {"shape": [1], "seq": seq}},
            [{"name": "e", "op": "embedding", "input": "t", "vocab": vocab, "dim": 64}],
        )
        return sum(dynamic_pj(p, "e").values())

    assert lookup(1_000, 5) == pytest.approx(lookup(50_000, 5))
    assert lookup(1_000, 10) == pytest.approx(2 * lookup(1_000, 5))


def test_decoder_loop_energy_scales_with_its_steps() -> None:
    def captioner(steps: int) -> dict[str, float]:
        return dynamic_pj(
            problem_from(
                {"start": {"shape": [1]}},
                [
                    {"name": "embed", "op": "embedding", "input": "start", "vocab": 100, "dim": 32},
                    {"name": "lstm", "op": "lstm", "input": "embed", "hidden": 32},
                    {"name": "logits", "op": "linear", "input": "lstm", "out_features": 100},
                    {"name": "word", "op": "argmax", "input": "logits"},
                ],
                feedback=[{"from": "word", "to": "embed", "steps": steps}],
            )
        )

    assert captioner(10) == pytest.approx({g: 2 * v for g, v in captioner(5).items()})


def test_puma_design_costs() -> None:
    p = problem_from(
        {"x": {"shape": [128]}},
        [{**LINEAR, "out_features": 128, "bias": False}],
        {"preset": "puma"},
    )
    m = evaluate(p, {"fc": 1})
    assert m.bottleneck_ps == 2_304_000
    analog = sum(v for g, v in m.costs.split_pj.items() if g in ("crossbar", "dac", "adc"))
    assert analog / 0.9 / 1000 == pytest.approx(43.97, rel=0.01)  # one MVMU MVM
