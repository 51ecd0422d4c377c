"""hitm's fuzz campaign: generated and mutated inputs, every verb, one set of promises.

A case is a command line and the files it reads: instances (CNNs, recurrent
networks and transformers with attention, key/value caches and tied heads; valid, or mutated by
deleting, renaming and retyping fields, extreme numbers, deep nesting, markup
and control characters in names, cycles, duplicate keys, truncation, an alias
bomb), copies files, sweep specs, bit-flipped and truncated ONNX models, and bad
flags. :func:`run_case` runs it through the CLI in this process and checks what
README promises of every call:

- the exit code is 0, 2 (bad input), 3 (infeasible) or 4 (a solver failed);
- no traceback, and no call runs past :data:`HANG_SECONDS`;
- on a non-zero exit, exactly one line on stderr and nothing on stdout;
- on success with a design (``solve``/``evaluate --json``), the design re-checked
  against the budget by arithmetic on the analysis alone (:func:`check_design`).

``tests/fuzz/test_fuzz.py`` runs it under hypothesis (100 cases in the normal
suite; ``--hypothesis-profile=long``: 10,000, and a table of outcomes).
"""

from __future__ import annotations

import json
import math
import signal
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st
from typer.testing import CliRunner

from hitm.analysis import analyze
from hitm.cli import app
from hitm.description.load import load_instance
from hitm.movement import copy_crossbars

DATA = Path(__file__).resolve().parent.parent / "data"
ONNX_MODELS = ("video_gru.onnx", "resnet_blocks.onnx", "captioner.onnx")
HANG_SECONDS = 60
EXIT_CODES = {0, 2, 3, 4}

# --------------------------------------------------------------------------- values

NAMES = st.sampled_from(
    ["x", "conv", "a[/]", "[bold]b", "c\nd", "e\x1b[31mf", "名字", "g h", "", "0", "α.β*"]
)
BAD_VALUES = st.one_of(
    st.sampled_from(
        [
            None,
            True,
            False,
            0,
            -1,
            -(2**63),
            2**63,
            2**70,
            10**400,
            1e-300,
            1e309,
            -1e309,
            math.nan,
            "",
            "abc",
            "1e309",
            "nan",
            "inf",
            [],
            [1],
            [[1]],
            {},
            {"a": 1},
        ]
    ),
    NAMES,
    st.integers(-(2**80), 2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.recursive(st.integers(0, 3), lambda c: st.lists(c, max_size=2), max_leaves=4),
)


DEEP = "__deep_{}__"
"""A placeholder for a list nested that many levels deep, written into the text (no
serialiser recurses that far)."""


def chance(draw: st.DrawFn, p: float) -> bool:
    """True with probability about ``p`` (hypothesis favours small integers, so
    ``integers(0, n) == 0`` would fire far more often than 1 in n + 1)."""
    n = 20
    hits = round(p * n)
    return draw(st.sampled_from([False] * (n - hits) + [True] * hits))


def _deepen(text: str) -> str:
    for levels in (10, 70, 1_200):
        mark = DEEP.format(levels)
        nested = "[" * levels + "1" + "]" * levels
        text = text.replace(f'"{mark}"', nested).replace(mark, nested)
    return text


# --------------------------------------------------------------------------- networks


@st.composite
def cnn(draw: st.DrawFn) -> dict[str, Any]:
    """A small image network: convolutions, pools, maybe a residual add, then linears."""
    c, hw = draw(st.sampled_from([1, 3, 8])), draw(st.sampled_from([8, 16, 32]))
    layers: list[dict[str, Any]] = []
    prev = "image"
    for i in range(draw(st.integers(1, 4))):
        layers.append(
            {"name": f"conv{i}", "op": "conv2d", "input": prev,
             "out_channels": draw(st.sampled_from([4, 8, 16, 64])),
             "kernel": draw(st.sampled_from([1, 3])), "padding": 1 if i % 2 else 0}
        )  # fmt: skip
        prev = f"conv{i}"
        if chance(draw, 0.5):
            layers.append({"name": f"relu{i}", "op": "relu", "input": prev})
            prev = f"relu{i}"
    if draw(st.booleans()) and len(layers) >= 1:
        layers.append(
            {"name": "side", "op": "conv2d", "input": prev, "out_channels": 4, "kernel": 1}
        )
        layers.append({"name": "branch", "op": "conv2d", "input": "side",
                       "out_channels": 4, "kernel": 1})  # fmt: skip
        layers.append({"name": "joined", "op": "concat", "input": [prev, "branch"]})
        prev = "joined"
    layers.append({"name": "gap", "op": "global_avgpool", "input": prev})
    layers.append({"name": "flat", "op": "flatten", "input": "gap"})
    layers.append({"name": "fc", "op": "linear", "input": "flat",
                   "out_features": draw(st.sampled_from([10, 100, 1000]))})  # fmt: skip
    return {"inputs": {"image": {"shape": [c, hw, hw]}}, "layers": layers}


@st.composite
def rnn(draw: st.DrawFn) -> dict[str, Any]:
    """A small sequence network: a linear, recurrent layers, a classifier, maybe a decoder loop."""
    seq = draw(st.integers(1, 30))
    layers: list[dict[str, Any]] = [
        {"name": "proj", "op": "linear", "input": "frames", "out_features": 32}
    ]
    prev = "proj"
    for i in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["lstm", "gru", "rnn"]))
        layers.append({"name": f"{op}{i}", "op": op, "input": prev,
                       "hidden": draw(st.sampled_from([16, 64, 256]))})  # fmt: skip
        prev = f"{op}{i}"
    layers.append({"name": "out", "op": "linear", "input": prev, "out_features": 10})
    network: dict[str, Any] = {
        "inputs": {"frames": {"shape": [draw(st.sampled_from([8, 64]))], "seq": seq}},
        "layers": layers,
    }
    if draw(st.booleans()):  # a greedy decoder, as the captioner has
        network["inputs"]["start"] = {"shape": [1]}
        layers += [
            {"name": "embed", "op": "embedding", "input": "start", "vocab": 100, "dim": 16},
            {"name": "dec", "op": "lstm", "input": "embed", "hidden": 16},
            {"name": "logits", "op": "linear", "input": "dec", "out_features": 100},
            {"name": "word", "op": "argmax", "input": "logits"},
        ]
        network["feedback"] = [{"from": "word", "to": "embed", "steps": draw(st.integers(1, 12))}]
    return network


