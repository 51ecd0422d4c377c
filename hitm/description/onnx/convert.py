"""One pass over an ONNX graph: the instance document, and ONNX's shape of every layer.

:func:`import_onnx` reads, checks and converts a model; :func:`check_shapes`
then checks that hitm's shape inference, run on the parsed document by the
caller, gives every layer the shape ONNX gives it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import onnx

from hitm.description.model import Network, Shape
from hitm.description.onnx.build import Builder, Value, item_shape, seq
from hitm.description.onnx.graph import Graph
from hitm.description.onnx.handlers import HANDLERS, RECURRENT, SUPPORTED_OPS, data_inputs
from hitm.description.onnx.names import Names, sanitize
from hitm.description.onnx.read import (
    fix_symbolic_batch,
    fold_shape_subgraphs,
    read_model,
)
from hitm.errors import DescriptionError

__all__ = ["OnnxImport", "check_shapes", "import_onnx"]

_INT_TYPES = frozenset(
    {
        onnx.TensorProto.INT8,
        onnx.TensorProto.INT16,
        onnx.TensorProto.INT32,
        onnx.TensorProto.INT64,
        onnx.TensorProto.UINT8,
        onnx.TensorProto.UINT16,
        onnx.TensorProto.UINT32,
        onnx.TensorProto.UINT64,
    }
)


@dataclass(frozen=True)
class OnnxImport:
    """An ONNX model read as an instance document.

    Attributes
    ----------
    path
        The model's file.
    document
        ``{"name", "source", "network": {"inputs", "layers"}, "hardware":
        {"preset": "isaac"}}``; no budget: ONNX holds none.
    shapes
        For each layer, the shape ONNX gives it and the label of the node it
        came from.
    """

    path: Path
    document: dict[str, Any]
    shapes: Mapping[str, tuple[Shape, str]]


def import_onnx(path: str | Path) -> OnnxImport:
    """Read an ONNX model into an instance document, not yet parsed.

    Parameters
    ----------
    path
        An ``.onnx`` file. Initializer data is never read (external data
        files need not be present); only shapes matter.

    Raises
    ------
    DescriptionError
        If the file is not a valid ONNX model, uses an op hitm cannot map
        (the message names the node and lists the supported ops), or has a
        shape hitm cannot express.
    """
    path = Path(path)
    model = read_model(path)
    fix_symbolic_batch(path, model)
    # An unsupported op is named before shape inference, which may fail on it first.
    _check_supported(Graph(path, model, data_inputs))
    shapes = fold_shape_subgraphs(path, model)
    graph = Graph(path, model, data_inputs)  # with the folded constants' values
    graph.select_from_stacks(shapes.known)
    names = Names()
    for value in graph.inputs:
        names.take(sanitize(value.name) or "input")
    # Weight layers first, so they keep the short names.
    order = sorted(graph.data_nodes, key=lambda n: not _has_weights(n))
    node_name = {id(n): names.take_node(graph.label[id(n)], n.op_type) for n in order}
    build = Builder(graph, shapes, names, node_name)
    inputs = _inputs(build)
    for node in graph.data_nodes:
        try:
            HANDLERS[node.op_type].convert(build, node)
        except (KeyError, IndexError, ValueError, TypeError, ZeroDivisionError) as exc:
            # A malformed node (a missing attribute, an input out of range) that the
            # checker let through: name it rather than show a traceback.
            raise graph.node_fail(
                node, f"cannot be read ({type(exc).__name__}: {exc}); it may be malformed"
            ) from None
    if not build.layers:
        raise graph.fail("no layer reads the model's inputs")
    used = {ref for layer in build.layers for ref in _refs(layer)}
    network = {
        "inputs": {name: spec for name, spec in inputs.items() if name in used},
        "layers": build.layers,
    }
    producer = " ".join(p for p in (model.producer_name, model.producer_version) if p)
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    source = f"ONNX model {path.name}" + (
        f" ({producer}, opset {opset})" if producer else f" (opset {opset})"
    )
    document = {
        "name": sanitize(path.stem) or "network",
        "source": source,
        "network": network,
        "hardware": {"preset": "isaac"},
    }
    return OnnxImport(path, document, build.expected)


def check_shapes(imported: OnnxImport, network: Network) -> None:
    """Check that hitm's shape of every layer of ``network`` is ONNX's.

    Parameters
    ----------
    imported
        What :func:`import_onnx` read.
    network
        Its document's network, parsed.

    Raises
    ------
    DescriptionError
        Naming the first layer whose shapes differ, its node and both shapes.
    """
    for layer in network.layers:
        want, label = imported.shapes[layer.name]
        if layer.shape != want:
            raise DescriptionError(
                f"{imported.path}: node '{label}': hitm's {layer.op} '{layer.name}'"
                f" gives {layer.shape}, ONNX gives {want}"
            )


def _has_weights(node: onnx.NodeProto) -> bool:
    handler = HANDLERS.get(node.op_type)
    return handler is not None and handler.weights


def _check_supported(graph: Graph) -> None:
    bad = [
        node
        for node in graph.data_nodes
        if node.op_type not in HANDLERS or node.domain not in ("", "ai.onnx")
    ]
    if not bad:
        return
    first = bad[0]
    op = f"{first.domain}.{first.op_type}" if first.domain not in ("", "ai.onnx") else first.op_type
    others = sorted({n.op_type for n in bad[1:]} - {first.op_type})
    also = f" (nor are {', '.join(others)})" if others else ""
    raise graph.fail(
        f"node '{graph.label[id(first)]}' ({op}) is not supported{also};"
        f" supported: {', '.join(SUPPORTED_OPS)}"
    )


def _inputs(build: Builder) -> dict[str, dict[str, Any]]:
    """The network's inputs, each as its first consumer reads it."""
    graph = build.graph
    specs: dict[str, dict[str, Any]] = {}
    for value in graph.inputs:
        if value.name not in graph.needed:
            continue
        shape = build.shape(value.name)
        items, dims = _input_layout(graph, value, shape)
        if len(dims) not in (1, 3):
            raise graph.fail(
                f"input '{value.name}' has shape {list(shape)}: expected [N, C, H, W],"
                " [N, F], a sequence [T, 1, F] or token indices"
            )
        name = sanitize(value.name) or "input"
        spec: dict[str, Any] = {"shape": list(dims)}
        if items > 1:
            spec["seq"] = items
        specs[name] = spec
        build.values[value.name] = Value(name, Shape(dims, seq(items)))
    return specs


def _input_layout(
    graph: Graph, value: onnx.ValueInfoProto, shape: tuple[int, ...]
) -> tuple[int, tuple[int, ...]]:
    """Items and item dims of a network input, as its first consumer reads it."""
    readers = graph.consumers.get(value.name, [])
    first = readers[-1] if readers else None  # consumers were collected backwards
    if value.type.tensor_type.elem_type in _INT_TYPES or (
        first is not None and first.op_type == "Gather" and first.input[0] in graph.const
    ):
        return math.prod(shape), (1,)  # token indices: every axis is an item
    if first is not None and first.op_type in RECURRENT and first.input[0] == value.name:
        return item_shape(shape, len(shape) - 1)
    if len(shape) == 3:  # [N, T, F] or [T, N, F]: a sequence of vectors
        return item_shape(shape, 2)
    if len(shape) == 1:
        return 1, shape
    return item_shape(shape, 1)


def _refs(layer: Mapping[str, Any]) -> list[str]:
    ins = layer.get("inputs") or ([layer["input"]] if "input" in layer else [])
    return [*ins, *([layer["init"]] if layer.get("init") else [])]
