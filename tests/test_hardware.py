"""The chip model: timing, the presets' component tables, hardware sections, the command.

Covers :mod:`hitm.hardware`: the :class:`Hardware` model and its derived timings,
the ISAAC and PUMA presets against their papers, ``load_hardware`` with component
overrides and every bad cost field it reports, and ``hitm hardware``, which
prints a chip's table.

Golden numbers and their provenance:
- ISAAC (DESIGN.md): 100 ns cycle (read and 128 columns at 1.28 GS/s), 16 input
  bit-slices per MVM, 16-bit weights in 2-bit cells, 8 × 12 × 168 crossbars.
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
from helpers import MVM
from typer.testing import CliRunner

from hitm.cli import app
from hitm.costs import cost_table
from hitm.errors import DescriptionError
from hitm.hardware import PRESETS, Hardware, load_hardware

runner = CliRunner()


# --- the chip model --------------------------------------------------------------------


def test_isaac_timing() -> None:
    hw = Hardware()
    # cycle = max(read 100 ns, 128 columns / 1.28 GS/s = 100 ns)
    assert hw.cycle_ps == 100_000
    # 16 input bits through 1-bit DACs: 16 cycles
    assert hw.mvm_ps == 1_600_000
    # one-hot input: one bit-slice
    assert hw.onehot_mvm_ps == 100_000
    assert hw.slices == 8  # 16-bit weights / 2-bit cells
    assert hw.crossbars_per_chip == 16_128  # 8 × 12 × 168


def test_isaac_timing_is_unchanged() -> None:
    hw = PRESETS["isaac"]
    assert (hw.cycle_ps, hw.mvm_ps, hw.onehot_mvm_ps) == (100_000, 1_600_000, 100_000)


def test_presets_are_hardware() -> None:
    assert all(isinstance(hw, Hardware) for hw in PRESETS.values())
    assert set(PRESETS) >= {"isaac", "puma"}


# --- the presets' component tables ----------------------------------------------------


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