@st.composite
def transformer(draw: st.DrawFn) -> dict[str, Any]:
    """A small transformer: patch tokens or a token sequence, a class token, position
    embedding, pre-norm encoder layers; maybe a decoder loop with a key/value cache and
    cross-attention on the encoder, and a head tied to its embedding."""
    dim = draw(st.sampled_from([16, 32, 64]))
    heads = draw(st.sampled_from([1, 2, 4]))
    inputs: dict[str, Any] = {"image": {"shape": [3, 16, 16]}}
    layers: list[dict[str, Any]] = [
        {"name": "patch", "op": "conv2d", "input": "image", "out_channels": dim, "kernel": 4,
         "stride": 4},
        {"name": "tokens", "op": "tokens", "input": "patch"},
        {"name": "cls", "op": "param", "shape": [dim]},
        {"name": "seq", "op": "concat", "inputs": ["cls", "tokens"], "axis": "seq"},
        {"name": "pos", "op": "param", "shape": [dim], "seq": 17},
        {"name": "x0", "op": "add", "inputs": ["seq", "pos"]},
    ]  # fmt: skip
    prev = "x0"
    for i in range(draw(st.integers(1, 3))):
        layers += [
            {"name": f"l{i}.ln", "op": "layernorm", "input": prev},
            {"name": f"l{i}.sa", "op": "attention", "input": f"l{i}.ln", "heads": heads,
             "dim": dim, "implementation": draw(st.sampled_from(["auto", "write", "digital"]))},
            {"name": f"l{i}.add", "op": "add", "inputs": [f"l{i}.sa", prev]},
            {"name": f"l{i}.fc", "op": "linear", "input": f"l{i}.add", "out_features": 2 * dim},
            {"name": f"l{i}.act", "op": "gelu", "input": f"l{i}.fc"},
            {"name": f"l{i}", "op": "linear", "input": f"l{i}.act", "out_features": dim},
        ]  # fmt: skip
        prev = f"l{i}"
    layers.append({"name": "class", "op": "slice", "input": prev, "axis": "seq", "stop": 1})
    layers.append({"name": "head", "op": "linear", "input": "class", "out_features": 10})
    network: dict[str, Any] = {"inputs": inputs, "layers": layers}
    if draw(st.booleans()):  # a decoder with a cache and cross-attention, as ViT-GPT2 has
        inputs["start"] = {"shape": [1]}
        layers += [
            {"name": "wte", "op": "embedding", "input": "start", "vocab": 50, "dim": dim},
            {"name": "d.sa", "op": "attention", "input": "wte", "heads": heads, "dim": dim,
             "cache": True},
            {"name": "d.ca", "op": "attention", "input": "d.sa", "kv_input": prev,
             "heads": heads, "dim": dim},
            {"name": "lm", "op": "linear", "input": "d.ca", "out_features": 50, "bias": False,
             "tied": "wte"},
            {"name": "word", "op": "argmax", "input": "lm"},
        ]  # fmt: skip
        network["feedback"] = [{"from": "word", "to": "wte", "steps": draw(st.integers(1, 8))}]
    return network


