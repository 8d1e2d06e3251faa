"""Neuron update kernels: postsynaptic models, sim code, threshold, reset and spike lists.

Requires: the :class:`~.builder.KernelBuilder` of a program (its buffer table, renderer and
literals) and the checked model code (:mod:`irsnn.ir.scopes`). Provides
:func:`update_kernel`, one kernel per neuron group (grid over batch elements): a spike-schedule
group copies its step's spikes; every other group runs its lanes (neurons) branch-free, then
walks the neurons that fired to append them to the spike list (and to reset them, where the
reset needs no per-lane values of the first loop).
"""

from __future__ import annotations

from irsnn.ir.scopes import check_neuron, check_psm
from irsnn.rng import stream_id

from .description import AppendFlagged, Barrier, Block, Dim, If, Kernel, ParallelFor, Single


def _rng(sites_out):
    """Renderers of the random-number functions of model code; ``sites_out`` collects the
    call sites (one draw counter each)."""
    def make(fn):
        def render(site):
            sites_out.add(site)
            return (f"irsnn_{fn}(irsnn_seed, stream_base + {site}u, rng_step, "
                    f"(uint32_t)idx, _draw{site}++)")
        return render
    return {f"gennrand_{fn}": make(fn) for fn in ("uniform", "normal", "exponential")}


def _scheduled(k, nid, pop) -> Kernel:
    """The update of a spike-schedule group: this step's spikes copied from the schedule
    (:data:`~irsnn.utils.model.SCHEDULE_EGPS`): no per-neuron work."""
    B, n, h = k.batch_size, pop.size, pop.spike_history
    buf = k.buffer_of(nid)
    offsets, spikes, window = (k.buffers.egp(nid, name) for name in
                               ("ScheduleOffsets", "ScheduleSpikes", "ScheduleWindow"))
    # underscored locals: fused kernels inline this body into their time loop (k, steps)
    copy = ["const size_t _at = (size_t)b * (size_t)_steps + (size_t)_step;",
            f"const uint32_t _first = {offsets}[_at];",
            f"cnt = (int32_t)({offsets}[_at + 1] - _first);",
            ParallelFor("_s", "cnt", [f"spk[_s] = (int32_t){spikes}[_first + (uint32_t)_s];"])]
    body = [f"const int32_t slot = (int32_t)(ts % {h});",
            f"GLOBAL int32_t *spk = {buf('spk')} + ((size_t)slot * {B} + b) * {n};",
            "int32_t cnt = 0;",
            f"const int64_t _step = ts - (int64_t){window}[0];",
            f"const int64_t _steps = (int64_t){window}[1];",
            If("_step >= 0 && _step < _steps", copy),
            Single([f"{buf('spkcnt')}[slot * {B} + b] = cnt;"])]
    return Kernel(f"update_{k.stem(nid)}", (), (Dim("b", B),), body,
                  doc=f"neuron update {nid} ({pop.model_name}: spike schedule)",
                  label=f"neuron:{nid}", parallel=True)


