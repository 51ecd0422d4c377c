"""ONNX import: graphs built with onnx.helper match the same network written as YAML.

Each case builds a small ONNX graph, saves it, loads it with ``load_instance``
and compares the analysis layer by layer (op, shape, params, MACs, matrices,
crossbars, steps, parallel) with an instance dict written by hand. The files in
tests/data/ were exported from PyTorch (see tests/data/README.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
import yaml
from onnx import TensorProto, helper, numpy_helper
from typer.testing import CliRunner

from hitm.analysis import analyze
from hitm.cli import app
from hitm.description.load import Instance, load_instance, parse_instance
from hitm.description.load import onnx_document as onnx_to_document
from hitm.description.onnx import SUPPORTED_OPS
from hitm.errors import DescriptionError

DATA = Path(__file__).resolve().parent / "data"
FLOAT, INT64 = TensorProto.FLOAT, TensorProto.INT64
runner = CliRunner()


def run(*args: Any):
    return runner.invoke(app, [str(a) for a in args])


# --- building ONNX graphs -------------------------------------------------------------


def weight(name: str, *dims: int) -> TensorProto:
    return numpy_helper.from_array(np.zeros(dims, np.float32), name)


def ints(name: str, *values: int) -> TensorProto:
    return numpy_helper.from_array(np.array(values, np.int64), name)


def node(op: str, ins: list[str], name: str, outs: list[str] | None = None, **attrs: Any):
    return helper.make_node(op, ins, outs or [name], name=name, **attrs)


def save(
    path: Path,
    nodes: list[onnx.NodeProto],
    inputs: dict[str, tuple[int, list[Any]]],
    output: tuple[str, list[Any]],
    inits: list[TensorProto] = (),
    opset: int = 17,
) -> Path:
    """Save a model: ``inputs`` maps names to (element type, shape); one float output."""
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info(n, t, s) for n, (t, s) in inputs.items()],
        [helper.make_tensor_value_info(output[0], FLOAT, output[1])],
        initializer=list(inits),
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.save(model, path)
    return path


def rows(inst: Instance) -> list[tuple[Any, ...]]:
    return [
        (d.name, d.op, d.shape, d.params, d.macs, d.matrices, d.crossbars, d.steps, d.parallel,
         d.mvm_ps)
        for d in analyze(inst.network, inst.hardware).layers
    ]  # fmt: skip


def yaml_instance(inputs: dict[str, Any], layers: list[dict[str, Any]]) -> Instance:
    return parse_instance({"network": {"inputs": inputs, "layers": layers}}, "yaml")


def assert_same(path: Path, inputs: dict[str, Any], layers: list[dict[str, Any]]) -> Instance:
    """The ONNX file and the YAML network give the same analysis, layer by layer."""
    got = load_instance(path)
    want = yaml_instance(inputs, layers)
    assert dict(got.network.inputs) == dict(want.network.inputs)
    for a, b in zip(rows(got), rows(want), strict=True):
        assert a == b
    return got


def L(name: str, op: str, input: str | list[str], **attrs: Any) -> dict[str, Any]:
    key = "inputs" if isinstance(input, list) else "input"
    return {"name": name, "op": op, key: input, **attrs}


# --- layer by layer against the YAML path -----------------------------------------------


def test_conv_groups_dilation_and_pads(tmp_path: Path) -> None:
    nodes = [
        # groups 2, dilation 2, pads 2 on 15×15, stride 2: (15 + 4 - 5) // 2 + 1 = 8
        node("Conv", ["x", "w1", "b1"], "conv1", group=2, dilations=[2, 2], pads=[2, 2, 2, 2],
             strides=[2, 2], kernel_shape=[3, 3]),
        # asymmetric pads [0, 0, 1, 1] at stride 2: 8 + 1 - 3 → 4 outputs, as symmetric 1
        node("Conv", ["conv1", "w2"], "conv2", pads=[0, 0, 1, 1], strides=[2, 2]),
        # SAME_UPPER, 3×1 kernel, stride 1: padding [1, 0] keeps 4×4
        node("Conv", ["conv2", "w3", "b3"], "conv3", auto_pad="SAME_UPPER"),
        node("Conv", ["conv3", "w4"], "conv4", auto_pad="VALID", strides=[1, 2]),
    ]  # fmt: skip
    inits = [weight("w1", 16, 4, 3, 3), weight("b1", 16), weight("w2", 8, 16, 3, 3),
             weight("w3", 8, 8, 3, 1), weight("b3", 8), weight("w4", 4, 8, 2, 2)]  # fmt: skip
    path = save(tmp_path / "m.onnx", nodes, {"x": (FLOAT, [1, 8, 15, 15])},
                ("conv4", [1, 4, 3, 2]), inits)  # fmt: skip
    inst = assert_same(
        path,
        {"x": {"shape": [8, 15, 15]}},
        [
            L("conv1", "conv2d", "x", out_channels=16, kernel=3, stride=2, padding=2, dilation=2,
              groups=2),
            L("conv2", "conv2d", "conv1", out_channels=8, kernel=3, stride=2, padding=1,
              bias=False),
            L("conv3", "conv2d", "conv2", out_channels=8, kernel=[3, 1], padding=[1, 0]),
            L("conv4", "conv2d", "conv3", out_channels=4, kernel=2, stride=[1, 2], bias=False),
        ],
    )  # fmt: skip
    conv1 = inst.network.layer("conv1")
    assert conv1.attrs["groups"] == 2 and conv1.shape.dims == (16, 8, 8)


def test_residual_add(tmp_path: Path) -> None:
    nodes = [
        node("Conv", ["x", "w1"], "conv1", pads=[1, 1, 1, 1]),
        node("BatchNormalization", ["conv1", "g", "b", "m", "v"], "bn1"),
        node("Relu", ["bn1"], "relu1"),
        node("Conv", ["relu1", "w2"], "conv2", pads=[1, 1, 1, 1]),
        node("Add", ["conv2", "x"], "add"),
        node("Relu", ["add"], "out"),
    ]
    inits = [weight("w1", 8, 8, 3, 3), weight("w2", 8, 8, 3, 3)]
    inits += [weight(n, 8) for n in "gbmv"]
    path = save(tmp_path / "m.onnx", nodes, {"x": (FLOAT, [1, 8, 6, 6])}, ("out", [1, 8, 6, 6]),
                inits)  # fmt: skip
    assert_same(
        path,
        {"x": {"shape": [8, 6, 6]}},
        [
            L("conv1", "conv2d", "x", out_channels=8, kernel=3, padding=1, bias=False),
            L("bn1", "batchnorm", "conv1"),
            L("relu1", "relu", "bn1"),
            L("conv2", "conv2d", "relu1", out_channels=8, kernel=3, padding=1, bias=False),
            L("add", "add", ["conv2", "x"]),
            L("out", "relu", "add"),
        ],
    )


def test_inception_concat(tmp_path: Path) -> None:
    nodes = [
        node("Conv", ["x", "w1", "b1"], "b1x1"),
        node("Conv", ["x", "w3", "b3"], "b3x3", pads=[1, 1, 1, 1]),
        node("MaxPool", ["x"], "pool", kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1]),
        node("Concat", ["b1x1", "b3x3", "pool"], "cat", axis=1),
        node("Sigmoid", ["cat"], "sig"),
    ]
    inits = [weight("w1", 4, 6, 1, 1), weight("b1", 4), weight("w3", 8, 6, 3, 3), weight("b3", 8)]
    path = save(tmp_path / "m.onnx", nodes, {"x": (FLOAT, [1, 6, 7, 7])}, ("sig", [1, 18, 7, 7]),
                inits)  # fmt: skip
    assert_same(
        path,
        {"x": {"shape": [6, 7, 7]}},
        [
            L("b1x1", "conv2d", "x", out_channels=4, kernel=1),
            L("b3x3", "conv2d", "x", out_channels=8, kernel=3, padding=1),
            L("pool", "maxpool", "x", kernel=3, stride=1, padding=1),
            L("cat", "concat", ["b1x1", "b3x3", "pool"]),
            L("sig", "sigmoid", "cat"),
        ],
    )


def test_lstm_bidirectional_sequence_into_matmul_add(tmp_path: Path) -> None:
    # PyTorch's pattern: Y [T, 2, 1, H] → Transpose → Reshape [T, 1, 2H] → MatMul + Add(bias)
    nodes = [
        node("LSTM", ["x", "W", "R", "B"], "lstm", ["y"], hidden_size=16,
             direction="bidirectional"),
        node("Transpose", ["y"], "lstm_t", perm=[0, 2, 1, 3]),
        node("Reshape", ["lstm_t", "shape"], "lstm_r"),
        node("MatMul", ["lstm_r", "wo"], "fc"),
        node("Add", ["fc", "bo"], "fc_bias"),
        node("Tanh", ["fc_bias"], "tanh"),
    ]  # fmt: skip
    inits = [weight("W", 2, 64, 10), weight("R", 2, 64, 16), weight("B", 2, 128),
             ints("shape", 5, 1, 32), weight("wo", 32, 7), weight("bo", 7)]  # fmt: skip
    path = save(tmp_path / "m.onnx", nodes, {"x": (FLOAT, [5, 1, 10])}, ("tanh", [5, 1, 7]),
                inits)  # fmt: skip
    inst = assert_same(
        path,
        {"x": {"shape": [10], "seq": 5}},
        [
            L("lstm", "lstm", "x", hidden=16, bidirectional=True),
            L("lstm_t", "identity", "lstm"),
            L("lstm_r", "identity", "lstm_t"),
            L("fc", "linear", "lstm_r", out_features=7),  # the Add folded in as its bias
            L("tanh", "tanh", "fc"),
        ],
    )
    lstm = analyze(inst.network, inst.hardware).layer("lstm")
    assert (lstm.steps, lstm.parallel) == (5, 1)
    assert lstm.params == 2 * (64 * (10 + 16) + 2 * 64)  # PyTorch: W, R and both biases


def test_gru_bidirectional_final_state(tmp_path: Path) -> None:
    # Only Y_h is read: return last. Y_h [2, 1, H] → Transpose [1, 2, H] → Reshape [1, 2H]
    nodes = [
        node("GRU", ["x", "W", "R", "B"], "gru", ["", "h"], hidden_size=12,
             direction="bidirectional", linear_before_reset=1),
        node("Transpose", ["h"], "h_t", perm=[1, 0, 2]),
        node("Reshape", ["h_t", "shape"], "h_flat"),
        node("Gemm", ["h_flat", "wo", "bo"], "fc", transB=1),
        node("Softmax", ["fc"], "prob"),
    ]  # fmt: skip
    inits = [weight("W", 2, 36, 6), weight("R", 2, 36, 12), weight("B", 2, 72),
             ints("shape", 1, 24), weight("wo", 3, 24), weight("bo", 3)]  # fmt: skip
    path = save(tmp_path / "m.onnx", nodes, {"x": (FLOAT, [9, 1, 6])}, ("prob", [1, 3]), inits)
    inst = assert_same(
        path,
        {"x": {"shape": [6], "seq": 9}},
        [
            L("gru", "gru", "x", hidden=12, bidirectional=True, **{"return": "last"}),
            L("h_t", "identity", "gru"),
            L("h_flat", "identity", "h_t"),  # the item is (24,) throughout
            L("fc", "linear", "h_flat", out_features=3),
            L("prob", "softmax", "fc"),
        ],
    )
    gru = analyze(inst.network, inst.hardware).layer("gru")
    assert gru.matrices == ((6, 36), (12, 36)) * 2 and gru.steps == 9


def test_embedding_gather_into_rnn(tmp_path: Path) -> None:
    # tokens [1, T] → Gather → [1, T, E] → Transpose → RNN → Y_h → Squeeze → Gemm
    nodes = [
        node("Gather", ["table", "tokens"], "embed"),
        node("Transpose", ["embed"], "embed_t", perm=[1, 0, 2]),
        node("RNN", ["embed_t", "W", "R"], "rnn", ["", "h"], hidden_size=20),
        node("Squeeze", ["h", "axes"], "h0"),
        node("Gemm", ["h0", "wo"], "fc"),
    ]
    inits = [weight("table", 100, 16), weight("W", 1, 20, 16), weight("R", 1, 20, 20),
             ints("axes", 0), weight("wo", 20, 100)]  # fmt: skip
    path = save(tmp_path / "m.onnx", nodes, {"tokens": (INT64, [1, 10])}, ("fc", [1, 100]), inits)
    inst = assert_same(
        path,
        {"tokens": {"shape": [1], "seq": 10}},
        [
            L("embed", "embedding", "tokens", vocab=100, dim=16),
            L("embed_t", "identity", "embed"),
            L("rnn", "rnn", "embed_t", hidden=20, bias=False, **{"return": "last"}),
            L("h0", "identity", "rnn"),
            L("fc", "linear", "h0", out_features=100, bias=False),
        ],
    )
    embed = analyze(inst.network, inst.hardware).layer("embed")
    assert embed.mvm_ps == inst.hardware.onehot_mvm_ps and embed.parallel == 10


def test_stacked_lstm_last_state_and_last_step(tmp_path: Path) -> None:
    # PyTorch's 2-layer LSTM: h_n = Concat(Y_h1, Y_h2); h_n[-1] = Gather(h_n, -1) is layer 2's.
    # A second head reads out[:, -1] of a third LSTM: that layer returns its last step.
    nodes = [
        node("LSTM", ["x", "W1", "R1", "B1"], "lstm1", ["y1", "h1"], hidden_size=8),
        node("Squeeze", ["y1", "axis1"], "y1_s"),
        node("LSTM", ["y1_s", "W2", "R2", "B2"], "lstm2", ["", "h2"], hidden_size=8),
        node("Concat", ["h1", "h2"], "h_n", axis=0),
        node("Gather", ["h_n", "last"], "h_last", axis=0),
        node("LSTM", ["x", "W3", "R3"], "lstm3", ["y3"], hidden_size=6),
        node("Squeeze", ["y3", "axis1"], "y3_s"),
        node("Transpose", ["y3_s"], "y3_t", perm=[1, 0, 2]),  # [1, T, 6], batch first
        node("Gather", ["y3_t", "last"], "y3_last", axis=1),  # out[:, -1]: [1, 6]
        node("Concat", ["h_last", "y3_last"], "both", axis=1),
        node("Clip", ["both", "zero", "six"], "relu6"),
    ]  # fmt: skip
    inits = [weight("W1", 1, 32, 5), weight("R1", 1, 32, 8), weight("B1", 1, 64),
             weight("W2", 1, 32, 8), weight("R2", 1, 32, 8), weight("B2", 1, 64),
             weight("W3", 1, 24, 5), weight("R3", 1, 24, 6), ints("axis1", 1),
             numpy_helper.from_array(np.array(-1, np.int64), "last"),
             numpy_helper.from_array(np.array(0, np.float32), "zero"),
             numpy_helper.from_array(np.array(6, np.float32), "six")]  # fmt: skip
    path = save(tmp_path / "m.onnx", nodes, {"x": (FLOAT, [4, 1, 5])}, ("relu6", [1, 14]), inits)
    assert_same(
        path,
        {"x": {"shape": [5], "seq": 4}},
        [
            L("lstm1", "lstm", "x", hidden=8),
            L("y1_s", "identity", "lstm1"),
            L("lstm2", "lstm", "y1_s", hidden=8, **{"return": "last"}),
            L("h_last", "identity", "lstm2"),
            L("lstm3", "lstm", "x", hidden=6, bias=False, **{"return": "last"}),
            L("y3_s", "identity", "lstm3"),
            L("y3_t", "identity", "y3_s"),
            L("y3_last", "identity", "y3_t"),
            L("both", "concat", ["h_last", "y3_last"]),
            L("relu6", "relu6", "both"),
        ],
    )


def test_gemm_and_matmul_forms(tmp_path: Path) -> None:
    nodes = [
        node("Gemm", ["x", "w1", "b1"], "fc1", transB=1),  # W [N, K], as PyTorch's Linear
        node("Relu", ["fc1"], "relu"),
        node("Gemm", ["relu", "w2"], "fc2"),  # W [K, N], no bias
        node("MatMul", ["fc2", "w3"], "fc3"),
        node("Add", ["b3", "fc3"], "fc3_bias"),  # bias first, as TorchScript writes it
        node("Mul", ["fc3_bias", "scale"], "scaled"),  # a constant scale: identity
        node("Dropout", ["scaled"], "drop"),
        node("Identity", ["drop"], "same"),
        node("Mul", ["same", "fc3_bias"], "gate"),
    ]
    inits = [weight("w1", 30, 20), weight("b1", 30), weight("w2", 30, 40), weight("w3", 40, 9),
             weight("b3", 9), weight("scale", 1)]  # fmt: skip
    path = save(tmp_path / "m.onnx", nodes, {"x": (FLOAT, [1, 20])}, ("gate", [1, 9]), inits)
    assert_same(
        path,
        {"x": {"shape": [20]}},
        [
            L("fc1", "linear", "x", out_features=30),
            L("relu", "relu", "fc1"),
            L("fc2", "linear", "relu", out_features=40, bias=False),
            L("fc3", "linear", "fc2", out_features=9),
            L("scaled", "identity", "fc3"),
            L("drop", "dropout", "scaled"),
            L("same", "identity", "drop"),
            L("gate", "mul", ["same", "fc3"]),
        ],
    )


def test_pools_ceil_mode_global_pool_and_flatten(tmp_path: Path) -> None:
    nodes = [
        # 16: floor mode gives 7, ceil mode 8
        node("MaxPool", ["x"], "pool1", kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
        node("AveragePool", ["pool1"], "pool2", kernel_shape=[3, 3], strides=[2, 2],
             pads=[1, 1, 1, 1]),
        node("GlobalAveragePool", ["pool2"], "gap"),
        node("Flatten", ["gap"], "flat", axis=1),
        node("Gemm", ["flat", "w", "b"], "fc", transB=1),
    ]  # fmt: skip
    inits = [weight("w", 10, 4), weight("b", 10)]
    path = save(tmp_path / "m.onnx", nodes, {"x": (FLOAT, [1, 4, 16, 16])}, ("fc", [1, 10]), inits)
    inst = assert_same(
        path,
        {"x": {"shape": [4, 16, 16]}},
        [
            L("pool1", "maxpool", "x", kernel=3, stride=2, ceil_mode=True),
            L("pool2", "avgpool", "pool1", kernel=3, stride=2, padding=1),
            L("gap", "global_avgpool", "pool2"),
            L("flat", "flatten", "gap"),
            L("fc", "linear", "flat", out_features=10),
        ],
    )
    assert inst.network.layer("pool1").shape.dims == (4, 8, 8)


def test_batch_of_16_frames_is_a_sequence(tmp_path: Path) -> None:
    # [16, 3, 8, 8]: 16 independent items; a Reshape to [1, 16, F] + Transpose feeds an LSTM
    nodes = [
        node("Conv", ["x", "w", "b"], "conv", pads=[1, 1, 1, 1]),
        node("GlobalAveragePool", ["conv"], "gap"),
        node("Flatten", ["gap"], "flat"),
        node("Gemm", ["flat", "wf", "bf"], "fc", transB=1),
        node("Reshape", ["fc", "shape"], "frames"),
        node("Transpose", ["frames"], "steps", perm=[1, 0, 2]),
        node("LSTM", ["steps", "W", "R", "B"], "lstm", ["", "h"], hidden_size=8),
        node("Flatten", ["h"], "h_flat"),
    ]
    inits = [weight("w", 4, 3, 3, 3), weight("b", 4), weight("wf", 6, 4), weight("bf", 6),
             ints("shape", 1, 16, 6), weight("W", 1, 32, 6), weight("R", 1, 32, 8),
             weight("B", 1, 64)]  # fmt: skip
    path = save(tmp_path / "m.onnx", nodes, {"x": (FLOAT, [16, 3, 8, 8])}, ("h_flat", [1, 8]),
                inits)  # fmt: skip
    inst = assert_same(
        path,
        {"x": {"shape": [3, 8, 8], "seq": 16}},
        [
            L("conv", "conv2d", "x", out_channels=4, kernel=3, padding=1),
            L("gap", "global_avgpool", "conv"),
            L("flat", "flatten", "gap"),
            L("fc", "linear", "flat", out_features=6),
            L("frames", "identity", "fc"),
            L("steps", "identity", "frames"),
            L("lstm", "lstm", "steps", hidden=8, **{"return": "last"}),
            L("h_flat", "flatten", "lstm"),
        ],
    )
    demand = analyze(inst.network, inst.hardware)
    assert demand.layer("conv").parallel == 16 * 8 * 8
    assert demand.layer("fc").parallel == 16
    assert demand.layer("lstm").steps == 16


def test_a_symbolic_batch_counts_as_one(tmp_path: Path) -> None:
    nodes = [node("Conv", ["x", "w"], "conv"), node("Relu", ["conv"], "relu")]
    path = save(tmp_path / "m.onnx", nodes, {"x": (FLOAT, ["N", 3, 5, 5])},
                ("relu", ["N", 2, 3, 3]), [weight("w", 2, 3, 3, 3)])  # fmt: skip
    inst = load_instance(path)
    assert inst.network.inputs["x"].seq is None
    assert analyze(inst.network, inst.hardware).layer("conv").parallel == 9


def test_reshape_target_from_a_shape_subgraph(tmp_path: Path) -> None:
    # x.view(x.size(0), -1) as TorchScript writes it: Shape → Gather → Unsqueeze → Concat
    nodes = [
        node("Shape", ["x"], "shape"),
        node("Gather", ["shape", "zero"], "batch", axis=0),
        node("Unsqueeze", ["batch", "axes"], "batch1"),
        node("Concat", ["batch1", "minus1"], "target", axis=0),
        node("Reshape", ["x", "target"], "flat"),
        node("Gemm", ["flat", "w"], "fc", transB=1),
    ]
    inits = [ints("zero", 0), ints("axes", 0), ints("minus1", -1), weight("w", 5, 48)]
    inits[0] = numpy_helper.from_array(np.array(0, np.int64), "zero")  # a scalar index
    path = save(tmp_path / "m.onnx", nodes, {"x": (FLOAT, [1, 3, 4, 4])}, ("fc", [1, 5]), inits)
    assert_same(
        path,
        {"x": {"shape": [3, 4, 4]}},
        [L("flat", "flatten", "x"), L("fc", "linear", "flat", out_features=5, bias=False)],
    )


def test_external_weights_are_never_read(tmp_path: Path) -> None:
    # A 4096 × 8192 weight whose data file is missing: only its dims are read.
    big = TensorProto(name="w", data_type=FLOAT, dims=[8192, 4096])
    big.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "weights.bin"), ("offset", "0"), ("length", "134217728")):
        big.external_data.add(key=key, value=value)
    nodes = [node("Gemm", ["x", "w"], "fc", transB=1), node("Relu", ["fc"], "relu")]
    path = save(tmp_path / "big.onnx", nodes, {"x": (FLOAT, [1, 4096])}, ("relu", [1, 8192]),
                [big])  # fmt: skip
    assert not (tmp_path / "weights.bin").exists()
    fc = analyze(*(lambda i: (i.network, i.hardware))(load_instance(path))).layer("fc")
    assert fc.matrices == ((4096, 8192),) and fc.crossbars == 32 * 512
    # One copy needs 16,384 crossbars: the default budget is the fewest whole chips, 2.
    result = run("solve", path, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["crossbars_budget"] == 2 * 16_128


# --- errors: exit code 2, one line, no traceback ------------------------------------------


def assert_user_error(result, *fragments: str) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    message = result.stderr.strip()
    assert "\n" not in message and message.startswith("error: "), message
    for fragment in fragments:
        assert fragment in message, message
    return message


def small_model(tmp_path: Path, name: str = "small.onnx") -> Path:
    nodes = [
        node("Conv", ["x", "w", "b"], "conv", pads=[1, 1, 1, 1]),
        node("Relu", ["conv"], "relu"),
        node("Flatten", ["relu"], "flat"),
        node("Gemm", ["flat", "wf", "bf"], "fc", transB=1),
    ]
    inits = [weight("w", 4, 3, 3, 3), weight("b", 4), weight("wf", 10, 256), weight("bf", 10)]
    return save(tmp_path / name, nodes, {"x": (FLOAT, [1, 3, 8, 8])}, ("fc", [1, 10]), inits)


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.onnx"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 2000, np.uint8).tobytes())
    assert_user_error(run("analyze", path), "noise.onnx: not a valid ONNX model (")


def test_truncated_file(tmp_path: Path) -> None:
    data = small_model(tmp_path).read_bytes()
    path = tmp_path / "half.onnx"
    path.write_bytes(data[: len(data) // 2])
    assert_user_error(run("analyze", path), "half.onnx: not a valid ONNX model (")
    # Every prefix of a small model fails cleanly, whatever byte it stops at.
    nodes = [node("Conv", ["x", "w"], "conv"), node("Relu", ["conv"], "relu")]
    tiny = save(tmp_path / "tiny.onnx", nodes, {"x": (FLOAT, [1, 2, 3, 3])},
                ("relu", [1, 1, 1, 1]), [weight("w", 1, 2, 3, 3)]).read_bytes()  # fmt: skip
    for cut in range(len(tiny)):
        path.write_bytes(tiny[:cut])
        with pytest.raises(DescriptionError, match=r"half\.onnx: "):
            onnx_to_document(path)


def test_empty_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "empty.onnx").write_bytes(b"")
    assert_user_error(run("analyze", tmp_path / "empty.onnx"), "not a valid ONNX model")
    assert_user_error(run("analyze", tmp_path / "nope.onnx"), "nope.onnx: no such file")


def test_unsupported_op_names_node_op_and_the_supported_list(tmp_path: Path) -> None:
    nodes = [node("Hardmax", ["x"], "attn"), node("Relu", ["attn"], "r")]
    path = save(tmp_path / "m.onnx", nodes, {"x": (FLOAT, [4, 4])}, ("r", [4, 4]))
    message = assert_user_error(
        run("analyze", path), "m.onnx: node 'attn' (Hardmax) is not supported; supported: Conv,"
    )
    assert all(op in message for op in SUPPORTED_OPS)


@pytest.mark.parametrize(
    ("case", "fragment"),
    [
        ("mix", "node 'flat' (Reshape) turns [16, 4, 2, 2] (16×(4×2×2)) into [1, 256]"),
        ("matmul2", "node 'mm' (MatMul) multiplies two activations [16, 4, 2, 2]"),
        ("gather", "node 'pick' (Gather) selects part of an activation"),
        ("batch2", "node 'lstm' (LSTM) has a batch of 2"),
        ("symbolic", "input 'x' has a symbolic dimension 'T' on axis 1"),
        ("pads", "node 'conv' (Conv) has padding [0, 0, 1, 1] that no symmetric padding"),
    ],
)
def test_unmappable_graphs(tmp_path: Path, case: str, fragment: str) -> None:
    x4 = {"x": (FLOAT, [16, 4, 2, 2])}
    build: dict[str, Any] = {
        "mix": ([node("Reshape", ["x", "s"], "flat")], x4, ("flat", [1, 256]), [ints("s", 1, -1)]),
        "concat0": ([node("Concat", ["x", "x"], "cat", axis=0)], x4, ("cat", [32, 4, 2, 2]), []),
        "matmul2": ([node("MatMul", ["x", "x"], "mm")], x4, ("mm", [16, 4, 2, 2]), []),
        "batch2": ([node("LSTM", ["x", "W", "R"], "lstm", hidden_size=3)],
                   {"x": (FLOAT, [5, 2, 4])}, ("lstm", [5, 1, 2, 3]),
                   [weight("W", 1, 12, 4), weight("R", 1, 12, 3)]),
        "symbolic": ([node("Relu", ["x"], "r")], {"x": (FLOAT, ["N", "T", 4])},
                     ("r", ["N", "T", 4]), []),
        "pads": ([node("Conv", ["x", "w"], "conv", pads=[0, 0, 1, 1])], x4,
                 ("conv", [16, 4, 2, 2]), [weight("w", 4, 4, 2, 2)]),
        "gather": ([node("Gather", ["x", "i"], "pick", axis=1)], x4, ("pick", [16, 2, 2, 2]),
                   [numpy_helper.from_array(np.array([0, 1]).astype(np.int64), "i")]),
        "broadcast": ([node("GlobalAveragePool", ["x"], "gap"),
                       node("Mul", ["x", "gap"], "scale")],
                      {"x": (FLOAT, [1, 4, 2, 2])}, ("scale", [1, 4, 2, 2]), []),
    }  # fmt: skip
    nodes, inputs, output, inits = build[case]
    path = save(tmp_path / "m.onnx", nodes, inputs, output, inits)
    assert_user_error(run("analyze", path), fragment)


def test_sequence_concat_feature_gather_and_a_broadcast_scale(tmp_path: Path) -> None:
    """Forms that map since transformers import: Concat on the items axis (sequences
    joined), a Gather of one channel (a feature slice), and a squeeze-and-excitation
    scale (x · its global average, (C, 1, 1) over (C, H, W): a broadcasting mul)."""
    x4 = {"x": (FLOAT, [16, 4, 2, 2])}
    cat = save(tmp_path / "cat.onnx", [node("Concat", ["x", "x"], "cat", axis=0)], x4,
               ("cat", [32, 4, 2, 2]), [])  # fmt: skip
    layer = load_instance(cat).network.layer("cat")
    assert (layer.op, layer.attrs["axis"], layer.shape.items) == ("concat", "seq", 32)
    pick = save(tmp_path / "pick.onnx", [node("Gather", ["x", "i"], "pick", axis=1)], x4,
                ("pick", [16, 2, 2]), [numpy_helper.from_array(np.array(1, np.int64), "i")])  # fmt: skip
    layer = load_instance(pick).network.layer("pick")
    assert (layer.op, layer.attrs["start"], layer.attrs["stop"]) == ("slice", 4, 8)
    nodes = [node("GlobalAveragePool", ["x"], "gap"), node("Mul", ["x", "gap"], "scale")]
    se = save(
        tmp_path / "se.onnx", nodes, {"x": (FLOAT, [1, 4, 2, 2])}, ("scale", [1, 4, 2, 2]), []
    )
    layer = load_instance(se).network.layer("scale")
    assert layer.op == "mul" and layer.inputs == ("x", "gap")


# --- hitm import ------------------------------------------------------------------------


def test_import_writes_yaml_that_reads_back_to_the_same_analysis(tmp_path: Path) -> None:
    model = small_model(tmp_path)
    out = tmp_path / "small.yaml"
    result = run("import", model, "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and f"wrote {out}" in result.stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Imported by `hitm import` from ONNX model small.onnx")
    assert "  - {name: conv, op: conv2d, input: x, out_channels: 4, kernel: 3, padding: 1}" in text
    back = load_instance(out)
    assert rows(back) == rows(load_instance(model))
    assert back.budget.chips == 1
    # the same analysis through the CLI, from either file
    a, b = run("analyze", model, "--json"), run("analyze", out, "--json")
    assert json.loads(a.stdout)["layers"] == json.loads(b.stdout)["layers"]


def test_import_to_stdout_with_a_budget(tmp_path: Path) -> None:
    result = run("import", small_model(tmp_path), "--crossbars", 40)
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load(result.stdout)
    assert doc["budget"] == {"crossbars": 40}
    assert [layer["op"] for layer in doc["network"]["layers"]] == [
        "conv2d", "relu", "flatten", "linear"
    ]  # fmt: skip


def test_import_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    model = small_model(tmp_path)
    out = tmp_path / "out.yaml"
    out.write_text("keep me\n")
    assert_user_error(run("import", model, "-o", out), "out.yaml: already exists (use --force")
    assert out.read_text() == "keep me\n"
    result = run("import", model, "-o", out, "--force")
    assert result.exit_code == 0, result.output
    assert load_instance(out).network.layer("fc").op == "linear"


def test_import_error_writes_nothing(tmp_path: Path) -> None:
    nodes = [node("Hardmax", ["x"], "attn")]
    path = save(tmp_path / "m.onnx", nodes, {"x": (FLOAT, [4, 4])}, ("attn", [4, 4]))
    assert_user_error(run("import", path, "-o", tmp_path / "out.yaml"), "(Hardmax)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]
    yaml_file = tmp_path / "net.yaml"
    yaml_file.write_text("network: {}\n")
    assert_user_error(run("import", yaml_file), "import reads an ONNX model (.onnx)")


def test_solve_and_budget_flags_on_an_onnx_file(tmp_path: Path) -> None:
    model = small_model(tmp_path)
    default = json.loads(run("solve", model, "--json").stdout)
    assert default["crossbars_budget"] == 16_128  # the fewest whole chips: 1
    small = run("solve", model, "--crossbars", 10, "--json")
    assert small.exit_code == 0, small.output
    assert json.loads(small.stdout)["crossbars_budget"] == 10


# --- models exported from PyTorch (tests/data/README.md) --------------------------------


def analyze_json(path: Path) -> dict[str, Any]:
    result = run("analyze", path, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# Hand-computed MACs (positions × K × N; embedding: dim per lookup; LSTM: steps × 4H × (F+H)).
CAPTIONER_MACS = (
    32 * 32 * 27 * 8  # conv1 3→8 k3 p1 on 32×32
    + 16 * 16 * 36 * 16  # conv2 8→16 k3 dilation 2 groups 2 on 16×16 (after the pool)
    + 16 * 32  # img_proj
    + 12 * 32  # embedding, 12 tokens
    + 12 * 4 * 32 * (32 + 32)  # LSTM, 12 steps
    + 12 * 32 * 50  # logits per step
)
RESNET_MACS = (
    32 * 32 * 147 * 8  # conv1 7×7 s2 on 64×64
    + 2 * 16 * 16 * 72 * 8  # layer1 conv1, conv2 on 16×16
    + 8 * 8 * 8 * 16  # layer2 downsample 1×1 s2
    + 8 * 8 * 72 * 16  # layer2 conv1 s2
    + 8 * 8 * 144 * 16  # layer2 conv2
    + 16 * 10  # fc
)
VIDEO_MACS = (
    8 * 16 * 16 * 27 * 8  # conv 3→8 s2 on 8 frames of 32×32
    + 8 * 8 * 8 * 72 * 16  # conv 8→16 on 8×8
    + 8 * 2 * 3 * 24 * (16 + 24)  # bidirectional GRU, 8 steps
    + 8 * 48 * 5  # classifier per step
)


@pytest.mark.parametrize(
    ("file", "params", "macs", "crossbars"),
    [
        # TorchScript exporter, constant folding off: batch norm kept; PyTorch: 13,066 params
        ("captioner.onnx", 13_066, CAPTIONER_MACS, 27),
        # torch.onnx.export's defaults fold bn1 (γ, β: 16) into a conv1 bias (8)
        ("captioner_dynamo.onnx", 13_066 - 16 + 8, CAPTIONER_MACS, 27),
        # PyTorch: 6,226 params; 6 batch norms over 72 channels fold to 72 conv biases
        ("resnet_blocks.onnx", 6_226 - 2 * 72 + 72, RESNET_MACS, 9),
        # PyTorch: 7,685 params (no batch norm)
        ("video_gru.onnx", 7_685, VIDEO_MACS, 23),
    ],
)
def test_pytorch_exports_analyze(file: str, params: int, macs: int, crossbars: int) -> None:
    totals = analyze_json(DATA / file)["totals"]
    assert (totals["params"], totals["macs"], totals["crossbars"]) == (params, macs, crossbars)


def test_pytorch_captioner_layers() -> None:
    layers = {d["name"]: d for d in analyze_json(DATA / "captioner.onnx")["layers"]}
    assert layers["conv1"]["parallel"] == 32 * 32
    assert layers["embed"]["parallel"] == 12 and layers["embed"]["shape"] == [12, 32]
    assert (layers["lstm"]["steps"], layers["lstm"]["parallel"]) == (12, 1)
    assert layers["logits"]["parallel"] == 12
    assert layers["bn1"]["params"] == 16
    inst = load_instance(DATA / "captioner.onnx")
    # h0 = img_proj(...).unsqueeze(0): the image seeds the LSTM's state
    assert inst.network.layer("lstm").attrs["init"] == "Unsqueeze"


def test_pytorch_video_frames_become_gru_steps() -> None:
    layers = {d["name"]: d for d in analyze_json(DATA / "video_gru.onnx")["layers"]}
    assert layers["features.0"]["parallel"] == 8 * 16 * 16
    assert (layers["gru"]["steps"], layers["gru"]["shape"]) == (8, [8, 48])
    assert layers["classifier"]["parallel"] == 8


@pytest.mark.parametrize(
    ("text", "damaged"),
    [
        (b'\x1a\x08/gru/GRU"', b'\x1a\x08/gru/G\xffU"'),  # field 3 of a node: its name
        (b"\x1a\x062.13.0", b"\x1a\x06\xb2.13.0"),  # field 3 of the model: producer_version
    ],
)
def test_a_name_that_is_not_utf8_text_is_not_a_valid_model(tmp_path, text, damaged) -> None:
    """One byte of a string made invalid UTF-8 keeps the protobuf framing (same length) and
    passes onnx.checker, but protobuf returns the string as bytes: refused, not a
    TypeError deep in the import (both found by the fuzz campaign)."""
    data = (DATA / "video_gru.onnx").read_bytes()
    assert data.count(text) == 1
    path = tmp_path / "damaged.onnx"
    path.write_bytes(data.replace(text, damaged))
    result = CliRunner().invoke(app, ["import", str(path)])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"error: {path}: not a valid ONNX model"
        " (a name, op type or string attribute is not UTF-8 text)"
    )


def test_a_zero_pad_folds_into_the_next_conv_or_pool(tmp_path: Path) -> None:
    """``nn.ZeroPad2d(1)`` before a 3×3 conv without padding is a conv with padding 1;
    a reflecting Pad, or one read by anything else, is refused by name."""
    nodes = [
        node("Pad", ["x", "p"], "pad"),
        node("Conv", ["pad", "w"], "conv"),
        node("Pad", ["conv", "p"], "pad2"),
        node("MaxPool", ["pad2"], "pool", kernel_shape=[3, 3], strides=[2, 2]),
    ]
    inits = [ints("p", 0, 0, 1, 1, 0, 0, 1, 1), weight("w", 4, 3, 3, 3)]
    path = save(tmp_path / "m.onnx", nodes, {"x": (FLOAT, [1, 3, 8, 8])}, ("pool", [1, 4, 4, 4]),
                inits)  # fmt: skip
    net = load_instance(path).network
    assert net.layer("conv").attrs["padding"] == (1, 1)
    assert net.layer("pool").attrs["padding"] == (1, 1)
    assert [layer.name for layer in net.layers] == ["conv", "pool"]
    nodes[0] = node("Pad", ["x", "p"], "pad", mode="reflect")
    path = save(tmp_path / "r.onnx", nodes, {"x": (FLOAT, [1, 3, 8, 8])}, ("pool", [1, 4, 4, 4]),
                inits)  # fmt: skip
    assert_user_error(run("analyze", path), "node 'pad' (Pad) pads other than with zeros")


def test_lrn_is_hitms_lrn() -> None:
    """ONNX's LRN (AlexNet and GoogLeNet exports carry it; PyTorch writes its own
    LocalResponseNorm out) is an ``lrn`` of the same size: digital work, no weights.
    tests/data/transformers/lrn.onnx: a conv 3→4 and an LRN of size 5, written by
    tests/data/export_onnx_transformers.py with onnx.helper."""
    path = Path(__file__).parent / "data" / "transformers" / "lrn.onnx"
    layer = load_instance(path).network.layer("norm")
    assert (layer.op, layer.attrs["size"], layer.inputs) == ("lrn", 5, ("conv",))
