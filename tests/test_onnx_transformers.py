"""Transformers exported from PyTorch, by either exporter, import with no manual step.

Five small models (two layers of width 32, two heads of 16; tests/data/
export_onnx_transformers.py says how they were made): torchvision's ViT (32×32
images, 16×16 patches: 4 patches and a class token, 5 tokens), Hugging Face's BERT,
GPT-2 and CLIP's text tower on 8 tokens, and CLIP's vision tower (5 tokens), each
exported with ``dynamo=True`` and with TorchScript (whose reshape targets hitm folds
from their ``Shape`` subgraphs). PyTorch counts (params, MACs by ``FlopCounterMode``):

    vit 42,282 183,744 · bert 20,928 139,264 · gpt2 29,184 204,800
    clip_vision 41,984 183,424 · clip_text 20,864 139,264

hitm counts what the graph holds, which differs from PyTorch's counts in three known ways:

- the exporters fold a position (and BERT's token-type) embedding lookup of the 8
  positions used into an 8 × 32 constant: a learned tensor of 256 values instead of the
  table (16 × 32 = 512 positions, BERT's 2 × 32 = 64 token types): −256 for GPT-2 and
  CLIP's text tower, −256 + 192 = −64 for BERT;
- CLIP's vision tower's ``post_layernorm`` (2 × 32) only normalises the pooled output,
  not the last hidden state the export returns: −64;
- hitm counts a word-embedding lookup as ``dim`` MACs per token (a one-hot MVM,
  docs/model.md), PyTorch none: +8 × 32 = +256 for BERT, GPT-2 and CLIP's text tower.

Per layer, the MACs follow from the shapes: each product of two activations (Q·Kᵀ and
A·V) is heads × T × T × 16 = 32·T²; each projection T × K × N.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hitm import load_instance
from hitm.analysis import analyze
from hitm.cli import app

DATA = Path(__file__).parent / "data" / "transformers"
# model: (tokens, PyTorch params, PyTorch MACs, hitm − PyTorch params, hitm − PyTorch MACs)
MODELS = {
    "vit": (5, 42_282, 183_744, 0, 0),
    "bert": (8, 20_928, 139_264, -64, 256),
    "gpt2": (8, 29_184, 204_800, -256, 256),
    "clip_vision": (5, 41_984, 183_424, -64, 0),
    "clip_text": (8, 20_864, 139_264, -256, 256),
}
# Each model's projections (K, N) per layer, and the activation its MLP uses.
PROJECTIONS = {
    "vit": ([(32, 96), (32, 32), (32, 64), (64, 32)], "gelu"),  # a packed in_proj
    "bert": ([(32, 32)] * 4 + [(32, 64), (64, 32)], "gelu"),
    "gpt2": (
        [(32, 96), (32, 32), (32, 128), (128, 32)],
        "tanh",
    ),  # c_attn packed; MLP 4×; tanh GELU
    "clip_vision": ([(32, 32)] * 4 + [(32, 64), (64, 32)], "sigmoid"),  # quick GELU
    "clip_text": ([(32, 32)] * 4 + [(32, 64), (64, 32)], "sigmoid"),
}
HEADS = {"vit": [(32, 10)]}  # ViT's classifier on the class token


EXPORTERS = ("dynamo", "torchscript")


@pytest.mark.parametrize("exporter", EXPORTERS)
@pytest.mark.parametrize("model", sorted(MODELS))
def test_exports_import_with_pytorchs_counts(model: str, exporter: str) -> None:
    tokens, params, macs, dparams, dmacs = MODELS[model]
    inst = load_instance(DATA / f"{model}_{exporter}.onnx")
    a = analyze(inst.network, inst.hardware)
    assert a.totals["params"] == params + dparams
    assert a.totals["macs"] == macs + dmacs
    products = [layer for layer in a.layers if layer.op == "matmul"]
    assert len(products) == 4  # Q·Kᵀ and A·V in each of the two layers
    assert all(p.macs == 32 * tokens**2 and p.is_product for p in products)
    layers = {layer.name: layer for layer in inst.network.layers}
    assert [layers[p.name].attrs["transpose_b"] for p in products] == [True, False] * 2
    assert all(layers[p.name].attrs["heads"] == 2 for p in products)
    projections, act = PROJECTIONS[model]
    linear = [layer for layer in a.layers if layer.op == "linear"]
    shapes = Counter(layer.matrices[0] for layer in linear)
    assert shapes == Counter(projections * 2 + HEADS.get(model, []))
    for layer in linear:
        k, n = layer.matrices[0]
        assert layer.macs == layer.parallel * k * n
        assert layer.parallel == (1 if (k, n) == (32, 10) else tokens)
    ops = Counter(layer.op for layer in a.layers)
    assert ops["layernorm"] == 5 and ops[act] == 2 and ops["softmax"] == 2


@pytest.mark.parametrize("exporter", EXPORTERS)
@pytest.mark.parametrize("model", sorted(MODELS))
def test_an_imported_transformer_solves_with_either_implementation(
    model: str, exporter: str
) -> None:
    runner = CliRunner()
    for extra in ([], ["--digital", "units"]):
        path = str(DATA / f"{model}_{exporter}.onnx")
        result = runner.invoke(app, ["solve", path, "--json", *extra])
        assert result.exit_code == 0, result.stderr
        doc = json.loads(result.stdout)
        # Two resources (crossbars, MAC units): the DP's scaled-cost design is only feasible.
        assert doc["status"] == ("feasible" if extra else "optimal")
        assert doc["bottleneck_ps"] > 0


def test_both_exporters_give_the_same_network() -> None:
    """Layer for layer the same weight layers, params and MACs, whatever the exporter."""
    for model in MODELS:
        a, b = (
            analyze(*(lambda i: (i.network, i.hardware))(load_instance(DATA / f"{model}_{e}.onnx")))
            for e in EXPORTERS
        )
        weights = [(x.op, x.params, x.macs, x.matrices) for x in a.weight_layers]
        assert weights == [(x.op, x.params, x.macs, x.matrices) for x in b.weight_layers]


def test_a_written_out_layer_norm_is_one_layernorm() -> None:
    """At opset 16 TorchScript writes each layer norm out: ReduceMean, Sub, Pow,
    ReduceMean, Add ε, Sqrt, Div, then Mul γ and Add β. hitm reads the chain as one
    affine ``layernorm``: the same network, params and MACs as the other exports."""
    inst = load_instance(DATA / "vit_opset16.onnx")
    a = analyze(inst.network, inst.hardware)
    assert (a.totals["params"], a.totals["macs"]) == MODELS["vit"][1:3]
    norms = [layer for layer in inst.network.layers if layer.op == "layernorm"]
    assert len(norms) == 5 and all(layer.attrs["affine"] for layer in norms)
    other = analyze(*(lambda i: (i.network, i.hardware))(load_instance(DATA / "vit_dynamo.onnx")))
    assert [(x.op, x.params, x.macs) for x in a.weight_layers] == [
        (x.op, x.params, x.macs) for x in other.weight_layers
    ]


@pytest.mark.parametrize(
    ("exporter", "ops"),
    [
        ("dynamo", {"Einsum", "Gelu", "Slice", "Where"}),
        ("torchscript", {"Einsum", "Erf", "Pad", "Split", "Where"}),
    ],
)
def test_the_remaining_ops_on_a_small_export(exporter: str, ops: set[str]) -> None:
    """tests/data/export_onnx_transformers.py's ``Ops``: ZeroPad2d + conv 3→16 (k3) +
    max-pool 2 on 8×8, 16 patch tokens, a packed projection 16→48 split into Q, K, V of
    2 heads of 8, attention written with einsum under a causal mask (a Where on the
    scores: an identity, no work), projections 16→16 and 16→32, GELU, and all tokens but
    the first. PyTorch: 2,080 params, 60,416 MACs; by hand: conv
    64 · 27 · 16 = 27,648 (padding 1 folded), 16 · 16 · 48 = 12,288, each product
    2 · 16 · 16 · 8 = 4,096, 16 · 16 · 16 = 4,096 and 16 · 16 · 32 = 8,192."""
    import onnx

    path = DATA / f"ops_{exporter}.onnx"
    graph = onnx.load(path, load_external_data=False).graph
    assert ops <= {n.op_type for n in graph.node}
    inst = load_instance(path)
    a = analyze(inst.network, inst.hardware)
    assert (a.totals["params"], a.totals["macs"]) == (2_080, 60_416)
    assert [x.macs for x in a.weight_layers] == [27_648, 12_288, 4_096, 4_096, 4_096, 8_192]
    conv = next(layer for layer in inst.network.layers if layer.op == "conv2d")
    assert conv.attrs["padding"] == (1, 1)
    assert next(layer for layer in inst.network.layers if layer.op == "gelu")
    from hitm.description.onnx.convert import import_onnx

    wheres = {n.name for n in graph.node if n.op_type == "Where"}
    made = import_onnx(path)  # each layer with the node it came from
    masks = [name for name, (_, label) in made.shapes.items() if label in wheres]
    assert len(masks) == 1 and inst.network.layer(masks[0]).op == "identity"
    assert inst.network.layers[-1].shape.items == 15  # the token slice
