"""Token sequences in ONNX graphs: where the tokens lie, and the transformer ops on them.

A transformer's tensors hold ``T`` tokens on one axis, ``[1, T, D]``, and its
attention views them head-major, ``[1, heads, T, d]`` or ``[heads, d, T]``
(the keys transposed). hitm holds such a tensor as ``T`` items of its
``size / T`` other elements; :class:`~hitm.description.onnx.build.Value`
records the ONNX axis of the tokens when other axes come before it.
:func:`tracked_axis` follows that axis through Transpose, Reshape, Squeeze
and Unsqueeze (tokens never merged with other axes); a product of two
activations (MatMul, Einsum) is a hitm ``matmul`` whose ``transpose_b``
follows from where its second operand's tokens lie.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import onnx

from hitm.description.model import Shape
from hitm.description.onnx.build import Builder, seq
from hitm.description.onnx.graph import node_attrs

__all__ = [
    "affine_norm",
    "convert_einsum",
    "convert_erf",
    "convert_layernorm",
    "convert_product",
    "convert_where",
    "item_axis",
    "learned_tensor",
    "norm_mean",
    "norm_step",
    "token_axis",
    "tracked_axis",
]


def token_axis(b: Builder, name: str, node: onnx.NodeProto) -> int | None:
    """The ONNX axis of ``name`` that holds its items (None: one item, or not one axis)."""
    value = b.value(name, node)
    if value.axis is not None:
        return value.axis
    items = value.shape.items
    if items == 1:
        return None
    shape = b.shape(name, node)
    prod, k = 1, 0
    while prod < items and k < len(shape):
        prod *= shape[k]
        k += 1
    lead = [axis for axis in range(k) if shape[axis] > 1]
    return lead[0] if prod == items and len(lead) == 1 else None


def _groups(x: Sequence[int], out: Sequence[int]) -> list[tuple[range, range]] | None:
    """A reshape as groups of adjacent axes with equal products (None if it is not one)."""
    groups, i, j = [], 0, 0
    while i < len(x) or j < len(out):
        i0, j0 = i, j
        pi = x[i] if i < len(x) else 1
        pj = out[j] if j < len(out) else 1
        i, j = min(i + 1, len(x)), min(j + 1, len(out))
        while pi != pj:
            if pi < pj and i < len(x):
                pi, i = pi * x[i], i + 1
            elif pj < pi and j < len(out):
                pj, j = pj * out[j], j + 1
            else:
                return None
        groups.append((range(i0, i), range(j0, j)))
    return groups


def tracked_axis(node: onnx.NodeProto, x: Sequence[int], out: Sequence[int], t: int) -> int | None:
    """Where a layout op moves axis ``t`` of ``x`` (None if it merges it with another)."""
    if node.op_type == "Transpose":
        perm = list(node_attrs(node).get("perm", range(len(x))[::-1]))
        return perm.index(t)
    groups = _groups(x, out)
    if groups is None:
        return None
    for ins, outs in groups:
        if t in ins:
            if [a for a in ins if x[a] > 1] != [t]:
                return None
            hits = [a for a in outs if out[a] > 1]
            return hits[0] if len(hits) == 1 and out[hits[0]] == x[t] else None
    return None


def item_axis(shape: Sequence[int], axis: int | None) -> int | None:
    """The items' ``axis`` as a Value records it: None when only unit axes come before
    it (the items lead, as hitm's own layout has them)."""
    return None if axis is None or all(d == 1 for d in shape[:axis]) else axis


def convert_product(b: Builder, node: onnx.NodeProto) -> None:
    """MatMul of two activations: ``A [..., M, K] · B [..., K, N]``, the batch axes heads."""
    _product(b, node, node.input[0], node.input[1], b.shape(node.output[0], node))


def _product(
    b: Builder, node: onnx.NodeProto, a: str, c: str, out: Sequence[int], nk: bool = False
) -> None:
    """``a · c`` with ``c`` as ``[..., K, N]`` (``nk``: as ``[..., N, K]``, Einsum's ``j, k``)."""
    sa, sb = b.shape(a, node), b.shape(c, node)
    ta, tb = token_axis(b, a, node), token_axis(b, c, node)
    # Where the second operand's tokens lie: its N (Q·Kᵀ: keys) or its K (A·V: values).
    on_n = len(sb) - (2 if nk else 1)
    on_k = len(sb) - (1 if nk else 2)
    if nk and tb == on_k:
        tb = None  # values stored transposed: not an exported form
    if len(sa) < 2 or len(sb) < 2 or ta != len(sa) - 2 or tb not in (on_n, on_k):
        raise b.node_fail(
            node,
            f"multiplies two activations {list(sa)} and {list(sb)} in a layout hitm cannot map:"
            " the first operand's tokens must be its rows and the second's its rows or columns"
            " (Q·Kᵀ, A·V)",
        )
    heads = math.prod(sa[:-2])
    if math.prod(sb[:-2]) != heads:
        raise b.node_fail(
            node, f"multiplies {list(sa)} by {list(sb)}: both need the same heads (batch axes)"
        )
    transpose_b = tb == on_n
    m, n = sa[-2], sb[tb]
    width_a, width_b = math.prod(sa) // m, math.prod(sb) // n
    refs = [b.need(a, node, m, (width_a,)), b.need(c, node, n, (width_b,))]
    attrs = {"transpose_b": True} if transpose_b else {}
    if heads > 1:
        attrs["heads"] = heads
    width = math.prod(out) // m
    axis = item_axis(out, len(out) - 2)
    b.values[node.output[0]] = b.emit(
        node, "matmul", refs, Shape((width,), seq(m)), item_axis=axis, **attrs
    )


def convert_einsum(b: Builder, node: onnx.NodeProto) -> None:
    """A two-operand Einsum that is a batched product (``bhid,bhjd->bhij`` and the like)."""
    equation = node_attrs(node)["equation"]
    equation = equation.decode() if isinstance(equation, bytes) else str(equation)
    spec = equation.replace(" ", "")
    if "->" not in spec or len(node.input) != 2 or "." in spec:
        raise b.node_fail(
            node, f"has equation '{equation}': only two explicit operands are supported"
        )
    lhs, result = spec.split("->")
    ia, ib = lhs.split(",")
    if any(name in b.graph.const for name in node.input):
        raise b.node_fail(node, "multiplies by a constant: export the weight as MatMul or Gemm")
    contracted = [c for c in ia if c in ib and c not in result]
    batch = [c for c in result if c in ia and c in ib]
    rows = [c for c in result if c in ia and c not in ib]
    cols = [c for c in result if c in ib and c not in ia]
    if (
        len(contracted) != 1
        or len(rows) != 1
        or len(cols) != 1
        or result != "".join(batch + rows + cols)
    ):
        raise b.node_fail(
            node, f"has equation '{equation}': only a batched matrix product maps to hitm"
        )
    k, i, j = contracted[0], rows[0], cols[0]
    # The product as MatMul sees it: A [batch, i, k] and B [batch, k, j] (or [batch, j, k]).
    if ia != "".join([*batch, i, k]):
        raise b.node_fail(node, f"has equation '{equation}': the first operand must be [..., i, k]")
    if ib not in ("".join([*batch, k, j]), "".join([*batch, j, k])):
        raise b.node_fail(
            node, f"has equation '{equation}': the second operand must be [..., k, j]"
        )
    nk = ib == "".join([*batch, j, k])
    _product(b, node, node.input[0], node.input[1], b.shape(node.output[0], node), nk)


def convert_layernorm(b: Builder, node: onnx.NodeProto) -> None:
    """LayerNormalization over the last axis: hitm's ``layernorm`` (γ and β when given)."""
    x = b.shape(node.input[0], node)
    axis = node_attrs(node).get("axis", -1) % len(x)
    if axis != len(x) - 1:
        raise b.node_fail(node, f"normalises from axis {axis} of {list(x)}: only the last axis")
    width = x[-1]
    value = b.value(node.input[0], node)
    items = value.shape.size * value.shape.items // width
    if items != value.shape.items:
        raise b.node_fail(node, f"normalises {list(x)} across its tokens: not supported")
    ref = b.need(node.input[0], node, items, (width,))
    attrs = {} if b.has_weight(node, 1, "scale") else {"affine": False}
    b.values[node.output[0]] = b.emit(
        node, "layernorm", [ref], Shape((width,), seq(items)), **attrs
    )


def convert_erf(b: Builder, node: onnx.NodeProto) -> None:
    """Erf, the core of GELU as exporters write it (x · ½(1 + erf(x / √2))): a ``gelu``."""
    value = b.value(node.input[0], node)
    b.values[node.output[0]] = b.emit(node, "gelu", [value.ref], value.shape, item_axis=value.axis)


def convert_where(b: Builder, node: onnx.NodeProto) -> None:
    """Where(mask, x, y) with one activation (a causal or padding mask): that activation."""
    data = [i for i in node.input[1:] if i not in b.graph.const]
    if len(data) != 1 or b.shape(data[0], node) != b.shape(node.output[0], node):
        raise b.node_fail(
            node, "selects between two activations, or broadcasts one: only a mask over one"
        )
    value = b.value(data[0], node)
    b.values[node.output[0]] = b.emit(
        node, "identity", [value.ref], value.shape, item_axis=value.axis
    )


def learned_tensor(
    b: Builder, node: onnx.NodeProto, const: str, items: int, size: int | None = None
) -> str | None:
    """A learned tensor, one value per element of its ``items`` tokens (a position
    embedding, a class token), as a ``param`` layer; None if ``const`` is not one: a
    scale, a bias, or a mask broadcast over the heads (not ``size`` elements)."""
    if const not in b.graph.initializers and const in b.graph.tensors:
        return None  # a Constant node's value (a scale, a mask), not a learned tensor
    dims = b.shape(const, node)
    total = math.prod(dims)
    if total <= 1 or total % items or items not in dims or (size is not None and total != size):
        return None
    size = total
    name = b.take_name(f"{b.name_of(node)}.param")
    width = size // items
    layer = {"name": name, "op": "param", "shape": [width], **({"seq": items} if items > 1 else {})}
    b.add_layer(layer, Shape((width,), seq(items)), node)
    return name


def norm_mean(b: Builder, node: onnx.NodeProto) -> bool:
    """ReduceMean over the last axis, kept: the first or second mean of a written-out
    layer norm (its mean, or its variance); no layer of its own."""
    x = b.shape(node.input[0], node)
    axes = node_attrs(node).get("axes")
    if axes is None and len(node.input) > 1 and node.input[1]:
        axes = b.graph.const_ints(node.input[1])
    out = b.shape(node.output[0], node)
    if axes is None or [a % len(x) for a in axes] != [len(x) - 1] or len(out) != len(x):
        return False
    tag = b.norm.get(node.input[0])
    source = tag[0] if tag and tag[1] == "squared" else node.input[0]
    b.norm[node.output[0]] = (source, "stats" if tag and tag[1] == "squared" else "mean")
    return True


def norm_step(b: Builder, node: onnx.NodeProto) -> bool:
    """One more step of a written-out layer norm: ``x − mean`` (centred), its square,
    ``var + ε`` and its root (statistics), and their quotient, the ``layernorm``."""
    ins = [i for i in node.input if i and i not in b.graph.const]
    tags = [b.norm.get(i) for i in ins]
    op, out = node.op_type, node.output[0]
    if op == "Sub" and len(ins) == 2 and tags[1] == (ins[0], "mean"):
        b.norm[out] = (ins[0], "centered")
        return True
    if op == "Pow" and len(ins) == 1 and tags[0] and tags[0][1] == "centered":
        b.norm[out] = (tags[0][0], "squared")
        return True
    if op in ("Add", "Sqrt") and len(ins) == 1 and tags[0] and tags[0][1] == "stats":
        b.norm[out] = tags[0]
        return True
    if (
        op == "Div"
        and len(ins) == 2
        and tags[0]
        and tags[1]
        and tags[0][1] == "centered"
        and tags[1][1] == "stats"
        and tags[0][0] == tags[1][0]
    ):
        x = tags[0][0]
        width = b.shape(x, node)[-1]
        value = b.value(x, node)
        items = value.shape.items
        ref = b.need(x, node, items, (width,))
        b.values[out] = b.emit(node, "layernorm", [ref], Shape((width,), seq(items)), affine=False)
        return True
    return False


def affine_norm(b: Builder, node: onnx.NodeProto, data: str, const: str) -> bool:
    """``γ ·`` a written-out layer norm's output (read by this node only): its scale and,
    by the ``+ β`` after it, its shift; the ``layernorm`` is then affine."""
    layer = b.layer_of.get(b.value(data, node).ref)
    if (
        node.op_type != "Mul"
        or layer is None
        or layer["op"] != "layernorm"
        or layer.get("affine", True)
        or len(b.graph.consumers.get(data, [])) != 1
        or math.prod(b.shape(const, node)) != b.shape(data, node)[-1]
    ):
        return False
    del layer["affine"]
    return True
