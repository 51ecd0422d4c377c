"""Copies files with ``default:`` and glob patterns (``hitm.patterns.per_layer``)."""

from __future__ import annotations

import json

import pytest
import yaml
from helpers import INSTANCES
from typer.testing import CliRunner

from hitm.cli import app
from hitm.errors import DescriptionError
from hitm.patterns import per_layer

NAMES = ["enc.conv1", "enc.layer4.0.conv1", "enc.layer4.1.conv1", "dec.fc"]


def test_exact_names_then_the_first_matching_pattern_then_the_default():
    spec = {"enc.layer4.*": 2, "enc.*": 3, "default": 1, "enc.layer4.1.conv1": 5}
    assert per_layer(spec, NAMES, "copies") == {
        "enc.conv1": 3,  # the second pattern: the first does not match
        "enc.layer4.0.conv1": 2,  # the first pattern
        "enc.layer4.1.conv1": 5,  # its own name beats every pattern
        "dec.fc": 1,  # the default
    }


def test_layers_no_key_reaches_are_left_for_the_caller():
    assert per_layer({"enc.layer4.?.conv1": 2}, NAMES, "copies") == {
        "enc.layer4.0.conv1": 2,
        "enc.layer4.1.conv1": 2,
    }


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"dec.fcc": 2},
            "copies.dec.fcc: not a weight layer of this network (did you mean 'dec.fc'?)",
        ),
        ({"enc.layer5.*": 2}, "copies.enc.layer5.*: the pattern matches no weight layer"),
        ({3: 2}, "copies: a key must be a layer name or pattern, got 3"),
    ],
)
def test_a_key_that_reaches_no_layer_is_named(spec, message):
    with pytest.raises(DescriptionError) as info:
        per_layer(spec, NAMES, "copies")
    assert str(info.value) == message


def test_evaluate_reads_a_default_and_a_pattern(tmp_path):
    """ResNet-18 with every layer4 convolution at 2 copies: the two-line file scores the
    same design as the file naming all 21 weight layers."""
    runner = CliRunner()
    instance = str(INSTANCES / "resnet18.yaml")
    doc = json.loads(runner.invoke(app, ["analyze", instance, "--json"]).stdout)
    weights = [layer["name"] for layer in doc["layers"] if layer["crossbars"]]
    assert len(weights) == 21
    full = {n: 2 if n.startswith("resnet18.layer4.") else 1 for n in weights}
    short = {"default": 1, "resnet18.layer4.*": 2}
    outs = []
    for name, spec in (("full", full), ("short", short)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(spec))
        result = runner.invoke(app, ["evaluate", instance, "--copies", str(path), "--json"])
        assert result.exit_code == 0, result.output
        outs.append(json.loads(result.stdout)["design"])
    assert outs[0]["copies"] == outs[1]["copies"] == full
    assert outs[0]["bottleneck_ps"] == outs[1]["bottleneck_ps"]
