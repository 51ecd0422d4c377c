"""The command line: JSON documents on stdout, one-line errors with exit codes.

In the installed typer, ``CliRunner`` keeps stdout and stderr apart in
``result.stdout`` / ``result.stderr`` and interleaves both in ``result.output``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import INSTANCES, MVM
from typer.testing import CliRunner

from hitm.cli import app

runner = CliRunner()


def run(*args: Any):
    return runner.invoke(app, [str(a) for a in args])


def write(path: Path, doc: Any) -> Path:
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def one_layer(tmp_path: Path, layer: dict[str, Any], shape: list[int] | None = None) -> Path:
    doc = {
        "network": {
            "inputs": {"x": {"shape": shape or [3, 8, 8]}},
            "layers": [{"name": "c", "input": "x", **layer}],
        }
    }
    return write(tmp_path / "net.yaml", doc)


def assert_user_error(result, code: int, *fragments: str) -> str:
    """Exit ``code``, nothing on stdout, one line on stderr holding every fragment."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    message = result.stderr.strip()
    assert "\n" not in message, message
    assert message.startswith("error: ")
    for fragment in fragments:
        assert fragment in message, message
    return message


# --- successful runs ---------------------------------------------------------------


def test_analyze_vgg16_json_totals_match_models_md() -> None:
    result = run("analyze", INSTANCES / "vgg16.yaml", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)  # exactly one JSON document
    # MODELS.md (torchvision): 138,357,544 params, 15,470,264,320 MACs
    assert doc["totals"]["params"] == 138_357_544
    assert doc["totals"]["macs"] == 15_470_264_320
    assert doc["totals"]["crossbars"] == 67_576
    conv = next(layer for layer in doc["layers"] if layer["name"] == "conv1_1")
    assert (conv["crossbars"], conv["parallel"], conv["naive_busy_ps"]) == (
        4,
        50_176,
        80_281_600_000,
    )
    assert doc["hardware"]["mvm_ps"] == MVM


@pytest.mark.parametrize("name", ["vgg16", "alexnet", "caffenet", "captioner", "video_lstm"])
def test_every_instance_analyzes(name: str) -> None:
    result = run("analyze", INSTANCES / f"{name}.yaml", "--all")
    assert result.exit_code == 0, result.output
    assert "total" in result.stdout


def small_instance(tmp_path: Path) -> Path:
    # conv 3→4 k3 p1 on 8×8: parallel 64, 27 rows × 32 columns = 1 crossbar;
    # flatten 256 → linear 10: ceil(256/128) × ceil(80/128) = 2 crossbars
    doc = {
        "name": "small",
        "network": {
            "inputs": {"x": {"shape": [3, 8, 8]}},
            "layers": [
                {"name": "conv", "op": "conv2d", "input": "x", "out_channels": 4, "kernel": 3,
                 "padding": 1},
                {"name": "flat", "op": "flatten", "input": "conv"},
                {"name": "fc", "op": "linear", "input": "flat", "out_features": 10},
            ],
        },
        "budget": {"crossbars": 100},
    }  # fmt: skip
    return write(tmp_path / "small.yaml", doc)


