"""What data movement asks of a design: buffers, eDRAM bandwidth, and the flows between stages.

Used by the allocation problem and the pipeline model alike (docs/model.md,
"Data movement"), and only when the chip's ``interconnect`` is not ``ideal``:

- **buffers**: each copy of a layer holds its working set in the eDRAM of the
  tiles it occupies (a convolution: the ``kernel_h`` input rows its window
  needs, as ISAAC buffers them; a fully connected or recurrent layer: its input
  vector, and its hidden state). A copy whose working set exceeds its
  crossbars' share of their tiles' eDRAM reserves more crossbars, idle, for the
  eDRAM they bring (:func:`copy_crossbars`).
- **eDRAM bandwidth**: a stage moves its layers' bytes through the eDRAM of its
  tiles (its share of them); the time that takes bounds the stage's busy time
  (:func:`edram_busy_ps`).
- **flows**: every edge of the layer DAG (:mod:`hitm.traffic`) mapped onto the
  pipeline's stages. A layer without weights runs with the stage of its
  latest producer (a pooling layer on the tiles of the convolution before it);
  the network's inputs arrive before the first stage, on the first chip.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from hitm.analysis import Analysis
from hitm.costs import layer_work
from hitm.description.ops import RECURRENT_GATES
from hitm.hardware import Hardware

__all__ = [
    "StageFlows",
    "copy_crossbars",
    "edram_busy_ps",
    "layer_hosts",
    "stage_edram_bits",
    "stage_flows",
    "working_set_bits",
]


def working_set_bits(analysis: Analysis, name: str) -> int:
    """Bits one copy of weight layer ``name`` keeps in eDRAM while it works."""
    layer = analysis.network.layer(name)
    bits = analysis.hardware.input_bits
    shape = layer.input_shapes[0]
    if layer.op == "conv2d":
        kh = layer.attrs["kernel"][0]
        c, _, w = shape.dims
        return kh * w * c * bits  # the input rows under the kernel window
    if layer.op in RECURRENT_GATES:
        dirs = 2 if layer.attrs["bidirectional"] else 1
        return (shape.dims[0] + layer.attrs["hidden"]) * dirs * bits
    if layer.op == "embedding":
        return layer.attrs["dim"] * bits
    return shape.dims[0] * bits  # a linear layer's input vector


def copy_crossbars(analysis: Analysis, name: str) -> int:
    """Crossbars one copy of ``name`` reserves: its matrices', or more for its buffer.

    With ``interconnect: ideal`` (no buffers modelled) this is the layer's
    crossbars. Otherwise a copy gets at least the crossbars whose share of
    their tiles' eDRAM holds its working set.
    """
    demand = analysis.layer(name)
    hw = analysis.hardware
    if not hw.moves_data:
        return demand.crossbars
    per_crossbar = Fraction(hw.edram_bits, hw.crossbars_per_tile)
    return max(demand.crossbars, math.ceil(working_set_bits(analysis, name) / per_crossbar))


def edram_busy_ps(hw: Hardware, bits: int, crossbars: int | np.ndarray) -> int | np.ndarray:
    """Time a stage moving ``bits`` through its tiles' eDRAM needs, with ``crossbars`` of them.

    The stage has ``crossbars / crossbars_per_tile`` tiles' worth of eDRAM
    bandwidth (``bus_bits × clock`` each). Integer ps, rounded up; 0 when data moves free.
    """
    if not hw.moves_data or bits == 0:
        return np.zeros_like(crossbars) if isinstance(crossbars, np.ndarray) else 0
    # bits / (crossbars / per_tile × bw), bw = num / den bits per ps: exact integer ceiling.
    bw = hw.edram_bits_per_ps
    num = bits * hw.crossbars_per_tile * bw.denominator
    den = np.asarray(crossbars, dtype=object) * bw.numerator
    busy = -(-num // den)
    return busy.astype(np.int64) if isinstance(crossbars, np.ndarray) else int(busy)


def layer_hosts(analysis: Analysis, stage_of: Mapping[str, int]) -> dict[str, int]:
    """The stage every layer runs with: its own, its loop's, or its latest producer's.

    −1 stands for the network's inputs (before the first stage).
    """
    loop_stage = {
        layer.loop: stage_of[layer.name]
        for layer in analysis.network.layers
        if layer.loop and layer.name in stage_of
    }
    hosts: dict[str, int] = {}
    for layer in analysis.network.layers:
        if layer.name in stage_of:
            hosts[layer.name] = stage_of[layer.name]
            continue
        if layer.loop in loop_stage:  # a loop's digital layers run with the loop
            hosts[layer.name] = loop_stage[layer.loop]
            continue
        refs = [*layer.inputs, *([layer.attrs["init"]] if layer.attrs.get("init") else [])]
        hosts[layer.name] = max((hosts.get(r, -1) for r in refs), default=-1)
    return hosts


def stage_edram_bits(analysis: Analysis, hosts: Mapping[str, int], n_stages: int) -> list[int]:
    """Bits each stage moves through eDRAM per inference: its layers' and their hosted ones'."""
    bits = [0] * n_stages
    for name, work in layer_work(analysis).items():
        bits[max(hosts[name], 0)] += 8 * work.bytes_moved
    return bits


@dataclass(frozen=True)
class StageFlows:
    """Bits per inference between stages: from the inputs, between stages, and within a stage.

    ``state`` is what stays inside a stage and crosses a chip boundary only if
    one cuts the stage: a recurrent layer's hidden state, or everything a
    decoder loop's layers pass each other step by step.
    """

    source: np.ndarray  # (S,)
    flow: np.ndarray  # (S, S), from stage i to a later stage j
    state: np.ndarray  # (S,)

    def bits_between(self, before: int) -> int:
        """Bits crossing from stages ``< before`` (and the inputs) to stages ``>= before``."""
        return int(self.flow[:before, before:].sum() + self.source[before:].sum())


def stage_flows(
    analysis: Analysis, stage_of: Mapping[str, int], members: Sequence[Sequence[str]]
) -> StageFlows:
    """The DAG's edges as flows between stages (``members[k]``: stage ``k``'s weight layers)."""
    from hitm.traffic import traffic  # with data movement only (start-up time)

    n = len(members)
    hosts = layer_hosts(analysis, stage_of)
    source = np.zeros(n, dtype=np.int64)
    flow = np.zeros((n, n), dtype=np.int64)
    state = np.zeros(n, dtype=np.int64)
    for edge in traffic(analysis).edges:
        i = hosts.get(edge.source, -1)
        j = hosts[edge.target]
        if edge.kind == "state" or (i == j and j >= 0 and len(members[j]) > 1):
            state[j] += edge.bits  # a recurrent state, or a loop's traffic among its layers
            continue
        if i == j or j < 0:
            continue  # within one copy's tiles (a layer and its pooling), or before any stage
        if i < 0:
            source[j] += edge.bits
        elif i < j:
            flow[i, j] += edge.bits
        else:  # pragma: no cover - stages follow the topological order
            raise AssertionError(f"edge {edge.source} -> {edge.target} runs backwards")
    return StageFlows(source, flow, state)
