"""Kernel builder: a scheduled IR -> a dialect-neutral :class:`~.description.Program`.

Per timestep, in GeNN's order (the same as the reference backend, so results are bit-identical
wherever the arithmetic is): one ``propagate`` kernel per synapse group (event-driven: only the
presynaptic neurons that spiked ``delay_steps`` ago do work, adding their weight rows to
``inSyn`` in ascending neuron order), one ``update`` kernel per neuron group (postsynaptic models
-> ``Isyn``, sim code, threshold, reset, spike list), then ``record``. Grids are over batch
elements, which are independent.
"""

from __future__ import annotations

import numpy as np

from irsnn.ir import RecorderNode, edge_id
from irsnn.ir.scopes import check_neuron, check_psm
from irsnn.lang.render_c import C99, CStyleRenderer
from irsnn.rng import PHILOX_C_SOURCE

from ..host_init import (bitmask, bitmask_words, ragged, ragged_capacity, stream_id,
                         synapse_mask)
from . import learning, optimiser
from .description import (AddSetBits, Block, Buffer, Dim, For, ForFlagged, If, Kernel, Prefetch,
                          Program)

def concrete(type_name: str, precision: str) -> str:
    """Concrete language type (``scalar`` -> precision; ``unsigned``/``uint32_t`` spelled)."""
    from irsnn.lang.types import resolve_type
    return resolve_type(type_name, precision)


def ctype(type_name: str, precision: str) -> str:
    from irsnn.lang.types import TYPES
    return TYPES[concrete(type_name, precision)].c_name


def literal(value, type_name: str, precision: str) -> str:
    """An exact literal of ``value`` converted to the type (as NumPy converts it)."""
    t = concrete(type_name, precision)
    if t == "float":
        f = float(np.float32(value))
        return "INFINITY" if f == np.inf else "(-INFINITY)" if f == -np.inf else f"{f!r}f"
    if t == "double":
        return repr(float(value))
    if t == "bool":
        return "true" if value else "false"
    if t == "unsigned int":
        return f"{int(value)}u"
    return f"({int(value)})"


