"""Long tables drawn in linear time look exactly as ``rich`` draws them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typer.testing import CliRunner

from hitm.analysis import analyze
from hitm.cli import app
from hitm.cli.output import LARGE_TABLE_ROWS
from hitm.description.load import load_instance, parse_instance, read_document
from hitm.optimize import solve
from hitm.pipeline import evaluate
from hitm.problem import build_problem
from hitm.report.plain import plain_table
from hitm.report.tables import (
    analysis_table,
    baselines_table,
    costs_table,
    design_table,
    edges_table,
    placement_table,
)
from hitm.traffic import traffic

INSTANCES = Path(__file__).resolve().parent.parent / "instances"


def drawn_by_rich(table: Table) -> str:
    console = Console(file=io.StringIO(), width=10_000)
    console.print(table)
    return console.file.getvalue()


def sat_tables() -> list[Table]:
    """SAT with data movement priced on 4 chips, so the placement table has links."""
    doc = read_document(INSTANCES / "sat.yaml")
    doc["hardware"]["interconnect"] = "isaac"
    doc["budget"] = {"chips": 4}
    inst = parse_instance(doc)
    analysis = analyze(inst.network, inst.hardware)
    flows = traffic(analysis)
    problem = build_problem(analysis, inst.budget)
    result = solve(problem, "bisect")
    design = evaluate(problem, result.copies, cuts=result.cuts)
    designs = {"bisect": design, "naive": evaluate(problem, {"default": 1})}
    return [
        analysis_table(analysis, flows, all_layers=True),
        edges_table(flows),
        design_table(design, "sat"),
        placement_table(design),
        baselines_table(problem, designs, design),
        costs_table(designs),
    ]


@pytest.mark.parametrize("which", range(6))
def test_hitms_tables_come_out_character_for_character_as_rich_draws_them(which) -> None:
    table = sat_tables()[which]
    assert plain_table(table) == drawn_by_rich(table)


def test_justification_sections_and_title_match_rich() -> None:
    """Centre with an odd gap (rich puts the odd space on the right), wide characters
    (``×`` is one cell, ``漢`` two), a styled Text cell and a section rule."""
    t = Table(title="a title longer than some columns", title_justify="left")
    t.add_column("left")
    t.add_column("right", justify="right")
    t.add_column("centre", justify="center")
    t.add_row(Text("conv").append(" (loop)", style="dim"), "1,000", "x")
    t.add_row("漢字", "", "3×3")
    t.add_section()
    t.add_row("total", "5", "ab")
    assert plain_table(t) == drawn_by_rich(t)


def test_what_it_cannot_draw_is_left_to_rich() -> None:
    multiline = Table()
    multiline.add_column("a")
    multiline.add_row("two\nlines")
    lined = Table(show_lines=True)
    lined.add_column("a")
    lined.add_row("x")
    assert plain_table(multiline) is None
    assert plain_table(lined) is None


def test_analyze_all_on_a_long_network_prints_what_rich_would(tmp_path) -> None:
    """Beyond LARGE_TABLE_ROWS rows the CLI draws the tables itself; the text is the same."""
    layers = [{"name": "c0", "op": "conv2d", "input": "x", "out_channels": 4, "kernel": 3}]
    for i in range(LARGE_TABLE_ROWS + 10):
        layers.append({"name": f"r{i}", "op": "relu", "input": layers[-1]["name"]})
    doc = {
        "name": "long",
        "network": {"inputs": {"x": {"shape": [4, 16, 16]}}, "layers": layers},
        "hardware": {"preset": "isaac"},
    }
    path = tmp_path / "long.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = CliRunner().invoke(app, ["analyze", str(path), "--all"])
    assert result.exit_code == 0, result.output
    inst = load_instance(path)
    analysis = analyze(inst.network, inst.hardware)
    flows = traffic(analysis)
    expected = drawn_by_rich(analysis_table(analysis, flows, True)) + drawn_by_rich(
        edges_table(flows)
    )
    assert result.stdout.startswith(expected)
    assert result.stdout.count("\n") > 2 * LARGE_TABLE_ROWS


def test_stdout_fits_the_terminal_and_never_folds_when_piped() -> None:
    """In an 80-column terminal every line of a wide table fits in 80 cells (rich folds
    cells); piped, the same table keeps each row on one line, wider than any terminal."""
    from rich.cells import cell_len

    from hitm.cli.output import PIPED_WIDTH, _Stdout

    table = sat_tables()[0]  # 12 columns, about 150 cells wide
    in_terminal = _Stdout(
        file=io.StringIO(), force_terminal=True, color_system=None, _environ={"COLUMNS": "80"}
    )
    in_terminal.print(table)
    lines = in_terminal.file.getvalue().splitlines()
    assert max(cell_len(line) for line in lines) <= 80
    piped = _Stdout(file=io.StringIO())
    assert not piped.is_terminal and piped.width == PIPED_WIDTH
    piped.print(table)
    assert piped.file.getvalue() == drawn_by_rich(table)  # natural width, one line a row
    assert max(cell_len(line) for line in piped.file.getvalue().splitlines()) > 80


def test_a_spinner_shows_on_a_terminal_and_nothing_when_piped() -> None:
    """Long commands say what they are doing on stderr in a terminal; piped, stderr keeps
    its one line per message, so nothing is printed."""
    from hitm.cli.output import busy

    terminal = Console(file=io.StringIO(), force_terminal=True, width=80)
    with busy("cpsat: 121,384 options, up to 9.0 s", terminal):
        pass
    assert "cpsat: 121,384 options" in terminal.file.getvalue()
    piped = Console(file=io.StringIO())
    with busy("cpsat: 121,384 options", piped):
        pass
    assert piped.file.getvalue() == ""


def test_piped_every_table_is_drawn_as_rich_draws_it(monkeypatch) -> None:
    """Piped and unfolded, ``show`` draws every table with plain_table (a solve's start-up
    is about 20 ms shorter): the characters are rich's own, for each table of a placed
    solve; a title wider than its table, which rich wraps, is left to rich."""
    from hitm.cli import output
    from hitm.cli.output import _Stdout, show

    for table in sat_tables():
        piped = _Stdout(file=io.StringIO())
        monkeypatch.setattr(output, "out", piped)
        show(table)
        assert piped.file.getvalue() == drawn_by_rich(table)
    wide = Table(title="a title much wider than the one narrow column of its table")
    wide.add_column("n")
    wide.add_row("1")
    assert plain_table(wide) is None
    piped = _Stdout(file=io.StringIO())
    monkeypatch.setattr(output, "out", piped)
    show(wide)
    assert piped.file.getvalue() == drawn_by_rich(wide)
