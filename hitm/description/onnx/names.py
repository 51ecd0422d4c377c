"""Layer names from ONNX node names, each handed out once.

``/layer2/downsample/downsample.0/Conv`` (TorchScript) becomes
``layer2.downsample.0``, ``node_relu_1`` (dynamo) becomes ``relu_1``; a name
already taken falls back to the full scope, then to ``<name>.<op>``, then to
``<name>_2``, ``<name>_3``, ...
"""

from __future__ import annotations

import re

__all__ = ["Names", "sanitize"]


def sanitize(text: str) -> str:
    """``text`` with every run of characters a hitm name cannot hold replaced by ``_``."""
    return re.sub(r"[^A-Za-z0-9_.\-]+", "_", text).strip("_.")


class Names:
    """The names given so far to inputs and layers."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def take(self, *candidates: str) -> str:
        """The first free candidate, else the first with the smallest free ``_k`` suffix."""
        for name in candidates or ("layer",):
            if name not in self._taken:
                self._taken.add(name)
                return name
        base, k = candidates[0] if candidates else "layer", 2
        while f"{base}_{k}" in self._taken:
            k += 1
        self._taken.add(f"{base}_{k}")
        return f"{base}_{k}"

    def take_node(self, label: str, op_type: str) -> str:
        """A layer name for the node called ``label`` (a scope path such as ``/conv1/Conv``)."""
        parts = [p for p in label.split("/") if p]
        full = ".".join(sanitize(p) for p in parts)
        if parts and re.fullmatch(rf"{op_type}(_\d+)?", parts[-1]) and len(parts) > 1:
            parts = parts[:-1]  # TorchScript scopes end in the op: /conv1/Conv
        # TorchScript repeats the parent in a child's scope: /layer2/downsample/downsample.0
        parts = [
            p for i, p in enumerate(parts) if not any(q.startswith(p + ".") for q in parts[i + 1 :])
        ]
        short = ".".join(sanitize(p) for p in parts)
        short = re.sub(r"^node_", "", short)
        candidates = [short, full, f"{short}.{op_type.lower()}"]
        return self.take(*[c for c in candidates if c])
