"""Built-in backbones: torchvision's totals, truncation, names and errors.

Golden numbers. ``num_params`` and GFLOPS are torchvision's published weights
metadata (``torchvision/models/*.py``: ``num_params``, ``_ops``; the "GFLOPS"
are MACs of conv and linear layers, in billions, 3 decimals). The exact MAC
and parameter counts were computed with torch 2.14.1 and torchvision 0.29.1
(``weights=None``, eval mode, one 3×224×224 image; Inception-v3 at 299×299;
``aux_logits=False`` for GoogLeNet and Inception-v3): forward hooks on every
``Conv2d`` (MACs = Cout·Hout·Wout·Cin/groups·kh·kw) and ``Linear`` (in·out),
params = ``sum(p.numel())``. AlexNet, VGG-16 and ResNet-50 also match MODELS.md;
CaffeNet is MODELS.md's BVLC figure.
"""

from __future__ import annotations

from typing import Any

import pytest
from helpers import INSTANCES

from hitm.analysis import Analysis, analyze
from hitm.description.backbones import BACKBONES, backbone_layers, backbone_outputs
from hitm.description.load import load_instance, parse_instance
from hitm.errors import DescriptionError

# name: (params, MACs) exact, counted as the module docstring says
EXACT = {
    "alexnet": (61_100_840, 714_188_480),
    "caffenet": (60_965_224, 724_406_816),  # MODELS.md (BVLC reference, 227×227)
    "vgg11": (132_863_336, 7_609_090_048),
    "vgg13": (133_047_848, 11_308_466_176),
    "vgg16": (138_357_544, 15_470_264_320),
    "vgg19": (143_667_240, 19_632_062_464),
    "vgg16_bn": (138_365_992, 15_470_264_320),
    "vgg19_bn": (143_678_248, 19_632_062_464),
    "googlenet": (6_624_904, 1_498_376_192),
    "inception_v3": (23_834_568, 5_713_216_096),
    "resnet18": (11_689_512, 1_814_073_344),
    "resnet34": (21_797_672, 3_663_761_408),
    "resnet50": (25_557_032, 4_089_184_256),
    "resnet101": (44_549_160, 7_801_405_440),
    "resnet152": (60_192_808, 11_513_626_624),
    "mobilenet_v2": (3_504_872, 300_774_272),
    # ViTs: MACs include the two attention products per layer, as torchvision's _ops
    # (MODELS.md); worked by hand in tests/test_transformers.py and equal to PyTorch's
    # FlopCounterMode (tests/data/count_transformers.py).
    "vit_b_16": (86_567_656, 17_563_828_224),
    "vit_b_32": (88_224_232, 4_409_186_304),
    "vit_l_16": (304_326_632, 61_554_712_576),
}
# name: (num_params, GFLOPS) as torchvision publishes them
PUBLISHED = {
    "alexnet": (61_100_840, 0.714),
    "vgg11": (132_863_336, 7.609),
    "vgg13": (133_047_848, 11.308),
    "vgg16": (138_357_544, 15.470),
    "vgg19": (143_667_240, 19.632),
    "vgg16_bn": (138_365_992, 15.470),
    "vgg19_bn": (143_678_248, 19.632),
    "googlenet": (6_624_904, 1.498),
    "inception_v3": (27_161_264, 5.713),  # num_params includes the AuxLogits head
    "resnet18": (11_689_512, 1.814),
    "resnet34": (21_797_672, 3.664),
    "resnet50": (25_557_032, 4.089),
    "resnet101": (44_549_160, 7.801),
    "resnet152": (60_192_808, 11.514),
    "mobilenet_v2": (3_504_872, 0.301),
    "vit_b_16": (86_567_656, 17.564),
    "vit_b_32": (88_224_232, 4.409),
    "vit_l_16": (304_326_632, 61.555),
}
INCEPTION_V3_AUX_PARAMS = 3_326_696  # torchvision's AuxLogits module (training only)


def network_doc(name: str, shape: list[int] | None = None, **entry: Any) -> dict[str, Any]:
    shape = shape or list(BACKBONES[name].input_shape)
    layer = {"name": "net", "backbone": name, "input": "image", **entry}
    return {"network": {"inputs": {"image": {"shape": shape}}, "layers": [layer]}}


