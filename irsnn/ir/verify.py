"""Invariants of the IR, checked after every pass by the pipeline."""

from __future__ import annotations

import networkx as nx

from ..errors import IRError
from .graph import edge_id
from .payloads import (PAYLOAD_TYPES, AuxEdge, FeedbackPath, LossNode, NeuronGroup, OptimiserNode,
                       ReadoutNode, RecorderNode, SynapseGroup)

_NODE_PREFIX = {NeuronGroup: "pop.", ReadoutNode: "readout.", RecorderNode: "rec.",
                LossNode: "loss.", OptimiserNode: "optim."}


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
    for u, v, k, p in g.edges():
        eid = edge_id(u, v, k)
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
            if p.layout not in SYNAPSE_LAYOUTS:
                problems.append(f"edge {eid} has layout {p.layout!r}; layouts are "
                                f"{list(SYNAPSE_LAYOUTS)}")
            if p.layout in ("dense", "ragged", "bitmask", "procedural"):
                problems += _check_inits(g, eid, (p.weight,), (p.num_pre, p.num_post))
            if p.layout in ("bitmask", "procedural"):
                problems += _check_generated_layout(eid, p)
            if p.layout == "one_to_one":
                problems += _check_inits(g, eid, (p.weight,), (p.num_post,))
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


#: the storage layouts of synapse groups (see :class:`~irsnn.ir.payloads.SynapseGroup`)
SYNAPSE_LAYOUTS = ("dense", "one_to_one", "ragged", "bitmask", "procedural")


def _check_generated_layout(eid, p):
    """Bitmask and procedural groups hold FixedProbability synapses without per-synapse delays
    or learning; procedural ones also regenerate their weights, so these cannot be an array."""
    out = []
    if p.connectivity != "fixed_probability":
        out.append(f"edge {eid} is {p.connectivity} but has the {p.layout} layout, which only "
                   f"FixedProbability connectivity can use")
    if p.heterogeneous_delay is not None:
        out.append(f"edge {eid} has per-synapse delays, which the {p.layout} layout cannot hold")
    if p.learning is not None:
        out.append(f"edge {eid} learns, which the {p.layout} layout cannot support")
    if p.layout == "procedural" and p.weight.kind not in ("constant", "normal", "uniform"):
        out.append(f"edge {eid} has {p.weight.kind} weights, which the procedural layout "
                   f"cannot regenerate")
    return out


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
