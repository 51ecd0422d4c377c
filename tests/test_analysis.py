"""Static analysis: params, MACs, crossbars, steps and parallel work.

Golden numbers come from MODELS.md (torchvision and BVLC figures) and from
hand-worked examples of the DESIGN.md formulas on the ISAAC preset.
"""

from __future__ import annotations

from typing import Any

import pytest
from helpers import INSTANCES

from hitm.analysis import Analysis, analyze, busy_ps
from hitm.description.load import load_instance, parse_instance


def analysis_of(name: str) -> Analysis:
    instance = load_instance(INSTANCES / f"{name}.yaml")
    return analyze(instance.network, instance.hardware)


def analysis_from(
    inputs: dict[str, Any],
    layers: list[dict[str, Any]],
    hardware: dict[str, Any] | None = None,
    feedback: list[dict[str, Any]] | None = None,
) -> Analysis:
    network: dict[str, Any] = {"inputs": inputs, "layers": layers}
    if feedback:
        network["feedback"] = feedback
    doc: dict[str, Any] = {"network": network}
    if hardware:
        doc["hardware"] = hardware
    instance = parse_instance(doc)
    return analyze(instance.network, instance.hardware)


# --- published figures (MODELS.md) ------------------------------------------

# MODELS.md "VGG-16 (torchvision cfg D)": layer -> (params, MACs)
VGG16 = {
    "conv1_1": (1_792, 86_704_128),
    "conv1_2": (36_928, 1_849_688_064),
    "conv2_1": (73_856, 924_844_032),
    "conv2_2": (147_584, 1_849_688_064),
    "conv3_1": (295_168, 924_844_032),
    "conv3_2": (590_080, 1_849_688_064),
    "conv3_3": (590_080, 1_849_688_064),
    "conv4_1": (1_180_160, 924_844_032),
    "conv4_2": (2_359_808, 1_849_688_064),
    "conv4_3": (2_359_808, 1_849_688_064),
    "conv5_1": (2_359_808, 462_422_016),
    "conv5_2": (2_359_808, 462_422_016),
    "conv5_3": (2_359_808, 462_422_016),
    "fc6": (102_764_544, 102_760_448),
    "fc7": (16_781_312, 16_777_216),
    "fc8": (4_097_000, 4_096_000),
}
# MODELS.md "AlexNet (torchvision)"
ALEXNET = {
    "conv1": (23_296, 70_276_800),
    "conv2": (307_392, 223_948_800),
    "conv3": (663_936, 112_140_288),
    "conv4": (884_992, 149_520_384),
    "conv5": (590_080, 99_680_256),
    "fc6": (37_752_832, 37_748_736),
    "fc7": (16_781_312, 16_777_216),
    "fc8": (4_097_000, 4_096_000),
}
# MODELS.md "CaffeNet (BVLC reference)"; fc6-fc8 "as AlexNet"
CAFFENET = {
    "conv1": (34_944, 105_415_200),
    "conv2": (307_456, 223_948_800),
    "conv3": (885_120, 149_520_384),
    "conv4": (663_936, 112_140_288),
    "conv5": (442_624, 74_760_192),
    "fc6": (37_752_832, 37_748_736),
    "fc7": (16_781_312, 16_777_216),
    "fc8": (4_097_000, 4_096_000),
}
# MODELS.md tables: (params, MACs) of the whole network
TOTALS = {
    "vgg16": (138_357_544, 15_470_264_320),
    "alexnet": (61_100_840, 714_188_480),
    "caffenet": (60_965_224, 724_406_816),
}
TABLES = {"vgg16": VGG16, "alexnet": ALEXNET, "caffenet": CAFFENET}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_per_layer_params_and_macs_match_models_md(name: str) -> None:
    analysis = analysis_of(name)
    got = {layer.name: (layer.params, layer.macs) for layer in analysis.weight_layers}
    assert got == TABLES[name]


