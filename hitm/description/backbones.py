"""Built-in CNN backbones, written out as instance-format layers.

An instance file may name a backbone instead of spelling out its layers::

    - {name: encoder, backbone: inception_v3, input: image, until: avgpool}

The loader expands such an entry (:func:`expand_backbones`) into the
backbone's layers, named ``encoder.<layer>`` (``encoder.Mixed_5b``), followed
by an ``identity`` layer named ``encoder`` whose output is the truncation point
``until`` (inclusive; absent = the full classifier), so later layers read
``encoder``. Every layer is a plain dict in the instance format, so a backbone
is validated and shape-checked exactly like hand-written layers.

The structures follow torchvision's code (``torchvision/models/*.py``), which
fixes the published parameter and MAC counts: ``BasicConv2d`` = conv (no bias)
+ batch-norm + ReLU; ResNet blocks with a conv + batch-norm downsample;
MobileNetV2 inverted residuals with ReLU6 and depthwise groups. CaffeNet is the
BVLC reference network (LRN, pools that round up). Naming: a layer that carries
a module's name (``layer1.0``, ``Mixed_5b``, ``features.3``, ``conv1`` in
GoogLeNet) is that module's output; its inner layers are ``<module>.<part>``.

Differences from torchvision that do not change params or MACs: adaptive
average pools are written as the fixed pool they are at the published input
size (identity for VGG and AlexNet, a global pool elsewhere); Inception-v3's
``count_include_pad`` average pools are plain ``avgpool`` (no weights);
auxiliary classifiers (GoogLeNet, Inception-v3) are left out, as in eval mode.
At another input size the spatial shapes follow the layers, so VGG's and
AlexNet's ``fc6`` take the actual flattened size (torchvision would pool to
7×7 or 6×6 first).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hitm.description.model import Shape
from hitm.errors import DescriptionError, suggest

__all__ = [
    "BACKBONES",
    "Backbone",
    "backbone_layers",
    "backbone_outputs",
    "check_backbone_inputs",
    "expand_backbones",
]

_INPUT = "<input>"  # what a backbone's first layer reads, until it is expanded
_ENTRY_KEYS = ("name", "backbone", "input", "inputs", "until")


class _Net:
    """Collects a backbone's layers (local names) and its valid cut points."""

    def __init__(self) -> None:
        self.layers: list[dict[str, Any]] = []
        self.outputs: list[str] = []

    def add(
        self, name: str, op: str, src: str | Sequence[str], *, cut: bool = False, **attrs: Any
    ) -> str:
        """Append one layer reading ``src``; ``cut`` marks a valid ``until`` point."""
        if isinstance(src, str):
            self.layers.append({"name": name, "op": op, "input": src, **attrs})
        else:
            self.layers.append({"name": name, "op": op, "inputs": list(src), **attrs})
        if cut:
            self.outputs.append(name)
        return name

    def unit(
        self,
        name: str,
        src: str,
        out: int,
        kernel: int | list[int],
        stride: int = 1,
        padding: int | list[int] = 0,
        groups: int = 1,
        act: str | None = "relu",
        cut: bool = False,
    ) -> str:
        """conv (no bias) + batch-norm (+ activation); the last layer is named ``name``."""
        shape = {"kernel": kernel, "stride": stride, "padding": padding, "groups": groups}
        conv = self.add(f"{name}.conv", "conv2d", src, out_channels=out, bias=False, **shape)
        if act is None:
            return self.add(name, "batchnorm", conv, cut=cut)
        bn = self.add(f"{name}.bn", "batchnorm", conv)
        return self.add(name, act, bn, cut=cut)


@dataclass(frozen=True)
class Backbone:
    """A built-in backbone: how to build it and what it expects.

    Attributes
    ----------
    name
        The id used in instance files (``backbone: resnet50``).
    title, source
        What it is and where its structure comes from.
    input_shape
        The published input ``(C, H, W)``; other spatial sizes are accepted,
        the channel count is checked.
    build
        Returns the backbone as a :class:`_Net` (local layer names).
    """

    name: str
    title: str
    source: str
    input_shape: tuple[int, int, int]
    build: Callable[[], _Net]

    @property
    def in_channels(self) -> int:
        return self.input_shape[0]


# --- VGG, AlexNet, CaffeNet ---------------------------------------------------

_VGG_CFG = {
    "vgg11": (1, 1, 2, 2, 2),
    "vgg13": (2, 2, 2, 2, 2),
    "vgg16": (2, 2, 3, 3, 3),
    "vgg19": (2, 2, 4, 4, 4),
}


