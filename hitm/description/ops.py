"""The operator table: each op's attributes, arity and shape rule.

Shape rules raise :class:`ShapeError` with a message that the loader prefixes
with the layer's path, so every error names the layer and both shapes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hitm.description.model import Shape
from hitm.fields import Bool, Choice, Field, Integer, IntList, IntPair, Number, Ref

__all__ = [
    "OPS",
    "RECURRENT_GATES",
    "REQUIRED",
    "WEIGHT_OPS",
    "Attr",
    "OpSpec",
    "ShapeError",
    "window_out",
]

REQUIRED: Any = object()
"""The default of an attribute a layer must give."""


class ShapeError(ValueError):
    """An op's inputs do not fit its attributes (message names both shapes)."""


@dataclass(frozen=True)
class Attr:
    """One attribute of an op: its rule (:mod:`hitm.fields`) and its default.

    A :class:`~hitm.fields.Ref` attribute names another layer or input: an
    extra dependency of the layer (a recurrent layer's ``init``).
    """

    rule: Field
    default: Any = REQUIRED


@dataclass(frozen=True)
class OpSpec:
    """An op: its attributes, its shape rule, how many inputs it takes, and what it is."""

    attrs: Mapping[str, Attr]
    infer: Callable[[tuple[Shape, ...], Mapping[str, Any]], Shape]
    min_inputs: int = 1
    max_inputs: int = 1
    description: str = ""


RECURRENT_GATES = {"lstm": 4, "gru": 3, "rnn": 1}
WEIGHT_OPS = frozenset({"conv2d", "linear", "embedding", *RECURRENT_GATES})


def _feature_map(shape: Shape, op: str) -> tuple[int, int, int]:
    if len(shape.dims) != 3:
        raise ShapeError(f"{op} needs a (C, H, W) feature map, got {shape}")
    c, h, w = shape.dims
    return c, h, w


def _vector(shape: Shape, op: str) -> int:
    if len(shape.dims) != 1:
        hint = " (add a flatten layer)" if len(shape.dims) > 1 else ""
        raise ShapeError(f"{op} needs a vector (F,), got {shape}{hint}")
    return shape.dims[0]