@pytest.mark.parametrize("name", sorted(TOTALS))
def test_totals_match_models_md(name: str) -> None:
    totals = analysis_of(name).totals
    assert (totals["params"], totals["macs"]) == TOTALS[name]
    # Weightless layers (ReLU, pooling, LRN, dropout, softmax) add nothing.
    assert totals["weight_layers"] == len(TABLES[name])


def test_caffenet_shapes_follow_ceil_mode_pooling() -> None:
    # deploy.prototxt: 227 -> conv1 55 -> pool1 27 -> conv2 27 -> pool2 13 -> pool5 6
    analysis = analysis_of("caffenet")
    shapes = {layer.name: layer.shape.dims for layer in analysis.layers}
    assert shapes["conv1"] == (96, 55, 55)
    assert shapes["pool1"] == (96, 27, 27)
    assert shapes["pool2"] == (256, 13, 13)
    assert shapes["pool5"] == (256, 6, 6)
    assert shapes["flatten"] == (9216,)


# --- recurrent layers (MODELS.md "Recurrent layers") ------------------------


def recurrent(op: str, **attrs: Any) -> Analysis:
    return analysis_from(
        {"x": {"shape": [512], "seq": 10}},
        [{"name": "r", "op": op, "input": "x", "hidden": 512, **attrs}],
    )


def test_pytorch_lstm_512_params() -> None:
    # MODELS.md: PyTorch LSTM(512, 512) = 4H(I+H) + 8H = 2,097,152 + 4,096
    r = recurrent("lstm").layer("r")
    assert r.params == 2_101_248
    assert r.matrices == ((512, 2048), (512, 2048))
    # 10 time steps of 4H(I+H) = 2,097,152 MACs each
    assert r.macs == 10 * 2_097_152


def test_lstm_with_one_bias_vector_counts_caffe_style() -> None:
    # Caffe/TensorFlow keep 4H biases: 2,097,152 + 2,048
    assert recurrent("lstm", bias_vectors=1).layer("r").params == 2_099_200


def test_pytorch_gru_512_params() -> None:
    # MODELS.md: PyTorch GRU(512, 512) = 3H(I+H) + 6H = 1,572,864 + 3,072
    r = recurrent("gru").layer("r")
    assert r.params == 1_575_936
    assert r.matrices == ((512, 1536), (512, 1536))


def test_pytorch_rnn_512_params() -> None:
    # torch.nn.RNN(512, 512): H(I+H) + 2H = 524,288 + 1,024
    assert recurrent("rnn").layer("r").params == 525_312


def test_bidirectional_lstm_doubles_matrices_and_params() -> None:
    one = recurrent("lstm").layer("r")
    two = recurrent("lstm", bidirectional=True).layer("r")
    assert two.matrices == one.matrices * 2
    assert two.params == 2 * 2_101_248
    assert two.macs == 2 * one.macs
    assert two.crossbars == 2 * one.crossbars == 2 * (512 + 512)
    assert two.shape.dims == (1024,)
    # Both directions run concurrently: same steps and busy time as one direction.
    assert (two.steps, two.parallel) == (one.steps, one.parallel) == (10, 1)


# --- crossbars and timing, hand-worked from DESIGN.md -----------------------


def test_vgg16_worked_numbers() -> None:
    analysis = analysis_of("vgg16")
    conv = analysis.layer("conv1_1")
    # 3·3·3 = 27 rows × 64 outputs: ceil(27/128) × ceil(64·8/128) = 1 × 4
    assert conv.matrices == ((27, 64),)
    assert conv.crossbars == 4
    assert (conv.steps, conv.parallel) == (1, 224 * 224) == (1, 50_176)
    # naive busy: 50,176 MVMs × 1.6 µs = 80.28 ms
    assert conv.busy_ps(1) == 80_281_600_000
    fc6 = analysis.layer("fc6")
    # 25,088 × 4,096: ceil(25088/128) × ceil(4096·8/128) = 196 × 256
    assert fc6.matrices == ((25_088, 4_096),)
    assert fc6.crossbars == 196 * 256 == 50_176
    assert (fc6.steps, fc6.parallel, fc6.busy_ps(1)) == (1, 1, 1_600_000)
    # vgg16.yaml header: one copy of everything = 67,576 crossbars
    assert analysis.totals["crossbars"] == 67_576