def _vgg(depth: str, batch_norm: bool = False) -> _Net:
    """torchvision ``VGG``: k3 p1 convs, max k2 s2 pools, classifier 4096-4096-1000.

    Names follow Caffe's VGG prototxt (``conv3_2``, ``pool5``, ``fc7``).
    """
    net, x = _Net(), _INPUT
    widths = (64, 128, 256, 512, 512)
    for stage, (n, width) in enumerate(zip(_VGG_CFG[depth], widths, strict=True), start=1):
        for i in range(1, n + 1):
            x = net.add(
                f"conv{stage}_{i}", "conv2d", x, cut=True, out_channels=width, kernel=3, padding=1
            )
            if batch_norm:
                x = net.add(f"bn{stage}_{i}", "batchnorm", x, cut=True)
            x = net.add(f"relu{stage}_{i}", "relu", x, cut=True)
        x = net.add(f"pool{stage}", "maxpool", x, cut=True, kernel=2, stride=2)
    x = net.add("flatten", "flatten", x, cut=True)
    _fc_head(net, x, dropout_first=False)
    return net


def _fc_head(net: _Net, x: str, dropout_first: bool) -> None:
    """fc6-fc7-fc8; torchvision AlexNet drops out before fc6/fc7, VGG and Caffe after."""
    for i, out in ((6, 4096), (7, 4096)):
        if dropout_first:
            x = net.add(f"drop{i}", "dropout", x, cut=True)
        x = net.add(f"fc{i}", "linear", x, cut=True, out_features=out)
        x = net.add(f"relu{i}", "relu", x, cut=True)
        if not dropout_first:
            x = net.add(f"drop{i}", "dropout", x, cut=True)
    net.add("fc8", "linear", x, cut=True, out_features=1000)


def _alexnet() -> _Net:
    """torchvision AlexNet ("one weird trick" variant), as instances/alexnet.yaml."""
    net, x = _Net(), _INPUT
    convs = ((64, 11, 4, 2), (192, 5, 1, 2), (384, 3, 1, 1), (256, 3, 1, 1), (256, 3, 1, 1))
    for i, (out, k, s, p) in enumerate(convs, start=1):
        x = net.add(
            f"conv{i}", "conv2d", x, cut=True, out_channels=out, kernel=k, stride=s, padding=p
        )
        x = net.add(f"relu{i}", "relu", x, cut=True)
        if i in (1, 2, 5):
            x = net.add(f"pool{i}", "maxpool", x, cut=True, kernel=3, stride=2)
    x = net.add("flatten", "flatten", x, cut=True)
    _fc_head(net, x, dropout_first=True)
    return net


def _caffenet() -> _Net:
    """BVLC reference CaffeNet, as instances/caffenet.yaml: pool then LRN, groups, ceil pools."""
    net, x = _Net(), _INPUT
    convs = (
        (96, 11, 4, 0, 1),
        (256, 5, 1, 2, 2),
        (384, 3, 1, 1, 1),
        (384, 3, 1, 1, 2),
        (256, 3, 1, 1, 2),
    )
    for i, (out, k, s, p, g) in enumerate(convs, start=1):
        shape = {"kernel": k, "stride": s, "padding": p, "groups": g}
        x = net.add(f"conv{i}", "conv2d", x, cut=True, out_channels=out, **shape)
        x = net.add(f"relu{i}", "relu", x, cut=True)
        if i in (1, 2, 5):
            x = net.add(f"pool{i}", "maxpool", x, cut=True, kernel=3, stride=2, ceil_mode=True)
        if i in (1, 2):
            x = net.add(f"norm{i}", "lrn", x, cut=True, size=5)
    x = net.add("flatten", "flatten", x, cut=True)
    _fc_head(net, x, dropout_first=False)
    return net


# --- ResNet -------------------------------------------------------------------

_RESNET_CFG = {
    "resnet18": ("basic", (2, 2, 2, 2)),
    "resnet34": ("basic", (3, 4, 6, 3)),
    "resnet50": ("bottleneck", (3, 4, 6, 3)),
    "resnet101": ("bottleneck", (3, 4, 23, 3)),
    "resnet152": ("bottleneck", (3, 8, 36, 3)),
}


