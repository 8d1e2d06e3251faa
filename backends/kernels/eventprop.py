"""EventProp kernels: spike buffers in the forward pass, the backward pass at an example's end.

Requires: a scheduled IR graph with :class:`~irsnn.ir.EventPropState` nodes (the
``insert-eventprop`` pass), a :class:`~.builder.KernelBuilder` (its buffer table, after
:func:`.learning.declare_buffers`) and the layout strategies (dense and ragged rows). Provides
:data:`SUPPORTED` (the readout/loss pairs these kernels implement), :func:`declare_buffers`
(refusing every other pair with the reason), :func:`record_kernels` (per step, learning on),
:func:`end_kernels` (the backward pass, grid ``(b,)``; the batch's gradient, one synapse per
grid point; the restart).

The equations are in :mod:`irsnn.compilers.event_prop_compiler`; the reference backend
(:mod:`backends.reference.eventprop`) solves the same ones in float64.

Forward pass (after the neuron updates of every step, learning on): every population with an
EventProp node stores the step (``ep_pos[b]``, steps since the example began) of each of its
neurons' first ``max_spikes`` spikes of the example in ``<ep>_steps[b][j][slot]`` (LIF
populations also ``I - V`` just before and just after the reset); a spike beyond
``max_spikes`` increments ``<ep>_dropped[b][j]`` instead (the host turns that into an error
naming the population with ``strict_buffer_checking``, or a count and a warning). A
``max_var`` output keeps its running maximum and the step of it.

Backward pass, per batch element, ``t = T-1 .. 0`` (``T = ep_pos[b]``), in the model's
precision: the loss drive of every output is computed first (softmax cross-entropy of the
readout); then, every step, ``D = c LambdaV / TauM - LambdaI / TauSyn`` of every population
(the downstream terms of spike jumps, from the values of step ``t+1``), the adjoint update of
every population (a neuron whose next unvisited spike is at ``t`` takes EventProp's jump, its
outgoing weight rows dotted with the targets' ``D``), and for every trained connection the
spikes of step ``t-1`` (delivered at ``t``) add the target's ``LambdaI`` row to the
connection's ``Gradient`` (one for the batch, which the optimiser kernels of
``insert-optimiser`` read). Spikes are found through one cursor per neuron into its step
buffer (and the step of its next spike, kept contiguous), so each step costs ``O(neurons)``
plus ``O(fan-out)`` per spike, and memory is ``O(neurons x max_spikes)``, independent of the
number of steps. The batch elements run one after another (grid point ``b == 0`` loops over
them), in ascending order, all adding to the same gradients: no per-element gradient copies
(``O(batch x synapses)``), no reduction and no races, at the price of a backward pass that
is not parallel over the batch.
"""

from __future__ import annotations

from irsnn.errors import ModelError
from irsnn.ir import EventPropState

from .description import Block, For, If, Kernel

#: (readout, loss) pairs of output populations the kernels implement
SUPPORTED = (("sum_var", "sparse_categorical_crossentropy"),
             ("avg_var", "sparse_categorical_crossentropy"),
             ("max_var", "sparse_categorical_crossentropy"))


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


def _check(pop: _Pop):
    node = pop.node
    if node.kind != "output":
        return
    if (node.readout, node.loss) not in SUPPORTED:
        raise ModelError(
            f"Population '{pop.pop.name}': readout '{node.readout}' with loss '{node.loss}' "
            f"has no EventProp kernels yet (the C, OpenCL and CUDA backends implement "
            f"{[f'{r}+{loss}' for r, loss in SUPPORTED]}); compile with backend='reference'")


def declare_buffers(builder):
    """The spike buffers, cursors, scratch rows and per-batch-element gradients of EventProp
    (``builder.eventprop``: ``{population id: _Pop}``; the per-example ones join
    ``builder.example_buffers``, cleared when an example begins)."""
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
        table.add(sid, "steps", "int32_t", (B, n, m))
        # backward cursors: the slot of each neuron's next spike, and its step (-1: none)
        table.add(sid, "gcur", "int32_t", (B, n))
        table.add(sid, "gnext", "int32_t", (B, n))
        if p.lif:
            table.add(sid, "imv", sc, (B, n, m))
            table.add(sid, "imvr", sc, (B, n, m))
        if p.adjoint:
            table.add(sid, "D", sc, (B, n))
            table.add(sid, "cur", "int32_t", (B, n))
            table.add(sid, "jnext", "int32_t", (B, n))
        if node.readout == "max_var":
            table.add(sid, "vmax", sc, (B, n))
            table.add(sid, "vmaxat", "int32_t", (B, n))
    for eid, syn in builder.synapses.items():
        if syn.learning is not None and syn.learning.kind == "eventprop":
            builder.eventprop_edges[eid] = syn


