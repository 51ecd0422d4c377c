"""DataFrames for a Python user: an analysis per layer, a design per stage, a frontier's points."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import INSTANCES

from hitm import analyze, build_problem, evaluate, frontier, load_instance, solve


def captioner():
    inst = load_instance(INSTANCES / "captioner.yaml")
    analysis = analyze(inst.network, inst.hardware)
    return analysis, build_problem(analysis, inst.budget)


def test_an_analysis_frame_has_a_row_per_layer_and_the_totals() -> None:
    """The captioner (instances/captioner.yaml): 21 layers; conv1's 12,544 output positions
    are its parallel MVMs, and one copy holds the stage 16 bit-slices × 12,544 × 100 ns
    = 20.0704 ms (the naive design's bottleneck)."""
    analysis, _ = captioner()
    frame = analysis.to_dataframe()
    assert len(frame) == len(analysis.layers) == 21
    assert frame["params"].sum() == analysis.totals["params"]
    assert frame["macs"].sum() == analysis.totals["macs"]
    conv1 = frame.set_index("name").loc["conv1"]
    assert (conv1["parallel"], conv1["naive_busy_ps"]) == (12_544, 20_070_400_000)
    assert frame.set_index("name").loc["lstm", "loop"] == "loop:embed..word"


def test_a_design_frame_has_a_row_per_stage_and_marks_the_bottleneck() -> None:
    """The DP's 1-chip captioner design: 7 stages (five convolutions, the projection and
    the decoder loop), 15,776 crossbars, bottleneck conv1 at 105.6 µs (README)."""
    _, problem = captioner()
    design = evaluate(problem, solve(problem).copies)
    frame = design.to_dataframe()
    assert len(frame) == len(design.stages) == 7
    assert frame["crossbars"].sum() == design.usage["crossbars"] == 15_776
    assert frame["busy_ps"].max() == design.bottleneck_ps == 105_600_000
    assert frame.loc[frame["bottleneck"], "name"].tolist() == ["conv1"]


def test_a_frontier_frame_holds_every_breakpoint_in_both_units() -> None:
    analysis, _ = captioner()
    front = frontier(analysis, "area")
    frame = front.to_dataframe()
    assert len(frame) == len(front)
    assert np.allclose(frame["area_mm2"], frame["area_um2"] / 1e6)  # mm² and µm²
    assert (frame["area_um2"] == front.amount).all() and front.amount_unit == "µm²"
    assert frame["pct_of_unlimited"].iloc[-1] == 100.0
    assert (np.diff(frame["bottleneck_ps"]) < 0).all()


def test_a_comparison_frame_has_a_row_per_method_and_their_proofs_agree() -> None:
    """Every method on the captioner at 1 chip: the exact ones prove 105.6 µs with 15,776
    crossbars, so their gap to the best bound is 0; greedy is only feasible."""
    from hitm import compare

    _, problem = captioner()
    frame = compare(problem, time_limit=10).to_dataframe().set_index("method")
    assert {"dp", "bisect", "greedy", "cpsat", "ilp:highs"} <= set(frame.index)
    proven = frame[frame["status"] == "optimal"]
    assert set(proven["bottleneck_ps"]) == {105_600_000}
    assert set(proven["crossbars_used"]) == {15_776}
    assert (proven["gap_to_best_bound"] == 0).all()
    assert frame.loc["greedy", "status"] == "feasible"


def test_frames_name_their_columns_as_json_names_its_keys() -> None:
    """One naming scheme: a DataFrame column is the JSON key of the same figure."""
    import json

    from typer.testing import CliRunner

    from hitm.cli import app

    analysis, problem = captioner()
    runner = CliRunner()
    analyzed = json.loads(
        runner.invoke(app, ["analyze", "instances/captioner.yaml", "--json"]).stdout
    )
    assert set(analysis.to_dataframe().columns) <= set(analyzed["layers"][0])
    solved = json.loads(runner.invoke(app, ["solve", "instances/captioner.yaml", "--json"]).stdout)
    design = evaluate(problem, solve(problem).copies)
    assert set(design.to_dataframe().columns) - {"bottleneck"} <= set(solved["stages"][0])
    compared = json.loads(
        runner.invoke(
            app, ["compare", "instances/captioner.yaml", "--json", "--time-limit", "5"]
        ).stdout
    )
    from hitm.comparison import compare

    frame = compare(problem, 5).to_dataframe()
    assert set(frame.columns) - {"method"} <= set(compared["results"][0])
    costs = design.costs
    for key, value in solved["energy"].items():  # every energy key is an attribute
        got = getattr(costs, key)
        assert (dict(got) if isinstance(value, dict) else got) == pytest.approx(value), key
