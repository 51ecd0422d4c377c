"""Transformer ops in the instance format: shapes, parameters, MACs and crossbars by hand.

Figures worked here (ISAAC preset: 128 × 128 crossbars, 2-bit cells, 16-bit weights
so 8 columns per weight; a bias is added digitally and takes no crossbar row):

- A 768 → 768 projection with bias: 768·768 + 768 = 590,592 params; rows 768 / 128
  = 6 blocks, columns 768·8 / 128 = 48 blocks: 288 crossbars; on 197 tokens
  197·768·768 = 116,195,328 MACs, 197 independent MVMs.
- Self-attention of ViT-B/16 (197 tokens, width 768, 12 heads of 64): four
  projections (Q, K, V, output) = 2,362,368 params, 1,152 crossbars, 464,781,312
  MACs; the scores Q·Kᵀ, per head 197 × 64 times 64 × 197: 197·197·64·12 =
  29,805,312 MACs, and A·V the same; no weights, no crossbars.
- ViT-B/16 (torchvision ``vit_b_16``, MODELS.md): params 86,567,656 = patch conv
  768·768 + 768, class token 768, position embedding 197·768, per layer 2 norms
  (2·2·768), the four projections and the MLP 768·3072 + 3072 + 3072·768 + 768,
  final norm 2·768, head 768·1000 + 1000; MACs 17,563,828,224 = 196·768·768 +
  12·(197·(768·2304 + 768·768 + 2·768·3072) + 2·197·197·768) + 768·1000.
- ViT-B/32: 50 tokens: MACs 49·768·3072 + 12·(50·7,077,888 + 2·50·50·768) + 768,000
  = 4,409,186,304; params 768·3072 + 768 + 768 + 50·768 + 12·7,087,872 + 1,536 +
  769,000 = 88,224,232.
- ViT-L/16: width 1024, 24 layers, 16 heads, MLP 4096, 197 tokens: MACs
  196·1024·768 + 24·(197·12,582,912 + 2·197·197·1024) + 1,024,000 = 61,554,712,576;
  params 787,456 + 1,024 + 197·1024 + 24·12,596,224 + 2,048 + 1,025,000 = 304,326,632.

torchvision publishes 17.564, 4.409 and 61.555 GFLOPS and 86,567,656, 88,224,232 and
304,326,632 params for the three (tests/test_backbones.py pins both). PyTorch's own
``FlopCounterMode`` on torchvision 0.28.0's models counts exactly these params and MACs,
17,563,828,224 of them for ViT-B/16, 715,327,488 in the attention products
(tests/data/count_transformers.py, which says how it was run).
"""

from __future__ import annotations

from typing import Any

import pytest

from hitm.analysis import Analysis, analyze
from hitm.description.load import parse_instance
from hitm.errors import DescriptionError


def analysis_of(layers: list[dict[str, Any]], inputs: dict[str, Any]) -> Analysis:
    inst = parse_instance({"network": {"inputs": inputs, "layers": layers}}, default_name="t")
    return analyze(inst.network, inst.hardware)


def problems(layers: list[dict[str, Any]], inputs: dict[str, Any]) -> tuple[str, ...]:
    with pytest.raises(DescriptionError) as err:
        parse_instance({"network": {"inputs": inputs, "layers": layers}})
    return err.value.problems


TOKENS = {"x": {"shape": [768], "seq": 197}}


def test_one_self_attention_block_by_hand() -> None:
    a = analysis_of(
        [{"name": "sa", "op": "attention", "input": "x", "heads": 12, "dim": 768}], TOKENS
    )
    names = [layer.name for layer in a.layers]
    assert names == ["sa.q", "sa.k", "sa.v", "sa.scores", "sa.softmax", "sa.context", "sa"]
    for part in ("sa.q", "sa.k", "sa.v", "sa"):
        layer = a.layer(part)
        assert (layer.params, layer.crossbars, layer.macs) == (590_592, 288, 116_195_328)
        assert (layer.steps, layer.parallel) == (1, 197)
    for part, written in (("sa.scores", 156), ("sa.context", 96)):
        layer = a.layer(part)  # no weights; crossbars for the operand written per inference
        assert (layer.params, layer.crossbars, layer.macs) == (0, written, 29_805_312)
    assert str(a.layer("sa.scores").shape) == "197×(2364)"  # 12 heads × 197 keys per query
    assert str(a.layer("sa").shape) == "197×(768)"
    totals = a.totals
    assert (totals["params"], totals["crossbars"]) == (2_362_368, 1_152 + 156 + 96)
    assert totals["macs"] == 4 * 116_195_328 + 2 * 29_805_312


