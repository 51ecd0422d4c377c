"""The sweep spec: networks × hardware points × budgets × methods, checked like an instance.

A spec (YAML or JSON, or the same mapping from Python)::

    name: adc-study
    networks: [nic, instances/captioner.yaml, model.onnx]   # zoo names or files
    hardware:
      preset: isaac                      # any hardware field fixed here...
      axes:                              # ...or swept: a list, a range or a log range
        rows: [64, 128, 256]
        adc_rate_gsps: {range: [0.64, 2.56, 0.64]}     # start, stop (inclusive), step
        edram_kb: {log: [16, 256, 5]}                  # start, stop, points (geometric)
    budgets: {chips: [1, 2, 4, 8], power_w: [60, 120]} # every combination of the lists
    methods: [dp]
    design: false                        # or true, or {adcs: [1, 2, 4], read_ns: 25}
    sampling: grid                       # or {random: 500} (distinct points) or {latin_hypercube: 500}
    seed: 0
    time_limit: 10                       # seconds per exact solve

The fields and their rules are declared once (:data:`SPEC_SECTION`) for the
checker and the spec's JSON Schema (``hitm schema --sweep``,
``docs/sweep.schema.json``). Files are resolved against the spec's directory.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hitm.budget import BUDGET_SECTION, DESIGN_SECTION, Budget
from hitm.description.load import read_document
from hitm.errors import DescriptionError
from hitm.fields import (
    BAD,
    Choice,
    Field,
    Integer,
    ListOf,
    MappingOf,
    Number,
    Section,
    Text,
)
from hitm.hardware import hardware_section, load_hardware
from hitm.optimize import METHODS

__all__ = [
    "MAX_POINTS",
    "SPEC_SECTION",
    "Point",
    "SweepSpec",
    "load_spec",
    "parse_spec",
    "sweep_schema",
]

MAX_POINTS = 10_000_000  # network × hardware points × budgets beyond this are refused
MAX_AXIS_VALUES = 100_000


@dataclass(frozen=True)
class Axis(Field):
    """A swept hardware field: a list of values, ``{range: [start, stop, step]}`` or
    ``{log: [start, stop, points]}``. Its values are checked by the hardware loader."""

    description: str = ""

    def check(self, value: Any, where: str, problems: list[str]) -> Any:
        if isinstance(value, list):
            if not value or len(value) > MAX_AXIS_VALUES:
                problems.append(
                    f"{where}: expected 1 to {MAX_AXIS_VALUES:,} values, got {len(value)}"
                )
                return BAD
            return tuple(value)
        if isinstance(value, Mapping) and len(value) == 1:
            ((kind, args),) = value.items()
            if kind in ("range", "log"):
                return self._expand(kind, args, f"{where}.{kind}", problems)
        problems.append(
            f"{where}: expected a list, {{range: [start, stop, step]}} or"
            f" {{log: [start, stop, points]}}, got {value!r}"
        )
        return BAD

    @staticmethod
    def _expand(kind: str, args: Any, where: str, problems: list[str]) -> Any:
        numbers = (
            isinstance(args, list)
            and len(args) == 3
            and all(
                isinstance(a, int | float) and not isinstance(a, bool) and math.isfinite(a)
                for a in args
            )
        )
        if not numbers:
            problems.append(f"{where}: expected three numbers, got {args!r}")
            return BAD
        start, stop, third = args
        if kind == "range":
            if not third > 0 or stop < start:
                problems.append(f"{where}: needs start <= stop and a positive step, got {args!r}")
                return BAD
            n = math.floor((stop - start) / third + 1e-9) + 1
            if n > MAX_AXIS_VALUES:
                problems.append(f"{where}: {n:,} values; at most {MAX_AXIS_VALUES:,}")
                return BAD
            values = [start + i * third for i in range(n)]
        else:
            if not (
                start > 0
                and stop >= start
                and isinstance(third, int)
                and 1 <= third <= MAX_AXIS_VALUES
            ):
                problems.append(
                    f"{where}: needs 0 < start <= stop and a whole number of points, got {args!r}"
                )
                return BAD
            ratio = (stop / start) ** (1 / (third - 1)) if third > 1 else 1.0
            values = [start * ratio**i for i in range(third)]
        # Whole bounds (and a whole step) give whole values: a log range of integers rounds.
        whole = all(isinstance(a, int) for a in (args if kind == "range" else args[:2]))
        if whole:
            return tuple(dict.fromkeys(round(v) for v in values))
        return tuple(round(v, 12) for v in values)

    def schema(self) -> dict[str, Any]:
        three = {"type": "array", "items": {"type": "number"}, "minItems": 3, "maxItems": 3}
        return self._described(
            {
                "oneOf": [
                    {"type": "array", "minItems": 1},
                    {"type": "object", "properties": {"range": three}, "required": ["range"],
                     "additionalProperties": False},
                    {"type": "object", "properties": {"log": three}, "required": ["log"],
                     "additionalProperties": False},
                ]
            }
        )  # fmt: skip


@dataclass(frozen=True)
class Sampling(Field):
    """``grid``, ``{random: N}`` or ``{latin_hypercube: N}``."""

    description: str = ""

    def check(self, value: Any, where: str, problems: list[str]) -> Any:
        if value == "grid":
            return ("grid", 0)
        if isinstance(value, Mapping) and len(value) == 1:
            ((kind, n),) = value.items()
            if (
                kind in ("random", "latin_hypercube")
                and isinstance(n, int)
                and not isinstance(n, bool)
                and 1 <= n <= MAX_POINTS
            ):
                return (kind, n)
        problems.append(
            f"{where}: expected grid, {{random: N}} or {{latin_hypercube: N}} with 1 <= N <="
            f" {MAX_POINTS:,}, got {value!r}"
        )
        return BAD

    def schema(self) -> dict[str, Any]:
        n = {"type": "integer", "minimum": 1, "maximum": MAX_POINTS}
        return self._described(
            {
                "oneOf": [
                    {"const": "grid"},
                    {"type": "object", "properties": {"random": n}, "required": ["random"],
                     "additionalProperties": False},
                    {"type": "object", "properties": {"latin_hypercube": n},
                     "required": ["latin_hypercube"], "additionalProperties": False},
                ]
            }
        )  # fmt: skip


@dataclass(frozen=True)
class DesignChoice(Field):
    """Design mode: ``true``/``false``, or a design space as an instance gives it."""

    description: str = ""

    def check(self, value: Any, where: str, problems: list[str]) -> Any:
        if isinstance(value, bool):
            return value
        checked = DESIGN_SECTION.check(value, where, problems)
        return BAD if checked is BAD else dict(value)

    def schema(self) -> dict[str, Any]:
        return self._described({"oneOf": [{"type": "boolean"}, DESIGN_SECTION.schema()]})


def _hardware_fields() -> dict[str, Field]:
    fields = dict(hardware_section().fields)
    fields.pop("components")
    return fields


def _hardware_block() -> Section:
    fields = _hardware_fields()
    axis_names = tuple(name for name in fields if name != "preset")
    return Section(
        {
            **fields,
            "components": hardware_section().fields["components"],
            "axes": MappingOf(
                Axis(),
                names=axis_names,
                noun="hardware field",
                expected="a mapping of hardware fields to their values",
                description="Hardware fields swept: each a list, a range or a log range.",
            ),
        },
        description="A preset, fixed overrides, and the axes swept.",
    )


SPEC_SECTION = Section(
    {
        "name": Text("The sweep's name."),
        "networks": ListOf(
            Text(),
            expected="a list of zoo names or instance/ONNX files",
            max_items=1000,
            description="Zoo names (instances/<name>.yaml), instance files or ONNX models.",
        ),
        "hardware": _hardware_block(),
        "budgets": Section(
            {
                key: ListOf(rule, expected=f"a list of {key} values", max_items=10_000)
                for key, rule in BUDGET_SECTION.fields.items()
            },
            description="Budget fields, each a list; every combination is a budget.",
        ),
        "methods": ListOf(Choice(METHODS), expected="a list of methods", max_items=len(METHODS)),
        "design": DesignChoice("Design mode on or off, or its space (adcs, read_ns)."),
        "sampling": Sampling("How the hardware points are drawn from the axes."),
        "seed": Integer(0, 2**32 - 1, "Seed of random and Latin hypercube sampling."),
        "time_limit": Number(0.01, 3600.0, closed_max=True, description="Seconds per exact solve."),
        "backend": Choice(("highs", "cbc"), description="MILP backend for ilp."),
    },
    required=("networks",),
    expected="a mapping with networks (and hardware, budgets, methods, sampling)",
    title="hitm sweep",
)


def sweep_schema() -> dict[str, Any]:
    """The sweep spec as JSON Schema (draft 2020-12)."""
    doc = SPEC_SECTION.schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://hitm.dev/schema/sweep.schema.json",
        **doc,
    }


@dataclass(frozen=True)
class Point:
    """One task of a sweep: a network on one hardware point, with every budget and method."""

    network: str  # how the spec named it
    document: Mapping[str, Any] = field(repr=False)  # the instance document (network, ...)
    network_hash: str = ""
    hardware: Mapping[str, Any] = field(default_factory=dict)
    budgets: tuple[Budget, ...] = ()
    methods: tuple[str, ...] = ("dp",)
    design: Any = None
    time_limit: float = 10.0
    backend: str = "highs"

    @property
    def key(self) -> str:
        """Content hash of everything the point's rows depend on."""
        content = {
            "network": self.network_hash,
            "hardware": dict(self.hardware),
            "budgets": [b.__dict__ for b in self.budgets],
            "methods": list(self.methods),
            "design": self.design,
            "time_limit": self.time_limit,
            "backend": self.backend,
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class SweepSpec:
    """A validated spec: its points, in order."""

    name: str
    points: tuple[Point, ...]

    @property
    def n_rows(self) -> int:
        return sum(len(p.budgets) * len(p.methods) for p in self.points)


def _zoo_dir() -> Path:
    """The repository's instances/ (a source checkout or an editable install)."""
    return Path(__file__).resolve().parents[2] / "instances"


def _network_document(entry: str, base: Path, where: str, problems: list[str]):
    """(document, content hash) of a zoo name or a file; None after recording a problem."""
    path = Path(entry)
    if path.suffix.lower() not in (".yaml", ".yml", ".json", ".onnx"):
        path = _zoo_dir() / f"{entry}.yaml"
        if not path.is_file():
            problems.append(
                f"{where}: no zoo network '{entry}' (zoo names are the files in {_zoo_dir()};"
                " or give a .yaml, .json or .onnx file)"
            )
            return None
    elif not path.is_absolute():
        path = base / path
    try:
        raw = path.read_bytes()
        if path.suffix.lower() == ".onnx":
            from hitm.description.load import onnx_document

            doc = onnx_document(path)
        else:
            doc = read_document(path)
    except (OSError, DescriptionError) as exc:
        problems.append(f"{where}: {exc}")
        return None
    if not isinstance(doc, Mapping) or "network" not in doc:
        problems.append(f"{where}: {path} has no network")
        return None
    doc = {"name": doc.get("name") or path.stem, "network": doc["network"]}
    return doc, hashlib.sha256(raw).hexdigest()


def _sample(axes: Mapping[str, tuple[Any, ...]], sampling: tuple[str, int], seed: int):
    names = list(axes)
    if not names:
        return [{}]
    kind, n = sampling
    if kind == "grid":
        total = math.prod(len(axes[a]) for a in names)
        if total > MAX_POINTS:
            raise DescriptionError(
                f"hardware.axes: a grid of {total:,} points (limit {MAX_POINTS:,}); sample instead"
            )
        return [
            dict(zip(names, values, strict=True)) for values in itertools.product(*axes.values())
        ]
    import numpy as np

    if kind == "random":  # n distinct points of the grid (all of it if it has fewer)
        sizes = [len(axes[a]) for a in names]
        total = math.prod(sizes)
        rng = np.random.default_rng(seed)
        flat = rng.choice(total, size=min(n, total), replace=False)
        picks = list(np.unravel_index(np.sort(flat), sizes))
        n = len(flat)
    else:
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(names), seed=seed).random(n)
        picks = [np.minimum((unit[:, i] * len(axes[a])).astype(int), len(axes[a]) - 1)
                 for i, a in enumerate(names)]  # fmt: skip
    points = [{a: axes[a][int(p[j])] for a, p in zip(names, picks, strict=True)} for j in range(n)]
    # A Latin hypercube over few values can draw a point twice: keep the first.
    unique = {json.dumps(p, sort_keys=True): p for p in reversed(points)}
    return [p for p in points if unique.get(json.dumps(p, sort_keys=True)) is p]


