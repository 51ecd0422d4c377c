"""Design-space sweeps: networks × hardware points × budgets × methods, resumable.

``sweep(spec)`` runs a spec (a file or a mapping) and returns its rows as a
DataFrame; ``hitm sweep SPEC.yaml`` does the same from the command line.

- :mod:`hitm.sweeps.spec`: the spec, its checks and its points;
- :mod:`hitm.sweeps.task`: one point's rows (and the columns, :data:`RESULT_COLUMNS`);
- :mod:`hitm.sweeps.store`: the DuckDB store;
- :mod:`hitm.sweeps.execute`: in-process or on Dask.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hitm.sweeps.execute import SweepRun, run_sweep
from hitm.sweeps.spec import SweepSpec, load_spec, parse_spec
from hitm.sweeps.store import Store
from hitm.sweeps.task import RESULT_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "RESULT_COLUMNS",
    "Store",
    "SweepRun",
    "SweepSpec",
    "load_spec",
    "parse_spec",
    "run_sweep",
    "sweep",
]


def sweep(
    spec: str | Path | Mapping[str, Any] | SweepSpec,
    *,
    store: str | Path | None = None,
    workers: int = 1,
    scheduler: str | None = None,
) -> pd.DataFrame:
    """Run a sweep and return its rows, one per (network, hardware point, budget, method).

    Parameters
    ----------
    spec
        A spec file, a spec mapping (files in it relative to the working
        directory) or a parsed :class:`SweepSpec`.
    store
        A DuckDB file to keep the rows in and resume from; default: in memory.
    workers, scheduler
        As :func:`run_sweep`.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`RESULT_COLUMNS`.
    """
    if isinstance(spec, SweepSpec):
        parsed = spec
    elif isinstance(spec, Mapping):
        parsed = parse_spec(spec)
    else:
        parsed = load_spec(spec)
    with Store(store or ":memory:") as db:
        run_sweep(parsed, db, workers=workers, scheduler=scheduler)
        return db.frame({p.key for p in parsed.points})