def _spike_list(builder, nid):
    """Statements putting this step's spike list of ``nid`` in scope (``cnt``, ``spk``)."""
    pop = builder.populations[nid]
    B, n, h = builder.batch_size, pop.size, pop.spike_history
    spk, spkcnt = builder.buffers[nid, "spk"], builder.buffers[nid, "spkcnt"]
    return [f"const int32_t slot = (int32_t)(ts % {h});",
            f"const int32_t cnt = {spkcnt}[slot * {B} + b];",
            f"GLOBAL const int32_t *spk = {spk} + ((size_t)slot * {B} + b) * {n};"]


def record_kernels(builder) -> list[Kernel]:
    """One kernel (grid ``(b,)``, learning on) storing this step's spikes of every
    EventProp population, then advancing ``ep_pos``."""
    if not builder.eventprop:
        return []
    pos = builder.buffers["", "ep_pos"]
    body = [f"const int32_t pos = {pos}[b];"]
    for nid, p in builder.eventprop.items():
        n, m = p.n, p.m
        cell = f"((size_t)b * {n} + j) * {m} + c"
        store = [f"{p.buf('steps')}[{cell}] = pos;"]
        if p.lif:
            store += [f"{p.buf('imv')}[{cell}] = {p.var('IMinusV')}[(size_t)b * {n} + j];",
                      f"{p.buf('imvr')}[{cell}] = {p.var('IMinusVReset')}[(size_t)b * {n} + j];"]
        store.append(f"{p.buf('count')}[(size_t)b * {n} + j] = c + 1;")
        spikes = _spike_list(builder, nid) + [For("s", "cnt", [
            "const int32_t j = spk[s];",
            f"const int32_t c = {p.buf('count')}[(size_t)b * {n} + j];",
            If(f"c < {m}", store, [f"{p.buf('dropped')}[(size_t)b * {n} + j] += 1;"])])]
        part = spikes
        if p.node.readout == "max_var":
            v = f"{p.var(p.pop.output_var)}[(size_t)b * {n} + j]"
            vmax, at = p.buf("vmax"), p.buf("vmaxat")
            part.append(For("j", str(n), [
                f"const {builder.scalar} v = {v};",
                If(f"pos == 0 || v > {vmax}[(size_t)b * {n} + j]",
                   [f"{vmax}[(size_t)b * {n} + j] = v;", f"{at}[(size_t)b * {n} + j] = pos;"])]))
        body.append(Block(part, comment=f"spikes of {nid}"))
    body.append(f"{pos}[b] = pos + 1;")
    k = Kernel("eventprop_record", (), (builder.dim_b(),), body,
               doc="EventProp: this step's spikes into the per-neuron spike buffers",
               label="eventprop:record")
    k.learning = True
    return [k]


def _loss(builder, p, lid) -> list:
    """Statements writing the output's drive ``Drive[b][k]`` (softmax cross-entropy of the
    readout, over the batch size; ``T`` in scope) for an active row."""
    sc, n, B = builder.scalar, p.n, builder.batch_size
    row = f"(size_t)b * {n}"
    var = p.pop.output_var
    drive = p.var("Drive")
    temp = builder.literal(p.node.softmax_temperature)
    if p.node.readout == "max_var":
        r = f"{p.buf('vmax')}[{row} + k]"
    elif p.node.readout == "avg_var":
        r = f"({p.var(var + 'Sum')}[{row} + k] / ({sc})T)"
    else:
        r = f"{p.var(var + 'Sum')}[{row} + k]"
    labels = builder.buffers[lid, "labels"]
    one, zero = builder.literal(1.0), builder.literal(0.0)
    exp, fmax = builder.fn("exp"), builder.fn("fmax")
    scale = f"({temp} * {builder.literal(float(B))})"
    out = [f"{sc} zmax = {r.replace('+ k]', '+ 0]')} / {temp};",
           For("k", str(n), [f"zmax = {fmax}(zmax, {r} / {temp});"]),
           f"{sc} zsum = {zero};",
           For("k", str(n), [f"const {sc} e = {exp}(({r} / {temp}) - zmax);",
                             f"{drive}[{row} + k] = e;", "zsum += e;"]),
           For("k", str(n), [
               f"const {sc} pk = {drive}[{row} + k] / zsum;",
               f"{drive}[{row} + k] = (pk - (k == {labels}[b] ? {one} : {zero})) / {scale};"])]
    if p.node.readout == "avg_var":
        out.append(For("k", str(n), [f"{drive}[{row} + k] = {drive}[{row} + k] / ({sc})T;"]))
    return out


