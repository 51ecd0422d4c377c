"""Data movement from the static analysis: the bits that flow along every edge of the layer DAG.

Per inference, every edge ``u → v`` carries ``u``'s output once: its elements
(every item, and every decoder step when ``u`` is inside a loop) at
``input_bits`` each. A network input's edge carries the input. Two more kinds
of edge exist:

- **feedback**: an autoregressive loop's ``from → to`` edge carries one step's
  output of ``from`` for each of the ``steps − 1`` later steps;
- **state**: a recurrent layer feeds its hidden state (``hidden`` per
  direction) back to itself every step; it moves between chips only when one
  copy of the layer is split across them.

A value read by a layer inside a loop from outside it (an image feature
seeding the decoder) crosses once: it is buffered, not re-sent each step.
:mod:`hitm.pipeline` charges these bits to the links and routers a placement
makes them cross (docs/model.md, "Data movement").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from hitm.description.ops import RECURRENT_GATES

if TYPE_CHECKING:  # an analysis is read, never built, here (Analysis.to_dataframe imports this)
    from hitm.analysis import Analysis

__all__ = ["Edge", "Traffic", "traffic"]


@dataclass(frozen=True)
class Edge:
    """One edge of the layer DAG and the bits it carries per inference.

    ``kind`` is ``data`` (an input of ``target``), ``feedback`` (a loop's
    ``from → to``) or ``state`` (a recurrent layer's hidden state, ``source ==
    target``).
    """

    source: str
    target: str
    bits: int
    kind: str = "data"


@dataclass(frozen=True, eq=False)
class Traffic:
    """Every edge of a network's DAG with its bits per inference."""

    analysis: Analysis
    edges: tuple[Edge, ...]

    @cached_property
    def _into(self) -> dict[str, int]:
        into: dict[str, int] = {}
        for e in self.edges:
            if e.kind != "state":
                into[e.target] = into.get(e.target, 0) + e.bits
        return into

    def bits_in(self, layer: str) -> int:
        """Bits ``layer`` reads per inference (its data and feedback inputs)."""
        return self._into.get(layer, 0)

    def bits_out(self, layer: str) -> int:
        """Bits ``layer`` produces per inference (its output, once)."""
        return self.analysis.layer(layer).elements * self.analysis.hardware.input_bits

    @property
    def total_bits(self) -> int:
        """Bits on every edge of the DAG, per inference."""
        return sum(e.bits for e in self.edges)


def traffic(analysis: Analysis) -> Traffic:
    """The edges of the analysed network and the bits each carries per inference.

    Worked out once per analysis (``Analysis.derived``): the CLI's tables, the
    DataFrame and the allocation problem's flows all read the same edges.
    """
    cached = analysis.derived.get("traffic")
    if cached is None:
        cached = analysis.derived["traffic"] = _traffic(analysis)
    return cached


def _traffic(analysis: Analysis) -> Traffic:
    network, bits = analysis.network, analysis.hardware.input_bits
    edges: list[Edge] = []
    for layer in network.layers:
        refs = list(layer.inputs)
        if layer.attrs.get("init"):
            refs.append(layer.attrs["init"])
        for ref in refs:
            if ref in network.inputs:
                elements = network.inputs[ref].elements
            else:
                elements = analysis.layer(ref).elements
            edges.append(Edge(ref, layer.name, elements * bits))
        if layer.op in RECURRENT_GATES:
            demand = analysis.layer(layer.name)
            dirs = 2 if layer.attrs["bidirectional"] else 1
            hidden = layer.attrs["hidden"] * dirs
            edges.append(Edge(layer.name, layer.name, hidden * demand.steps * bits, "state"))
    for loop in network.loops:
        per_step = analysis.layer(loop.source).elements // loop.steps
        edges.append(Edge(loop.source, loop.target, per_step * (loop.steps - 1) * bits, "feedback"))
    return Traffic(analysis, tuple(edges))