def analysis_of(name: str, shape: list[int] | None = None, **entry: Any) -> Analysis:
    inst = parse_instance(network_doc(name, shape, **entry))
    return analyze(inst.network, inst.hardware)


def problems(doc: dict[str, Any]) -> tuple[str, ...]:
    with pytest.raises(DescriptionError) as err:
        parse_instance(doc)
    return err.value.problems


# --- totals -------------------------------------------------------------------


def test_every_backbone_is_pinned():
    assert set(EXACT) == set(BACKBONES)


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_totals_exact(name):
    totals = analysis_of(name).totals
    assert (totals["params"], totals["macs"]) == EXACT[name]


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_exact_counts_round_to_published(name):
    params, macs = EXACT[name]
    published_params, gflops = PUBLISHED[name]
    assert round(macs / 1e9, 3) == gflops
    aux = INCEPTION_V3_AUX_PARAMS if name == "inception_v3" else 0
    assert params + aux == published_params


@pytest.mark.parametrize(
    ("name", "size", "macs"),
    [  # torchvision at other input sizes (same counting); params do not change
        ("resnet50", 320, 8_343_142_400),
        ("inception_v3", 342, 7_283_565_952),
        ("mobilenet_v2", 160, 154_083_200),
        ("googlenet", 320, 3_056_844_800),
    ],
)
def test_other_input_sizes(name, size, macs):
    totals = analysis_of(name, [3, size, size]).totals
    assert (totals["params"], totals["macs"]) == (EXACT[name][0], macs)


@pytest.mark.parametrize(
    ("name", "file"),
    [
        ("vgg16", "vgg16"),
        ("vgg19", "vgg19"),
        ("alexnet", "alexnet"),
        ("caffenet", "caffenet"),
        ("googlenet", "googlenet"),
        ("inception_v3", "inception_v3"),
        ("resnet18", "resnet18"),
        ("resnet50", "resnet50"),
        ("resnet152", "resnet152"),
        ("mobilenet_v2", "mobilenet_v2"),
    ],
)
def test_instance_files(name, file):
    inst = load_instance(INSTANCES / f"{file}.yaml")
    totals = analyze(inst.network, inst.hardware).totals
    assert (totals["params"], totals["macs"]) == EXACT[name]


@pytest.mark.parametrize("name", ["vgg16", "alexnet", "caffenet"])
def test_same_layers_as_hand_written_instances(name):
    """The backbone and the hand-written instance map the same matrices, layer by layer."""
    hand = load_instance(INSTANCES / f"{name}.yaml")
    ours = analysis_of(name)
    theirs = analyze(hand.network, hand.hardware)
    assert {f"net.{x.name}": (x.matrices, x.parallel) for x in theirs.weight_layers} == {
        x.name: (x.matrices, x.parallel) for x in ours.weight_layers
    }


# --- structure ----------------------------------------------------------------


def test_layer_names_and_output():
    inst = parse_instance(network_doc("vgg16", until="fc7"))
    names = [layer.name for layer in inst.network.layers]
    assert names[:3] == ["net.conv1_1", "net.relu1_1", "net.conv1_2"]
    assert names[-2:] == ["net.fc7", "net"]
    out = inst.network.layer("net")
    assert (out.op, out.inputs) == ("identity", ("net.fc7",))


@pytest.mark.parametrize(
    ("name", "until", "dims"),
    [
        ("vgg16", "fc7", (4096,)),
        ("vgg16", "relu7", (4096,)),
        ("vgg19", "relu5_4", (512, 14, 14)),
        ("alexnet", "pool5", (256, 6, 6)),
        ("caffenet", "fc8", (1000,)),
        ("inception_v3", "avgpool", (2048, 1, 1)),
        ("inception_v3", "flatten", (2048,)),
        ("inception_v3", "Mixed_6e", (768, 17, 17)),
        ("resnet50", "avgpool", (2048, 1, 1)),
        ("resnet50", "flatten", (2048,)),
        ("resnet18", "layer4.1", (512, 7, 7)),
        ("googlenet", "inception5b", (1024, 7, 7)),
        ("mobilenet_v2", "features.18", (1280, 7, 7)),
        ("mobilenet_v2", "features.13", (96, 14, 14)),
    ],
)
def test_until_shapes(name, until, dims):
    inst = parse_instance(network_doc(name, until=until))
    assert inst.network.layer("net").shape.dims == dims


