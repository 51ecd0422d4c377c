"""The instance JSON Schema: generated from the checker's tables, committed, and true to them.

docs/instance.schema.json is what editors read; it must be exactly what
``hitm schema`` prints, accept every shipped instance and every document
``hitm import`` writes, and refuse what the loader refuses field by field.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from hitm.cli import app
from hitm.description.load import onnx_document, parse_instance
from hitm.description.ops import OPS
from hitm.description.schema import instance_schema
from hitm.errors import DescriptionError
from hitm.hardware import Hardware

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "docs" / "instance.schema.json"
INSTANCES = sorted((ROOT / "instances").glob("*.yaml"))
MODELS = sorted((ROOT / "tests" / "data").glob("*.onnx"))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_committed_schema_is_what_hitm_schema_prints():
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == instance_schema()
    assert result.stdout == COMMITTED.read_text(encoding="utf-8")


def test_schema_command_writes_a_file(tmp_path):
    out = tmp_path / "schema.json"
    result = CliRunner().invoke(app, ["schema", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8"))["$id"] == instance_schema()["$id"]


@pytest.mark.parametrize("path", INSTANCES, ids=lambda p: p.stem)
def test_every_shipped_instance_validates(validator, path):
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]
    assert errors == []
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=../docs/instance.schema.json"


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_imported_documents_validate(validator, path):
    doc = onnx_document(path)
    assert list(validator.iter_errors(doc)) == []


def test_every_op_and_hardware_field_is_described():
    schema = instance_schema()
    assert {d["properties"]["op"]["const"] for k, d in schema["$defs"].items() if k != "layer_backbone"} == set(OPS)
    fields = {f.name for f in dataclasses.fields(Hardware)} - {"name"}
    assert fields <= set(schema["properties"]["hardware"]["properties"])


BASE = {
    "network": {
        "inputs": {"x": {"shape": [3, 8, 8]}},
        "layers": [{"name": "c", "op": "conv2d", "input": "x", "out_channels": 4, "kernel": 3}],
    }
}


def _with(path: tuple, value) -> dict:
    doc = json.loads(json.dumps(BASE))
    node = doc
    for key in path[:-1]:
        node = node.setdefault(key, {}) if isinstance(key, str) else node[key]
    node[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("network", "layers", 0, "kernel"), 0),
        (("network", "layers", 0, "kernal"), 3),
        (("network", "layers", 0, "op"), "conv"),
        (("network", "inputs", "x", "shape"), [3, 8, 8, 8]),
        (("hardware", "preset"), "isac"),
        (("hardware", "rows"), 1 << 21),
        (("hardware", "static_fraction"), 1.0),
        (("hardware", "components"), {"adc": {"power": 2}}),
        (("budget", "power"), 40),
        (("budget", "chips"), 0),
        (("design", "adcs"), [0]),
        (("extra",), 1),
    ],
)
def test_schema_refuses_what_the_loader_refuses(validator, path, value):
    doc = _with(path, value)
    assert list(validator.iter_errors(BASE)) == []
    assert not validator.is_valid(doc)
    with pytest.raises(DescriptionError):
        parse_instance(doc)