def test_evaluate_with_a_copies_file(tmp_path: Path) -> None:
    instance = small_instance(tmp_path)
    copies = write(tmp_path / "copies.yaml", {"copies": {"conv": 8, "fc": 1}})
    result = run("evaluate", instance, "--copies", copies, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    design, naive, unlimited = doc["design"], doc["naive"], doc["unlimited"]
    # conv: ceil(64 / 8) = 8 MVMs; fc: 1 MVM; latency 8 + 1
    assert design["bottleneck_ps"] == 8 * MVM
    assert design["bottleneck_stage"] == "conv"
    assert design["latency_ps"] == 9 * MVM
    assert design["crossbars_used"] == 8 * 1 + 2
    assert design["copies"] == {"conv": 8, "fc": 1}
    assert design["pct_of_unlimited"] == pytest.approx(100 / 8)
    assert design["pct_of_budget"] == pytest.approx(10.0)
    assert naive["bottleneck_ps"] == 64 * MVM
    assert naive["crossbars_used"] == 3
    assert unlimited["bottleneck_ps"] == MVM
    assert unlimited["copies"] == {"conv": 64, "fc": 1}
    # the same run as tables, with a budget override on the command line
    table = run("evaluate", instance, "--copies", copies, "--crossbars", 10)
    assert table.exit_code == 0, table.output
    assert "10 crossbars" in table.stdout


def test_evaluate_rejects_a_design_over_budget(tmp_path: Path) -> None:
    instance = small_instance(tmp_path)
    copies = write(tmp_path / "copies.yaml", {"conv": 64, "fc": 1})
    result = run("evaluate", instance, "--copies", copies, "--crossbars", 50)
    assert_user_error(result, 3, "does not fit", "66 crossbars of 50")


def test_evaluate_rejects_bad_copies(tmp_path: Path) -> None:
    instance = small_instance(tmp_path)
    copies = write(tmp_path / "copies.yaml", {"conv": 65, "fcc": 1})
    result = run("evaluate", instance, "--copies", copies)
    assert_user_error(
        result, 2, "copies.conv: must be between 1 and 64", "copies.fcc:", "copies.fc: missing"
    )


# --- user errors: exit 2, one line naming the field ---------------------------------


def test_malformed_yaml_gives_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("network:\n  inputs: {x: {shape: [3, 8, 8]}\n  layers: [\n")
    message = assert_user_error(run("analyze", path), 2, "malformed YAML")
    assert f"{path}:3:3:" in message


def test_malformed_json_gives_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"network": {\n  "inputs": ,\n}}')
    assert_user_error(run("analyze", path), 2, f"{path}:2:13: malformed JSON")


@pytest.mark.parametrize("op", ["conv2D", "conv"])
def test_unknown_op_suggests_the_closest(tmp_path: Path, op: str) -> None:
    path = one_layer(tmp_path, {"op": op, "out_channels": 4, "kernel": 3})
    assert_user_error(
        run("analyze", path),
        2,
        f"network.layers[0] (c).op: unknown op '{op}'",
        "did you mean 'conv2d'?",
    )


def test_unknown_field_suggests_the_closest(tmp_path: Path) -> None:
    path = one_layer(tmp_path, {"op": "conv2d", "out_channels": 4, "kernal": 3})
    assert_user_error(
        run("analyze", path),
        2,
        "network.layers[0] (c).kernal: unknown field for conv2d (did you mean 'kernel'?)",
    )


def test_missing_input_reference(tmp_path: Path) -> None:
    doc = {
        "network": {
            "inputs": {"image": {"shape": [3, 8, 8]}},
            "layers": [{"name": "c", "op": "conv2d", "input": "imag", "out_channels": 4,
                        "kernel": 3}],
        }
    }  # fmt: skip
    path = write(tmp_path / "net.yaml", doc)
    assert_user_error(
        run("analyze", path),
        2,
        "network.layers[0] (c).input: no layer or input named 'imag'",
        "did you mean 'image'?",
    )


def test_linear_on_a_feature_map(tmp_path: Path) -> None:
    path = one_layer(tmp_path, {"op": "linear", "out_features": 4})
    assert_user_error(
        run("analyze", path), 2, "network.layers[0] (c)", "linear needs a vector (F,)", "(3×8×8)"
    )


