"""EventProp kernels: spike buffers in the forward pass, the backward pass at an example's end.

Requires: a scheduled IR graph with :class:`~irsnn.ir.EventPropState` nodes (the
``insert-eventprop`` pass), a :class:`~.builder.KernelBuilder` (its buffer table, after
:func:`.learning.declare_buffers`) and the layout strategies (dense and ragged rows). Provides
:data:`SUPPORTED` (the readout/loss pairs these kernels implement), :func:`declare_buffers`
(refusing every other pair with the reason), :func:`record_kernels` (per step, learning on),
:func:`end_kernels` (the backward pass of :mod:`.eventprop_backward`, grid ``(b,)``; the batch's
gradient, one synapse per grid point; the restart). The loss drives and the regulariser are in
:mod:`.eventprop_losses`.

The equations are in :mod:`irsnn.compilers.event_prop_compiler`; the reference backend
(:mod:`backends.reference.eventprop`) solves the same ones in float64.

Forward pass (after the neuron updates of every step, learning on): every population with an
EventProp node appends each spike of the example (its step ``ep_pos[b]``, steps since the
example began, and the neuron; LIF populations also ``I - V`` just before and just after the
reset) to its event list ``<ep>_ev_*[b]``, in the order the spikes happened, as long as the
neuron has spiked fewer than ``max_spikes`` times in the example (``<ep>_count``): the list
holds at most ``neurons x max_spikes`` events, the bound of the IR's per-neuron buffers, but is
filled densely, so its writes and the backward pass's reads are sequential. A spike beyond
``max_spikes`` increments ``<ep>_dropped[b][j]`` instead (the host turns that into an error
naming the population with ``strict_buffer_checking``, or a count and a warning:
:mod:`backends.kernel_sim.eventprop`). A ``max_var`` output keeps its running maximum and the
step of it.

The backward pass is in :mod:`.eventprop_backward`.
"""

from __future__ import annotations

from irsnn.errors import ModelError
from irsnn.ir import EventPropState

from .description import Block, Dim, For, If, Kernel, ParallelFor, Single
from .eventprop_backward import backward, gradients, lanes, max_offset

#: (readout, loss, per-timestep loss) of the output populations the kernels implement
SUPPORTED = (("sum_var", "sparse_categorical_crossentropy", False),
             ("avg_var", "sparse_categorical_crossentropy", False),
             ("max_var", "sparse_categorical_crossentropy", False),
             ("avg_var_exp_weight", "sparse_categorical_crossentropy", False),
             ("sum_var", "sparse_categorical_crossentropy", True),
             ("avg_var", "sparse_categorical_crossentropy", True),
             ("var", "mean_square_error", True),
             ("first_spike_time", "relative_mean_square_error", False),
             ("first_spike_time", "sparse_categorical_crossentropy", False))


def described(entry) -> str:
    """One :data:`SUPPORTED` entry in words, for messages."""
    readout, loss, per_step = entry
    return f"{readout}+{loss}" + (" (per timestep)" if per_step else "")


class _Pop:
    """What the kernels need of one population with an EventProp node."""

    def __init__(self, builder, sid, node):
        self.sid, self.node, self.nid = sid, node, node.source
        self.pop = builder.populations[node.source]
        self.n, self.m = self.pop.size, node.max_spikes
        self.lif = "IMinusV" in node.buffers
        self.adjoint = node.kind != "input"
        self.p = {q.name: float(q.value) for q in node.params}
        self.buf = builder.buffer_of(sid)
        self.var = builder.buffer_of(node.source)
        #: steps of the output recorded for a per-step loss (``var`` readouts)
        self.steps = 0
        #: steps of ``D`` and ``LambdaI`` kept for delayed arrivals (1: none kept)
        self.window = 1
        #: the spike-count regularisation's jump (hidden LIF populations that have one)
        self.reg = node.kind == "hidden" and any(
            self.p.get(k, 0.0) != 0.0 for k in ("RegLambdaUpper", "RegLambdaLower"))


def _check(pop: _Pop):
    node = pop.node
    if node.kind != "output":
        return
    if (node.readout, node.loss, bool(node.per_timestep)) not in SUPPORTED:
        raise ModelError(
            f"Population '{pop.pop.name}': readout '{node.readout}' with loss '{node.loss}' "
            f"has no EventProp kernels yet (the C, OpenCL and CUDA backends implement "
            f"{[described(e) for e in SUPPORTED]}); compile with backend='reference'")


