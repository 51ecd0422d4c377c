"""Small transformers exported to ONNX by both PyTorch exporters, for hitm's ONNX tests.

Not run by the tests (torch is not a dependency of hitm). Run in a scratch
environment outside the repository, from the repository root::

    python3 -m venv /tmp/tx && /tmp/tx/bin/pip install torch torchvision transformers onnx onnxscript
    /tmp/tx/bin/python tests/data/export_onnx_transformers.py

Each model is built from a config with random weights (nothing downloaded):
torchvision's VisionTransformer and Hugging Face's BERT, GPT-2 and CLIP's vision
and text towers, two layers of width 32 with two heads. Every parameter is redrawn
(normal, σ = 0.02) so that no exporter folds away a zero bias. Each is exported with
``dynamo=True`` (opset 18) and ``dynamo=False`` (TorchScript, opset 17) to
``tests/data/transformers/<model>_<exporter>.onnx``, and the ViT once more with
TorchScript at opset 16, where layer norms are written out (``vit_opset16.onnx``);
the weights are dropped
(hitm never reads them: the files keep the graph, the shapes and the small
constants) and so are the exporter's per-node stack traces.

With torch 2.13.0+cpu, torchvision 0.28.0 and transformers it printed (model,
exporter, params, MACs by PyTorch's ``FlopCounterMode``)::

    vit dynamo ok 42282 183744
    vit torchscript ok 42282 183744
    bert dynamo ok 20928 139264
    bert torchscript ok 20928 139264
    gpt2 dynamo ok 29184 204800
    gpt2 torchscript ok 29184 204800
    clip_vision dynamo ok 41984 183424
    clip_vision torchscript ok 41984 183424
    clip_text dynamo ok 20864 139264
    clip_text torchscript ok 20864 139264
    vit opset16 ok
    ops dynamo ok 2080 60416
    ops torchscript ok 2080 60416
    lrn ok

which tests/test_onnx_transformers.py pins.
"""

import os
import sys
import types
import warnings

import onnx
import torch

# This torchvision wheel lacks its compiled detection ops; the models need none of them.
sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")

from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402
from torchvision.models.vision_transformer import VisionTransformer  # noqa: E402
from transformers import (  # noqa: E402
    BertConfig,
    BertModel,
    CLIPTextConfig,
    CLIPTextModel,
    CLIPVisionConfig,
    CLIPVisionModel,
    GPT2Config,
    GPT2Model,
)

OUT = "tests/data/transformers"


def randomise(m: torch.nn.Module) -> torch.nn.Module:
    """Every parameter redrawn, so that no exporter folds a zero bias away."""
    with torch.no_grad():
        for p in m.parameters():
            p.normal_(0, 0.02)
    return m.eval()


def count(m: torch.nn.Module, args: tuple) -> int:
    """MACs as PyTorch counts them: every product of two activations included (the math
    attention backend, in training mode so no fused kernel skips the count)."""
    m.train()
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as f:
        m(*args)
    m.eval()
    return f.get_total_flops() // 2


class Hidden(torch.nn.Module):
    """A Hugging Face model called on its one input, returning its last hidden state."""

    def __init__(self, model: torch.nn.Module, key: str) -> None:
        super().__init__()
        self.model, self.key = model, key

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kwargs = {self.key: x}
        if "use_cache" in self.model.forward.__code__.co_varnames:
            kwargs["use_cache"] = False
        return self.model(**kwargs).last_hidden_state


def save_graph_only(path: str) -> None:
    """Rewrite an export without its weights (hitm never reads them: the graph, the shapes
    and the small constants stay) and without the exporter's per-node stack traces."""
    model = onnx.load(path)
    for node in model.graph.node:
        del node.metadata_props[:]
        node.doc_string = ""
    weights = os.path.basename(path).replace(".onnx", ".weights")
    onnx.save(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
              location=weights, size_threshold=1024)  # fmt: skip
    for leftover in (f"{OUT}/{weights}", path + ".data"):  # none if every tensor was small
        if os.path.exists(leftover):
            os.remove(leftover)


def export(m: torch.nn.Module, args: tuple, stem: str, names: list[str]) -> None:
    params = sum(p.numel() for p in m.parameters())
    macs = count(m, args)
    for kind, dynamo in (("dynamo", True), ("torchscript", False)):
        path = f"{OUT}/{stem}_{kind}.onnx"
        opset = 18 if dynamo else 17
        torch.onnx.export(m, args, path, dynamo=dynamo, opset_version=opset, input_names=names)
        save_graph_only(path)
        print(stem, kind, "ok", params, macs)