def _resnet(depth: str) -> _Net:
    """torchvision ``ResNet`` (v1.5: a bottleneck's stride is on its 3×3 conv)."""
    block, counts = _RESNET_CFG[depth]
    expansion = 4 if block == "bottleneck" else 1
    net = _Net()
    x = net.add(
        "conv1",
        "conv2d",
        _INPUT,
        cut=True,
        out_channels=64,
        kernel=7,
        stride=2,
        padding=3,
        bias=False,
    )
    x = net.add("bn1", "batchnorm", x, cut=True)
    x = net.add("relu", "relu", x, cut=True)
    x = net.add("maxpool", "maxpool", x, cut=True, kernel=3, stride=2, padding=1)
    channels = 64
    for stage, (n, planes) in enumerate(zip(counts, (64, 128, 256, 512), strict=True), start=1):
        for j in range(n):
            stride = 2 if stage > 1 and j == 0 else 1
            name = f"layer{stage}.{j}"
            if block == "basic":
                y = _plain(net, f"{name}.conv1", x, planes, 3, stride, 1)
                y = net.add(f"{name}.bn1", "batchnorm", y)
                y = net.add(f"{name}.relu1", "relu", y)
                y = _plain(net, f"{name}.conv2", y, planes, 3, 1, 1)
                y = net.add(f"{name}.bn2", "batchnorm", y)
            else:
                y = _plain(net, f"{name}.conv1", x, planes, 1, 1, 0)
                y = net.add(f"{name}.bn1", "batchnorm", y)
                y = net.add(f"{name}.relu1", "relu", y)
                y = _plain(net, f"{name}.conv2", y, planes, 3, stride, 1)
                y = net.add(f"{name}.bn2", "batchnorm", y)
                y = net.add(f"{name}.relu2", "relu", y)
                y = _plain(net, f"{name}.conv3", y, planes * expansion, 1, 1, 0)
                y = net.add(f"{name}.bn3", "batchnorm", y)
            shortcut = x
            if stride != 1 or channels != planes * expansion:
                shortcut = _plain(net, f"{name}.downsample.0", x, planes * expansion, 1, stride, 0)
                shortcut = net.add(f"{name}.downsample.1", "batchnorm", shortcut)
            y = net.add(f"{name}.add", "add", [y, shortcut])
            x = net.add(name, "relu", y, cut=True)
            channels = planes * expansion
    _pool_head(net, x, dropout=None)
    return net


def _plain(net: _Net, name: str, src: str, out: int, k: int, s: int, p: int) -> str:
    """A conv without bias (followed by a batch-norm that the caller names)."""
    return net.add(name, "conv2d", src, out_channels=out, kernel=k, stride=s, padding=p, bias=False)


def _pool_head(
    net: _Net, x: str, dropout: float | None, dropout_before_flatten: bool = False, fc: str = "fc"
) -> None:
    """Global average pool, flatten, optional dropout, linear to 1000 classes."""
    x = net.add("avgpool", "global_avgpool", x, cut=True)
    if dropout is not None and dropout_before_flatten:
        x = net.add("dropout", "dropout", x, cut=True, rate=dropout)
    x = net.add("flatten", "flatten", x, cut=True)
    if dropout is not None and not dropout_before_flatten:
        x = net.add("dropout", "dropout", x, cut=True, rate=dropout)
    net.add(fc, "linear", x, cut=True, out_features=1000)


# --- Vision Transformer -------------------------------------------------------

# torchvision ViT: patch, layers, width, heads, MLP width
_VIT_CFG = {
    "vit_b_16": (16, 12, 768, 12, 3072),
    "vit_b_32": (32, 12, 768, 12, 3072),
    "vit_l_16": (16, 24, 1024, 16, 4096),
}


def attention(net: _Net, name: str, x: str, kv: str, dim: int, heads: int) -> str:
    """Multi-head attention as torchvision's ``nn.MultiheadAttention`` computes it.

    Q from ``x``, K and V from ``kv`` (``x`` again for self-attention), each a
    ``dim → dim`` projection with bias (torchvision's fused ``in_proj`` holds the
    same three matrices); per head the scores Q·Kᵀ, their softmax and the
    weighted sum A·V (two products of activations: no weights); then the output
    projection, named ``name``.
    """
    q = net.add(f"{name}.q", "linear", x, out_features=dim)
    k = net.add(f"{name}.k", "linear", kv, out_features=dim)
    v = net.add(f"{name}.v", "linear", kv, out_features=dim)
    scores = net.add(f"{name}.scores", "matmul", [q, k], heads=heads, transpose_b=True)
    probs = net.add(f"{name}.softmax", "softmax", scores)
    context = net.add(f"{name}.context", "matmul", [probs, v], heads=heads)
    return net.add(name, "linear", context, out_features=dim)


