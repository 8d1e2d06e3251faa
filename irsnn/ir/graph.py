"""The IR graph: a thin, typed wrapper over ``networkx.MultiDiGraph``.

Nodes are neuron groups and auxiliary groups (readouts, recorders); edges are synapse groups
and taps. Each node and edge carries exactly one frozen payload (:mod:`irsnn.ir.payloads`),
stored under the attribute ``"payload"`` and reached only through the accessors here. Arrays live
in a side table (:attr:`IRGraph.arrays`) keyed by name.

Requires: :mod:`irsnn.ir.ids` (edge ids), :mod:`irsnn.ir.payloads` and :mod:`irsnn.ir.verify`
(which needs neither this module nor the class: it reads a graph through its accessors).
Provides :class:`IRGraph`; :func:`edge_id` is re-exported from :mod:`irsnn.ir.ids`.
"""

from __future__ import annotations

from collections.abc import Iterator

import networkx as nx
import numpy as np

from ..errors import IRError
from .ids import edge_id
from .payloads import NeuronGroup, SynapseGroup
from .verify import verify as _verify


class IRGraph:
    """A spiking network as a typed multigraph plus a side table of arrays.

    Parameters
    ----------
    name : str
        Model name, used in dumps and kernel names.
    attrs : dict, optional
        Global attributes (``dt``, ``batch_size``, ...); JSON-serialisable values only.
    """

    def __init__(self, name: str = "model", attrs: dict | None = None):
        self.name = name
        self.attrs: dict = dict(attrs or {})
        self.arrays: dict[str, np.ndarray] = {}
        self._g = nx.MultiDiGraph()

    # -- nodes -----------------------------------------------------------------------------
    def add_node(self, node_id: str, payload) -> str:
        if node_id in self._g:
            raise IRError(f"IR node '{node_id}' already exists; node ids must be unique")
        self._g.add_node(node_id, payload=payload)
        return node_id

    def set_node(self, node_id: str, payload) -> None:
        """Replace the payload of an existing node."""
        self._require_node(node_id)
        self._g.nodes[node_id]["payload"] = payload

    def remove_node(self, node_id: str) -> None:
        self._require_node(node_id)
        self._g.remove_node(node_id)

    def node(self, node_id: str):
        self._require_node(node_id)
        return self._g.nodes[node_id]["payload"]

    def has_node(self, node_id: str) -> bool:
        return node_id in self._g

    def nodes(self, kind: type | None = None) -> Iterator[tuple[str, object]]:
        """``(id, payload)`` pairs in id order, optionally only payloads of type ``kind``."""
        for n in sorted(self._g.nodes):
            p = self._g.nodes[n]["payload"]
            if kind is None or isinstance(p, kind):
                yield n, p

    def populations(self) -> Iterator[tuple[str, NeuronGroup]]:
        return self.nodes(NeuronGroup)

    # -- edges -----------------------------------------------------------------------------
    def free_key(self, src: str, dst: str, key: str) -> str:
        """The key :meth:`add_edge` will give the next ``src -> dst`` edge with role ``key``:
        ``key``, or ``key2``, ``key3``, ... when taken (parallel connections)."""
        base, n = key, 1
        while self._g.has_edge(src, dst, key):
            n += 1
            key = f"{base}{n}"
        return key

    def add_edge(self, src: str, dst: str, key: str, payload) -> str:
        """Add an edge with role ``key``; a second edge with the same role gets ``key2`` ..."""
        self._require_node(src)
        self._require_node(dst)
        key = self.free_key(src, dst, key)
        self._g.add_edge(src, dst, key=key, payload=payload)
        return edge_id(src, dst, key)

    def set_edge(self, src: str, dst: str, key: str, payload) -> None:
        if not self._g.has_edge(src, dst, key):
            raise IRError(f"IR has no edge {edge_id(src, dst, key)}")
        self._g.edges[src, dst, key]["payload"] = payload

    def edge(self, src: str, dst: str, key: str):
        if not self._g.has_edge(src, dst, key):
            raise IRError(f"IR has no edge {edge_id(src, dst, key)}")
        return self._g.edges[src, dst, key]["payload"]

    def edges(self, kind: type | None = None) -> Iterator[tuple[str, str, str, object]]:
        """``(src, dst, key, payload)`` in a deterministic order."""
        for u, v, k in sorted(self._g.edges(keys=True)):
            p = self._g.edges[u, v, k]["payload"]
            if kind is None or isinstance(p, kind):
                yield u, v, k, p

    def synapses(self) -> Iterator[tuple[str, str, str, SynapseGroup]]:
        return self.edges(SynapseGroup)

    def in_edges(self, node_id: str, kind: type | None = None):
        return [e for e in self.edges(kind) if e[1] == node_id]

    def out_edges(self, node_id: str, kind: type | None = None):
        return [e for e in self.edges(kind) if e[0] == node_id]

    # -- side table ------------------------------------------------------------------------
    def set_array(self, key: str, array) -> str:
        self.arrays[key] = np.asarray(array)
        return key

    def array(self, key: str) -> np.ndarray:
        try:
            return self.arrays[key]
        except KeyError:
            raise IRError(f"IR side table has no array '{key}' "
                          f"(known: {sorted(self.arrays)})") from None

    # -- whole graph -----------------------------------------------------------------------
    @property
    def nx(self) -> nx.MultiDiGraph:
        """The underlying networkx graph (read-only use: algorithms, drawing)."""
        return self._g

    def copy(self) -> IRGraph:
        """A copy sharing the (immutable) payloads and the arrays."""
        g = IRGraph(self.name, self.attrs)
        g._g = self._g.copy()
        g.arrays = dict(self.arrays)
        return g

    def verify(self) -> None:
        """Check every invariant; raise :class:`~irsnn.errors.IRError` naming the offender."""
        _verify(self)

    def __eq__(self, other) -> bool:
        if not isinstance(other, IRGraph):
            return NotImplemented
        if (self.name, self.attrs) != (other.name, other.attrs):
            return False
        if list(self.nodes()) != list(other.nodes()) or list(self.edges()) != list(other.edges()):
            return False
        if sorted(self.arrays) != sorted(other.arrays):
            return False
        return all(np.array_equal(self.arrays[k], other.arrays[k]) and
                   self.arrays[k].dtype == other.arrays[k].dtype for k in self.arrays)

    __hash__ = None

    def __repr__(self) -> str:
        return (f"IRGraph({self.name!r}, {self._g.number_of_nodes()} nodes, "
                f"{self._g.number_of_edges()} edges, {len(self.arrays)} arrays)")

    def _require_node(self, node_id):
        if node_id not in self._g:
            raise IRError(f"IR has no node '{node_id}' (nodes: {sorted(self._g.nodes)})")
