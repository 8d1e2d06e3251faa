"""Kernels of learning rules (see :mod:`passes.insert_eprop` for the equations).

Requires: a scheduled IR graph with learning payloads (``insert-eprop``,
``event-eprop``), the language through :func:`irsnn.ir.scopes.check_learning`, a
:class:`~.builder.KernelBuilder` (its buffer table) and the layout strategies. Provides
:func:`declare_buffers`, :func:`trace_statements`, :func:`kernels`, :func:`end_kernels`, the
builder's :func:`prologue`/:func:`epilogue`, and the row helpers the optimiser kernels share
(:func:`event_groups`, :func:`row_length`, :func:`row_gradient`).

Every timestep, when learning is on: presynaptic traces are updated where spikes are delivered
(inside the propagation kernel, :func:`trace_statements`), then after the neuron updates the
loss kernels write the output errors, the feedback kernels the learning signals, and each
trained synapse group's learning code runs over ``(batch, pre, post)`` with the post index
innermost (contiguous, vectorisable).

Event-driven learning (``passes.event_eprop``): the propagation kernel sets one bit per spike
delivered at step ``eprop_pos[b]`` of the example (a second bit array holds negative spikes);
after the feedback kernels, ``eprop_record`` stores each :class:`~irsnn.ir.BackwardFilter`'s
sequences at that step and advances ``eprop_pos``. At the end of an example the backward sweeps
(``Program.end_kernels``) filter the sequences backward in place (``HHat``); the scatter kernels
(``Program.scatter_kernels``, one presynaptic row per grid point, no atomics) add, for every set
bit of presynaptic neuron ``i`` at step ``s`` of an active batch element, the row ``HHat(s)`` to
the batch's gradient of ``i``'s synapses (batch elements, then steps, ascending). On SIMT
plans with blocks of threads, a row is one block (work-group) and its synapses are split across
the block's threads (every thread walks the same batch elements and bits, adding to its own
synapses: uniform loops, coalesced accesses, the same sums in the same order as one thread per
row, which C and one thread per example run); the restart
kernel (``Program.restart_kernels``) clears the bits and the counter. Training on the C backend
skips the scatter: its optimiser kernels sum the same rows themselves (:mod:`.optimiser`).
"""

from __future__ import annotations

import numpy as np

from irsnn.ir import BackwardFilter, FeedbackPath, LossNode
from irsnn.ir.scopes import check_learning

from irsnn.ir import edge_id

from . import eventprop
from .description import LEARNING, Barrier, Dim, For, ForSetBits, If, Kernel, ParallelFor, Single
from .layouts import declare_columns


def trace_statements(builder, eid, syn, signed):
    """Statements (inside a propagation kernel, grid over ``b``) that decay the presynaptic
    trace and add the delivered spikes: ``ZBar = decay * ZBar + z``; for event-driven learning,
    that set the delivered spikes' bits of this step."""
    lr = syn.learning
    if lr.kind == "eventprop":   # its spikes are recorded per neuron (see .eventprop)
        return []
    if lr.backward:
        T = builder.filters[lr.backward].timesteps
        TW = words(T)
        # one bit row of steps per presynaptic neuron (see event_bits)
        row = f"(size_t)b * {syn.num_pre * TW}"
        cell = f"[(size_t)spk[s] * {TW} + (pos >> 5)] |= 1u << (pos & 31);"
        mark = ["bits" + cell]
        decl = [f"GLOBAL uint32_t *bits = {builder.buffers[eid, 'ev']} + {row};"]
        if signed:
            decl.append(f"GLOBAL uint32_t *negbits = {builder.buffers[eid, 'evneg']} + {row};")
            mark.append(If("sgn[s] < 0", ["negbits" + cell]))
        # (distinct neurons of one step's list set bits of distinct words: no two threads
        # of a block write the same word)
        return [If(LEARNING, [
            f"const int32_t pos = {builder.buffers['', 'eprop_pos']}[b];",
            If(f"pos < {T}", decl + [ParallelFor("s", "cnt", mark)])])]
    trace = builder.buffers[eid, lr.pre_trace]
    decay = builder.literal(lr.pre_trace_decay)
    sign = "(float)sgn[s]" if signed else builder.literal(1.0)
    zb = f"{trace} + (size_t)b * {syn.num_pre}"
    # (a neuron is in a step's list once; its decayed trace is another thread's)
    return [If(LEARNING, [
        f"GLOBAL {builder.scalar} *zb = {zb};",
        ParallelFor("i", str(syn.num_pre), [f"zb[i] = {decay} * zb[i];"]), Barrier(),
        ParallelFor("s", "cnt", [f"zb[spk[s]] += {sign};"])])]


