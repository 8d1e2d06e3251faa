"""Kernels of learning rules (see :mod:`passes.insert_eprop` for the equations).

Every timestep, when learning is on: presynaptic traces are updated where spikes are delivered
(inside the propagation kernel, :func:`trace_statements`), then after the neuron updates the
loss kernels write the output errors, the feedback kernels the learning signals, and each
trained synapse group's learning code runs over ``(batch, pre, post)`` with the post index
innermost (contiguous, vectorisable).
"""

from __future__ import annotations

from irsnn.ir import FeedbackPath, LossNode
from irsnn.ir.scopes import check_learning

from .description import For, If, Kernel


def trace_statements(builder, s, syn, signed):
    """Statements (inside a propagation kernel, grid over ``b``) that decay the presynaptic
    trace and add the delivered spikes: ``ZBar = decay * ZBar + z``."""
    lr = syn.learning
    trace = f"{s}_{lr.pre_trace}"
    decay = builder.literal(lr.pre_trace_decay)
    sign = "(float)sgn[s]" if signed else builder.literal(1.0)
    zb = f"{trace} + (size_t)b * {syn.num_pre}"
    return [If("irsnn_learning", [
        f"GLOBAL {builder.scalar} *zb = {zb};",
        For("i", str(syn.num_pre), [f"zb[i] = {decay} * zb[i];"]),
        For("s", "cnt", [f"zb[spk[s]] += {sign};"])])]


def declare_buffers(builder):
    """Learning buffers: synapse variables, presynaptic traces, labels, feedback matrices."""
    B = builder.B
    for eid, (s, syn) in builder.syns.items():
        lr = syn.learning
        if lr is None:
            continue
        for v in lr.vars:
            builder._buffer(f"{s}_{v.name}", builder.ctype(v.type),
                            B * builder.synapse_count(eid))
        builder._buffer(f"{s}_{lr.pre_trace}", builder.scalar, B * syn.num_pre)
    for k, (lid, loss) in enumerate(builder.g.nodes(LossNode)):
        g, pop = builder.pops[loss.source]
        builder.losses[lid] = (f"l{k}", loss)
        builder._buffer(f"l{k}_active", "int8_t", B)
        if loss.kind == "sparse_categorical_crossentropy":
            builder._buffer(f"l{k}_labels", "int32_t", B)
        else:
            builder._buffer(f"l{k}_labels", builder.scalar, B * pop.size)
    for k, (u, v, _, fb) in enumerate(builder.g.edges(FeedbackPath)):
        if fb.mode == "random":
            _, hid = builder.pops[v]
            _, out = builder.pops[u]
            builder._buffer(f"f{k}_B", builder.scalar, hid.size * out.size)
            builder.constant_buffers[f"f{k}_B"] = fb.weights


def kernels(builder) -> list[Kernel]:
    """Loss, feedback and synapse-learning kernels, in execution order."""
    return _losses(builder) + _feedback(builder) + _synapses(builder)


def _losses(builder):
    out = []
    for lid, (ln, loss) in builder.losses.items():
        g, pop = builder.pops[loss.source]
        n = pop.size
        v = f"{g}_{loss.var}"
        e = f"{g}_{loss.error_var}"
        row = f"(size_t)b * {n}"
        zero = builder.literal(0.0)
        if loss.kind == "sparse_categorical_crossentropy":
            compute = [
                f"{builder.scalar} m = {v}[{row}];",
                For("k", str(n), [f"m = {builder.fn('fmax')}(m, {v}[{row} + k]);"]),
                f"{builder.scalar} sum = {zero};",
                For("k", str(n), [f"{e}[{row} + k] = {builder.fn('exp')}({v}[{row} + k] - m);",
                                  f"sum += {e}[{row} + k];"]),
                For("k", str(n), [f"{e}[{row} + k] = ({e}[{row} + k] / sum) - "
                                  f"(k == {ln}_labels[b] ? {builder.literal(1.0)} : {zero});"])]
        else:
            compute = [For("k", str(n), [f"{e}[{row} + k] = {v}[{row} + k] - "
                                         f"{ln}_labels[{row} + k];"])]
        body = [If(f"{ln}_active[b]", compute,
                   [For("k", str(n), [f"{e}[{row} + k] = {zero};"])])]
        if loss.bias_gradient:
            body.append(For("k", str(n), [f"{g}_{loss.bias_gradient}[{row} + k] += "
                                          f"{e}[{row} + k];"]))
        out.append(Kernel(f"loss_{ln}", (), (builder.dim_b(),), body,
                          doc=f"{loss.kind} error of {loss.source} ({lid})", label=f"loss:{lid}"))
    return out