def _rows(builder, eid, syn):
    """``(length expression, stride, column expression)`` of row ``i`` of ``eid``."""
    strategy, conn = builder.layout(eid)
    length, L = strategy.row_extent(builder.buffers, eid, syn, conn)
    return length, L, strategy.target(builder.buffers, eid, syn, conn)


def end_kernels(builder) -> tuple[list[Kernel], list[Kernel], list[Kernel]]:
    """``(backward pass, gradient reductions, restart)`` of the end of an example (see the
    module docstring; the backward pass and the restart have grid ``(b,)``)."""
    if not builder.eventprop:
        return [], [], []
    restart = Kernel("eventprop_restart", (), (builder.dim_b(),), _restart(builder),
                     doc="EventProp: the next example's spikes start at step 0",
                     label="backward:restart")
    return [_backward(builder)], [], [restart]


def _backward(builder) -> Kernel:
    """The backward pass: one kernel, grid ``(b,)``."""
    sc, zero = builder.scalar, builder.literal(0.0)
    pops = builder.eventprop
    adj = {nid: p for nid, p in pops.items() if p.adjoint}
    edges = builder.eventprop_edges
    lits = lambda p: {k: builder.literal(v) for k, v in p.p.items()}  # noqa: E731
    losses = {loss.source: lid for lid, loss in builder.losses.items() if loss.source in pops}
    active = builder.buffers[next(iter(losses.values())), "active"]
    pos = builder.buffers["", "ep_pos"]
    init = []
    for p in pops.values():
        n, m = p.n, p.m
        row = f"(size_t)b * {n} + j"
        at = f"{p.buf('steps')}[((size_t)b * {n} + j) * {m} + "
        first = [f"const int32_t c = {p.buf('count')}[{row}] - 1;",
                 f"const int32_t last = c >= 0 ? {at}c] : -1;",
                 # the gradient cursor starts at the last spike delivered (before T-1)
                 "const int32_t g = last >= T - 1 ? c - 1 : c;",
                 f"{p.buf('gcur')}[{row}] = g;",
                 f"{p.buf('gnext')}[{row}] = g >= 0 ? {at}g] : -1;"]
        if p.adjoint:
            first += [f"{p.buf('cur')}[{row}] = c;", f"{p.buf('jnext')}[{row}] = last;",
                      f"{p.var('LambdaV')}[{row}] = {zero};",
                      f"{p.var('LambdaI')}[{row}] = {zero};"]
        init.append(For("j", str(n), first))
    for nid, lid in losses.items():
        init += _loss(builder, pops[nid], lid)
    step = []
    # D of every population that a LIF population's trained connections reach
    targets = {syn.target for syn in edges.values() if pops[syn.source].lif}
    for nid in targets:
        p = pops[nid]
        q = lits(p)
        c = builder.literal(p.p["K"] / (1.0 - p.p["Alpha"]))
        row = f"(size_t)b * {p.n} + j"
        step.append(For("j", str(p.n), [
            f"{p.buf('D')}[{row}] = (({c} * {p.var('LambdaV')}[{row}]) / {q['TauM']}) - "
            f"({p.var('LambdaI')}[{row}] / {q['TauSyn']});"]))
    for nid, p in adj.items():
        q = lits(p)
        n, m = p.n, p.m
        row = f"(size_t)b * {n} + j"
        lv, li = f"{p.var('LambdaV')}[{row}]", f"{p.var('LambdaI')}[{row}]"
        body = [f"const {sc} lv = {lv};", f"{sc} nv = {q['Alpha']} * lv;"]
        if p.node.kind == "output":
            if p.node.readout == "max_var":
                body.append(If(f"{p.buf('vmaxat')}[{row}] == t",
                               [f"nv = nv + {p.var('Drive')}[{row}];"]))
            else:
                body.append(f"nv = nv + {p.var('Drive')}[{row}];")
        if p.lif:
            cell = f"((size_t)b * {n} + j) * {m} + cur"
            jump = [f"const int32_t cur = {p.buf('cur')}[{row}];", f"{sc} down = {zero};"]
            for eid, syn in edges.items():
                if syn.source != nid:
                    continue
                length, L, col = _rows(builder, eid, syn)
                tgt = pops[syn.target]
                w = builder.buffers[eid, "g"]
                term = (f"{w}[(size_t)i * {L} + r] * "
                        f"{tgt.buf('D')}[(size_t)b * {tgt.n} + {col}]")
                jump.append(Block(["const int32_t i = j;", f"const int32_t len = {length};"]
                                  + _dot(builder, "down", term)))
            jump += [f"const {sc} imv = {p.buf('imv')}[{cell}];",
                     f"nv = (({q['Alpha']} * lv) * ({p.buf('imvr')}[{cell}] / imv)) + "
                     f"(({q['TauM']} * down) / imv);",
                     f"{p.buf('cur')}[{row}] = cur - 1;",
                     f"{p.buf('jnext')}[{row}] = cur >= 1 ? {p.buf('steps')}[{cell} - 1] : -1;"]
            body.append(If(f"{p.buf('jnext')}[{row}] == t", jump))
        body += [f"{lv} = nv;", f"{li} = ({q['Beta']} * {li}) + ({q['K']} * nv);"]
        step.append(For("j", str(n), body))
    # spikes of step t-1 (delivered at t) add the targets' LambdaI rows to the gradients
    grad = []
    for nid, p in pops.items():
        mine = [(eid, syn) for eid, syn in edges.items() if syn.source == nid]
        if not mine:
            continue
        n, m = p.n, p.m
        row = f"(size_t)b * {n} + i"
        add = []
        for eid, syn in mine:
            length, L, col = _rows(builder, eid, syn)
            tgt = pops[syn.target]
            grad_ = builder.buffers[eid, syn.learning.gradient]
            add.append(Block([f"const int32_t len = {length};", For("r", "len", [
                f"{grad_}[(size_t)i * {L} + r] += "
                f"{tgt.var('LambdaI')}[(size_t)b * {tgt.n} + {col}];"])]))
        add += [f"const int32_t g = {p.buf('gcur')}[{row}] - 1;",
                f"{p.buf('gcur')}[{row}] = g;",
                f"{p.buf('gnext')}[{row}] = g >= 0 ? "
                f"{p.buf('steps')}[((size_t)b * {n} + i) * {m} + g] : -1;"]
        grad.append(For("i", str(n), [If(f"{p.buf('gnext')}[{row}] == t - 1", add)]))
    if grad:
        step.append(If("t >= 1", grad))
    loop = For("q", "T", ["const int32_t t = T - 1 - q;"] + step)
    example = [f"const int32_t T = {pos}[b];",
               If(f"T > 0 && {active}[b]", init + [loop], _clear(adj, zero))]
    # the batch elements one after another, each adding to the batch's gradients (one per
    # synapse): no per-element gradient copies, no reduction, no races
    body = [If("b == 0", [For("bb", str(builder.batch_size),
                              [Block(["const int32_t b = bb;"] + example)])])]
    return Kernel("eventprop_backward", (), (builder.dim_b(),), body,
                  doc="EventProp: the backward pass of the example just ended",
                  label="backward:eventprop")


