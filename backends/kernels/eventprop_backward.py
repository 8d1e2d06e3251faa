"""EventProp's backward pass at the end of an example (a kernel, grid ``(b,)``).

Requires: a :class:`~.builder.KernelBuilder` after :func:`.eventprop.declare_buffers` (its
``eventprop`` populations and ``eventprop_edges``), the layout strategies (dense and ragged
rows) and :mod:`.eventprop_losses`. Provides :func:`backward` (the kernel), :func:`lanes` (how
the batch is split into lanes of gradients), :func:`max_offset` (the steps a connection's
spikes take beyond one), :func:`gradients` (a trained connection's gradient variables) and
:data:`BACKWARD_LANES`, :data:`LANES`.

Backward pass, per batch element, ``t = T-1 .. 0`` (``T = ep_pos[b]``), in the model's
precision: the loss drive of every output is computed first (softmax cross-entropy of the
readout; ``avg_var_exp_weight`` applies its weight ``exp(-t / T) / T`` step by step) and the
spike-count regulariser's jump of every neuron of a hidden population that has one (from the
batch's spike counts); then, every step, ``D = kv LambdaV - ki LambdaI`` (``insert_eventprop.
arrival_coefficients``) of every population a LIF population's trained connections reach (the
downstream terms of spike jumps, from the values of step ``t+1``); for the spikes at ``t`` (the
tail of the event list), EventProp's jump (the neuron's outgoing weight rows dotted with the
targets' ``D``, in :data:`LANES` partial sums, plus the regulariser's); the plain update of
every neuron (a loop without branches), which the jumps then replace for the neurons that
spiked; and for every trained connection the spikes of step ``t-1`` (delivered at ``t``) add the
target's ``LambdaI`` row to the gradients. Each step costs ``O(neurons)`` (vectorisable) plus
``O(fan-out)`` per spike; memory is ``O(neurons x max_spikes)``, independent of the number of
steps. The batch is split into at most :data:`BACKWARD_LANES` lanes of consecutive elements, run
in parallel (the grid point ``b`` starting a lane runs its elements in ascending order); each
lane adds to its own copy of the gradients (``O(lanes x synapses)``, not ``O(batch x
synapses)``), which the reduce kernels then add to the connection's ``Gradient`` (one per
synapse for the batch, which the optimiser kernels of ``insert-optimiser`` read), lanes
ascending. With a batch of one the backward pass adds to ``Gradient`` itself. A connection
with learnt delays (dense, its ``d`` rounded by :meth:`.layouts.dense.Dense.delay`) also adds
``-dt w D`` of the target at each arrival to ``DelayGradient`` the same way (``D`` at the
arrival step itself from that step's adjoints, at later ones from the ring).

On the SIMT plan of one block per example (:mod:`.simt`), the backward pass runs across the
block: the per-neuron phases (initialisation, ``D``, the plain updates, the replacements by
the jumps, the rings) split the neurons over the threads, with barriers between dependent
phases; the event lists are walked by every thread alike (each counts the spikes of a step,
reading only), then the jumps run one spike per thread and the gradient rows of each spike one
synapse per thread (the spikes of a step are distinct neurons); the loss drives and the
per-step softmax run on one thread. C (and one thread per example) keeps the loops that visit
each event as they find it (:class:`~.description.ByPlan`). A block leads a lane or runs zero
rounds of its loop, and a row without an example runs zero steps: no barrier is under a
condition. The same arithmetic in the same order either way: the gradients agree bit for bit.
"""

from __future__ import annotations

from irsnn.passes.insert_eventprop import arrival_coefficients

from . import eventprop_losses as losses_k
from .description import Barrier, Block, ByPlan, For, If, Kernel, ParallelFor, Single
from .layouts.dense import Dense, learnt_delays

#: most lanes of the backward pass (each a sequence of batch elements with its own gradients)
BACKWARD_LANES = 4