def export_opset16(m: torch.nn.Module, args: tuple, stem: str, names: list[str]) -> None:
    """TorchScript at opset 16, before LayerNormalization: the norm written out as
    ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul and Add."""
    path = f"{OUT}/{stem}_opset16.onnx"
    torch.onnx.export(m, args, path, dynamo=False, opset_version=16, input_names=names)
    save_graph_only(path)
    print(stem, "opset16 ok")


class Ops(torch.nn.Module):
    """The ops the other models do not export: ZeroPad2d before a conv (TorchScript keeps
    the Pad), an attention written with einsum (Einsum) under a causal mask (Where),
    unbind (Split), GELU (opset 20's Gelu for dynamo) and a token slice; 16 patch tokens,
    2 heads of 8."""

    def __init__(self) -> None:
        super().__init__()
        self.pad = torch.nn.ZeroPad2d(1)
        self.conv = torch.nn.Conv2d(3, 16, 3)
        self.pool = torch.nn.MaxPool2d(2)
        self.qkv = torch.nn.Linear(16, 48)
        self.out = torch.nn.Linear(16, 16)
        self.fc = torch.nn.Linear(16, 32)
        self.act = torch.nn.GELU()
        self.register_buffer("mask", torch.ones(16, 16).triu(1).bool())  # causal: Where

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pool(self.conv(self.pad(x)))  # [1, 16, 4, 4]
        t = y.flatten(2).transpose(1, 2)  # [1, 16, 16]: 16 tokens
        q, k, v = self.qkv(t).reshape(1, 16, 3, 2, 8).permute(2, 0, 3, 1, 4)  # [1, 2, 16, 8]
        s = torch.einsum("bhid,bhjd->bhij", q, k).masked_fill(self.mask, float("-inf"))
        s = s.softmax(-1)
        c = torch.einsum("bhij,bhjd->bhid", s, v).transpose(1, 2).reshape(1, 16, 16)
        return self.act(self.fc(self.out(c)))[:, 1:]


def export_ops() -> None:
    m = Ops().eval()
    x = (torch.randn(1, 3, 8, 8),)
    for kind, dynamo, opset in (("dynamo", True, 20), ("torchscript", False, 17)):
        path = f"{OUT}/ops_{kind}.onnx"
        torch.onnx.export(m, x, path, dynamo=dynamo, opset_version=opset, input_names=["image"])
        save_graph_only(path)
        print("ops", kind, "ok", sum(p.numel() for p in m.parameters()), count(m, x))


def write_lrn() -> None:
    """ONNX's LRN, which PyTorch never emits (it writes LocalResponseNorm out): a conv
    3→4 (k3) on 8×8 and an LRN of size 5, built with onnx.helper as AlexNet-era
    converters write it; random weights, dropped as for the exports."""
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(torch.randn(4, 3, 3, 3).numpy(), "w")
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["x", "w"], ["conv"], name="conv"),
            helper.make_node("LRN", ["conv"], ["norm"], name="norm", size=5),
        ],
        "lrn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("norm", TensorProto.FLOAT, [1, 4, 6, 6])],
        [weight],
    )
    path = f"{OUT}/lrn.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    save_graph_only(path)
    print("lrn ok")


def main() -> None:
    warnings.filterwarnings("ignore")
    torch.manual_seed(0)
    image = (torch.randn(1, 3, 32, 32),)
    ids = (torch.randint(0, 100, (1, 8)),)
    vit = VisionTransformer(image_size=32, patch_size=16, num_layers=2, num_heads=2,
                            hidden_dim=32, mlp_dim=64, num_classes=10)  # fmt: skip
    export(randomise(vit), image, "vit", ["image"])
    export_opset16(vit, image, "vit", ["image"])
    bert = BertModel(
        BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                   intermediate_size=64, max_position_embeddings=16, attn_implementation="eager"),
        add_pooling_layer=False,
    )  # fmt: skip
    export(Hidden(randomise(bert), "input_ids").eval(), ids, "bert", ["input_ids"])
    gpt2 = GPT2Model(GPT2Config(vocab_size=100, n_embd=32, n_layer=2, n_head=2, n_positions=16,
                                attn_implementation="eager"))  # fmt: skip
    export(Hidden(randomise(gpt2), "input_ids").eval(), ids, "gpt2", ["input_ids"])
    clipv = CLIPVisionModel(
        CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, image_size=32, patch_size=16,
                         attn_implementation="eager")
    )  # fmt: skip
    export(Hidden(randomise(clipv), "pixel_values").eval(), image, "clip_vision", ["pixel_values"])
    clipt = CLIPTextModel(
        CLIPTextConfig(vocab_size=100, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                       num_attention_heads=2, max_position_embeddings=16,
                       attn_implementation="eager")
    )  # fmt: skip
    export(Hidden(randomise(clipt), "input_ids").eval(), ids, "clip_text", ["input_ids"])
    export_ops()
    write_lrn()


if __name__ == "__main__":
    main()