def update_kernel(k, nid, pop) -> Kernel:
    """The ``update`` kernel of neuron group ``nid`` (``k``: the :class:`~.KernelBuilder`)."""
    if pop.spike_schedule:
        return _scheduled(k, nid, pop)
    B, n, h = k.batch_size, pop.size, pop.spike_history
    buf = k.buffer_of(nid)
    checked = check_neuron(nid, pop, k.precision)
    sites: set[int] = set()
    rng = _rng(sites)
    table = {"t": "t", "dt": k.literal(k.dt, "scalar"), "id": "(uint32_t)i",
             "batch": "(uint32_t)b", "num_neurons": f"{n}u", "num_batch": f"{B}u",
             "Isyn": "Isyn"}
    table.update({p.name: k.literal(p.value, p.type) for p in pop.params})
    table.update({v.name: f"l_{v.name}" for v in pop.vars})
    table.update({e.name: f"{k.buffers.egp(nid, e.name)}" for e in pop.egps})
    table.update({name: f"l_add_{name}" for name, _, _ in pop.additional_input_vars})
    names = k.names(table)

    # Only what the code uses is loaded and only what it writes is stored (generated code
    # has no unused variables: CUDA's compiler warns about them)
    reset = checked.reset_code
    # The reset runs in the sparse second loop (only for neurons that fired) unless it
    # needs per-lane values of the first loop (locals of the sim code, Isyn, inputs)
    lane_only = {"Isyn"} | {a[0] for a in pop.additional_input_vars} | \
        set(checked.sim_code.locals if checked.sim_code is not None else ())
    deferred = reset is not None and not ((reset.reads | reset.writes) & lane_only)
    blocks = [c for c in vars(checked).values()
              if c is not None and not (deferred and c is reset)]
    reads = set().union(set(), *(c.reads for c in blocks))
    writes = set().union(set(), *(c.writes for c in blocks))
    psms = [(eid, syn) for eid, syn in k.synapses.items() if syn.target == nid]
    lane = [f"const size_t idx = (size_t)b * {n} + i;", "(void)idx;"]
    for v in pop.vars:
        if v.name in reads | writes:
            lane.append(f"{k.ctype(v.type)} l_{v.name} = "
                        f"{buf(v.name)}[{'idx' if v.batched else 'i'}];")
    if "Isyn" in reads or psms:
        lane.append(f"{k.scalar} Isyn = {k.literal(0.0, 'scalar')};")
    for name, typ, init in pop.additional_input_vars:
        lane.append(f"{k.ctype(typ)} l_add_{name} = "
                    f"{k.literal(init, typ)};")
    for eid, syn in psms:
        lane.append(_psm(k, eid, syn, pop, table))
    if psms and "Isyn" not in reads:
        lane.append("(void)Isyn;")

    neuron = []
    if checked.sim_code is not None:
        neuron.append(k.renderer.render_statements(checked.sim_code.tree, checked.sim_code, names,
                                               rng=rng, level=0).rstrip())
    if checked.threshold_code is not None:
        spike = k.renderer.render_expression(checked.threshold_code.tree,
                                         checked.threshold_code, names, rng=rng)
        neuron.append(f"const bool _spike = {spike};")
    fired = "_spike"
    if checked.negative_threshold_code is not None:
        neg = k.renderer.render_expression(checked.negative_threshold_code.tree,
                                       checked.negative_threshold_code, names, rng=rng)
        neuron.append(f"const bool _nspike = !_spike && ({neg});")
        fired = "_spike || _nspike"
    spiking = checked.threshold_code is not None
    signed = checked.negative_threshold_code is not None
    if spiking:
        if reset is not None and not deferred:
            neuron.append(If(fired, [k.renderer.render_statements(reset.tree, reset, names,
                                                              rng=rng).rstrip()]))
        # Flags first, spike list after: keeps the update loop free of the list append
        # so the compiler can vectorise it
        flag = "(int8_t)(_spike ? 1 : (_nspike ? -1 : 0))" if signed else "(int8_t)_spike"
        neuron.append(f"{buf('fired')}[idx] = {flag};")
    for v in pop.vars:
        if v.access == "readwrite" and v.name in writes:
            neuron.append(f"{buf(v.name)}[{'idx' if v.batched else 'i'}] = l_{v.name};")
    lane.append(Block(neuron, comment=f"{pop.model_name} '{pop.name}'"))
    # rng draw counters: one per call site, per lane and step (declared before use)
    draws = [f"uint32_t _draw{site} = 0;" for site in sorted(sites)]
    body = [f"const int32_t slot = (int32_t)(ts % {h});"]
    if spiking:
        body.append(f"GLOBAL int32_t *spk = {buf('spk')} + ((size_t)slot * {B} + b) * {n};")
    if signed:
        body.append(f"GLOBAL int8_t *sgn = {buf('spksign')} + ((size_t)slot * {B} + b) * {n};")
    if sites:
        body.append(f"const uint32_t stream_base = {stream_id(nid) & 0xFFFFFF00}u;")
    body += ["int32_t cnt = 0;", ParallelFor("i", str(n), draws + lane)]
    if spiking:
        on_spike = ["spk[cnt] = i;"] + (["sgn[cnt] = f;"] if signed else [])
        if deferred:
            reset_sites: set[int] = set()
            text = k.renderer.render_statements(reset.tree, reset, names,
                                            rng=_rng(reset_sites)).rstrip()
            written = [v for v in pop.vars if v.name in reset.writes]
            on_spike = ([f"const size_t idx = (size_t)b * {n} + i;"]
                        + [f"uint32_t _draw{site} = 0;" for site in sorted(reset_sites)]
                        + [f"{k.ctype(v.type)} l_{v.name} = "
                           f"{buf(v.name)}[{'idx' if v.batched else 'i'}];"
                           for v in pop.vars if v.name in reset.reads | reset.writes]
                        + [text]
                        + [f"{buf(v.name)}[{'idx' if v.batched else 'i'}] = l_{v.name};"
                           for v in written]
                        + on_spike)
            if reset_sites and not sites:
                body.insert(-2, f"const uint32_t stream_base = "
                                f"{stream_id(nid) & 0xFFFFFF00}u;")
        # every lane's flag is written before the spike list is made from them
        body += [Barrier(), AppendFlagged("i", n, f"{buf('fired')} + (size_t)b * {n}", "f",
                                          "cnt", on_spike)]
    body.append(Single([f"{buf('spkcnt')}[slot * {B} + b] = cnt;"]))
    return Kernel(f"update_{k.stem(nid)}", (), (Dim("b", B),), body,
                  doc=f"neuron update {nid} ({pop.model_name})", label=f"neuron:{nid}",
                  parallel=True)


def _psm(k, eid, syn, pop, neuron_table):
    checked = check_psm(syn, pop, k.precision)
    if checked is None:
        return Block([], comment=f"{syn.psm_name} {eid}: no code")
    table = {name: neuron_table[name] for name in ("t", "dt", "id", "batch", "num_neurons",
                                                   "num_batch", "Isyn")}
    table.update({name: f"l_add_{name}" for name, _, _ in pop.additional_input_vars})
    table.update({p.name: k.literal(p.value, p.type) for p in syn.psm_params})
    table.update({v.name: f"l_psm_{v.name}" for v in syn.psm_vars})
    table["inSyn"] = "l_inSyn"
    body = [f"{k.scalar} l_inSyn = {k.buffers[eid, 'insyn']}[idx];"]
    body += [f"{k.ctype(v.type)} l_psm_{v.name} = {k.buffers[eid, v.name]}[idx];"
             for v in syn.psm_vars]
    body.append(k.renderer.render_statements(
        checked.tree, checked, k.names(table),
        intrinsics={"injectCurrent": lambda args: f"Isyn += {args[0]}"}).rstrip())
    body.append(f"{k.buffers[eid, 'insyn']}[idx] = l_inSyn;")
    body += [f"{k.buffers[eid, v.name]}[idx] = l_psm_{v.name};" for v in syn.psm_vars
             if v.access == "readwrite"]
    return Block(body, comment=f"{syn.psm_name} {eid}")