def declare_buffers(builder):
    """The event lists, spike counts and scratch rows of EventProp (``builder.eventprop``:
    ``{population id: _Pop}``; ``builder.eventprop_edges``: ``{edge id: trained synapse
    group}``; the per-example buffers join ``builder.example_buffers``, cleared when an
    example begins)."""
    table, B, sc = builder.buffers, builder.batch_size, builder.scalar
    builder.eventprop = {}
    builder.eventprop_edges = {}
    nodes = list(builder.graph.nodes(EventPropState))
    if not nodes:
        return
    builder.example_buffers.append(table.add("", "ep_pos", "int32_t", (B,)))
    for k, (sid, node) in enumerate(nodes):
        table.register(sid, f"ep{k}")
        p = _Pop(builder, sid, node)
        _check(p)
        builder.eventprop[node.source] = p
        n, m = p.n, p.m
        for name in ("count", "dropped"):
            builder.example_buffers.append(table.add(sid, name, "int32_t", (B, n)))
        builder.example_buffers.append(table.add(sid, "nev", "int32_t", (B,)))
        # the example's spikes in the order they happened: at most max_spikes per neuron
        table.add(sid, "ev_step", "int32_t", (B, n * m))
        table.add(sid, "ev_id", "int32_t", (B, n * m))
        if p.lif:
            table.add(sid, "ev_imv", sc, (B, n * m))
            table.add(sid, "ev_imvr", sc, (B, n * m))
        if p.adjoint:
            # D of the targets; the jumps of this step and the LambdaI before them
            for name in ("D", "jv", "jli"):
                table.add(sid, name, sc, (B, n))
        if p.reg:       # the regulariser's jump of every neuron, from the batch's counts
            table.add(sid, "reg", sc, (B, n))
        if node.readout == "first_spike_time":   # spikes left to visit: 1 at the first
            table.add(sid, "rem", "int32_t", (B, n))
            if node.loss == "sparse_categorical_crossentropy":   # the phantom push
                table.add(sid, "imp", sc, (B, n))
        if node.readout == "max_var":
            table.add(sid, "vmax", sc, (B, n))
            table.add(sid, "vmaxat", "int32_t", (B, n))
        if node.per_timestep:   # the output at every step of the example
            p.steps = int(round(p.p["ExampleTime"] / builder.dt))
            table.add(sid, "hist", sc, (B, p.steps * n))
            if node.loss == "sparse_categorical_crossentropy":   # this step's drive
                table.add(sid, "ptd", sc, (B, n))
    for eid, syn in builder.synapses.items():
        if syn.learning is not None and syn.learning.kind == "eventprop":
            builder.eventprop_edges[eid] = syn
            if B > 1:   # one gradient per lane of batch elements, summed by the reduce kernels
                for name in gradients(syn):
                    table.add(eid, f"{name}Lane", sc, (lanes(B)[0], builder.synapse_count(eid)))
            tgt = builder.eventprop[syn.target]
            tgt.window = max(tgt.window, 1 + max_offset(syn))
    for p in builder.eventprop.values():
        if p.window > 1:   # D and LambdaI of the last steps, where delayed spikes arrive
            for name in ("Dring", "LIring"):
                table.add(p.sid, name, sc, (B, p.window * p.n))


def _spike_list(builder, nid):
    """Statements putting this step's spike list of ``nid`` in scope (``cnt``, ``spk``)."""
    pop = builder.populations[nid]
    B, n, h = builder.batch_size, pop.size, pop.spike_history
    spk, spkcnt = builder.buffers[nid, "spk"], builder.buffers[nid, "spkcnt"]
    return [f"const int32_t slot = (int32_t)(ts % {h});",
            f"const int32_t cnt = {spkcnt}[slot * {B} + b];",
            f"GLOBAL const int32_t *spk = {spk} + ((size_t)slot * {B} + b) * {n};"]


