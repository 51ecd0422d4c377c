"""The layer DAG on the standard library, checked against networkx on random graphs.

hitm builds every network's graph without importing networkx (it costs about a
third of a command's start). networkx stays the reference: on random DAGs the
keyed topological order is its lexicographical topological sort, reachability
its descendants and ancestors, and a cycle is reported with its nodes in order.
"""

from __future__ import annotations

import itertools
import random

import networkx as nx
import pytest
from typer.testing import CliRunner

from hitm.cli import app
from hitm.dag import Dag


def random_dag(seed: int, n: int = 30, p: float = 0.12) -> tuple[Dag, nx.DiGraph]:
    rng = random.Random(seed)
    names = [f"n{i}" for i in rng.sample(range(n), n)]  # insertion order is not the order
    ours, ref = Dag(), nx.DiGraph()
    for name in names:
        ours.add_node(name)
        ref.add_node(name)
    rank = {name: i for i, name in enumerate(rng.sample(names, n))}  # a hidden topology
    for u in names:
        for v in names:
            if rank[u] < rank[v] and rng.random() < p:
                ours.add_edge(u, v)
                ref.add_edge(u, v)
    return ours, ref


@pytest.mark.parametrize("seed", range(40))
def test_orders_and_reachability_match_networkx(seed: int) -> None:
    ours, ref = random_dag(seed)
    key = {name: i for i, name in enumerate(ours.succ)}.__getitem__
    assert ours.order(key) == list(nx.lexicographical_topological_sort(ref, key=key))
    plain = ours.order()
    position = {n: i for i, n in enumerate(plain)}
    assert sorted(plain) == sorted(ref) and all(position[u] < position[v] for u, v in ref.edges)
    for node in list(ours.succ)[:10]:
        assert ours.descendants(node) == nx.descendants(ref, node)
        assert ours.ancestors(node) == nx.ancestors(ref, node)
    assert ours.cycle() is None
    back = ours.to_networkx()
    assert set(back.nodes) == set(ref.nodes) and set(back.edges) == set(ref.edges)
    assert all(back.nodes[n]["kind"] == "layer" for n in back)


def test_a_cycle_is_found_with_its_nodes_in_order() -> None:
    dag = Dag()
    for u, v in [("x", "a"), ("a", "b"), ("b", "c"), ("c", "a")]:
        dag.add_edge(u, v)
    cycle = dag.cycle()
    assert cycle is not None and cycle[0] == cycle[-1]
    assert all(v in dag.succ[u] for u, v in itertools.pairwise(cycle))
    assert set(cycle) == {"a", "b", "c"}


def test_a_cycle_in_an_instance_is_one_line_naming_it(tmp_path) -> None:
    """Three layers feeding each other in a ring: the error names the ring in edge order."""
    import yaml

    layers = [
        {"name": "a", "op": "linear", "input": "c", "out_features": 4},
        {"name": "b", "op": "linear", "input": "a", "out_features": 4},
        {"name": "c", "op": "linear", "input": "b", "out_features": 4},
    ]
    path = tmp_path / "ring.yaml"
    doc = {"network": {"inputs": {"x": {"shape": [4]}}, "layers": layers}}
    path.write_text(yaml.safe_dump(doc))
    result = CliRunner().invoke(app, ["analyze", str(path)])
    assert result.exit_code == 2 and result.stdout == ""
    line = result.stderr.strip()
    assert line.startswith("error: ") and "\n" not in line
    assert "network.layers: cycle " in line and "declare autoregressive loops" in line
    ring = line.split("cycle ")[1].split(" (")[0].split(" -> ")
    assert ring[0] == ring[-1] and set(ring) == {"a", "b", "c"}
    follows = {"a": "b", "b": "c", "c": "a"}
    assert all(follows[u] == v for u, v in itertools.pairwise(ring))