def _vit(variant: str, image: int = 224) -> _Net:
    """torchvision ``VisionTransformer`` at 224×224: patch embedding, class token,
    position embedding, pre-norm encoder layers, final norm, the class token's head."""
    patch, depth, dim, heads, mlp = _VIT_CFG[variant]
    tokens = (image // patch) ** 2 + 1
    net = _Net()
    x = net.add("conv_proj", "conv2d", _INPUT, cut=True, out_channels=dim, kernel=patch,
                stride=patch)  # fmt: skip
    x = net.add("patches", "tokens", x, cut=True)
    cls = net.add("class_token", "param", [], shape=[dim])
    x = net.add("tokens", "concat", [cls, x], cut=True, axis="seq")
    pos = net.add("encoder.pos_embedding", "param", [], shape=[dim], seq=tokens)
    x = net.add("encoder.embedded", "add", [x, pos])
    x = net.add("encoder.dropout", "dropout", x, cut=True, rate=0.0)
    for i in range(depth):
        name = f"encoder.layers.encoder_layer_{i}"
        y = net.add(f"{name}.ln_1", "layernorm", x)
        y = attention(net, f"{name}.self_attention", y, y, dim, heads)
        y = net.add(f"{name}.dropout", "dropout", y, rate=0.0)
        x = net.add(f"{name}.add_1", "add", [y, x])
        y = net.add(f"{name}.ln_2", "layernorm", x)
        y = net.add(f"{name}.mlp.0", "linear", y, out_features=mlp)
        y = net.add(f"{name}.mlp.1", "gelu", y)
        y = net.add(f"{name}.mlp.2", "dropout", y, rate=0.0)
        y = net.add(f"{name}.mlp.3", "linear", y, out_features=dim)
        y = net.add(f"{name}.mlp.4", "dropout", y, rate=0.0)
        x = net.add(name, "add", [y, x], cut=True)
    x = net.add("encoder.ln", "layernorm", x, cut=True)
    x = net.add("class", "slice", x, cut=True, axis="seq", stop=1)
    net.add("heads.head", "linear", x, cut=True, out_features=1000)
    return net


# --- GoogLeNet ----------------------------------------------------------------

# torchvision GoogLeNet: (in is implied) ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj
_GOOGLENET_BLOCKS = {
    "inception3a": (64, 96, 128, 16, 32, 32),
    "inception3b": (128, 128, 192, 32, 96, 64),
    "inception4a": (192, 96, 208, 16, 48, 64),
    "inception4b": (160, 112, 224, 24, 64, 64),
    "inception4c": (128, 128, 256, 24, 64, 64),
    "inception4d": (112, 144, 288, 32, 64, 64),
    "inception4e": (256, 160, 320, 32, 128, 128),
    "inception5a": (256, 160, 320, 32, 128, 128),
    "inception5b": (384, 192, 384, 48, 128, 128),
}


def _googlenet() -> _Net:
    """torchvision ``GoogLeNet`` without the auxiliary heads (eval mode).

    As in torchvision, the "5×5" branch uses a 3×3 kernel, pools round up
    (``ceil_mode``), and BasicConv2d is conv (no bias) + batch-norm + ReLU.
    """
    net = _Net()
    x = net.unit("conv1", _INPUT, 64, 7, 2, 3, cut=True)
    x = net.add("maxpool1", "maxpool", x, cut=True, kernel=3, stride=2, ceil_mode=True)
    x = net.unit("conv2", x, 64, 1, cut=True)
    x = net.unit("conv3", x, 192, 3, padding=1, cut=True)
    x = net.add("maxpool2", "maxpool", x, cut=True, kernel=3, stride=2, ceil_mode=True)
    for name, (c1, c3r, c3, c5r, c5, cp) in _GOOGLENET_BLOCKS.items():
        b1 = net.unit(f"{name}.branch1", x, c1, 1)
        b2 = net.unit(f"{name}.branch2.0", x, c3r, 1)
        b2 = net.unit(f"{name}.branch2.1", b2, c3, 3, padding=1)
        b3 = net.unit(f"{name}.branch3.0", x, c5r, 1)
        b3 = net.unit(f"{name}.branch3.1", b3, c5, 3, padding=1)
        b4 = net.add(
            f"{name}.branch4.0", "maxpool", x, kernel=3, stride=1, padding=1, ceil_mode=True
        )
        b4 = net.unit(f"{name}.branch4.1", b4, cp, 1)
        x = net.add(name, "concat", [b1, b2, b3, b4], cut=True)
        if name == "inception3b":
            x = net.add("maxpool3", "maxpool", x, cut=True, kernel=3, stride=2, ceil_mode=True)
        elif name == "inception4e":
            x = net.add("maxpool4", "maxpool", x, cut=True, kernel=2, stride=2, ceil_mode=True)
    _pool_head(net, x, dropout=0.2)
    return net


# --- Inception-v3 -------------------------------------------------------------


def _inception_v3() -> _Net:
    """torchvision ``Inception3`` at 299×299 in eval mode (no AuxLogits head)."""
    net = _Net()
    x = net.unit("Conv2d_1a_3x3", _INPUT, 32, 3, 2, cut=True)
    x = net.unit("Conv2d_2a_3x3", x, 32, 3, cut=True)
    x = net.unit("Conv2d_2b_3x3", x, 64, 3, padding=1, cut=True)
    x = net.add("maxpool1", "maxpool", x, cut=True, kernel=3, stride=2)
    x = net.unit("Conv2d_3b_1x1", x, 80, 1, cut=True)
    x = net.unit("Conv2d_4a_3x3", x, 192, 3, cut=True)
    x = net.add("maxpool2", "maxpool", x, cut=True, kernel=3, stride=2)
    for name, pool_features in (("Mixed_5b", 32), ("Mixed_5c", 64), ("Mixed_5d", 64)):
        x = _inception_a(net, name, x, pool_features)
    x = _inception_b(net, "Mixed_6a", x)
    for name, c7 in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192)):
        x = _inception_c(net, name, x, c7)
    x = _inception_d(net, "Mixed_7a", x)
    for name in ("Mixed_7b", "Mixed_7c"):
        x = _inception_e(net, name, x)
    _pool_head(net, x, dropout=0.5, dropout_before_flatten=True)
    return net


