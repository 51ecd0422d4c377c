"""Read an ONNX model into an instance document (the mapping a YAML instance parses to).

:func:`import_onnx` turns a real ONNX graph into the same ``{"name",
"network": {"inputs", "layers"}, "hardware"}`` document that an instance file
holds, together with the shape ONNX gives each layer. The caller parses the
document with hitm's one parser and checks, with :func:`check_shapes`, that
hitm's shape inference agrees with ONNX's on every layer
(:func:`hitm.description.load.onnx_document` does both). Only shapes are read:
initializer dims, never their data (external data files need not exist).

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

Modules: :mod:`.read` (load, check, infer shapes), :mod:`.graph` (data nodes
and constants), :mod:`.names` (layer names), :mod:`.build` (the layers and
where each tensor lives), :mod:`.handlers` (one handler per op, one table),
:mod:`.convert` (the pass), :mod:`.dump` (YAML out).
"""

from hitm.description.onnx.convert import OnnxImport, check_shapes, import_onnx
from hitm.description.onnx.dump import dump_document
from hitm.description.onnx.handlers import SUPPORTED_OPS

__all__ = ["SUPPORTED_OPS", "OnnxImport", "check_shapes", "dump_document", "import_onnx"]