def lanes(batch: int) -> tuple[int, int]:
    """``(lanes, batch elements per lane)`` of the backward pass: lane ``l`` runs elements
    ``l * chunk ..`` in order, on grid point ``l * chunk`` (so that targets splitting the
    batch into contiguous blocks, as C's static OpenMP schedule, give lanes to different
    threads)."""
    chunk = -(-batch // min(batch, BACKWARD_LANES))
    return -(-batch // chunk), chunk


def _base_offset(syn) -> int:
    """Steps a spike of ``syn`` takes beyond the one of every connection (uniform part)."""
    return syn.delay_steps - 1


def max_offset(syn) -> int:
    """The most steps a spike of ``syn`` takes beyond one (per-synapse delays included)."""
    return _base_offset(syn) + (syn.max_delay_steps if syn.heterogeneous_delay is not None
                                else 0)


def gradients(syn) -> tuple[str, ...]:
    """The gradient variables of a trained connection: its weights', then its learnt
    delays' (``delay_learn_conns``)."""
    lr = syn.learning
    return (lr.gradient,) + ((lr.delay_gradient,) if learnt_delays(syn) else ())


def _offset(builder, eid, syn) -> str:
    """Expression of the extra steps of synapse ``r`` of row ``i`` of ``eid``."""
    base = _base_offset(syn)
    if syn.heterogeneous_delay is None:
        return str(base)
    d = Dense.delay(builder, syn, f"{builder.buffers[eid, 'd']}[(size_t)i * {syn.num_post} + r]")
    return f"({base} + {d})"


def _at_arrival(builder, eid, syn, tgt, name, step) -> str:
    """``name`` (``D`` or ``LambdaI``) of the target of synapse ``r`` of row ``i`` of ``eid`` at
    its arrival, ``step`` plus the synapse's extra steps: the current value where no spike of
    the target's connections is delayed, else the ring of the last steps."""
    _, _, col = _rows(builder, eid, syn)
    if tgt.window == 1:
        buf = tgt.buf("D") if name == "D" else tgt.var("LambdaI")
        return f"{buf}[(size_t)b * {tgt.n} + {col}]"
    ring = tgt.buf("Dring" if name == "D" else "LIring")
    W = tgt.window
    return (f"{ring}[(size_t)b * {W * tgt.n} + (size_t)((({step}) + {_offset(builder, eid, syn)})"
            f" % {W}) * {tgt.n} + {col}]")


def _d_at_arrival(builder, eid, syn, tgt, col) -> str:
    """``D`` of the target of synapse ``r`` of row ``i`` at its arrival ``t`` plus the
    synapse's extra steps, in the gradient phase of step ``t`` (after the adjoints' update to
    ``t``): kept in the ring for later arrivals; at ``t`` itself (no extra step) from this
    step's adjoints, which the ring's slot does not hold yet."""
    kv, ki = (builder.literal(v) for v in arrival_coefficients(tgt.p, builder.dt))
    row = f"(size_t)b * {tgt.n} + {col}"
    now = f"(({kv} * {tgt.var('LambdaV')}[{row}]) - ({ki} * {tgt.var('LambdaI')}[{row}]))"
    if tgt.window == 1:
        return now
    offset = _offset(builder, eid, syn)
    return f"({offset} == 0 ? {now} : {_at_arrival(builder, eid, syn, tgt, 'D', 't')})"


def _rows(builder, eid, syn):
    """``(length expression, stride, column expression)`` of row ``i`` of ``eid``."""
    strategy, conn = builder.layout(eid)
    length, L = strategy.row_extent(builder.buffers, eid, syn, conn)
    return length, L, strategy.target(builder.buffers, eid, syn, conn)


def backward(builder) -> Kernel:
    """The backward pass: one kernel, grid ``(b,)``, written for a block of threads per grid
    point (:attr:`~.description.Kernel.parallel`): the per-neuron phases of a step are
    :class:`~.description.ParallelFor` loops; the event-list walks (jumps, gradients) are
    :class:`~.description.ByPlan`: on one thread the loop that visits each event as it finds
    it (C's source as before), on a block every thread counts the step's events (the same
    count everywhere), then the jumps run one spike per thread and the gradient rows of a
    spike one synapse per thread (the spikes of a step are distinct neurons: their jumps and
    rows touch distinct elements). Barriers separate the phases; none is under a condition
    (inactive rows and non-leading lane elements run loops of zero rounds instead)."""
    sc, zero = builder.scalar, builder.literal(0.0)
    pops = builder.eventprop
    adj = {nid: p for nid, p in pops.items() if p.adjoint}
    edges = builder.eventprop_edges
    lits = lambda p: {k: builder.literal(v) for k, v in p.p.items()}  # noqa: E731
    losses = {loss.source: lid for lid, loss in builder.losses.items() if loss.source in pops}
    active = builder.buffers[next(iter(losses.values())), "active"]
    pos = builder.buffers["", "ep_pos"]
    names = {nid: f"_{k}" for k, nid in enumerate(pops)}
    sources = {syn.source for syn in edges.values()}
    init = []
    for nid, p in pops.items():
        x, base = names[nid], f"(size_t)b * {p.n * p.m}"
        if p.lif and p.adjoint:   # the next spike (backward) whose jump is due
            init.append(f"int32_t pj{x} = {p.buf('nev')}[b] - 1;")
        if p.node.readout == "first_spike_time":
            init.append(ParallelFor("j", str(p.n), [
                f"{p.buf('rem')}[(size_t)b * {p.n} + j] = "
                f"{p.buf('count')}[(size_t)b * {p.n} + j];"]))
        if nid in sources:        # the next spike (backward) to deliver: before T-1
            init += [f"int32_t pg{x} = {p.buf('nev')}[b] - 1;",
                     For("z", str(p.n), [
                         If(f"pg{x} < 0 || {p.buf('ev_step')}[{base} + pg{x}] < T - 1",
                            ["break;"]), f"pg{x} -= 1;"])]
        if p.adjoint:
            row = f"(size_t)b * {p.n} + j"
            init.append(ParallelFor("j", str(p.n), [f"{p.var('LambdaV')}[{row}] = {zero};",
                                                    f"{p.var('LambdaI')}[{row}] = {zero};"]))
        if p.reg:
            init.append(losses_k.regulariser(builder, p))
        if p.window > 1:    # (steps from T on: zero adjoints)
            init.append(ParallelFor("j", str(p.window * p.n), [
                f"{p.buf(v)}[(size_t)b * {p.window * p.n} + j] = {zero};"
                for v in ("Dring", "LIring")]))
    drives = []
    for nid, lid in losses.items():
        drives += losses_k.loss_drive(builder, pops[nid], lid)
    softmax = [losses_k.step_softmax(builder, p, losses[nid]) for nid, p in pops.items()
               if p.node.per_timestep and p.node.loss != "mean_square_error"]
    step = [ByPlan(softmax, [Single(softmax), Barrier()])] if softmax else []
    if any(p.node.readout == "avg_var_exp_weight" for p in pops.values()):
        # the readout's weight of step t: exp(-t dt / (T dt)) / T
        sT, st, dt = f"({sc})T", f"({sc})t", builder.literal(builder.dt)
        step.append(f"const {sc} wexp = {builder.fn('exp')}(-({st} * {dt}) / ({sT} * {dt})) "
                    f"/ {sT};")
    # D of every population that a LIF population's trained connections reach
    # (in the populations' order: a set's order changes with the hash seed, and the source
    # with it, which missed the compiled-kernel caches of other processes)
    # (and every target of learnt delays, whose gradient is -dt w D at each arrival)
    targets = [nid for nid in pops if any(
        syn.target == nid and (pops[syn.source].lif or learnt_delays(syn))
        for syn in edges.values())]
    for nid in targets:
        p = pops[nid]
        kv, ki = (builder.literal(v) for v in arrival_coefficients(p.p, builder.dt))
        row = f"(size_t)b * {p.n} + j"
        keep = ([f"{p.buf('Dring')}[(size_t)b * {p.window * p.n} + (size_t)((t + 1) % "
                 f"{p.window}) * {p.n} + j] = {p.buf('D')}[{row}];"] if p.window > 1 else [])
        step.append(ParallelFor("j", str(p.n), [
            f"{p.buf('D')}[{row}] = ({kv} * {p.var('LambdaV')}[{row}]) - "
            f"({ki} * {p.var('LambdaI')}[{row}]);"] + keep))
    step.append(ByPlan([], [Barrier()]))     # (every thread's D before the jumps)
    for nid, p in adj.items():
        q, x = lits(p), names[nid]
        n, base = p.n, f"(size_t)b * {p.n * p.m}"
        row = f"(size_t)b * {n} + j"
        lv, li = f"{p.var('LambdaV')}[{row}]", f"{p.var('LambdaI')}[{row}]"
        jumps = []
        if p.lif:
            # the jumps of the spikes at t, from the values of t+1 (before the plain update)
            done = If(f"pj{x} - z < 0 || {p.buf('ev_step')}[{base} + pj{x} - z] != t",
                      ["break;"])
            jump = [f"const int32_t e = pj{x} - z;",
                    f"const int32_t j = {p.buf('ev_id')}[{base} + e];",
                    f"{sc} down = {zero};"]
            if p.node.readout == "first_spike_time":   # -dL/dt of a first spike
                rem = f"{p.buf('rem')}[(size_t)b * {n} + j]"
                jump += [f"{rem} -= 1;",
                         If(f"{rem} == 0", [f"down = down - {p.var('Drive')}[{row}];"])]
            for eid, syn in edges.items():
                if syn.source != nid:
                    continue
                length, L, col = _rows(builder, eid, syn)
                tgt = pops[syn.target]
                w = builder.buffers[eid, "g"]
                term = (f"{w}[(size_t)i * {L} + r] * "
                        f"{_at_arrival(builder, eid, syn, tgt, 'D', 't + 1')}")
                jump.append(Block(["const int32_t i = j;", f"const int32_t len = {length};"]
                                  + _dot(builder, "down", term)))
            reg = f" + {p.buf('reg')}[(size_t)b * {n} + j]" if p.reg else ""
            jump += [f"const {sc} imv = {p.buf('ev_imv')}[{base} + e];",
                     f"{p.buf('jv')}[(size_t)b * {n} + z] = "
                     f"((({q['Alpha']} * {lv}) * ({p.buf('ev_imvr')}[{base} + e] / imv)) + "
                     f"(({q['TauM']} * down) / imv)){reg};",
                     f"{p.buf('jli')}[(size_t)b * {n} + z] = {li};"]
            step += [f"int32_t nj{x} = 0;"]
            jumps = [ByPlan(
                [Block(["int32_t nj = 0;", For("z", str(n), [done] + jump + ["nj += 1;"]),
                        f"nj{x} = nj;"])],
                # every thread counts the spikes at t, then one jump per thread
                [For("z", str(n), [done, f"nj{x} += 1;"]),
                 ParallelFor("z", f"nj{x}", jump), Barrier()])]
        body = [f"{sc} nv = {q['Alpha']} * {lv};"]
        if p.node.kind == "output" and p.node.readout == "first_spike_time":
            if p.node.loss == "sparse_categorical_crossentropy":   # the phantom push
                body.append(f"nv = nv + (t == T - 1 ? {p.buf('imp')}[{row}] : {zero});")
        elif p.node.kind == "output":
            if p.node.readout == "max_var" and not p.node.per_timestep:
                body.append(f"nv = nv + ({p.buf('vmaxat')}[{row}] == t ? "
                            f"{p.var('Drive')}[{row}] : {zero});")
            elif p.node.readout == "avg_var_exp_weight":
                body.append(f"nv = nv + ({p.var('Drive')}[{row}] * wexp);")
            elif p.node.loss == "mean_square_error":
                body.append(f"nv = nv + {losses_k.mse_drive(builder, p, losses[nid])};")
            elif p.node.per_timestep:   # cross-entropy at every step
                body.append(f"nv = nv + {p.buf('ptd')}[{row}];")
            else:
                body.append(f"nv = nv + {p.var('Drive')}[{row}];")
        body += [f"{lv} = nv;", f"{li} = ({q['Beta']} * {li}) + ({q['K']} * nv);"]
        step += jumps + [ParallelFor("j", str(n), body)]
        if p.lif:   # the jumps replace the plain update of the neurons that spiked at t
            step.append(ParallelFor("z", f"nj{x}", [
                f"const int32_t j = {p.buf('ev_id')}[{base} + pj{x} - z];",
                f"const {sc} nv = {p.buf('jv')}[(size_t)b * {n} + z];",
                f"{lv} = nv;",
                f"{li} = ({q['Beta']} * {p.buf('jli')}[(size_t)b * {n} + z]) + "
                f"({q['K']} * nv);"]))
            step.append(f"pj{x} -= nj{x};")
    # LambdaI of step t kept for the spikes that arrive there late
    for p in adj.values():
        if p.window > 1:
            step.append(ParallelFor("j", str(p.n), [
                f"{p.buf('LIring')}[(size_t)b * {p.window * p.n} + (size_t)(t % {p.window}) * "
                f"{p.n} + j] = {p.var('LambdaI')}[(size_t)b * {p.n} + j];"]))
    # spikes of step t-1 (delivered at t, or later by their delays) add the targets' LambdaI
    # at their arrivals to the gradients
    grad, rows = [], [Barrier()]
    for nid, p in pops.items():
        mine = [(eid, syn) for eid, syn in edges.items() if syn.source == nid]
        if not mine:
            continue
        x, base = names[nid], f"(size_t)b * {p.n * p.m}"
        adds = []
        for eid, syn in mine:
            length, L, col = _rows(builder, eid, syn)
            tgt = pops[syn.target]
            lane = {name: (f"{builder.buffers[eid, name + 'Lane']}"
                           f"[(size_t)lane * {builder.synapse_count(eid)} + "
                           if builder.batch_size > 1 else   # batch 1: the gradient itself
                           f"{builder.buffers[eid, name]}[")
                    for name in gradients(syn)}
            each = [f"{lane[syn.learning.gradient]}(size_t)i * {L} + r] += "
                    f"{_at_arrival(builder, eid, syn, tgt, 'LambdaI', 't')};"]
            if learnt_delays(syn):   # dL/dd: -dt w D of the target at the arrival
                w = builder.buffers[eid, "g"]
                each.append(f"{lane[syn.learning.delay_gradient]}(size_t)i * {L} + r] += "
                            f"({builder.literal(-builder.dt)} * {w}[(size_t)i * {L} + r]) * "
                            f"{_d_at_arrival(builder, eid, syn, tgt, col)};")
            adds.append(Block([f"const int32_t len = {length};",
                               ParallelFor("r", "len", each)]))
        grad.append(For("z", str(p.n), [
            If(f"pg{x} < 0 || {p.buf('ev_step')}[{base} + pg{x}] != t - 1", ["break;"]),
            f"const int32_t i = {p.buf('ev_id')}[{base} + pg{x}];"] + adds + [f"pg{x} -= 1;"]))
        # every thread counts the spikes of t-1, then each spike's rows one synapse per thread
        # (the spikes are distinct neurons: distinct rows)
        rows += [f"int32_t ng{x} = 0;", If("t >= 1", [For("z", str(p.n), [
                     If(f"pg{x} - z < 0 || {p.buf('ev_step')}[{base} + pg{x} - z] != t - 1",
                        ["break;"]), f"ng{x} += 1;"])]),
                 For("z", f"ng{x}", [f"const int32_t i = {p.buf('ev_id')}[{base} + pg{x} - z];"]
                     + adds),
                 f"pg{x} -= ng{x};"]
    if grad:
        step.append(ByPlan([If("t >= 1", grad)], rows))
    loop = "T"
    example = [f"const int32_t T = {pos}[b];"]
    serial = [If(f"T > 0 && {active}[b]", init + drives + [For("q", loop, [
        "const int32_t t = T - 1 - q;"] + step)], _clear(adj, zero))]
    # a block: no barrier under a condition, so the initialisation runs for every row (its
    # writes are the clearing of a row without an example, or scratch), the drives are one
    # thread's, and a row without an example runs zero steps (its count without a branch:
    # PoCL 3.1 ran no step of a lane's loop when it was 'T > 0 && active[b] ? T : 0')
    outputs = {nid: p for nid, p in adj.items() if p.node.kind == "output"}
    block = ([f"const int32_t TT = ((T > 0) & ({active}[b] != 0)) ? T : 0;", Barrier()] + init
             + [Single([If("TT > 0", drives, _clear(outputs, zero, ("Drive",)))]), Barrier(),
                For("q", "TT", ["const int32_t t = T - 1 - q;", Barrier()] + step), Barrier()])
    example.append(ByPlan(serial, block))
    # lanes of consecutive batch elements, each lane adding to its own gradients
    _, chunk = lanes(builder.batch_size)
    B = builder.batch_size
    last = f"(b + {chunk} < {B} ? b + {chunk} : {B})"
    lane = [f"const int32_t lane = b / {chunk};", "(void)lane;"]
    each = lambda last: For("bb", last, [Block(["const int32_t b = bb;"] + example)],  # noqa
                            start="b")
    body = [ByPlan([If(f"b % {chunk} == 0", lane + [each(last)])],
                   # (a block leading no lane runs zero rounds: no barrier under a condition)
                   lane + [each(f"(b % {chunk} == 0 ? {last} : b)")])]
    return Kernel("eventprop_backward", (), (builder.dim_b(),), body,
                  doc="EventProp: the backward pass of the example just ended",
                  label="backward:eventprop", parallel=True)


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


def _clear(adj, zero, only=None):
    """Adjoints (and drives) of a row without an example: zero (``only``: those variables)."""
    out = []
    for p in adj.values():
        row = f"(size_t)b * {p.n} + j"
        names = ["LambdaV", "LambdaI"] + (["Drive"] if p.node.kind == "output" else [])
        names = [v for v in names if only is None or v in only]
        out.append(For("j", str(p.n), [f"{p.var(v)}[{row}] = {zero};" for v in names]))
    return out


__all__ = ["BACKWARD_LANES", "LANES", "backward", "gradients", "lanes", "max_offset"]
