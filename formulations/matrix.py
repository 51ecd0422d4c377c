"""The one-hot MILP as arrays, and HiGHS run on them through ``highspy`` directly.

PuLP builds a Python object per variable and per term, then hands HiGHS the model
one column and one row at a time: at 1,000 stages (120,000 options) that took 8 of
the 10 seconds of a proof whose branch and bound took 1.3. Here the model is a
handful of numpy arrays passed to HiGHS in one call; CBC, which PuLP drives
through a file, gets the same arrays as a PuLP model (:mod:`formulations.ilp`).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Matrix:
    """``min cost·x`` subject to ``row_lower <= A x <= row_upper`` and column bounds.

    ``A`` is row-wise (CSR: ``starts``, ``index``, ``value``); ``integer`` marks the
    integer columns. Columns ``0..n_options-1`` are the options of every stage in
    order (``offsets[s]`` is stage ``s``'s first), then any others (``T``).
    """

    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray
    starts: np.ndarray
    index: np.ndarray
    value: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    offsets: np.ndarray  # (S + 1,) first column of each stage, then n_options

    @property
    def n_cols(self) -> int:
        return int(self.cost.size)

    @property
    def n_rows(self) -> int:
        return int(self.row_lower.size)

    def rows(self) -> list[tuple[np.ndarray, np.ndarray, float, float]]:
        """Every row as (columns, coefficients, lower, upper)."""
        return [
            (self.index[a:b], self.value[a:b], float(lo), float(up))
            for a, b, lo, up in zip(
                self.starts[:-1], self.starts[1:], self.row_lower, self.row_upper, strict=True
            )
        ]

    def choice(self, x: np.ndarray) -> list[int] | None:
        """Each stage's chosen position (its largest binary), or None unless above 1/2."""
        out = []
        for a, b in zip(self.offsets[:-1], self.offsets[1:], strict=True):
            i = int(np.argmax(x[a:b]))
            if x[a + i] <= 0.5:
                return None
            out.append(i)
        return out

    def start(self, local: Sequence[int], extra: Sequence[float] = ()) -> np.ndarray:
        """Column values of the choice ``local`` (then ``extra`` for the other columns)."""
        x = np.zeros(self.n_cols)
        x[self.offsets[:-1] + np.asarray(local, dtype=np.int64)] = 1.0
        x[int(self.offsets[-1]) :] = extra
        return x


def one_hot(
    cost: Sequence[np.ndarray],
    capacity: np.ndarray,
    *,
    busy: Sequence[Sequence[float]] | None = None,
    objective: int | None = None,
) -> Matrix:
    """The one-hot model of ``README.md`` ("MILP model") over the given options.

    Parameters
    ----------
    cost : sequence of (n_s, R) int arrays
        Every kept option's resource costs, stage by stage.
    capacity : (R,) int array
        Budget per resource; a row that can never bind (its options' costs sum to
        no more than it) is left out.
    busy : sequence of (n_s,) numbers, optional
        Phase 1: each option's scaled busy time. Adds the continuous ``T`` (the
        objective) and ``sum_o busy·z <= T`` per stage.
    objective : int, optional
        Phase 2: minimise this resource's total cost.
    """
    sizes = np.array([len(c) for c in cost], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    n = int(offsets[-1])
    n_stages = len(cost)
    allc = np.concatenate(cost) if n else np.zeros((0, len(capacity)), dtype=np.int64)
    cols = np.arange(n)

    idx: list[np.ndarray] = [cols]  # one-hot rows: each stage's columns, in order
    val: list[np.ndarray] = [np.ones(n)]
    lengths = [sizes]
    lo: list[np.ndarray] = [np.ones(n_stages)]
    up: list[np.ndarray] = [np.ones(n_stages)]
    for r, cap in enumerate(capacity):
        w = allc[:, r]
        nz = np.flatnonzero(w)
        if nz.size and int(w.sum()) > int(cap):
            idx.append(nz)
            val.append(w[nz].astype(float))
            lengths.append(np.array([nz.size]))
            lo.append(np.array([-np.inf]))
            up.append(np.array([float(cap)]))
    n_cols = n
    if busy is not None:  # sum_o b z - T <= 0 per stage, T in column n
        for first, row in zip(offsets[:-1], busy, strict=True):
            v = np.asarray(row, dtype=float)
            nz = np.flatnonzero(v)
            idx.append(np.append(first + nz, n))
            val.append(np.append(v[nz], -1.0))
            lengths.append(np.array([nz.size + 1]))
        lo.append(np.full(n_stages, -np.inf))
        up.append(np.zeros(n_stages))
        n_cols = n + 1
    obj = np.zeros(n_cols)
    if busy is not None:
        obj[n] = 1.0
    elif objective is not None:
        obj[:n] = allc[:, objective]
    lower = np.zeros(n_cols)
    upper = np.ones(n_cols)
    integer = np.ones(n_cols, dtype=bool)
    if busy is not None:
        upper[n], integer[n] = np.inf, False
    return Matrix(
        cost=obj,
        lower=lower,
        upper=upper,
        integer=integer,
        starts=np.concatenate([[0], np.cumsum(np.concatenate(lengths))]).astype(np.int64),
        index=np.concatenate(idx).astype(np.int32),
        value=np.concatenate(val),
        row_lower=np.concatenate(lo),
        row_upper=np.concatenate(up),
        offsets=offsets,
    )


@dataclass
class HighsRun:
    """What one HiGHS run gave: its status and, if any, its best columns."""

    status: str  # HiGHS's model status, as it names it
    optimal: bool
    infeasible: bool
    timed_out: bool
    error: bool
    bound: float | None
    x: np.ndarray | None  # the best integer solution found, if any


# HiGHS checks its clock and its interrupt callback between steps of its own; a few
# steps check neither (presolve, and the interior-point LP solves of its root
# feasibility pump: 2-5 s past a 10 s limit on placed zoo models, seen in a gdb
# backtrace). This long after the deadline, a run still going is left to finish.
ABANDON_GRACE_SECONDS = 0.5


def run_until(h: Any, deadline: float) -> bool:
    """Run the ``highspy.Highs`` model ``h`` in a thread of its own until it ends,
    or until ``ABANDON_GRACE_SECONDS`` past ``deadline`` (``time.monotonic()``).

    Returns whether the run ended. If not, it is still inside a step that checks
    neither its time limit nor the interrupt callback; it stops at its next check
    (the callback then says the time is up), in the background, and ``h`` must not
    be read or changed again.

    highspy's own ``startSolve`` is not used: its locks belong to the class, not
    the model, so while one abandoned run winds down every later ``startSolve`` in
    the process raises "Solver is already running". HiGHS's ``run`` releases the
    GIL, so a plain thread calling it can be waited on with a timeout.
    """
    import highspy

    ended = threading.Event()

    def run() -> None:
        try:
            super(highspy.Highs, h).run()  # the solver itself, without highspy's locks
        finally:
            ended.set()

    threading.Thread(target=run, name="hitm-highs", daemon=True).start()
    return ended.wait(max(0.0, deadline + ABANDON_GRACE_SECONDS - time.monotonic()))


def solve_highs(
    m: Matrix,
    seconds: float,
    *,
    gap_abs: float,
    integrality: float,
    feasibility: float,
    presolve: bool,
) -> HighsRun:
    """Run HiGHS on ``m`` for at most ``seconds`` of wall time.

    HiGHS's own clock is set, and its interrupt callbacks stop it at the same
    wall-clock deadline; a run still inside a step that checks neither is left
    half a second later (:func:`run_until`). Output is off; HiGHS's banner goes to file descriptor 1, which the
    caller silences.
    """
    import highspy

    deadline = time.monotonic() + float(seconds)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(seconds))
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", float(gap_abs))
    h.setOptionValue("mip_feasibility_tolerance", float(integrality))
    h.setOptionValue("primal_feasibility_tolerance", float(feasibility))
    h.setOptionValue("presolve", "choose" if presolve else "off")

    def interrupt(kind: int, message: str, out: Any, into: Any, data: Any) -> None:
        if time.monotonic() > deadline:
            into.user_interrupt = True

    kinds = highspy.cb.HighsCallbackType
    h.setCallback(interrupt, None)
    for kind in (
        kinds.kCallbackSimplexInterrupt,
        kinds.kCallbackIpmInterrupt,
        kinds.kCallbackMipInterrupt,
    ):
        h.startCallback(kind)

    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = m.n_cols, m.n_rows
    lp.col_cost_, lp.col_lower_ = m.cost, m.lower
    inf = highspy.kHighsInf
    lp.row_lower_ = np.where(np.isinf(m.row_lower), -inf, m.row_lower)
    lp.row_upper_ = np.where(np.isinf(m.row_upper), inf, m.row_upper)
    lp.col_upper_ = np.where(np.isinf(m.upper), inf, m.upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = m.n_cols, m.n_rows
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = m.starts, m.index, m.value
    lp.integrality_ = [
        highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in m.integer
    ]
    h.passModel(lp)
    if not run_until(h, deadline):
        return HighsRun(
            "still running at the deadline: left", False, False, True, False, None, None
        )

    s = highspy.HighsModelStatus
    status = h.getModelStatus()
    info = h.getInfo()
    found = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value) if found else None
    optimal = status == s.kOptimal and x is not None
    infeasible = status in (s.kInfeasible, s.kUnboundedOrInfeasible)
    timed_out = status in (s.kTimeLimit, s.kInterrupt, s.kIterationLimit)
    error = not (optimal or infeasible or timed_out or found)
    bound = float(info.mip_dual_bound)
    if not math.isfinite(bound):
        bound = float(info.objective_function_value) if optimal else None
    return HighsRun(h.modelStatusToString(status), optimal, infeasible, timed_out, error, bound, x)