def test_add_of_two_shapes(tmp_path: Path) -> None:
    doc = {
        "network": {
            "inputs": {"x": {"shape": [3, 8, 8]}},
            "layers": [
                {"name": "a", "op": "conv2d", "input": "x", "out_channels": 4, "kernel": 3},
                {"name": "b", "op": "conv2d", "input": "x", "out_channels": 4, "kernel": 1},
                {"name": "sum", "op": "add", "inputs": ["a", "b"]},
            ],
        }
    }
    path = write(tmp_path / "net.yaml", doc)
    assert_user_error(run("analyze", path), 2, "network.layers[2] (sum)", "(4×6×6)", "(4×8×8)")


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("kernel", 0, "network.layers[0] (c).kernel: must be between 1 and 10,000,000, got 0"),
        ("kernel", -3, "network.layers[0] (c).kernel: must be between 1"),
        ("out_channels", 10**9, "network.layers[0] (c).out_channels: must be between 1"),
        ("stride", "two", "network.layers[0] (c).stride: expected an integer, got 'two'"),
    ],
)
def test_bad_sizes(tmp_path: Path, field: str, value: Any, fragment: str) -> None:
    layer = {"op": "conv2d", "out_channels": 4, "kernel": 3, field: value}
    message = assert_user_error(run("analyze", one_layer(tmp_path, layer)), 2, fragment)
    assert message.count(f".{field}:") == 1  # reported once, not once per dimension


def test_kernel_larger_than_the_input(tmp_path: Path) -> None:
    path = one_layer(tmp_path, {"op": "conv2d", "out_channels": 4, "kernel": 11})
    assert_user_error(run("analyze", path), 2, "network.layers[0] (c)", "window 11", "input 8")


def test_unsupported_suffix(tmp_path: Path) -> None:
    path = tmp_path / "net.txt"
    path.write_text("network: {}\n")
    assert_user_error(run("analyze", path), 2, "unsupported file type '.txt'")


def test_missing_file(tmp_path: Path) -> None:
    assert_user_error(run("analyze", tmp_path / "nope.yaml"), 2, "nope.yaml: no such file")


def test_budget_too_small_for_the_naive_design(tmp_path: Path) -> None:
    names = [f"conv{b}_{i}" for b, n in ((1, 2), (2, 2), (3, 3), (4, 3), (5, 3))
             for i in range(1, n + 1)] + ["fc6", "fc7", "fc8"]  # fmt: skip
    copies = write(tmp_path / "copies.yaml", dict.fromkeys(names, 1))
    result = run("evaluate", INSTANCES / "vgg16.yaml", "--copies", copies, "--chips", 4)
    # one copy of VGG-16 needs 67,576 crossbars; 4 chips hold 64,512
    assert_user_error(
        result,
        3,
        "4 chips (64,512 crossbars)",
        "67,576 crossbars (5 chips)",
        "3,064 crossbars short",
    )


def test_unknown_init_reference_names_the_init_field(tmp_path: Path) -> None:
    doc = {
        "network": {
            "inputs": {"x": {"shape": [8], "seq": 4}, "h0": {"shape": [16]}},
            "layers": [{"name": "r", "op": "lstm", "input": "x", "hidden": 16, "init": "h00"}],
        }
    }
    path = write(tmp_path / "net.yaml", doc)
    assert_user_error(
        run("analyze", path),
        2,
        "network.layers[0] (r).init: no layer or input named 'h00'",
        "did you mean 'h0'?",
    )


# --- energy, power and area in every report (docs/energy.md) --------------------------

ENERGY_KEYS = {
    "energy_pj",
    "dynamic_pj",
    "static_pj",
    "split_pj",
    "components_pj",
    "static_power_w",
    "power_w",
    "area_mm2",
    "inferences_per_j",
    "gops_per_w",
    "gops_per_mm2",
}


