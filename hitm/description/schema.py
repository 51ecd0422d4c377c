"""The instance file format as JSON Schema, generated from the checker's own tables.

The op table (:data:`~hitm.description.ops.OPS`), the network sections of
:mod:`hitm.description.load`, the hardware fields
(:func:`~hitm.hardware.hardware_section`) and the budget and design sections
(:mod:`hitm.budget`) are what the loader checks; this module describes the
same tables for editors. ``hitm schema`` prints it, ``docs/instance.schema.json``
holds it (a test keeps the two equal), and a YAML language server pointed at
it completes and checks instance files::

    # yaml-language-server: $schema=../docs/instance.schema.json

The schema checks each field's type and range and the keys each section
allows. What it cannot express (references between layers, cycles, shapes)
only the loader checks.
"""

from __future__ import annotations

from typing import Any

from hitm.budget import BUDGET_SECTION, DESIGN_SECTION
from hitm.description.backbones import BACKBONES
from hitm.description.load import NETWORK_FEEDBACK, NETWORK_INPUTS
from hitm.description.ops import OPS, REQUIRED, OpSpec
from hitm.hardware import hardware_section

__all__ = ["SCHEMA_ID", "instance_schema"]

SCHEMA_ID = "https://hitm.dev/schema/instance.schema.json"
_NAME = {"type": "string", "minLength": 1}
_REFS = {
    "input": {"type": "string", "description": "The layer or network input it reads."},
    "inputs": {
        "type": "array",
        "items": {"type": "string"},
        "minItems": 1,
        "description": "The layers or inputs it reads (multi-input ops).",
    },
}


def _layer(op: str, spec: OpSpec) -> dict[str, Any]:
    required = ["name", "op", *(k for k, a in spec.attrs.items() if a.default is REQUIRED)]
    reads = spec.max_inputs > 0
    properties: dict[str, Any] = {
        "name": {**_NAME, "description": "Unique layer name."},
        "op": {"const": op},
        **(_REFS if reads else {}),
    }
    for key, attr in spec.attrs.items():
        doc = attr.rule.schema()
        if attr.default is not REQUIRED and attr.default is not None:
            doc["default"] = attr.default
        properties[key] = doc
    doc: dict[str, Any] = {
        "type": "object",
        "title": op,
        "description": spec.description,
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    if reads:  # a learned tensor (param) reads nothing
        doc["anyOf"] = [{"required": ["input"]}, {"required": ["inputs"]}]
    return doc


def _backbone_entry() -> dict[str, Any]:
    return {
        "type": "object",
        "title": "backbone",
        "description": "A built-in backbone's layers, named <name>.<layer>, cut after 'until'.",
        "properties": {
            "name": _NAME,
            "backbone": {"enum": list(BACKBONES)},
            "until": {"type": "string", "description": "The last layer kept."},
            **_REFS,
        },
        "required": ["name", "backbone"],
        "additionalProperties": False,
    }


def instance_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of an instance file."""
    layer_defs = {f"layer_{op}": _layer(op, spec) for op, spec in OPS.items()}
    layer_defs["layer_backbone"] = _backbone_entry()
    network = {
        "type": "object",
        "description": "Inputs, layers in any order (a DAG), and feedback loops.",
        "properties": {
            "name": _NAME,
            "inputs": NETWORK_INPUTS.schema(),
            "layers": {
                "type": "array",
                "minItems": 1,
                "items": {"anyOf": [{"$ref": f"#/$defs/{name}"} for name in layer_defs]},
            },
            "feedback": NETWORK_FEEDBACK.schema(),
        },
        "required": ["inputs", "layers"],
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "hitm instance",
        "description": "A network, the ReRAM hardware to map it on, and a budget (README.md).",
        "type": "object",
        "properties": {
            "name": {"type": ["string", "number"]},
            "source": {"type": "string"},
            "notes": {"type": "string"},
            "network": network,
            "hardware": hardware_section().schema(),
            "budget": BUDGET_SECTION.schema(),
            "design": {"oneOf": [{"const": True}, DESIGN_SECTION.schema()]},
        },
        "required": ["network"],
        "additionalProperties": False,
        "$defs": layer_defs,
    }