HARDWARE = st.fixed_dictionaries(
    {"preset": st.sampled_from(["isaac", "puma"])},
    optional={
        "rows": st.sampled_from([64, 128, 256]),
        "cell_bits": st.sampled_from([1, 2, 4]),
        "interconnect": st.sampled_from(["ideal", "isaac"]),
        "adc_bits": st.sampled_from(["auto", 8]),
        "digital": st.sampled_from(["ideal", "units"]),
    },
)
BUDGET = st.one_of(
    st.fixed_dictionaries({"chips": st.integers(1, 4)}),
    st.fixed_dictionaries({"crossbars": st.integers(1, 20_000)}),
    st.fixed_dictionaries({"chips": st.integers(1, 2), "power_w": st.floats(0.5, 100)}),
    st.fixed_dictionaries({"chips": st.integers(1, 2), "mac_units": st.integers(0, 64)}),
)


@st.composite
def instance(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": draw(st.sampled_from(["net", "a[/]b", "названий"])),
        "network": draw(st.one_of(cnn(), rnn(), transformer())),
        "hardware": draw(HARDWARE),
        "budget": draw(BUDGET),
    }
    if chance(draw, 0.1):
        doc["design"] = {"adcs": [1, 2, 4]}
    return doc


# --------------------------------------------------------------------------- mutation


# Mutations reach this deep at most: below it a document may nest a thousand levels
# (the reader's depth limit is what those test), which walking would exhaust the stack.
_MUTATION_DEPTH = 12


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if len(prefix) >= _MUTATION_DEPTH:
        return
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


def _copy(node: Any, depth: int = 0) -> Any:
    """``node``'s dicts and lists copied as deep as a mutation reaches (the rest shared)."""
    if depth > _MUTATION_DEPTH:
        return node
    if isinstance(node, dict):
        return {k: _copy(v, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [_copy(v, depth + 1) for v in node]
    return node


def _parent(doc: Any, path: tuple[Any, ...]) -> Any:
    node = doc
    for key in path[:-1]:
        node = node[key]
    return node


@st.composite
def mutated(draw: st.DrawFn, doc: Any) -> Any:
    """``doc`` with one to three structural mutations (the document may stay valid).

    Mutates a copy: a draw shares lists and mappings with the strategies' constants,
    and changing those in place made hypothesis's replays draw differently.
    """
    doc = _copy(doc)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            return doc
        path = draw(st.sampled_from(paths))
        parent, key = _parent(doc, path), path[-1]
        how = draw(st.sampled_from(["delete", "rename", "retype", "retype", "deep", "cycle"]))
        if how == "delete":
            del parent[key]
        elif how == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["nmae", "input ", "Op", "x", "hardware"]))] = parent.pop(
                key
            )
        elif how == "deep":
            parent[key] = DEEP.format(draw(st.sampled_from([10, 70, 1_200])))
        elif how == "cycle" and isinstance(doc, dict):
            layers = (
                doc.get("network", {}).get("layers")
                if isinstance(doc.get("network"), dict)
                else None
            )
            if isinstance(layers, list) and len(layers) > 1 and isinstance(layers[0], dict):
                last = layers[-1].get("name") if isinstance(layers[-1], dict) else None
                layers[0]["input"] = last
        else:
            parent[key] = draw(BAD_VALUES)
    return doc