def test_cross_attention_reads_keys_and_values_from_kv_input() -> None:
    """20 words attend to 197 image tokens: Q on 20 items, K and V on 197; the scores are
    20 × 197 per head: 20·197·64·12 = 3,025,920 MACs, A·V the same."""
    layers = [{"name": "ca", "op": "attention", "input": "w", "kv_input": "x", "heads": 12,
               "dim": 768}]  # fmt: skip
    a = analysis_of(layers, {**TOKENS, "w": {"shape": [768], "seq": 20}})
    assert a.layer("ca.q").parallel == 20 and a.layer("ca.k").parallel == 197
    assert a.layer("ca.scores").macs == a.layer("ca.context").macs == 3_025_920
    assert str(a.layer("ca").shape) == "20×(768)"


def test_heads_must_divide_the_width() -> None:
    bad = problems(
        [{"name": "sa", "op": "attention", "input": "x", "heads": 5, "dim": 768}], TOKENS
    )
    assert any("sa).heads: 5 heads must divide dim 768" in p for p in bad)


def test_class_token_position_embedding_and_the_class_slice() -> None:
    """ViT's embedding: 196 patch tokens from a 14 × 14 map, a learned class token
    prepended (concat along the sequence), a learned 197 × 768 position embedding
    added; the head reads the class token back (slice [0, 1) of the sequence)."""
    layers = [
        {"name": "patches", "op": "tokens", "input": "map"},
        {"name": "cls", "op": "param", "shape": [768]},
        {"name": "joined", "op": "concat", "inputs": ["cls", "patches"], "axis": "seq"},
        {"name": "pos", "op": "param", "shape": [768], "seq": 197},
        {"name": "embedded", "op": "add", "inputs": ["joined", "pos"]},
        {"name": "ln", "op": "layernorm", "input": "embedded"},
        {"name": "act", "op": "gelu", "input": "ln"},
        {"name": "class", "op": "slice", "input": "act", "axis": "seq", "stop": 1},
    ]
    a = analysis_of(layers, {"map": {"shape": [768, 14, 14]}})
    shapes = {layer.name: str(layer.shape) for layer in a.layers}
    assert shapes["patches"] == "196×(768)" and shapes["joined"] == "197×(768)"
    assert shapes["embedded"] == "197×(768)" and shapes["class"] == "(768)"
    params = {layer.name: layer.params for layer in a.layers}
    assert (params["cls"], params["pos"], params["ln"]) == (768, 197 * 768, 2 * 768)
    assert a.totals["macs"] == 0 and a.totals["crossbars"] == 0


def test_broadcasting_add_and_mul() -> None:
    """A squeeze-and-excitation scale (C, 1, 1) multiplies a (C, H, W) map; one item
    (a position or bias vector) adds to every item of a sequence."""
    layers = [
        {"name": "scale", "op": "global_avgpool", "input": "map"},
        {"name": "scaled", "op": "mul", "inputs": ["map", "scale"]},
        {"name": "shifted", "op": "add", "inputs": ["seq", "one"]},
    ]
    inputs = {
        "map": {"shape": [64, 8, 8]},
        "seq": {"shape": [32], "seq": 10},
        "one": {"shape": [32]},
    }
    a = analysis_of(layers, inputs)
    assert str(a.layer("scaled").shape) == "(64×8×8)"
    assert str(a.layer("shifted").shape) == "10×(32)"
    bad = problems([{"name": "m", "op": "mul", "inputs": ["map", "v"]}],
                   {"map": {"shape": [64, 8, 8]}, "v": {"shape": [64]}})  # fmt: skip
    assert any("do not broadcast" in p and "(64×8×8)" in p for p in bad)  # 64 meets W = 8


def test_matmul_shapes_are_checked_and_name_both_inputs() -> None:
    inputs = {"q": {"shape": [768], "seq": 197}, "k": {"shape": [512], "seq": 197}}
    bad = problems(
        [{"name": "s", "op": "matmul", "inputs": ["q", "k"], "heads": 12, "transpose_b": True}],
        inputs,
    )
    assert any("(s): matmul with transpose_b needs items of equal width" in p for p in bad)
    assert any("197×(768) and 197×(512)" in p for p in bad)


