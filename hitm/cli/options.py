"""The command line's shared options, declared once.

Budget and design-mode flags appear on ``evaluate``, ``solve``, ``compare`` and
``pareto``; :func:`budget_options` adds all of them to a command (so each
command's ``--help`` lists every one) and hands the command one
:class:`BudgetFlags` instead of one argument per flag.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from hitm.errors import HitmError
from hitm.methods import METHODS
from hitm.resources import RESOURCES

if TYPE_CHECKING:
    from hitm.description.load import Instance

__all__ = [
    "BackendOpt",
    "BudgetFlags",
    "FileArg",
    "JsonOpt",
    "MethodOpt",
    "PlotOpt",
    "TimeOpt",
    "UsageError",
    "budget_options",
    "check_budget_flags",
]

F = TypeVar("F", bound=Callable[..., Any])


class UsageError(HitmError):
    """A command-line value that parses but makes no sense (exit code 2)."""

    exit_code = 2


PRESET_NAMES = ("isaac", "puma")
"""The hardware presets' names, for help texts: ``hitm.hardware.PRESETS`` without loading
the cost model (tests/test_architecture.py checks that they agree)."""

FileArg = Annotated[
    Path, typer.Argument(help="Instance file (.yaml, .yml or .json) or ONNX model (.onnx).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of tables.")]
PlotOpt = Annotated[
    Path | None,
    typer.Option(
        "--plot", help="Also draw a plot to this file; .png, .svg or .pdf sets the format."
    ),
]
CsvOpt = Annotated[
    Path | None,
    typer.Option(
        "--csv", help="Also write the rows as CSV to this file (the DataFrame's columns)."
    ),
]
MethodOpt = Annotated[str, typer.Option("--method", "-m", help=f"Solver: {', '.join(METHODS)}.")]
TimeOpt = Annotated[
    float,
    typer.Option(
        "--time-limit",
        help="Wall seconds for cpsat and ilp, counted from the command's start (compare: each).",
        min=0.01,
    ),
]
BackendOpt = Annotated[str, typer.Option("--backend", help="MILP backend for ilp: highs or cbc.")]
ChipsOpt = Annotated[
    int | None, typer.Option("--chips", help="Budget in whole chips (overrides the file).", min=1)
]
CrossbarsOpt = Annotated[
    int | None, typer.Option("--crossbars", help="Budget in crossbars (overrides the file).", min=1)
]


def check_budget_flags(**values: object) -> None:
    """Budget flags by the file's own rules (positive, finite, in range), e.g. ``--chips``.

    Raises
    ------
    UsageError
        For the first value out of its field's range, named as its flag.
    """
    from hitm.budget import BUDGET_SECTION

    for key, value in values.items():
        problems: list[str] = []
        if value is not None:
            BUDGET_SECTION.fields[key].check(value, f"--{key.replace('_', '-')}", problems)
        if problems:
            raise UsageError(problems[0])


@dataclass(frozen=True)
class BudgetFlags:
    """The budget and design-mode flags of one command line.

    ``chips``/``crossbars`` replace the file's chips and crossbars; ``tiles``,
    ``power_w`` and ``area_mm2`` replace only the field they name; ``adcs``
    (a list like ``1,2,4,8``) sets design mode's choices and implies ``design``.
    """

    chips: int | None = None
    crossbars: int | None = None
    tiles: int | None = None
    power_w: float | None = None
    area_mm2: float | None = None
    mac_units: int | None = None
    design: bool = False
    adcs: str | None = None
    interconnect: str | None = None
    topology: str | None = None
    digital: str | None = None

    def load(self, file: Path) -> Instance:
        """Load an instance and apply these flags to its budget, design space and hardware."""
        # The model loads when a command runs, not when the command line is parsed.
        from hitm.budget import DesignSpace, load_design
        from hitm.description.load import load_instance
        from hitm.problem import naive_chips

        instance = load_instance(file)
        for flag, choices in (
            ("interconnect", INTERCONNECTS),
            ("topology", TOPOLOGIES),
            ("digital", DIGITALS),
        ):
            value = getattr(self, flag)
            if value is None:
                continue
            if value not in choices:
                raise UsageError(f"--{flag}: expected {' or '.join(choices)}, got {value!r}")
            hw = instance.hardware
            if getattr(hw, flag) != value:
                name = hw.name if hw.name.endswith("*") else f"{hw.name}*"
                hw = dataclasses.replace(hw, **{flag: value}, name=name)
                instance = dataclasses.replace(instance, hardware=hw)
        if self.topology == "ring" and not instance.hardware.moves_data:
            # A ring only reroutes links' traffic: with data moving free it would change nothing.
            raise UsageError(
                "--topology ring: data moves free with interconnect: ideal; add --interconnect isaac"
            )
        budget = instance.budget
        check_budget_flags(chips=self.chips, crossbars=self.crossbars)
        if self.chips is not None or self.crossbars is not None:
            budget = dataclasses.replace(budget, chips=self.chips, crossbars=self.crossbars)
        elif file.suffix.lower() == ".onnx":  # ONNX holds no budget: the fewest chips that fit
            from hitm.analysis import analyze

            chips = naive_chips(analyze(instance.network, instance.hardware))
            budget = dataclasses.replace(budget, chips=chips)
        # Every cap but crossbars (set with chips above) replaces only its own field.
        limits = {
            r.budget_field: getattr(self, r.budget_field)
            for r in RESOURCES.values()
            if r.budget_field != "crossbars"
        }
        check_budget_flags(**limits)
        budget = dataclasses.replace(budget, **{k: v for k, v in limits.items() if v is not None})
        space = instance.design
        if self.adcs is not None:
            try:
                choices = [int(a) for a in self.adcs.split(",")]
            except ValueError:
                raise UsageError(
                    f"--adcs: expected integers like 1,2,4,8, got {self.adcs!r}"
                ) from None
            read_ns = space.read_ns if space else DesignSpace().read_ns
            space = load_design({"adcs": choices, "read_ns": read_ns}, "--adcs")
        elif self.design and space is None:
            space = DesignSpace()
        return dataclasses.replace(instance, budget=budget, design=space)


_FLAGS: dict[str, Any] = {
    "chips": ChipsOpt,
    "crossbars": CrossbarsOpt,
    "tiles": Annotated[int | None, typer.Option("--tiles", help="Cap on tiles.", min=1)],
    "power_w": Annotated[
        float | None,
        typer.Option("--power-w", help="Cap on the provisioned power of the tiles used, in W."),
    ],
    "area_mm2": Annotated[
        float | None,
        typer.Option("--area-mm2", help="Cap on the area of the tiles used, in mm²."),
    ],
    "mac_units": Annotated[
        int | None,
        typer.Option("--mac-units", help="Cap on digital MAC units (with --digital units)."),
    ],
    "design": Annotated[
        bool,
        typer.Option(
            "--design", help="Design mode: each layer also chooses its ADCs per crossbar."
        ),
    ],
    "adcs": Annotated[
        str | None,
        typer.Option(
            "--adcs", help="Design mode's ADCs per crossbar, e.g. 1,2,4,8 (implies --design)."
        ),
    ],
    "interconnect": Annotated[
        str | None,
        typer.Option(
            "--interconnect",
            help="isaac: price chip links, routers and eDRAM and place stages on chips;"
            " ideal: data moves free (overrides the file).",
        ),
    ],
    "topology": Annotated[
        str | None,
        typer.Option(
            "--topology",
            help="chain: chips joined in layer order; ring: closed by a link from the last"
            " chip to the first, traffic routed either way round (overrides the file).",
        ),
    ],
    "digital": Annotated[
        str | None,
        typer.Option(
            "--digital",
            help="units: time softmax, layer norm and GELU on digital units and let products"
            " of two activations run on MAC units; ideal: digital work is free (overrides"
            " the file).",
        ),
    ],
}
INTERCONNECTS = ("ideal", "isaac")
TOPOLOGIES = ("chain", "ring")
DIGITALS = ("ideal", "units")


def budget_options(func: F) -> F:
    """Give a command every budget and design flag; it receives them as ``flags: BudgetFlags``.

    The flags are inserted into the command's signature after its positional
    arguments, so Typer lists them in ``--help`` like any other option.
    """
    signature = inspect.signature(func, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "flags"]
    defaults = {f.name: f.default for f in dataclasses.fields(BudgetFlags)}
    added = [
        inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=defaults[name], annotation=kind
        )
        for name, kind in _FLAGS.items()
    ]
    at = next((i for i, p in enumerate(own) if p.default is not inspect.Parameter.empty), len(own))
    params = [p.replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in own[:at]] + [
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in (*added, *own[at:])
    ]

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        flags = BudgetFlags(**{name: kwargs.pop(name) for name in _FLAGS})
        return func(*args, flags=flags, **kwargs)

    wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]