ALIAS_BOMB = (
    'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n'
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nname: *g\n"
)


@st.composite
def document_file(draw: st.DrawFn, doc: Any) -> tuple[str, bytes]:
    """The document as a file: YAML or JSON, sometimes truncated, duplicated or replaced."""
    suffix = draw(st.sampled_from([".yaml", ".yaml", ".json"]))
    if suffix == ".json":
        text = json.dumps(doc, ensure_ascii=draw(st.booleans()))
    else:
        text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    text = _deepen(text)
    damage = draw(st.sampled_from(["none"] * 16 + ["truncate", "duplicate", "bomb", "text"]))
    if damage == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    elif damage == "duplicate" and suffix == ".yaml":
        text += "name: again\n"  # a duplicate key
    elif damage == "bomb" and suffix == ".yaml":
        text = ALIAS_BOMB
    elif damage == "text":
        text = draw(st.text(max_size=200))
    return suffix, text.encode("utf-8", "surrogatepass")


# --------------------------------------------------------------------------- cases


@dataclass
class Case:
    """A command line (``{dir}`` stands for the case's directory) and the files it reads."""

    verb: str
    args: list[str]
    files: dict[str, bytes] = field(default_factory=dict)


FLAG_VALUES = {
    "--chips": ["0", "-1", "1", "2", "x", "1e309", "nan", "99999999999999999999"],
    "--crossbars": ["0", "1", "500", "16128", "-5", "1.5"],
    "--time-limit": ["0", "0.2", "1", "nan", "-1", "inf", "1e309"],
    "--method": ["dp", "bisect", "greedy", "cpsat", "ilp", "foo", "DP"],
    "--backend": ["highs", "cbc", "gurobi"],
    "--power-w": ["0.5", "nan", "inf", "-1", "1e309", "abc"],
    "--tiles": ["1", "0", "40"],
}
SOLVE_METHODS = ["dp", "bisect", "greedy", "cpsat", "ilp"]


@st.composite
def flags(draw: st.DrawFn, allowed: list[str]) -> list[str]:
    out: list[str] = []
    for flag in allowed:
        if not chance(draw, 0.25):
            continue
        out += [flag, draw(st.sampled_from(FLAG_VALUES[flag]))]
    if chance(draw, 0.05):
        out.append(draw(st.sampled_from(["--frobnicate", "-z", "--json=3", "--", "--help"])))
    return out


@st.composite
def instance_file(draw: st.DrawFn) -> tuple[str, bytes, dict[str, Any]]:
    doc = draw(instance())
    if chance(draw, 0.5):
        doc = draw(mutated(doc))
    suffix, data = draw(document_file(doc))
    return f"net{suffix}", data, doc


@st.composite
def solve_case(draw: st.DrawFn) -> Case:
    name, data, _ = draw(instance_file())
    method = draw(st.sampled_from(SOLVE_METHODS))
    args = ["solve", f"{{dir}}/{name}", "-m", method, "--time-limit", "2"]
    if method == "ilp":
        args += ["--backend", draw(st.sampled_from(["highs", "cbc"]))]
    if chance(draw, 0.75):
        args.append("--json")
    return Case("solve", args + draw(flags(["--chips", "--crossbars", "--power-w"])), {name: data})


@st.composite
def analyze_case(draw: st.DrawFn) -> Case:
    name, data, _ = draw(instance_file())
    extra = draw(st.sampled_from([[], ["--all"], ["--json"]]))
    return Case("analyze", ["analyze", f"{{dir}}/{name}", *extra], {name: data})


