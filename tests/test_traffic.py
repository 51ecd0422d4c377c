"""Data movement from the static analysis: the bits on every edge of the layer DAG, by hand.

Activations are 16-bit (ISAAC's ``input_bits``), so an edge carries 16 bits per
element of its source's output, per inference.
"""

from __future__ import annotations

import json
from pathlib import Path

from helpers import INSTANCES, instance
from typer.testing import CliRunner

from hitm.analysis import analyze
from hitm.cli import app
from hitm.description.load import load_instance
from hitm.traffic import Edge, traffic


def _flows(layers, inputs, **extra):
    inst = instance(layers, inputs, **extra)
    return traffic(analyze(inst.network, inst.hardware))


CHAIN = [
    {"name": "c", "op": "conv2d", "input": "x", "out_channels": 4, "kernel": 3, "padding": 1},
    {"name": "r", "op": "relu", "input": "c"},
    {"name": "p", "op": "maxpool", "input": "r", "kernel": 2},
    {"name": "f", "op": "flatten", "input": "p"},
    {"name": "fc", "op": "linear", "input": "f", "out_features": 10},
]


def test_a_chain_by_hand():
    """x (3, 8, 8) → conv 3×3 pad 1 to 4 channels → relu → 2×2 max-pool → flatten → linear 10.

    x: 3 × 64 = 192 elements = 3,072 bits; conv and relu: 4 × 64 = 256 elements =
    4,096 bits each; pool and flatten: 4 × 16 = 64 elements = 1,024 bits each;
    total 3,072 + 4,096 + 4,096 + 1,024 + 1,024 = 13,312 bits.
    """
    flows = _flows(
        CHAIN,
        {"x": {"shape": [3, 8, 8]}},
    )
    assert flows.edges == (
        Edge("x", "c", 3072),
        Edge("c", "r", 4096),
        Edge("r", "p", 4096),
        Edge("p", "f", 1024),
        Edge("f", "fc", 1024),
    )
    assert flows.total_bits == 13_312
    assert (flows.bits_in("c"), flows.bits_out("c")) == (3072, 4096)
    assert (flows.bits_in("fc"), flows.bits_out("fc")) == (1024, 160)


def test_skip_connection_and_concat_carry_their_source_each():
    """x (8,) → a (linear 8) → b (linear 8); add(a, b); concat(a, add).

    Every edge from a carries a's 8 values (128 bits); a is read three times.
    """
    flows = _flows(
        [
            {"name": "a", "op": "linear", "input": "x", "out_features": 8},
            {"name": "b", "op": "linear", "input": "a", "out_features": 8},
            {"name": "s", "op": "add", "inputs": ["a", "b"]},
            {"name": "cat", "op": "concat", "inputs": ["a", "s"]},
        ],
        {"x": {"shape": [8]}},
    )
    from_a = [e for e in flows.edges if e.source == "a"]
    assert [(e.target, e.bits) for e in from_a] == [("b", 128), ("s", 128), ("cat", 128)]
    assert flows.bits_in("cat") == 256 and flows.bits_out("cat") == 256


def test_decoder_loop_recurrent_state_and_feedback():
    """An image feature seeds a 5-step decoder: embed → lstm (hidden 4) → logits (10) → argmax.

    feature (4,) → lstm init: crosses once, 4 × 16 = 64 bits. start token → embed: 16
    bits. Inside the loop every value is sent each step: embed → lstm 5 × 6 × 16 =
    480, lstm → logits 5 × 4 × 16 = 320, logits → word 5 × 10 × 16 = 800; the
    LSTM's hidden state 4 × 5 steps × 16 = 320 (state); word → embed, the feedback,
    one value for each of the 4 later steps: 64 bits.
    """
    flows = _flows(
        [
            {"name": "feat", "op": "linear", "input": "img", "out_features": 4},
            {"name": "embed", "op": "embedding", "input": "start", "vocab": 10, "dim": 6},
            {"name": "lstm", "op": "lstm", "input": "embed", "hidden": 4, "init": "feat"},
            {"name": "logits", "op": "linear", "input": "lstm", "out_features": 10},
            {"name": "word", "op": "argmax", "input": "logits"},
        ],
        {"img": {"shape": [3]}, "start": {"shape": [1]}},
        feedback=[{"from": "word", "to": "embed", "steps": 5}],
    )
    by = {(e.source, e.target, e.kind): e.bits for e in flows.edges}
    assert by == {
        ("img", "feat", "data"): 48,
        ("start", "embed", "data"): 16,
        ("embed", "lstm", "data"): 480,
        ("feat", "lstm", "data"): 64,
        ("lstm", "lstm", "state"): 320,
        ("lstm", "logits", "data"): 320,
        ("logits", "word", "data"): 800,
        ("word", "embed", "feedback"): 64,
    }
    assert flows.bits_in("lstm") == 544  # the state is not an input


def test_vgg16_conv1_1_sends_6_4_mb_per_frame():
    """conv1_1's output is 64 × 224 × 224 values of 16 bits: 51,380,224 bits = 6.42 MB."""
    inst = load_instance(INSTANCES / "vgg16.yaml")
    flows = traffic(analyze(inst.network, inst.hardware))
    conv = next(e for e in flows.edges if e.source.endswith("conv1_1"))
    assert conv.bits == 64 * 224 * 224 * 16 == 51_380_224


def test_analyze_shows_the_traffic(tmp_path: Path):
    runner = CliRunner()
    doc = json.loads(
        runner.invoke(app, ["analyze", str(INSTANCES / "captioner.yaml"), "--json"]).stdout
    )
    assert doc["totals"]["edge_bits"] == sum(e["bits"] for e in doc["edges"])
    lstm = next(layer for layer in doc["layers"] if layer["name"] == "lstm")
    assert lstm["bits_in"] > 0 and lstm["bits_out"] == 20 * 512 * 16
    text = runner.invoke(app, ["analyze", str(INSTANCES / "captioner.yaml"), "--all"]).stdout
    assert "data flow per inference" in text and "feedback" in text


def test_analyze_totals_the_chain_by_hand(tmp_path: Path):
    """The chain above through ``hitm analyze``: weight layers c and fc read 3,072 + 1,024
    = 4,096 bits (512 B) and write 4,096 + 160 = 4,256 bits (532 B); every edge of the
    DAG carries 13,312 bits (1,664 B, shown as 1.66 kB). ``--csv`` has the traffic columns
    ``--json`` names ``elements``, ``bits_in`` and ``bits_out``.
    """
    path = tmp_path / "chain.yaml"
    path.write_text(
        json.dumps({"network": {"inputs": {"x": {"shape": [3, 8, 8]}}, "layers": CHAIN}}),
        encoding="utf-8",
    )
    runner = CliRunner()
    result = runner.invoke(app, ["analyze", str(path)])
    assert result.exit_code == 0, result.output
    total = next(line for line in result.stdout.splitlines() if "total" in line)
    assert "512 B" in total and "532 B" in total, total
    assert "every edge of the layer DAG: 1.66 kB per inference" in result.stdout
    doc = json.loads(runner.invoke(app, ["analyze", str(path), "--json"]).stdout)
    assert doc["totals"]["edge_bits"] == 13_312
    out = tmp_path / "chain.csv"
    assert runner.invoke(app, ["analyze", str(path), "--csv", str(out)]).exit_code == 0
    import pandas as pd

    frame = pd.read_csv(out).set_index("name")
    assert frame.loc["c", ["bits_in", "bits_out"]].tolist() == [3_072, 4_096]
    assert frame.loc["fc", ["bits_in", "bits_out", "elements"]].tolist() == [1_024, 160, 10]