def words(n: int) -> int:
    """32-bit words of a bit row of ``n`` neurons (or steps)."""
    return (n + 31) // 32


def event_bits(builder, syn) -> int:
    """Words of a group's delivered-spike bits per batch element: for each presynaptic
    neuron, one bit per step of the example (word ``(b * num_pre + i) * words(T) + q / 32`` of
    its ``ev`` buffer, bit ``q % 32``), so a row's spikes are found by walking its set bits."""
    return syn.num_pre * words(builder.filters[syn.learning.backward].timesteps)


def declare_buffers(builder):
    """Learning buffers: synapse variables, presynaptic traces, labels, feedback matrices;
    for event-driven learning, spike bits, sequences and the step counter."""
    B, table = builder.batch_size, builder.buffers
    builder.filters = {}
    for k, (fid, f) in enumerate(builder.graph.nodes(BackwardFilter)):
        table.register(fid, f"bw{k}")
        builder.filters[fid] = f
        pop = builder.populations[f.source]
        for name in f.sequences:
            table.add(fid, name, builder.scalar, (B, f.timesteps, pop.size))
        # the backward sweep's carried values per neuron (a, b, HHat)
        for name in _carries(f):
            table.add(fid, name, builder.scalar, (B, pop.size))
    #: buffers holding one example of event-driven learning (cleared when one starts)
    builder.example_buffers = []
    if builder.filters:
        builder.example_buffers.append(table.add("", "eprop_pos", "int32_t", (B,)))
    for eid, syn in builder.synapses.items():
        lr = syn.learning
        if lr is None:
            continue
        count = builder.synapse_count(eid)
        for v in lr.vars:
            table.add(eid, v.name, builder.ctype(v.type), ((B,) if v.batched else ()) + (count,))
        if lr.kind == "eventprop":
            continue
        if lr.backward:
            shape = (B, event_bits(builder, syn))
            builder.example_buffers.append(table.add(eid, "ev", "uint32_t", shape))
            if builder.populations[syn.source].negative_threshold_code.strip():
                builder.example_buffers.append(table.add(eid, "evneg", "uint32_t", shape))
            continue
        table.add(eid, lr.pre_trace, builder.scalar, (B, syn.num_pre))
        if by_columns(builder, syn):
            declare_columns(builder, eid, builder.connectivity[eid])
            for v in lr.vars:
                table.add(eid, f"{v.name}_col", builder.ctype(v.type), (B, count))
    for k, (lid, loss) in enumerate(builder.graph.nodes(LossNode)):
        table.register(lid, f"l{k}")
        pop = builder.populations[loss.source]
        builder.losses[lid] = loss
        table.add(lid, "active", "int8_t", (B,))
        if (loss.kind in ("sparse_categorical_crossentropy", "relative_mean_square_error")
                or loss.target_var):
            # class labels (a loss with a target variable gets its labels through the model
            # and keeps this buffer unused)
            table.add(lid, "labels", "int32_t", (B,))
        else:
            table.add(lid, "labels", builder.scalar, (B, max(1, loss.timesteps), pop.size))
    # Feedback weights output-major (``[k][j]``), so that the feedback kernels add each
    # output's error to a contiguous vector of hidden neurons: fixed random matrices
    # transposed once, forward weights (symmetric, dense) copied per batch element before
    # every run (they only change between runs, in the optimiser or from the host)
    for k, (fid, u, v, fb) in enumerate(feedback_paths(builder)):
        table.register(fid, f"f{k}")
        hid, out = builder.populations[v], builder.populations[u]
        if fb.mode == "random":
            weights = np.asarray(builder.graph.array(fb.weights))
            buf = table.add(fid, "BT", builder.scalar, (out.size, hid.size))
            builder.host_arrays[buf] = weights.reshape(hid.size, out.size).T.reshape(-1)
        elif not _rows_of(builder, fb.weights):
            table.add(fid, "WT", builder.scalar, (B, out.size, hid.size))
    eventprop.declare_buffers(builder)


