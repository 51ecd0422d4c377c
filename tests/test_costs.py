"""The cost model: component tables, peak figures, energy per inference, bad cost fields.

Golden numbers and their provenance:
- ISAAC Table I (Shafiee et al., ISCA 2016; DESIGN.md): IMA 24.08 mW / 0.01312 mm²,
  tile 330 mW / 0.372 mm², chip 65.8 W / 85.4 mm²; peak 478.9 GOPS/mm², 644.4 GOPS/W.
- PUMA (Ankit et al., ASPLOS 2019): node 62.5 W / 90.6 mm², 138 tiles; one MVMU MVM
  (16,384 16-bit MACs) 2,304 ns and 43.97 nJ.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from hitm.analysis import analyze
from hitm.cli import app
from hitm.costs import GROUPS, cost_table, design_costs, inference_work, layer_work
from hitm.description.load import parse_instance
from hitm.errors import DescriptionError
from hitm.hardware import PRESETS, Hardware, load_hardware
from hitm.pipeline import evaluate, naive_copies
from hitm.problem import AllocationProblem, build_problem

runner = CliRunner()
MVM = 1_600_000


def problem_from(
    inputs: dict[str, Any],
    layers: list[dict[str, Any]],
    hardware: dict[str, Any] | None = None,
    **network: Any,
) -> AllocationProblem:
    doc: dict[str, Any] = {
        "network": {"inputs": inputs, "layers": layers, **network},
        "budget": {"chips": 1},
    }
    if hardware:
        doc["hardware"] = hardware
    inst = parse_instance(doc)
    return build_problem(analyze(inst.network, inst.hardware), inst.budget)


def dynamic_pj(problem: AllocationProblem, layer: str | None = None) -> dict[str, float]:
    """Dynamic energy by group: of one layer, or of the naive design."""
    if layer is None:
        groups = dict(evaluate(problem, naive_copies(problem)).costs.groups_pj)
        groups.pop("static")
        return groups
    analysis = problem.analysis
    work = layer_work(analysis)[layer]
    costs = design_costs(analysis, MVM, 0, 0, work=work)
    return {g: v for g, v in costs.groups_pj.items() if g != "static"}


# --- the component tables ------------------------------------------------------------


def test_isaac_totals_reproduce_table_one() -> None:
    table = cost_table(PRESETS["isaac"])
    ima = [r for r in table.rows if r.component.level == "ima"]
    # computed from the rows, not pinned totals
    assert table.ima_power_mw == pytest.approx(sum(r.power_mw for r in ima))
    assert table.ima_power_mw == pytest.approx(24.08, rel=0.01)
    assert table.ima_area_mm2 == pytest.approx(0.01312, rel=0.01)
    assert 12 * table.ima_power_mw == pytest.approx(289, rel=0.01)
    assert 12 * table.ima_area_mm2 == pytest.approx(0.157, rel=0.01)
    assert table.tile_power_mw == pytest.approx(330, rel=0.01)
    assert table.tile_area_mm2 == pytest.approx(0.372, rel=0.01)
    assert 168 * table.tile_power_mw / 1000 == pytest.approx(55.4, rel=0.01)
    assert 168 * table.tile_area_mm2 == pytest.approx(62.5, rel=0.01)
    assert table.chip_power_mw / 1000 == pytest.approx(65.8, rel=0.01)
    assert table.chip_area_mm2 == pytest.approx(85.4, rel=0.01)


def test_isaac_row_counts_follow_table_one() -> None:
    hw = PRESETS["isaac"]
    counts = {c.name: hw.units(c) for c in hw.components}
    assert counts["adc"] == 8
    assert counts["dac"] == counts["sample_hold"] == 8 * 128
    assert counts["crossbar"] == 8
    assert counts["router"] == 0.25  # one router per 4 tiles
    assert hw.component("adc").power_mw == pytest.approx(2.0)  # 16 mW for 8 ADCs


def test_isaac_timing_is_unchanged() -> None:
    hw = PRESETS["isaac"]
    assert (hw.cycle_ps, hw.mvm_ps, hw.onehot_mvm_ps) == (100_000, 1_600_000, 100_000)


def test_isaac_peak_figures_and_the_papers() -> None:
    table = cost_table(PRESETS["isaac"])
    assert table.macs_per_crossbar_mvm == 128 * 128 // 8
    # 16,128 crossbars × 2,048 MACs per 1.6 µs, 2 ops per MAC
    assert table.peak_gops == pytest.approx(2 * 16_128 * 2_048 / 1.6e-6 / 1e9)
    assert table.gops_per_mm2 == pytest.approx(483.3, rel=1e-3)
    assert table.gops_per_w == pytest.approx(627.4, rel=1e-3)
    # ISAAC publishes 478.9 GOPS/mm² and 644.4 GOPS/W: within 1% and 3% (docs/energy.md)
    assert table.gops_per_mm2 == pytest.approx(478.9, rel=0.01)
    assert table.gops_per_w == pytest.approx(644.4, rel=0.03)


def test_puma_preset_matches_its_published_figures() -> None:
    hw = PRESETS["puma"]
    table = cost_table(hw)
    assert hw.crossbars_per_tile == 8 * 2 * 8  # 8 cores × 2 MVMUs × 8 crossbars
    assert hw.matrix_crossbars(128, 128) == 8  # one MVMU holds 128×128 16-bit weights
    assert hw.mvm_ps == 2_304_000
    assert table.macs_per_crossbar_mvm * hw.matrix_crossbars(128, 128) == 16_384
    assert table.mvm_energy_pj / 1000 == pytest.approx(43.97, rel=0.01)
    assert table.chip_power_mw / 1000 == pytest.approx(62.5, rel=0.01)
    assert table.chip_area_mm2 == pytest.approx(90.6, rel=0.01)
    assert hw.tiles_per_chip == 138


# --- overrides and validation ----------------------------------------------------------


def test_component_override_changes_only_that_row() -> None:
    hw = load_hardware({"components": {"adc": {"power_mw": 20}}})
    assert hw.name == "isaac*"
    assert cost_table(hw).ima_power_mw == pytest.approx(24.08 - 16 + 8 * 20)
    assert PRESETS["isaac"].component("adc").power_mw == 2.0  # the preset is untouched
    assert hash(hw) != hash(PRESETS["isaac"])  # still immutable and hashable
    with pytest.raises(dataclasses.FrozenInstanceError):
        hw.component("adc").power_mw = 1.0  # type: ignore[misc]


def test_geometry_sets_the_counts() -> None:
    hw = load_hardware({"crossbars_per_ima": 4, "adcs_per_crossbar": 2})
    counts = {c.name: hw.units(c) for c in hw.components}
    assert counts["adc"] == 8 and counts["crossbar"] == 4 and counts["dac"] == 4 * 128
    override = load_hardware({"components": {"router": {"count": 0.5}}})
    assert override.units(override.component("router")) == 0.5


def test_chip_level_override() -> None:
    hw = load_hardware({"components": {"hyper_transport": {"power_mw": 5_000, "area_mm2": 10}}})
    table = cost_table(hw)
    assert table.chip_power_mw == pytest.approx(168 * table.tile_power_mw + 5_000)
    assert table.chip_area_mm2 == pytest.approx(168 * table.tile_area_mm2 + 10)


@pytest.mark.parametrize(
    ("components", "fragments"),
    [
        ({"adc": {"power_mw": -1}}, ["hardware.components.adc.power_mw", "positive"]),
        ({"adc": {"area_mm2": 0}}, ["hardware.components.adc.area_mm2", "positive"]),
        ({"edram": {"power_mw": "lots"}}, ["hardware.components.edram.power_mw", "number"]),
        ({"edram": {"power_mw": "20 mW"}}, ["edram.power_mw", "unit is in the field's name"]),
        ({"edram": {"power_mw": True}}, ["edram.power_mw", "number"]),
        ({"adc": {"power": 16}}, ["hardware.components.adc.power", "unit", "power_mw"]),
        ({"adc": {"area": 0.01}}, ["hardware.components.adc.area", "unit", "area_mm2"]),
        ({"adc": {"power_w": 0.02}}, ["adc.power_w", "power_mw"]),
        ({"adc": {"power_mws": 2}}, ["adc.power_mws", "did you mean 'power_mw'"]),
        ({"adcc": {"power_mw": 2}}, ["hardware.components.adcc", "did you mean 'adc'"]),
        ({"adc": {"count": 16}}, ["adc.count", "crossbar geometry", "crossbars_per_ima"]),
        ({"router": {"count": -1}}, ["router.count", "positive"]),
        ({"adc": 16}, ["hardware.components.adc", "expected a mapping"]),
    ],
)
def test_bad_cost_fields_are_rejected(components: Any, fragments: list[str]) -> None:
    with pytest.raises(DescriptionError) as info:
        load_hardware({"components": components})
    for fragment in fragments:
        assert fragment in str(info.value)


def test_every_bad_cost_field_is_reported_at_once() -> None:
    with pytest.raises(DescriptionError) as info:
        load_hardware(
            {"components": {"adc": {"power": 1}, "dac": {"area_mm2": -2}}, "static_fraction": 1}
        )
    assert len(info.value.problems) == 3
    assert any(p.startswith("hardware.static_fraction") for p in info.value.problems)


def test_components_must_be_a_mapping() -> None:
    with pytest.raises(DescriptionError, match=r"hardware\.components: expected a mapping"):
        load_hardware({"components": [1, 2]})


def test_puma_mapping_rejects_isaac_only_components() -> None:
    with pytest.raises(DescriptionError, match="unknown component"):
        load_hardware({"preset": "puma", "components": {"sigmoid": {"power_mw": 1}}})


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
        assert dict(m.costs.dynamic_pj) == pytest.approx(dict(first.dynamic_pj))
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
        assert c.static_pj == pytest.approx(c.static_power_mw * m.bottleneck_ps / 1000)
        table = cost_table(p.analysis.hardware)
        expected_mw = 0.1 * (table.tile_power_mw + table.links_power_mw)
        assert c.static_power_mw == pytest.approx(expected_mw)
    assert fast.costs.static_pj == pytest.approx(slow.costs.static_pj / 4)
    assert fast.costs.energy_pj < slow.costs.energy_pj


def test_power_area_and_efficiency_follow_from_energy() -> None:
    p = problem_from({"x": {"shape": [512], "seq": 4}}, [{**LINEAR, "out_features": 256}])
    m = evaluate(p, {"fc": 2})
    c = m.costs
    table = cost_table(p.analysis.hardware)
    assert c.energy_pj == pytest.approx(c.dynamic_total_pj + c.static_pj)
    assert sum(c.groups_pj.values()) == pytest.approx(c.energy_pj)
    assert set(c.groups_pj) == set(GROUPS)
    assert c.power_w == pytest.approx(c.energy_pj * 1e-12 * m.throughput_per_s)
    assert c.inferences_per_j == pytest.approx(1e12 / c.energy_pj)
    assert c.gops_per_w == pytest.approx(2 * 512 * 256 * 4 / (c.energy_pj * 1e-12) / 1e9)
    assert c.area_mm2 == pytest.approx(
        m.tiles_used * table.tile_area_mm2 + m.chips_used * table.links_area_mm2
    )
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
    analog = sum(v for g, v in m.costs.groups_pj.items() if g in ("crossbar", "dac", "adc"))
    assert analog / 0.9 / 1000 == pytest.approx(43.97, rel=0.01)  # one MVMU MVM


# --- the hardware command --------------------------------------------------------------


def test_hardware_command_prints_the_isaac_table() -> None:
    result = runner.invoke(app, ["hardware", "isaac"])
    assert result.exit_code == 0, result.output
    for fragment in ("24.08", "0.01312", "329.8", "0.3723", "65,808", "85.42", "GOPS/W"):
        assert fragment in result.stdout


def test_hardware_command_json() -> None:
    result = runner.invoke(app, ["hardware", "--json"])  # isaac by default
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["name"] == "isaac"
    totals = doc["totals"]
    assert totals["ima"]["power_mw"] == pytest.approx(24.08, rel=0.01)
    assert totals["tile"]["power_mw"] == pytest.approx(330, rel=0.01)
    assert totals["tile"]["area_mm2"] == pytest.approx(0.372, rel=0.01)
    assert totals["chip"]["power_mw"] == pytest.approx(65_800, rel=0.01)
    assert totals["chip"]["area_mm2"] == pytest.approx(85.4, rel=0.01)
    assert totals["links"] == {"power_mw": 10_400, "area_mm2": 22.88}
    assert {c["name"] for c in doc["components"]} >= {"adc", "edram", "hyper_transport"}
    assert doc["peak"]["gops_per_w"] == pytest.approx(627.4, rel=1e-3)
    assert doc["timing"]["mvm_ps"] == MVM


def test_hardware_command_puma_json() -> None:
    doc = json.loads(runner.invoke(app, ["hardware", "puma", "--json"]).stdout)
    assert doc["totals"]["chip"]["power_mw"] == pytest.approx(62_500, rel=0.01)
    assert doc["totals"]["chip"]["area_mm2"] == pytest.approx(90.6, rel=0.01)
    assert doc["peak"]["mvm_energy_pj"] == pytest.approx(43_970, rel=0.01)


@pytest.mark.parametrize("wrapped", [True, False])
def test_hardware_command_reads_a_file(tmp_path: Path, wrapped: bool) -> None:
    hardware = {"preset": "isaac", "components": {"hyper_transport": {"power_mw": 0.5}}}
    path = tmp_path / "hw.yaml"
    path.write_text(yaml.safe_dump({"hardware": hardware} if wrapped else hardware))
    result = runner.invoke(app, ["hardware", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["links"]["power_mw"] == 0.5


@pytest.mark.parametrize(
    ("arg", "doc", "fragments"),
    [
        ("isac", None, ["unknown preset 'isac'", "did you mean 'isaac'"]),
        ("hw.yaml", {"components": {"adc": {"power": 3}}}, ["adc.power", "power_mw"]),
        ("hw.yaml", [1, 2], ["expected a hardware mapping"]),
        ("missing.yaml", None, ["no such file"]),
    ],
)
def test_hardware_command_errors(tmp_path: Path, arg: str, doc: Any, fragments: list[str]) -> None:
    if doc is not None:
        (tmp_path / arg).write_text(yaml.safe_dump(doc))
    target = str(tmp_path / arg) if arg.endswith(".yaml") else arg
    result = runner.invoke(app, ["hardware", target])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    message = result.stderr.strip()
    assert "\n" not in message and "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in message


def test_presets_are_hardware() -> None:
    assert all(isinstance(hw, Hardware) for hw in PRESETS.values())
    assert set(PRESETS) >= {"isaac", "puma"}
