"""Where the command line's output goes, and how an error becomes one line.

Human tables go to stdout; ``--json`` puts exactly one JSON document there
instead; messages and errors go to stderr, one line each.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from hitm.errors import HitmError, ParameterError

__all__ = ["FLAGS", "emit_json", "err", "out", "reports_errors", "warn", "wrote"]

F = TypeVar("F", bound=Callable[..., Any])

out = Console(width=160)
err = Console(stderr=True)

FLAGS = {
    "method": "--method",
    "backend": "--backend",
    "time_limit": "--time-limit",
    "resource": "--resource",
    "up_to": "--up-to",
    "path": "--plot",
    "pareto": "--pareto",
    "scheduler": "--scheduler",
    "workers": "--workers",
}
"""The flag that sets each library parameter a :class:`ParameterError` can name."""


def _message(exc: HitmError) -> str:
    if isinstance(exc, ParameterError) and exc.param in FLAGS:
        return f"{FLAGS[exc.param]}: {exc.detail}"
    return str(exc)


def reports_errors(func: F) -> F:
    """Turn hitm's exceptions into one stderr line and the error's exit code.

    The message is the user's own text in part (names, paths): it is escaped,
    never read as markup.
    """

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except HitmError as exc:
            err.print(
                f"[bold red]error:[/] {escape(_message(exc))}",
                highlight=False,
                markup=True,
                soft_wrap=True,
            )
            raise typer.Exit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


def emit_json(doc: Any, warnings: Sequence[str] = ()) -> None:
    """Write one JSON document to stdout; ``warnings`` (if any) go in its ``warnings`` key."""
    if warnings and isinstance(doc, dict):
        doc = {**doc, "warnings": list(warnings)}
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")


def warn(warnings: Sequence[str]) -> None:
    """Each warning on one stderr line (what a table's reader must not miss)."""
    for line in warnings:
        err.print(f"[bold yellow]warning:[/] {escape(line)}", highlight=False, soft_wrap=True)


def wrote(path: Path) -> None:
    """Tell the user (on stderr) that a file was written."""
    err.print(f"wrote {path}", highlight=False, markup=False)
