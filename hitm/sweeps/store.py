"""Where a sweep's rows live: an embedded DuckDB database, one row per (point, budget, method).

Rows are keyed by a content hash of their inputs (``row_key``) and a point's
rows go in together, in one transaction: a sweep killed at any moment keeps
every point it finished, none half-written, and a re-run skips them without
duplicating a row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hitm.errors import DescriptionError
from hitm.sweeps.task import BUDGET_COLUMNS, HARDWARE_COLUMNS, RESULT_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Store"]

TABLE = "results"


class Store:
    """A DuckDB file of sweep rows (created on first use).

    Parameters
    ----------
    path
        The database file; ``:memory:`` keeps it in memory.
    """

    def __init__(self, path: str | Path) -> None:
        import duckdb

        self.path = str(path)
        try:
            self._db = duckdb.connect(self.path)
        except duckdb.Error as exc:
            raise DescriptionError(f"{path}: cannot open as a sweep store ({exc})") from None
        columns = ", ".join(f"{name} {kind}" for name, kind in RESULT_COLUMNS.items())
        self._db.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} ({columns}, PRIMARY KEY (row_key))")
        have = {r[0] for r in self._db.execute(f"DESCRIBE {TABLE}").fetchall()}
        missing = [c for c in RESULT_COLUMNS if c not in have]
        if missing:
            raise DescriptionError(
                f"{path}: a sweep store of another hitm version (no column {missing[0]})"
            )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def point_keys(self) -> set[str]:
        """Points whose rows are stored."""
        return {
            r[0] for r in self._db.execute(f"SELECT DISTINCT point_key FROM {TABLE}").fetchall()
        }

    def insert(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Store whole points' rows, all or none; rows already stored are left as they are."""
        if not rows:
            return
        import pandas as pd

        names = list(RESULT_COLUMNS)
        # One columnar insert: DuckDB reads the frame in bulk (row-by-row inserts cost ~10 ms each).
        batch = pd.DataFrame([[row.get(n) for n in names] for row in rows], columns=names)
        self._db.register("batch", batch)
        self._db.execute("BEGIN TRANSACTION")
        try:
            casts = ", ".join(f"CAST({n} AS {kind})" for n, kind in RESULT_COLUMNS.items())
            self._db.execute(f"INSERT OR IGNORE INTO {TABLE} SELECT {casts} FROM batch")
            self._db.execute("COMMIT")
        except Exception:
            self._db.execute("ROLLBACK")
            raise
        finally:
            self._db.unregister("batch")

    def frame(self, point_keys: Iterable[str] | None = None) -> pd.DataFrame:
        """Rows as a DataFrame (those of ``point_keys`` only, if given), in a stable order."""
        query = f"SELECT * FROM {TABLE}"
        params: list[Any] = []
        if point_keys is not None:
            keys = list(point_keys)
            if not keys:
                query += " WHERE FALSE"
            else:
                query += f" WHERE point_key IN ({', '.join('?' for _ in keys)})"
                params = keys
        order = ["network", *HARDWARE_COLUMNS, *BUDGET_COLUMNS, "method", "row_key"]
        query += f" ORDER BY {', '.join(order)}"
        return self._db.execute(query, params).df()

    def export(self, path: str | Path, fmt: str, point_keys: Iterable[str] | None = None) -> None:
        """Write rows to ``path`` as ``csv`` or ``parquet`` (through DuckDB, whole)."""
        from hitm.files import write_whole

        self._db.register("export_rows", self.frame(point_keys))
        tmp = Path(path).with_name(f".{Path(path).name}.export")
        kind = "PARQUET" if fmt == "parquet" else "CSV, HEADER"
        target = str(tmp).replace("'", "''")
        try:
            self._db.execute(f"COPY (SELECT * FROM export_rows) TO '{target}' (FORMAT {kind})")
            write_whole(Path(path), tmp.read_bytes())
        finally:
            tmp.unlink(missing_ok=True)
            self._db.unregister("export_rows")
