"""Running a sweep: in this process, on a local Dask cluster, or on an existing one.

The client sends each point still missing from the store to the workers as one
task (:func:`hitm.sweeps.task.run_point`) and writes each finished point's rows
to the store as it arrives, so the store alone says what is done. Dask is
imported only when a sweep uses it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from hitm.errors import ParameterError
from hitm.sweeps.spec import Point, SweepSpec
from hitm.sweeps.store import Store
from hitm.sweeps.task import run_point

__all__ = ["SweepRun", "run_sweep"]

Progress = Callable[[int, int], None]


@dataclass
class SweepRun:
    """What a sweep did: points run and skipped, rows by status, wall seconds."""

    points: int = 0
    skipped: int = 0
    rows: int = 0
    statuses: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def points_per_s(self) -> float:
        return self.points / self.seconds if self.seconds else 0.0


@contextmanager
def _client(workers: int, scheduler: str | None) -> Iterator[Any]:
    from dask.distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise ParameterError("scheduler", f"cannot reach {scheduler} ({exc})") from None
        try:
            yield client
        finally:
            client.close()
        return
    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _record(run: SweepRun, store: Store, rows: list[dict[str, Any]]) -> None:
    store.insert(rows)
    run.points += 1
    run.rows += len(rows)
    for row in rows:
        status = row["status"]
        run.statuses[status] += 1
        if status == "infeasible":
            run.failures["infeasible: the budget cannot hold one copy of every layer"] += 1
        elif status in ("error", "timeout"):
            run.failures[f"{status}: {(row['message'] or '').split(';')[0][:80]}"] += 1


def run_sweep(
    spec: SweepSpec,
    store: Store,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> SweepRun:
    """Run every point of ``spec`` not yet in ``store``.

    Parameters
    ----------
    workers
        1: run in this process; more: a local Dask cluster of that many processes.
    scheduler
        The address of an existing Dask scheduler (``tcp://host:port``); overrides ``workers``.
    progress
        Called with (points done, points to run) after each point.
    """
    if workers < 1:
        raise ParameterError("workers", f"must be at least 1, got {workers}")
    start = time.perf_counter()
    done = store.point_keys()
    todo: list[Point] = []
    seen: set[str] = set()
    for point in spec.points:
        if point.key not in done and point.key not in seen:
            todo.append(point)
            seen.add(point.key)
    run = SweepRun(skipped=len(spec.points) - len(todo))
    if progress:
        progress(0, len(todo))
    if scheduler is None and workers == 1:
        for point in todo:
            _record(run, store, run_point(point, spec.name))
            if progress:
                progress(run.points, len(todo))
    elif todo:
        from dask.distributed import as_completed

        with _client(workers, scheduler) as client:
            futures = client.map(run_point, todo, sweep=spec.name, pure=False)
            for future in as_completed(futures):
                _record(run, store, future.result())
                if progress:
                    progress(run.points, len(todo))
    run.seconds = time.perf_counter() - start
    return run
