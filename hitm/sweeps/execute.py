"""Running a sweep: in this process, on a local Dask cluster, or on an existing one.

The client sends each point still missing from the store to the workers as one
task (:func:`hitm.sweeps.task.run_point`) and writes finished points' rows to
the store as they arrive, whole points at a time, at least once a second (one
DuckDB transaction costs some 10 ms, so points are grouped): the store alone
says what is done, and a sweep killed at any moment loses at most the points of
its last second. Dask is imported only when a sweep uses it.
"""

from __future__ import annotations

import logging
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
    # Workers' own logs (heartbeats closing at shutdown) are not the user's business.
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.CRITICAL,
    )
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


FLUSH_SECONDS = 1.0
FLUSH_POINTS = 256


class _Writer:
    """Finished points' rows, written to the store in groups of whole points."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.pending: list[dict[str, Any]] = []
        self.points = 0
        self.last = time.monotonic()

    def add(self, rows: list[dict[str, Any]]) -> None:
        self.pending += rows
        self.points += 1
        if self.points >= FLUSH_POINTS or time.monotonic() - self.last >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        self.store.insert(self.pending)
        self.pending, self.points, self.last = [], 0, time.monotonic()


TASKS_PER_WORKER = 16  # enough to balance the load; each costs the scheduler about a millisecond


def _chunks(points: list[Point], workers: int) -> list[list[Point]]:
    """Points grouped into tasks: some 16 per worker, never more than 64 points each."""
    size = max(1, min(64, -(-len(points) // (workers * TASKS_PER_WORKER))))
    return [points[i : i + size] for i in range(0, len(points), size)]


def run_points(points: list[Point], sweep: str) -> list[list[dict[str, Any]]]:
    """Every row of several points (one Dask task)."""
    return [run_point(p, sweep) for p in points]


def _record(run: SweepRun, writer: _Writer, rows: list[dict[str, Any]]) -> None:
    writer.add(rows)
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
    writer = _Writer(store)
    if scheduler is None and workers == 1:
        for point in todo:
            _record(run, writer, run_point(point, spec.name))
            if progress:
                progress(run.points, len(todo))
    elif todo:
        from dask.distributed import as_completed

        with _client(workers, scheduler) as client:
            n_workers = max(1, len(client.scheduler_info().get("workers", {})) or workers)
            chunks = _chunks(todo, n_workers)
            futures = client.map(run_points, chunks, sweep=spec.name, pure=False)
            for future in as_completed(futures):
                for rows in future.result():
                    _record(run, writer, rows)
                if progress:
                    progress(run.points, len(todo))
    writer.flush()
    run.seconds = time.perf_counter() - start
    return run
