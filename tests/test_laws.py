"""Hardware knobs that mean something: ADC resolution, scaling laws, bounds, every field used.

Provenance: ISAAC (ISCA 2016) Section V for the ADC resolution and Table I for
the preset point; ISAAC's ADC at 4-10 bits from the Accelergy
hwcomponents-library (isaac.py, IsaacADC); the laws in docs/energy.md.
"""

from __future__ import annotations

import dataclasses
import itertools
import json

import pytest
from helpers import instance
from typer.testing import CliRunner

from hitm.analysis import analyze
from hitm.cli import app
from hitm.costs import cost_table, design_costs, inference_work
from hitm.description.load import parse_instance
from hitm.errors import DescriptionError
from hitm.hardware import PRESETS, Hardware, load_hardware
from hitm.hardware.adc import (
    ADC_TABLE,
    MAX_ADC_BITS,
    MIN_ADC_BITS,
    adc_area_um2,
    adc_energy_pj,
    required_adc_bits,
)
from hitm.hardware.laws import LAWS
from hitm.optimize import solve
from hitm.pipeline import evaluate
from hitm.problem import build_problem

ISAAC = PRESETS["isaac"]


@pytest.mark.parametrize(
    ("rows", "v", "w", "flipped", "bits"),
    [
        (128, 1, 2, True, 8),  # ISAAC: 7 + 1 + 2 - 1 (v = 1) - 1 (flipped) = 8
        (128, 1, 2, False, 9),  # "without the encoding scheme, we would ... need a 9-bit ADC"
        (64, 1, 2, True, 7),  # "or half as many rows": 6 + 1 + 2 - 1 - 1
        (128, 2, 2, True, 10),  # v, w > 1: no reduction for them, 7 + 2 + 2 - 1
        (128, 1, 1, True, 7),  # both 1: one bit fewer, once: 7 + 1 + 1 - 1 - 1
        (256, 1, 2, True, 9),
        (1024, 2, 4, False, 16),
    ],
)
def test_required_adc_bits_follow_isaac(rows, v, w, flipped, bits):
    assert required_adc_bits(rows, v, w, flipped) == bits


def test_presets_need_the_adcs_they_have():
    for hw in PRESETS.values():
        assert hw.adc_bits == "auto"
        assert hw.required_adc_bits == hw.adc_resolution == 8
        assert hw.lost_bits == 0 and hw.warnings == ()


def test_every_lawful_row_holds_at_its_presets_configuration():
    """The ratio is exactly 1 at every preset: its table is reproduced to the last bit."""
    for hw in PRESETS.values():
        for c in hw.components:
            if c.law is not None:
                assert LAWS[c.law].quantities(hw) == pytest.approx(c.at), (hw.name, c.name)
                part = hw.component(c.name)
                assert (part.power_mw, part.area_mm2) == (c.power_mw, c.area_mm2)


def test_isaac_and_puma_totals_unchanged():
    isaac, puma = cost_table(ISAAC), cost_table(PRESETS["puma"])
    assert isaac.tile_power_mw == pytest.approx(329.81, abs=0.005)
    assert isaac.tile_area_mm2 == pytest.approx(0.37229, abs=5e-6)
    assert isaac.chip_power_mw / 1000 == pytest.approx(65.81, abs=0.005)
    assert isaac.chip_area_mm2 == pytest.approx(85.42, abs=0.005)
    assert puma.chip_power_mw / 1000 == pytest.approx(62.5, abs=0.05)
    assert puma.chip_area_mm2 == pytest.approx(90.6, abs=0.05)