def test_busy_formula() -> None:
    assert busy_ps(1, 50_176, 1, 1_600_000) == 80_281_600_000
    assert busy_ps(1, 50_176, 3, 1_600_000) == 16_726 * 1_600_000  # ceil(50176/3)


def linear_128_to_100(hardware: dict[str, Any] | None = None, bias: bool = False) -> int:
    analysis = analysis_from(
        {"x": {"shape": [128]}},
        [{"name": "fc", "op": "linear", "input": "x", "out_features": 100, "bias": bias}],
        hardware,
    )
    return analysis.layer("fc").crossbars


def test_slice_layout_encoding_and_bias_row() -> None:
    # A 128 × 100 matrix, 8 two-bit slices per 16-bit weight.
    # packed: ceil(128/128) × ceil(100·8/128) = 1 × ceil(6.25) = 7
    assert linear_128_to_100() == 7
    # split: 8 slices × ceil(128/128) × ceil(100/128) = 8 × 1 × 1 = 8
    assert linear_128_to_100({"slice_layout": "split"}) == 8
    # differential doubles the slices (16): packed 1 × ceil(1600/128) = 13
    assert linear_128_to_100({"weight_encoding": "differential"}) == 13
    # ... and split 16 × 1 × 1 = 16
    hw = {"weight_encoding": "differential", "slice_layout": "split"}
    assert linear_128_to_100(hw) == 16
    # bias_row: the bias takes row 129, a second row block: 2 × 7 = 14
    assert linear_128_to_100({"bias_row": True}, bias=True) == 14
    # ... but only for layers that have a bias; digital biases cost nothing
    assert linear_128_to_100({"bias_row": True}, bias=False) == 7
    assert linear_128_to_100(bias=True) == 7


def test_split_layout_on_vgg_conv1_1() -> None:
    analysis = analysis_from(
        {"image": {"shape": [3, 224, 224]}},
        [{"name": "c", "op": "conv2d", "input": "image", "out_channels": 64, "kernel": 3}],
        {"slice_layout": "split"},
    )
    # 8 × ceil(27/128) × ceil(64/128) = 8, twice the packed layout's 4
    assert analysis.layer("c").crossbars == 8


# --- shapes and work of individual ops ---------------------------------------


def test_grouped_conv_maps_one_matrix_per_group() -> None:
    # CaffeNet conv2: 96 → 256, k5, groups 2: 2 × (5·5·48 = 1200 rows × 128 cols)
    conv2 = analysis_of("caffenet").layer("conv2")
    assert conv2.matrices == ((1_200, 128),) * 2
    # each: ceil(1200/128) × ceil(128·8/128) = 10 × 8
    assert conv2.crossbars == 2 * 10 * 8
    small = analysis_from(
        {"x": {"shape": [8, 6, 6]}},
        [{"name": "g", "op": "conv2d", "input": "x", "out_channels": 8, "kernel": 3, "groups": 4}],
    ).layer("g")
    # 4 × (3·3·2 = 18 rows × 2 cols); params 18 × 8 + 8 biases; 4×4 outputs
    assert small.matrices == ((18, 2),) * 4
    assert small.crossbars == 4
    assert small.params == 152
    assert small.macs == 16 * 18 * 8