def test_solve_reports_energy_power_and_area() -> None:
    result = run("solve", INSTANCES / "captioner.yaml", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    for design in (doc, doc["naive"], doc["unlimited"]):
        energy = design["energy"]
        assert set(energy) == ENERGY_KEYS
        assert set(energy["split_pj"]) == {"crossbar", "dac", "adc", "digital", "memory", "static"}
        assert sum(energy["split_pj"].values()) == pytest.approx(energy["energy_pj"])
        assert energy["power_w"] == pytest.approx(
            energy["energy_pj"] * 1e-12 * design["throughput_per_s"]
        )
    # the same work whatever the copies: only the static part differs
    assert doc["energy"]["dynamic_pj"] == pytest.approx(doc["naive"]["energy"]["dynamic_pj"])
    assert doc["energy"]["static_pj"] < doc["naive"]["energy"]["static_pj"]
    table = run("solve", INSTANCES / "captioner.yaml")
    assert table.exit_code == 0, table.output
    for column in ("energy/inference", "power", "area", "GOPS/W", "GOPS/mm²"):
        assert column in table.stdout


def test_evaluate_and_compare_report_energy(tmp_path: Path) -> None:
    instance = small_instance(tmp_path)
    copies = write(tmp_path / "copies.yaml", {"conv": 8, "fc": 1})
    doc = json.loads(run("evaluate", instance, "--copies", copies, "--json").stdout)
    for name in ("design", "naive", "unlimited"):
        assert set(doc[name]["energy"]) == ENERGY_KEYS
    assert "energy/inference" in run("evaluate", instance, "--copies", copies).stdout
    result = run("compare", instance, "--json", "--time-limit", 5)
    assert result.exit_code == 0, result.output
    energies = [r["energy"]["energy_pj"] for r in json.loads(result.stdout)["results"]]
    assert energies and all(e > 0 for e in energies)


def test_compare_json_stdout_is_one_json_document():
    """In a real process: solver libraries must not write to stdout (HiGHS prints a banner)."""
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "hitm", "compare", "instances/captioner.yaml", "--json"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["agree"] is True
    methods = {(r["method"], r["backend"]): r["status"] for r in doc["results"]}
    assert (
        methods[("dp", None)] == methods[("cpsat", None)] == methods[("ilp", "highs")] == "optimal"
    )


# --- usage errors, odd numbers and odd names (issue 17's reproducers) ---------------------


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["solve", INSTANCES / "captioner.yaml", "--chips", "0"], "'--chips'"),
        (["solve", INSTANCES / "captioner.yaml", "--bogus"], "No such option: --bogus"),
        (["solve"], "Missing argument 'file'"),
        (["solve", INSTANCES / "captioner.yaml", "--time-limit", "abc"], "'--time-limit'"),
    ],
)
def test_typers_usage_errors_are_one_line(args, fragment) -> None:
    """Click's usage errors come out as hitm's own: one line, exit 2, no boxed panel."""
    message = assert_user_error(run(*args), 2, fragment)
    assert "╭" not in message and "Usage:" not in message


@pytest.mark.parametrize("value", ["inf", "nan", "1e309", "-3", "0"])
@pytest.mark.parametrize("flag", ["--power-w", "--area-mm2"])
def test_float_flags_refuse_non_finite_and_non_positive_values(flag, value) -> None:
    """The file's rule for the field, named by the flag (1e309 parses to infinity)."""
    assert_user_error(run("solve", INSTANCES / "captioner.yaml", flag, value), 2, f"{flag}:")


def test_user_names_are_never_read_as_markup(tmp_path) -> None:
    """``a[/]`` crashed rich's markup parser; ``[bold]b`` was rendered as style."""
    doc = {
        "network": {
            "inputs": {"x[/]": {"shape": [128]}},
            "layers": [
                {"name": "a[/]", "op": "linear", "input": "x[/]", "out_features": 2},
                {"name": "[bold]b", "op": "linear", "input": "a[/]", "out_features": 2},
            ],
        }
    }
    path = write(tmp_path / "names.yaml", doc)
    for verb in ("analyze", "solve"):
        result = run(verb, path)
        assert result.exit_code == 0, result.output
        assert "a[/]" in result.stdout and "[bold]b" in result.stdout