def feedback_paths(builder):
    """``[(feedback edge id, output id, hidden id, FeedbackPath)]`` in graph order."""
    return [(edge_id(u, v, key), u, v, fb)
            for u, v, key, fb in builder.graph.edges(FeedbackPath)]


def _rows_of(builder, eid) -> bool:
    """Whether the symmetric feedback through connection ``eid`` walks its stored rows by
    index (a layout storing only existing synapses) instead of a dense output-major copy."""
    return builder.layout(eid)[0].gathers


def kernels(builder) -> list[Kernel]:
    """Loss, feedback and synapse-learning kernels, in execution order."""
    return (_losses(builder) + _feedback(builder) + _synapses(builder) + _record(builder)
            + eventprop.record_kernels(builder))


def end_kernels(builder) -> tuple[list[Kernel], list[Kernel], list[Kernel]]:
    """Kernels of the end of an example of event-driven learning, grid ``(b,)``:
    ``(backward sweeps, gradient scatters into the gradient variables, restart)``; the restart
    clears the spike bits and the step counter for the next example (EventProp's: see
    :func:`.eventprop.end_kernels`)."""
    if builder.eventprop:
        return eventprop.end_kernels(builder)
    if not builder.filters:
        return [], [], []
    sweeps = [_backward(builder, fid, f) for fid, f in builder.filters.items()]
    scatters = [_scatter(builder, eid, syn) for eid, syn in event_groups(builder)]
    clear = []
    for eid, syn in event_groups(builder):
        size = event_bits(builder, syn)
        for name in ("ev", "evneg"):
            bits = builder.buffers.get(eid, name)
            if bits is not None:
                clear.append(ParallelFor("w", str(size),
                                         [f"{bits}[(size_t)b * {size} + w] = 0u;"]))
    pos = builder.buffers["", "eprop_pos"]
    restart = Kernel("eprop_restart", (), (builder.dim_b(),),
                     clear + [Single([f"{pos}[b] = 0;"])],
                     doc="the next example's spikes and sequences start at step 0",
                     label="backward:restart", parallel=True)
    return sweeps, scatters, [restart]


def event_groups(builder):
    """``[(edge id, synapse group)]`` of the groups with event-driven learning."""
    return [(eid, syn) for eid, syn in builder.synapses.items()
            if syn.learning is not None and syn.learning.backward
            and syn.learning.kind != "eventprop"]


def _record(builder):
    """Store every backward filter's sequences at this step of the example."""
    if not builder.filters:
        return []
    pos = builder.buffers["", "eprop_pos"]
    body = [f"const int32_t pos = {pos}[b];"]
    for fid, f in builder.filters.items():
        pop, var = builder.populations[f.source], builder.buffer_of(f.source)
        n, T = pop.size, f.timesteps
        params = {p.name: builder.literal(p.value, p.type) for p in f.params}
        stores = []
        for name in f.sequences:
            if name == "C":
                value = (f"{params['CReg']} * ({var('FAvg')}[(size_t)b * {n} + j] - "
                         f"{params['FTarget']})")
            else:
                value = f"{var(name)}[(size_t)b * {n} + j]"
            stores.append(f"{builder.buffers[fid, name]}[((size_t)b * {T} + pos) * {n} + j] = "
                          f"{value};")
        body.append(If(f"pos < {T}", [ParallelFor("j", str(n), stores)]))
    # every thread has read the step before one advances it
    body += [Barrier(), Single([f"{pos}[b] = pos + 1;"])]
    return [Kernel("eprop_record", (), (builder.dim_b(),), body,
                   doc="per-neuron sequences of event-driven e-prop", label="learn:record",
                   parallel=True)]


def _carries(f):
    """Per-neuron values the backward sweep of ``f`` carries from step to step."""
    if f.kind == "eprop-output":
        return ("HHat",)
    return ("A", "B", "HHat") if f.kind == "eprop-alif" else ("A", "HHat")


