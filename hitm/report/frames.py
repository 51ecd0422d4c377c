"""DataFrames written as CSV files (``--csv``), whole or not at all.

The frames are the Python API's (``Analysis.to_dataframe()``,
``Metrics.to_dataframe()``, ``Comparison.to_dataframe()``,
``Frontier.to_dataframe()``), so a CSV column is named as the DataFrame's
column and the JSON key of the same figure. A cell holding a list (a loop
stage's members and their copies) is written with its items joined by ``;``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from hitm.errors import ParameterError
from hitm.files import write_whole

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["check_csv_path", "write_csv"]


def check_csv_path(path: Path) -> None:
    """Refuse, before any work, a CSV path whose directory does not exist or that is one.

    Raises
    ------
    ParameterError
        Naming the path.
    """
    if path.is_dir():
        raise ParameterError("csv", f"{path}: is a directory")
    if not path.parent.is_dir():
        raise ParameterError("csv", f"{path}: directory {path.parent} does not exist")


def _cell(value: object) -> object:
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return value


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` to ``path`` as CSV (header, no index), whole.

    Returns
    -------
    Path
        ``path``, once written.
    """
    check_csv_path(path)
    text = frame.map(_cell).to_csv(index=False, lineterminator="\n")
    return write_whole(path, text)