def record_kernels(builder) -> list[Kernel]:
    """One kernel (grid ``(b,)``, learning on) appending this step's spikes of every
    EventProp population to its event list, then advancing ``ep_pos``."""
    if not builder.eventprop:
        return []
    pos = builder.buffers["", "ep_pos"]
    body = [f"const int32_t pos = {pos}[b];"]
    for nid, p in builder.eventprop.items():
        n, m = p.n, p.m
        e = f"(size_t)b * {n * m} + nev"
        store = [f"{p.buf('ev_step')}[{e}] = pos;", f"{p.buf('ev_id')}[{e}] = j;"]
        if p.lif:
            store += [f"{p.buf('ev_imv')}[{e}] = {p.var('IMinusV')}[(size_t)b * {n} + j];",
                      f"{p.buf('ev_imvr')}[{e}] = {p.var('IMinusVReset')}[(size_t)b * {n} + j];"]
        store += [f"{p.buf('count')}[(size_t)b * {n} + j] = c + 1;", "nev += 1;"]
        part = _spike_list(builder, nid) + [
            f"int32_t nev = {p.buf('nev')}[b];",
            For("s", "cnt", [
                "const int32_t j = spk[s];",
                f"const int32_t c = {p.buf('count')}[(size_t)b * {n} + j];",
                If(f"c < {m}", store, [f"{p.buf('dropped')}[(size_t)b * {n} + j] += 1;"])]),
            f"{p.buf('nev')}[b] = nev;"]
        if p.node.readout == "max_var":
            v = f"{p.var(p.pop.output_var)}[(size_t)b * {n} + j]"
            vmax, at = p.buf("vmax"), p.buf("vmaxat")
            part.append(For("j", str(n), [
                f"const {builder.scalar} v = {v};",
                If(f"pos == 0 || v > {vmax}[(size_t)b * {n} + j]",
                   [f"{vmax}[(size_t)b * {n} + j] = v;", f"{at}[(size_t)b * {n} + j] = pos;"])]))
        if p.node.per_timestep:   # (steps past the example's length are not kept)
            v = f"{p.var(p.pop.output_var)}[(size_t)b * {n} + j]"
            part.append(If(f"pos < {p.steps}", [For("j", str(n), [
                f"{p.buf('hist')}[((size_t)b * {p.steps} + pos) * {n} + j] = {v};"])]))
        body.append(Block(part, comment=f"spikes of {nid}"))
    body.append(f"{pos}[b] = pos + 1;")
    k = Kernel("eventprop_record", (), (builder.dim_b(),), body,
               doc="EventProp: this step's spikes into the event lists",
               label="eventprop:record")
    k.learning = True
    return [k]


def end_kernels(builder) -> tuple[list[Kernel], list[Kernel], list[Kernel]]:
    """``(backward pass, gradient reductions, restart)`` of the end of an example (see the
    module docstring; the backward pass and the restart have grid ``(b,)``)."""
    if not builder.eventprop:
        return [], [], []
    restart = Kernel("eventprop_restart", (), (builder.dim_b(),), _restart(builder),
                     doc="EventProp: the next example's spikes start at step 0",
                     label="backward:restart", parallel=True)
    return [backward(builder)], _reduce(builder), [restart]


def _reduce(builder) -> list[Kernel]:
    """Per trained connection (batch > 1), one kernel over its stored synapses adding the
    lanes' gradients (ascending) to ``Gradient`` and clearing them."""
    if builder.batch_size == 1:
        return []
    nlanes, _ = lanes(builder.batch_size)
    out = []
    for eid, syn in builder.eventprop_edges.items():
        count = builder.synapse_count(eid)
        body = []
        for name in gradients(syn):
            gl, grad = builder.buffers[eid, f"{name}Lane"], builder.buffers[eid, name]
            body.append(Block([
                f"{builder.scalar} acc = {grad}[idx];",
                For("l", str(nlanes), [f"acc += {gl}[(size_t)l * {count} + idx];",
                                       f"{gl}[(size_t)l * {count} + idx] = "
                                       f"{builder.literal(0.0)};"]),
                f"{grad}[idx] = acc;"]))
        out.append(Kernel(f"eventprop_reduce_{builder.stem(eid)}", (), (Dim("idx", count),),
                          body, doc=f"EventProp: the batch's gradient of {eid}",
                          label=f"backward:{eid}"))
    return out


def _restart(builder) -> list:
    """Statements (grid ``(b,)``) starting the next example: step counter and spike counts."""
    out = [Single([f"{builder.buffers['', 'ep_pos']}[b] = 0;"])]
    for p in builder.eventprop.values():
        out.append(Single([f"{p.buf('nev')}[b] = 0;"]))
        out.append(ParallelFor("j", str(p.n), [f"{p.buf(v)}[(size_t)b * {p.n} + j] = 0;"
                                               for v in ("count", "dropped")]))
    return out


__all__ = ["SUPPORTED", "declare_buffers", "described", "end_kernels", "record_kernels"]