def test_a_256_by_256_array_by_hand():
    """256 × 256 crossbars of 2-bit cells, everything else ISAAC's.

    ADC: log2 256 + 1 + 2 - 1 (1-bit DAC) - 1 (flipped) = 9 bits. Per IMA, 8 ADCs
    at the table's 9/8-bit ratio: power 8 × 2 mW × 1.969078145 / 1.67 = 18.8654 mW,
    area 8 × 1,827.911647 µm² = 0.0146233 mm². Crossbars: 8 × 0.3 mW × (256² / 128²)
    = 9.6 mW and 8 × 25 µm² × 4 = 0.0008 mm². DACs: 8 × 256 = 2,048 of ISAAC's
    3.906 µW = 8 mW. Input register 8 × 256 × 16 bits = 4 KB: 2 × 1.24 mW;
    output register 256 × 16 bits = 512 B: 2 × 0.23 mW.
    """
    hw = load_hardware({"rows": 256, "cols": 256})
    assert hw.required_adc_bits == hw.adc_resolution == 9
    rows = {r.component.name: r for r in cost_table(hw).rows}
    assert rows["adc"].power_mw == pytest.approx(16 * 1.969078145 / 1.67)
    assert rows["adc"].power_mw == pytest.approx(18.8654, abs=5e-5)
    assert rows["adc"].area_mm2 == pytest.approx(8 * 1827.911647e-6)
    assert rows["crossbar"].power_mw == pytest.approx(9.6)
    assert rows["crossbar"].area_mm2 == pytest.approx(0.0008)
    assert rows["dac"].count == 2048 and rows["dac"].power_mw == pytest.approx(8.0)
    assert rows["sample_hold"].count == 2048
    assert rows["input_register"].power_mw == pytest.approx(2.48)
    assert rows["output_register"].power_mw == pytest.approx(0.46)
    assert rows["edram"].power_mw == pytest.approx(20.7)  # unchanged: eDRAM is still 64 KB
    assert hw.component("crossbar").note == "256×256, 2-bit cells"
    assert hw.component("adc").note == "9-bit, 1.28 GS/s"


def test_adc_table_and_extrapolation():
    assert {b: (adc_energy_pj(b), adc_area_um2(b)) for b in ADC_TABLE} == ADC_TABLE
    # Above the table: a·b + c·2^b fitted to it (within 0.3% of every entry), joined at 10 bits.
    assert adc_energy_pj(12) == pytest.approx(4.04, abs=0.01)
    assert adc_energy_pj(16) == pytest.approx(30.3, abs=0.1)
    with pytest.raises(ValueError):
        adc_energy_pj(MIN_ADC_BITS - 1)
    with pytest.raises(ValueError):
        adc_energy_pj(MAX_ADC_BITS + 1)


def _row(hw: Hardware, name: str):
    return next(r for r in cost_table(hw).rows if r.component.name == name)


@pytest.mark.parametrize(
    ("component", "field", "values"),
    [
        ("crossbar", "rows", [16, 64, 128, 256, 1024]),
        ("crossbar", "cols", [16, 64, 128, 256, 1024]),
        ("adc", "adc_bits", list(range(8, 17))),
        ("adc", "adc_rate_gsps", [0.5, 1.0, 1.28, 2.56]),
        ("dac", "dac_bits", [1, 2, 4, 8]),
        ("input_register", "rows", [16, 128, 512]),
        ("output_register", "cols", [16, 128, 512]),
        ("tile_output_register", "imas_per_tile", [1, 12, 64]),
        ("shift_add", "input_bits", [8, 16, 32]),
        ("edram", "edram_kb", [16, 64, 256]),
        ("bus", "bus_bits", [128, 384, 1024]),
    ],
)
def test_each_law_grows_with_its_quantity(component, field, values):
    rows = [_row(load_hardware({field: v}), component) for v in values]
    units = [(r.component.power_mw, r.component.area_mm2) for r in rows]
    if field == "adc_rate_gsps":  # energy per conversion fixed: power grows, area does not
        assert all(a[0] < b[0] and a[1] == b[1] for a, b in itertools.pairwise(units))
    else:
        assert all(a[0] < b[0] and a[1] < b[1] for a, b in itertools.pairwise(units))


def test_adc_resolution_now_changes_energy_and_area():
    """The report that started this: adc_bits 8 and 12 gave identical figures."""
    inst = instance(
        [{"name": "c", "op": "conv2d", "input": "x", "out_channels": 64, "kernel": 3}],
        {"x": {"shape": [64, 16, 16]}},
    )
    figures = []
    for bits in (8, 12):
        hw = load_hardware({"adc_bits": bits})
        analysis = analyze(inst.network, hw)
        costs = design_costs(analysis, 10**6, 1, 1, inference_work(analysis), area_um2=0)
        figures.append((costs.dynamic_pj, cost_table(hw).tile_area_mm2))
    assert figures[1][0] > figures[0][0] and figures[1][1] > figures[0][1]