def test_a_param_reads_no_input_and_slices_stay_inside() -> None:
    bad = problems([{"name": "p", "op": "param", "shape": [4], "input": "x"}], TOKENS)
    assert any("(p).input: param reads no input" in p for p in bad)
    bad = problems(
        [{"name": "s", "op": "slice", "input": "x", "axis": "seq", "start": 190, "stop": 200}],
        TOKENS,
    )
    assert any("slice [190, 200) along seq must lie within its 197 entries" in p for p in bad)


@pytest.mark.parametrize(
    ("name", "params", "macs", "crossbars"),
    [
        # crossbars: 12 layers × (4 × 288 + 2 × 1,152 + the written K and V, 156 + 96)
        # + patch conv 288 + head 6 × 63
        ("vit_b_16", 86_567_656, 17_563_828_224, 12 * (3_456 + 252) + 288 + 378),
        # 50 tokens: K per head 1 × ceil(50·8/128) = 4, V 1 × 4: 12 × 8 = 96 per layer
        ("vit_b_32", 88_224_232, 4_409_186_304, 12 * (3_456 + 96) + 24 * 48 + 378),
        # 24 × (4 × 8 × 64 + 2 × 8 × 256 + 16 × (13 + 8)) + patch conv 6 × 64 + head 8 × 63
        ("vit_l_16", 304_326_632, 61_554_712_576, 24 * (6_144 + 336) + 384 + 504),
    ],
)
def test_vit_backbones_by_hand(name: str, params: int, macs: int, crossbars: int) -> None:
    layers = [{"name": "vit", "backbone": name, "input": "image"}]
    a = analysis_of(layers, {"image": {"shape": [3, 224, 224]}})
    totals = a.totals
    assert (totals["params"], totals["macs"], totals["crossbars"]) == (params, macs, crossbars)


def test_a_vit_cut_at_its_encoder_gives_the_token_sequence() -> None:
    """A captioner reads ViT-B/16's 197 encoded tokens (``until: encoder.ln``)."""
    layers = [{"name": "enc", "backbone": "vit_b_16", "input": "image", "until": "encoder.ln"}]
    a = analysis_of(layers, {"image": {"shape": [3, 224, 224]}})
    assert str(a.layer("enc").shape) == "197×(768)"
    assert a.totals["macs"] == 17_563_828_224 - 768_000  # no head


def test_the_schema_accepts_the_transformer_ops() -> None:
    """Editors check instance files against docs/instance.schema.json: a param reads no
    input, an attention layer names its heads and width, a concat its axis."""
    import json
    from pathlib import Path

    import jsonschema

    schema = json.loads(
        (Path(__file__).parent.parent / "docs" / "instance.schema.json").read_text()
    )
    layers = [
        {"name": "cls", "op": "param", "shape": [768]},
        {"name": "seq", "op": "concat", "inputs": ["cls", "x"], "axis": "seq"},
        {"name": "sa", "op": "attention", "input": "seq", "heads": 12, "dim": 768},
        {"name": "act", "op": "gelu", "input": "sa"},
    ]
    doc = {"network": {"inputs": TOKENS, "layers": layers}}
    jsonschema.validate(doc, schema)
    parse_instance(doc)  # and hitm agrees
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            {"network": {"inputs": TOKENS, "layers": [{**layers[0], "input": "x"}]}}, schema
        )


# --- products of two activations: an operand written into crossbars per inference --------


def test_a_written_product_by_hand() -> None:
    """ViT-B/16's Q·Kᵀ (197 tokens, 12 heads of 64), ISAAC with the write defaults
    (docs/model.md: 20 ns per row, 0.6 pJ per cell, 10⁹ writes):

    - K per head is a 64 × 197 matrix: 1 row block × ceil(197·8 / 128) = 13 crossbars,
      12 heads: 156 per copy; 12·64·197·8 = 1,210,368 cells rewritten per copy.
    - Writing: 64 rows × 20 ns = 1.28 µs; then 197 MVMs of 1.6 µs shared by the copies:
      busy(1) = 1.28 + 315.2 = 316.48 µs, busy(4) = 1.28 + 50 × 1.6 = 81.28 µs.
    - A·V writes V (197 × 64 per head): 2 row blocks × 4 = 8 crossbars, 96 per copy; the
      first block's 128 rows take 2.56 µs: busy(1) = 317.76 µs.
    """
    a = analysis_of(
        [{"name": "sa", "op": "attention", "input": "x", "heads": 12, "dim": 768}], TOKENS
    )
    scores, context = a.layer("sa.scores"), a.layer("sa.context")
    assert (scores.crossbars, scores.parallel, scores.write_ps) == (156, 197, 1_280_000)
    assert scores.written_cells == 1_210_368 and scores.rewrites == 1
    assert scores.busy_ps(1) == 316_480_000 and scores.busy_ps(4) == 81_280_000
    assert (context.crossbars, context.write_ps, context.busy_ps(1)) == (96, 2_560_000, 317_760_000)
    assert a.layer("sa.q").write_ps == a.layer("sa.q").written_cells == 0  # programmed once