#: partial sums of the dot products of spike jumps (independent, so they vectorise)
LANES = 8


def _dot(builder, acc, term) -> list:
    """Statements adding ``sum_r term(r)`` over ``r < len`` to ``acc``: :data:`LANES`
    partial sums over blocks of ``r`` (a float sum in source order is one long dependency
    chain), added pairwise, then the remainder in order."""
    sc, zero = builder.scalar, builder.literal(0.0)
    tree = [f"part[{k}]" for k in range(LANES)]
    while len(tree) > 1:
        tree = [f"({tree[k]} + {tree[k + 1]})" for k in range(0, len(tree), 2)]
    return [f"{sc} part[{LANES}];", For("k", str(LANES), [f"part[k] = {zero};"]),
            For("u", f"len / {LANES}", [For("k", str(LANES), [
                f"const int32_t r = {LANES} * u + k;", f"part[k] += {term};"])]),
            f"{acc} += {tree[0]};",
            For("r", "len", [f"{acc} += {term};"], start=f"{LANES} * (len / {LANES})")]


def _clear(adj, zero):
    """Adjoints (and drives) of a row without an example: zero."""
    out = []
    for p in adj.values():
        row = f"(size_t)b * {p.n} + j"
        names = ["LambdaV", "LambdaI"] + (["Drive"] if p.node.kind == "output" else [])
        out.append(For("j", str(p.n), [f"{p.var(v)}[{row}] = {zero};" for v in names]))
    return out


def _restart(builder) -> list:
    """Statements (grid ``(b,)``) starting the next example: step counter and spike counts."""
    out = [f"{builder.buffers['', 'ep_pos']}[b] = 0;"]
    for p in builder.eventprop.values():
        out.append(For("j", str(p.n), [f"{p.buf(v)}[(size_t)b * {p.n} + j] = 0;"
                                       for v in ("count", "dropped")]))
    return out


__all__ = ["SUPPORTED", "declare_buffers", "end_kernels", "record_kernels"]