def test_truncation_is_refused_unless_asked_and_then_reported(tmp_path):
    with pytest.raises(DescriptionError, match="6 bits is below the 8"):
        load_hardware({"adc_bits": 6})
    hw = load_hardware({"adc_bits": 6, "adc_bits_truncate": True})
    assert hw.lost_bits == 2 and "drop 2 low bits" in hw.warnings[0]
    path = tmp_path / "t.yaml"
    path.write_text(
        "network:\n  inputs: {x: {shape: [8]}}\n"
        "  layers: [{name: f, op: linear, input: x, out_features: 8}]\n"
        "hardware: {adc_bits: 6, adc_bits_truncate: true}\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    for args in (["solve", str(path)], ["analyze", str(path)], ["pareto", str(path)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and "warning: precision lost" in result.stderr
        result = runner.invoke(app, [*args, "--json"])
        assert json.loads(result.stdout)["warnings"][0].startswith("precision lost")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("rows", 100000, "hardware.rows: must be a power of two from 16 to 1,024, got 100000"),
        ("cols", 100, "hardware.cols: must be a power of two from 16 to 1,024, got 100"),
        ("cell_bits", 9, "hardware.cell_bits: must be between 1 and 8, got 9"),
        ("adc_bits", 17, "hardware.adc_bits: must be between 4 and 16, got 17"),
        ("adc_bits", "lots", "hardware.adc_bits: expected auto or a number, got 'lots'"),
        ("dac_bits", 0, "hardware.dac_bits: must be between 1 and 8, got 0"),
        ("adc_rate_gsps", 1e-300, "hardware.adc_rate_gsps: must be at least 0.001"),
        ("crossbars_per_ima", 4096, "hardware.crossbars_per_ima: must be between 1 and 1,024"),
        ("adcs_per_crossbar", 256, "hardware.adcs_per_crossbar: 256 ADCs for 128 columns"),
        ("links_per_chip", 3, "hardware.links_per_chip: must be even, got 3"),
        ("tiles_per_router", 0, "hardware.tiles_per_router: must be between 1 and 4,096"),
        ("flit_bits", 0, "hardware.flit_bits: must be between 1 and 4,096"),
    ],
)
def test_out_of_range_values_are_refused_in_one_line(tmp_path, field, value, message):
    path = tmp_path / "hw.json"
    path.write_text(json.dumps({"hardware": {field: value}}), encoding="utf-8")
    result = CliRunner().invoke(app, ["hardware", str(path)])
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_an_array_needing_more_than_16_bits_is_refused():
    with pytest.raises(DescriptionError, match="needs 18-bit ADCs; hitm models 4 to 16 bits"):
        load_hardware(
            {"rows": 1024, "cell_bits": 8, "dac_bits": 1, "weight_encoding": "differential"}
        )


# -- every field changes some output ------------------------------------------------

NET = instance(
    [
        {"name": "c", "op": "conv2d", "input": "x", "out_channels": 16, "kernel": 3},
        {"name": "r", "op": "relu", "input": "c"},
        {"name": "p", "op": "maxpool", "input": "r", "kernel": 2},
        {"name": "f", "op": "flatten", "input": "p"},
        {"name": "fc", "op": "linear", "input": "f", "out_features": 128},
        {"name": "s", "op": "sigmoid", "input": "fc"},
        {"name": "add", "op": "add", "inputs": ["s", "fc"]},
        {"name": "out", "op": "linear", "input": "add", "out_features": 10},
    ],
    {"x": {"shape": [128, 6, 6]}},
)
ALTERNATIVES = {
    "rows": 256,
    "cols": 256,
    "cell_bits": 4,
    "weight_bits": 8,
    "input_bits": 8,
    "dac_bits": 2,
    "read_ns": 200.0,  # ISAAC's 200 ns what-if: the read, not the ADC, then sets the cycle
    "adc_bits": 10,
    "adcs_per_crossbar": 4,
    "adc_rate_gsps": 2.56,
    "crossbars_per_ima": 4,
    "imas_per_tile": 6,
    "tiles_per_chip": 84,
    "edram_kb": 128,
    "chips": 2,
    "weight_encoding": "differential",
    "slice_layout": "split",
    "bias_row": True,
    "share_tiles": False,
    "mvm_fill_cycles": 2,
    "clock_ghz": 1.0,
    "bus_bits": 256,
    "static_fraction": 0.2,
    "interconnect": "isaac",
}
# Data movement's fields, each against a base that prices it on small chips the
# network spans (so links carry traffic): 2 × 2 × 2 = 8 crossbars per chip.
MOVING = {"interconnect": "isaac", "crossbars_per_ima": 2, "imas_per_tile": 2, "tiles_per_chip": 2,
          "chips": 64}  # fmt: skip
