"""Where the command line's output goes, and how an error becomes one line.

Human tables go to stdout; ``--json`` puts exactly one JSON document there
instead; messages and errors go to stderr, one line each.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.table import Table
from typer.core import TyperGroup

from hitm.errors import HitmError, ParameterError, spell_out
from hitm.report.plain import plain_table

if TYPE_CHECKING:
    from rich.console import Console

try:  # Typer vendors Click from 0.23 on
    from typer._click.exceptions import ClickException, NoArgsIsHelpError
except ImportError:  # pragma: no cover - older Typer with Click itself
    from click.exceptions import ClickException, NoArgsIsHelpError

__all__ = [
    "FLAGS",
    "LARGE_TABLE_ROWS",
    "PIPED_WIDTH",
    "OneLineErrors",
    "busy",
    "emit_json",
    "err",
    "left_of",
    "out",
    "reports_errors",
    "show",
    "warn",
    "wrote",
]

F = TypeVar("F", bound=Callable[..., Any])

PIPED_WIDTH = 10_000
"""Piped or redirected, stdout is this wide: a table row stays one line for grep and awk."""


@functools.cache
def _stdout_class() -> type:
    """The console class of stdout, made when first needed: ``rich.console`` costs about
    7 ms of every start, and a piped command that prints only tables never needs it."""
    from rich.console import Console, ConsoleDimensions

    class _Stdout(Console):
        """stdout: as wide as the terminal it is printed in (rich folds cells to fit);
        piped, as wide as an exported ``COLUMNS`` asks, else :data:`PIPED_WIDTH`, so
        nothing folds."""

        @property
        def size(self) -> ConsoleDimensions:
            if self.is_terminal:
                return super().size
            return ConsoleDimensions(_piped_width(), 25)

    return _Stdout


def __getattr__(name: str) -> Any:  # PEP 562: the console class on first use
    if name == "_Stdout":
        return _stdout_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _piped_width() -> int:
    """Piped, the width an exported ``COLUMNS`` asks for, else :data:`PIPED_WIDTH`."""
    columns = os.environ.get("COLUMNS", "")
    width = int(columns) if columns.isdigit() and 0 < int(columns) < PIPED_WIDTH else 0
    return width or PIPED_WIDTH


class _Lazy:
    """A console made on first use (see :func:`_stdout_class`), writing to ``stream()``."""

    def __init__(self, make: Callable[[], Console], stream: Callable[[], Any]) -> None:
        self._make = make
        self._stream = stream
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        """The console itself, for code that needs the object (``rich.progress``)."""
        if self._console is None:
            self._console = self._make()
        return self._console

    def surely_piped(self) -> bool:
        """Not made yet, and rich would call its stream no terminal: not a tty, and
        nothing in the environment forcing one (known without making the console)."""
        if self._console is not None:
            return False
        try:
            tty = self._stream().isatty()
        except (AttributeError, ValueError):
            return False
        forced = os.environ.get("FORCE_COLOR") or os.environ.get("TTY_COMPATIBLE") == "1"
        return not tty and not forced

    @property
    def file(self) -> Any:
        return self._stream() if self._console is None else self._console.file

    def __getattr__(self, name: str) -> Any:
        return getattr(self.console, name)


def _stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True)


# Tables and lines hold user text (layer and input names): never read as markup.
out: Any = _Lazy(lambda: _stdout_class()(markup=False), lambda: sys.stdout)
err: Any = _Lazy(_stderr_console, lambda: sys.stderr)


def _surely_piped(console: Any) -> bool:
    return isinstance(console, _Lazy) and console.surely_piped()


def _unfolded() -> bool:
    """stdout is piped and unfolded (no terminal, no exported ``COLUMNS``)."""
    if _surely_piped(out):
        return _piped_width() == PIPED_WIDTH
    return not out.is_terminal and out.size.width == PIPED_WIDTH


LARGE_TABLE_ROWS = 500
"""Tables longer than this are drawn by :func:`~hitm.report.plain.plain_table`
(same characters, no styles, linear time) rather than by ``rich``."""


def show(renderable: Any) -> None:
    """Print a table or line to stdout; a long table in time linear in its rows.

    Piped and unfolded, every table is drawn by :func:`~hitm.report.plain.plain_table`:
    the same characters ``rich`` prints there (no styles, natural widths), in a
    fraction of its time (about 20 ms of a solve's start-up).
    """
    if isinstance(renderable, Table) and (renderable.row_count > LARGE_TABLE_ROWS or _unfolded()):
        text = plain_table(renderable)
        if text is not None:
            out.file.write(text)
            return
    out.print(renderable)


FLAGS = {
    "method": "--method",
    "backend": "--backend",
    "time_limit": "--time-limit",
    "resource": "--resource",
    "up_to": "--up-to",
    "path": "--plot",
    "csv": "--csv",
    "pareto": "--pareto",
    "scheduler": "--scheduler",
    "workers": "--workers",
}
"""The flag that sets each library parameter a :class:`ParameterError` can name."""


def error_line(message: str) -> None:
    """Print ``error: message`` as one stderr line; the message is never read as markup."""
    from rich.markup import escape

    text = escape(spell_out(message))
    err.print(f"[bold red]error:[/] {text}", highlight=False, markup=True, soft_wrap=True)


@contextlib.contextmanager
def _terminate_cleanly() -> Iterator[None]:
    """SIGTERM as an exit that unwinds: ``finally`` blocks run, so no temporary file stays."""

    def stop(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


_started = [time.perf_counter()]  # when the command being run began (set by its main)
_FRESH_SECONDS = 5.0  # a process younger than this at main() is the command's own


def _process_start() -> float | None:
    """``perf_counter()`` at this process's start (Linux), if it began under
    :data:`_FRESH_SECONDS` ago: then ``hitm`` was run as a command, and its
    imports count against ``--time-limit``. In a long-lived process (tests, a
    notebook calling the app) the command starts at its ``main``."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        age = uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
    return time.perf_counter() - age if 0.0 <= age < _FRESH_SECONDS else None


def left_of(time_limit: float) -> float:
    """What is left of ``time_limit`` seconds counted from the command's start.

    ``--time-limit`` bounds the command's wall time, from the process's start
    (imports, reading and analysis included), less a tenth kept for scoring and
    printing the design; a solve that starts with nothing left gets a
    millisecond (and returns its warm start's design).
    """
    return max(0.9 * time_limit - (time.perf_counter() - _started[0]), 1e-3)


class OneLineErrors(TyperGroup):
    """The command group, with Typer's own usage errors (bad flags, values out of range,
    unknown options) reported on one line like hitm's, exit code 2, instead of a boxed panel."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        _started[0] = _process_start() or time.perf_counter()
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        with _terminate_cleanly():
            return self._main_one_line(*args, **kwargs)

    def _main_one_line(self, *args: Any, **kwargs: Any) -> Any:
        try:
            # Not standalone: Click returns the exit code and raises its errors to us.
            code = super().main(*args, standalone_mode=False, **kwargs)
        except NoArgsIsHelpError:  # a bare command asks for its help, printed: no error
            sys.exit(0)
        except ClickException as exc:
            error_line(exc.format_message())
            sys.exit(exc.exit_code)
        except typer.Abort:
            error_line("aborted")
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


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
            error_line(_message(exc))
            raise typer.Exit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


def emit_json(
    doc: Any, warnings: Sequence[str] = (), provenance: dict[str, Any] | None = None
) -> None:
    """Write one JSON document to stdout; ``warnings`` (if any) go in its ``warnings`` key,
    ``provenance`` (:func:`~hitm.report.provenance.provenance_json`) in its own."""
    if warnings and isinstance(doc, dict):
        doc = {**doc, "warnings": list(warnings)}
    if provenance is not None and isinstance(doc, dict):
        doc = {**doc, "provenance": provenance}
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")


@contextlib.contextmanager
def busy(what: str, console: Console | None = None) -> Iterator[None]:
    """A spinner on stderr saying ``what`` hitm is doing, when stderr is a terminal.

    Piped or redirected, nothing is printed (stderr keeps its one line per
    message); the spinner line is erased when the work ends.
    """
    console = console or err
    if _surely_piped(console):
        yield  # known without making the console
        return
    if not console.is_terminal:
        yield
        return
    with console.status(spell_out(what), spinner="dots"):
        yield


def warn(warnings: Sequence[str]) -> None:
    """Each warning on one stderr line (what a table's reader must not miss)."""
    from rich.markup import escape

    for line in warnings:
        text = escape(spell_out(line))
        err.print(f"[bold yellow]warning:[/] {text}", highlight=False, soft_wrap=True)


def wrote(path: Path) -> None:
    """Tell the user (on stderr) that a file was written."""
    err.print(f"wrote {path}", highlight=False, markup=False)
