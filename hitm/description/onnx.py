"""Read an ONNX model into an instance document (the mapping a YAML instance parses to).

:func:`onnx_to_document` turns a real ONNX graph into the same ``{"name",
"network": {"inputs", "layers"}, "hardware"}`` document that an instance file
holds, so that :func:`hitm.description.load.parse_instance` applies every check
and the shape inference of the YAML path. Only shapes are read: initializer
dims, never their data (external data files need not exist).

How ONNX tensors become hitm tensors
------------------------------------
hitm's tensors are items (``seq``) of a feature map ``(C, H, W)`` or a vector
``(F,)``. The ONNX batch axis counts as independent items (video frames): a
``[16, 3, 112, 112]`` input is 16 items of ``(3, 112, 112)``; a batch of 1, or a
symbolic batch (fixed to 1 here), is a single item. A recurrent layer's time
axis is its sequence; its batch must be 1. Each consumer reads its input the
way its ONNX op does (``Conv``: ``[N, C, H, W]``, ``Gemm``: ``[N, K]``,
``MatMul``: ``[..., K]``, ``LSTM``: ``[T, 1, F]``, embedding indices: every
axis an item); when that differs from the producer's item shape with the same
element count, a ``flatten``/``reshape`` layer (named ``<producer>.flatten``)
is inserted. A change in the number of items (e.g. a Reshape that folds
frames into features) is an error.

Nodes that only compute constants or shapes (``Constant``, ``Shape``,
``Gather`` on a shape, weight re-layouts) are skipped: shape inference gives
every tensor's shape, so a ``Reshape`` needs only its output shape.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import yaml
from onnx import helper, numpy_helper, shape_inference

from hitm.description.load import parse_network  # load imports this module only for .onnx
from hitm.description.model import Shape
from hitm.errors import DescriptionError

__all__ = ["SUPPORTED_OPS", "dump_document", "onnx_to_document"]

#: ONNX ops read as network layers, in the order error messages list them.
SUPPORTED_OPS = (
    "Conv",
    "Gemm",
    "MatMul",
    "LSTM",
    "GRU",
    "RNN",
    "Gather",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "ReduceMean",
    "BatchNormalization",
    "Relu",
    "Sigmoid",
    "Tanh",
    "Softmax",
    "LogSoftmax",
    "Clip",
    "Add",
    "Mul",
    "Sub",
    "Div",
    "Concat",
    "Flatten",
    "Reshape",
    "Squeeze",
    "Unsqueeze",
    "Transpose",
    "Slice",
    "Expand",
    "Identity",
    "Dropout",
    "Cast",
    "CastLike",
)
_RECURRENT = {"LSTM": "lstm", "GRU": "gru", "RNN": "rnn"}
_ACTIVATIONS = {
    "Relu": "relu",
    "Sigmoid": "sigmoid",
    "Tanh": "tanh",
    "Softmax": "softmax",
    "LogSoftmax": "softmax",
}
_WEIGHT_OPS = frozenset({"Conv", "Gemm", "MatMul", *_RECURRENT})
# Inputs whose values (not just shapes or types) an op reads; other ops read all of them.
# Shape and Size read none: once shapes are fixed their outputs are constants.
_VALUE_INPUTS: dict[str, slice] = {
    "Shape": slice(0, 0),
    "Size": slice(0, 0),
    "CastLike": slice(0, 1),
}
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


def onnx_to_document(path: str | Path) -> dict[str, Any]:
    """Read an ONNX model into an instance document.

    Parameters
    ----------
    path
        An ``.onnx`` file. Initializer data is never read (external data
        files need not be present); only shapes matter.

    Returns
    -------
    dict
        ``{"name", "source", "network": {"inputs", "layers"}, "hardware":
        {"preset": "isaac"}}``, ready for
        :func:`~hitm.description.load.parse_instance`. It has no budget: ONNX
        holds none.

    Raises
    ------
    DescriptionError
        If the file is not a valid ONNX model, uses an op hitm cannot map
        (the message names the node and lists the supported ops), or has a
        shape hitm cannot express.
    """
    path = Path(path)
    model = _read_model(path)
    return _Converter(path, model).document()


def dump_document(doc: Mapping[str, Any], header: Sequence[str] = ()) -> str:
    """Format an instance document as YAML with one flow-style line per layer.

    ``header`` lines are written first as ``#`` comments (the provenance).
    """
    doc = dict(doc)
    network = dict(doc["network"])
    network["inputs"] = {k: _Flow(v) for k, v in network["inputs"].items()}
    network["layers"] = [_Flow(layer) for layer in network["layers"]]
    doc["network"] = network
    for key in ("hardware", "budget"):
        if isinstance(doc.get(key), Mapping):
            doc[key] = _Flow(doc[key])
    body = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120)
    return "".join(f"# {line}\n" for line in header) + body


class _Flow(dict):
    """A mapping written on one line."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Flow,
    lambda dumper, data: dumper.represent_mapping(
        "tag:yaml.org,2002:map", data.items(), flow_style=True
    ),
)


# --- reading ------------------------------------------------------------------------


