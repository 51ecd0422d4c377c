"""Plots: written whole, PNGs decode, SVGs parse and carry their labels.

``hitm pareto --plot`` runs on every multi-modal zoo instance (crossbars,
PNG); the power frontier in design mode is drawn for the captioner.
"""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.image
import pytest
from typer.testing import CliRunner

from hitm import analyze, build_problem, load_instance, solve, verify
from hitm.budget import DesignSpace
from hitm.cli import app
from hitm.errors import DescriptionError
from hitm.frontier import frontier
from hitm.report.plots import plot_frontier, plot_stages

ZOO = (
    "nic",
    "nic_vgg16",
    "s2vt",
    "lrcn_caption",
    "lrcn_activity",
    "vqa",
    "sat",
    "captioner",
    "video_lstm",
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    image = matplotlib.image.imread(path)
    assert image.shape[0] > 100 and image.shape[1] > 100
    assert image.std() > 0  # not a blank canvas


def svg_text(path: Path) -> str:
    """Every text node of an SVG (which must parse)."""
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    return " ".join(node.text for node in root.iter() if node.text and node.text.strip())


def no_leftovers(directory: Path, keep: set[str]) -> None:
    assert {p.name for p in directory.iterdir()} == keep


def captioner():
    inst = load_instance("instances/captioner.yaml")
    return inst, analyze(inst.network, inst.hardware)


def test_frontier_png_and_svg(tmp_path):
    inst, a = captioner()
    front = frontier(a, "crossbars", budget=inst.budget)
    assert_png(plot_frontier(front, tmp_path / "f.png"))
    text = svg_text(plot_frontier(front, tmp_path / "f.svg"))
    for label in (
        "captioner",
        "knee",
        "naive design",
        "unlimited",
        "crossbar budget",
        "budget: 16,128 crossbars",  # the budget line is in the legend
        "best within the budget: 9,470/s",
    ):
        assert label in text
    no_leftovers(tmp_path, {"f.png", "f.svg"})


def test_one_tick_format_and_a_log_axis_where_throughput_spans_decades(tmp_path):
    """The area frontier once labelled its x-axis `8,000` next to `1e+04`; the naive design
    (49.8/s against a 15,152/s ceiling) lay on a linear y-axis's floor. Now every tick is a
    plain number and throughput spanning more than two decades is drawn on a log axis."""
    from matplotlib.figure import Figure

    _inst, a = captioner()
    for resource in ("crossbars", "area", "power"):
        text = svg_text(plot_frontier(frontier(a, resource), tmp_path / f"{resource}.svg"))
        assert re.search(r"\de[+-]?\d", text) is None, resource  # no 1e+04 among the ticks
    captured = {}
    original = Figure.savefig

    def keep(self, *args, **kwargs):
        captured["axes"] = self.axes[0]
        return original(self, *args, **kwargs)

    import matplotlib.figure

    try:
        matplotlib.figure.Figure.savefig = keep
        plot_frontier(frontier(a, "crossbars"), tmp_path / "f.png")
    finally:
        matplotlib.figure.Figure.savefig = original
    ax = captured["axes"]
    assert ax.get_yscale() == "log" and ax.get_xscale() == "linear"
    low, _high = ax.get_ylim()
    assert low < 49.8  # the naive design's throughput is inside the axes
    # The legend sits below the axes: it cannot cover the curve.
    legend = ax.figure.legends[0]
    renderer = ax.figure.canvas.get_renderer()
    assert legend.get_window_extent(renderer).y1 <= ax.get_window_extent(renderer).y0


def test_power_frontier_in_design_mode_svg(tmp_path):
    inst, a = captioner()
    front = frontier(a, "power", design=DesignSpace(), budget=inst.budget)
    text = svg_text(plot_frontier(front, tmp_path / "p.svg"))
    assert "power budget (W)" in text and "design mode" in text


def test_stage_bars_png_and_svg(tmp_path):
    inst, a = captioner()
    problem = build_problem(a, inst.budget)
    design = verify(problem, solve(problem, "dp"))
    assert_png(plot_stages(design, tmp_path / "s.png"))
    text = svg_text(plot_stages(design, tmp_path / "s.svg"))
    for stage in design.stages:
        assert stage.name in text
    assert f"bottleneck: {design.bottleneck_stage}" in text
    assert "period T = 105.6 µs" in text
    assert "crossbars (× copies)" in text and "764 ×191" in text  # conv1: 191 copies of 4


def test_a_long_pipeline_is_drawn_by_blocks(tmp_path):
    """ResNet-50's 54 stages are 18 bars: conv1, the 16 bottleneck blocks
    (`resnet50.layer1.0` ... `resnet50.layer4.2`, 3 or 4 stages each) and fc; each
    bar is its block's slowest stage, its crossbars their sum."""
    inst = load_instance("instances/resnet50.yaml")
    a = analyze(inst.network, inst.hardware)
    problem = build_problem(a, inst.budget)
    design = verify(problem, solve(problem, "dp"))
    assert len(design.stages) == 54
    text = svg_text(plot_stages(design, tmp_path / "r.svg"))
    assert "resnet50.layer1.0 (4 stages)" in text and "resnet50.layer4.2 (3 stages)" in text
    assert "resnet50.layer1.0.conv1" not in text  # grouped, not one bar per stage
    assert "(slowest stage of each block)" in text
    assert f"bottleneck: {design.bottleneck_stage}" in text


@pytest.mark.parametrize("name", ["out.gif", "out", "out.PNG.txt"])
def test_unknown_format_is_refused_before_drawing(tmp_path, name):
    _inst, a = captioner()
    with pytest.raises(DescriptionError, match=r"\.png, \.svg or \.pdf"):
        plot_frontier(frontier(a, "crossbars"), tmp_path / name)
    no_leftovers(tmp_path, set())


def test_pdf_output(tmp_path):
    """PDF, which LaTeX papers include, is drawn whole and without a date (reproducible)."""
    _inst, a = captioner()
    first = plot_frontier(frontier(a, "crossbars"), tmp_path / "f.pdf").read_bytes()
    second = plot_frontier(frontier(a, "crossbars"), tmp_path / "g.pdf").read_bytes()
    assert first.startswith(b"%PDF") and first == second
    no_leftovers(tmp_path, {"f.pdf", "g.pdf"})


def test_missing_directory_is_refused(tmp_path):
    _inst, a = captioner()
    with pytest.raises(DescriptionError, match="does not exist"):
        plot_frontier(frontier(a, "crossbars"), tmp_path / "nowhere" / "f.png")


def test_a_failed_write_leaves_nothing(tmp_path, monkeypatch):
    _inst, a = captioner()
    front = frontier(a, "crossbars")
    target = tmp_path / "f.png"
    target.write_bytes(b"old")

    def broken(self, handle, **kwargs):
        handle.write(b"half a png")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("matplotlib.figure.Figure.savefig", broken)
    with pytest.raises(DescriptionError, match="No space left"):
        plot_frontier(front, target)
    assert target.read_bytes() == b"old"  # the old file stands; no temporary file remains
    no_leftovers(tmp_path, {"f.png"})


def test_solve_plot_from_the_cli(tmp_path):
    out = tmp_path / "stages.svg"
    result = CliRunner().invoke(app, ["solve", "instances/captioner.yaml", "--plot", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.stderr
    assert "dp design" in svg_text(out)
    bad = CliRunner().invoke(
        app, ["solve", "instances/captioner.yaml", "--plot", str(tmp_path / "s.jpg")]
    )
    assert bad.exit_code == 2 and ".png, .svg or .pdf" in bad.stderr and bad.stdout == ""
    no_leftovers(tmp_path, {"stages.svg"})


@pytest.mark.parametrize("name", ZOO)
def test_pareto_plot_for_every_zoo_instance(tmp_path, name):
    out = tmp_path / f"{name}.png"
    result = CliRunner().invoke(
        app, ["pareto", f"instances/{name}.yaml", "--json", "--plot", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert_png(out)


def test_the_cli_loads_matplotlib_only_to_plot():
    code = "import sys, hitm.cli, hitm.frontier; print('matplotlib' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