def _feedback(builder):
    out = []
    for k, (u, v, _, fb) in enumerate(builder.g.edges(FeedbackPath)):
        go, outp = builder.pops[u]
        gh, hid = builder.pops[v]
        w = f"{builder.syns[fb.weights][0]}_g" if fb.mode == "symmetric" else f"f{k}_B"
        no = outp.size
        error = f"{go}_{fb.error_var}[(size_t)b * {no} + k]"
        if fb.mode == "symmetric" and builder.syns[fb.weights][1].layout == "ragged":
            # only the synapses that exist; ascending k as the dense sum (absent terms are 0)
            s = builder.syns[fb.weights][0]
            M = builder.max_row(fb.weights)
            terms = For("r", f"{s}_rowlen[j]", [f"const int32_t k = {s}_ind[(size_t)j * {M} + r];",
                                                f"acc += {w}[(size_t)j * {M} + r] * {error};"])
        else:
            terms = For("k", str(no), [f"acc += {w}[(size_t)j * {no} + k] * {error};"])
        body = [For("j", str(hid.size), [
            f"{builder.scalar} acc = {builder.literal(0.0)};", terms,
            f"{gh}_{fb.signal_var}[(size_t)b * {hid.size} + j] = acc;"])]
        out.append(Kernel(f"feedback_f{k}", (), (builder.dim_b(),), body,
                          doc=f"{fb.mode} feedback {u} -> {v}", label=f"feedback:{u}->{v}"))
    return out


def _synapses(builder):
    out = []
    for eid, (s, syn) in builder.syns.items():
        lr = syn.learning
        if lr is None:
            continue
        g, target = builder.pops[syn.target]
        checked = check_learning(syn, target, builder.precision)
        n_pre, n_post = syn.num_pre, syn.num_post
        table = {"t": "t", "dt": builder.literal(builder.dt), f"{lr.pre_trace}_pre": "zb"}
        table.update({p.name: builder.literal(p.value, p.type) for p in lr.params})
        table.update({v.name: f"l_{v.name}" for v in lr.vars})
        for v in target.vars:
            index = f"(size_t)b * {n_post} + j" if v.batched else "j"
            table[f"{v.name}_post"] = f"{g}_{v.name}[{index}]"
        code = builder.r.render_statements(checked.tree, checked, builder._names(table))
        if syn.layout == "ragged":
            # traces and gradients exist only for the synapses that exist
            M = builder.max_row(eid)
            inner = [f"const int32_t j = {s}_ind[(size_t)i * {M} + r];",
                     f"const size_t idx = ((size_t)b * {n_pre} + i) * {M} + r;"]
            loop = ("r", f"{s}_rowlen[i]")
        else:
            inner = [f"const size_t idx = ((size_t)b * {n_pre} + i) * {n_post} + j;"]
            loop = ("j", str(n_post))
        inner += [f"{builder.ctype(v.type)} l_{v.name} = {s}_{v.name}[idx];" for v in lr.vars]
        inner.append(code.rstrip())
        inner += [f"{s}_{v.name}[idx] = l_{v.name};" for v in lr.vars
                  if v.access == "readwrite"]
        body = [For("i", str(n_pre), [
            f"const {builder.scalar} zb = {s}_{lr.pre_trace}[(size_t)b * {n_pre} + i];",
            For(*loop, inner)])]
        out.append(Kernel(f"learn_{s}", (), (builder.dim_b(),), body,
                          doc=f"{lr.kind} learning of {eid}", label=f"learn:{eid}"))
    return out
