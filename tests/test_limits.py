"""The documented size limits refuse what is beyond them, naming the limit."""

from __future__ import annotations

import pytest

import hitm.description.load as load
from hitm.errors import DescriptionError


def chain(n: int) -> dict:
    layers = [{"name": "fc0", "op": "linear", "input": "x", "out_features": 4}]
    layers += [{"name": f"r{i}", "op": "relu", "input": layers[-1]["name"]} for i in range(n - 1)]
    return {"name": "long", "network": {"inputs": {"x": {"shape": [4]}}, "layers": layers}}


def test_a_network_beyond_max_layers_is_refused(monkeypatch) -> None:
    """The limit is 100,000 layers; lowered to 10 here so the test builds 11, not 100,001."""
    assert load.MAX_LAYERS == 100_000
    monkeypatch.setattr(load, "MAX_LAYERS", 10)
    assert len(load.parse_instance(chain(10)).network.layers) == 10
    with pytest.raises(DescriptionError, match=r"network\.layers: more than 10 layers; refused"):
        load.parse_instance(chain(11))