def _backward(builder, fid, f):
    """``HHat`` of every recorded step, in place of the first sequence (see
    :class:`~irsnn.ir.BackwardFilter`); steps descending outside, neurons inside (contiguous,
    vectorisable), with the carried values in ``<filter>_A``/``_B``/``_HHat``."""
    n, T = builder.populations[f.source].size, f.timesteps
    sc, zero = builder.scalar, builder.literal(0.0)
    p = {q.name: builder.literal(q.value, q.type) for q in f.params}
    seq = builder.buffer_of(fid)
    carry = {name: f"{seq(name)}[(size_t)b * {n} + j]" for name in _carries(f)}
    idx = f"const size_t idx = ((size_t)b * {T} + t) * {n} + j;"
    if f.kind == "eprop-output":
        sweep = [idx, f"const {sc} hh = {seq('E')}[idx] + ({p['Alpha']} * {carry['HHat']});",
                 f"{carry['HHat']} = hh;", f"{seq('E')}[idx] = hh;"]
    else:
        sweep = [idx, f"const {sc} psi = {seq('Psi')}[idx];",
                 f"const {sc} a = {seq('L')}[idx] + ({p['Alpha']} * {carry['A']});",
                 f"{carry['A']} = a;",
                 f"const {sc} g = a + {seq('C')}[idx];"]
        if f.kind == "eprop-alif":
            sweep += [f"const {sc} bb = {carry['B']};",
                      f"const {sc} pb = psi * {p['Beta']};",
                      f"const {sc} h = psi * (g + bb);",
                      f"{carry['B']} = ((-pb) * g) + (({p['Rho']} - pb) * bb);"]
        else:
            sweep.append(f"const {sc} h = psi * g;")
        sweep += [f"const {sc} hh = h + ({p['Alpha']} * {carry['HHat']});",
                  f"{carry['HHat']} = hh;", f"{seq('Psi')}[idx] = hh;"]
    pos = builder.buffers["", "eprop_pos"]
    # neurons across the threads of a block, each thread keeping its neurons through the
    # steps (no barrier between steps)
    body = [f"const int32_t steps = {pos}[b] < {T} ? {pos}[b] : {T};",
            ParallelFor("j", str(n), [f"{c} = {zero};" for c in carry.values()]),
            For("q", "steps", ["const int32_t t = steps - 1 - q;",
                               ParallelFor("j", str(n), sweep)])]
    return Kernel(f"backward_{builder.stem(fid)}", (), (builder.dim_b(),), body,
                  doc=f"backward sweep of {fid} ({f.kind})", label=f"backward:{fid}",
                  parallel=True)


def active_rows(builder):
    """The buffer flagging the batch rows that hold examples (the loss's)."""
    lid, = builder.losses
    return builder.buffers[lid, "active"]


def row_gradient(builder, eid, syn, acc, parallel=False):
    """Statements adding, for presynaptic row ``i``, every delivered spike's ``HHat`` row of
    every active batch element to ``acc[r]`` (``r`` over the row's synapses; ``len`` in
    scope), batch elements then steps ascending. With ``parallel``, the loop over the row's
    synapses is a :class:`~.description.ParallelFor` (a block of threads per row: each thread
    adds to its own synapses, walking the same batch elements and bits as every other, so
    every element receives the same additions in the same order as on one thread)."""
    fid = syn.learning.backward
    f = builder.filters[fid]
    T, TW, n_post = f.timesteps, words(f.timesteps), syn.num_post
    hh = builder.buffers[fid, f.sequences[0]]
    strategy, conn = builder.layout(eid)
    column = strategy.target(builder.buffers, eid, syn, conn)
    negative = builder.buffers.get(eid, "evneg")
    signed = negative is not None
    loop = ParallelFor if parallel else For
    add = lambda op: loop("r", "len", [f"{acc.format(r='r')} {op}= h[{column}];"])  # noqa: E731
    spike = ["const int32_t q = 32 * w + k;",
             f"GLOBAL const {builder.scalar} *h = {hh} + ((size_t)b * {T} + q) * {n_post};"]
    if signed:
        spike.append(If("((negbits[w] >> k) & 1u) != 0u", [add("-")], [add("+")]))
    else:
        spike.append(add("+"))
    # bits are only set for steps the example ran (< eprop_pos[b]): no bound needed
    mine = f"((size_t)b * {syn.num_pre} + i) * {TW}"
    row = [f"GLOBAL const uint32_t *bits = {builder.buffers[eid, 'ev']} + {mine};"]
    if signed:
        row.append(f"GLOBAL const uint32_t *negbits = {negative} + {mine};")
    row.append(For("w", str(TW), [ForSetBits("k", "bits[w]", spike)]))
    return [For("b", str(builder.batch_size), [If(f"{active_rows(builder)}[b]", row)])]


def row_length(builder, eid, syn):
    """``(C expression of row i's synapse count, row stride)`` of ``eid``'s stored values."""
    strategy, conn = builder.layout(eid)
    return strategy.row_extent(builder.buffers, eid, syn, conn)