@st.composite
def evaluate_case(draw: st.DrawFn) -> Case:
    name, data, doc = draw(instance_file())
    layers = (
        doc.get("network", {}).get("layers", []) if isinstance(doc.get("network"), dict) else []
    )
    layers = layers if isinstance(layers, list) else []  # a mutation may have retyped it
    weighted = ("conv2d", "linear", "lstm", "gru", "rnn", "embedding")
    names = [
        la["name"]
        for la in layers
        if isinstance(la, dict) and isinstance(la.get("name"), str) and la.get("op") in weighted
    ]
    copies: dict[Any, Any] = {
        n: draw(st.sampled_from([1, 1, 1, 2])) for n in names if chance(draw, 0.6)
    }
    if chance(draw, 0.7):
        copies["default"] = 1
    if chance(draw, 0.2):
        copies["conv*"] = 2
    if chance(draw, 0.3):
        copies = draw(mutated(copies)) if copies else draw(BAD_VALUES)
    suffix, cdata = draw(document_file(copies))
    args = ["evaluate", f"{{dir}}/{name}", "--copies", f"{{dir}}/copies{suffix}"]
    if chance(draw, 0.75):
        args.append("--json")
    return Case("evaluate", args, {name: data, f"copies{suffix}": cdata})


@st.composite
def compare_case(draw: st.DrawFn) -> Case:
    name, data, _ = draw(instance_file())
    args = ["compare", f"{{dir}}/{name}", "--time-limit", "1"]
    return Case("compare", args + draw(st.sampled_from([[], ["--json"]])), {name: data})


@st.composite
def pareto_case(draw: st.DrawFn) -> Case:
    name, data, _ = draw(instance_file())
    extra = draw(st.sampled_from([[], ["--json"], ["-r", "power"], ["-r", "area", "--json"],
                                  ["--up-to", "2"], ["-r", "volts"]]))  # fmt: skip
    return Case("pareto", ["pareto", f"{{dir}}/{name}", *extra], {name: data})


@st.composite
def import_case(draw: st.DrawFn) -> Case:
    model = draw(st.sampled_from(ONNX_MODELS))
    data = bytearray((DATA / model).read_bytes())
    damage = draw(st.sampled_from(["none", "flip", "flip", "truncate", "garbage"]))
    if damage == "flip":
        for _ in range(draw(st.integers(1, 16))):
            i = draw(st.integers(0, len(data) - 1))
            data[i] ^= 1 << draw(st.integers(0, 7))
    elif damage == "truncate":
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif damage == "garbage":
        data = bytearray(draw(st.binary(max_size=300)))
    args = ["import", "{dir}/model.onnx"]
    if draw(st.booleans()):
        args += ["-o", "{dir}/out.yaml"]
    return Case(
        "import", args + draw(flags(["--chips", "--crossbars"])), {"model.onnx": bytes(data)}
    )


@st.composite
def hardware_case(draw: st.DrawFn) -> Case:
    hw = draw(HARDWARE)
    if draw(st.booleans()):
        hw = draw(mutated(hw))
    suffix, data = draw(document_file({"hardware": hw}))
    target = draw(st.sampled_from(["isaac", "puma", "tpu", f"{{dir}}/hw{suffix}"]))
    return Case("hardware", ["hardware", target, *draw(st.sampled_from([[], ["--json"]]))],
                {f"hw{suffix}": data})  # fmt: skip


@st.composite
def sweep_case(draw: st.DrawFn) -> Case:
    name, data, _ = draw(instance_file())
    spec: dict[str, Any] = {
        "networks": [draw(st.sampled_from([name, "captioner", "nosuch"]))],
        "hardware": {"axes": {"rows": draw(st.sampled_from([[128], [64, 128]]))}},
        "budgets": {"chips": [1, 2]},
        "methods": draw(st.sampled_from([["dp"], ["bisect", "greedy"]])),
    }
    if draw(st.booleans()):
        spec = draw(mutated(spec))
    suffix, sdata = draw(document_file(spec))
    args = ["sweep", f"{{dir}}/spec{suffix}", "--store", "{dir}/s.duckdb"]
    return Case("sweep", args, {name: data, f"spec{suffix}": sdata})


@st.composite
def misc_case(draw: st.DrawFn) -> Case:
    args = draw(
        st.sampled_from(
            [["schema"], ["schema", "--sweep"], ["schema", "--frob"], [], ["nosuchverb"],
             ["sweep-report", "{dir}/none.duckdb"], ["solve"], ["solve", "{dir}/missing.yaml"],
             ["solve", "{dir}"], ["analyze", "{dir}/x.txt"], ["--version"]]
        )
    )  # fmt: skip
    return Case(args[0] if args else "(none)", args)


