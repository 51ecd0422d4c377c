"""Typed, validated network description: tensors, layers, feedback loops.

Objects here are built only by :mod:`hitm.description.load` (or the ONNX
reader), which validates every field first; downstream code trusts them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hitm.dag import Dag
from hitm.named import Named

__all__ = ["Layer", "Loop", "Network", "Shape"]


@dataclass(frozen=True)
class Shape:
    """A tensor shape: per-item ``dims`` and an optional leading sequence length.

    ``dims`` is ``(C, H, W)`` for a feature map or ``(F,)`` for a vector. ``seq``
    counts items processed by the same layer for one inference (video frames,
    time steps, attention positions); ``None`` means a single item.
    """

    dims: tuple[int, ...]
    seq: int | None = None

    @property
    def items(self) -> int:
        return self.seq or 1

    @property
    def size(self) -> int:
        """Elements of one item."""
        return math.prod(self.dims)

    @property
    def elements(self) -> int:
        return self.size * self.items

    def with_seq(self, seq: int | None) -> Shape:
        return Shape(self.dims, seq)

    def to_list(self) -> list[int]:
        return ([self.seq] if self.seq else []) + list(self.dims)

    def __str__(self) -> str:
        inner = "×".join(str(d) for d in self.dims)
        return f"{self.seq}×({inner})" if self.seq else f"({inner})"


@dataclass(frozen=True)
class Layer:
    """One operator with its validated attributes and inferred output shape."""

    name: str
    op: str
    inputs: tuple[str, ...]
    attrs: Mapping[str, Any]
    input_shapes: tuple[Shape, ...]
    shape: Shape
    loop: str | None = None


@dataclass(frozen=True)
class Loop:
    """An autoregressive feedback loop: ``source``'s output at step t feeds ``target`` at t+1.

    ``members`` are the layers on a path from ``target`` to ``source``, in
    topological order; they run once per decoder step, ``steps`` times per inference.
    """

    name: str
    source: str
    target: str
    steps: int
    members: tuple[str, ...]


@dataclass(frozen=True)
class Network:
    """A validated network: layers in topological order plus its DAG.

    The DAG (``graph``) has a node per network input and per layer, and an edge
    per data dependency; feedback edges are kept apart in ``loops`` so that the
    graph stays acyclic.
    """

    name: str
    inputs: Mapping[str, Shape]
    layers: tuple[Layer, ...]
    loops: tuple[Loop, ...] = ()
    graph: Dag = field(default_factory=Dag, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", Named(self.layers))

    def layer(self, name: str) -> Layer:
        """The layer called ``name`` (``KeyError`` if none)."""
        return self.layers.named(name)