def test_until_drops_the_rest():
    full = EXACT["vgg16"][1]
    fc7 = analysis_of("vgg16", until="fc7").totals["macs"]
    assert full - fc7 == 4096 * 1000  # fc8 alone
    resnet = analysis_of("resnet50", until="flatten").totals["macs"]
    assert EXACT["resnet50"][1] - resnet == 2048 * 1000  # fc alone


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_every_until_point_is_a_clean_cut(name):
    """Cutting at a valid point keeps exactly the layers before it: nothing dangles."""
    full = [layer["name"] for layer in backbone_layers(name, "p", "x")][:-1]
    for cut in backbone_outputs(name):
        kept = [layer["name"] for layer in backbone_layers(name, "p", "x", cut)]
        assert kept[:-1] == full[: full.index(f"p.{cut}") + 1]
        assert kept[-1] == "p"


def test_later_layers_read_the_backbone():
    doc = network_doc("resnet18", until="avgpool")
    doc["network"]["layers"] += [
        {"name": "feature", "op": "flatten", "input": "net"},
        {"name": "proj", "op": "linear", "input": "feature", "out_features": 256},
    ]
    inst = parse_instance(doc)
    assert inst.network.layer("proj").input_shapes[0].dims == (512,)


def test_sequence_input_runs_per_frame():
    doc = network_doc("alexnet", until="fc7")
    doc["network"]["inputs"]["image"]["seq"] = 4
    inst = parse_instance(doc)
    demand = analyze(inst.network, inst.hardware).layer("net.conv1")
    assert demand.parallel == 4 * 55 * 55
    assert inst.network.layer("net").shape.seq == 4


# --- errors -------------------------------------------------------------------


def test_unknown_backbone_names_path_and_closest():
    doc = network_doc("resnet50")
    doc["network"]["layers"][0]["backbone"] = "resnet5"
    (msg,) = problems(doc)
    assert msg.startswith("network.layers[0] (net).backbone: unknown backbone 'resnet5'")
    assert "did you mean 'resnet50'?" in msg


def test_unknown_until_suggests_and_lists():
    (msg,) = problems(network_doc("vgg16", until="fc_7"))
    assert msg.startswith("network.layers[0] (net).until: 'fc_7' is not an output of vgg16")
    assert "did you mean 'fc7'?" in msg
    assert "valid: conv1_1, relu1_1" in msg


def test_until_list_folds_numbered_blocks():
    (msg,) = problems(network_doc("resnet152", until="layer4"))
    assert "did you mean 'layer4.0'?" in msg or "did you mean 'layer4.2'?" in msg
    assert "layer3.0 … layer3.35" in msg


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"unti": "fc7"},
            "network.layers[0] (net).unti: unknown field for a backbone entry (did you mean 'until'?)",
        ),
        ({"op": "conv2d"}, "network.layers[0] (net): give either 'op' or 'backbone', not both"),
        ({"input": None}, "network.layers[0] (net).input: missing"),
    ],
)
def test_bad_entries(change, expected):
    doc = network_doc("vgg16")
    doc["network"]["layers"][0].update(change)
    if change.get("input", "") is None:
        del doc["network"]["layers"][0]["input"]
    assert any(p.startswith(expected) for p in problems(doc))


def test_wrong_channels():
    (msg,) = problems(network_doc("resnet50", [1, 224, 224]))
    assert msg == (
        "network.layers[0] (net).input: resnet50 takes 3 channels (3×224×224 published),"
        " 'image' gives (1×224×224)"
    )


def test_name_clash_with_expanded_layers():
    doc = network_doc("alexnet")
    doc["network"]["layers"].append({"name": "net.fc8", "op": "relu", "input": "net"})
    assert any("duplicate layer name 'net.fc8'" in p for p in problems(doc))


def test_api_errors():
    with pytest.raises(DescriptionError, match="did you mean 'googlenet'"):
        backbone_layers("googlenet2", "enc", "image")
    with pytest.raises(DescriptionError, match="did you mean 'avgpool'"):
        backbone_layers("resnet18", "enc", "image", until="avgpol")
    with pytest.raises(DescriptionError, match="unknown backbone"):
        backbone_outputs("lenet")