def test_dilated_conv_output_shape() -> None:
    analysis = analysis_from(
        {"x": {"shape": [3, 8, 8]}},
        [
            # span 2·(3−1)+1 = 5: 8 − 5 + 1 = 4
            {"name": "d", "op": "conv2d", "input": "x", "out_channels": 4, "kernel": 3,
             "dilation": 2},
            # padding 2 restores 8: (8 + 4 − 5) + 1
            {"name": "p", "op": "conv2d", "input": "x", "out_channels": 4, "kernel": 3,
             "dilation": 2, "padding": 2},
        ],
    )  # fmt: skip
    assert analysis.layer("d").shape.dims == (4, 4, 4)
    assert analysis.layer("d").parallel == 16
    assert analysis.layer("d").macs == 16 * 27 * 4
    assert analysis.layer("p").shape.dims == (4, 8, 8)


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "ceil_mode", "out"),
    [
        (55, 3, 2, 0, True, 27),  # CaffeNet pool1
        (13, 3, 2, 0, True, 6),  # CaffeNet pool5
        (56, 3, 2, 0, False, 27),  # floor((56 − 3)/2) + 1
        (56, 3, 2, 0, True, 28),  # ceil((56 − 3)/2) + 1
        # ceil gives 4, but the 4th window would start in the padding (PyTorch drops it)
        (5, 2, 2, 1, True, 3),
    ],
)
def test_pool_output_shape(
    size: int, kernel: int, stride: int, padding: int, ceil_mode: bool, out: int
) -> None:
    analysis = analysis_from(
        {"x": {"shape": [2, size, size]}},
        [
            {"name": "pool", "op": "maxpool", "input": "x", "kernel": kernel, "stride": stride,
             "padding": padding, "ceil_mode": ceil_mode},
        ],
    )  # fmt: skip
    pool = analysis.layer("pool")
    assert pool.shape.dims == (2, out, out)
    assert (pool.crossbars, pool.params, pool.macs, pool.steps) == (0, 0, 0, 0)
    assert pool.elements == 2 * out * out


def test_seq_multiplies_parallel_work_and_sets_recurrent_steps() -> None:
    analysis = analysis_from(
        {"frames": {"shape": [3, 16, 16], "seq": 8}},
        [
            {"name": "conv", "op": "conv2d", "input": "frames", "out_channels": 8, "kernel": 3,
             "padding": 1},
            {"name": "gap", "op": "global_avgpool", "input": "conv"},
            {"name": "flat", "op": "flatten", "input": "gap"},
            {"name": "fc", "op": "linear", "input": "flat", "out_features": 32},
            {"name": "lstm", "op": "lstm", "input": "fc", "hidden": 32, "return": "last"},
            {"name": "out", "op": "linear", "input": "lstm", "out_features": 5},
        ],
    )  # fmt: skip
    conv = analysis.layer("conv")
    assert conv.shape.seq == 8
    assert (conv.steps, conv.parallel) == (1, 8 * 16 * 16)
    assert conv.macs == 8 * 16 * 16 * 27 * 8
    assert (analysis.layer("fc").steps, analysis.layer("fc").parallel) == (1, 8)
    lstm = analysis.layer("lstm")
    assert (lstm.steps, lstm.parallel) == (8, 1)
    assert lstm.busy_ps(1) == 8 * 1_600_000
    assert lstm.shape.seq is None  # return: last
    assert (analysis.layer("out").steps, analysis.layer("out").parallel) == (1, 1)


def test_embedding_uses_one_hot_mvm() -> None:
    analysis = analysis_from(
        {"tokens": {"shape": [1], "seq": 12}},
        [{"name": "emb", "op": "embedding", "input": "tokens", "vocab": 1000, "dim": 128}],
    )
    emb = analysis.layer("emb")
    assert emb.params == 128_000
    assert emb.mvm_ps == 100_000
    assert (emb.steps, emb.parallel) == (1, 12)
    # 1000 × 128: ceil(1000/128) × ceil(128·8/128) = 8 × 8
    assert emb.crossbars == 64


def test_loop_members_run_once_per_decoder_step() -> None:
    analysis = analysis_of("captioner")
    for name in ("embed", "lstm", "logits"):
        layer = analysis.layer(name)
        assert layer.loop == "loop:embed..word"
        assert (layer.steps, layer.parallel) == (20, 1)
    # per step 4H(I+H) = 2,097,152 MACs; 20 steps
    assert analysis.layer("lstm").macs == 20 * 2_097_152
    assert analysis.layer("img_proj").loop is None
