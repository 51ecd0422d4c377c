"""Read an ONNX file: load it without external data, check it, and infer every shape.

Every failure is a :class:`~hitm.errors.DescriptionError` that starts with the
file's path: a file that does not parse or fails ``onnx.checker`` is "not a
valid ONNX model (...)", with the first line of what onnx said.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from google.protobuf.descriptor import FieldDescriptor
from onnx import helper, numpy_helper, shape_inference

from hitm.errors import DescriptionError

__all__ = [
    "InferredShapes",
    "fix_symbolic_batch",
    "fold_shape_subgraphs",
    "infer_shapes",
    "read_model",
]


@dataclass(frozen=True)
class InferredShapes:
    """Tensor shapes after ONNX shape inference, by tensor name.

    ``known`` holds every fully known shape (initializers' dims included);
    ``partial`` those with unknown dimensions (``None``), which a Reshape may
    still complete from its input's size.
    """

    known: dict[str, tuple[int, ...]]
    partial: dict[str, tuple[int | None, ...]]


def read_model(path: Path) -> onnx.ModelProto:
    """Load ``path`` without its external data and run ``onnx.checker`` on it."""
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
    if not _all_text(model):
        raise DescriptionError(
            f"{path}: not a valid ONNX model (a name, op type or string attribute is not UTF-8 text)"
        )
    return model


def _all_text(message: Any) -> bool:
    """Whether every string field of ``message``, at any depth, is text.

    protobuf hands back the undecodable strings of a damaged file as bytes (a
    name, an op type, the producer's version), which the checker lets through;
    a string attribute's bytes must decode too.
    """
    for field, value in message.ListFields():
        values = value if field.is_repeated else (value,)
        if field.type == FieldDescriptor.TYPE_STRING:
            if not all(isinstance(v, str) for v in values):
                return False
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            if not all(_all_text(v) for v in values):
                return False
        elif field.type == FieldDescriptor.TYPE_BYTES and isinstance(message, onnx.AttributeProto):
            try:
                for v in values:
                    v.decode("utf-8")
            except UnicodeDecodeError:
                return False
    return True


def fix_symbolic_batch(path: Path, model: onnx.ModelProto) -> None:
    """Set a symbolic first axis of an input (the batch) to 1, in place; others are errors."""
    weights = {t.name for t in model.graph.initializer}
    for value in model.graph.input:
        if value.name in weights:
            continue
        ttype = value.type.tensor_type
        if not value.type.HasField("tensor_type") or not ttype.HasField("shape"):
            raise DescriptionError(f"{path}: input '{value.name}' has no tensor shape")
        for axis, dim in enumerate(ttype.shape.dim):
            if dim.HasField("dim_value") and dim.dim_value > 0:
                continue
            if axis == 0:
                dim.Clear()
                dim.dim_value = 1
                continue
            what = f"'{dim.dim_param}'" if dim.dim_param else "unknown"
            raise DescriptionError(
                f"{path}: input '{value.name}' has a symbolic dimension {what} on axis {axis}"
                " (export with a fixed size; only the batch axis may be symbolic)"
            )


_FOLD_LIMIT = 4096  # elements: shapes, indices and masks, never weights


def fold_shape_subgraphs(path: Path, model: onnx.ModelProto, rounds: int = 8) -> InferredShapes:
    """Replace the nodes that compute small constants from shapes by ``Constant`` nodes,
    and return ONNX's shapes of the folded model (so they are inferred once more only
    when something was folded).

    TorchScript exports compute reshape and expand targets from ``Shape`` nodes
    through ``Gather``, ``Concat``, ``Equal``, ``Where`` and the like, which ONNX's
    shape inference does not follow through. With the input shapes fixed those
    values are constants: each such node is evaluated (ONNX's reference
    implementation) and replaced, and shape inference then sees the targets.
    Tensors above 4,096 elements, and weights, are never read.
    """
    from onnx.reference import ReferenceEvaluator

    graph = model.graph
    values: dict[str, np.ndarray] = {}
    for t in graph.initializer:
        if t.data_location != onnx.TensorProto.EXTERNAL and np.prod(t.dims) <= _FOLD_LIMIT:
            values[t.name] = numpy_helper.to_array(t)
    for node in graph.node:
        if node.op_type == "Constant" and node.attribute and node.output:
            array = np.asarray(_constant_value(node.attribute[0]))
            if array.size <= _FOLD_LIMIT:
                values[node.output[0]] = array
    for _ in range(rounds):
        inferred = infer_shapes(path, model)
        shapes = inferred.known
        changed = False
        nodes: list[onnx.NodeProto] = []
        for node in graph.node:
            nodes.append(node)
            if node.op_type == "Constant" or not node.output or node.output[0] in values:
                continue
            if node.op_type == "Shape":
                if node.input[0] not in shapes:
                    continue
                a = {x.name: helper.get_attribute_value(x) for x in node.attribute}
                dims = np.array(shapes[node.input[0]], dtype=np.int64)
                result = [dims[a.get("start", 0) : a.get("end", len(dims))]]
            elif node.domain in ("", "ai.onnx") and all(
                not name or name in values for name in node.input
            ):
                try:
                    feeds = {name: values[name] for name in node.input if name}
                    result = ReferenceEvaluator(node).run(None, feeds)
                except Exception:  # an op the reference cannot run here: leave it
                    continue
            else:
                continue
            arrays = [np.asarray(r) for r in result]
            # Shapes, indices and masks only: a computed float tensor (a class token
            # expanded to the batch) stays the learned tensor it is.
            if any(a.size > _FOLD_LIMIT or (a.dtype.kind == "f" and a.size > 1) for a in arrays):
                continue
            constants = []
            for name, array in zip(node.output, arrays, strict=False):
                values[name] = np.asarray(array)
                constants.append(
                    helper.make_node(
                        "Constant",
                        [],
                        [name],
                        name=f"{node.name or node.op_type}:{name}",
                        value=numpy_helper.from_array(np.asarray(array), name),
                    )
                )
            nodes[-1:] = constants
            changed = True
        if not changed:
            return inferred
        del graph.node[:]
        graph.node.extend(nodes)
    return infer_shapes(path, model)


def _constant_value(attribute: onnx.AttributeProto) -> Any:
    value = helper.get_attribute_value(attribute)
    return numpy_helper.to_array(value) if isinstance(value, onnx.TensorProto) else value


def infer_shapes(path: Path, model: onnx.ModelProto) -> InferredShapes:
    """Run ONNX shape inference (strict, with data propagation) over ``model``."""
    try:
        inferred = shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    except Exception as exc:  # onnx.shape_inference.InferenceError, or a C++ error
        raise DescriptionError(
            f"{path}: ONNX shape inference failed ({_first_line(exc)})"
        ) from None
    known: dict[str, tuple[int, ...]] = {t.name: tuple(t.dims) for t in model.graph.initializer}
    partial: dict[str, tuple[int | None, ...]] = {}
    g = inferred.graph
    for value in (*g.input, *g.value_info, *g.output):
        ttype = value.type.tensor_type
        if value.type.HasField("tensor_type") and ttype.HasField("shape"):
            dims = tuple(d.dim_value if d.HasField("dim_value") else None for d in ttype.shape.dim)
            if None in dims:
                partial.setdefault(value.name, dims)
            else:
                known.setdefault(value.name, dims)
    return InferredShapes(known, partial)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
