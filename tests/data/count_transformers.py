"""Independent counts: torchvision's ViTs (params, and MACs by PyTorch's own FLOP counter)
and the ViT-GPT2 captioner's params in Hugging Face transformers.

Not run by the tests (torch is not a dependency of hitm). Run in a scratch
environment outside the repository::

    python3 -m venv /tmp/tx && /tmp/tx/bin/pip install torch torchvision transformers
    /tmp/tx/bin/python tests/data/count_transformers.py

With torch 2.13.0+cpu, torchvision 0.28.0 and transformers (random weights from the
configs, nothing downloaded) it printed (params, MACs, MACs by op)::

    vit_b_16 86567656 17563828224 {'aten.convolution': 115605504, 'aten.addmm': 16732895232, 'aten.bmm': 715327488}
    vit_b_32 88224232 4409186304 {'aten.convolution': 115605504, 'aten.addmm': 4247500800, 'aten.bmm': 46080000}
    vit_l_16 304326632 61554712576 {'aten.convolution': 154140672, 'aten.addmm': 59493031936, 'aten.bmm': 1907539968}

    vit-gpt2 239195904 encoder 86389248 pooler 590592 decoder 152806656
    gpt2 124439808
    blip-vqa 361230140 vision 86090496 text_encoder 137258496 text_decoder 137881148

which tests/test_transformers.py, tests/test_backbones.py and
tests/test_zoo_transformers.py pin (instances/vit_gpt2_caption.yaml leaves out the
encoder's pooler, which the decoder never reads: 86,389,248 − 590,592 = 85,798,656;
instances/blip_vqa.yaml runs BLIP's vision tower at 224×224, not 384×384: a 197-row
position embedding, 380 · 768 = 291,840 params fewer). MACs are
``FlopCounterMode``'s FLOPs / 2. Two settings make the counter see every
product: training mode (``nn.MultiheadAttention`` in eval mode takes a fused
fast path the counter does not count; ViT's dropouts are 0.0, so training mode
computes the same thing) and the scaled-dot-product attention's math backend
(two batched matmuls, Q·Kᵀ and A·V: the ``aten.bmm`` above).
"""

import sys
import types

import torch

# This torchvision wheel lacks its compiled detection ops; the models need none of them.
sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")

from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402
from torchvision.models import vit_b_16, vit_b_32, vit_l_16  # noqa: E402

for build in (vit_b_16, vit_b_32, vit_l_16):
    model = build(weights=None).train()
    params = sum(p.numel() for p in model.parameters())
    image = torch.zeros(1, 3, 224, 224)
    with FlopCounterMode(display=False) as counter, torch.no_grad(), sdpa_kernel(SDPBackend.MATH):
        model(image)
    by_op = {str(op): flops // 2 for op, flops in counter.get_flop_counts()["Global"].items()}
    print(build.__name__, params, counter.get_total_flops() // 2, by_op)

from transformers import (  # noqa: E402
    BlipConfig,
    BlipForQuestionAnswering,
    GPT2Config,
    GPT2LMHeadModel,
    VisionEncoderDecoderConfig,
    VisionEncoderDecoderModel,
    ViTConfig,
)


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())  # tied weights once


decoder = GPT2Config(add_cross_attention=True, is_decoder=True)
captioner = VisionEncoderDecoderModel(
    VisionEncoderDecoderConfig.from_encoder_decoder_configs(ViTConfig(), decoder)
)
print(
    "vit-gpt2",
    count(captioner),
    "encoder",
    count(captioner.encoder),
    "pooler",
    count(captioner.encoder.pooler),
    "decoder",
    count(captioner.decoder),
)
print("gpt2", count(GPT2LMHeadModel(GPT2Config())))
vqa = BlipForQuestionAnswering(BlipConfig())
print(
    "blip-vqa",
    count(vqa),
    "vision",
    count(vqa.vision_model),
    "text_encoder",
    count(vqa.text_encoder),
    "text_decoder",
    count(vqa.text_decoder),
)
