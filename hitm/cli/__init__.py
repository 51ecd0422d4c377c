"""The ``hitm`` command line (Typer): thin wiring from arguments to the library and back.

- :mod:`hitm.cli.app`: the commands;
- :mod:`hitm.cli.options`: shared options, declared once;
- :mod:`hitm.cli.output`: stdout, stderr, JSON and the one-line error reporter.
"""

from hitm.cli.app import app

__all__ = ["app"]
