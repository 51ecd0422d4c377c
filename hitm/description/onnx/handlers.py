"""One handler per ONNX op, and the one table that registers them.

A handler reads one data node and emits its hitm layer(s) through a
:class:`~hitm.description.onnx.build.Builder`; it raises the builder's
``node_fail`` for a form hitm cannot map. :data:`HANDLERS` registers each with
the inputs that carry its activations and whether it holds weights: adding an
op is one handler and one entry. :data:`SUPPORTED_OPS` is the table's keys, in
the order error messages list them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass
from typing import Any

import onnx

from hitm.description.model import Shape
from hitm.description.onnx.build import Builder, Value, item_shape, seq
from hitm.description.onnx.graph import node_attrs
from hitm.description.onnx.sequences import (
    affine_norm,
    convert_einsum,
    convert_erf,
    convert_layernorm,
    convert_product,
    convert_where,
    item_axis,
    learned_tensor,
    norm_mean,
    norm_step,
    token_axis,
    tracked_axis,
)
from hitm.description.ops import RECURRENT_GATES, ShapeError, window_out
from hitm.errors import DescriptionError

__all__ = ["HANDLERS", "RECURRENT", "SUPPORTED_OPS", "Handler", "data_inputs"]

#: Converts one node: reads its inputs from the builder, emits its layer(s).
Convert = Callable[[Builder, onnx.NodeProto], None]
#: A node's inputs that may carry activations, given its inputs and the constant tensors.
Reads = Callable[[Sequence[str], Set[str]], Sequence[str]]

#: ONNX's recurrent ops, each read as the hitm op of its lower-case name.
RECURRENT = ("LSTM", "GRU", "RNN")


def _every(ins: Sequence[str], const: Set[str]) -> Sequence[str]:
    return ins


def _first(ins: Sequence[str], const: Set[str]) -> Sequence[str]:
    return ins[:1]  # the others are weights, shapes, bounds or a type


def _recurrent_inputs(ins: Sequence[str], const: Set[str]) -> Sequence[str]:
    return [ins[k] for k in (0, 5, 6) if k < len(ins)]  # X, initial_h, initial_c


def _gather_inputs(ins: Sequence[str], const: Set[str]) -> Sequence[str]:
    return ins[1:2] if ins and ins[0] in const else ins[:2]  # an embedding reads its indices


@dataclass(frozen=True)
class Handler:
    """How one ONNX op is read.

    Attributes
    ----------
    convert
        Emits the node's layer(s).
    reads
        Which of the node's inputs carry activations (the rest must be constant).
    weights
        Whether the op holds weights: its layers are named first, so they keep
        the short names.
    """

    convert: Convert
    reads: Reads = _every
    weights: bool = False


def data_inputs(node: onnx.NodeProto, const: Set[str]) -> Sequence[str]:
    """The inputs of ``node`` that may carry activations (all of them for an unknown op)."""
    handler = HANDLERS.get(node.op_type)
    return handler.reads(list(node.input), const) if handler else list(node.input)


def _pair(values: Sequence[int]) -> int | list[int]:
    return values[0] if values[0] == values[1] else list(values)


def _window_fits(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool, out: int) -> bool:
    """Whether hitm's window rule gives ONNX's output size ``out`` (never 0: shapes hold none)."""
    try:
        return window_out(size, k, s, p, d, ceil_mode, "") == out
    except ShapeError:  # the window exceeds the padded input: no output at all
        return False


def _padding(
    b: Builder,
    node: onnx.NodeProto,
    a: Mapping[str, Any],
    spatial: Sequence[int],
    out: Sequence[int],
    kernel: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
    ceil_mode: bool = False,
) -> list[int]:
    """Symmetric padding per axis giving ONNX's output size (hitm pads both sides alike)."""
    auto = a.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else str(auto)
    pads = list(a.get("pads", [0] * 4))
    chosen = []
    for axis in range(2):
        size, k, s, d = spatial[axis], kernel[axis], strides[axis], dilations[axis]
        span = d * (k - 1) + 1
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            total = max(0, (-(-size // s) - 1) * s + span - size)
        elif auto == "VALID":
            total = 0
        else:
            total = pads[axis] + pads[axis + 2]
        fits = [
            p
            for p in sorted({total // 2, -(-total // 2)})
            if _window_fits(size, k, s, p, d, ceil_mode, out[axis])
        ]
        if not fits:
            rule = (
                " and follows PyTorch's ceil_mode (the last window starts inside the input)"
                if ceil_mode
                else ""
            )
            raise b.node_fail(
                node,
                f"has padding {pads if auto == 'NOTSET' else auto} that no symmetric padding"
                f" reproduces (ONNX output {list(out)}); hitm pads both sides of an axis alike"
                + rule,
            )
        chosen.append(fits[0])
    return chosen


def _padded(b: Builder, node: onnx.NodeProto) -> tuple[str, dict[str, Any]]:
    """The tensor a Conv or pool reads, and its attributes, with a Pad before it folded in."""
    a = node_attrs(node)
    source = node.input[0]
    folded = b.pads.get(source)
    if folded is None:
        return source, a
    source, (top, left, bottom, right) = folded
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise b.node_fail(node, "has auto_pad after a Pad: not supported")
    pads = list(a.get("pads", [0] * 4))
    a["pads"] = [pads[0] + top, pads[1] + left, pads[2] + bottom, pads[3] + right]
    return source, a


def _pad(b: Builder, node: onnx.NodeProto) -> None:
    """Zero padding of H and W before a Conv or pooling layer: folded into its padding."""
    a = node_attrs(node)
    x = b.shape(node.input[0], node)
    pads = list(a["pads"]) if "pads" in a else b.graph.const_ints(node.input[1])
    mode = a.get("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else str(mode)
    value = b.graph.const_scalar(node.input[2]) if len(node.input) > 2 and node.input[2] else 0.0
    readers = b.graph.consumers.get(node.output[0], [])
    if (
        len(x) != 4
        or pads is None
        or len(pads) != 8
        or any(pads[k] for k in (0, 1, 4, 5))
        or min(pads) < 0
        or mode != "constant"
        or value != 0.0
        or not readers
        or any(r.op_type not in ("Conv", "MaxPool", "AveragePool") for r in readers)
    ):
        raise b.node_fail(
            node,
            "pads other than with zeros on H and W of [N, C, H, W] before a Conv or pool:"
            " not supported",
        )
    b.pads[node.output[0]] = (node.input[0], (pads[2], pads[3], pads[6], pads[7]))


def _conv(b: Builder, node: onnx.NodeProto) -> None:
    source, a = _padded(b, node)
    x = b.shape(source, node)
    w = b.weight_dims(node, 1, "weight")
    if len(x) != 4 or w is None or len(w) != 4:
        raise b.node_fail(
            node, f"has input {list(x)}: only 2-D convolutions ([N, C, H, W]) are supported"
        )
    out = b.shape(node.output[0], node)
    kernel = list(a.get("kernel_shape", w[2:]))
    strides = list(a.get("strides", [1, 1]))
    dilations = list(a.get("dilations", [1, 1]))
    padding = _padding(b, node, a, x[2:], out[2:], kernel, strides, dilations)
    ref = b.need(source, node, x[0], tuple(x[1:]))
    attrs: dict[str, Any] = {"out_channels": w[0], "kernel": _pair(kernel)}
    if strides != [1, 1]:
        attrs["stride"] = _pair(strides)
    if padding != [0, 0]:
        attrs["padding"] = _pair(padding)
    if dilations != [1, 1]:
        attrs["dilation"] = _pair(dilations)
    if a.get("group", 1) != 1:
        attrs["groups"] = a["group"]
    if not b.has_weight(node, 2, "bias"):
        attrs["bias"] = False
    b.values[node.output[0]] = b.emit(
        node, "conv2d", [ref], Shape(tuple(out[1:]), seq(out[0])), **attrs
    )


def _pool(b: Builder, node: onnx.NodeProto) -> None:
    source, a = _padded(b, node)
    x = b.shape(source, node)
    if len(x) != 4:
        raise b.node_fail(
            node, f"has input {list(x)}: only 2-D pooling ([N, C, H, W]) is supported"
        )
    if len(node.output) > 1 and node.output[1] in b.graph.needed:
        raise b.node_fail(node, "has its indices read: not supported")
    kernel = list(a["kernel_shape"])
    strides = list(a.get("strides", [1, 1]))
    if list(a.get("dilations", [1, 1])) != [1, 1]:
        raise b.node_fail(node, "is dilated: hitm's pools have no dilation")
    ceil_mode = bool(a.get("ceil_mode", 0))
    out = b.shape(node.output[0], node)
    padding = _padding(b, node, a, x[2:], out[2:], kernel, strides, [1, 1], ceil_mode)
    ref = b.need(source, node, x[0], tuple(x[1:]))
    attrs: dict[str, Any] = {"kernel": _pair(kernel)}
    if strides != kernel:
        attrs["stride"] = _pair(strides)
    if padding != [0, 0]:
        attrs["padding"] = _pair(padding)
    if ceil_mode:
        attrs["ceil_mode"] = True
    op = "maxpool" if node.op_type == "MaxPool" else "avgpool"
    b.values[node.output[0]] = b.emit(node, op, [ref], Shape(tuple(out[1:]), seq(out[0])), **attrs)


def _global_avgpool(b: Builder, node: onnx.NodeProto) -> None:
    if node.op_type == "ReduceMean" and norm_mean(b, node):
        return
    x = b.shape(node.input[0], node)
    out = b.shape(node.output[0], node)
    # ReduceMean is a global average pool when it leaves exactly [N, C] (keepdims or not).
    if len(x) != 4 or (node.op_type == "ReduceMean" and tuple(out) not in ((*x[:2], 1, 1), x[:2])):
        raise b.node_fail(
            node,
            f"maps {list(x)} to {list(out)}: only a mean over H and W of [N, C, H, W] is supported",
        )
    ref = b.need(node.input[0], node, x[0], tuple(x[1:]))
    b.values[node.output[0]] = b.emit(node, "global_avgpool", [ref], Shape((x[1], 1, 1), seq(x[0])))


def _batchnorm(b: Builder, node: onnx.NodeProto) -> None:
    x = b.shape(node.input[0], node)
    if len(x) < 2:
        raise b.node_fail(node, f"has input {list(x)}: expected [N, C, ...]")
    ref = b.need(node.input[0], node, x[0], tuple(x[1:]))
    b.values[node.output[0]] = b.emit(node, "batchnorm", [ref], Shape(tuple(x[1:]), seq(x[0])))


def _linear(
    b: Builder, node: onnx.NodeProto, x_name: str, lead: int, k: int, n: int, bias: bool
) -> None:
    x = b.shape(x_name, node)
    if x[-1] != k:
        raise b.node_fail(node, f"multiplies {list(x)} by a {k}-row weight")
    items = math.prod(x[:lead])
    ref = b.need(x_name, node, items, (k,))
    attrs = {"out_features": n} if bias else {"out_features": n, "bias": False}
    value = b.emit(node, "linear", [ref], Shape((n,), seq(items)), **attrs)
    b.values[node.output[0]] = value
    if not bias:
        b.pending_bias[node.output[0]] = b.layers[-1]


def _gemm(b: Builder, node: onnx.NodeProto) -> None:
    a = node_attrs(node)
    x = b.shape(node.input[0], node)
    w = b.weight_dims(node, 1, "weight")
    if a.get("transA", 0) or len(x) != 2 or w is None or len(w) != 2:
        raise b.node_fail(node, "must be x · W with x [N, K] and a constant 2-D W (transA=0)")
    k, n = (w[1], w[0]) if a.get("transB", 0) else (w[0], w[1])
    bias = b.has_weight(node, 2, "bias")
    _linear(b, node, node.input[0], 1, k, n, bias)


def _matmul(b: Builder, node: onnx.NodeProto) -> None:
    x_name, w_name = node.input[0], node.input[1]
    if x_name not in b.graph.const and w_name not in b.graph.const:
        convert_product(b, node)  # Q·Kᵀ or A·V: a product of two activations
        return
    if x_name in b.graph.const or w_name not in b.graph.const:
        what = (
            "two activations"
            if w_name not in b.graph.const and x_name not in b.graph.const
            else "a constant by an activation"
        )
        raise b.node_fail(
            node,
            f"multiplies {what}: only activations × a constant weight (a linear layer) are supported",
        )
    w = b.shape(w_name, node)
    x = b.shape(x_name, node)
    if len(w) != 2:
        raise b.node_fail(
            node, f"has a {len(w)}-D weight {list(w)}: only 2-D weights are supported"
        )
    _linear(b, node, x_name, len(x) - 1, w[0], w[1], bias=False)


def _elementwise(b: Builder, node: onnx.NodeProto) -> None:
    if norm_step(b, node):
        return
    data = [i for i in node.input if i not in b.graph.const]
    out = b.shape(node.output[0], node)
    shapes = [b.shape(i, node) for i in data]
    full = [i for i, s in zip(data, shapes, strict=True) if s == out]
    if len(data) == 2 and len(full) == 1 and node.op_type in ("Add", "Mul"):
        first, other = b.value(full[0], node), b.value(next(i for i in data if i != full[0]), node)
        if first.shape.items == other.shape.items and _broadcasts(
            other.shape.dims, first.shape.dims
        ):  # a (C, 1, 1) scale over (C, H, W): hitm's broadcasting op
            b.values[node.output[0]] = b.emit(
                node, node.op_type.lower(), [first.ref, other.ref], first.shape
            )
            return
        # An attention mask (or bias) broadcast over the heads, computed from the inputs:
        # its work is the element-wise op on the full operand, as with a constant.
        b.values[node.output[0]] = b.emit(
            node, "identity", [first.ref], first.shape, item_axis=first.axis
        )
        return
    if any(s != out for s in shapes):
        raise b.node_fail(
            node,
            f"broadcasts {' and '.join(str(list(s)) for s in shapes)} to {list(out)}:"
            " hitm's element-wise ops take equal shapes",
        )
    first = b.value(data[0], node)
    if len(data) == 1:
        const = next(i for i in node.input if i in b.graph.const)
        if affine_norm(b, node, data[0], const):
            b.values[node.output[0]] = first
            return
        learned = None
        if node.op_type in ("Add", "Mul") and first.shape.items > 1:
            learned = learned_tensor(
                b, node, const, first.shape.items, first.shape.items * first.shape.size
            )
        if learned is not None:  # x + a position embedding: a learned tensor, read
            ref = b.need(data[0], node, first.shape.items, (first.shape.size,))
            b.values[node.output[0]] = b.emit(
                node,
                node.op_type.lower(),
                [ref, learned],
                Shape((first.shape.size,), first.shape.seq),
                item_axis=first.axis,
            )
            return
        linear = b.pending_bias.get(data[0])
        if (
            node.op_type == "Add"
            and linear is not None
            and len(b.graph.consumers.get(data[0], [])) == 1
            and data[0] not in b.graph.outputs
            and math.prod(b.shape(const, node)) == linear["out_features"]
        ):
            del linear["bias"]  # MatMul + Add(bias) is one linear layer with a bias
            del b.pending_bias[data[0]]
            b.values[node.output[0]] = first
            return
        # A constant operand (a scale, an offset) runs on digital units: identity-like.
        b.values[node.output[0]] = b.emit(
            node, "identity", [first.ref], first.shape, item_axis=first.axis
        )
        return
    if node.op_type not in ("Add", "Mul"):
        raise b.node_fail(node, "of two activations is not supported (only with a constant)")
    refs = [first.ref] + [b.need(i, node, first.shape.items, first.shape.dims) for i in data[1:]]
    b.values[node.output[0]] = b.emit(
        node, node.op_type.lower(), refs, first.shape, item_axis=first.axis
    )


def _concat(b: Builder, node: onnx.NodeProto) -> None:
    out = b.shape(node.output[0], node)
    axis = node_attrs(node)["axis"] % len(out)
    data = [i for i in node.input if i not in b.graph.const]
    tokens = [token_axis(b, i, node) for i in data]
    if data and all(t == axis for t in tokens):
        _concat_tokens(b, node, out, axis)
        return
    if any(i in b.graph.const for i in node.input):
        raise b.node_fail(node, "concatenates a constant: not supported")
    if axis == 0:
        raise b.node_fail(
            node,
            "concatenates on axis 0 (batch or time): only the channel/feature axis is supported",
        )
    refs = []
    for name in node.input:
        items, dims = item_shape(b.shape(name, node), axis)
        refs.append(b.need(name, node, items, dims))
    items, dims = item_shape(out, axis)
    if len(refs) == 1:
        first = b.values[node.input[0]]
        b.values[node.output[0]] = b.emit(node, "identity", refs, first.shape)
        return
    b.values[node.output[0]] = b.emit(node, "concat", refs, Shape(dims, seq(items)))


def _broadcasts(small: Sequence[int], big: Sequence[int]) -> bool:
    """Whether ``small`` broadcasts to ``big`` as NumPy does (each axis from the right equal or 1)."""
    return len(small) <= len(big) and all(
        s in (1, g) for s, g in zip(reversed(small), reversed(big), strict=False)
    )


def _concat_tokens(b: Builder, node: onnx.NodeProto, out: Sequence[int], axis: int) -> None:
    """Concat along the tokens (a class token before the patches): ``concat`` on ``seq``."""
    refs = []
    width = math.prod(out) // out[axis]
    for name in node.input:
        count = b.shape(name, node)[axis]
        if count == 0:
            continue  # an empty tensor (no cached keys yet): nothing to join
        if name in b.graph.const:
            learned = learned_tensor(b, node, name, count)
            if learned is None:
                raise b.node_fail(node, f"concatenates the constant '{name}': not a learned tensor")
            refs.append(learned)
        else:
            refs.append(b.need(name, node, count, (width,)))
    shape = Shape((width,), seq(out[axis]))
    if len(refs) == 1:
        b.values[node.output[0]] = b.emit(
            node, "identity", refs, shape, item_axis=item_axis(out, axis)
        )
        return
    b.values[node.output[0]] = b.emit(
        node, "concat", refs, shape, item_axis=item_axis(out, axis), axis="seq"
    )


def _item_dims(out: Sequence[int], items: int, size: int) -> tuple[int, ...] | None:
    """Item dims of a re-laid-out tensor: the shortest suffix holding one item's elements.

    The axes before it must hold exactly the items (None if they do not).
    """
    prod, k = 1, len(out)
    while prod < size and k > 0:
        k -= 1
        prod *= out[k]
    if prod != size or math.prod(out[:k]) != items:
        return None
    return tuple(out[k:]) or (1,)


def _layout(b: Builder, node: onnx.NodeProto) -> None:
    """Flatten, Reshape, Squeeze, Unsqueeze, Transpose, Slice: same items, maybe new dims.

    A sequence's tokens are followed through a head-major view (:mod:`.sequences`);
    a Transpose that turns a feature map's positions into items is ``tokens``.
    """
    value = b.value(node.input[0], node)
    x = b.shape(node.input[0], node)
    out = b.reshaped(node)
    if node.op_type == "Slice" and out != x:
        _slice(b, node, x, out)
        return
    if _to_tokens(b, node, x, out):
        return
    if value.axis is not None:
        _tracked(b, node, x, out, None)
        return
    try:
        _plain_layout(b, node, value, x, out)
    except DescriptionError as exc:
        if token_axis(b, node.input[0], node) is None:
            raise
        _tracked(b, node, x, out, exc)


def _tracked(
    b: Builder,
    node: onnx.NodeProto,
    x: Sequence[int],
    out: Sequence[int],
    error: DescriptionError | None,
) -> None:
    """A layout op on a token sequence: the tokens stay on one axis, the rest re-laid out."""
    value = b.value(node.input[0], node)
    t = token_axis(b, node.input[0], node)
    moved = None if t is None else tracked_axis(node, x, out, t)
    items = value.shape.items
    if moved is None or out[moved] != items:
        raise error or b.node_fail(
            node,
            f"turns {list(x)} into {list(out)}: its {items} tokens would mix with other axes",
        )
    axis = item_axis(out, moved)
    shape = value.shape
    if axis is None and node.op_type in ("Reshape", "Flatten"):
        dims = tuple(out[moved + 1 :]) or (1,)
        if dims != shape.dims:
            op, attrs = ("flatten", {}) if len(dims) == 1 else ("reshape", {"shape": list(dims)})
            b.values[node.output[0]] = b.emit(
                node, op, [value.ref], Shape(dims, shape.seq), **attrs
            )
            return
    b.values[node.output[0]] = b.emit(node, "identity", [value.ref], shape, item_axis=axis)


def _to_tokens(b: Builder, node: onnx.NodeProto, x: Sequence[int], out: Sequence[int]) -> bool:
    """[1, C, L] transposed to [1, L, C] (a ViT's patches): ``tokens``, L items of (C,)."""
    if node.op_type != "Transpose" or len(x) != 3 or x[0] != 1 or x[2] == 1:
        return False
    if list(node_attrs(node).get("perm", [2, 1, 0])) != [0, 2, 1]:
        return False
    if b.value(node.input[0], node).shape.items != 1:
        return False
    ref = b.need(node.input[0], node, 1, (x[1], x[2], 1))
    b.values[node.output[0]] = b.emit(node, "tokens", [ref], Shape((x[1],), seq(x[2])))
    return True


def _slice(b: Builder, node: onnx.NodeProto, x: Sequence[int], out: Sequence[int]) -> None:
    """A Slice along one axis: the tokens (``slice`` on ``seq``) or the features."""
    changed = [a for a in range(len(x)) if x[a] != out[a]]
    starts = b.graph.const_ints(node.input[1]) if len(node.input) > 1 else None
    steps = b.graph.const_ints(node.input[4]) if len(node.input) > 4 and node.input[4] else [1]
    if len(changed) != 1 or starts is None or any(s != 1 for s in steps):
        raise b.node_fail(
            node, f"turns {list(x)} into {list(out)}: only a unit-step slice of one axis"
        )
    axis = changed[0]
    axes = b.graph.const_ints(node.input[3]) if len(node.input) > 3 and node.input[3] else None
    at = (axes or list(range(len(starts)))).index(axis) if axes or len(starts) > axis else 0
    start = starts[at] % x[axis] if starts[at] < 0 else min(starts[at], x[axis])
    value = b.value(node.input[0], node)
    t = token_axis(b, node.input[0], node)
    items = value.shape.items
    if axis == t:
        ref = b.need(node.input[0], node, items, (value.shape.size,))
        b.values[node.output[0]] = b.emit(
            node,
            "slice",
            [ref],
            Shape((value.shape.size,), seq(out[axis])),
            axis="seq",
            start=start,
            stop=start + out[axis],
        )
        return
    _feature_part(b, node, x, axis, start, out[axis])


def _feature_part(
    b: Builder,
    node: onnx.NodeProto,
    x: Sequence[int],
    axis: int,
    start: int,
    count: int,
    source: onnx.NodeProto | None = None,
) -> None:
    """Part of every item's features (q, k or v of a packed projection): a channel ``slice``.

    ``node`` is the layer's node (its first input read, its first output given);
    ``source`` the ONNX node it stands for, when that has several outputs (Split).
    """
    value = b.value(node.input[0], node)
    items, size = value.shape.items, value.shape.size
    t = token_axis(b, node.input[0], node)
    if (t is None and items > 1) or axis == t or size % x[axis]:
        raise b.node_fail(node, f"selects part of {list(x)} on axis {axis}: not supported")
    part = size // x[axis]  # the features under one index of the axis
    ref = b.need(node.input[0], node, items, (size,))
    out = b.shape(node.output[0], node)
    # A Gather drops the selected axis: tokens after it move one axis left.
    moved = None if t is None else t - (axis < t and len(out) < len(x))
    b.values[node.output[0]] = b.emit(
        node,
        "slice",
        [ref],
        Shape((part * count,), value.shape.seq),
        item_axis=item_axis(out, moved),
        axis="channel",
        start=start * part,
        stop=(start + count) * part,
    )


def _plain_layout(
    b: Builder, node: onnx.NodeProto, value: Value, x: Sequence[int], out: Sequence[int]
) -> None:
    have = value.shape
    if node.op_type in ("Slice", "Expand") and out != x:
        raise b.node_fail(
            node,
            f"turns {list(x)} into {list(out)}: only a {node.op_type} that keeps the shape is supported",
        )
    if node.op_type == "Transpose":
        a = node_attrs(node)
        perm = list(a["perm"]) if "perm" in a else list(range(len(x)))[::-1]
        item_axes = _item_axes(x, have.size)
        moved = [p for p in perm if p in item_axes and x[p] > 1]
        if moved != sorted(moved):
            raise b.node_fail(
                node, f"reorders the axes of an item ({list(x)} by perm {perm}): not supported"
            )
    dims = _item_dims(out, have.items, have.size)
    if dims is not None and node.op_type not in ("Flatten", "Reshape"):
        dims = have.dims  # moving or dropping unit axes keeps the item: consumers adapt if needed
    if dims is None:
        raise b.node_fail(
            node,
            f"turns {list(x)} ({have}) into {list(out)}: a layout that mixes items"
            " (batch, time steps) with features is not supported",
        )
    if node.op_type == "Flatten" and len(dims) == 1:
        op, attrs = "flatten", {}
    elif dims == have.dims:
        op, attrs = "identity", {}
    elif len(dims) == 1:
        op, attrs = "flatten", {}
    else:
        op, attrs = "reshape", {"shape": list(dims)}
    b.values[node.output[0]] = b.emit(node, op, [value.ref], Shape(dims, have.seq), **attrs)


def _item_axes(shape: Sequence[int], size: int) -> set[int]:
    prod, k = 1, len(shape)
    while prod < size and k > 0:
        k -= 1
        prod *= shape[k]
    return set(range(k, len(shape)))


def _gather(b: Builder, node: onnx.NodeProto) -> None:
    axis = node_attrs(node).get("axis", 0)
    table, indices = node.input[0], node.input[1]
    if table not in b.graph.const:
        _select(b, node)
        return
    dims = b.shape(table, node)
    if len(dims) != 2 or axis != 0:
        raise b.node_fail(
            node,
            f"reads a {len(dims)}-D table on axis {axis}: an embedding is a 2-D table on axis 0",
        )
    idx = b.shape(indices, node)
    items = math.prod(idx)
    ref = b.need(indices, node, items, (1,))
    b.values[node.output[0]] = b.emit(
        node, "embedding", [ref], Shape((dims[1],), seq(items)), vocab=dims[0], dim=dims[1]
    )


def _select(b: Builder, node: onnx.NodeProto) -> None:
    """Gather of one index from an activation: a no-op, or the last step of an RNN."""
    value = b.value(node.input[0], node)
    x = b.shape(node.input[0], node)
    axis = node_attrs(node).get("axis", 0) % len(x)
    k = b.graph.const_scalar(node.input[1])
    if k is not None and x[axis] == 1:  # h_n[-1] of a one-layer, one-way RNN: a no-op
        b.values[node.output[0]] = b.emit(node, "identity", [value.ref], value.shape)
        return
    steps = value.shape.items
    out = b.shape(node.output[0], node)
    chain = _sequence_source(b, node.input[0])
    if (
        k is not None
        and int(k) in (-1, steps - 1)
        and x[axis] == steps > 1
        and math.prod(out) == value.shape.size
        and chain is not None
    ):
        # out[:, -1] of a recurrent layer's sequence: the layer returns its last step.
        chain[-1]["return"] = "last"
        for layer in chain:
            shape, label = b.expected[layer["name"]]
            b.expected[layer["name"]] = (Shape(shape.dims), label)
        b.values[node.output[0]] = b.emit(node, "identity", [value.ref], Shape(value.shape.dims))
        return
    t = token_axis(b, node.input[0], node)
    if k is not None and t is not None and axis == t:  # one token (the class token): a slice
        start = int(k) % x[axis]
        ref = b.need(node.input[0], node, value.shape.items, (value.shape.size,))
        b.values[node.output[0]] = b.emit(
            node,
            "slice",
            [ref],
            Shape((value.shape.size,)),
            axis="seq",
            start=start,
            stop=start + 1,
        )
        return
    if k is not None and t is not None and axis != t and len(out) == len(x) - 1:
        _feature_part(b, node, x, axis, int(k) % x[axis], 1)  # q, k or v of a packed projection
        return
    raise b.node_fail(
        node,
        "selects part of an activation: only an embedding (Gather on a constant table),"
        " a size-1 axis, or the last step of a recurrent layer's output are supported",
    )


def _sequence_source(b: Builder, name: str) -> list[dict[str, Any]] | None:
    """Layers from ``name`` back to a recurrent layer returning its sequence, if the way
    there is identities each read once (so the recurrent layer may return its last step)."""
    chain: list[dict[str, Any]] = []
    while len(b.graph.consumers.get(name, [])) == 1 and name not in b.graph.outputs:
        layer = b.layer_of.get(b.values[name].ref)
        if layer is None:
            return None
        chain.append(layer)
        if layer["op"] in RECURRENT_GATES:
            return chain if layer.get("return", "sequence") == "sequence" else None
        if layer["op"] not in ("identity", "dropout"):
            return None
        name = b.node_of[layer["name"]].input[0]
    return None


def _clip(b: Builder, node: onnx.NodeProto) -> None:
    """ReLU6 and ReLU, as exporters write them."""
    a = node_attrs(node)
    bounds = [a.get("min"), a.get("max")]
    for i in (1, 2):
        if i < len(node.input) and node.input[i]:
            bounds[i - 1] = b.graph.const_scalar(node.input[i])
            if bounds[i - 1] is None:
                raise b.node_fail(node, "has a bound that is not a constant scalar")
    low, high = bounds
    op = {(0.0, 6.0): "relu6", (0.0, None): "relu"}.get((low, high))
    if op is None:
        raise b.node_fail(
            node, f"clips to [{low}, {high}]: only ReLU6's [0, 6] and ReLU's [0, ∞) are supported"
        )
    value = b.value(node.input[0], node)
    b.values[node.output[0]] = b.emit(node, op, [value.ref], value.shape)


def _recurrent(b: Builder, node: onnx.NodeProto) -> None:
    a = node_attrs(node)
    op = node.op_type.lower()
    x = b.shape(node.input[0], node)
    has_w = b.has_weight(node, 1, "input weights W")
    if len(x) != 3 or not has_w or not b.has_weight(node, 2, "recurrent weights R"):
        raise b.node_fail(node, f"has input {list(x)}: expected [T, N, F] and weights W, R")
    layout = a.get("layout", 0)
    steps, batch = (x[1], x[0]) if layout else (x[0], x[1])
    if batch != 1:
        raise b.node_fail(
            node, f"has a batch of {batch}: hitm runs a recurrent layer on one sequence (batch 1)"
        )
    if node.op_type == "LSTM" and len(node.input) > 7 and node.input[7]:
        raise b.node_fail(node, "has peephole weights (P): not supported")
    direction = a.get("direction", b"forward")
    direction = direction.decode() if isinstance(direction, bytes) else str(direction)
    dirs = 2 if direction == "bidirectional" else 1
    hidden = a["hidden_size"] if "hidden_size" in a else b.shape(node.input[2], node)[2]
    ref = b.need(node.input[0], node, steps, (x[2],))
    attrs: dict[str, Any] = {"hidden": hidden}
    if not b.has_weight(node, 3, "bias B"):
        attrs["bias"] = False
    if dirs == 2:
        attrs["bidirectional"] = True
    states = [node.input[k] for k in (5, 6) if k < len(node.input) and node.input[k]]
    states = [s for s in states if s not in b.graph.const]
    if states:
        if dirs == 2:
            raise b.node_fail(node, "is bidirectional with a computed initial state: not supported")
        # hitm's init seeds the recurrence from one layer; initial_c adds no other work.
        attrs["init"] = b.need(states[0], node, 1, (hidden,))
    outputs = list(node.output) + [""] * (3 - len(node.output))
    y, finals = outputs[0], [o for o in outputs[1:] if o]
    reads_y = bool(y) and y in b.graph.needed
    reads_final = any(b.graph.consumers.get(o) for o in finals)
    if reads_y and reads_final:
        raise b.node_fail(
            node,
            "has both its sequence Y and its final state read: hitm's layer returns one of them",
        )
    if reads_y:
        shape = Shape((dirs * hidden,), seq(steps))
    else:
        attrs["return"] = "last"
        shape = Shape((dirs * hidden,))
    value = b.emit(node, op, [ref], shape, **attrs)
    for out in [y] if reads_y else finals:
        b.values[out] = value


def _split(b: Builder, node: onnx.NodeProto) -> None:
    """Split along one axis: each output a slice of the tokens or of the features."""
    x = b.shape(node.input[0], node)
    axis = node_attrs(node).get("axis", 0) % len(x)
    sizes = [b.shape(o, node)[axis] for o in node.output]
    value = b.value(node.input[0], node)
    t = token_axis(b, node.input[0], node)
    start = 0
    for out, size in zip(node.output, sizes, strict=True):
        if out in b.graph.needed:
            part = onnx.helper.make_node("Identity", [node.input[0]], [out], name=out)
            b.graph.label[id(part)] = f"{b.graph.label[id(node)]}:{out}"
            b.name_node(part, f"{b.name_of(node)}.{len(b.layers)}")
            if axis == t:
                ref = b.need(node.input[0], node, value.shape.items, (value.shape.size,))
                b.values[out] = b.emit(
                    part,
                    "slice",
                    [ref],
                    Shape((value.shape.size,), seq(size)),
                    axis="seq",
                    start=start,
                    stop=start + size,
                )
            else:
                _feature_part(b, part, x, axis, start, size, source=node)
        start += size


def _norm_or_same(b: Builder, node: onnx.NodeProto) -> None:
    """Pow and Sqrt: a step of a written-out layer norm, or element-wise work."""
    if not norm_step(b, node):
        _same("identity")(b, node)


def _lrn(b: Builder, node: onnx.NodeProto) -> None:
    value = b.value(node.input[0], node)
    size = node_attrs(node)["size"]
    b.values[node.output[0]] = b.emit(node, "lrn", [value.ref], value.shape, size=size)


def _same(op: str) -> Convert:
    """A handler emitting ``op`` with the shape of the node's first input."""

    def convert(b: Builder, node: onnx.NodeProto) -> None:
        value = b.value(node.input[0], node)
        b.values[node.output[0]] = b.emit(node, op, [value.ref], value.shape, item_axis=value.axis)

    return convert


#: Every ONNX op read as network layers, in the order error messages list them.
HANDLERS: dict[str, Handler] = {
    "Conv": Handler(_conv, _first, weights=True),
    "Gemm": Handler(_gemm, _first, weights=True),
    "MatMul": Handler(_matmul, weights=True),
    "LSTM": Handler(_recurrent, _recurrent_inputs, weights=True),
    "GRU": Handler(_recurrent, _recurrent_inputs, weights=True),
    "RNN": Handler(_recurrent, _recurrent_inputs, weights=True),
    "Gather": Handler(_gather, _gather_inputs),
    "MaxPool": Handler(_pool, _first),
    "AveragePool": Handler(_pool, _first),
    "GlobalAveragePool": Handler(_global_avgpool),
    "ReduceMean": Handler(_global_avgpool, _first),
    "BatchNormalization": Handler(_batchnorm, _first),
    "Relu": Handler(_same("relu")),
    "Sigmoid": Handler(_same("sigmoid")),
    "Tanh": Handler(_same("tanh")),
    "Softmax": Handler(_same("softmax")),
    "LogSoftmax": Handler(_same("softmax")),
    "Clip": Handler(_clip, _first),
    "Add": Handler(_elementwise),
    "Mul": Handler(_elementwise),
    "Sub": Handler(_elementwise),
    "Div": Handler(_elementwise),
    "Concat": Handler(_concat),
    "Flatten": Handler(_layout),
    "Reshape": Handler(_layout, _first),
    "Squeeze": Handler(_layout, _first),
    "Unsqueeze": Handler(_layout, _first),
    "Transpose": Handler(_layout),
    "Slice": Handler(_layout, _first),
    "Expand": Handler(_layout, _first),
    "LayerNormalization": Handler(convert_layernorm, _first),
    "Erf": Handler(convert_erf),
    "Gelu": Handler(_same("gelu")),
    "Where": Handler(convert_where, lambda ins, const: ins[1:3]),
    "Einsum": Handler(convert_einsum),
    "LRN": Handler(_lrn),
    "Pad": Handler(_pad, _first),
    "Split": Handler(_split, _first),
    "Pow": Handler(_norm_or_same, _first),
    "Sqrt": Handler(_norm_or_same),
    "Reciprocal": Handler(_same("identity")),
    "Neg": Handler(_same("identity")),
    "Identity": Handler(_same("identity")),
    "Dropout": Handler(_same("dropout"), _first),
    "Cast": Handler(_same("identity")),
    "CastLike": Handler(_same("identity"), _first),
}
#: The ONNX ops hitm reads, in the order error messages list them.
SUPPORTED_OPS = tuple(HANDLERS)
