"""Digital units (hardware ``digital: units``): products on MAC units, softmax, layer norm
and GELU on activation units, and the optimiser's choice between the implementations.

Constants (docs/model.md, "Digital units"): ISAAC's digital clock 1.28 GHz (one clock
781.25 ps), 2 MAC units per IMA (PUMA's 4-lane vector unit, a MAC being a multiply and
an add) so 24 per tile and 4,032 per chip, 2.565 pJ and 1,245.6 µm² per MAC unit
(Aladdin's 16 × 16 multiplier and 32-bit adder, Accelergy's library, scaled 40 → 32 nm),
ISAAC's two sigmoid units per tile for softmax, layer norm and GELU, with 3, 3 and 1
passes over their elements.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from hitm import build_problem, compare, evaluate
from hitm.analysis import analyze
from hitm.budget import Budget
from hitm.cli import app
from hitm.costs import digital_costs, layer_work, work_energy_pj
from hitm.description.load import parse_instance
from hitm.digital import element_busy_ps, product_busy_ps
from hitm.errors import DescriptionError
from hitm.hardware import load_hardware

runner = CliRunner()


def run(args: list[str]) -> tuple[int, str, str]:
    result = runner.invoke(app, args)
    return result.exit_code, result.stdout, result.stderr


UNITS = {"digital": "units"}
TOKENS = {"x": {"shape": [768], "seq": 197}}
ATTENTION = [{"name": "sa", "op": "attention", "input": "x", "heads": 12, "dim": 768}]
ONE_COPY = {"sa.q": 1, "sa.k": 1, "sa.v": 1, "sa.scores": 1, "sa.context": 1, "sa": 1}


def analysis_of(layers: list[dict[str, Any]], inputs: dict[str, Any], hardware=UNITS, **doc):
    inst = parse_instance(
        {"network": {"inputs": inputs, "layers": layers, **doc}, "hardware": hardware},
        default_name="t",
    )
    return analyze(inst.network, inst.hardware)


def test_a_digital_product_by_hand() -> None:
    """ViT-B/16's Q·Kᵀ on MAC units: 12 heads × 197 queries × 197 keys = 465,708 dot
    products of 64 MACs (29,805,312 MACs), each unit one at a time.

    - 48 units (two tiles' worth): ceil(465,708 / 48) = 9,703 rounds × 64 = 620,992
      clocks × 781.25 ps = 485.15 µs; one unit: 29,805,312 clocks = 23.2854 ms.
    - 48 units provision 48 × 2.565 pJ × 1.28 GHz = 157.5936 mW (157,594 µW, rounded
      up) and 48 × 1,245.6 = 59,788.8 µm² (59,789), and no crossbar.
    - Energy: 29,805,312 × 2.565 pJ = 76,450,625.28 pJ on the MAC units, and none of the
      layer's crossbar, DAC or ADC events (its 197 × 12 MVMs on the written K).
    """
    a = analysis_of(ATTENTION, TOKENS)
    scores = a.layer("sa.scores")
    hw = a.hardware
    assert scores.dots == ((1, 465_708, 64),) and scores.macs == 29_805_312
    assert hw.mac_units_per_tile == 24 and hw.clock_ps == 781.25
    assert product_busy_ps(hw, scores, np.array([48, 1])).tolist() == [485_150_000, 23_285_400_000]
    costs = digital_costs(hw, [48])
    assert (costs["power_uw"][0], costs["area_um2"][0], costs["crossbars"][0]) == (
        157_594,
        59_789,
        0,
    )

    problem = build_problem(a, Budget(chips=1))
    assert problem.resources == ("crossbars", "mac_units")
    assert problem.capacities() == {"crossbars": 16_128, "mac_units": 4_032}
    written = evaluate(problem, ONE_COPY)
    digital = evaluate(problem, ONE_COPY, units={"sa.scores": 48})
    assert digital.copies["sa.scores"] == 0 and digital.units == {"sa.scores": 48}
    assert digital.stages[3].busy_ps == 485_150_000 and digital.stages[3].crossbars == 0
    assert digital.usage["mac_units"] == 48
    assert digital.usage["crossbars"] == written.usage["crossbars"] - 156
    assert digital.costs.components_pj["mac_units"] == pytest.approx(76_450_625.28)
    own = work_energy_pj(layer_work(a)["sa.scores"], hw)
    for component in ("crossbar", "dac", "adc"):
        drop = written.costs.components_pj[component] - digital.costs.components_pj[component]
        assert drop == pytest.approx(own[component]) and drop > 0
    assert "mac_units" not in written.costs.components_pj


def test_softmax_on_its_tiles_activation_units_by_hand() -> None:
    """The scores' softmax: 465,708 elements × 3 passes = 1,397,124, on the activation
    units of the scores' tiles (ISAAC: 2 sigmoid units per tile, one element a clock).

    - With the scores on 48 MAC units (48 / 24 = 2 tiles): 4 units, 349,281 clocks =
      272,875,781.25 ps → 272,875,782 ps; the stage's busy is the larger of that and its
      485.15 µs of products.
    - With one written copy (156 crossbars = 156 / 96 = 1.625 tiles, 3.25 units):
      429,884.3 clocks = 335,847,115.4 ps → 335,847,116 ps, longer than its 316.48 µs of
      writing and MVMs: the softmax sets the period, and the report says so.
    """
    a = analysis_of(ATTENTION, TOKENS)
    hw = a.hardware
    assert element_busy_ps(hw, 1_397_124, np.array([0, 156]), np.array([48, 0])).tolist() == [
        272_875_782,
        335_847_116,
    ]
    problem = build_problem(a, Budget(chips=1))
    digital = evaluate(problem, ONE_COPY, units={"sa.scores": 48})
    scores = digital.stages[3]
    assert (scores.elements_ps, scores.busy_ps) == (272_875_782, 485_150_000)
    written = evaluate(problem, ONE_COPY)
    scores = written.stages[3]
    assert (scores.elements_ps, scores.busy_ps) == (335_847_116, 335_847_116)
    assert (written.bottleneck_stage, written.bottleneck_kind) == ("sa.scores", "digital")
    # digital: ideal keeps the old rule (softmax never limits): the scores take 316.48 µs.
    ideal = analysis_of(ATTENTION, TOKENS, hardware={})
    old = evaluate(build_problem(ideal, Budget(chips=1)), ONE_COPY)
    assert old.stages[3].busy_ps == 316_480_000 and old.bottleneck_kind == "stage"


def test_layernorm_and_gelu_run_with_the_layer_that_produced_their_input() -> None:
    """A 768 → 3072 projection (1,152 crossbars = 12 tiles, 24 sigmoid units) on 197
    tokens, then GELU (1 pass over 605,184 elements) and a layer norm (3 passes):
    605,184 × 4 / 24 = 100,864 clocks = 78.8 µs, beside its 315.2 µs of MVMs."""
    layers = [
        {"name": "fc", "op": "linear", "input": "x", "out_features": 3072},
        {"name": "act", "op": "gelu", "input": "fc"},
        {"name": "ln", "op": "layernorm", "input": "act"},
        {"name": "out", "op": "linear", "input": "ln", "out_features": 10},
    ]
    a = analysis_of(layers, TOKENS)
    problem = build_problem(a, Budget(chips=1))
    assert problem.resources == ("crossbars",)  # no product: no MAC units to budget
    design = evaluate(problem, {"fc": 1, "out": 1})
    assert design.stages[0].elements_ps == 78_800_000 and design.stages[0].busy_ps == 315_200_000
    assert design.stages[1].elements_ps == 0


def test_a_decoder_loop_adds_its_element_time_by_hand() -> None:
    """The 8-step decoder of tests/test_transformers.py: its softmaxes see 8 × 16 (self,
    the cache of 8 keys per head) and 8 × 20 (cross, 10 memory items) elements, 3 passes:
    864. One copy of every member is 47 crossbars (47 / 96 tiles, 47 / 48 sigmoid units):
    864 × 48 / 47 = 882.4 clocks → 689,362 ps, added to the members' 147.72 µs because
    each step waits for the last: 148,409,362 ps."""
    from test_transformers import DECODER

    inst = parse_instance({"network": DECODER, "hardware": UNITS}, default_name="d")
    a = analyze(inst.network, inst.hardware)
    problem = build_problem(a, Budget(chips=1))
    design = evaluate(problem, {m.name: 1 for m in a.weight_layers})
    loop = next(s for s in design.stages if s.kind == "loop")
    assert (loop.crossbars, loop.elements_ps, loop.busy_ps) == (47, 689_362, 148_409_362)
    assert sum(a.layer(m).busy_ps(1) for m in loop.members) == 147_720_000


def test_a_cached_product_on_mac_units_sums_its_growing_rounds() -> None:
    """The decoder's self-attention scores on u MAC units: step t has 2 heads × t dot
    products of 32, so Σ_t ceil(2t / u) · 32 clocks: u = 4 gives (1+1+2+2+3+3+4+4) · 32
    = 640 clocks = 500 ns; A·V has 64 dot products of length t each step: u = 16 gives
    4 · (1 + ... + 8) = 144 clocks = 112.5 ns."""
    from test_transformers import DECODER

    inst = parse_instance({"network": DECODER, "hardware": UNITS}, default_name="d")
    a = analyze(inst.network, inst.hardware)
    scores, context = a.layer("sa.scores"), a.layer("sa.context")
    assert scores.digital_cycles(4) == 640 and context.digital_cycles(16) == 144
    assert product_busy_ps(a.hardware, scores, np.array([4]))[0] == 500_000
    assert product_busy_ps(a.hardware, context, np.array([16]))[0] == 112_500
    assert sum(rep * n * k for rep, n, k in scores.dots) == scores.macs


TINY = [{"name": "sa", "op": "attention", "input": "x", "heads": 2, "dim": 16}]
TINY_INPUTS = {"x": {"shape": [16], "seq": 2}}


def _brute_force(problem) -> int:
    """The least period over every design: copies 1..2 per projection, and per product
    either 1..2 written copies or 1..8 MAC units (2 heads × 2 × 2 dot products)."""
    names = ("sa.q", "sa.k", "sa.v", "sa")
    products = [("copies", 1), ("copies", 2), *(("units", u) for u in range(1, 9))]
    best = None
    for counts in itertools.product((1, 2), repeat=4):
        for a, b in itertools.product(products, repeat=2):
            copies = dict(zip(names, counts, strict=True))
            units = {}
            for name, (how, n) in (("sa.scores", a), ("sa.context", b)):
                copies[name] = n if how == "copies" else 0
                if how == "units":
                    units[name] = n
            design = evaluate(problem, copies, units=units)
            if design.fits and (best is None or design.bottleneck_ps < best):
                best = design.bottleneck_ps
    assert best is not None
    return best


@pytest.mark.parametrize("mac_units", [1, 3, 8])
def test_exact_methods_match_brute_force_on_the_choice(mac_units: int) -> None:
    """A two-token, two-head attention with 28 crossbars and a few MAC units: every
    exact method's period is the least of all 1,600 designs, found by brute force."""
    a = analysis_of(TINY, TINY_INPUTS)
    problem = build_problem(a, Budget(crossbars=28, mac_units=mac_units))
    best = _brute_force(problem)
    result = compare(problem, time_limit=20)
    proven = [r for r in result.results if r.status == "optimal"]
    assert {r.method for r in proven} >= {"cpsat", "ilp"}
    assert {r.bottleneck_ps for r in proven} == {best}
    for r in result.results:  # the heuristics are feasible, never better than the optimum
        assert r.bottleneck_ps >= best


def test_implementation_forces_one_or_the_other() -> None:
    forced = [{**TINY[0], "implementation": "write"}]
    problem = build_problem(analysis_of(forced, TINY_INPUTS), Budget(chips=1))
    assert problem.resources == ("crossbars",)  # nothing may use MAC units
    digital = [{**TINY[0], "implementation": "digital"}]
    problem = build_problem(analysis_of(digital, TINY_INPUTS), Budget(chips=1))
    for stage in problem.stages:
        if stage.name.endswith(("scores", "context")):
            assert np.all(stage.copies == 0) and np.all(stage.units > 0)
    naive = evaluate(problem, {m: 1 for m in ("sa.q", "sa.k", "sa.v", "sa")})
    assert naive.units == {"sa.scores": 1, "sa.context": 1}
    with pytest.raises(DescriptionError, match="mac_units_per_ima: 0"):
        build_problem(analysis_of(digital, TINY_INPUTS, hardware={**UNITS, "mac_units_per_ima": 0}))


def test_mac_units_are_refused_where_nothing_uses_them() -> None:
    ideal = analysis_of(TINY, TINY_INPUTS, hardware={})
    with pytest.raises(DescriptionError, match=r"budget\.mac_units: .*digital is ideal"):
        build_problem(ideal, Budget(chips=1, mac_units=10))
    problem = build_problem(ideal, Budget(chips=1))
    with pytest.raises(DescriptionError, match=r"units\.sa\.scores: cannot run on MAC units"):
        evaluate(problem, ONE_COPY, units={"sa.scores": 2})
    moving = analysis_of(TINY, TINY_INPUTS, hardware={**UNITS, "interconnect": "isaac"})
    with pytest.raises(DescriptionError, match="not placed on chips yet"):
        build_problem(moving)


def test_cnn_problems_are_unchanged_by_digital_units() -> None:
    """No product and no softmax, layer norm or GELU (ResNet-18): the same stages. The
    captioner's decoder loop ends in a softmax over its vocabulary: only the loop changes,
    by that softmax's 3 passes on the loop's activation units."""
    from hitm import load_instance

    units = load_hardware({"digital": "units"})
    for path, changed in (("instances/resnet18.yaml", ()), ("instances/captioner.yaml", (-1,))):
        inst = load_instance(path)
        before = build_problem(analyze(inst.network, inst.hardware), inst.budget)
        analysis = analyze(inst.network, units)
        after = build_problem(analysis, inst.budget)
        assert before.resources == after.resources == ("crossbars",)
        differ = [
            k
            for k, (s, t) in enumerate(zip(before.stages, after.stages, strict=True))
            if not (np.array_equal(s.busy_ps, t.busy_ps) and np.array_equal(s.cost, t.cost))
        ]
        assert differ == [k % len(before.stages) for k in changed]
    loop_before, loop_after = before.stages[-1], after.stages[-1]
    softmax = [layer for layer in analysis.layers if layer.op == "softmax"]
    assert len(softmax) == 1 and softmax[0].loop is not None
    crossbars = loop_before.cost[:, 0]
    extra = element_busy_ps(units, 3 * softmax[0].elements, crossbars, np.zeros_like(crossbars))
    assert np.array_equal(loop_after.busy_ps, loop_before.busy_ps + extra)


def test_the_cli_solves_with_digital_units_and_reports_them(tmp_path) -> None:
    code, out, err = run(["solve", "instances/vit_b_16.yaml", "--digital", "units", "--json"])
    assert code == 0, err
    design = json.loads(out)
    assert design["capacity"]["mac_units"] == 4 * 4_032
    products = [s for s in design["stages"] if s["kind"] == "matmul"]
    assert products and all("mac_units" in s and "elements_ps" in s for s in products)
    # At 4 chips every product runs on MAC units (bench/results/transformers.md).
    assert set(design["units"]) == {m for s in products for m in s["members"]}
    assert all(s["copies"] == [0] and s["crossbars"] == 0 for s in products)
    code, out, err = run(["solve", "instances/vit_b_16.yaml", "--mac-units", "10"])
    assert code != 0 and len(err.strip().splitlines()) == 1 and "digital is ideal" in err
    code, out, err = run(["solve", "instances/vit_b_16.yaml", "--digital", "fast"])
    assert code == 2 and err.strip().splitlines() == [
        "error: --digital: expected ideal or units, got 'fast'"
    ]


def test_a_causal_mask_halves_the_scores_on_mac_units() -> None:
    """GPT-2-style self-attention over a whole sequence of 16 tokens, 2 heads of 8:
    query i meets keys 0..i, so MAC units compute 2 · 16 · 17 / 2 = 272 of the 512 scores,
    each 8 MACs (2,176 MACs): with 16 units ceil(272 / 16) = 17 rounds of 8 clocks = 136
    clocks = 106.25 ns, against 32 · 8 = 256 clocks unmasked. A·V multiplies the masked
    zeros as any product does, and the written operand is the same: crossbars read every
    key. The MACs the network counts stay the dense 4,096 (as PyTorch counts them)."""
    layers = [{"name": "sa", "op": "attention", "input": "x", "heads": 2, "dim": 16}]
    inputs = {"x": {"shape": [16], "seq": 16}}
    dense = analysis_of(layers, inputs)
    causal = analysis_of([{**layers[0], "causal": True}], inputs)
    scores, plain = causal.layer("sa.scores"), dense.layer("sa.scores")
    assert scores.dots == ((1, 272, 8),) and plain.dots == ((1, 512, 8),)
    assert scores.digital_cycles(16) == 136 and plain.digital_cycles(16) == 256
    assert scores.macs == plain.macs == 4_096 and scores.busy_ps(1) == plain.busy_ps(1)
    assert causal.layer("sa.context").dots == dense.layer("sa.context").dots
    problem = build_problem(causal, Budget(chips=1))
    design = evaluate(problem, {m.name: 1 for m in causal.weight_layers}, units={"sa.scores": 16})
    assert design.costs.components_pj["mac_units"] == pytest.approx(2_176 * 2.565)
    with pytest.raises(DescriptionError, match="as many queries as keys"):
        analysis_of(
            [{**layers[0], "causal": True, "kv_input": "m"}],
            {**inputs, "m": {"shape": [16], "seq": 4}},
        )


def test_evaluate_reads_mac_units_from_the_copies_file(tmp_path) -> None:
    """``{copies: ..., units: ...}``: the scores on 8 MAC units (2 heads × 2 × 2 = 8 dot
    products of 8, one round: 8 clocks = 6.25 ns), everything else one copy."""
    import yaml

    net = tmp_path / "net.yaml"
    net.write_text(
        yaml.safe_dump({"network": {"inputs": TINY_INPUTS, "layers": TINY}, "hardware": UNITS})
    )
    design = tmp_path / "design.yaml"
    design.write_text(yaml.safe_dump({"copies": {"default": 1}, "units": {"sa.scores": 8}}))
    code, out, err = run(["evaluate", str(net), "--copies", str(design), "--json"])
    assert code == 0, err
    doc = json.loads(out)["design"]
    assert doc["units"] == {"sa.scores": 8} and doc["copies"]["sa.scores"] == 0
    scores = next(s for s in doc["stages"] if s["name"] == "sa.scores")
    assert scores["busy_ps"] == max(6_250, scores["elements_ps"]) and scores["mac_units"] == [8]
    design.write_text(yaml.safe_dump({"copies": {"default": 1}, "units": {"sa.q": 2}}))
    code, out, err = run(["evaluate", str(net), "--copies", str(design)])
    assert code == 2 and "units.sa.q: cannot run on MAC units" in err