def _avg_pool_branch(net: _Net, name: str, x: str, out: int) -> str:
    pool = net.add(f"{name}.avg_pool", "avgpool", x, kernel=3, stride=1, padding=1)
    return net.unit(f"{name}.branch_pool", pool, out, 1)


def _inception_a(net: _Net, name: str, x: str, pool_features: int) -> str:
    b1 = net.unit(f"{name}.branch1x1", x, 64, 1)
    b5 = net.unit(f"{name}.branch5x5_1", x, 48, 1)
    b5 = net.unit(f"{name}.branch5x5_2", b5, 64, 5, padding=2)
    b3 = net.unit(f"{name}.branch3x3dbl_1", x, 64, 1)
    b3 = net.unit(f"{name}.branch3x3dbl_2", b3, 96, 3, padding=1)
    b3 = net.unit(f"{name}.branch3x3dbl_3", b3, 96, 3, padding=1)
    bp = _avg_pool_branch(net, name, x, pool_features)
    return net.add(name, "concat", [b1, b5, b3, bp], cut=True)


def _inception_b(net: _Net, name: str, x: str) -> str:
    b3 = net.unit(f"{name}.branch3x3", x, 384, 3, 2)
    bd = net.unit(f"{name}.branch3x3dbl_1", x, 64, 1)
    bd = net.unit(f"{name}.branch3x3dbl_2", bd, 96, 3, padding=1)
    bd = net.unit(f"{name}.branch3x3dbl_3", bd, 96, 3, 2)
    bp = net.add(f"{name}.max_pool", "maxpool", x, kernel=3, stride=2)
    return net.add(name, "concat", [b3, bd, bp], cut=True)


def _inception_c(net: _Net, name: str, x: str, c7: int) -> str:
    row, col = ([1, 7], [0, 3]), ([7, 1], [3, 0])  # (kernel, padding) of the factored 7×7
    b1 = net.unit(f"{name}.branch1x1", x, 192, 1)
    b7 = net.unit(f"{name}.branch7x7_1", x, c7, 1)
    b7 = net.unit(f"{name}.branch7x7_2", b7, c7, row[0], padding=row[1])
    b7 = net.unit(f"{name}.branch7x7_3", b7, 192, col[0], padding=col[1])
    bd = net.unit(f"{name}.branch7x7dbl_1", x, c7, 1)
    for i, (kp, out) in enumerate(((col, c7), (row, c7), (col, c7), (row, 192)), start=2):
        bd = net.unit(f"{name}.branch7x7dbl_{i}", bd, out, kp[0], padding=kp[1])
    bp = _avg_pool_branch(net, name, x, 192)
    return net.add(name, "concat", [b1, b7, bd, bp], cut=True)