@pytest.mark.parametrize(("name", "spelled"), [("a\nb", "a\\nb"), ("a\x1b[31mb", "a\\x1b[31mb")])
def test_control_characters_in_names_are_spelled_out_in_errors(tmp_path, name, spelled) -> None:
    """A newline in a name kept the error from being one line; an ANSI escape reached the terminal."""
    doc = {
        "network": {
            "inputs": {"x": {"shape": [128]}},
            "layers": [{"name": name, "op": "linear", "input": "y", "out_features": 2}],
        }
    }
    message = assert_user_error(run("solve", write(tmp_path / "n.yaml", doc)), 2, spelled)
    assert "\x1b" not in message


def _network_yaml(extra: str = "") -> str:
    return (
        "network:\n  inputs: {x: {shape: [128]}}\n  layers:\n"
        "    - {name: a, op: linear, input: x, out_features: 2}\n" + extra
    )


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("network: " + "[" * 1000 + "]" * 1000 + "\n", "nested deeper than 64 levels"),
        (_network_yaml("budget: {chips: 1, chips: 2}\n"), "duplicate key 'chips'"),
        (  # a YAML alias bomb: 10 lines, 9^9 values once expanded
            "a: &a [x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n"
                for i in range(8)
            )
            + "network: *i\n",
            "more than 1,000,000 values",
        ),
    ],
)
def test_documents_beyond_the_readers_bounds_are_refused(tmp_path, text, fragment) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text(text, encoding="utf-8")
    assert_user_error(run("solve", path), 2, str(path), fragment)


