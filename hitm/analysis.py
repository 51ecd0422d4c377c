"""Static analysis: each layer's demand vector on the chip.

For every layer: parameters, MACs, the weight matrices it maps to crossbars,
crossbars per copy, and its work per inference as ``steps`` dependent MVMs
each made of ``parallel`` independent ones (DESIGN.md, "Static analysis").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hitm.description.model import Layer, Loop, Network, Shape
from hitm.description.ops import RECURRENT_GATES, WEIGHT_OPS
from hitm.hardware import Hardware
from hitm.named import Named

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Analysis", "LayerDemand", "analyze", "busy_ps"]


@dataclass(frozen=True)
class LayerDemand:
    """One layer's figures (weightless layers have zero crossbars and work).

    Attributes
    ----------
    matrices
        Weight matrices as ``(K, N)``: K inputs (crossbar rows), N outputs.
    crossbars
        Crossbars holding one copy of all the layer's matrices.
    steps, parallel
        MVMs per inference: ``steps`` rounds that depend on one another,
        each of ``parallel`` independent MVMs that copies can share.
    mvm_ps
        Time of one MVM on this layer's inputs (one-hot inputs need one bit-slice).
    elements
        Output elements per inference (the work of digital units for weightless layers).
    write_ps
        For a product of two activations (``matmul``): the time to write its
        second operand into one copy's crossbars, every inference, before its
        MVMs (0 for layers whose weights are programmed once).
    written_cells, rewrites
        Cells of one copy's written operand, and how often each is written per
        inference (once, or once per step inside a decoder loop; 0 for weights
        programmed once).
    dots
        For a product of two activations, its work as digital MAC units see it:
        rounds ``(repeat, outputs, length)``, each ``repeat`` times ``outputs``
        independent dot products of ``length`` MACs; rounds run one after
        another (decoder steps, a cache growing by one item a step).
    implementation
        A product's ``implementation`` attribute: ``auto``, ``write`` or ``digital``.
    """

    name: str
    op: str
    shape: Shape
    params: int
    macs: int
    matrices: tuple[tuple[int, int], ...]
    crossbars: int
    steps: int
    parallel: int
    mvm_ps: int
    elements: int
    loop: str | None = None
    mvm_cycles: int = 0  # crossbar cycles per MVM: mvm_ps at the hardware's own cycle
    write_ps: int = 0
    written_cells: int = 0
    rewrites: int = 0
    dots: tuple[tuple[int, int, int], ...] = ()
    implementation: str = ""

    @property
    def is_product(self) -> bool:
        """A product of two activations (its second operand written, or computed digitally)."""
        return bool(self.dots)

    @property
    def widest(self) -> int:
        """The most dot products one round of a product has: the MAC units it can use at once."""
        return max((outputs for _, outputs, _ in self.dots), default=0)

    def digital_cycles(self, units: int) -> int:
        """Clocks ``units`` MAC units take for this product (each unit a dot product at a time)."""
        return sum(rep * -(-outputs // units) * length for rep, outputs, length in self.dots)

    @property
    def has_weights(self) -> bool:
        return self.crossbars > 0

    def busy_ps(self, copies: int) -> int:
        """Time this layer holds its stage for one inference with ``copies`` copies."""
        return self.write_ps + busy_ps(self.steps, self.parallel, copies, self.mvm_ps)

    def busy_at_cycle_ps(self, copies: int, cycle_ps: int) -> int:
        """Busy time with ``copies`` copies when a crossbar cycle takes ``cycle_ps`` (design mode)."""
        return self.write_ps + busy_ps(
            self.steps, self.parallel, copies, self.mvm_cycles * cycle_ps
        )


def busy_ps(steps: int, parallel: int, copies: int, mvm_ps: int) -> int:
    """``steps × ceil(parallel / copies) × mvm``: copies split only independent MVMs."""
    return steps * -(-parallel // copies) * mvm_ps


@dataclass(frozen=True)
class Analysis:
    """Per-layer demand vectors of a network on a chip, in topological order.

    ``derived`` holds what later steps work out once per analysis and read on
    every design (the work per inference, the DAG with loops contracted);
    nothing in it is an input.
    """

    network: Network
    hardware: Hardware
    layers: tuple[LayerDemand, ...]
    derived: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", Named(self.layers))

    def layer(self, name: str) -> LayerDemand:
        """The demand vector of the layer called ``name`` (``KeyError`` if none)."""
        return self.layers.named(name)

    @property
    def weight_layers(self) -> tuple[LayerDemand, ...]:
        return tuple(layer for layer in self.layers if layer.has_weights)

    @property
    def totals(self) -> dict[str, int]:
        return {
            "params": sum(layer.params for layer in self.layers),
            "macs": sum(layer.macs for layer in self.layers),
            "crossbars": sum(layer.crossbars for layer in self.layers),
            "weight_layers": len(self.weight_layers),
        }

    def loop_dag(self) -> tuple[dict[str, str], tuple[tuple[str, tuple[str, ...]], ...]]:
        """The layer DAG with each decoder loop contracted to one node (cached).

        Returns each layer's node (its loop's name, or its own) and the nodes in
        a topological order with their predecessors. The order keeps the
        layers' own where the DAG allows; a loop comes after every layer that
        feeds it, even one listed after the loop's first member (a
        cross-attention's keys, computed from an encoder).
        """
        cached = self.derived.get("loop_dag")
        if cached is None:
            network = self.network
            node = {layer.name: layer.loop or layer.name for layer in network.layers}
            rank = {name: i - len(network.inputs) for i, name in enumerate(network.inputs)}
            for i, layer in enumerate(network.layers):
                rank.setdefault(node[layer.name], i)
            dag = network.graph.contracted(lambda n: node.get(n, n))
            order = tuple((n, tuple(dag.pred[n])) for n in dag.order(key=rank.__getitem__))
            cached = self.derived["loop_dag"] = (node, order)
        return cached

    def to_dataframe(self) -> pd.DataFrame:
        """One row per layer, in topological order (pandas is imported only here).

        Columns, named as ``hitm analyze --json`` names them: ``name``, ``op``,
        ``shape`` (of its output, ``64×112×112``), ``params``, ``macs``,
        ``crossbars`` (one copy), ``steps``, ``parallel``, ``mvm_ps``,
        ``naive_busy_ps`` (one copy; 0 without weights), ``elements`` (of its
        output, per inference), ``bits_in`` and ``bits_out`` (activations it reads
        and writes per inference, :mod:`hitm.traffic`), ``loop`` (the decoder loop
        holding it, or None).
        """
        import pandas as pd

        from hitm.traffic import traffic  # here: hitm.traffic reads Analysis

        flows = traffic(self)
        return pd.DataFrame(
            [
                {
                    "name": layer.name,
                    "op": layer.op,
                    "shape": str(layer.shape),
                    "params": layer.params,
                    "macs": layer.macs,
                    "crossbars": layer.crossbars,
                    "steps": layer.steps,
                    "parallel": layer.parallel,
                    "mvm_ps": layer.mvm_ps,
                    "naive_busy_ps": layer.busy_ps(1) if layer.has_weights else 0,
                    "elements": layer.elements,
                    "bits_in": flows.bits_in(layer.name),
                    "bits_out": flows.bits_out(layer.name),
                    "loop": layer.loop,
                }
                for layer in self.layers
            ]
        )


def analyze(network: Network, hardware: Hardware) -> Analysis:
    """Compute every layer's demand vector.

    Parameters
    ----------
    network
        A validated network (from :func:`hitm.description.load.load_instance`).
    hardware
        The chip whose crossbar geometry and timing apply.

    Returns
    -------
    Analysis
        One :class:`LayerDemand` per layer, in the network's topological order.
    """
    loops = {loop.name: loop for loop in network.loops}
    demands = tuple(
        _demand(layer, hardware, loops.get(layer.loop) if layer.loop else None)
        for layer in network.layers
    )
    return Analysis(network, hardware, demands)


def _demand(layer: Layer, hw: Hardware, loop: Loop | None) -> LayerDemand:
    a, ins, out = layer.attrs, layer.input_shapes, layer.shape
    items = ins[0].items if ins else out.items
    bias = bool(a.get("bias"))
    matrices: list[tuple[int, int]] = []
    biased: list[bool] = []  # which matrices carry the bias (for the bias_row option)
    params = macs = written = write_ps = 0
    dots: list[tuple[int, int, int]] = []
    repeat = loop.steps if loop else 1  # a decoder loop runs its layers once per step
    # How often the MACs, the operand's write and each written cell recur per inference.
    macs_repeat = write_repeat = rewrites = repeat
    steps, parallel, mvm, cycles = 1, items, hw.mvm_ps, hw.mvm_cycles
    if layer.op == "conv2d":
        g = a["groups"]
        kh, kw = a["kernel"]
        k, n = kh * kw * ins[0].dims[0] // g, a["out_channels"] // g
        matrices, biased = [(k, n)] * g, [bias] * g
        params = k * a["out_channels"] + (a["out_channels"] if bias else 0)
        parallel = items * out.dims[1] * out.dims[2]
        macs = parallel * k * a["out_channels"]
    elif layer.op == "linear":
        k, n = ins[0].dims[0], a["out_features"]
        matrices, biased = [(k, n)], [bias]
        # A head tied to an embedding shares its weights (they count once, there) but
        # needs its own crossbars: the table is read row-wise, the head column-wise.
        params = (0 if a.get("tied") else k * n) + (n if bias else 0)
        macs = items * k * n
    elif layer.op in RECURRENT_GATES:
        gh, hidden, k = RECURRENT_GATES[layer.op] * a["hidden"], a["hidden"], ins[0].dims[0]
        dirs = 2 if a["bidirectional"] else 1
        matrices, biased = [(k, gh), (hidden, gh)] * dirs, [bias, False] * dirs
        params = dirs * (gh * (k + hidden) + (a["bias_vectors"] * gh if bias else 0))
        # Both directions run concurrently; each step's input and recurrent MVMs also do.
        steps, parallel = items, 1
        macs = items * dirs * gh * (k + hidden)
    elif layer.op == "embedding":
        matrices, biased = [(a["vocab"], a["dim"])], [False]
        params = a["vocab"] * a["dim"]
        macs = items * a["dim"]  # a lookup reads one table row: dim MACs of weight × 1
        mvm, cycles = hw.onehot_mvm_ps, hw.onehot_mvm_cycles
    elif layer.op == "batchnorm":
        params = 2 * out.dims[0]  # γ and β, torchvision's count; running stats are buffers
    elif layer.op == "layernorm":
        params = 2 * out.dims[-1] if a["affine"] else 0  # γ and β over each item's last axis
    elif layer.op == "param":
        params = out.elements  # a class token, a position embedding
    elif layer.op == "matmul":
        # Each of A's m items gives out.dims[0] outputs, each a dot product over the
        # head width (Q·Kᵀ: k = width / heads) or over B's n items (A·V). The second
        # operand is written into crossbars each inference, one matrix per head
        # (K: k × n; V: n × d), and A's m items are MVMs on them (docs/model.md).
        h = a["heads"]
        contracted = ins[0].dims[0] // h if a["transpose_b"] else ins[1].items
        outputs = out.dims[0] // h
        macs = ins[0].items * out.dims[0] * contracted
        matrices, biased = [(contracted, outputs)] * h, [False] * h
        written = h * contracted * outputs * hw.slices  # cells of one copy
        # Each crossbar writes its rows one at a time, all crossbars at once.
        write_ps = min(contracted, hw.rows) * hw.write_ps
        dots = [(repeat, ins[0].items * out.dims[0], contracted)]
        if a["causal"] and a["transpose_b"] and not a["cache"]:
            # Query i meets keys 0..i: MAC units compute h · m(m + 1)/2 of the m · m scores
            # per head (crossbars hold every key and read them all anyway).
            m = ins[0].items
            dots = [(repeat, h * m * (m + 1) // 2, contracted)]
        if a["cache"]:
            # A key/value cache in a decoder loop of T steps (B's items are the T steps):
            # step t reads the t items cached so far, so the products sum over t = 1..T,
            # (T + 1) / 2 times one full-cache step; each step writes its one new item,
            # a column of K (across the head's rows) or a row of V, and every cell of
            # the cache is written once per inference.
            steps_t = ins[1].items
            macs = macs * (steps_t + 1) // 2
            macs_repeat = 1
            write_ps = (min(contracted, hw.rows) if a["transpose_b"] else 1) * hw.write_ps
            rewrites = 1
            # Step t has t items cached: Q·Kᵀ gives t scores per query and head, A·V
            # sums over t values.
            m = ins[0].items
            dots = [
                (1, m * h * t, contracted) if a["transpose_b"] else (1, m * out.dims[0], t)
                for t in range(1, steps_t + 1)
            ]
        elif loop is not None and layer.inputs[1] not in loop.members:
            # An operand from outside the loop (an encoder's keys and values) stays put:
            # written once per inference, read by every step.
            write_repeat = rewrites = 1
    steps *= repeat
    if layer.op not in WEIGHT_OPS and not matrices:
        steps = parallel = mvm = cycles = 0
    crossbars = sum(
        hw.matrix_crossbars(k, n, b) for (k, n), b in zip(matrices, biased, strict=True)
    )
    timing = {"steps": steps, "parallel": parallel, "mvm_ps": mvm, "mvm_cycles": cycles}
    return LayerDemand(
        layer.name,
        layer.op,
        out,
        params=params,
        macs=macs * macs_repeat,
        matrices=tuple(matrices),
        crossbars=crossbars,
        elements=out.elements * repeat,
        loop=layer.loop,
        write_ps=write_ps * write_repeat,
        written_cells=written,
        rewrites=rewrites if written else 0,
        dots=tuple(dots),
        implementation=a.get("implementation", "") if dots else "",
        **timing,
    )