def test_a_designs_cell_writes_energy_and_lifetime_by_hand() -> None:
    """Two copies of the scores, one of everything else: cells written per inference
    2 × 1,210,368 + 1,210,368 = 3,631,104, at 0.6 pJ: 2,178,662.4 pJ (the `write` group).
    The period is A·V's 317.76 µs (the projections take 315.2 µs, the scores 1.28 + 99 ×
    1.6 = 159.68 µs), so a cell written once per inference lasts 10⁹ × 317.76 µs =
    317,760 s = 3.68 days."""
    from hitm import build_problem, evaluate
    from hitm.budget import Budget
    from hitm.pipeline import SECONDS_PER_YEAR

    a = analysis_of(
        [{"name": "sa", "op": "attention", "input": "x", "heads": 12, "dim": 768}], TOKENS
    )
    problem = build_problem(a, Budget(chips=1))
    copies = {"sa.q": 1, "sa.k": 1, "sa.v": 1, "sa.scores": 2, "sa.context": 1, "sa": 1}
    design = evaluate(problem, copies)
    assert design.bottleneck_ps == 317_760_000 and design.bottleneck_stage == "sa.context"
    assert design.written_cells == 3_631_104
    assert design.costs.split_pj["write"] == pytest.approx(2_178_662.4)
    assert design.costs.components_pj["cell_writes"] == pytest.approx(2_178_662.4)
    assert design.lifetime_years * SECONDS_PER_YEAR == pytest.approx(317_760)


def test_networks_without_products_have_no_write_group_or_lifetime() -> None:
    from hitm import build_problem, evaluate, load_instance, solve

    inst = load_instance("instances/captioner.yaml")
    problem = build_problem(analyze(inst.network, inst.hardware), inst.budget)
    design = evaluate(problem, solve(problem).copies)
    assert design.lifetime_years is None and design.written_cells == 0
    assert "write" not in design.costs.split_pj


def test_every_method_agrees_on_a_small_transformer() -> None:
    """Two pre-norm encoder layers (width 64, 4 heads, 16 tokens) at a budget that buys a
    few copies: the DP, bisection and both MILP backends and CP-SAT prove the same design."""
    from hitm import build_problem, compare
    from hitm.budget import Budget

    layers: list[dict[str, Any]] = []
    x = "x"
    for i in range(2):
        layers += [
            {"name": f"l{i}.ln", "op": "layernorm", "input": x},
            {"name": f"l{i}.sa", "op": "attention", "input": f"l{i}.ln", "heads": 4, "dim": 64},
            {"name": f"l{i}.add", "op": "add", "inputs": [f"l{i}.sa", x]},
            {"name": f"l{i}.fc1", "op": "linear", "input": f"l{i}.add", "out_features": 256},
            {"name": f"l{i}.gelu", "op": "gelu", "input": f"l{i}.fc1"},
            {"name": f"l{i}.fc2", "op": "linear", "input": f"l{i}.gelu", "out_features": 64},
        ]
        x = f"l{i}.fc2"
    a = analysis_of(layers, {"x": {"shape": [64], "seq": 16}})
    naive = a.totals["crossbars"]
    problem = build_problem(a, Budget(crossbars=3 * naive))
    result = compare(problem, time_limit=20)
    assert result.agree
    proven = [r for r in result.results if r.status == "optimal"]
    assert len(proven) >= 4 and len({(r.bottleneck_ps, r.crossbars_used) for r in proven}) == 1


# --- autoregressive decoders: a key/value cache that grows by one token a step ----------

DECODER = {
    "inputs": {"start": {"shape": [1]}, "memory": {"shape": [64], "seq": 10}},
    "layers": [
        {"name": "embed", "op": "embedding", "input": "start", "vocab": 100, "dim": 64},
        {"name": "sa", "op": "attention", "input": "embed", "heads": 2, "dim": 64, "cache": True},
        {
            "name": "ca",
            "op": "attention",
            "input": "sa",
            "kv_input": "memory",
            "heads": 2,
            "dim": 64,
        },
        {"name": "logits", "op": "linear", "input": "ca", "out_features": 100},
        {"name": "word", "op": "argmax", "input": "logits"},
    ],
    "feedback": [{"from": "word", "to": "embed", "steps": 8}],
}