MOVEMENT_ALTERNATIVES = {
    "topology": "ring",
    "link_gbps": 0.5,
    "links_per_chip": 8,
    "link_pj_per_bit": 1.0,
    "router_pj_per_bit": 1.0,
    "tiles_per_router": 2,
    "flit_bits": 24,
}
# Writing cells, against a network with a product of two activations (whose second
# operand is written into crossbars every inference).
WRITE_ALTERNATIVES = {"write_ns": 100.0, "write_pj_per_cell": 2.0, "endurance_writes": 1e6}
ATTENTION = parse_instance(
    {
        "network": {
            "inputs": {"x": {"shape": [64], "seq": 16}},
            "layers": [{"name": "sa", "op": "attention", "input": "x", "heads": 2, "dim": 64}],
        }
    },
    default_name="attention",
)
# Digital units, against the attention network with its products forced onto MAC units.
DIGITAL_ALTERNATIVES = {"mac_units_per_ima": 4, "mac_pj": 1.0, "mac_area_mm2": 0.01}
DIGITAL = parse_instance(
    {
        "network": {
            "inputs": {"x": {"shape": [64], "seq": 16}},
            "layers": [
                {"name": "sa", "op": "attention", "input": "x", "heads": 2, "dim": 64,
                 "implementation": "digital"},
            ],
        },
        "budget": {"power_w": 1000},
    },
    default_name="digital",
)  # fmt: skip
METADATA = {
    "name": "a label: the preset, starred when overridden",
    "components": "the table itself",
}


def _fingerprint(hw: Hardware, net=None) -> tuple:
    analysis = analyze((net or NET).network, hw)
    problem = build_problem(analysis, (net or NET).budget)
    result = solve(problem, "bisect")
    design = evaluate(problem, result.copies, units=result.units)
    table = cost_table(hw)
    return (
        tuple((d.crossbars, d.steps, d.parallel, d.mvm_ps) for d in analysis.layers),
        tuple((link.bits, link.busy_ps) for link in design.links),
        problem.resources,
        tuple(problem.capacity),
        design.bottleneck_ps,
        design.costs.energy_pj,
        tuple(sorted(design.costs.split_pj.items())),
        table.chip_power_mw,
        table.chip_area_mm2,
        design.lifetime_years,
        design.costs.area_mm2,
    )


def test_every_field_is_metadata_or_changes_an_output():
    fields = {f.name for f in dataclasses.fields(Hardware)}
    assert fields == {
        *ALTERNATIVES,
        *MOVEMENT_ALTERNATIVES,
        *WRITE_ALTERNATIVES,
        *DIGITAL_ALTERNATIVES,
        "digital",
        "adc_bits_truncate",
        *METADATA,
    }
    base = _fingerprint(ISAAC)
    unchanged = [
        name for name, value in ALTERNATIVES.items()
        if _fingerprint(load_hardware({name: value})) == base
    ]  # fmt: skip
    moving = _fingerprint(load_hardware(MOVING))
    unchanged += [
        name for name, value in MOVEMENT_ALTERNATIVES.items()
        if _fingerprint(load_hardware({**MOVING, name: value})) == moving
    ]  # fmt: skip
    writing = _fingerprint(ISAAC, ATTENTION)
    unchanged += [
        name for name, value in WRITE_ALTERNATIVES.items()
        if _fingerprint(load_hardware({name: value}), ATTENTION) == writing
    ]  # fmt: skip
    if _fingerprint(load_hardware({"digital": "units"}), ATTENTION) == writing:
        unchanged.append("digital")
    digital = _fingerprint(load_hardware({"digital": "units"}), DIGITAL)
    unchanged += [
        name for name, value in DIGITAL_ALTERNATIVES.items()
        if _fingerprint(load_hardware({"digital": "units", name: value}), DIGITAL) == digital
    ]  # fmt: skip
    assert unchanged == []


def test_adc_bits_truncate_changes_what_is_accepted():
    with pytest.raises(DescriptionError):
        load_hardware({"adc_bits": 7})
    assert load_hardware({"adc_bits": 7, "adc_bits_truncate": True}).adc_resolution == 7


def test_an_override_is_final_and_the_law_applies_to_the_rest():
    hw = load_hardware({"rows": 256, "cols": 256, "components": {"crossbar": {"power_mw": 0.5}}})
    part = hw.component("crossbar")
    assert part.power_mw == 0.5  # as given, not scaled
    assert part.area_mm2 == pytest.approx(4 * 0.0002 / 8)  # still ∝ cells
