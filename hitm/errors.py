"""Exceptions raised by hitm, each with the exit code the CLI uses for it.

The library raises; only :mod:`hitm.cli` turns an exception into one line on
stderr and an exit code. Exit codes: 0 success, 2 bad input (description,
hardware, budget or command-line value), 3 infeasible budget, 4 solver error or
disagreement between exact methods.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable, Sequence

__all__ = [
    "DescriptionError",
    "HitmError",
    "InfeasibleError",
    "ParameterError",
    "SolverError",
    "control_characters",
    "spell_out",
    "suggest",
]


class HitmError(Exception):
    """Base class of every error hitm reports to its user."""

    exit_code = 1


class DescriptionError(HitmError):
    """Bad input: a network, hardware or budget field the user must fix.

    Parameters
    ----------
    problems
        One message per bad field, each starting with the field's path
        (``network.layers[3].kernel: ...``). All problems found are reported
        together so a user can fix the file in one pass.
    """

    exit_code = 2

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems: tuple[str, ...] = (
            (problems,) if isinstance(problems, str) else tuple(problems)
        )
        super().__init__("; ".join(self.problems))


class ParameterError(DescriptionError):
    """A bad value of a function's parameter; the CLI names the flag that set it.

    Parameters
    ----------
    param
        The parameter's name (``backend``, ``up_to``).
    detail
        What is wrong with it, without the name.
    """

    def __init__(self, param: str, detail: str) -> None:
        self.param = param
        self.detail = detail
        super().__init__(f"{param}: {detail}")


class InfeasibleError(HitmError):
    """The budget cannot hold the design asked for (e.g. one copy of every layer)."""

    exit_code = 3


class SolverError(HitmError):
    """A solver failed, or two exact methods disagree."""

    exit_code = 4


def suggest(name: str, valid: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest valid name, or ``""``."""
    close = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _spelled(ch: str) -> str:
    return repr(ch)[1:-1] if unicodedata.category(ch) == "Cc" else ch


def spell_out(text: str) -> str:
    """``text`` with its control characters (newlines, ANSI escapes) written as ``\\n``, ``\\x1b``."""
    return "".join(map(_spelled, text))


def control_characters(text: str) -> str:
    """The control characters in ``text``, spelled out as by :func:`spell_out`; "" if none."""
    return "".join(_spelled(ch) for ch in text if unicodedata.category(ch) == "Cc")