def _inception_d(net: _Net, name: str, x: str) -> str:
    b3 = net.unit(f"{name}.branch3x3_1", x, 192, 1)
    b3 = net.unit(f"{name}.branch3x3_2", b3, 320, 3, 2)
    b7 = net.unit(f"{name}.branch7x7x3_1", x, 192, 1)
    b7 = net.unit(f"{name}.branch7x7x3_2", b7, 192, [1, 7], padding=[0, 3])
    b7 = net.unit(f"{name}.branch7x7x3_3", b7, 192, [7, 1], padding=[3, 0])
    b7 = net.unit(f"{name}.branch7x7x3_4", b7, 192, 3, 2)
    bp = net.add(f"{name}.max_pool", "maxpool", x, kernel=3, stride=2)
    return net.add(name, "concat", [b3, b7, bp], cut=True)


def _inception_e(net: _Net, name: str, x: str) -> str:
    def split(branch: str, step: int, src: str) -> str:  # 1×3 and 3×1 side by side
        a = net.unit(f"{name}.{branch}_{step}a", src, 384, [1, 3], padding=[0, 1])
        b = net.unit(f"{name}.{branch}_{step}b", src, 384, [3, 1], padding=[1, 0])
        return net.add(f"{name}.{branch}", "concat", [a, b])

    b1 = net.unit(f"{name}.branch1x1", x, 320, 1)
    b3 = net.unit(f"{name}.branch3x3_1", x, 384, 1)
    b3 = split("branch3x3", 2, b3)
    bd = net.unit(f"{name}.branch3x3dbl_1", x, 448, 1)
    bd = net.unit(f"{name}.branch3x3dbl_2", bd, 384, 3, padding=1)
    bd = split("branch3x3dbl", 3, bd)
    bp = _avg_pool_branch(net, name, x, 192)
    return net.add(name, "concat", [b1, b3, bd, bp], cut=True)


# --- MobileNetV2 --------------------------------------------------------------

# torchvision inverted_residual_setting: expansion t, channels c, repeats n, stride s
_MOBILENET_V2_CFG = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def _mobilenet_v2() -> _Net:
    """torchvision ``MobileNetV2`` (width 1.0): inverted residuals, ReLU6, depthwise 3×3.

    Block ``features.N`` is: ``expand`` (1×1, absent when t = 1), ``dw``
    (3×3 depthwise, groups = channels), ``project`` (1×1, no activation), and
    an ``add`` with the block input when the stride is 1 and channels match;
    the layer named ``features.N`` is the block's output.
    """
    net = _Net()
    x = net.unit("features.0", _INPUT, 32, 3, 2, 1, act="relu6", cut=True)
    channels, index = 32, 1
    for t, c, n, s in _MOBILENET_V2_CFG:
        for i in range(n):
            stride, name = (s if i == 0 else 1), f"features.{index}"
            hidden = channels * t
            residual = stride == 1 and channels == c
            y = x
            if t != 1:
                y = net.unit(f"{name}.expand", y, hidden, 1, act="relu6")
            y = net.unit(f"{name}.dw", y, hidden, 3, stride, 1, groups=hidden, act="relu6")
            if residual:
                y = net.unit(f"{name}.project", y, c, 1, act=None)
                x = net.add(name, "add", [x, y], cut=True)
            else:
                conv = _plain(net, f"{name}.project.conv", y, c, 1, 1, 0)
                x = net.add(name, "batchnorm", conv, cut=True)
            channels, index = c, index + 1
    x = net.unit(f"features.{index}", x, 1280, 1, act="relu6", cut=True)
    _pool_head(net, x, dropout=0.2, fc="classifier")
    return net


# --- the registry -------------------------------------------------------------

_TV = "torchvision/models/{}.py"


def _family(
    configs: Mapping[str, Any], title: Callable[[str], str], module: str, build: Callable
) -> list[Backbone]:
    """One torchvision family: a backbone per config, built by ``build(name)`` at 224×224."""
    return [
        Backbone(d, title(d), _TV.format(module), (3, 224, 224), functools.partial(build, d))
        for d in configs
    ]