class KernelBuilder:
    """Build the kernels of a scheduled IR graph.

    Parameters
    ----------
    graph : IRGraph
        After ``insert-recording`` (the full inference pipeline).
    renderer : CStyleRenderer
        Renders model code for the target dialect (C99 for the C backend).
    """

    def __init__(self, graph, renderer: CStyleRenderer | None = None, seed: int = 0):
        self.g = graph
        self.seed = int(seed)
        self.r = renderer or CStyleRenderer(C99)
        self.B = int(graph.attrs["batch_size"])
        self.dt = float(graph.attrs["dt"])
        self.precision = graph.attrs.get("precision", "float")
        self.scalar = ctype("scalar", self.precision)
        self.pops = {nid: (f"g{k}", p) for k, (nid, p) in enumerate(graph.populations())}
        self.syns = {}
        #: ragged groups: edge id -> (row lengths, indices (num_pre, max_row)) as drawn
        self.rows: dict[str, tuple] = {}
        #: bitmask groups: edge id -> (num_pre, words) uint32 connectivity bits as drawn
        self.bitmasks: dict[str, np.ndarray] = {}
        for m, (u, v, k, syn) in enumerate(graph.synapses()):
            eid = edge_id(u, v, k)
            self.syns[eid] = (f"s{m}", syn)
            if syn.layout == "ragged":
                mask = synapse_mask(graph, eid, syn, self.seed)
                row_length, ind, _ = ragged(np.zeros((syn.num_pre, syn.num_post), np.float32),
                                            mask, capacity=ragged_capacity(syn, mask))
                self.rows[eid] = (row_length, ind)
            elif syn.layout == "bitmask":
                mask = synapse_mask(graph, eid, syn, self.seed)
                self.bitmasks[eid] = bitmask(np.ones((syn.num_pre, syn.num_post), bool)
                                             if mask is None else mask)
        self.program = Program(helpers=PHILOX_C_SOURCE)
        self.losses: dict = {}
        #: buffer name -> side-table key of constant arrays (e.g. random feedback matrices)
        self.constant_buffers: dict[str, str] = {}
        #: buffer name -> initial contents computed here (e.g. synapse existence masks)
        self.host_arrays: dict[str, np.ndarray] = {}

    # -- helpers shared with the learning kernels ------------------------------------------------
    def literal(self, value, type_name="scalar"):
        return literal(value, type_name, self.precision)

    def ctype(self, type_name):
        return ctype(type_name, self.precision)

    def dim_b(self):
        return Dim("b", self.B)

    def max_row(self, eid) -> int:
        """Row capacity of a ragged group (its longest row, at least 1)."""
        return int(self.rows[eid][1].shape[1])

    def synapse_count(self, eid) -> int:
        """Stored weights (per batch element) of a group in its layout: none for procedural
        groups, one for a bitmask group with a constant weight."""
        syn = self.syns[eid][1]
        if syn.layout == "one_to_one":
            return syn.num_post
        if syn.layout == "ragged":
            return syn.num_pre * self.max_row(eid)
        if syn.layout == "procedural":
            return 0
        if syn.layout == "bitmask" and syn.weight.kind == "constant":
            return 1
        return syn.num_pre * syn.num_post

    def fn(self, name, type_name="scalar"):
        """The target's name of math function ``name`` for arguments of ``type_name``."""
        from irsnn.lang.types import resolve_type
        return self.r.dialect.function_name(name, resolve_type(type_name, self.precision))

    # -- buffers -------------------------------------------------------------------------------
    def _buffer(self, name, ct, size, role="state"):
        self.program.buffers.append(Buffer(name, ct, int(size), role))
        return name

    def _declare_buffers(self):
        B = self.B
        for g, pop in self.pops.values():
            n, h = pop.size, pop.spike_history
            for v in pop.vars:
                self._buffer(f"{g}_{v.name}", ctype(v.type, self.precision),
                             B * n if v.batched else n)
            self._buffer(f"{g}_spk", "int32_t", h * B * n)
            if pop.threshold_code.strip():
                self._buffer(f"{g}_fired", "int8_t", B * n)
            self._buffer(f"{g}_spkcnt", "int32_t", h * B)
            if pop.negative_threshold_code.strip():
                self._buffer(f"{g}_spksign", "int8_t", h * B * n)
            for e in pop.egps:
                self.program.egps.append(Buffer(f"{g}_egp_{e.name}",
                                                ctype(e.type.rstrip("*").strip(),
                                                      self.precision), 0, "egp"))
        for eid, (s, syn) in self.syns.items():
            wsize = self.synapse_count(eid)
            if wsize:
                self._buffer(f"{s}_g", self.scalar, wsize)
            if syn.layout == "ragged":
                self._buffer(f"{s}_rowlen", "int32_t", syn.num_pre)
                self._buffer(f"{s}_ind", "int32_t", wsize)
            if syn.layout == "bitmask":
                self._buffer(f"{s}_bits", "uint32_t", self.bitmasks[eid].size)
            if syn.heterogeneous_delay is not None:
                self._buffer(f"{s}_d", "int32_t", wsize)
                self._buffer(f"{s}_den", self.scalar,
                             (syn.max_delay_steps + 1) * B * syn.num_post)
            self._buffer(f"{s}_insyn", self.scalar, B * syn.num_post)
            for v in syn.psm_vars:
                self._buffer(f"{s}_{v.name}", ctype(v.type, self.precision), B * syn.num_post)

    # -- propagation ---------------------------------------------------------------------------
    def _propagate(self, eid, s, syn) -> Kernel:
        pg, pre = self.pops[syn.source]
        B, n_pre, n_post, h = self.B, syn.num_pre, syn.num_post, pre.spike_history
        signed = bool(pre.negative_threshold_code.strip())
        sign = " * (float)sgn[s]" if signed else ""
        body = [f"const int32_t slot = (int32_t)(((ts - {syn.delay_steps}) % {h} + {h}) % {h});",
                f"const int32_t cnt = {pg}_spkcnt[slot * {B} + b];",
                f"GLOBAL const int32_t *spk = {pg}_spk + ((size_t)slot * {B} + b) * {n_pre};"]
        if signed:
            body.append(f"GLOBAL const int8_t *sgn = {pg}_spksign + "
                        f"((size_t)slot * {B} + b) * {n_pre};")
        body.append(f"GLOBAL {self.scalar} *insyn = {s}_insyn + (size_t)b * {n_post};")
        if syn.layout == "one_to_one":
            row = [f"insyn[i] += {s}_g[i]{sign};"]
        elif syn.layout == "ragged":
            M = self.max_row(eid)
            row = [f"GLOBAL const {self.scalar} *w = {s}_g + (size_t)i * {M};",
                   f"GLOBAL const int32_t *ind = {s}_ind + (size_t)i * {M};",
                   If("s + 1 < cnt", [Prefetch(f"{s}_g + (size_t)spk[s + 1] * {M}", M),
                                      Prefetch(f"{s}_ind + (size_t)spk[s + 1] * {M}", M)]),
                   For("r", f"{s}_rowlen[i]", [f"insyn[ind[r]] += w[r]{sign};"])]
        elif syn.layout in ("bitmask", "procedural"):
            row = self._bit_row(eid, s, syn, body, sign)
        elif syn.heterogeneous_delay is None:
            # Rows of big matrices come from the last-level cache: fetch the next spike's row
            # while adding this one
            row = [f"GLOBAL const {self.scalar} *w = {s}_g + (size_t)i * {n_post};",
                   If("s + 1 < cnt", [Prefetch(f"{s}_g + (size_t)spk[s + 1] * {n_post}",
                                               n_post)]),
                   For("j", str(n_post), [f"insyn[j] += w[j]{sign};"])]
        else:
            L = syn.max_delay_steps + 1
            body.append(f"const int32_t here = (int32_t)(ts % {L});")
            row = [f"GLOBAL const {self.scalar} *w = {s}_g + (size_t)i * {n_post};",
                   f"GLOBAL const int32_t *d = {s}_d + (size_t)i * {n_post};",
                   For("j", str(n_post), [
                       f"{s}_den[((size_t)((here + d[j]) % {L}) * {B} + b) * {n_post} + j] "
                       f"+= w[j]{sign};"])]
        body.append(For("s", "cnt", ["const int32_t i = spk[s];"] + row))
        if syn.learning is not None:
            body += learning.trace_statements(self, s, syn, signed)
        if syn.heterogeneous_delay is not None:
            cell = f"{s}_den[((size_t)here * {B} + b) * {n_post} + j]"
            body.append(For("j", str(n_post), [f"insyn[j] += {cell};", f"{cell} = 0;"]))
        return Kernel(f"propagate_{s}", (), (Dim("b", B),), body,
                      doc=f"spike propagation {eid} ({syn.connectivity}/{syn.layout})",
                      label=f"propagate:{eid}")

    def _bit_row(self, eid, s, syn, body, sign) -> list:
        """Statements adding the row of presynaptic neuron ``i`` of a bitmask or procedural
        group, 32 postsynaptic neurons per word, set bits in ascending ``j`` (as the reference's
        dense row). A bitmask group reads its words; a procedural one draws them from the
        counter-based RNG exactly as :func:`~backends.host_init.connectivity_mask` (and its
        weights as :func:`~backends.host_init.initial_values`) does on the host."""
        n_post, W = syn.num_post, bitmask_words(syn.num_post)
        flat = "base + (uint32_t)j"
        lanes = True
        if syn.layout == "procedural":
            value = self._procedural_weight(eid, syn, flat)
            lanes = syn.weight.kind == "constant"
            row = [f"const uint32_t base = (uint32_t)i * {n_post}u;"]
            # Draws of one word are independent (a loop the compiler can vectorise)
            word = ["uint32_t word = 0u;",
                    For("k", "32", [
                        f"word |= (uint32_t)(irsnn_uniform(irsnn_seed, "
                        f"{stream_id(f'{eid}/connectivity')}u, 0u, "
                        f"base + (uint32_t)(q * 32 + k), 0u) < "
                        f"{literal(np.float32(syn.p), 'float', self.precision)}) << k;"])]
            if n_post % 32:
                word.append(If(f"q == {W - 1}", [f"word &= {(1 << (n_post % 32)) - 1}u;"]))
            if syn.source == syn.target and not syn.allow_self_connections:
                word.append(If("q == (i >> 5)", ["word &= ~(1u << (i & 31));"]))
        else:
            if syn.weight.kind == "constant":
                body.append(f"const {self.scalar} w = {s}_g[0];")
                value = "w"
                row = []
            else:
                value = "w[j]"
                row = [f"GLOBAL const {self.scalar} *w = {s}_g + (size_t)i * {n_post};"]
            row.append(f"GLOBAL const uint32_t *bits = {s}_bits + (size_t)i * {W};")
            word = ["uint32_t word = bits[q];"]
        extent = "32" if n_post % 32 == 0 else f"(q == {W - 1} ? {n_post % 32} : 32)"
        return row + [For("q", str(W), word + [AddSetBits(
            "word", "q * 32", extent, "insyn[j]", f"{value}{sign}", self.literal(0.0), lanes)])]

    def _procedural_weight(self, eid, syn, flat) -> str:
        """The weight of synapse ``(i, j)`` (flat index ``flat``) of a procedural group: its
        constant, or its draw of ``initial_values`` (stream ``<edge id>/g``, counter
        ``(i * num_post + j, 0)``, arithmetic in double then rounded, as NumPy does)."""
        init = syn.weight
        if init.kind == "constant":
            return self.literal(init.value)
        params = dict(init.params)
        call = f"irsnn_{init.kind}(irsnn_seed, {stream_id(f'{eid}/g')}u, 0u, {flat}, 0u)"
        if init.kind == "normal":
            offset, scale = float(params["mean"]), float(params["sd"])
        else:
            offset, scale = float(params["min"]), float(params["max"]) - float(params["min"])
        return f"({self.scalar})({offset!r} + (double){call} * ({scale!r}))"

    # -- neuron update -------------------------------------------------------------------------
    def _names(self, table):
        def names(sym):
            try:
                return table[sym.name]
            except KeyError:
                raise KeyError(f"kernel builder has no C name for '{sym.name}' "
                               f"({sym.kind})") from None
        return names

    def _rng(self, sites_out):
        def make(fn):
            def render(site):
                sites_out.add(site)
                return (f"irsnn_{fn}(irsnn_seed, stream_base + {site}u, rng_step, "
                        f"(uint32_t)idx, _draw{site}++)")
            return render
        return {f"gennrand_{fn}": make(fn) for fn in ("uniform", "normal", "exponential")}

    def _scheduled(self, nid, g, pop) -> Kernel:
        """The update of a spike-schedule group: this step's spikes copied from the schedule
        (:data:`~irsnn.utils.model.SCHEDULE_EGPS`): no per-neuron work."""
        B, n, h = self.B, pop.size, pop.spike_history
        e = f"{g}_egp_"
        # underscored locals: fused kernels inline this body into their time loop (k, steps)
        copy = ["const size_t _at = (size_t)b * (size_t)_steps + (size_t)_step;",
                f"const uint32_t _first = {e}ScheduleOffsets[_at];",
                f"cnt = (int32_t)({e}ScheduleOffsets[_at + 1] - _first);",
                For("_s", "cnt", [f"spk[_s] = (int32_t){e}ScheduleSpikes[_first + (uint32_t)_s];"])]
        body = [f"const int32_t slot = (int32_t)(ts % {h});",
                f"GLOBAL int32_t *spk = {g}_spk + ((size_t)slot * {B} + b) * {n};",
                "int32_t cnt = 0;",
                f"const int64_t _step = ts - (int64_t){e}ScheduleWindow[0];",
                f"const int64_t _steps = (int64_t){e}ScheduleWindow[1];",
                If("_step >= 0 && _step < _steps", copy),
                f"{g}_spkcnt[slot * {B} + b] = cnt;"]
        return Kernel(f"update_{g}", (), (Dim("b", B),), body,
                      doc=f"neuron update {nid} ({pop.model_name}: spike schedule)",
                      label=f"neuron:{nid}")

    def _update(self, nid, g, pop) -> Kernel:
        if pop.spike_schedule:
            return self._scheduled(nid, g, pop)
        B, n, h = self.B, pop.size, pop.spike_history
        checked = check_neuron(nid, pop, self.precision)
        sites: set[int] = set()
        rng = self._rng(sites)
        table = {"t": "t", "dt": literal(self.dt, "scalar", self.precision), "id": "(uint32_t)i",
                 "batch": "(uint32_t)b", "num_neurons": f"{n}u", "num_batch": f"{B}u",
                 "Isyn": "Isyn"}
        table.update({p.name: literal(p.value, p.type, self.precision) for p in pop.params})
        table.update({v.name: f"l_{v.name}" for v in pop.vars})
        table.update({e.name: f"{g}_egp_{e.name}" for e in pop.egps})
        table.update({name: f"l_add_{name}" for name, _, _ in pop.additional_input_vars})
        names = self._names(table)

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
        psms = [(eid, s, syn) for eid, (s, syn) in self.syns.items() if syn.target == nid]
        lane = [f"const size_t idx = (size_t)b * {n} + i;", "(void)idx;"]
        for v in pop.vars:
            if v.name in reads | writes:
                lane.append(f"{ctype(v.type, self.precision)} l_{v.name} = "
                            f"{g}_{v.name}[{'idx' if v.batched else 'i'}];")
        if "Isyn" in reads or psms:
            lane.append(f"{self.scalar} Isyn = {literal(0.0, 'scalar', self.precision)};")
        for name, typ, init in pop.additional_input_vars:
            lane.append(f"{ctype(typ, self.precision)} l_add_{name} = "
                        f"{literal(init, typ, self.precision)};")
        for eid, s, syn in psms:
            lane.append(self._psm(eid, s, syn, pop, table))
        if psms and "Isyn" not in reads:
            lane.append("(void)Isyn;")

        neuron = []
        if checked.sim_code is not None:
            neuron.append(self.r.render_statements(checked.sim_code.tree, checked.sim_code, names,
                                                   rng=rng, level=0).rstrip())
        if checked.threshold_code is not None:
            spike = self.r.render_expression(checked.threshold_code.tree,
                                             checked.threshold_code, names, rng=rng)
            neuron.append(f"const bool _spike = {spike};")
        fired = "_spike"
        if checked.negative_threshold_code is not None:
            neg = self.r.render_expression(checked.negative_threshold_code.tree,
                                           checked.negative_threshold_code, names, rng=rng)
            neuron.append(f"const bool _nspike = !_spike && ({neg});")
            fired = "_spike || _nspike"
        spiking = checked.threshold_code is not None
        signed = checked.negative_threshold_code is not None
        if spiking:
            if reset is not None and not deferred:
                neuron.append(If(fired, [self.r.render_statements(reset.tree, reset, names,
                                                                  rng=rng).rstrip()]))
            # Flags first, spike list after: keeps the update loop free of the list append
            # so the compiler can vectorise it
            flag = "(int8_t)(_spike ? 1 : (_nspike ? -1 : 0))" if signed else "(int8_t)_spike"
            neuron.append(f"{g}_fired[idx] = {flag};")
        for v in pop.vars:
            if v.access == "readwrite" and v.name in writes:
                neuron.append(f"{g}_{v.name}[{'idx' if v.batched else 'i'}] = l_{v.name};")
        lane.append(Block(neuron, comment=f"{pop.model_name} '{pop.name}'"))
        # rng draw counters: one per call site, per lane and step (declared before use)
        draws = [f"uint32_t _draw{site} = 0;" for site in sorted(sites)]
        body = [f"const int32_t slot = (int32_t)(ts % {h});"]
        if spiking:
            body.append(f"GLOBAL int32_t *spk = {g}_spk + ((size_t)slot * {B} + b) * {n};")
        if signed:
            body.append(f"GLOBAL int8_t *sgn = {g}_spksign + ((size_t)slot * {B} + b) * {n};")
        if sites:
            body.append(f"const uint32_t stream_base = {stream_id(nid) & 0xFFFFFF00}u;")
        body += ["int32_t cnt = 0;", For("i", str(n), draws + lane)]
        if spiking:
            on_spike = ["spk[cnt] = i;"] + (["sgn[cnt] = f;"] if signed else []) + ["cnt++;"]
            if deferred:
                reset_sites: set[int] = set()
                text = self.r.render_statements(reset.tree, reset, names,
                                                rng=self._rng(reset_sites)).rstrip()
                written = [v for v in pop.vars if v.name in reset.writes]
                on_spike = ([f"const size_t idx = (size_t)b * {n} + i;"]
                            + [f"uint32_t _draw{site} = 0;" for site in sorted(reset_sites)]
                            + [f"{ctype(v.type, self.precision)} l_{v.name} = "
                               f"{g}_{v.name}[{'idx' if v.batched else 'i'}];"
                               for v in pop.vars if v.name in reset.reads | reset.writes]
                            + [text]
                            + [f"{g}_{v.name}[{'idx' if v.batched else 'i'}] = l_{v.name};"
                               for v in written]
                            + on_spike)
                if reset_sites and not sites:
                    body.insert(-2, f"const uint32_t stream_base = "
                                    f"{stream_id(nid) & 0xFFFFFF00}u;")
            body.append(ForFlagged("i", n, f"{g}_fired + (size_t)b * {n}", "f", on_spike))
        body.append(f"{g}_spkcnt[slot * {B} + b] = cnt;")
        return Kernel(f"update_{g}", (), (Dim("b", B),), body,
                      doc=f"neuron update {nid} ({pop.model_name})", label=f"neuron:{nid}")

    def _psm(self, eid, s, syn, pop, neuron_table):
        checked = check_psm(syn, pop, self.precision)
        if checked is None:
            return Block([], comment=f"{syn.psm_name} {eid}: no code")
        table = {k: neuron_table[k] for k in ("t", "dt", "id", "batch", "num_neurons",
                                              "num_batch", "Isyn")}
        table.update({name: f"l_add_{name}" for name, _, _ in pop.additional_input_vars})
        table.update({p.name: literal(p.value, p.type, self.precision) for p in syn.psm_params})
        table.update({v.name: f"l_psm_{v.name}" for v in syn.psm_vars})
        table["inSyn"] = "l_inSyn"
        body = [f"{self.scalar} l_inSyn = {s}_insyn[idx];"]
        body += [f"{ctype(v.type, self.precision)} l_psm_{v.name} = {s}_{v.name}[idx];"
                 for v in syn.psm_vars]
        body.append(self.r.render_statements(
            checked.tree, checked, self._names(table),
            intrinsics={"injectCurrent": lambda args: f"Isyn += {args[0]}"}).rstrip())
        body.append(f"{s}_insyn[idx] = l_inSyn;")
        body += [f"{s}_{v.name}[idx] = l_psm_{v.name};" for v in syn.psm_vars
                 if v.access == "readwrite"]
        return Block(body, comment=f"{syn.psm_name} {eid}")

    # -- recording -----------------------------------------------------------------------------
    def _recorders(self):
        body = []
        for k, (rid, rec) in enumerate(self.g.nodes(RecorderNode)):
            g, pop = self.pops[rec.source]
            n, h, B = pop.size, pop.spike_history, self.B
            if rec.what == "spikes":
                words = (n + 31) // 32
                self.program.recorders.append((rid, "spikes", g, n, words, "uint32_t"))
                row = [f"GLOBAL uint32_t *bits = rec{k}_buf + "
                       f"((size_t)r * rec{k}_capacity + rec_step) * {words};",
                       f"const int32_t slot = (int32_t)(ts % {h});",
                       f"const int32_t cnt = {g}_spkcnt[slot * {B} + b];",
                       f"GLOBAL const int32_t *spk = {g}_spk + ((size_t)slot * {B} + b) * {n};",
                       For("s", "cnt", ["bits[spk[s] >> 5] |= 1u << (spk[s] & 31);"])]
            else:
                var = pop.var(rec.var)
                ct = ctype(var.type, self.precision)
                self.program.recorders.append((rid, "var", f"{g}_{var.name}", n, n, ct))
                src = f"{g}_{var.name} + (size_t)b * {n}" if var.batched else f"{g}_{var.name}"
                row = [f"GLOBAL {ct} *dst = rec{k}_buf + "
                       f"((size_t)r * rec{k}_capacity + rec_step) * {n};",
                       f"GLOBAL const {ct} *src = {src};",
                       For("i", str(n), ["dst[i] = src[i];"])]
            # Each batch element records itself into the rows that asked for it
            body.append(If(f"rec_step < rec{k}_capacity", [
                For("r", f"rec{k}_nrows", [If(f"rec{k}_rows[r] == b", row)])]))
        return Kernel("record", (("int64_t", "rec_step"),), (Dim("b", self.B),), body,
                      doc="copy spikes (bit-packed) and variables into recording buffers",
                      label="record")

    def build(self) -> Program:
        """The complete :class:`Program` for the graph."""
        self._declare_buffers()
        learning.declare_buffers(self)
        optimiser.declare_buffers(self)
        for eid, (s, syn) in self.syns.items():
            self.program.kernels.append(self._propagate(eid, s, syn))
        for nid, (g, pop) in self.pops.items():
            self.program.kernels.append(self._update(nid, g, pop))
        for k in learning.kernels(self):
            k.learning = True
            self.program.kernels.append(k)
        self.program.kernels.append(self._recorders())
        self.program.prologue = learning.prologue(self)
        self.program.epilogue = learning.epilogue(self)
        (self.program.end_kernels, self.program.scatter_kernels,
         self.program.restart_kernels) = learning.end_kernels(self)
        self.program.optimiser_kernels = optimiser.kernels(self)
        self.program.fused_optimiser_kernels = optimiser.fused_kernels(self)
        self.program.optimiser_scalars = tuple(self.optimiser_scalars)
        self.program.constants = {"batch_size": self.B, "dt": self.dt}
        return self.program

    def group_names(self):
        """``{IR id: C prefix}`` for neuron and synapse groups."""
        out = {nid: g for nid, (g, _) in self.pops.items()}
        out.update({eid: s for eid, (s, _) in self.syns.items()})
        return out


__all__ = ["KernelBuilder", "ctype", "literal"]
