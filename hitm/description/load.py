"""Read an instance file (YAML or JSON) into a validated :class:`Instance`.

Validation happens here, once: schema and field types, then cross-field
checks (references, cycles, feedback loops), then shape inference. Every
problem found is collected into one :class:`~hitm.errors.DescriptionError`
whose entries name the field's path, e.g. ``network.layers[3].kernel``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hitm.budget import Budget, DesignSpace, load_budget, load_design
from hitm.dag import Dag
from hitm.description.backbones import check_backbone_inputs, expand_backbones
from hitm.description.model import Layer, Loop, Network, Shape
from hitm.description.ops import OPS, RECURRENT_GATES, REQUIRED, ShapeError
from hitm.description.reader import read_document
from hitm.errors import DescriptionError, control_characters, suggest
from hitm.fields import BAD, Integer, IntList, ListOf, MappingOf, Ref, Section
from hitm.hardware import Hardware, load_hardware

__all__ = ["Instance", "load_instance", "onnx_document", "parse_instance", "read_document"]

MAX_ELEMENTS = 10**12  # elements of one tensor (all items): refuses sizes that overflow time
MAX_LAYERS = 100_000
"""The most layers a network may have (backbones expanded): 5× the 20,000-layer network
that analyses in about 5 s, and far beyond any published one (ResNet-152: 516)."""
_LAYER_KEYS = ("name", "op", "input", "inputs")

INPUT_SECTION = Section(
    {
        "shape": IntList(
            max_items=3, expected="[C, H, W] or [F]", description="(C, H, W) or (F,)."
        ),
        "seq": Integer(1, description="Items per inference (frames, time steps, tokens)."),
    },
    required=("shape",),
    expected="a mapping with 'shape' (and optional 'seq')",
)
FEEDBACK_SECTION = Section(
    {
        "from": Ref(description="The layer whose output feeds back (e.g. an argmax)."),
        "to": Ref(description="The layer it feeds at the next step (e.g. an embedding)."),
        "steps": Integer(1, description="Decoder steps per inference."),
    },
    required=("from", "to", "steps"),
    expected="a mapping with from, to and steps",
)
NETWORK_INPUTS = MappingOf(
    INPUT_SECTION,
    expected="a mapping of input names to {shape, seq}",
    non_empty=True,
    description="The network's inputs by name.",
)
NETWORK_FEEDBACK = ListOf(
    FEEDBACK_SECTION,
    expected="a list of {from, to, steps}",
    description="Autoregressive loops: from's output at step t feeds to at t + 1.",
)
TOP_KEYS = ("name", "source", "notes", "network", "hardware", "budget", "design")
NETWORK_KEYS = ("name", "inputs", "layers", "feedback")


@dataclass(frozen=True)
class Instance:
    """A network, the hardware to map it on, the resource budget, and design mode if on."""

    name: str
    network: Network
    hardware: Hardware
    budget: Budget
    design: DesignSpace | None = None


def load_instance(path: str | Path) -> Instance:
    """Load and validate an instance file.

    Parameters
    ----------
    path
        A ``.yaml``, ``.yml`` or ``.json`` file with ``network``, optional
        ``hardware`` (``preset`` plus overrides) and optional ``budget``; or
        an ``.onnx`` model (read by :func:`onnx_document`: ISAAC hardware, no
        budget).

    Raises
    ------
    DescriptionError
        Listing every bad field with its path.
    """
    if Path(path).suffix.lower() == ".onnx":
        return parse_instance(onnx_document(path), default_name=Path(path).stem)
    return parse_instance(read_document(path), default_name=Path(path).stem)


def onnx_document(path: str | Path) -> dict[str, Any]:
    """Read an ONNX model into an instance document whose shapes agree with ONNX's.

    The model is converted by :func:`hitm.description.onnx.import_onnx`; its
    network is then parsed here, and every layer's shape must be the one ONNX
    gives it.

    Parameters
    ----------
    path
        The model (``.onnx``); its weights' values are never read.

    Returns
    -------
    dict
        ``{"name", "source", "network": {"inputs", "layers"}, "hardware":
        {"preset": "isaac"}}``, ready for :func:`parse_instance`. It has no
        budget: ONNX holds none.

    Raises
    ------
    DescriptionError
        If the file is not a valid ONNX model, uses an op hitm cannot map
        (the message names the node and lists the supported ops), has a
        shape hitm cannot express, or hitm's shapes differ from ONNX's.
    """
    from hitm.description.onnx import check_shapes, import_onnx  # imports onnx only when needed

    imported = import_onnx(path)
    try:
        network = parse_network(imported.document["network"], imported.path.stem)
    except DescriptionError as exc:
        raise DescriptionError(
            f"{imported.path}: the imported network is not valid: {exc}"
        ) from None
    check_shapes(imported, network)
    return imported.document


def parse_instance(doc: Any, default_name: str = "network") -> Instance:
    """Validate an already-parsed instance document (see :func:`load_instance`).

    Every section is checked, and every problem in any of them reported together.
    """
    if not isinstance(doc, Mapping):
        raise DescriptionError("instance: expected a mapping with a 'network' entry")
    problems = [
        f"{key}: unknown field{suggest(str(key), TOP_KEYS)}" for key in doc if key not in TOP_KEYS
    ]
    if "network" not in doc:
        problems.append("network: missing")
    name = doc.get("name") or default_name
    if isinstance(name, int | float) and not isinstance(name, bool):
        name = str(name)  # a year or a version number names a network too
    if not isinstance(name, str):
        problems.append(f"name: expected a name, got {name!r}")
        name = default_name
    for key in ("source", "notes"):
        if key in doc and not isinstance(doc[key], str):
            problems.append(f"{key}: expected text, got {type(doc[key]).__name__}")
    parts: dict[str, Any] = {}
    for key, parse in (
        ("hardware", lambda v: load_hardware(_mapping(v, "hardware"))),
        ("budget", lambda v: load_budget(_mapping(v, "budget"))),
        ("design", load_design),
        ("network", lambda v: parse_network(v, name)),
    ):
        if key == "network" and key not in doc:
            continue
        try:
            parts[key] = parse(doc.get(key))
        except DescriptionError as exc:
            problems.extend(exc.problems)
    if problems:
        raise DescriptionError(problems)
    return Instance(name=name, **parts)


def _mapping(value: Any, path: str) -> Mapping[str, Any] | None:
    if value is None or isinstance(value, Mapping):
        return value
    raise DescriptionError(f"{path}: expected a mapping, got {type(value).__name__}")


def _unprintable(where: str, name: str) -> str | None:
    """The problem with ``name`` if it holds control characters (tables print names)."""
    bad = control_characters(name)
    if not bad:
        return None
    return f"{where}: {name!r} holds control characters ({bad}); names are printed in tables"


def _parse_inputs(spec: Any, problems: list[str]) -> dict[str, Shape]:
    checked = NETWORK_INPUTS.check(spec, "network.inputs", problems)
    if checked is BAD:
        return {}
    problems += filter(None, (_unprintable("network.inputs", str(name)) for name in checked))
    return {
        name: Shape(entry["shape"], entry.get("seq"))
        for name, entry in checked.items()
        if "shape" in entry
    }


@dataclass
class _RawLayer:
    name: str
    op: str
    inputs: tuple[str, ...]
    attrs: dict[str, Any]
    path: str


def _parse_layers(spec: Any, problems: list[str]) -> list[_RawLayer]:
    if not isinstance(spec, list) or not spec:
        problems.append("network.layers: expected a non-empty list of layers")
        return []
    raws: list[_RawLayer] = []
    seen: set[str] = set()
    # A `backbone:` entry expands to that network's layers (hitm.description.backbones).
    for path, entry in expand_backbones(spec, problems):
        if len(raws) == MAX_LAYERS:
            problems.append(f"network.layers: more than {MAX_LAYERS:,} layers; refused")
            break
        if not isinstance(entry, Mapping):
            problems.append(f"{path}: expected a mapping with name, op and input")
            continue
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            got = "missing" if name is None else f"expected a name (a string), got {name!r}"
            problems.append(f"{path}.name: {got}")
            continue
        unprintable = _unprintable(f"{path}.name", name)
        if unprintable:
            problems.append(unprintable)
            continue
        path = f"{path} ({name})"
        if name in seen:
            problems.append(f"{path}.name: duplicate layer name '{name}'")
        seen.add(name)
        op = entry.get("op")
        if not isinstance(op, str):
            got = "missing" if op is None else f"expected an op name (a string), got {op!r}"
            problems.append(f"{path}.op: {got}")
            continue
        if op not in OPS:
            problems.append(f"{path}.op: unknown op {op!r}{suggest(op, OPS)}")
            continue
        spec_op = OPS[op]
        if "input" in entry and "inputs" in entry:
            problems.append(f"{path}: give either 'input' or 'inputs', not both")
        ins = entry.get("inputs", entry.get("input"))
        ins = [ins] if isinstance(ins, str) else ins
        if spec_op.max_inputs == 0:  # a learned tensor (param) reads nothing
            if ins not in (None, []):
                problems.append(f"{path}.input: {op} reads no input, got {ins!r}")
                continue
            ins = []
        if ins is None:
            problems.append(f"{path}.input: missing (name the layer or network input it reads)")
            continue
        if (
            not isinstance(ins, list)
            or not all(isinstance(x, str) for x in ins)
            or not (ins or spec_op.max_inputs == 0)
        ):
            problems.append(
                f"{path}.input: expected a layer or input name, or a list of names, got {ins!r}"
            )
            continue
        if not spec_op.min_inputs <= len(ins) <= spec_op.max_inputs:
            want = (
                str(spec_op.min_inputs)
                if spec_op.min_inputs == spec_op.max_inputs
                else f"{spec_op.min_inputs} to {spec_op.max_inputs}"
            )
            problems.append(f"{path}.inputs: {op} takes {want} input(s), got {len(ins)}")
            continue
        attrs: dict[str, Any] = {}
        for key, value in entry.items():
            if key in _LAYER_KEYS:
                continue
            if key not in spec_op.attrs:
                valid = [*spec_op.attrs, *_LAYER_KEYS]
                problems.append(f"{path}.{key}: unknown field for {op}{suggest(str(key), valid)}")
                continue
            value = spec_op.attrs[key].rule.check(value, f"{path}.{key}", problems)
            attrs[key] = None if value is BAD else value
        for key, attr in spec_op.attrs.items():
            if key not in attrs:
                if attr.default is REQUIRED:
                    problems.append(f"{path}.{key}: missing (required by {op})")
                # Defaults go through the same normalisation (e.g. 1 -> (1, 1)).
                default = attr.default
                if default is not REQUIRED and default is not None:
                    default = attr.rule.check(default, f"{path}.{key}", problems)
                attrs[key] = None if default is REQUIRED else default
        if op == "attention":
            expanded = _attention_layers(name, tuple(ins), attrs, path, problems)
            clash = [r.name for r in expanded[:-1] if r.name in seen]
            if clash:
                problems.append(f"{path}.name: its part '{clash[0]}' is already a layer name")
            seen.update(r.name for r in expanded)
            raws.extend(expanded)
            continue
        raws.append(_RawLayer(name, op, tuple(ins), attrs, path))
    return raws


def _parse_feedback(spec: Any, problems: list[str]) -> list[tuple[str, str, int, str]]:
    if spec is None:
        return []
    checked = NETWORK_FEEDBACK.check(spec, "network.feedback", problems)
    if checked is BAD:
        return []
    return [
        (entry["from"], entry["to"], entry["steps"], f"network.feedback[{i}]")
        for i, entry in enumerate(checked)
        if entry is not BAD and {"from", "to", "steps"} <= set(entry)
    ]


def parse_network(spec: Any, default_name: str = "network") -> Network:
    """Validate a ``network`` mapping, infer every shape and build its DAG."""
    if not isinstance(spec, Mapping):
        raise DescriptionError("network: expected a mapping with inputs and layers")
    problems = [
        f"network.{key}: unknown field{suggest(str(key), NETWORK_KEYS)}"
        for key in spec
        if key not in NETWORK_KEYS
    ]
    inputs = _parse_inputs(spec.get("inputs"), problems)
    raws = _parse_layers(spec.get("layers"), problems)
    feedback = _parse_feedback(spec.get("feedback"), problems)
    if problems:
        raise DescriptionError(problems)

    graph = Dag()
    for name in inputs:
        graph.add_node(name, "input")
    names = set(inputs)
    for raw in raws:
        if raw.name in inputs:
            problems.append(f"{raw.path}.name: '{raw.name}' is already a network input")
        graph.add_node(raw.name, "layer")
        names.add(raw.name)
    for raw in raws:
        refs = [(ref, "input") for ref in raw.inputs]
        if raw.attrs.get("init"):
            refs.append((raw.attrs["init"], "init"))
        for ref, key in refs:
            if ref not in names:
                problems.append(
                    f"{raw.path}.{key}: no layer or input named '{ref}'{suggest(ref, names)}"
                )
            else:
                graph.add_edge(ref, raw.name)
    if problems:
        raise DescriptionError(problems)
    cycle = graph.cycle()
    if cycle is not None:
        cycle = " -> ".join(cycle)
        raise DescriptionError(
            f"network.layers: cycle {cycle} (declare autoregressive loops under network.feedback)"
        )

    by_name = {raw.name: raw for raw in raws}
    loops = _build_loops(graph, by_name, feedback, problems)
    if problems:
        raise DescriptionError(problems)
    loop_of = {m: loop.name for loop in loops for m in loop.members}
    loop_steps = {loop.name: loop.steps for loop in loops}

    shapes: dict[str, Shape] = dict(inputs)
    layers: list[Layer] = []
    for node in graph.order(key=_order_key(raws, inputs)):
        if node in inputs:
            continue
        raw = by_name[node]
        own_loop = loop_of.get(node)
        in_shapes = []
        for ref in raw.inputs:
            shape = shapes[ref]
            # A loop's per-step output seen from outside the loop is a sequence of steps.
            src_loop = loop_of.get(ref)
            if src_loop and src_loop != own_loop and shape.seq is None:
                shape = shape.with_seq(loop_steps[src_loop])
            in_shapes.append(shape)
        tied = raw.attrs.get("tied") if raw.op == "linear" else None
        if tied:
            table = by_name.get(tied)
            want = (in_shapes[0].dims[0], raw.attrs["out_features"])
            if table is None or table.op != "embedding":
                problems.append(f"{raw.path}.tied: '{tied}' is not an embedding layer")
            elif (table.attrs["dim"], table.attrs["vocab"]) != want:
                problems.append(
                    f"{raw.path}.tied: '{tied}' is a {table.attrs['vocab']} × {table.attrs['dim']}"
                    f" table; this layer's matrix is {want[0]} × {want[1]}"
                )
        if raw.op == "matmul" and raw.attrs.get("cache"):
            # The cache holds every step's item of the second operand: up to `steps` items.
            if own_loop is None or loop_of.get(raw.inputs[1]) != own_loop:
                problems.append(
                    f"{raw.path}.cache: a cache grows inside a decoder loop; '{raw.inputs[1]}'"
                    " must be computed in the same loop as the layer"
                )
                shapes[node] = Shape((1,))
                continue
            in_shapes[1] = in_shapes[1].with_seq(loop_steps[own_loop])
        try:
            shape = OPS[raw.op].infer(tuple(in_shapes), raw.attrs)
            _check_recurrent(raw, tuple(in_shapes), own_loop, shapes)
        except ShapeError as exc:
            problems.append(f"{raw.path}: {exc}")
            shapes[node] = Shape((1,))  # keep going to report later problems too
            continue
        if shape.elements > MAX_ELEMENTS:
            problems.append(f"{raw.path}: output {shape} has over {MAX_ELEMENTS:.0e} elements")
        shapes[node] = shape
        layers.append(
            Layer(raw.name, raw.op, raw.inputs, raw.attrs, tuple(in_shapes), shape, own_loop)
        )
    problems.extend(check_backbone_inputs(spec.get("layers"), shapes))
    for loop in loops:
        src, dst = shapes.get(loop.source), by_name[loop.target]
        fed = shapes.get(dst.inputs[0])
        if src is not None and fed is not None and src.dims != fed.dims:
            problems.append(
                f"network.feedback ({loop.source} -> {loop.target}): '{loop.source}' gives"
                f" {src} but '{loop.target}' reads {fed} from '{dst.inputs[0]}'"
            )
    if problems:
        raise DescriptionError(problems)
    name = str(spec.get("name") or default_name)
    return Network(name, inputs, tuple(layers), tuple(loops), graph)


def _attention_layers(
    name: str, ins: tuple[str, ...], a: Mapping[str, Any], path: str, problems: list[str]
) -> list[_RawLayer]:
    """An ``attention`` layer as the layers it computes (``name.q`` ... and ``name``).

    Q from its input, K and V from ``kv_input`` (cross-attention) or the input
    again, each a ``dim``-wide projection; per head the scores Q·Kᵀ, their
    softmax and A·V (products of two activations); then the output projection,
    which carries the layer's own name so that later layers read it.
    """
    dim, heads = a["dim"], a["heads"]
    if dim is not None and heads is not None and dim % heads:
        problems.append(f"{path}.heads: {heads} heads must divide dim {dim}")
    kv = a["kv_input"] or ins[0]
    lin = {"out_features": dim, "bias": a["bias"]}
    cache = bool(a["cache"])
    a_impl = a["implementation"]
    causal = bool(a["causal"])

    def part(suffix: str, op: str, reads: tuple[str, ...], **attrs: Any) -> _RawLayer:
        return _RawLayer(f"{name}{suffix}", op, reads, attrs, path)

    def product(suffix: str, a: str, b: str, *, transpose_b: bool) -> _RawLayer:
        return part(
            suffix,
            "matmul",
            (a, b),
            heads=heads,
            transpose_b=transpose_b,
            cache=cache,
            implementation=a_impl,
            causal=causal and transpose_b,  # A·V multiplies the masked zeros too
        )

    return [
        part(".q", "linear", ins, **lin),
        part(".k", "linear", (kv,), **lin),
        part(".v", "linear", (kv,), **lin),
        product(".scores", f"{name}.q", f"{name}.k", transpose_b=True),
        part(".softmax", "softmax", (f"{name}.scores",)),
        product(".context", f"{name}.softmax", f"{name}.v", transpose_b=False),
        part("", "linear", (f"{name}.context",), **lin),
    ]


def _order_key(raws: list[_RawLayer], inputs: Mapping[str, Shape]):
    """Topological order that keeps the file's order where the DAG allows."""
    rank = {name: i for i, name in enumerate(inputs)}
    rank.update({raw.name: len(inputs) + i for i, raw in enumerate(raws)})
    return rank.__getitem__