BACKBONES: dict[str, Backbone] = {
    b.name: b
    for b in (
        Backbone(
            "alexnet",
            "AlexNet (torchvision variant)",
            _TV.format("alexnet"),
            (3, 224, 224),
            _alexnet,
        ),
        Backbone(
            "caffenet",
            "CaffeNet (BVLC reference)",
            "BVLC caffe models/bvlc_reference_caffenet/deploy.prototxt",
            (3, 227, 227),
            _caffenet,
        ),
        *(
            Backbone(
                d, f"VGG-{d[3:]}", _TV.format("vgg"), (3, 224, 224), functools.partial(_vgg, d)
            )
            for d in _VGG_CFG
        ),
        *(
            Backbone(
                f"{d}_bn",
                f"VGG-{d[3:]} with batch-norm",
                _TV.format("vgg"),
                (3, 224, 224),
                functools.partial(_vgg, d, True),
            )
            for d in ("vgg16", "vgg19")
        ),
        Backbone(
            "googlenet",
            "GoogLeNet (no auxiliary heads)",
            _TV.format("googlenet"),
            (3, 224, 224),
            _googlenet,
        ),
        Backbone(
            "inception_v3",
            "Inception-v3 (eval mode, no AuxLogits)",
            _TV.format("inception"),
            (3, 299, 299),
            _inception_v3,
        ),
        *_family(_RESNET_CFG, lambda d: f"ResNet-{d[6:]}", "resnet", _resnet),
        Backbone(
            "mobilenet_v2", "MobileNetV2", _TV.format("mobilenetv2"), (3, 224, 224), _mobilenet_v2
        ),
        *_family(_VIT_CFG, lambda d: f"ViT-{d[4].upper()}/{d[6:]}", "vision_transformer", _vit),
    )
}


@functools.cache
def _built(name: str) -> _Net:
    return BACKBONES[name].build()


def _lookup(name: str) -> Backbone:
    if name not in BACKBONES:
        raise DescriptionError(
            f"unknown backbone {name!r}{suggest(name, BACKBONES)}; known: {', '.join(BACKBONES)}"
        )
    return BACKBONES[name]


def backbone_outputs(name: str) -> list[str]:
    """Valid ``until`` points of backbone ``name``, in network order.

    These are the backbone's top-level modules and block outputs (``pool5``,
    ``fc7``, ``layer3.5``, ``Mixed_6e``, ``avgpool``, ``flatten``, ...): cutting
    at one keeps every layer before it and nothing dangling.
    """
    _lookup(name)
    return list(_built(name).outputs)


def backbone_layers(
    name: str, prefix: str, input_name: str, until: str | None = None
) -> list[dict[str, Any]]:
    """Backbone ``name`` as instance-format layer dicts.

    Parameters
    ----------
    name
        A key of :data:`BACKBONES`.
    prefix
        Layers are named ``<prefix>.<layer>``; a final ``identity`` layer named
        ``prefix`` carries the output.
    input_name
        The network input or layer the backbone's first layer reads.
    until
        The last backbone layer kept (inclusive), one of
        :func:`backbone_outputs`; ``None`` keeps the full classifier.

    Raises
    ------
    DescriptionError
        For an unknown backbone or ``until`` (with the closest valid name).
    """
    _lookup(name)
    net = _built(name)
    if until is None:
        until = net.outputs[-1]
    elif until not in net.outputs:
        raise DescriptionError(_bad_until(name, until))
    keep = _ancestors(net.layers, until)

    def rename(ref: str) -> str:
        return input_name if ref == _INPUT else f"{prefix}.{ref}"

    layers = []
    for layer in net.layers:
        if layer["name"] not in keep:
            continue
        out = copy.deepcopy(layer)  # callers may edit; the built template is cached
        out["name"] = rename(layer["name"])
        if "input" in out:
            out["input"] = rename(out["input"])
        else:
            out["inputs"] = [rename(ref) for ref in out["inputs"]]
        layers.append(out)
    layers.append({"name": prefix, "op": "identity", "input": rename(until)})
    return layers


def _ancestors(layers: list[dict[str, Any]], last: str) -> set[str]:
    reads = {
        layer["name"]: [layer["input"]] if "input" in layer else layer["inputs"] for layer in layers
    }
    keep, todo = set(), [last]
    while todo:
        node = todo.pop()
        if node in keep or node == _INPUT:
            continue
        keep.add(node)
        todo.extend(reads[node])
    return keep


def _bad_until(name: str, until: str) -> str:
    valid = backbone_outputs(name)
    return f"{until!r} is not an output of {name}{suggest(until, valid)}; valid: {_compact(valid)}"


