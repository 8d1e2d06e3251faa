"""Invariants of the IR, checked after every pass by the pipeline.

Requires: :mod:`irsnn.ir.ids` (id prefixes, edge ids) and :mod:`irsnn.ir.payloads`; it reads the
graph through :class:`~irsnn.ir.IRGraph`'s accessors only, so it does not import the graph
module (which imports this one). Provides :func:`verify` and :data:`SYNAPSE_LAYOUTS`.
"""

from __future__ import annotations

import networkx as nx

from ..errors import IRError
from . import ids
from .ids import edge_id
from .layouts import LAYOUTS
from .payloads import (PAYLOAD_TYPES, AuxEdge, BackwardFilter, EventPropState, FeedbackPath,
                       LossNode,
                       NeuronGroup, OptimiserNode,
                       ReadoutNode, RecorderNode, SynapseGroup)

_NODE_PREFIX = {NeuronGroup: ids.POPULATION_PREFIX, ReadoutNode: ids.READOUT_PREFIX,
                RecorderNode: ids.RECORDER_PREFIX, LossNode: ids.LOSS_PREFIX,
                OptimiserNode: ids.OPTIMISER_PREFIX, BackwardFilter: ids.BACKWARD_PREFIX,
                EventPropState: ids.EVENTPROP_PREFIX}


def verify(g) -> None:
    """Raise :class:`IRError` listing every violated invariant of ``g`` (by object name)."""
    problems: list[str] = []
    for nid, p in g.nodes():
        if type(p).__name__ not in PAYLOAD_TYPES:
            problems.append(f"node '{nid}' carries a {type(p).__name__}, not an IR payload")
            continue
        prefix = _NODE_PREFIX.get(type(p))
        if prefix and not nid.startswith(prefix):
            problems.append(f"node '{nid}' holds a {type(p).__name__}: its id must start "
                            f"with '{prefix}'")
        if isinstance(p, NeuronGroup):
            names = [v.name for v in p.vars] + [q.name for q in p.params]
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                problems.append(f"node '{nid}' declares {dup} more than once")
            if any(s <= 0 for s in p.shape):
                problems.append(f"node '{nid}' has shape {p.shape}; every dimension must be > 0")
            problems += _check_inits(g, nid, p.vars, (p.size,))
        if isinstance(p, ReadoutNode | RecorderNode):
            if not g.has_node(p.source):
                problems.append(f"node '{nid}' reads from missing node '{p.source}'")
            else:
                src = g.node(p.source)
                for var in ((p.var,) if isinstance(p, ReadoutNode) else
                            ((p.var,) if p.what == "var" else ())):
                    if var not in {v.name for v in src.vars}:
                        problems.append(f"node '{nid}' reads variable '{var}', which "
                                        f"'{p.source}' does not have")

    for nid, p in g.nodes(LossNode):
        if not g.has_node(p.source):
            problems.append(f"node '{nid}' computes the error of missing node '{p.source}'")
        elif p.error_var not in {v.name for v in g.node(p.source).vars}:
            problems.append(f"node '{nid}' writes '{p.error_var}', which '{p.source}' lacks")
    for nid, p in g.nodes(EventPropState):
        if not g.has_node(p.source):
            problems.append(f"node '{nid}' holds the EventProp state of missing node "
                            f"'{p.source}'")
            continue
        names = {v.name for v in g.node(p.source).vars}
        missing = [n for n in p.adjoints + ((p.drive,) if p.drive else ()) if n not in names]
        if missing:
            problems.append(f"node '{nid}' needs variables {missing} on '{p.source}'")
        if p.max_spikes < 1:
            problems.append(f"node '{nid}' has max_spikes={p.max_spikes}; it must be >= 1")
    for nid, p in g.nodes(BackwardFilter):
        if not g.has_node(p.source):
            problems.append(f"node '{nid}' filters sequences of missing node '{p.source}'")
    for u, v, k, p in g.edges():
        eid = edge_id(u, v, k)
        if isinstance(p, SynapseGroup) and p.learning is not None and p.learning.backward:
            b = p.learning.backward
            wanted = EventPropState if p.learning.kind == "eventprop" else BackwardFilter
            if not g.has_node(b) or not isinstance(g.node(b), wanted):
                problems.append(f"edge {eid} learns from '{b}', which is not a "
                                f"{wanted.__name__} node")
            elif g.node(b).source != v:
                problems.append(f"edge {eid} learns from '{b}', which filters "
                                f"'{g.node(b).source}', not its target '{v}'")
        if isinstance(p, FeedbackPath):
            for node, var in ((u, p.error_var), (v, p.signal_var)):
                if var not in {x.name for x in g.node(node).vars}:
                    problems.append(f"feedback edge {eid} needs variable '{var}' on '{node}'")
        if not isinstance(p, SynapseGroup | AuxEdge | FeedbackPath):
            problems.append(f"edge {eid} carries a {type(p).__name__}, not an edge payload")
            continue
        if not isinstance(p.delay_steps, int) or p.delay_steps < 0:
            problems.append(f"edge {eid} has delay_steps={p.delay_steps!r}; must be an int >= 0")
        if isinstance(p, SynapseGroup):
            if (p.source, p.target) != (u, v):
                problems.append(f"edge {eid} says it connects {p.source}->{p.target}")
            if g.has_node(u) and g.has_node(v):
                pre, post = g.node(u), g.node(v)
                if (p.num_pre, p.num_post) != (pre.size, post.size):
                    problems.append(
                        f"edge {eid} connects {p.num_pre}x{p.num_post} neurons but "
                        f"'{u}' has {pre.size} and '{v}' has {post.size}")
                if post.is_input:
                    problems.append(f"edge {eid} targets input population '{v}', which "
                                    f"ignores synaptic input")
            traits = LAYOUTS.get(p.layout)
            if traits is None:
                problems.append(f"edge {eid} has layout {p.layout!r}; layouts are "
                                f"{list(LAYOUTS)}")
            else:
                problems += traits.problems(eid, p)
            if p.connectivity == "sparse":
                nnz, bad = _check_indices(g, eid, p)
                problems += bad
                shape = (nnz,)
            else:
                shape = (traits or LAYOUTS["dense"]).weight_shape(p)
            if shape != (None,):
                inits = (p.weight,) + ((p.heterogeneous_delay,)
                                       if p.heterogeneous_delay is not None else ())
                problems += _check_inits(g, eid, inits, shape)
            if p.heterogeneous_delay is not None and p.max_delay_steps < 0:
                problems.append(f"edge {eid} has per-synapse delays but max_delay_steps="
                                f"{p.max_delay_steps}")

    zero = nx.DiGraph()
    zero.add_nodes_from(g.nx.nodes)
    zero.add_edges_from((u, v) for u, v, _, p in g.edges() if p.delay_steps == 0)
    try:
        cycle = nx.find_cycle(zero)
        problems.append("zero-delay edges form a cycle: " +
                        " -> ".join(u for u, _ in cycle) + f" -> {cycle[0][0]}")
    except nx.NetworkXNoCycle:
        pass

    if problems:
        raise IRError(f"IR '{g.name}' is invalid:\n  - " + "\n  - ".join(problems))