def _scatter(builder, eid, syn):
    """Row ``i`` of the batch's gradient: every delivered spike of ``i`` (in every active
    batch element) adds its step's ``HHat`` row; one presynaptic row per grid point, so no
    two grid points write the same element. Written for a block of threads per row
    (:attr:`~.description.Kernel.parallel`): the row's synapses across the block (thread
    ``t`` of ``T`` adds to synapses ``t, t + T, ...``; neighbouring threads, neighbouring
    synapses), no barrier (each synapse is one thread's throughout); one thread per row
    walks them all (C, and SIMT targets on one thread per example)."""
    length, L = row_length(builder, eid, syn)
    grad = builder.buffers[eid, syn.learning.gradient]
    body = [f"const int32_t len = {length};"] + row_gradient(
        builder, eid, syn, f"{grad}[(size_t)i * {L} + {{r}}]", parallel=True)
    return Kernel(f"scatter_{builder.stem(eid)}", (), (Dim("i", syn.num_pre),), body,
                  doc=f"event-driven gradient of {eid}", label=f"backward:{eid}",
                  gathers=builder.layout(eid)[0].gathers, parallel=True)


def _losses(builder):
    out = []
    for lid, loss in builder.losses.items():
        if loss.source in builder.eventprop:   # once per example, in its backward pass
            continue
        n = builder.populations[loss.source].size
        v = builder.buffers[loss.source, loss.var]
        e = builder.buffers[loss.source, loss.error_var]
        labels, active = builder.buffers[lid, "labels"], builder.buffers[lid, "active"]
        row = f"(size_t)b * {n}"
        zero = builder.literal(0.0)
        if loss.target_var:   # the target the model's code stored this step
            tgt = builder.buffers[loss.source, loss.target_var]
            target = f"{tgt}[{row} + k]"
        else:
            target = f"(k == {labels}[b] ? {builder.literal(1.0)} : {zero})"
        if loss.softmax:
            compute = [
                f"{builder.scalar} m = {v}[{row}];",
                For("k", str(n), [f"m = {builder.fn('fmax')}(m, {v}[{row} + k]);"]),
                f"{builder.scalar} sum = {zero};",
                For("k", str(n), [f"{e}[{row} + k] = {builder.fn('exp')}({v}[{row} + k] - m);",
                                  f"sum += {e}[{row} + k];"]),
                For("k", str(n), [f"{e}[{row} + k] = ({e}[{row} + k] / sum) - {target};"])]
        elif loss.target_var:
            compute = [For("k", str(n), [f"{e}[{row} + k] = {v}[{row} + k] - {target};"])]
        else:
            # per-timestep targets: row b, step ts % T of the (batch, T, neurons) labels
            T = max(1, loss.timesteps)
            target = (f"(((size_t)b * {T} + (size_t)(ts % {T})) * {n})" if loss.timesteps
                      else row)
            compute = [For("k", str(n), [f"{e}[{row} + k] = {v}[{row} + k] - "
                                         f"{labels}[{target} + k];"])]
        body = [If(f"{active}[b]", compute,
                   [For("k", str(n), [f"{e}[{row} + k] = {zero};"])])]
        if loss.bias_gradient:
            bias = builder.buffers[loss.source, loss.bias_gradient]
            body.append(For("k", str(n), [f"{bias}[{row} + k] += "
                                          f"{e}[{row} + k];"]))
        out.append(Kernel(f"loss_{builder.stem(lid)}", (), (builder.dim_b(),), body,
                          doc=f"{loss.kind} error of {loss.source} ({lid})", label=f"loss:{lid}"))
    return out


def by_columns(builder, syn) -> bool:
    """Whether ``syn`` is a ragged group learning online, whose per-synapse learning runs
    postsynaptic neuron by postsynaptic neuron (every such group does; the variables are
    per batch element, as all per-synapse learning variables).

    Along a row, every synapse gathers its postsynaptic neuron's values (``Psi``, ``L``,
    ...) and rows are short (~25 synapses at 5% of 512); along a column those values are
    the same for every synapse and only the presynaptic trace is gathered (1.4-1.8x faster
    per synapse and step on an AVX-512 CPU, ALIF512R's 10% and 5% groups). The variables
    stay in the row layout between runs (the host, the optimiser, Deep-R and the
    event-driven kernels use it): every run copies them to column order first
    (:func:`prologue`) and back at its end (:func:`epilogue`), which costs about as much as
    5-10 steps of learning per run (runs of one step, as with per-timestep callbacks, pay it
    every step)."""
    return builder.layout_of(syn).learns_by_columns(syn)