def test_a_growing_cache_in_a_decoder_loop_by_hand() -> None:
    """8 decoding steps, 2 heads of 32, ISAAC (1.6 µs MVMs, 20 ns row writes):

    - self-attention with a cache: step t's query meets the t keys cached so far, so the
      scores take Σ_t 2·32·t = 64 · 36 = 2,304 MACs (A·V the same); the cache holds 8
      keys: Kᵀ per head 32 × 8 (1 crossbar), V 8 × 32 (2 crossbars). Each step writes
      its new key, a column across 32 rows (0.64 µs), and its new value, one row (20 ns):
      busy 8 × (0.64 + 1.6) = 17.92 µs and 8 × (0.02 + 1.6) = 12.96 µs; every cache cell
      is written once per inference (2·32·8·8 = 4,096 cells each).
    - cross-attention on 10 memory items computed outside the loop: K and V are written
      once per inference (32 rows: 0.64 µs; 10 rows: 0.2 µs) and read by all 8 steps:
      busy 0.64 + 8 × 1.6 = 13.44 µs and 0.2 + 12.8 = 13.0 µs; 8 · 2·10·32 = 5,120 MACs.
    """
    inst = parse_instance({"network": DECODER}, default_name="decoder")
    a = analyze(inst.network, inst.hardware)
    scores, context = a.layer("sa.scores"), a.layer("sa.context")
    assert scores.macs == context.macs == 2_304
    assert (scores.crossbars, context.crossbars) == (2, 4)
    assert (scores.busy_ps(1), context.busy_ps(1)) == (17_920_000, 12_960_000)
    assert scores.written_cells == context.written_cells == 4_096
    assert scores.rewrites == context.rewrites == 1
    cross_scores, cross_context = a.layer("ca.scores"), a.layer("ca.context")
    assert cross_scores.macs == cross_context.macs == 5_120
    assert (cross_scores.busy_ps(1), cross_context.busy_ps(1)) == (13_440_000, 13_000_000)
    assert cross_scores.rewrites == 1 and cross_scores.written_cells == 2 * 32 * 10 * 8
    assert a.layer("ca.k").loop is None  # the memory's keys are computed once, outside
    assert a.layer("sa.k").loop == a.layer("sa.scores").loop == "loop:embed..word"


def test_a_cache_outside_a_loop_is_one_clear_error() -> None:
    bad = problems(
        [{"name": "sa", "op": "attention", "input": "x", "heads": 12, "dim": 768, "cache": True}],
        TOKENS,
    )
    assert any("(sa).cache: a cache grows inside a decoder loop" in p for p in bad)


def test_a_tied_head_must_transpose_an_embedding() -> None:
    inputs = {"t": {"shape": [1]}}
    layers = [
        {"name": "wte", "op": "embedding", "input": "t", "vocab": 100, "dim": 16},
        {"name": "head", "op": "linear", "input": "wte", "out_features": 100, "tied": "wte",
         "bias": False},
    ]  # fmt: skip
    a = analysis_of(layers, inputs)
    assert a.layer("head").params == 0 and a.layer("wte").params == 1_600
    assert a.layer("head").crossbars == 7  # its own: 16 rows, ceil(100 · 8 / 128) = 7 blocks
    bad = problems([*layers[:1], {**layers[1], "out_features": 50}], inputs)
    assert any("(head).tied: 'wte' is a 100 × 16 table; this layer's matrix is 16 × 50" in p
               for p in bad)  # fmt: skip


def test_stages_feeding_a_loop_come_before_it_and_placement_works() -> None:
    """The cross-attention's keys and values are computed outside the decoder loop from
    the encoder but listed after the loop's first layer; the pipeline puts their stages
    first, so that with data movement priced (placement along a chain of chips) every edge
    runs forward. Found by the fuzz campaign (an AssertionError: an edge ran backwards)."""
    from hitm import build_problem, solve
    from hitm.budget import Budget

    doc = {"network": DECODER, "hardware": {"interconnect": "isaac"}}
    inst = parse_instance(doc, default_name="decoder")
    problem = build_problem(analyze(inst.network, inst.hardware), Budget(crossbars=400))
    names = [s.name for s in problem.stages]
    loop = names.index("loop:embed..word")
    assert names.index("ca.k") < loop and names.index("ca.v") < loop
    result = solve(problem, "dp")
    assert result.status == "optimal"