def _read_model(path: Path) -> onnx.ModelProto:
    if not path.is_file():
        raise DescriptionError(f"{path}: no such file")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except OSError as exc:
        raise DescriptionError(f"{path}: cannot read ({exc})") from None
    except Exception as exc:  # protobuf and onnx raise several types for corrupt bytes
        raise DescriptionError(f"{path}: not a valid ONNX model ({_first_line(exc)})") from None
    if not model.graph.node:
        raise DescriptionError(f"{path}: not a valid ONNX model (the graph has no nodes)")
    # The checker wants external data files; their tensors are only read for dims.
    external = any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer)
    if not external:
        try:
            onnx.checker.check_model(model)
        except Exception as exc:  # onnx.checker.ValidationError, or a C++ error
            raise DescriptionError(f"{path}: not a valid ONNX model ({_first_line(exc)})") from None
    return model


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@dataclass(frozen=True)
class _Value:
    """An ONNX tensor as hitm sees it: the layer (or input) holding it, and its shape."""

    ref: str
    shape: Shape


def _seq(items: int) -> int | None:
    return items if items > 1 else None


def _item_shape(onnx_shape: Sequence[int], lead: int) -> tuple[int, tuple[int, ...]]:
    """Items and item dims when the first ``lead`` ONNX axes hold items."""
    dims = tuple(onnx_shape[lead:])
    return math.prod(onnx_shape[:lead]), dims or (1,)


def _sanitize(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]+", "_", text).strip("_.")