@dataclass
class ApiCase:
    """A document given to the Python API: parse, analyse, build, solve, verify."""

    doc: Any
    method: str
    verb: str = "python api"


@st.composite
def api_case(draw: st.DrawFn) -> ApiCase:
    doc = draw(instance())
    if chance(draw, 0.5):
        doc = draw(mutated(doc))
    return ApiCase(doc, draw(st.sampled_from(["dp", "bisect", "greedy", "cpsat"])))


CASES = st.one_of(
    api_case(),
    solve_case(), solve_case(), solve_case(), analyze_case(), analyze_case(), evaluate_case(),
    compare_case(), pareto_case(), import_case(), import_case(), hardware_case(), sweep_case(),
    misc_case(),
)  # fmt: skip
"""Every kind of case, weighted towards the verbs users run most."""

# --------------------------------------------------------------------------- running


class Hang(Exception):
    """A call ran past HANG_SECONDS."""


@contextmanager
def _alarm(seconds: int) -> Iterator[None]:
    def ring(signum: int, frame: Any) -> None:
        raise Hang

    previous = signal.signal(signal.SIGALRM, ring)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Outcome:
    verb: str
    code: int | None
    problems: list[str]

    @property
    def kind(self) -> str:
        """``ok``, ``user error`` and the like, or the first broken promise."""
        if self.problems:
            return self.problems[0].split(":")[0]
        return {0: "ok", 2: "bad input", 3: "infeasible", 4: "solver failed"}[self.code or 0]


TALLY: Counter[tuple[str, str]] = Counter()
"""(verb, outcome) over every case run in this process (the long profile's table)."""


def run_api(case: ApiCase) -> Outcome:
    """The Python API on one document: every refusal a :class:`~hitm.HitmError`, every
    design within its budget (:func:`hitm.pipeline.verify`)."""
    from hitm import HitmError, SolverError, analyze, build_problem, parse_instance, solve
    from hitm.pipeline import verify

    problems: list[str] = []
    code = 0
    try:
        with _alarm(HANG_SECONDS):
            inst = parse_instance(case.doc)
            problem = build_problem(
                analyze(inst.network, inst.hardware), inst.budget, design=inst.design
            )
            result = solve(problem, case.method, time_limit=2)
        if result.has_allocation:
            try:
                verify(problem, result)
            except SolverError as exc:  # the design breaks its budget or misreports itself
                problems.append(f"design check: {exc}")
    except HitmError:
        code = 2
    except Hang:
        problems.append("hang: python api")
    except Exception as exc:  # the promise is that nothing else escapes
        problems.append(f"traceback: {type(exc).__name__}: {exc}")
    outcome = Outcome(case.verb, code, problems)
    TALLY[case.verb, outcome.kind] += 1
    return outcome


def run_case(case: Case | ApiCase) -> Outcome:
    """Run one case in a fresh directory; never raises, returns what went wrong."""
    if isinstance(case, ApiCase):
        return run_api(case)
    with tempfile.TemporaryDirectory(prefix="hitm-fuzz-") as tmp:
        for name, data in case.files.items():
            (Path(tmp) / name).write_bytes(data)
        args = [a.replace("{dir}", tmp) for a in case.args]
        problems: list[str] = []
        try:
            with _alarm(HANG_SECONDS):
                result = CliRunner().invoke(app, args)
        except Hang:
            outcome = Outcome(case.verb, None, [f"hang: {args}"])
            TALLY[case.verb, outcome.kind] += 1
            return outcome
        code = result.exit_code
        stdout, stderr = result.stdout, result.stderr
        if code not in EXIT_CODES:
            problems.append(f"exit code: {code} for {args}")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            problems.append(f"traceback: {type(result.exception).__name__}: {result.exception}")
        if "Traceback" in stdout or "Traceback" in stderr:
            problems.append(f"traceback: printed for {args}")
        if code != 0:
            if stdout:
                problems.append(f"stdout on error: {stdout[:200]!r}")
            lines = stderr.rstrip("\n").split("\n")
            if len(lines) != 1 or not lines[0]:
                problems.append(f"multi-line error: {stderr[:400]!r}")
        elif case.verb in ("solve", "evaluate") and "--json" in args and "--help" not in args:
            problems += check_design(Path(args[1]), stdout)
    outcome = Outcome(case.verb, code, problems)
    TALLY[case.verb, outcome.kind] += 1
    return outcome


