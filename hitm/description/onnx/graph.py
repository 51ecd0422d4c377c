"""An ONNX graph as the reader walks it: which nodes carry data, which only constants.

Nodes whose inputs are all constant (``Constant``, ``Shape``, ``Gather`` on a
shape, weight re-layouts) compute constants and are skipped; the others,
those that the graph's outputs depend on through activations, become layers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence, Set
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from hitm.errors import DescriptionError

__all__ = ["DataInputs", "Graph", "node_attrs"]

#: For a node and the set of constant tensors, the inputs that may carry activations.
DataInputs = Callable[[onnx.NodeProto, Set[str]], Sequence[str]]

# Inputs whose values (not just shapes or types) an op reads; other ops read all of them.
# Shape and Size read none: once shapes are fixed their outputs are constants.
_VALUE_INPUTS: dict[str, slice] = {
    "Shape": slice(0, 0),
    "Size": slice(0, 0),
    "CastLike": slice(0, 1),
}


def node_attrs(node: onnx.NodeProto) -> dict[str, Any]:
    """A node's attributes by name, as Python values."""
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


class Graph:
    """The nodes of an ONNX model, split into data nodes (converted) and constant ones.

    Parameters
    ----------
    path
        The model's file, which every error message starts with.
    model
        The model, its inputs' batch axes already fixed.
    data_inputs
        Which inputs of a node may carry activations (not weights or shapes).
    """

    def __init__(self, path: Path, model: onnx.ModelProto, data_inputs: DataInputs) -> None:
        self.path = path
        self.model = model
        self._data_inputs = data_inputs
        # protobuf makes a new wrapper per access: hold one list so id(node) is a stable key
        self.nodes = list(model.graph.node)
        self.label = {
            id(node): node.name or f"{node.op_type}_{i}" for i, node in enumerate(self.nodes)
        }
        # Small constants whose values matter (an index, a clip bound), read on demand.
        self.tensors: dict[str, onnx.TensorProto] = {
            t.name: t
            for t in model.graph.initializer
            if t.data_location != onnx.TensorProto.EXTERNAL
        }
        for node in self.nodes:
            if node.op_type == "Constant" and node.attribute:
                value = node.attribute[0]
                if value.name == "value":
                    self.tensors[node.output[0]] = value.t
                elif value.name in ("value_int", "value_ints", "value_float", "value_floats"):
                    array = np.array(helper.get_attribute_value(value))
                    self.tensors[node.output[0]] = numpy_helper.from_array(array)
        self.initializers = frozenset(t.name for t in model.graph.initializer)
        self.inputs = [i for i in model.graph.input if i.name not in self.initializers]
        self.outputs = {o.name for o in model.graph.output}
        self._classify()

    def fail(self, message: str) -> DescriptionError:
        """An error about the model."""
        return DescriptionError(f"{self.path}: {message}")

    def node_fail(self, node: onnx.NodeProto, message: str) -> DescriptionError:
        """An error about one node, named by its label and op."""
        return self.fail(f"node '{self.label[id(node)]}' ({node.op_type}) {message}")

    def _classify(self) -> None:
        """Split nodes into constant ones (skipped) and data ones (converted)."""
        const = set(self.initializers)
        defined = set(const) | {v.name for v in self.inputs}
        for node in self.nodes:
            missing = [i for i in node.input if i and i not in defined]
            if missing:
                raise self.node_fail(
                    node, f"reads '{missing[0]}', which no earlier node or input defines"
                )
            ins = [i for i in node.input[_VALUE_INPUTS.get(node.op_type, slice(None))] if i]
            if all(i in const for i in ins):
                const.update(o for o in node.output if o)
            defined.update(o for o in node.output if o)
        #: Tensors computed from constants only.
        self.const = const
        needed = {o.name for o in self.model.graph.output if o.name not in const}
        #: For each activation, the data nodes reading it, last reader first.
        self.consumers: dict[str, list[onnx.NodeProto]] = {}
        data_nodes = []
        for node in reversed(self.nodes):
            if not any(o in needed for o in node.output if o):
                continue
            data_nodes.append(node)
            for i in self._data_inputs(node, const):
                if i and i not in const:
                    needed.add(i)
                    self.consumers.setdefault(i, []).append(node)
        #: The nodes the graph's outputs depend on through activations, in graph order.
        self.data_nodes = data_nodes[::-1]
        #: Activations some data node (or the graph's output) reads.
        self.needed = needed

    def const_scalar(self, name: str) -> float | None:
        """The value of a one-element constant (None if absent, computed or too big)."""
        tensor = self.tensors.get(name)
        if tensor is None or math.prod(tensor.dims) != 1:
            return None
        return float(numpy_helper.to_array(tensor).reshape(-1)[0])

    def const_ints(self, name: str, limit: int = 64) -> list[int] | None:
        """The values of a small integer constant (Slice bounds, Split sizes); None if not one."""
        tensor = self.tensors.get(name)
        if tensor is None or math.prod(tensor.dims) > limit:
            return None
        return [int(v) for v in numpy_helper.to_array(tensor).reshape(-1)]

    def select_from_stacks(self, shapes: dict[str, tuple[int, ...]]) -> None:
        """Rewrite ``Gather(Concat(x_0, ..., x_n), k)`` over unit slices as ``Identity(x_k)``.

        PyTorch writes a multi-layer RNN's ``h_n`` as the Concat of each layer's
        final state, and ``h_n[-1]`` as a Gather of it: the last layer's state.
        """
        producer = {o: node for node in self.nodes for o in node.output if o}
        changed = False
        for i, node in enumerate(self.nodes):
            src = producer.get(node.input[0]) if node.op_type == "Gather" else None
            if src is None or src.op_type != "Concat" or node.input[0] in self.const:
                continue
            x = shapes.get(node.input[0])
            k = self.const_scalar(node.input[1])
            parts = list(src.input)
            if x is None or k is None or not -len(parts) <= k < len(parts):
                continue
            axis = node_attrs(node).get("axis", 0) % len(x)
            if node_attrs(src)["axis"] % len(x) != axis or any(
                len(shapes.get(p, ())) != len(x) or shapes[p][axis] != 1 for p in parts
            ):
                continue
            new = helper.make_node("Identity", [parts[int(k)]], [node.output[0]], name=node.name)
            self.label[id(new)] = self.label[id(node)]
            self.nodes[i] = new
            changed = True
        if changed:
            self._classify()
