"""The layers built so far, and where each ONNX tensor lives among them.

A handler asks :meth:`Builder.need` for a tensor read as ``items`` items of
``dims``: when the producer gave other item dims with the same element count,
a ``flatten``/``reshape`` layer (``<producer>.flatten``) is inserted once and
shared by every such reader. :meth:`Builder.emit` appends a layer and records
the shape ONNX gives it, which hitm's own shape inference must reproduce.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import onnx

from hitm.description.model import Shape
from hitm.description.onnx.graph import Graph
from hitm.description.onnx.names import Names
from hitm.description.onnx.read import InferredShapes
from hitm.errors import DescriptionError

__all__ = ["Builder", "Value", "item_shape", "seq"]


@dataclass(frozen=True)
class Value:
    """An ONNX tensor as hitm sees it: the layer (or input) holding it, and its shape."""

    ref: str
    shape: Shape
    # The ONNX axis that holds the items, when other axes come before it (a head-major
    # view of a token sequence, [1, heads, tokens, width]); None when the items lead.
    axis: int | None = None


def seq(items: int) -> int | None:
    """A hitm ``seq`` for ``items`` items (None for a single one)."""
    return items if items > 1 else None


def item_shape(onnx_shape: Sequence[int], lead: int) -> tuple[int, tuple[int, ...]]:
    """Items and item dims when the first ``lead`` ONNX axes hold items."""
    dims = tuple(onnx_shape[lead:])
    return math.prod(onnx_shape[:lead]), dims or (1,)


class Builder:
    """The hitm layers of one ONNX graph, built node by node in graph order.

    Parameters
    ----------
    graph
        The graph being converted.
    shapes
        ONNX's inferred shapes.
    names
        The names taken so far (the inputs').
    node_name
        The layer name of each data node, by ``id(node)``.
    """

    def __init__(
        self, graph: Graph, shapes: InferredShapes, names: Names, node_name: dict[int, str]
    ) -> None:
        self.graph = graph
        self._shapes = shapes
        self._names = names
        self._node_name = node_name
        self.layers: list[dict[str, Any]] = []
        self.values: dict[str, Value] = {}  # ONNX tensor -> where hitm holds it
        self.expected: dict[str, tuple[Shape, str]] = {}  # layer -> (ONNX's shape, node label)
        self.pending_bias: dict[str, dict[str, Any]] = {}  # linear output without bias
        self.layer_of: dict[str, dict[str, Any]] = {}  # layer name -> its document entry
        self.node_of: dict[str, onnx.NodeProto] = {}  # layer name -> the node it came from
        self._adapters: dict[tuple[str, tuple[int, ...]], Value] = {}
        # A layer norm written out (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div):
        # each step's tensor → (the normalised tensor, which step it is).
        self.norm: dict[str, tuple[str, str]] = {}
        # A zero Pad before a Conv or pool: its output → (its input, (top, left, bottom, right)).
        self.pads: dict[str, tuple[str, tuple[int, int, int, int]]] = {}

    def node_fail(self, node: onnx.NodeProto, message: str) -> DescriptionError:
        """An error about one node (see :meth:`Graph.node_fail`)."""
        return self.graph.node_fail(node, message)

    # --- ONNX's shapes ----------------------------------------------------------------

    def shape(self, name: str, node: onnx.NodeProto | None = None) -> tuple[int, ...]:
        """ONNX's shape of a tensor (an error if inference left it unknown)."""
        shape = self._shapes.known.get(name)
        if shape is None or 0 in shape:
            where = f" (read by node '{self.graph.label[id(node)]}')" if node is not None else ""
            raise self.graph.fail(
                f"ONNX shape inference left the shape of '{name}'{where} unknown"
                " (export with fixed input sizes; a TorchScript export that computes its"
                " reshapes from Shape nodes may import from torch.onnx.export(..., dynamo=True))"
            )
        return shape

    def reshaped(self, node: onnx.NodeProto) -> tuple[int, ...]:
        """A Reshape's output shape; one dimension inference left open follows from the size."""
        known = self._shapes.known
        out = self._shapes.partial.get(node.output[0])
        if node.output[0] not in known and out is not None and out.count(None) == 1:
            given = math.prod(d for d in out if d is not None)
            size = math.prod(self.shape(node.input[0], node))
            if given and size % given == 0:
                known[node.output[0]] = tuple(size // given if d is None else d for d in out)
        return self.shape(node.output[0], node)

    # --- constant inputs --------------------------------------------------------------

    def has_weight(self, node: onnx.NodeProto, index: int, what: str) -> bool:
        """Whether an optional constant input is given (an activation there is an error)."""
        if index >= len(node.input) or not node.input[index]:
            return False
        name = node.input[index]
        if name not in self.graph.const:
            raise self.node_fail(
                node,
                f"computes its {what} '{name}' from activations: only constant weights are supported",
            )
        return True

    def weight_dims(self, node: onnx.NodeProto, index: int, what: str) -> tuple[int, ...] | None:
        """Dims of a constant input (None when the optional input is absent)."""
        if not self.has_weight(node, index, what):
            return None
        return self.shape(node.input[index], node)

    # --- layers -----------------------------------------------------------------------

    def value(self, name: str, node: onnx.NodeProto) -> Value:
        """Where hitm holds the activation ``name`` that ``node`` reads."""
        if name not in self.values:
            raise self.node_fail(
                node, f"reads '{name}', an output hitm cannot map (e.g. MaxPool indices)"
            )
        return self.values[name]

    def need(self, name: str, node: onnx.NodeProto, items: int, dims: tuple[int, ...]) -> str:
        """The layer holding ``name`` as ``items`` items of ``dims``, adapting the dims."""
        value = self.value(name, node)
        have = value.shape
        if have.items != items or have.size != math.prod(dims):
            raise self.node_fail(
                node,
                f"reads '{name}' (ONNX shape {list(self.shape(name, node))}) as {items} item(s)"
                f" of {Shape(dims)}, but it holds {have}: a layout that mixes items"
                " (batch, time steps) with features is not supported",
            )
        if have.dims == dims:
            return value.ref
        key = (value.ref, dims)
        if key not in self._adapters:
            op = "flatten" if len(dims) == 1 else "reshape"
            name_ = self._names.take(f"{value.ref}.{op}")
            layer: dict[str, Any] = {"name": name_, "op": op, "input": value.ref}
            if op == "reshape":
                layer["shape"] = list(dims)
            self.layers.append(layer)
            shape = Shape(dims, have.seq)
            self.expected[name_] = (shape, self.graph.label[id(node)])
            self._adapters[key] = Value(name_, shape)
        return self._adapters[key].ref

    def name_node(self, node: onnx.NodeProto, name: str) -> None:
        """Give a node made up by a handler (one output of a Split) a layer name."""
        self._node_name[id(node)] = self._names.take(name)

    def name_of(self, node: onnx.NodeProto) -> str:
        """The layer name ``node`` gets."""
        return self._node_name[id(node)]

    def take_name(self, name: str) -> str:
        """A fresh layer name based on ``name``."""
        return self._names.take(name)

    def add_layer(self, layer: dict[str, Any], out: Shape, node: onnx.NodeProto) -> None:
        """Append a layer of ``node``'s besides its own (a learned tensor it reads)."""
        self.layers.append(layer)
        self.expected[layer["name"]] = (out, self.graph.label[id(node)])

    def emit(
        self,
        node: onnx.NodeProto,
        op: str,
        inputs: Sequence[str],
        out: Shape,
        item_axis: int | None = None,
        **attrs: Any,
    ) -> Value:
        """Append ``node``'s layer, of hitm op ``op`` reading ``inputs``, that gives ``out``
        (its items on ONNX axis ``item_axis`` when other axes come first)."""
        name = self._node_name[id(node)]
        layer: dict[str, Any] = {"name": name, "op": op}
        if len(inputs) == 1:
            layer["input"] = inputs[0]
        else:
            layer["inputs"] = list(inputs)
        layer.update(attrs)
        self.layers.append(layer)
        self.layer_of[name] = layer
        self.node_of[name] = node
        self.expected[name] = (out, self.graph.label[id(node)])
        return Value(name, out, item_axis)