def _column_copies(builder, to_columns: bool) -> list[Kernel]:
    out = []
    for eid, syn in builder.synapses.items():
        if not by_columns(builder, syn):
            continue
        cap = builder.synapse_count(eid)
        length, M = row_length(builder, eid, syn)
        buf = builder.buffer_of(eid)
        # sequential writes, gathered reads (vectorisable): by column in, by row out
        if to_columns:
            body = [ParallelFor("c", f"{buf('colstart')}[{syn.num_post}]", [
                f"{buf(v.name + '_col')}[(size_t)b * {cap} + c] = "
                f"{buf(v.name)}[(size_t)b * {cap} + {buf('colslot')}[c]];"
                for v in syn.learning.vars])]
        else:
            body = [ParallelFor("i", str(syn.num_pre), [For("r", length, [
                f"const int32_t p = i * {M} + r;"] + [
                f"{buf(v.name)}[(size_t)b * {cap} + p] = "
                f"{buf(v.name + '_col')}[(size_t)b * {cap} + {buf('colpos')}[p]];"
                for v in syn.learning.vars])])]
        what = "to column order" if to_columns else "back to row order"
        out.append(Kernel(f"{'columns' if to_columns else 'rows'}_{builder.stem(eid)}", (),
                          (builder.dim_b(),), body, doc=f"learning variables of {eid} {what}",
                          label=f"columns:{eid}", gathers=True, parallel=True))
    return out


def prologue(builder) -> list[Kernel]:
    """Kernels run for every batch element before every run's first step (see
    :attr:`~.description.Program.prologue`)."""
    return feedback_prologue(builder) + _column_copies(builder, True)


def epilogue(builder) -> list[Kernel]:
    """Kernels run for every batch element after every run's last step."""
    return _column_copies(builder, False)


def feedback_prologue(builder) -> list[Kernel]:
    """Kernels (grid ``(b,)``) copying the forward weights of dense symmetric feedback paths
    output-major for batch element ``b``, run before every run's first step."""
    out = []
    for fid, u, v, fb in feedback_paths(builder):
        if fb.mode != "symmetric" or _rows_of(builder, fb.weights):
            continue
        no, nh = builder.populations[u].size, builder.populations[v].size
        w, wt = builder.buffers[fb.weights, "g"], builder.buffers[fid, "WT"]
        body = [For("k", str(no), [ParallelFor("j", str(nh), [
            f"{wt}[((size_t)b * {no} + k) * {nh} + j] = {w}[(size_t)j * {no} + k];"])])]
        out.append(Kernel(f"feedback_weights_{builder.stem(fid)}", (), (builder.dim_b(),), body,
                          doc=f"output-major copy of the feedback weights {u} -> {v}",
                          label=f"feedback-weights:{u}->{v}", parallel=True))
    return out


def _feedback(builder):
    out = []
    for fid, u, v, fb in feedback_paths(builder):
        no, nh = builder.populations[u].size, builder.populations[v].size
        error = f"{builder.buffers[u, fb.error_var]}[(size_t)b * {no} + k]"
        signal = f"{builder.buffers[v, fb.signal_var]}[(size_t)b * {nh} + j]"
        # the same sum in the same order for every hidden neuron j: 0 + w_j0 e_0 + w_j1 e_1 ..
        if fb.mode == "symmetric" and _rows_of(builder, fb.weights):
            # along j's row: only the synapses that exist (absent terms are 0)
            w = builder.buffer_of(fb.weights)
            M = row_length(builder, fb.weights, builder.synapses[fb.weights])[1]
            row = For("r", f"{w('rowlen')}[j]", [
                f"const int32_t k = {w('ind')}[(size_t)j * {M} + r];",
                f"acc += {w('g')}[(size_t)j * {M} + r] * {error};"])
            body = [ParallelFor("j", str(nh), [f"{builder.scalar} acc = "
                                               f"{builder.literal(0.0)};", row,
                                               f"{signal} = acc;"])]
        else:
            # output by output over the contiguous vector of hidden neurons (output-major
            # weights: see declare_buffers)
            wt = f"{builder.buffers[fid, 'BT']}[(size_t)k * {nh} + j]" if fb.mode == "random" \
                else f"{builder.buffers[fid, 'WT']}[((size_t)b * {no} + k) * {nh} + j]"
            # (hidden neuron j is the same thread's in both loops: no barrier)
            body = [ParallelFor("j", str(nh), [f"{signal} = {builder.literal(0.0)};"]),
                    For("k", str(no), [f"const {builder.scalar} e = {error};", ParallelFor(
                        "j", str(nh), [f"{signal} += {wt} * e;"])])]
        out.append(Kernel(f"feedback_{builder.stem(fid)}", (), (builder.dim_b(),), body,
                          doc=f"{fb.mode} feedback {u} -> {v}", label=f"feedback:{u}->{v}",
                          parallel=True))
    return out


