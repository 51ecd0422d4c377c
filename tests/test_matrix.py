"""The MILP as arrays (formulations/matrix.py): its rows by hand, and HiGHS run on them."""

from __future__ import annotations

import numpy as np

from formulations import matrix

# Stage 0: (busy, crossbars) = (4, 1), (2, 3); stage 1: (5, 2).
COST = [np.array([[1], [3]]), np.array([[2]])]
BUSY = [[4, 2], [5]]


def test_phase_one_rows_by_hand():
    """Columns z00, z01, z10, then T. Rows: one-hot per stage (= 1), the crossbar row
    (1, 3, 2 ≤ 4: it can bind, since 6 > 4), and per stage ``Σ b·z − T ≤ 0``."""
    m = matrix.one_hot(COST, np.array([4]), busy=BUSY)
    rows = [(ix.tolist(), vx.tolist(), lo, up) for ix, vx, lo, up in m.rows()]
    assert rows == [
        ([0, 1], [1.0, 1.0], 1.0, 1.0),
        ([2], [1.0], 1.0, 1.0),
        ([0, 1, 2], [1.0, 3.0, 2.0], -np.inf, 4.0),
        ([0, 1, 3], [4.0, 2.0, -1.0], -np.inf, 0.0),
        ([2, 3], [5.0, -1.0], -np.inf, 0.0),
    ]
    assert m.cost.tolist() == [0, 0, 0, 1]
    assert m.integer.tolist() == [True, True, True, False]
    assert m.upper.tolist() == [1, 1, 1, np.inf]
    assert m.offsets.tolist() == [0, 2, 3]
    # A budget the options can never reach needs no row.
    assert matrix.one_hot(COST, np.array([6]), busy=BUSY).n_rows == 4


def test_phase_two_objective_and_a_start():
    m = matrix.one_hot(COST, np.array([4]), objective=0)
    assert m.cost.tolist() == [1, 3, 2] and m.n_rows == 3
    assert m.start([1, 0]).tolist() == [0.0, 1.0, 1.0]
    assert m.choice(np.array([0.2, 0.8, 1.0])) == [1, 0]
    assert m.choice(np.array([0.5, 0.5, 1.0])) is None  # no binary above a half


def test_highs_on_the_arrays():
    """T ≥ 5 (stage 1 has one option); at 5, stage 0's (4, 1) fits the 4 crossbars with
    stage 1's 2 and its (2, 3) does not: x = (1, 0, 1, T = 5). With 2 crossbars nothing fits."""
    kw = dict(gap_abs=0.5, integrality=1e-9, feasibility=1e-9, presolve=False)
    run = matrix.solve_highs(matrix.one_hot(COST, np.array([4]), busy=BUSY), 5.0, **kw)
    assert run.optimal and not run.infeasible and run.bound == 5.0
    assert np.round(run.x).tolist() == [1.0, 0.0, 1.0, 5.0]
    none = matrix.solve_highs(matrix.one_hot(COST, np.array([2]), busy=BUSY), 5.0, **kw)
    assert none.infeasible and none.x is None and not none.optimal


def test_a_run_left_running_does_not_stop_the_next():
    """A HiGHS run abandoned at its deadline (run_until returns False) winds down in the
    background; the next solve in the process must still run. With highspy's own
    ``startSolve``, whose locks are the class's, it raised "Solver is already running"."""
    import time

    import highspy

    rng = np.random.default_rng(0)
    n, rows = 60, 8
    slow = highspy.Highs()
    slow.setOptionValue("output_flag", False)
    slow.setOptionValue("time_limit", 0.3)
    weights = rng.integers(1_000, 100_000, size=(rows, n)).astype(float)
    slow.addVars(n, np.zeros(n), np.ones(n))
    slow.changeColsIntegrality(n, np.arange(n), np.array([highspy.HighsVarType.kInteger] * n))
    for w in weights:  # a multi-dimensional knapsack: a few tenths of a second of search
        slow.addRow(-highspy.kHighsInf, w.sum() / 2, n, np.arange(n), w)
    slow.changeColsCost(n, np.arange(n), -rng.integers(1_000, 100_000, n).astype(float))
    assert not matrix.run_until(slow, time.monotonic() - 1.0)  # left at once, still running
    kw = dict(gap_abs=0.5, integrality=1e-9, feasibility=1e-9, presolve=False)
    run = matrix.solve_highs(matrix.one_hot(COST, np.array([4]), busy=BUSY), 5.0, **kw)
    assert run.optimal and np.round(run.x).tolist() == [1.0, 0.0, 1.0, 5.0]
    time.sleep(0.5)  # past the slow run's own limit: nothing is left running after the test