class _Converter:
    """One pass over an ONNX graph, building the hitm layers in graph order."""

    def __init__(self, path: Path, model: onnx.ModelProto) -> None:
        self.path = path
        self.model = model
        self.graph = model.graph
        # protobuf makes a new wrapper per access: hold one list so id(node) is a stable key
        self.nodes = list(self.graph.node)
        self.label = {
            id(node): node.name or f"{node.op_type}_{i}" for i, node in enumerate(self.nodes)
        }
        self.init_dims = {t.name: tuple(t.dims) for t in self.graph.initializer}
        # Small constants whose values matter (an index, a clip bound), read on demand.
        self.tensors: dict[str, onnx.TensorProto] = {
            t.name: t
            for t in self.graph.initializer
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
        self.real_inputs = [i for i in self.graph.input if i.name not in self.init_dims]
        self.layers: list[dict[str, Any]] = []
        self.expected: dict[str, tuple[Shape, str]] = {}  # layer -> (shape, node label)
        self.values: dict[str, _Value] = {}
        self.names: set[str] = set()
        self.adapters: dict[tuple[str, tuple[int, ...]], _Value] = {}
        self.pending_bias: dict[str, dict[str, Any]] = {}  # linear output without bias
        self.layer_of: dict[str, dict[str, Any]] = {}  # layer name -> its document entry
        self.node_of: dict[str, onnx.NodeProto] = {}  # layer name -> the node it came from

    # --- errors ---------------------------------------------------------------------

    def fail(self, message: str) -> DescriptionError:
        return DescriptionError(f"{self.path}: {message}")

    def node_fail(self, node: onnx.NodeProto, message: str) -> DescriptionError:
        return self.fail(f"node '{self.label[id(node)]}' ({node.op_type}) {message}")

    # --- the whole conversion -------------------------------------------------------

    def document(self) -> dict[str, Any]:
        self._fix_symbolic_batch()
        self._classify()
        self._check_supported()
        self.shapes = self._infer_shapes()
        if self._select_from_stacks():
            self._classify()
        self._name_nodes()
        inputs = self._inputs()
        for node in self.data_nodes:
            self._convert(node)
        if not self.layers:
            raise self.fail("no layer reads the model's inputs")
        used = {ref for layer in self.layers for ref in _refs(layer)}
        network = {
            "inputs": {name: spec for name, spec in inputs.items() if name in used},
            "layers": self.layers,
        }
        self._cross_check(network)
        producer = " ".join(p for p in (self.model.producer_name, self.model.producer_version) if p)
        opset = next((o.version for o in self.model.opset_import if o.domain in ("", "ai.onnx")), 0)
        source = f"ONNX model {self.path.name}" + (
            f" ({producer}, opset {opset})" if producer else f" (opset {opset})"
        )
        return {
            "name": _sanitize(self.path.stem) or "network",
            "source": source,
            "network": network,
            "hardware": {"preset": "isaac"},
        }

    def _fix_symbolic_batch(self) -> None:
        """A symbolic first axis of an input (the batch) counts as 1; others are errors."""
        for value in self.real_inputs:
            ttype = value.type.tensor_type
            if not value.type.HasField("tensor_type") or not ttype.HasField("shape"):
                raise self.fail(f"input '{value.name}' has no tensor shape")
            for axis, dim in enumerate(ttype.shape.dim):
                if dim.HasField("dim_value") and dim.dim_value > 0:
                    continue
                if axis == 0:
                    dim.Clear()
                    dim.dim_value = 1
                    continue
                what = f"'{dim.dim_param}'" if dim.dim_param else "unknown"
                raise self.fail(
                    f"input '{value.name}' has a symbolic dimension {what} on axis {axis}"
                    " (export with a fixed size; only the batch axis may be symbolic)"
                )

    def _classify(self) -> None:
        """Split nodes into constant ones (skipped) and data ones (converted)."""
        const = set(self.init_dims)
        defined = set(const) | {v.name for v in self.real_inputs}
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
        self.const = const
        needed = {o.name for o in self.graph.output if o.name not in const}
        self.graph_outputs = {o.name for o in self.graph.output}
        self.consumers: dict[str, list[onnx.NodeProto]] = {}
        data_nodes = []
        for node in reversed(self.nodes):
            if not any(o in needed for o in node.output if o):
                continue
            data_nodes.append(node)
            for i in self._data_inputs(node):
                needed.add(i)
                self.consumers.setdefault(i, []).append(node)
        self.data_nodes = data_nodes[::-1]
        self.needed = needed

    def const_scalar(self, name: str) -> float | None:
        """The value of a one-element constant (None if absent, computed or too big)."""
        tensor = self.tensors.get(name)
        if tensor is None or math.prod(tensor.dims) != 1:
            return None
        return float(numpy_helper.to_array(tensor).reshape(-1)[0])

    def _select_from_stacks(self) -> bool:
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
            x = self.shapes.get(node.input[0])
            k = self.const_scalar(node.input[1])
            parts = list(src.input)
            if x is None or k is None or not -len(parts) <= k < len(parts):
                continue
            axis = _attrs(node).get("axis", 0) % len(x)
            if _attrs(src)["axis"] % len(x) != axis or any(
                len(self.shapes.get(p, ())) != len(x) or self.shapes[p][axis] != 1 for p in parts
            ):
                continue
            new = helper.make_node("Identity", [parts[int(k)]], [node.output[0]], name=node.name)
            self.label[id(new)] = self.label[id(node)]
            self.nodes[i] = new
            changed = True
        return changed

    def _data_inputs(self, node: onnx.NodeProto) -> list[str]:
        """The inputs of a node that carry activations (not weights, shapes or constants)."""
        ins = list(node.input)
        op = node.op_type
        if op in (
            "Reshape",
            "Squeeze",
            "Unsqueeze",
            "Slice",
            "Dropout",
            "Expand",
            "CastLike",
            "Clip",
        ):
            picked = ins[:1]
        elif op == "Gather":
            picked = ins[1:2] if ins and ins[0] in self.const else ins[:2]
        elif op in _RECURRENT:
            picked = [ins[k] for k in (0, 5, 6) if k < len(ins)]
        elif op in ("Conv", "Gemm", "BatchNormalization", "MaxPool", "AveragePool", "ReduceMean"):
            picked = ins[:1]
        else:
            picked = ins
        return [i for i in picked if i and i not in self.const]

    def _check_supported(self) -> None:
        bad = [
            node
            for node in self.data_nodes
            if node.op_type not in SUPPORTED_OPS or node.domain not in ("", "ai.onnx")
        ]
        if not bad:
            return
        first = bad[0]
        op = (
            f"{first.domain}.{first.op_type}"
            if first.domain not in ("", "ai.onnx")
            else first.op_type
        )
        others = sorted({n.op_type for n in bad[1:]} - {first.op_type})
        also = f" (nor are {', '.join(others)})" if others else ""
        raise self.fail(
            f"node '{self.label[id(first)]}' ({op}) is not supported{also};"
            f" supported: {', '.join(SUPPORTED_OPS)}"
        )

    def _infer_shapes(self) -> dict[str, tuple[int, ...]]:
        try:
            inferred = shape_inference.infer_shapes(self.model, strict_mode=True, data_prop=True)
        except Exception as exc:  # onnx.shape_inference.InferenceError, or a C++ error
            raise self.fail(f"ONNX shape inference failed ({_first_line(exc)})") from None
        shapes: dict[str, tuple[int, ...]] = dict(self.init_dims)
        self.partial: dict[str, tuple[int | None, ...]] = {}
        g = inferred.graph
        for value in (*g.input, *g.value_info, *g.output):
            ttype = value.type.tensor_type
            if value.type.HasField("tensor_type") and ttype.HasField("shape"):
                dims = tuple(
                    d.dim_value if d.HasField("dim_value") else None for d in ttype.shape.dim
                )
                if None in dims:
                    self.partial.setdefault(value.name, dims)
                else:
                    shapes.setdefault(value.name, dims)
        return shapes

    def reshaped(self, node: onnx.NodeProto) -> tuple[int, ...]:
        """A Reshape's output shape; one dimension inference left open follows from the size."""
        out = self.partial.get(node.output[0])
        if node.output[0] not in self.shapes and out is not None and out.count(None) == 1:
            known = math.prod(d for d in out if d is not None)
            size = math.prod(self.shape(node.input[0], node))
            if known and size % known == 0:
                self.shapes[node.output[0]] = tuple(size // known if d is None else d for d in out)
        return self.shape(node.output[0], node)

    def shape(self, name: str, node: onnx.NodeProto | None = None) -> tuple[int, ...]:
        shape = self.shapes.get(name)
        if shape is None or 0 in shape:
            where = f" (read by node '{self.label[id(node)]}')" if node is not None else ""
            raise self.fail(
                f"ONNX shape inference left the shape of '{name}'{where} unknown"
                " (export with fixed input sizes)"
            )
        return shape

    # --- names ----------------------------------------------------------------------

    def _name_nodes(self) -> None:
        """Layer names from node names: weight layers first, so they keep the short name."""
        for value in self.real_inputs:
            self._take(_sanitize(value.name) or "input")
        self.node_name: dict[int, str] = {}
        order = sorted(self.data_nodes, key=lambda n: n.op_type not in _WEIGHT_OPS)
        for node in order:
            raw = self.label[id(node)]
            parts = [p for p in raw.split("/") if p]
            full = ".".join(_sanitize(p) for p in parts)
            if parts and re.fullmatch(rf"{node.op_type}(_\d+)?", parts[-1]) and len(parts) > 1:
                parts = parts[:-1]  # TorchScript scopes end in the op: /conv1/Conv
            # TorchScript repeats the parent in a child's scope: /layer2/downsample/downsample.0
            parts = [
                p
                for i, p in enumerate(parts)
                if not any(q.startswith(p + ".") for q in parts[i + 1 :])
            ]
            short = ".".join(_sanitize(p) for p in parts)
            short = re.sub(r"^node_", "", short)
            candidates = [short, full, f"{short}.{node.op_type.lower()}"]
            self.node_name[id(node)] = self._take(*[c for c in candidates if c])

    def _take(self, *candidates: str) -> str:
        for name in candidates or ("layer",):
            if name not in self.names:
                self.names.add(name)
                return name
        base, k = candidates[0] if candidates else "layer", 2
        while f"{base}_{k}" in self.names:
            k += 1
        self.names.add(f"{base}_{k}")
        return f"{base}_{k}"

    # --- inputs ---------------------------------------------------------------------

    def _inputs(self) -> dict[str, dict[str, Any]]:
        specs: dict[str, dict[str, Any]] = {}
        for value in self.real_inputs:
            if value.name not in self.needed:
                continue
            shape = self.shape(value.name)
            items, dims = self._input_layout(value, shape)
            if len(dims) not in (1, 3):
                raise self.fail(
                    f"input '{value.name}' has shape {list(shape)}: expected [N, C, H, W],"
                    " [N, F], a sequence [T, 1, F] or token indices"
                )
            name = _sanitize(value.name) or "input"
            spec: dict[str, Any] = {"shape": list(dims)}
            if items > 1:
                spec["seq"] = items
            specs[name] = spec
            self.values[value.name] = _Value(name, Shape(dims, _seq(items)))
        return specs

    def _input_layout(
        self, value: onnx.ValueInfoProto, shape: tuple[int, ...]
    ) -> tuple[int, tuple[int, ...]]:
        """Items and item dims of a network input, as its first consumer reads it."""
        readers = self.consumers.get(value.name, [])
        first = readers[-1] if readers else None  # consumers were collected backwards
        if value.type.tensor_type.elem_type in _INT_TYPES or (
            first is not None and first.op_type == "Gather" and first.input[0] in self.const
        ):
            return math.prod(shape), (1,)  # token indices: every axis is an item
        if first is not None and first.op_type in _RECURRENT and first.input[0] == value.name:
            return _item_shape(shape, len(shape) - 1)
        if len(shape) == 3:  # [N, T, F] or [T, N, F]: a sequence of vectors
            return _item_shape(shape, 2)
        if len(shape) == 1:
            return 1, shape
        return _item_shape(shape, 1)

    # --- building layers --------------------------------------------------------------

    def emit(
        self, node: onnx.NodeProto, op: str, inputs: Sequence[str], out: Shape, **attrs: Any
    ) -> _Value:
        name = self.node_name[id(node)]
        layer: dict[str, Any] = {"name": name, "op": op}
        if len(inputs) == 1:
            layer["input"] = inputs[0]
        else:
            layer["inputs"] = list(inputs)
        layer.update(attrs)
        self.layers.append(layer)
        self.layer_of[name] = layer
        self.node_of[name] = node
        self.expected[name] = (out, self.label[id(node)])
        return _Value(name, out)

    def value(self, name: str, node: onnx.NodeProto) -> _Value:
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
        if key not in self.adapters:
            op = "flatten" if len(dims) == 1 else "reshape"
            name_ = self._take(f"{value.ref}.{op}")
            layer: dict[str, Any] = {"name": name_, "op": op, "input": value.ref}
            if op == "reshape":
                layer["shape"] = list(dims)
            self.layers.append(layer)
            shape = Shape(dims, have.seq)
            self.expected[name_] = (shape, self.label[id(node)])
            self.adapters[key] = _Value(name_, shape)
        return self.adapters[key].ref

    def has_weight(self, node: onnx.NodeProto, index: int, what: str) -> bool:
        """Whether an optional constant input is given (an activation there is an error)."""
        if index >= len(node.input) or not node.input[index]:
            return False
        name = node.input[index]
        if name not in self.const:
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

    def _convert(self, node: onnx.NodeProto) -> None:
        handler = _HANDLERS[node.op_type]
        handler(self, node)

    # --- final check ----------------------------------------------------------------

    def _cross_check(self, network: dict[str, Any]) -> None:
        """hitm's own shape inference must agree with ONNX's on every layer."""
        try:
            parsed = parse_network(network, self.path.stem)
        except DescriptionError as exc:
            raise self.fail(f"the imported network is not valid: {exc}") from None
        for layer in parsed.layers:
            want, label = self.expected[layer.name]
            if layer.shape != want:
                raise self.fail(
                    f"node '{label}': hitm's {layer.op} '{layer.name}' gives {layer.shape},"
                    f" ONNX gives {want}"
                )


def _refs(layer: Mapping[str, Any]) -> list[str]:
    ins = layer.get("inputs") or [layer["input"]]
    return [*ins, *([layer["init"]] if layer.get("init") else [])]


def _attrs(node: onnx.NodeProto) -> dict[str, Any]:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _pair(values: Sequence[int]) -> int | list[int]:
    return values[0] if values[0] == values[1] else list(values)


def _window_out(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """hitm's output size rule (PyTorch's): the last window starts inside the input."""
    span = d * (k - 1) + 1
    if size + 2 * p < span:
        return 0
    if ceil_mode:
        out = -(-(size + 2 * p - span) // s) + 1
        if (out - 1) * s >= size + p:
            out -= 1
        return out
    return (size + 2 * p - span) // s + 1


def _padding(
    conv: _Converter,
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
            if _window_out(size, k, s, p, d, ceil_mode) == out[axis]
        ]
        if not fits:
            rule = (
                " and follows PyTorch's ceil_mode (the last window starts inside the input)"
                if ceil_mode
                else ""
            )
            raise conv.node_fail(
                node,
                f"has padding {pads if auto == 'NOTSET' else auto} that no symmetric padding"
                f" reproduces (ONNX output {list(out)}); hitm pads both sides of an axis alike"
                + rule,
            )
        chosen.append(fits[0])
    return chosen


def _conv(conv: _Converter, node: onnx.NodeProto) -> None:
    x = conv.shape(node.input[0], node)
    w = conv.weight_dims(node, 1, "weight")
    if len(x) != 4 or w is None or len(w) != 4:
        raise conv.node_fail(
            node, f"has input {list(x)}: only 2-D convolutions ([N, C, H, W]) are supported"
        )
    a = _attrs(node)
    out = conv.shape(node.output[0], node)
    kernel = list(a.get("kernel_shape", w[2:]))
    strides = list(a.get("strides", [1, 1]))
    dilations = list(a.get("dilations", [1, 1]))
    padding = _padding(conv, node, a, x[2:], out[2:], kernel, strides, dilations)
    ref = conv.need(node.input[0], node, x[0], tuple(x[1:]))
    attrs: dict[str, Any] = {"out_channels": w[0], "kernel": _pair(kernel)}
    if strides != [1, 1]:
        attrs["stride"] = _pair(strides)
    if padding != [0, 0]:
        attrs["padding"] = _pair(padding)
    if dilations != [1, 1]:
        attrs["dilation"] = _pair(dilations)
    if a.get("group", 1) != 1:
        attrs["groups"] = a["group"]
    if not conv.has_weight(node, 2, "bias"):
        attrs["bias"] = False
    conv.values[node.output[0]] = conv.emit(
        node, "conv2d", [ref], Shape(tuple(out[1:]), _seq(out[0])), **attrs
    )


def _pool(conv: _Converter, node: onnx.NodeProto) -> None:
    x = conv.shape(node.input[0], node)
    if len(x) != 4:
        raise conv.node_fail(
            node, f"has input {list(x)}: only 2-D pooling ([N, C, H, W]) is supported"
        )
    if len(node.output) > 1 and node.output[1] in conv.needed:
        raise conv.node_fail(node, "has its indices read: not supported")
    a = _attrs(node)
    kernel = list(a["kernel_shape"])
    strides = list(a.get("strides", [1, 1]))
    if list(a.get("dilations", [1, 1])) != [1, 1]:
        raise conv.node_fail(node, "is dilated: hitm's pools have no dilation")
    ceil_mode = bool(a.get("ceil_mode", 0))
    out = conv.shape(node.output[0], node)
    padding = _padding(conv, node, a, x[2:], out[2:], kernel, strides, [1, 1], ceil_mode)
    ref = conv.need(node.input[0], node, x[0], tuple(x[1:]))
    attrs: dict[str, Any] = {"kernel": _pair(kernel)}
    if strides != kernel:
        attrs["stride"] = _pair(strides)
    if padding != [0, 0]:
        attrs["padding"] = _pair(padding)
    if ceil_mode:
        attrs["ceil_mode"] = True
    op = "maxpool" if node.op_type == "MaxPool" else "avgpool"
    conv.values[node.output[0]] = conv.emit(
        node, op, [ref], Shape(tuple(out[1:]), _seq(out[0])), **attrs
    )


def _global_avgpool(conv: _Converter, node: onnx.NodeProto) -> None:
    x = conv.shape(node.input[0], node)
    out = conv.shape(node.output[0], node)
    # ReduceMean is a global average pool when it leaves exactly [N, C] (keepdims or not).
    if len(x) != 4 or (node.op_type == "ReduceMean" and tuple(out) not in ((*x[:2], 1, 1), x[:2])):
        raise conv.node_fail(
            node,
            f"maps {list(x)} to {list(out)}: only a mean over H and W of [N, C, H, W] is supported",
        )
    ref = conv.need(node.input[0], node, x[0], tuple(x[1:]))
    conv.values[node.output[0]] = conv.emit(
        node, "global_avgpool", [ref], Shape((x[1], 1, 1), _seq(x[0]))
    )


def _batchnorm(conv: _Converter, node: onnx.NodeProto) -> None:
    x = conv.shape(node.input[0], node)
    if len(x) < 2:
        raise conv.node_fail(node, f"has input {list(x)}: expected [N, C, ...]")
    ref = conv.need(node.input[0], node, x[0], tuple(x[1:]))
    conv.values[node.output[0]] = conv.emit(
        node, "batchnorm", [ref], Shape(tuple(x[1:]), _seq(x[0]))
    )


def _same(op: str) -> Callable[[_Converter, onnx.NodeProto], None]:
    def handler(conv: _Converter, node: onnx.NodeProto) -> None:
        value = conv.value(node.input[0], node)
        conv.values[node.output[0]] = conv.emit(node, op, [value.ref], value.shape)

    return handler


def _linear(
    conv: _Converter, node: onnx.NodeProto, x_name: str, lead: int, k: int, n: int, bias: bool
) -> None:
    x = conv.shape(x_name, node)
    if x[-1] != k:
        raise conv.node_fail(node, f"multiplies {list(x)} by a {k}-row weight")
    items = math.prod(x[:lead])
    ref = conv.need(x_name, node, items, (k,))
    attrs = {"out_features": n} if bias else {"out_features": n, "bias": False}
    value = conv.emit(node, "linear", [ref], Shape((n,), _seq(items)), **attrs)
    conv.values[node.output[0]] = value
    if not bias:
        conv.pending_bias[node.output[0]] = conv.layers[-1]


def _gemm(conv: _Converter, node: onnx.NodeProto) -> None:
    a = _attrs(node)
    x = conv.shape(node.input[0], node)
    w = conv.weight_dims(node, 1, "weight")
    if a.get("transA", 0) or len(x) != 2 or w is None or len(w) != 2:
        raise conv.node_fail(node, "must be x · W with x [N, K] and a constant 2-D W (transA=0)")
    k, n = (w[1], w[0]) if a.get("transB", 0) else (w[0], w[1])
    bias = conv.has_weight(node, 2, "bias")
    _linear(conv, node, node.input[0], 1, k, n, bias)


def _matmul(conv: _Converter, node: onnx.NodeProto) -> None:
    x_name, w_name = node.input[0], node.input[1]
    if x_name in conv.const or w_name not in conv.const:
        what = (
            "two activations"
            if w_name not in conv.const and x_name not in conv.const
            else "a constant by an activation"
        )
        raise conv.node_fail(
            node,
            f"multiplies {what}: only activations × a constant weight (a linear layer) are supported",
        )
    w = conv.shape(w_name, node)
    x = conv.shape(x_name, node)
    if len(w) != 2:
        raise conv.node_fail(
            node, f"has a {len(w)}-D weight {list(w)}: only 2-D weights are supported"
        )
    _linear(conv, node, x_name, len(x) - 1, w[0], w[1], bias=False)


def _elementwise(conv: _Converter, node: onnx.NodeProto) -> None:
    data = [i for i in node.input if i not in conv.const]
    out = conv.shape(node.output[0], node)
    shapes = [conv.shape(i, node) for i in data]
    if any(s != out for s in shapes):
        raise conv.node_fail(
            node,
            f"broadcasts {' and '.join(str(list(s)) for s in shapes)} to {list(out)}:"
            " hitm's element-wise ops take equal shapes",
        )
    first = conv.value(data[0], node)
    if len(data) == 1:
        const = next(i for i in node.input if i in conv.const)
        linear = conv.pending_bias.get(data[0])
        if (
            node.op_type == "Add"
            and linear is not None
            and len(conv.consumers.get(data[0], [])) == 1
            and data[0] not in conv.graph_outputs
            and math.prod(conv.shape(const, node)) == linear["out_features"]
        ):
            del linear["bias"]  # MatMul + Add(bias) is one linear layer with a bias
            del conv.pending_bias[data[0]]
            conv.values[node.output[0]] = first
            return
        # A constant operand (a scale, an offset) runs on digital units: identity-like.
        conv.values[node.output[0]] = conv.emit(node, "identity", [first.ref], first.shape)
        return
    if node.op_type not in ("Add", "Mul"):
        raise conv.node_fail(node, "of two activations is not supported (only with a constant)")
    refs = [first.ref] + [conv.need(i, node, first.shape.items, first.shape.dims) for i in data[1:]]
    conv.values[node.output[0]] = conv.emit(node, node.op_type.lower(), refs, first.shape)


def _concat(conv: _Converter, node: onnx.NodeProto) -> None:
    if any(i in conv.const for i in node.input):
        raise conv.node_fail(node, "concatenates a constant: not supported")
    out = conv.shape(node.output[0], node)
    axis = _attrs(node)["axis"] % len(out)
    if axis == 0:
        raise conv.node_fail(
            node,
            "concatenates on axis 0 (batch or time): only the channel/feature axis is supported",
        )
    refs = []
    for name in node.input:
        items, dims = _item_shape(conv.shape(name, node), axis)
        refs.append(conv.need(name, node, items, dims))
    items, dims = _item_shape(out, axis)
    if len(refs) == 1:
        first = conv.values[node.input[0]]
        conv.values[node.output[0]] = conv.emit(node, "identity", refs, first.shape)
        return
    conv.values[node.output[0]] = conv.emit(node, "concat", refs, Shape(dims, _seq(items)))


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


def _layout(conv: _Converter, node: onnx.NodeProto) -> None:
    """Flatten, Reshape, Squeeze, Unsqueeze, Transpose, Slice: same items, maybe new dims."""
    value = conv.value(node.input[0], node)
    x = conv.shape(node.input[0], node)
    out = conv.reshaped(node)
    have = value.shape
    if node.op_type in ("Slice", "Expand") and out != x:
        raise conv.node_fail(
            node,
            f"turns {list(x)} into {list(out)}: only a {node.op_type} that keeps the shape is supported",
        )
    if node.op_type == "Transpose":
        a = _attrs(node)
        perm = list(a["perm"]) if "perm" in a else list(range(len(x)))[::-1]
        item_axes = _item_axes(x, have.size)
        moved = [p for p in perm if p in item_axes and x[p] > 1]
        if moved != sorted(moved):
            raise conv.node_fail(
                node, f"reorders the axes of an item ({list(x)} by perm {perm}): not supported"
            )
    dims = _item_dims(out, have.items, have.size)
    if dims is not None and node.op_type not in ("Flatten", "Reshape"):
        dims = have.dims  # moving or dropping unit axes keeps the item: consumers adapt if needed
    if dims is None:
        raise conv.node_fail(
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
    conv.values[node.output[0]] = conv.emit(node, op, [value.ref], Shape(dims, have.seq), **attrs)


def _item_axes(shape: Sequence[int], size: int) -> set[int]:
    prod, k = 1, len(shape)
    while prod < size and k > 0:
        k -= 1
        prod *= shape[k]
    return set(range(k, len(shape)))


def _gather(conv: _Converter, node: onnx.NodeProto) -> None:
    axis = _attrs(node).get("axis", 0)
    table, indices = node.input[0], node.input[1]
    if table not in conv.const:
        _select(conv, node)
        return
    dims = conv.shape(table, node)
    if len(dims) != 2 or axis != 0:
        raise conv.node_fail(
            node,
            f"reads a {len(dims)}-D table on axis {axis}: an embedding is a 2-D table on axis 0",
        )
    idx = conv.shape(indices, node)
    items = math.prod(idx)
    ref = conv.need(indices, node, items, (1,))
    conv.values[node.output[0]] = conv.emit(
        node, "embedding", [ref], Shape((dims[1],), _seq(items)), vocab=dims[0], dim=dims[1]
    )


def _select(conv: _Converter, node: onnx.NodeProto) -> None:
    """Gather of one index from an activation: a no-op, or the last step of an RNN."""
    value = conv.value(node.input[0], node)
    x = conv.shape(node.input[0], node)
    axis = _attrs(node).get("axis", 0) % len(x)
    k = conv.const_scalar(node.input[1])
    if k is not None and x[axis] == 1:  # h_n[-1] of a one-layer, one-way RNN: a no-op
        conv.values[node.output[0]] = conv.emit(node, "identity", [value.ref], value.shape)
        return
    steps = value.shape.items
    out = conv.shape(node.output[0], node)
    chain = _sequence_source(conv, node.input[0])
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
            shape, label = conv.expected[layer["name"]]
            conv.expected[layer["name"]] = (Shape(shape.dims), label)
        conv.values[node.output[0]] = conv.emit(
            node, "identity", [value.ref], Shape(value.shape.dims)
        )
        return
    raise conv.node_fail(
        node,
        "selects part of an activation: only an embedding (Gather on a constant table),"
        " a size-1 axis, or the last step of a recurrent layer's output are supported",
    )


def _sequence_source(conv: _Converter, name: str) -> list[dict[str, Any]] | None:
    """Layers from ``name`` back to a recurrent layer returning its sequence, if the way
    there is identities each read once (so the recurrent layer may return its last step)."""
    chain: list[dict[str, Any]] = []
    while len(conv.consumers.get(name, [])) == 1 and name not in conv.graph_outputs:
        layer = conv.layer_of.get(conv.values[name].ref)
        if layer is None:
            return None
        chain.append(layer)
        if layer["op"] in _RECURRENT.values():
            return chain if layer.get("return", "sequence") == "sequence" else None
        if layer["op"] not in ("identity", "dropout"):
            return None
        name = conv.node_of[layer["name"]].input[0]
    return None


def _clip(conv: _Converter, node: onnx.NodeProto) -> None:
    """ReLU6 and ReLU, as exporters write them."""
    a = _attrs(node)
    bounds = [a.get("min"), a.get("max")]
    for i in (1, 2):
        if i < len(node.input) and node.input[i]:
            bounds[i - 1] = conv.const_scalar(node.input[i])
            if bounds[i - 1] is None:
                raise conv.node_fail(node, "has a bound that is not a constant scalar")
    low, high = bounds
    op = {(0.0, 6.0): "relu6", (0.0, None): "relu"}.get((low, high))
    if op is None:
        raise conv.node_fail(
            node, f"clips to [{low}, {high}]: only ReLU6's [0, 6] and ReLU's [0, ∞) are supported"
        )
    value = conv.value(node.input[0], node)
    conv.values[node.output[0]] = conv.emit(node, op, [value.ref], value.shape)


def _recurrent(conv: _Converter, node: onnx.NodeProto) -> None:
    a = _attrs(node)
    op = _RECURRENT[node.op_type]
    x = conv.shape(node.input[0], node)
    has_w = conv.has_weight(node, 1, "input weights W")
    if len(x) != 3 or not has_w or not conv.has_weight(node, 2, "recurrent weights R"):
        raise conv.node_fail(node, f"has input {list(x)}: expected [T, N, F] and weights W, R")
    layout = a.get("layout", 0)
    steps, batch = (x[1], x[0]) if layout else (x[0], x[1])
    if batch != 1:
        raise conv.node_fail(
            node, f"has a batch of {batch}: hitm runs a recurrent layer on one sequence (batch 1)"
        )
    if node.op_type == "LSTM" and len(node.input) > 7 and node.input[7]:
        raise conv.node_fail(node, "has peephole weights (P): not supported")
    direction = a.get("direction", b"forward")
    direction = direction.decode() if isinstance(direction, bytes) else str(direction)
    dirs = 2 if direction == "bidirectional" else 1
    hidden = a["hidden_size"] if "hidden_size" in a else conv.shape(node.input[2], node)[2]
    ref = conv.need(node.input[0], node, steps, (x[2],))
    attrs: dict[str, Any] = {"hidden": hidden}
    if not conv.has_weight(node, 3, "bias B"):
        attrs["bias"] = False
    if dirs == 2:
        attrs["bidirectional"] = True
    states = [node.input[k] for k in (5, 6) if k < len(node.input) and node.input[k]]
    states = [s for s in states if s not in conv.const]
    if states:
        if dirs == 2:
            raise conv.node_fail(
                node, "is bidirectional with a computed initial state: not supported"
            )
        # hitm's init seeds the recurrence from one layer; initial_c adds no other work.
        attrs["init"] = conv.need(states[0], node, 1, (hidden,))
    outputs = list(node.output) + [""] * (3 - len(node.output))
    y, finals = outputs[0], [o for o in outputs[1:] if o]
    reads_y = bool(y) and y in conv.needed
    reads_final = any(conv.consumers.get(o) for o in finals)
    if reads_y and reads_final:
        raise conv.node_fail(
            node,
            "has both its sequence Y and its final state read: hitm's layer returns one of them",
        )
    if reads_y:
        shape = Shape((dirs * hidden,), _seq(steps))
    else:
        attrs["return"] = "last"
        shape = Shape((dirs * hidden,))
    value = conv.emit(node, op, [ref], shape, **attrs)
    for out in [y] if reads_y else finals:
        conv.values[out] = value


_HANDLERS: dict[str, Callable[[_Converter, onnx.NodeProto], None]] = {
    "Conv": _conv,
    "Gemm": _gemm,
    "MatMul": _matmul,
    **dict.fromkeys(_RECURRENT, _recurrent),
    "Gather": _gather,
    "MaxPool": _pool,
    "AveragePool": _pool,
    "GlobalAveragePool": _global_avgpool,
    "ReduceMean": _global_avgpool,
    "BatchNormalization": _batchnorm,
    **{op: _same(hitm_op) for op, hitm_op in _ACTIVATIONS.items()},
    "Add": _elementwise,
    "Mul": _elementwise,
    "Sub": _elementwise,
    "Div": _elementwise,
    "Clip": _clip,
    "Concat": _concat,
    **dict.fromkeys(("Flatten", "Reshape", "Squeeze", "Unsqueeze", "Transpose", "Slice"), _layout),
    "Expand": _layout,
    "Identity": _same("identity"),
    "Cast": _same("identity"),
    "CastLike": _same("identity"),
    "Dropout": _same("dropout"),
}