def window_out(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool, what: str) -> int:
    """Output size of a sliding window along one axis: hitm's rule, which is PyTorch's.

    Parameters
    ----------
    size
        Input size along the axis.
    k, s, p, d
        Kernel, stride, padding (each side) and dilation.
    ceil_mode
        Round the window count up, as long as the last window starts inside the
        input or its left padding.
    what
        The op, for the error message.

    Raises
    ------
    ShapeError
        If the dilated window is larger than the padded input.
    """
    span = d * (k - 1) + 1
    if size + 2 * p < span:
        raise ShapeError(f"{what} window {span} exceeds padded input {size + 2 * p}")
    if ceil_mode:
        out = -(-(size + 2 * p - span) // s) + 1
        if (out - 1) * s >= size + p:  # PyTorch: the last window must start inside the input
            out -= 1
        return out
    return (size + 2 * p - span) // s + 1


def _conv2d(ins: tuple[Shape, ...], a: Mapping[str, Any]) -> Shape:
    c, h, w = _feature_map(ins[0], "conv2d")
    g = a["groups"]
    if c % g or a["out_channels"] % g:
        raise ShapeError(
            f"groups={g} must divide input channels {c} and out_channels {a['out_channels']}"
        )
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = a["kernel"], a["stride"], a["padding"], a["dilation"]
    ho = window_out(h, kh, sh, ph, dh, False, "conv2d")
    wo = window_out(w, kw, sw, pw, dw, False, "conv2d")
    return Shape((a["out_channels"], ho, wo), ins[0].seq)


def _pool(ins: tuple[Shape, ...], a: Mapping[str, Any]) -> Shape:
    c, h, w = _feature_map(ins[0], "pool")
    (kh, kw), (ph, pw) = a["kernel"], a["padding"]
    sh, sw = a["stride"] or a["kernel"]
    if ph * 2 > kh or pw * 2 > kw:
        raise ShapeError(f"padding {a['padding']} must be at most half the kernel {a['kernel']}")
    ho = window_out(h, kh, sh, ph, 1, a["ceil_mode"], "pool")
    wo = window_out(w, kw, sw, pw, 1, a["ceil_mode"], "pool")
    return Shape((c, ho, wo), ins[0].seq)


def _global_pool(ins: tuple[Shape, ...], a: Mapping[str, Any]) -> Shape:
    c, _, _ = _feature_map(ins[0], "global_avgpool")
    return Shape((c, 1, 1), ins[0].seq)


def _linear(ins: tuple[Shape, ...], a: Mapping[str, Any]) -> Shape:
    _vector(ins[0], "linear")
    return Shape((a["out_features"],), ins[0].seq)


def _recurrent(ins: tuple[Shape, ...], a: Mapping[str, Any]) -> Shape:
    _vector(ins[0], "recurrent layer")
    out = a["hidden"] * (2 if a["bidirectional"] else 1)
    seq = ins[0].seq if a["return"] == "sequence" else None
    return Shape((out,), seq)


def _embedding(ins: tuple[Shape, ...], a: Mapping[str, Any]) -> Shape:
    if ins[0].dims != (1,):
        raise ShapeError(
            f"embedding needs one token index per item, shape (1,), got {ins[0]}"
            " (declare a sequence of tokens with seq)"
        )
    return Shape((a["dim"],), ins[0].seq)


def _same(ins: tuple[Shape, ...], a: Mapping[str, Any]) -> Shape:
    return ins[0]


def _broadcast_seq(ins: tuple[Shape, ...]) -> int | None:
    """Sequence length of a multi-input op; single items broadcast over a sequence."""
    seqs = {s.seq for s in ins if s.seq is not None}
    if len(seqs) > 1:
        raise ShapeError(f"inputs have different sequence lengths: {', '.join(map(str, ins))}")
    return seqs.pop() if seqs else None


def _broadcast_dims(ins: tuple[Shape, ...]) -> tuple[int, ...]:
    """Item dims of inputs broadcast as NumPy and PyTorch do: aligned on the right,
    a 1 stretching to the other's size (a (C, 1, 1) scale over a (C, H, W) map)."""
    rank = max(len(s.dims) for s in ins)
    out = []
    for axis in range(rank):
        sizes = {s.dims[axis - rank + len(s.dims)] for s in ins if axis - rank + len(s.dims) >= 0}
        big = sizes - {1}
        if len(big) > 1:
            raise ShapeError(
                "inputs do not broadcast (each axis, from the right, must match or be 1),"
                f" got {', '.join(map(str, ins))}"
            )
        out.append(big.pop() if big else 1)
    return tuple(out)


def _elementwise(ins: tuple[Shape, ...], a: Mapping[str, Any]) -> Shape:
    return Shape(_broadcast_dims(ins), _broadcast_seq(ins))


def _concat(ins: tuple[Shape, ...], a: Mapping[str, Any]) -> Shape:
    if a["axis"] == "seq":
        # Items joined in order: a class token before 196 patch tokens, an image feature
        # before a word sequence. Every input's items must have the same dims.
        for other in ins[1:]:
            if other.dims != ins[0].dims:
                raise ShapeError(
                    f"concat along seq needs inputs of the same item shape, got {ins[0]} and {other}"
                )
        return Shape(ins[0].dims, sum(s.items for s in ins))
    seq = _broadcast_seq(ins)
    for other in ins[1:]:
        if len(other.dims) != len(ins[0].dims) or other.dims[1:] != ins[0].dims[1:]:
            raise ShapeError(
                f"inputs must match in all but the first dimension, got {ins[0]} and {other}"
            )
    return Shape((sum(s.dims[0] for s in ins), *ins[0].dims[1:]), seq)


def _slice(ins: tuple[Shape, ...], a: Mapping[str, Any]) -> Shape:
    x, start, stop = ins[0], a["start"], a["stop"]
    size = x.items if a["axis"] == "seq" else x.dims[0]
    stop = size if stop is None else stop
    if not start < stop <= size:
        raise ShapeError(
            f"slice [{start}, {stop}) along {a['axis']} must lie within its {size} entries"
        )
    if a["axis"] == "seq":
        n = stop - start
        return Shape(x.dims, None if n == 1 else n)  # one item left: a single item
    return Shape((stop - start, *x.dims[1:]), x.seq)


def _attention(ins: tuple[Shape, ...], a: Mapping[str, Any]) -> Shape:
    # Never reached: the loader expands an attention layer into its parts first.
    return Shape((a["dim"],), ins[0].seq)


def _tokens(ins: tuple[Shape, ...], a: Mapping[str, Any]) -> Shape:
    c, h, w = _feature_map(ins[0], "tokens")
    if ins[0].seq is not None:
        raise ShapeError(f"tokens turns one feature map into a sequence, got {ins[0]}")
    return Shape((c,), h * w)


def _param(ins: tuple[Shape, ...], a: Mapping[str, Any]) -> Shape:
    return Shape(tuple(a["shape"]), a["seq"])


def _matmul(ins: tuple[Shape, ...], a: Mapping[str, Any]) -> Shape:
    """A product of two activations, per head: Q·Kᵀ (``transpose_b``) or A·V.

    Items are rows: ``A`` is m items of ``heads × k``, ``B`` is n items. With
    ``transpose_b`` (Q·Kᵀ) B's items are ``heads × k`` too and each head gives an
    m × n block: m items of ``heads × n``. Without (A·V) A's items are
    ``heads × n`` (a row of scores per head) and B's ``heads × d``: m items of
    ``heads × d``.
    """
    x, y, h = ins[0], ins[1], a["heads"]
    _vector(x, "matmul")
    _vector(y, "matmul")
    n = y.items
    if a["causal"] and not a["cache"] and x.items != n:
        raise ShapeError(
            f"causal matmul needs as many queries as keys (position i sees keys 0..i),"
            f" got {x.items} and {n}"
        )
    if a["transpose_b"]:
        if x.dims != y.dims or x.dims[0] % h:
            raise ShapeError(
                f"matmul with transpose_b needs items of equal width divisible by heads={h},"
                f" got {x} and {y}"
            )
        return Shape((h * n,), x.seq)
    if x.dims[0] != h * n or y.dims[0] % h:
        raise ShapeError(
            f"matmul needs A's items to hold heads × B's {n} items ({h * n}) and B's width"
            f" divisible by heads={h}, got {x} and {y}"
        )
    return Shape(y.dims, x.seq)


def _flatten(ins: tuple[Shape, ...], a: Mapping[str, Any]) -> Shape:
    return Shape((ins[0].size,), ins[0].seq)


def _reshape(ins: tuple[Shape, ...], a: Mapping[str, Any]) -> Shape:
    dims = tuple(a["shape"])
    if math.prod(dims) != ins[0].size:
        raise ShapeError(f"cannot reshape {ins[0]} ({ins[0].size} elements) to {dims}")
    return Shape(dims, ins[0].seq)


def _argmax(ins: tuple[Shape, ...], a: Mapping[str, Any]) -> Shape:
    _vector(ins[0], "argmax")
    return Shape((1,), ins[0].seq)


_INT = Integer(1)
_INT0 = Integer(0)
_PAIR = IntPair(_INT, description="One integer for both axes, or [h, w].")
_PAIR0 = IntPair(_INT0, description="One integer for both axes, or [h, w].")
_BOOL = Bool()

_POOL = {
    "kernel": Attr(_PAIR),
    "stride": Attr(_PAIR, None),
    "padding": Attr(_PAIR0, 0),
    "ceil_mode": Attr(_BOOL, False),
}
_RNN = {
    "hidden": Attr(Integer(1, description="Hidden units per direction.")),
    "bias": Attr(_BOOL, True),
    "bias_vectors": Attr(
        Choice(
            (1, 2), description="2 as PyTorch/ONNX (input and recurrent biases), 1 as Caffe/TF."
        ),
        2,
    ),
    "bidirectional": Attr(_BOOL, False),
    "return": Attr(
        Choice(("sequence", "last"), description="The whole output sequence or its last step."),
        "sequence",
    ),
    "init": Attr(Ref(description="A layer whose output seeds the recurrence."), None),
}
_SAME = "No crossbars: digital units, output shaped as the input."
# What a product of two activations (matmul, an attention's scores and A·V) may set.
_PRODUCT_ATTRS = {
    "causal": Attr(
        Bool(
            description="Each query sees only the keys up to its own position (a decoder"
            " run over a whole sequence): MAC units skip the masked scores."
        ),
        False,
    ),
    "cache": Attr(
        Bool(
            description="In a decoder loop: the second operand keeps every step's item"
            " (a key/value cache that grows by one each step)."
        ),
        False,
    ),
    "implementation": Attr(
        Choice(
            ("auto", "write", "digital"),
            description="write: the second operand is written into crossbars each"
            " inference; digital: MAC units compute it (hardware digital: units);"
            " auto: the optimiser chooses.",
        ),
        "auto",
    ),
}
_AXIS = Choice(
    ("channel", "seq"),
    description="channel: the items' first dimension; seq: the sequence of items (tokens, steps).",
)

OPS: dict[str, OpSpec] = {
    "conv2d": OpSpec(
        {
            "out_channels": Attr(_INT),
            "kernel": Attr(_PAIR),
            "stride": Attr(_PAIR, 1),
            "padding": Attr(_PAIR0, 0),
            "dilation": Attr(_PAIR, 1),
            "groups": Attr(_INT, 1),
            "bias": Attr(_BOOL, True),
        },
        _conv2d,
        description="2-D convolution of a (C, H, W) feature map.",
    ),
    "linear": OpSpec(
        {
            "out_features": Attr(_INT),
            "bias": Attr(_BOOL, True),
            "tied": Attr(
                Ref(
                    description="An embedding whose table this layer's matrix transposes"
                    " (a tied language-model head): its weights count once."
                ),
                None,
            ),
        },
        _linear,
        description="Fully connected layer on a vector (F,).",
    ),
    **{
        op: OpSpec(_RNN, _recurrent, description=f"{op.upper()} over a sequence or a decoder loop.")
        for op in RECURRENT_GATES
    },
    "embedding": OpSpec(
        {"vocab": Attr(_INT), "dim": Attr(_INT)},
        _embedding,
        description="Table lookup of a token index (one-hot input: one bit-slice per lookup).",
    ),
    "maxpool": OpSpec(_POOL, _pool, description="Max pooling."),
    "avgpool": OpSpec(_POOL, _pool, description="Average pooling."),
    "global_avgpool": OpSpec({}, _global_pool, description="Average over H and W."),
    "flatten": OpSpec({}, _flatten, description="(C, H, W) to a vector."),
    "reshape": OpSpec({"shape": Attr(IntList())}, _reshape, description="Reshape an item."),
    "concat": OpSpec(
        {"axis": Attr(_AXIS, "channel")},
        _concat,
        min_inputs=2,
        max_inputs=64,
        description="Join on the items' first axis, or along the sequence (axis: seq).",
    ),
    "slice": OpSpec(
        {"axis": Attr(_AXIS, "channel"), "start": Attr(_INT0, 0), "stop": Attr(_INT, None)},
        _slice,
        description="Entries [start, stop) of the first axis or of the sequence (a class token).",
    ),
    "add": OpSpec(
        {},
        _elementwise,
        min_inputs=2,
        max_inputs=64,
        description="Elementwise sum; shapes broadcast (a single item over a sequence, 1s).",
    ),
    "mul": OpSpec(
        {},
        _elementwise,
        min_inputs=2,
        max_inputs=64,
        description="Elementwise product; shapes broadcast (a (C, 1, 1) scale over (C, H, W)).",
    ),
    "tokens": OpSpec(
        {}, _tokens, description="A (C, H, W) feature map as a sequence of H·W tokens of (C,)."
    ),
    "param": OpSpec(
        {"shape": Attr(IntList()), "seq": Attr(_INT, None)},
        _param,
        min_inputs=0,
        max_inputs=0,
        description="A learned tensor read as an activation (class token, position embedding).",
    ),
    "matmul": OpSpec(
        {
            "heads": Attr(_INT, 1),
            "transpose_b": Attr(_BOOL, False),
            **_PRODUCT_ATTRS,
        },
        _matmul,
        min_inputs=2,
        max_inputs=2,
        description="Product of two activations per head (Q·Kᵀ with transpose_b, A·V): no weights.",
    ),
    "attention": OpSpec(
        {
            "heads": Attr(_INT),
            "dim": Attr(_INT),
            "kv_input": Attr(
                Ref(description="Cross-attention: the layer or input whose items give K and V."),
                None,
            ),
            "bias": Attr(_BOOL, True),
            **_PRODUCT_ATTRS,
        },
        _attention,
        description="Multi-head self- or cross-attention: expands to its projections"
        " (name.q, .k, .v and name), the scores Q·Kᵀ, their softmax and A·V.",
    ),
    "layernorm": OpSpec(
        {"affine": Attr(_BOOL, True)},
        _same,
        description="Layer normalisation over each item; γ and β when affine. Digital units.",
    ),
    **{
        op: OpSpec({}, _same, description=_SAME)
        for op in ("relu", "relu6", "sigmoid", "tanh", "softmax", "gelu")
    },
    "batchnorm": OpSpec({}, _same, description=_SAME),
    "dropout": OpSpec(
        {"rate": Attr(Number(0.0, 1.0, closed_min=True), 0.5)}, _same, description=_SAME
    ),
    "lrn": OpSpec({"size": Attr(_INT, 5)}, _same, description=_SAME),
    "identity": OpSpec({}, _same, description=_SAME),
    "argmax": OpSpec({}, _argmax, description="Index of the largest element (a token)."),
}
"""Every op a layer may name: its attributes, shape rule and arity."""
