"""The DP on breakpoints against the dense table it replaces: every point of every curve."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import INSTANCES
from hypothesis import given, settings
from hypothesis import strategies as st

from hitm.analysis import analyze
from hitm.budget import Budget, DesignSpace
from hitm.description.load import load_instance
from hitm.optimize.dense import solve_dp_dense
from hitm.optimize.dp import solve_dp
from hitm.problem import build_problem, naive_chips

ZOO = ("nic", "nic_vgg16", "s2vt", "lrcn_caption", "lrcn_activity", "vqa", "sat", "captioner",
       "video_lstm")  # fmt: skip


def same(sparse, dense) -> None:
    assert sparse.status == dense.status
    assert (sparse.bottleneck_ps, sparse.cost, sparse.choice) == (
        dense.bottleneck_ps,
        dense.cost,
        dense.choice,
    )
    if dense.curve is None:
        assert sparse.curve is None
        return
    assert np.array_equal(sparse.curve.budget, dense.curve.budget)
    assert np.array_equal(sparse.curve.bottleneck_ps, dense.curve.bottleneck_ps)


@pytest.mark.parametrize("name", ZOO)
@pytest.mark.parametrize("scale", [1, 2])
def test_every_point_of_every_zoo_curve_is_the_dense_tables(name, scale) -> None:
    """The whole budget → bottleneck curve up to the budget, breakpoint by breakpoint,
    and the design at the budget, option by option: at the fewest chips that hold
    the network, and at twice as many."""
    inst = load_instance(INSTANCES / f"{name}.yaml")
    analysis = analyze(inst.network, inst.hardware)
    problem = build_problem(analysis, Budget(chips=scale * naive_chips(analysis)))
    sparse, dense = solve_dp(problem), solve_dp_dense(problem)
    assert sparse.status == "optimal"
    same(sparse, dense)
    assert len(sparse.curve.budget) > 1


@pytest.mark.parametrize("name", ["nic", "s2vt", "sat"])
def test_the_scaled_design_mode_dp_is_the_dense_tables(name) -> None:
    """Design mode (crossbars and power, ADCs per crossbar a choice): both budget the same
    scaled cost and return the same first curve point that fits every budget."""
    inst = load_instance(INSTANCES / f"{name}.yaml")
    analysis = analyze(inst.network, inst.hardware)
    space = DesignSpace(adcs=(1, 2, 4, 8))
    chips = 2 * naive_chips(analysis)
    roomy = build_problem(analysis, Budget(chips=chips, power_w=1e6), design=space)
    naive_power = float(roomy.naive_cost()[1])
    budget = Budget(chips=chips, power_w=round(1.5 * naive_power / 1e6, 3))
    problem = build_problem(analysis, budget, design=space)
    sparse, dense = solve_dp(problem), solve_dp_dense(problem)
    assert sparse.status == "feasible"
    same(sparse, dense)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.lists(st.tuples(st.integers(1, 40), st.integers(0, 9)), min_size=1, max_size=6),
        min_size=1,
        max_size=5,
    ),
    st.integers(0, 40),
)
def test_random_stages_agree_with_the_dense_recurrence(stages, capacity) -> None:
    """Options in any order, with ties, dominated and free ones: the least budget at
    every bottleneck is the same in both, hence the same curve."""
    from hitm.optimize.dense import _stage_any
    from hitm.optimize.dp import _breakpoints, _least_budgets, _useful

    busys = [np.array([b for b, _ in s], dtype=np.int64) for s in stages]
    costs = [np.array([c for _, c in s], dtype=np.int64) for s in stages]
    floor = [int(c.min()) for c in costs]
    base = sum(floor)
    if capacity < base:
        return
    n = capacity - base + 1
    f = np.zeros(n, dtype=np.int64)
    for c, m, b in zip(costs, floor, busys, strict=True):
        f = _stage_any(f, c - m, b, np.zeros(n, dtype=np.int64))
    at = np.concatenate([[0], np.flatnonzero(np.diff(f)) + 1])
    values, budgets = _least_budgets(_useful(busys, costs))
    within = budgets <= capacity
    budget, bottleneck = _breakpoints(values[within], budgets[within])
    assert budget.tolist() == (at + base).tolist()
    assert bottleneck.tolist() == f[at].tolist()