def parse_spec(doc: Any, base: Path | None = None, default_name: str = "sweep") -> SweepSpec:
    """Validate a spec document and expand it into points.

    Raises
    ------
    DescriptionError
        One entry per problem (field path first), as for an instance.
    """
    base = base or Path.cwd()
    problems: list[str] = []
    values = SPEC_SECTION.check(doc, "", problems) if isinstance(doc, Mapping) else BAD
    if values is BAD:
        raise DescriptionError(problems or ["sweep: expected a mapping with networks"])
    networks = []
    for i, entry in enumerate(values.get("networks", ())):
        if entry is BAD:
            continue
        found = _network_document(entry, base, f"networks[{i}]", problems)
        if found is not None:
            networks.append((entry, *found))
    fixed = dict(values.get("hardware") or {})
    axes = fixed.pop("axes", {}) or {}
    budget_lists = values.get("budgets") or {}
    budget_lists = {k: [v for v in vals if v is not BAD] for k, vals in budget_lists.items()}
    if problems:
        raise DescriptionError(problems)
    try:  # every axis value, with the fixed fields, must load as hardware
        for name, axis_values in axes.items():
            # By their JSON text: a value may be a list (refused by its field, not by hash()).
            distinct = {json.dumps(v, sort_keys=True, default=repr): v for v in axis_values}
            for v in distinct.values():
                load_hardware({**fixed, name: v}, path=f"hardware.axes.{name}[{v!r}]")
    except DescriptionError as exc:
        raise DescriptionError(exc.problems) from None
    budgets = tuple(
        Budget(**dict(zip(budget_lists, combo, strict=True)))
        for combo in itertools.product(*budget_lists.values())
    ) or (Budget(),)
    hardware_points = _sample(axes, values.get("sampling", ("grid", 0)), values.get("seed", 0))
    methods = tuple(str(m) for m in values.get("methods") or ("dp",))
    design = values.get("design")
    design = design if isinstance(design, Mapping) else (True if design else None)
    total = len(networks) * len(hardware_points) * len(budgets) * len(methods)
    if total > MAX_POINTS:
        raise DescriptionError(f"sweep: {total:,} rows (limit {MAX_POINTS:,}); sample or narrow it")
    points = tuple(
        Point(
            network=entry,
            document=document,
            network_hash=digest,
            hardware={**fixed, **point},
            budgets=budgets,
            methods=methods,
            design=design,
            time_limit=values.get("time_limit", 10.0),
            backend=values.get("backend", "highs"),
        )
        for entry, document, digest in networks
        for point in hardware_points
    )
    return SweepSpec(values.get("name") or default_name, points)


def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a spec file (files in it are relative to its directory)."""
    path = Path(path)
    return parse_spec(read_document(path), base=path.parent, default_name=path.stem)