def test_deep_json_is_refused_too(tmp_path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"network": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    assert_user_error(run("solve", path), 2, "nested deeper than 64 levels")


def test_a_fifo_is_not_read(tmp_path) -> None:
    """Reading a FIFO blocks until a writer comes; hitm refuses non-regular files first."""
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    assert_user_error(run("solve", path), 2, "not a regular file")


def test_a_file_name_too_long_is_one_line(tmp_path) -> None:
    assert_user_error(run("solve", tmp_path / ("a" * 300 + ".yaml")), 2, "File name too long")


def test_yaml_1_2_floats_are_numbers(tmp_path) -> None:
    """``1e-300`` is a string in YAML 1.1; hitm reads it as the number it looks like."""
    path = tmp_path / "tiny.yaml"
    path.write_text(_network_yaml("hardware: {preset: isaac, adc_rate_gsps: 1e-300}\n"))
    assert_user_error(run("solve", path), 2, "adc_rate_gsps: must be at least 0.001", "1e-300")


@pytest.mark.parametrize(
    ("layer", "fragment"),
    [
        (
            {"name": ["a"], "op": "linear", "input": "x"},
            "name: expected a name (a string), got ['a']",
        ),
        ({"name": "a", "op": ["linear"], "input": "x"}, "op: expected an op name (a string)"),
        ({"name": "a", "op": "linear", "input": {"x": 1}}, "input: expected a layer or input name"),
        ({"op": "linear", "input": "x"}, "name: missing"),
    ],
)
def test_a_list_or_mapping_where_a_name_belongs_is_named(tmp_path, layer, fragment) -> None:
    doc = {
        "network": {
            "inputs": {"x": {"shape": [128]}},
            "layers": [{**layer, "out_features": 2}],
        }
    }
    assert_user_error(run("solve", write(tmp_path / "n.yaml", doc)), 2, fragment)


def test_the_inputs_cap_is_stated(tmp_path) -> None:
    doc = {
        "network": {
            "inputs": {f"x{i}": {"shape": [4]} for i in range(65)},
            "layers": [{"name": "c", "op": "concat", "inputs": [f"x{i}" for i in range(65)]}],
        }
    }
    assert_user_error(run("solve", write(tmp_path / "c.yaml", doc)), 2, "takes 2 to 64 input(s)")


@pytest.mark.parametrize("verb", ["solve", "pareto", "compare"])
def test_a_network_without_weights_is_a_clear_error(tmp_path, verb) -> None:
    """A chain of activations only: solve raised a TypeError, pareto ``max() arg is empty``."""
    layers = [
        {"name": f"r{i}", "op": "relu", "input": "x" if i == 0 else f"r{i - 1}"} for i in range(50)
    ]
    doc = {"network": {"inputs": {"x": {"shape": [16]}}, "layers": layers}}
    path = write(tmp_path / "weightless.yaml", doc)
    assert_user_error(run(verb, path), 2, "none of its 50 layers has weights")


def test_version() -> None:
    from importlib.metadata import version

    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout == f"hitm {version('hitm')}\n"


@pytest.mark.parametrize("verb", ["solve", "import"])
def test_an_integer_budget_flag_beyond_its_range_is_refused_by_name(verb) -> None:
    """``--chips 99999999999999999999`` overflowed int64 inside the DP (found by the fuzz
    campaign): flags follow the file's ranges (chips 1 to 4,096)."""
    data = Path(__file__).resolve().parent / "data"
    target = INSTANCES / "captioner.yaml" if verb == "solve" else data / "video_gru.onnx"
    message = assert_user_error(run(verb, target, "--chips", "99999999999999999999"), 2)
    assert message == "error: --chips: must be between 1 and 4,096, got 99999999999999999999"


def test_every_json_document_carries_its_provenance(tmp_path) -> None:
    """hitm's version, the input's sha256, the hardware after its overrides, the budget
    after the flags, and the solver libraries' versions: enough to reproduce the numbers."""
    import hashlib
    import json
    from importlib.metadata import version

    path = tmp_path / "net.yaml"
    text = (
        (INSTANCES / "captioner.yaml")
        .read_text()
        .replace("hardware: {preset: isaac}", "hardware: {preset: isaac, rows: 256}")
    )
    assert "rows: 256" in text
    path.write_text(text)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    copies = tmp_path / "copies.yaml"
    copies.write_text("default: 1\n")
    commands = {
        "solve": ["solve", path, "-m", "ilp", "--backend", "cbc", "--chips", "2", "--json"],
        "analyze": ["analyze", path, "--json"],
        "evaluate": ["evaluate", path, "--copies", copies, "--json"],
        "compare": ["compare", path, "--time-limit", "5", "--json"],
        "pareto": ["pareto", path, "--json"],
    }
    for verb, args in commands.items():
        result = run(*args)
        assert result.exit_code == 0, (verb, result.output)
        where = json.loads(result.stdout)["provenance"]
        assert where["hitm_version"] == version("hitm")
        assert where["input"] == {"path": str(path), "sha256": sha}, verb
        assert where["hardware"]["rows"] == 256 and where["hardware"]["name"] == "isaac*"
    solve = json.loads(run(*commands["solve"]).stdout)["provenance"]
    assert solve["budget"] == {"chips": 2}
    assert solve["methods"] == ["ilp:cbc"]
    assert solve["solver_versions"] == {"pulp": version("pulp")}
    compare = json.loads(run(*commands["compare"]).stdout)["provenance"]
    assert set(compare["solver_versions"]) == {"ortools", "pulp", "highspy"}


@pytest.mark.parametrize("name", ["captioner", "nic", "s2vt"])
def test_the_ceiling_design_is_the_frontiers_ceiling(name) -> None:
    """Two "unlimited" designs, named apart: every layer at its fastest (the captioner:
    633,380 crossbars) and the cheapest reaching that throughput (22,004), which is the
    point where `pareto`'s frontier reaches its ceiling; `solve` reports both."""
    import json

    path = INSTANCES / f"{name}.yaml"
    solved = json.loads(run("solve", path, "--json").stdout)
    front = json.loads(run("pareto", path, "--json").stdout)
    top, fastest = solved["ceiling"], solved["unlimited"]
    assert top["bottleneck_ps"] == fastest["bottleneck_ps"] == front["ceiling"]["bottleneck_ps"]
    assert (
        top["crossbars_used"] == front["ceiling"]["crossbars"] == front["points"][-1]["crossbars"]
    )
    assert fastest["crossbars_used"] == front["unlimited"]["crossbars"]
    if name == "captioner":
        assert (top["crossbars_used"], fastest["crossbars_used"]) == (22_004, 633_380)


def test_a_method_that_cannot_place_with_a_power_cap_names_the_ones_that_can() -> None:
    """dp and bisect place on one resource only; with a power cap too they say that cpsat
    and ilp do, and cpsat then proves the design."""
    import json

    args = ("solve", INSTANCES / "captioner.yaml", "--interconnect", "isaac", "--power-w", "100")
    for method in ("dp", "bisect"):
        message = assert_user_error(run(*args, "-m", method), 4)
        assert (
            f"{method} does not place with several budgeted resources yet: cpsat and ilp do"
            in message
        )
    solved = json.loads(run(*args, "-m", "cpsat", "--time-limit", "20", "--json").stdout)
    assert solved["status"] == "optimal"
    assert solved["usage"]["power_uw"] <= 100_000_000


def test_one_area_definition_in_solve_pareto_and_the_budget() -> None:
    """A design's area is its crossbars' shares of tile area (with their ADCs), chip links
    not counted: `solve` once reported 84.3 mm² for the captioner's 1-chip design (165 whole
    tiles plus the chip's HyperTransport) while `pareto -r area` and the area budget counted
    61.18 mm² for the same design. Now every command says 61.179659 mm²."""
    path = INSTANCES / "captioner.yaml"
    solved = json.loads(run("solve", path, "--json").stdout)
    front = json.loads(run("pareto", path, "-r", "area", "--json").stdout)
    for design in (solved, solved["naive"], solved["ceiling"], solved["unlimited"]):
        assert design["energy"]["area_mm2"] == design["usage"]["area_um2"] / 1e6
    assert solved["energy"]["area_mm2"] == 61.179659
    naive = front["naive"]
    assert naive["area_um2"] == solved["naive"]["usage"]["area_um2"]
    assert naive["area_mm2"] == solved["naive"]["energy"]["area_mm2"] == 31.39646
    # The ceiling of the area frontier is the cheapest design (in area) at the ceiling's
    # bottleneck: never more than the crossbar-cheapest one solve reports.
    assert front["ceiling"]["bottleneck_ps"] == solved["ceiling"]["bottleneck_ps"]
    assert front["ceiling"]["area_mm2"] <= solved["ceiling"]["energy"]["area_mm2"]
    # An area budget of exactly the design's area admits it; a µm² less does not.
    exact = run("solve", path, "--area-mm2", "61.179659", "--json")
    assert json.loads(exact.stdout)["bottleneck_ps"] == solved["bottleneck_ps"]
    tighter = json.loads(run("solve", path, "--area-mm2", "61.179658", "--json").stdout)
    assert tighter["bottleneck_ps"] > solved["bottleneck_ps"]


def test_csv_files_hold_the_rows_of_analyze_solve_compare_and_pareto(tmp_path) -> None:
    """--csv writes the DataFrame of each command: a row per layer (21 in the captioner), per
    stage (7; conv1 holds 191 copies of 4 crossbars), per method (6) and per breakpoint
    (183, from the naive design's 8,096 crossbars)."""
    import csv

    path = INSTANCES / "captioner.yaml"
    expected = {"analyze": 21, "solve": 7, "compare": 6, "pareto": 183}
    rows = {}
    for command, n in expected.items():
        out = tmp_path / f"{command}.csv"
        extra = ["--time-limit", "5"] if command == "compare" else []
        result = run(command, path, "--csv", out, *extra)
        assert result.exit_code == 0, result.output
        assert f"wrote {out}" in result.stderr
        with out.open(newline="") as handle:
            rows[command] = list(csv.DictReader(handle))
        assert len(rows[command]) == n, command
    conv1 = rows["solve"][0]
    assert (conv1["name"], conv1["copies"], conv1["crossbars"]) == ("conv1", "191", "764")
    loop = rows["solve"][-1]
    assert loop["members"] == "embed;lstm;logits" and loop["copies"] == "1;1;1"
    assert rows["analyze"][0]["parallel"] == "12544"
    proven = [r for r in rows["compare"] if r["status"] == "optimal"]
    assert {r["crossbars_used"] for r in proven} == {"15776"}
    assert rows["pareto"][0]["crossbars"] == "8096"


def test_a_csv_path_in_a_missing_directory_is_refused_before_any_work(tmp_path) -> None:
    target = tmp_path / "nowhere" / "x.csv"
    result = run("solve", INSTANCES / "captioner.yaml", "--csv", target)
    assert result.exit_code == 2 and result.stdout == ""
    assert (
        result.stderr.strip() == f"error: --csv: {target}: directory {target.parent} does not exist"
    )
    assert not target.parent.exists()


UNIT_SUFFIX = (
    r"(_ps|_pj|_w|_mw|_uw|_mm2|_um2|_per_s|_per_j|_per_w|_per_mm2|_per_bit|_per_cell|bits|_kb|_ns"
    r"|_ghz|_gbps|_gsps|seconds|_years)$|^pct_|^bits_|^gops"
)
COUNT_KEYS = {
    # counts and ratios: the key names what is counted, or the figure has no unit
    *("crossbars", "tiles", "chips", "copies", "adcs", "params", "macs", "steps", "parallel"),
    *("elements", "n_points", "count", "lift", "knee_lift", "gap", "gap_to_best_bound"),
    *("utilisation", "crossbars_used", "tiles_used", "chips_used", "crossbars_budget"),
    *("weight_layers", "cut", "chip", "cuts", "link", "shape", "matrices", "rows", "cols"),
    *("slices", "adc_resolution", "required_adc_bits", "lost_bits", "adc_bits", "cell_bits"),
    *("weight_bits", "input_bits", "dac_bits", "adcs_per_crossbar", "crossbars_per_ima"),
    *("imas_per_tile", "tiles_per_chip", "tiles_per_router", "mvm_fill_cycles", "static_fraction"),
    *("mac_units", "mac_units_per_ima"),
    *("links_per_chip", "crossbars_per_chip", "endurance_writes", "written_cells"),
    "cell_writes_per_inference",
}


@pytest.mark.parametrize(
    "args",
    [
        ["solve", "captioner"],
        ["compare", "captioner", "--time-limit", "3"],
        ["pareto", "captioner"],
        ["pareto", "captioner", "-r", "power"],
        ["pareto", "captioner", "-r", "area"],
        ["analyze", "captioner"],
        ["solve", "nic", "--interconnect", "isaac", "--chips", "4"],
        ["solve", "vit_b_16"],
    ],
)
def test_every_json_number_carries_its_unit_in_its_key(args) -> None:
    """JSON once mixed `power_uw` and `area_um2` with W and mm² and held budgets under a bare
    `budget`; now every number's key ends in its unit or names what it counts."""
    import re

    command, name, *rest = args
    doc = json.loads(run(command, INSTANCES / f"{name}.yaml", *rest, "--json").stdout)
    doc.pop("provenance")
    unit = re.compile(UNIT_SUFFIX)
    bare: set[str] = set()

    def walk(value: Any, key: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                if k not in ("copies", "adcs", "units", "split_pj", "components_pj"):  # keyed by name
                    walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and not unit.search(key)
            and key not in COUNT_KEYS
        ):
            bare.add(key)

    walk(doc, "")
    assert not bare, f"numbers without a unit in their key: {sorted(bare)}"
