"""Write an instance document as YAML, one flow-style line per input and per layer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

__all__ = ["dump_document"]


def dump_document(doc: Mapping[str, Any], header: Sequence[str] = ()) -> str:
    """Format an instance document as YAML with one flow-style line per layer.

    Parameters
    ----------
    doc
        An instance document (``network`` with ``inputs`` and ``layers``;
        ``hardware`` and ``budget`` mappings are written on one line each).
    header
        Lines written first as ``#`` comments (the provenance).

    Returns
    -------
    str
        The YAML text.
    """
    doc = dict(doc)
    network = dict(doc["network"])
    network["inputs"] = {k: _Flow(v) for k, v in network["inputs"].items()}
    network["layers"] = [_Flow(layer) for layer in network["layers"]]
    doc["network"] = network
    for key in ("hardware", "budget"):
        if isinstance(doc.get(key), Mapping):
            doc[key] = _Flow(doc[key])
    body = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120)
    return "".join(f"# {line}\n" for line in header) + body


class _Flow(dict):
    """A mapping written on one line."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Flow,
    lambda dumper, data: dumper.represent_mapping(
        "tag:yaml.org,2002:map", data.items(), flow_style=True
    ),
)