def _check_indices(g, eid, p):
    """``(number of synapses or None, problems)`` of a ``sparse`` synapse group's index lists."""
    arrays = []
    for name in ("pre_ind", "post_ind"):
        key = getattr(p, name)
        if key is None or key not in g.arrays:
            return None, [f"edge {eid} lists its synapses but its {name} array "
                          f"{key!r} is missing from the side table"]
        arrays.append(g.arrays[key])
    pre, post = arrays
    if pre.shape != post.shape or pre.ndim != 1:
        return None, [f"edge {eid}: pre_ind has shape {pre.shape} and post_ind {post.shape}; "
                      f"both must be 1-D and equally long"]
    problems = []
    for name, ind, n in (("pre_ind", pre, p.num_pre), ("post_ind", post, p.num_post)):
        if ind.size and (ind.min() < 0 or ind.max() >= n):
            problems.append(f"edge {eid}: {name} holds indices outside [0, {n})")
    if not problems and len(set((pre.astype("int64") * p.num_post + post).tolist())) != pre.size:
        problems.append(f"edge {eid}: a (pre, post) pair is listed more than once")
    return pre.size, problems


def _check_inits(g, owner, inits, expected_shape):
    out = []
    for init in inits:
        init = getattr(init, "init", init)
        if init.kind != "array":
            continue
        if init.key not in g.arrays:
            out.append(f"{owner} refers to missing side-table array '{init.key}'")
            continue
        arr = g.arrays[init.key]
        size = 1
        for s in expected_shape:
            size *= s
        if arr.size != size:
            out.append(f"{owner}: array '{init.key}' has shape {arr.shape}, expected "
                       f"{expected_shape}")
    return out