def check_design(path: Path, stdout: str) -> list[str]:
    """A design printed by ``--json``, re-checked by arithmetic on the analysis alone.

    Copies per layer times each copy's crossbars must be the crossbars
    reported and fit the crossbar capacity; every single-layer stage's busy time
    must be that layer's at its copies; the bottleneck must be at least every
    stage's busy time; every capped resource must fit.
    """
    try:
        doc = json.loads(stdout)
    except json.JSONDecodeError as exc:
        return [f"bad json: {exc}"]
    if doc.get("copies") is None:
        return []
    inst = load_instance(path)
    analysis = analyze(inst.network, inst.hardware)
    layers = {layer.name: layer for layer in analysis.layers}
    # Per copy: the layer's crossbars, or with data movement priced the more its
    # buffer reserves (docs/model.md, "Buffers"; pinned by tests/test_placement.py).
    units = doc.get("units", {})
    crossbars = sum(
        n * copy_crossbars(analysis, name) for name, n in doc["copies"].items() if name not in units
    )
    problems = []
    if crossbars != doc["crossbars_used"]:
        problems.append(f"design check: {crossbars} crossbars, reported {doc['crossbars_used']}")
    for key, cap in doc["capacity"].items():
        if doc["usage"][key] > cap and doc.get("fits", True):
            problems.append(f"design check: {key} {doc['usage'][key]} over {cap}, said to fit")
    if doc.get("fits") and crossbars > doc["capacity"].get("crossbars", crossbars):
        problems.append(f"design check: {crossbars} crossbars over the capacity")
    for stage in doc["stages"]:
        members = stage.get("members") or [stage["name"]]
        fixed_adcs = inst.design is None  # in design mode the ADCs change busy times
        if (
            fixed_adcs
            and len(members) == 1
            and members[0] in layers
            and stage.get("kind") != "loop"
        ):
            layer = layers[members[0]]
            units = doc.get("units", {}).get(layer.name)
            if units:  # on MAC units: each a dot product at a time, one MAC per clock
                clocks = sum(rep * -(-n // units) * k for rep, n, k in layer.dots)
                want = math.ceil(Fraction(clocks * 1000) / Fraction(str(inst.hardware.clock_ghz)))
            else:
                want = layer.busy_ps(doc["copies"].get(layer.name, 1))
            # With digital: units a stage's softmax or norm may take longer than its MVMs.
            want = max(want, stage.get("elements_ps", 0))
            if stage["busy_ps"] != want:
                problems.append(f"design check: {layer.name} busy {stage['busy_ps']}, want {want}")
        if stage["busy_ps"] > doc["bottleneck_ps"]:
            problems.append(f"design check: {stage['name']} busier than the bottleneck")
    return problems


def table(tally: Counter[tuple[str, str]], seconds: float, machine: str) -> str:
    """The long profile's Markdown table: calls per verb and outcome, broken promises first."""
    broken = ("traceback", "hang", "multi-line error", "stdout on error", "exit code",
              "design check", "bad json")  # fmt: skip
    kinds = ["ok", "bad input", "infeasible", "solver failed", *broken]
    verbs = sorted({verb for verb, _ in tally})
    total = sum(tally.values())
    lines = [
        "# Fuzz campaign: outcomes per verb",
        "",
        f"`python -m pytest tests/fuzz --hypothesis-profile=long`: {total:,} calls (CLI and Python API) in"
        f" {seconds / 60:.1f} min on {machine} (tests/fuzz/campaign.py says what is generated"
        " and what is checked). A call in a broken-promise column is a bug.",
        "",
        "| verb | " + " | ".join(kinds) + " | calls |",
        "|---|" + "---:|" * (len(kinds) + 1),
    ]
    for verb in verbs:
        row = [tally[verb, k] for k in kinds]
        lines.append(f"| {verb} | " + " | ".join(f"{n:,}" for n in row) + f" | {sum(row):,} |")
    sums = [sum(tally[v, k] for v in verbs) for k in kinds]
    lines.append("| **all** | " + " | ".join(f"**{n:,}**" for n in sums) + f" | **{total:,}** |")
    return "\n".join(lines) + "\n"
