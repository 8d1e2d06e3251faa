"""Printers for the IR: readable text, JSON (+ ``.npz`` side table) and Graphviz DOT.

Requires: an :class:`~irsnn.ir.graph.IRGraph`, its payloads, networkx and NumPy. Provides
:func:`to_text`, :func:`describe_node`, :func:`describe_edge`, :func:`to_json` /
:func:`from_json`, :func:`save` / :func:`load` (JSON + ``.npz``) and :func:`to_dot`.

All output is deterministic: the same graph gives byte-identical text.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import networkx as nx
import numpy as np

from .graph import IRGraph
from .ids import edge_id
from .payloads import (AuxEdge, BackwardFilter, EventPropState, FeedbackPath, LossNode,
                       NeuronGroup,
                       OptimiserNode, ReadoutNode,
                       RecorderNode, SynapseGroup, from_plain, to_plain)


def _code(code: str) -> str:
    return "{" + re.sub(r"\s+", " ", code).strip() + "}"


def _vars(vs) -> str:
    out = []
    for v in vs:
        flags = ("" if v.batched else " shared") + ("" if v.access == "readwrite" else " ro")
        role = "" if v.role == "model" else f" <{v.role}>"
        out.append(f"{v.name}:{v.type}={v.init.describe()}{flags}{role}")
    return "[" + ", ".join(out) + "]"


def _params(ps) -> str:
    return "[" + ", ".join(f"{p.name}={p.value!r}" for p in ps) + "]"


def describe_node(nid: str, p) -> str:
    """One line describing a node."""
    if isinstance(p, NeuronGroup):
        parts = [f"{nid} = {p.model_name} shape={p.shape} vars={_vars(p.vars)}",
                 f"params={_params(p.params)}"]
        if p.egps:
            parts.append("egps=[" + ", ".join(f"{e.name}:{e.type}" for e in p.egps) + "]")
        for label, code in (("sim", p.sim_code), ("threshold", p.threshold_code),
                            ("neg_threshold", p.negative_threshold_code),
                            ("reset", p.reset_code)):
            if code.strip():
                parts.append(f"{label}={_code(code)}")
        flags = [f for f, on in (("input", p.is_input), ("spike_schedule", p.spike_schedule),
                                 ("softmax", p.softmax), ("record_spikes", p.record_spikes))
                 if on]
        if p.readout is not None:
            parts.append(f"readout={p.readout.kind}")
        if p.spike_history > 1:
            parts.append(f"spike_history={p.spike_history}")
        if flags:
            parts.append("flags=" + ",".join(flags))
        if p.location:
            parts.append(f"@ {p.location}")
        return " ".join(parts)
    if isinstance(p, ReadoutNode):
        return (f"{nid} = Readout {p.kind}({p.source}.{p.var}) accumulators="
                f"{list(p.accumulators)}" + (" softmax" if p.softmax else ""))
    if isinstance(p, RecorderNode):
        what = "spikes" if p.what == "spikes" else f"var {p.var}"
        return f"{nid} = Recorder {what} of {p.source}"
    if isinstance(p, LossNode):
        bias = f" bias_gradient={p.bias_gradient}" if p.bias_gradient else ""
        bias += f" targets_per_step={p.timesteps}" if p.timesteps else ""
        bias += f" target={p.source}.{p.target_var}" if p.target_var else ""
        return f"{nid} = Loss {p.kind}({p.source}.{p.var}) -> {p.error_var}{bias}"
    if isinstance(p, EventPropState):
        extra = "".join(f" {k}={v}" for k, v in (("drive", p.drive), ("readout", p.readout),
                                                 ("loss", p.loss)) if v)
        if p.loss == "sparse_categorical_crossentropy":
            extra += f" softmax_temperature={p.softmax_temperature!r}"
        if p.per_timestep:
            extra += " per_timestep"
        return (f"{nid} = EventProp {p.kind} of {p.source} adjoints={list(p.adjoints)} "
                f"buffers={list(p.buffers)}[max_spikes={p.max_spikes}"
                f"{', strict' if p.strict else ''}] params={_params(p.params)}{extra}")
    if isinstance(p, BackwardFilter):
        return (f"{nid} = BackwardFilter {p.kind} of {p.source} sequences={list(p.sequences)} "
                f"T={p.timesteps} params={_params(p.params)}")
    if isinstance(p, OptimiserNode):
        return (f"{nid} = Optimiser {p.kind} of {p.target} from {p.gradient} "
                f"{dict(p.params)} state={list(p.state)}"
                + (f" clamp={list(p.clamp)}" if p.clamp is not None else "")
                + (f" scalars={list(p.scalars)} {_code(p.code)}" if p.code else ""))
    return f"{nid} = {p!r}"


def describe_edge(u, v, k, p) -> str:
    """One line describing an edge."""
    eid = edge_id(u, v, k)
    if isinstance(p, SynapseGroup):
        parts = [f"{eid} = Synapses {p.connectivity}/{p.layout} {p.num_pre}x{p.num_post}",
                 f"w={p.weight.describe()}", f"delay={p.delay_steps}"]
        if p.heterogeneous_delay is not None:
            parts.append(f"d={p.heterogeneous_delay.describe()} max={p.max_delay_steps}")
        if p.p is not None:
            parts.append(f"p={p.p!r}")
        if p.pre_ind is not None:
            parts.append(f"pre_ind=array[{p.pre_ind}] post_ind=array[{p.post_ind}]")
        if p.layout_reason:
            parts.append(f"layout_reason={{{p.layout_reason}}}")
        parts.append(f"psm={p.psm_name}{_params(p.psm_params)} {_code(p.psm_code)}")
        if p.psm_vars:
            parts.append(f"psm_vars={_vars(p.psm_vars)}")
        if p.learning is not None:
            lr = p.learning
            if lr.kind == "eventprop":
                parts.append(f"learning=eventprop vars={_vars(lr.vars)} "
                             f"{lr.gradient}+=LambdaI_post at each arrival ({lr.backward})")
                if lr.delay_var:
                    parts.append(f"learned delays {lr.delay_var}: {lr.delay_gradient}-="
                                 f"dt*w*D_post at each arrival")
            elif lr.backward:
                parts.append(f"learning={lr.kind} vars={_vars(lr.vars)} "
                             f"{lr.gradient}+=spikes*HHat({lr.backward})")
            else:
                parts.append(f"learning={lr.kind} vars={_vars(lr.vars)} "
                             f"params={_params(lr.params)} {lr.pre_trace}_pre*="
                             f"{lr.pre_trace_decay!r} {_code(lr.code)}")
        if p.rewiring is not None:
            parts.append(f"rewiring={p.rewiring.describe()}")
        if p.location:
            parts.append(f"@ {p.location}")
        return " ".join(parts)
    if isinstance(p, AuxEdge):
        return f"{eid} = Tap delay={p.delay_steps}"
    if isinstance(p, FeedbackPath):
        return (f"{eid} = Feedback {p.mode} {p.error_var}->{p.signal_var} via {p.weights} "
                f"delay={p.delay_steps}")
    return f"{eid} = {p!r}"


def _describe_array(a: np.ndarray) -> str:
    if a.size == 0:
        return f"{a.dtype}{list(a.shape)} empty"
    if np.issubdtype(a.dtype, np.number):
        return (f"{a.dtype}{list(a.shape)} min={a.min():.6g} max={a.max():.6g} "
                f"mean={a.mean():.6g}")
    return f"{a.dtype}{list(a.shape)}"


def to_text(g: IRGraph) -> str:
    """Human-readable form: one line per node, edge and side-table array."""
    lines = [f"irsnn.ir {g.name}"]
    for k in sorted(g.attrs):
        lines.append(f"  attr {k} = {g.attrs[k]!r}")
    for nid, p in g.nodes():
        lines.append("  node " + describe_node(nid, p))
    for u, v, k, p in g.edges():
        lines.append("  edge " + describe_edge(u, v, k, p))
    for key in sorted(g.arrays):
        lines.append(f"  array {key} : {_describe_array(g.arrays[key])}")
    return "\n".join(lines) + "\n"


def to_json(g: IRGraph) -> str:
    """JSON text of the graph (arrays are not included: save them with :func:`save`)."""
    h = nx.MultiDiGraph(name=g.name)
    h.graph["attrs"] = g.attrs
    for nid, p in g.nodes():
        h.add_node(nid, payload=to_plain(p))
    for u, v, k, p in g.edges():
        h.add_edge(u, v, key=k, payload=to_plain(p))
    data = nx.node_link_data(h, edges="edges")
    data["arrays"] = {k: {"dtype": str(a.dtype), "shape": list(a.shape)}
                      for k, a in sorted(g.arrays.items())}
    return json.dumps(data, indent=1, sort_keys=True)


def from_json(text: str, arrays: dict | None = None) -> IRGraph:
    """Rebuild a graph from :func:`to_json` text and the arrays (e.g. from the ``.npz``)."""
    data = json.loads(text)
    declared = data.pop("arrays", {})
    h = nx.node_link_graph(data, directed=True, multigraph=True, edges="edges")
    g = IRGraph(h.graph.get("name", "model"), h.graph.get("attrs", {}))
    for nid in h.nodes:
        g.add_node(nid, from_plain(h.nodes[nid]["payload"]))
    for u, v, k in h.edges(keys=True):
        g.nx.add_edge(u, v, key=k, payload=from_plain(h.edges[u, v, k]["payload"]))
    arrays = dict(arrays or {})
    missing = sorted(set(declared) - set(arrays))
    if missing:
        from ..errors import IRError
        raise IRError(f"IR JSON declares arrays {missing} that were not supplied; pass the "
                      f"side table saved beside the JSON (the .npz file)")
    for k in declared:
        g.set_array(k, arrays[k])
    return g


def save(g: IRGraph, path) -> tuple[Path, Path]:
    """Write ``path`` (JSON) and ``path`` with suffix ``.npz`` (side table)."""
    path = Path(path)
    path.write_text(to_json(g))
    npz = path.with_suffix(".npz")
    with open(npz, "wb") as f:
        np.savez(f, **g.arrays)
    return path, npz


def load(path) -> IRGraph:
    """Inverse of :func:`save`."""
    path = Path(path)
    with np.load(path.with_suffix(".npz")) as z:
        arrays = {k: z[k] for k in z.files}
    return from_json(path.read_text(), arrays)


def _dot_quote(s: str) -> str:
    """A DOT string literal; newlines become DOT's centred line breaks."""
    escaped = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def to_dot(g: IRGraph) -> str:
    """Graphviz DOT text: populations as boxes, auxiliary nodes as ellipses."""
    lines = [f"digraph {_dot_quote(g.name)} {{", "  rankdir=LR;",
             '  node [fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=9];']
    for nid, p in g.nodes():
        if isinstance(p, NeuronGroup):
            label = f"{p.name}\n{p.model_name} {p.shape}"
            lines.append(f"  {_dot_quote(nid)} [shape=box, label={_dot_quote(label)}];")
        else:
            label = nid
            lines.append(f"  {_dot_quote(nid)} [shape=ellipse, style=dashed, "
                         f"label={_dot_quote(label)}];")
    for u, v, k, p in g.edges():
        if isinstance(p, SynapseGroup):
            label = f"{p.name}: {p.connectivity}/{p.layout} d={p.delay_steps} {p.psm_name}"
            lines.append(f"  {_dot_quote(u)} -> {_dot_quote(v)} [label={_dot_quote(label)}];")
        else:
            lines.append(f"  {_dot_quote(u)} -> {_dot_quote(v)} [style=dotted, "
                         f"label={_dot_quote(k)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