def _check_recurrent(
    raw: _RawLayer, ins: tuple[Shape, ...], loop: str | None, shapes: Mapping[str, Shape]
) -> None:
    if raw.op not in RECURRENT_GATES:
        return
    if loop is None and ins[0].seq is None:
        raise ShapeError(
            f"{raw.op} outside a feedback loop needs a sequence input, got {ins[0]}"
            " (declare seq on the input, or put the layer in a feedback loop)"
        )
    if loop is not None and ins[0].seq is not None:
        raise ShapeError(
            f"{raw.op} inside a feedback loop takes one step per iteration, got {ins[0]}"
        )
    init = raw.attrs.get("init")
    if init:
        hidden = raw.attrs["hidden"]
        got = shapes[init]
        if got.dims not in ((hidden,), ins[0].dims) or got.seq is not None:
            raise ShapeError(
                f"init '{init}' must be one item of shape ({hidden},) or {Shape(ins[0].dims)},"
                f" got {got}"
            )


def _build_loops(
    graph: Dag,
    layers: Mapping[str, _RawLayer],
    feedback: list[tuple[str, str, int, str]],
    problems: list[str],
) -> list[Loop]:
    loops: list[Loop] = []
    owner: dict[str, str] = {}
    topological = graph.order()
    for src, dst, steps, where in feedback:
        bad = [n for n in (src, dst) if n not in layers]
        if bad:
            problems.extend(f"{where}: no layer named '{n}'{suggest(n, layers)}" for n in bad)
            continue
        if src != dst and not graph.has_path(dst, src):
            problems.append(f"{where}: '{dst}' does not lead to '{src}', so no loop is closed")
            continue
        members = (graph.descendants(dst) | {dst}) & (graph.ancestors(src) | {src})
        name = f"loop:{dst}..{src}"
        clash = sorted(m for m in members if m in owner)
        if clash:
            problems.append(f"{where}: layer '{clash[0]}' is already on loop {owner[clash[0]]}")
            continue
        order = [n for n in topological if n in members]
        owner.update({m: name for m in members})
        loops.append(Loop(name, src, dst, steps, tuple(order)))
    return loops