def _synapses(builder):
    out = []
    for eid, syn in builder.synapses.items():
        lr = syn.learning
        if lr is None or lr.backward:
            continue
        target = builder.populations[syn.target]
        checked = check_learning(syn, target, builder.precision)
        n_pre, n_post = syn.num_pre, syn.num_post
        table = {"t": "t", "dt": builder.literal(builder.dt), f"{lr.pre_trace}_pre": "zb"}
        table.update({p.name: builder.literal(p.value, p.type) for p in lr.params})
        table.update({v.name: f"l_{v.name}" for v in lr.vars})
        for v in target.vars:
            index = f"(size_t)b * {n_post} + j" if v.batched else "j"
            table[f"{v.name}_post"] = f"{builder.buffers[syn.target, v.name]}[{index}]"
        code = builder.renderer.render_statements(checked.tree, checked, builder.names(table))
        if by_columns(builder, syn):
            out.append(_learn_by_columns(builder, eid, syn, code))
            continue
        trace = builder.buffers[eid, lr.pre_trace]
        inner = [f"const size_t idx = ((size_t)b * {n_pre} + i) * {n_post} + j;"]
        # a row's synapses across the threads of a block (consecutive threads, consecutive
        # synapses: coalesced), rows one after another
        body = [For("i", str(n_pre), [
            f"const {builder.scalar} zb = {trace}[(size_t)b * {n_pre} + i];",
            ParallelFor("j", str(n_post), inner + _synapse_update(builder, eid, lr, code))])]
        out.append(Kernel(f"learn_{builder.stem(eid)}", (), (builder.dim_b(),), body,
                          doc=f"{lr.kind} learning of {eid}", label=f"learn:{eid}",
                          parallel=True))
    return out


def _synapse_update(builder, eid, lr, code, suffix="") -> list:
    """Synapse ``idx``'s learning: its variables (buffers ``var + suffix`` of ``eid``) loaded,
    the rendered learning ``code``, the ones it writes stored."""
    buf = builder.buffer_of(eid)
    return ([f"{builder.ctype(v.type)} l_{v.name} = {buf(v.name + suffix)}[idx];"
             for v in lr.vars] + [code.rstrip()]
            + [f"{buf(v.name + suffix)}[idx] = l_{v.name};" for v in lr.vars
               if v.access == "readwrite"])


def _learn_by_columns(builder, eid, syn, code) -> Kernel:
    """Per-synapse learning of a ragged group postsynaptic neuron by postsynaptic neuron, on
    the column-order copies of its variables (:func:`by_columns`)."""
    lr = syn.learning
    cap = builder.synapse_count(eid)
    buf = builder.buffer_of(eid)
    inner = [f"const int32_t i = {buf('colpre')}[c];",
             f"const {builder.scalar} zb = {buf(lr.pre_trace)}[(size_t)b * {syn.num_pre} + i];",
             f"const size_t idx = (size_t)b * {cap} + c;"]
    inner += _synapse_update(builder, eid, lr, code, "_col")
    # columns across the threads of a block (a column's synapses are consecutive in the
    # column-order copies, so neighbouring threads read neighbouring columns' runs)
    body = [ParallelFor("j", str(syn.num_post), [
        For("c", f"{buf('colstart')}[j + 1]", inner, start=f"{buf('colstart')}[j]")])]
    return Kernel(f"learn_{builder.stem(eid)}", (), (builder.dim_b(),), body,
                  doc=f"{lr.kind} learning of {eid}, by postsynaptic neuron",
                  label=f"learn:{eid}", gathers=True, parallel=True)

