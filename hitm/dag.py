"""The layer DAG: nodes, edges, orders and reachability, on the standard library.

Every command loads a network, so the graph it needs is built without
importing networkx (about 0.18 s of a 0.5 s command on a 2-core machine):
:mod:`graphlib` orders the nodes and finds cycles, and reachability is a
breadth-first walk. :meth:`Dag.to_networkx` gives Python users the same graph
as a ``networkx.DiGraph`` for their own analyses.
"""

from __future__ import annotations

import graphlib
import heapq
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["Dag"]


class Dag:
    """A directed graph of named nodes kept in insertion order.

    Attributes
    ----------
    succ, pred
        Each node's successors and predecessors, in the order edges were added.
    kind
        Each node's kind (``input`` or ``layer``).
    """

    def __init__(self) -> None:
        self.succ: dict[str, list[str]] = {}
        self.pred: dict[str, list[str]] = {}
        self.kind: dict[str, str] = {}

    def add_node(self, node: str, kind: str = "layer") -> None:
        if node not in self.succ:
            self.succ[node], self.pred[node] = [], []
        self.kind[node] = kind

    def add_edge(self, u: str, v: str) -> None:
        """Add ``u → v`` (once; a repeated edge is one edge)."""
        for n in (u, v):
            if n not in self.succ:
                self.add_node(n)
        if v not in self.succ[u]:
            self.succ[u].append(v)
            self.pred[v].append(u)

    def __contains__(self, node: object) -> bool:
        return node in self.succ

    def __len__(self) -> int:
        return len(self.succ)

    @property
    def edges(self) -> Iterator[tuple[str, str]]:
        """Every edge ``(u, v)``, grouped by ``u`` in node order."""
        return ((u, v) for u, vs in self.succ.items() for v in vs)

    def cycle(self) -> list[str] | None:
        """A cycle as its nodes in order (the first repeated at the end), or None."""
        try:
            tuple(graphlib.TopologicalSorter(self.pred).static_order())
        except graphlib.CycleError as exc:
            return list(exc.args[1])  # along the edges, the first node repeated last
        return None

    def order(self, key: Callable[[str], Hashable] | None = None) -> list[str]:
        """The nodes in a topological order; with ``key``, the least-key ready node first.

        With ``key`` this is the lexicographic topological order (Kahn's
        algorithm with a priority queue): among nodes whose predecessors are
        all placed, the one with the smallest key comes next.

        Raises
        ------
        graphlib.CycleError
            If the graph has a cycle.
        """
        sorter = graphlib.TopologicalSorter(self.pred)
        if key is None:
            return list(sorter.static_order())
        sorter.prepare()
        heap: list[tuple[Any, str]] = []
        out: list[str] = []
        while sorter.is_active():
            for node in sorter.get_ready():
                heapq.heappush(heap, (key(node), node))
            _, node = heapq.heappop(heap)
            out.append(node)
            sorter.done(node)
        return out

    def _reach(self, start: str, step: dict[str, list[str]]) -> set[str]:
        seen: set[str] = set()
        todo = deque(step[start])
        while todo:
            n = todo.popleft()
            if n not in seen:
                seen.add(n)
                todo.extend(step[n])
        return seen

    def descendants(self, node: str) -> set[str]:
        """Nodes reachable from ``node`` (itself excluded unless on a cycle)."""
        return self._reach(node, self.succ)

    def ancestors(self, node: str) -> set[str]:
        """Nodes that reach ``node``."""
        return self._reach(node, self.pred)

    def has_path(self, u: str, v: str) -> bool:
        return u == v or v in self.descendants(u)

    def contracted(self, group: Callable[[str], str], nodes: Iterable[str] = ()) -> Dag:
        """The graph with each node replaced by ``group(node)``; edges inside a group dropped."""
        out = Dag()
        for n in nodes:
            out.add_node(n)
        for n in self.succ:
            out.add_node(group(n), self.kind[n])
        for u, v in self.edges:
            gu, gv = group(u), group(v)
            if gu != gv:
                out.add_edge(gu, gv)
        return out

    def to_networkx(self) -> nx.DiGraph:
        """The same graph as a ``networkx.DiGraph`` (networkx is imported only here)."""
        import networkx as nx

        graph = nx.DiGraph()
        graph.add_nodes_from((n, {"kind": k}) for n, k in self.kind.items())
        graph.add_edges_from(self.edges)
        return graph