def _compact(names: list[str]) -> str:
    """Join names, folding numbered runs: ``layer3.0 … layer3.35``."""
    parts: list[str] = []
    i = 0
    while i < len(names):
        head, _, tail = names[i].rpartition(".")
        j = i
        while (
            tail.isdigit()
            and j + 1 < len(names)
            and names[j + 1].rpartition(".")[0] == head
            and names[j + 1].rpartition(".")[2] == str(int(names[j].rpartition(".")[2]) + 1)
        ):
            j += 1
        parts.append(names[i] if j - i < 2 else f"{names[i]} … {names[j]}")
        if j - i == 1:
            parts.append(names[j])
        i = j + 1
    return ", ".join(parts)


# --- the loader's hooks -------------------------------------------------------


def _entry_problems(i: int, entry: Mapping[str, Any]) -> list[str]:
    """Every problem with backbone entry ``i``, each starting with its field's path."""
    name = entry.get("name")
    path = f"network.layers[{i}]" + (f" ({name})" if isinstance(name, str) and name else "")
    problems = [
        f"{path}.{key}: unknown field for a backbone entry{suggest(str(key), _ENTRY_KEYS)}"
        for key in entry
        if key not in _ENTRY_KEYS
    ]
    if "op" in entry:
        problems = [f"{path}: give either 'op' or 'backbone', not both"]
    if not isinstance(name, str) or not name:
        problems.append(f"{path}.name: missing")
    backbone = entry.get("backbone")
    if not isinstance(backbone, str) or backbone not in BACKBONES:
        problems.append(
            f"{path}.backbone: unknown backbone {backbone!r}{suggest(str(backbone), BACKBONES)};"
            f" known: {', '.join(BACKBONES)}"
        )
    elif "until" in entry and (
        not isinstance(entry["until"], str) or entry["until"] not in _built(backbone).outputs
    ):
        problems.append(f"{path}.until: {_bad_until(backbone, str(entry['until']))}")
    if "input" in entry and "inputs" in entry:
        problems.append(f"{path}: give either 'input' or 'inputs', not both")
    elif _input_of(entry) is None:
        problems.append(f"{path}.input: missing (name the one network input or layer it reads)")
    return problems


def _input_of(entry: Mapping[str, Any]) -> str | None:
    ref = entry.get("input", entry.get("inputs"))
    if isinstance(ref, list) and len(ref) == 1:
        ref = ref[0]
    return ref if isinstance(ref, str) and ref else None


def _is_backbone_entry(entry: Any) -> bool:
    return isinstance(entry, Mapping) and "backbone" in entry


def expand_backbones(spec: Any, problems: list[str]) -> list[tuple[str, Any]]:
    """The ``network.layers`` entries as ``(path, entry)``, backbone entries expanded.

    Ordinary entries pass through untouched (the loader validates them); a
    backbone entry becomes its layers, each reported under the entry's path.
    Problems with a backbone entry are appended to ``problems``.
    """
    if not isinstance(spec, list):
        return []
    out: list[tuple[str, Any]] = []
    for i, entry in enumerate(spec):
        if not _is_backbone_entry(entry):
            out.append((f"network.layers[{i}]", entry))
            continue
        bad = _entry_problems(i, entry)
        if bad:
            problems.extend(bad)
            continue
        layers = backbone_layers(
            entry["backbone"], entry["name"], _input_of(entry), entry.get("until")
        )
        out.extend((f"network.layers[{i}]", layer) for layer in layers)
    return out


def check_backbone_inputs(spec: Any, shapes: Mapping[str, Shape]) -> list[str]:
    """Problems with the channels fed to each backbone entry (after shape inference)."""
    problems = []
    for i, entry in enumerate(spec if isinstance(spec, list) else []):
        if not _is_backbone_entry(entry) or entry.get("backbone") not in BACKBONES:
            continue
        ref, backbone = _input_of(entry), BACKBONES[entry["backbone"]]
        shape = shapes.get(ref) if ref else None
        # Non-feature-map inputs are reported by the first conv's own shape check.
        if shape is not None and len(shape.dims) == 3 and shape.dims[0] != backbone.in_channels:
            c, h, w = backbone.input_shape
            problems.append(
                f"network.layers[{i}] ({entry['name']}).input: {backbone.name} takes"
                f" {c} channels ({c}×{h}×{w} published), '{ref}' gives {shape}"
            )
    return problems
