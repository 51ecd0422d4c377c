"""Export the small PyTorch models whose ONNX files tests/test_onnx.py reads.

Not run by the tests (torch is not a dependency of hitm). Run it in a scratch
environment, from this directory, to regenerate the files and print the
PyTorch parameter counts that tests/data/README.md records:

    python3 -m venv /tmp/tx && /tmp/tx/bin/pip install torch==2.13.0 onnx onnxscript
    cd tests/data && /tmp/tx/bin/python export_models.py
"""

from __future__ import annotations

import torch
from torch import nn


class Captioner(nn.Module):
    """A Show-and-Tell-shaped captioner: a small CNN seeds an LSTM over word embeddings."""

    def __init__(self, vocab: int = 50, embed: int = 32, hidden: int = 32) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2, ceil_mode=True)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=2, dilation=2, groups=2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.img_proj = nn.Linear(16, hidden)
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.logits = nn.Linear(hidden, vocab)

    def forward(self, image: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.relu(self.bn1(self.conv1(image))))
        x = self.gap(self.relu(self.conv2(x)))
        h0 = self.img_proj(torch.flatten(x, 1)).unsqueeze(0)  # the image seeds the state
        out, _ = self.lstm(self.embed(tokens), (h0, torch.zeros_like(h0)))
        return self.logits(out)


class BasicBlock(nn.Module):
    """torchvision's ResNet BasicBlock."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNetBlocks(nn.Module):
    """torchvision's ResNet-18 stem and first two stages, one block each, 8 and 16 channels."""

    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = BasicBlock(8, 8, 1)
        self.layer2 = BasicBlock(8, 16, 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class VideoGRU(nn.Module):
    """A per-frame CNN over a batch of 8 frames into a bidirectional GRU (LRCN-shaped)."""

    def __init__(self, frames: int = 8, classes: int = 5) -> None:
        super().__init__()
        self.frames = frames
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, 2, 1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, 1, 1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.gru = nn.GRU(16, 24, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(0.2)
        self.classifier = nn.Linear(48, classes)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        f = self.features(frames).reshape(1, self.frames, -1)  # the frames become time steps
        out, _ = self.gru(f)
        return torch.softmax(self.classifier(self.dropout(out)), dim=-1)


def _trained_batchnorm(model: nn.Module) -> nn.Module:
    """Non-trivial batch-norm statistics, so a folding exporter leaves a conv bias as it would."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
            m.weight.data.uniform_(0.5, 2)
            m.bias.data.uniform_(-1, 1)
    return model.eval()


def main() -> None:
    torch.manual_seed(0)
    image, tokens = torch.randn(1, 3, 32, 32), torch.randint(0, 50, (1, 12))
    exports = [
        # The TorchScript exporter without constant folding keeps BatchNormalization.
        ("captioner.onnx", Captioner(), (image, tokens), ["image", "tokens"],
         {"dynamo": False, "opset_version": 17, "do_constant_folding": False}),
        # torch.onnx.export's defaults (the dynamo exporter) fold bn1 into conv1.
        ("captioner_dynamo.onnx", Captioner(), (image, tokens), ["image", "tokens"],
         {"external_data": False}),
        ("resnet_blocks.onnx", ResNetBlocks(), (torch.randn(1, 3, 64, 64),), ["x"],
         {"external_data": False}),
        ("video_gru.onnx", VideoGRU(), (torch.randn(8, 3, 32, 32),), ["frames"],
         {"dynamo": False, "opset_version": 17}),
    ]  # fmt: skip
    for path, model, args, names, options in exports:
        model = _trained_batchnorm(model)
        torch.onnx.export(model, args, path, input_names=names, **options)
        params = sum(p.numel() for p in model.parameters())
        print(f"{path}: {params} PyTorch parameters")


if __name__ == "__main__":
    main()
