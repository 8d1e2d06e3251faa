"""Kernel builder: a scheduled IR -> a dialect-neutral :class:`~.description.Program`.

Requires: a graph after the full pipeline of its compiler (``insert-recording`` last); the
layout strategies (:mod:`.layouts`) of its synapse groups. Provides :class:`KernelBuilder`.

Per timestep, in GeNN's order (the same as the reference backend, so results are bit-identical
wherever the arithmetic is): one ``propagate`` kernel per synapse group (event-driven: only the
presynaptic neurons that spiked ``delay_steps`` ago do work, adding their weight rows to
``inSyn`` in ascending neuron order; on a block plan of a SIMT target, groups whose layout can
pull sum the same additions by postsynaptic neuron instead: :mod:`.simt`), one ``update``
kernel per neuron group (postsynaptic models
-> ``Isyn``, sim code, threshold, reset, spike list; :mod:`.neurons`), then ``record``. Grids are
over batch elements, which are independent. Every buffer is declared in, and found through, the
program's :class:`~.buffers.BufferTable`.
"""

from __future__ import annotations

import numpy as np

from irsnn.errors import BackendError
from irsnn.ir import RecorderNode, edge_id
from irsnn.lang.render_c import C99, CStyleRenderer
from irsnn.rng import PHILOX_C_SOURCE

from ..host_init import synapse_mask
from . import learning, neurons, optimiser, simt
from .buffers import BufferTable
from .description import (Barrier, Dim, For, If, Kernel, ParallelFor, Program, Recorder,
                          Single)
from .layouts import layout_of

#: The buffer (owner ``""``) of the status word model code's loops write when one runs past
#: its bound; a program has it when its model code has loops (``Program.loop_sites``)
STATUS = "irsnn_status"

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
    seed : int
        The simulation's RNG seed (synapses drawn on the host at build time).
    plan : callable or None
        For SIMT targets: ``plan(program)`` -> the :class:`~.simt.Plan` that will run the
        program (called once its neuron buffers are declared; the propagation of a block
        plan may differ, see :mod:`.simt`); None for targets that run every grid point on
        one thread (C).

    Attributes
    ----------
    buffers : BufferTable
        Every buffer of the program.
    populations, synapses : dict
        ``{IR id: payload}`` of neuron and synapse groups, in graph order.
    connectivity : dict
        ``{edge id: host structure}`` of the groups whose layout keeps one (ragged
        :class:`~.layouts.Rows`, bitmask words), as drawn at build time.
    host_arrays : dict
        ``{Buffer: values}``: initial contents computed here (column orders, feedback
        matrices, existence masks).
    plan : Plan or None
        The plan ``plan`` chose (after :meth:`build`).
    """

    def __init__(self, graph, renderer: CStyleRenderer | None = None, seed: int = 0,
                 plan=None):
        self.graph = graph
        self.seed = int(seed)
        self._choose_plan = plan
        self.plan = None
        # model code's loops write the program's status word (see :meth:`build`)
        self.renderer = CStyleRenderer((renderer or CStyleRenderer(C99)).dialect,
                                       status=f"{STATUS}[0]")
        self.batch_size = int(graph.attrs["batch_size"])
        self.dt = float(graph.attrs["dt"])
        self.precision = graph.attrs.get("precision", "float")
        self.scalar = ctype("scalar", self.precision)
        self.buffers = BufferTable()
        self.populations = {}
        for k, (nid, pop) in enumerate(graph.populations()):
            self.buffers.register(nid, f"g{k}")
            self.populations[nid] = pop
        self.synapses = {}
        self.connectivity = {}
        for m, (u, v, k, syn) in enumerate(graph.synapses()):
            eid = edge_id(u, v, k)
            self.buffers.register(eid, f"s{m}")
            self.synapses[eid] = syn
            conn = layout_of(syn).connectivity(
                syn, lambda eid=eid, syn=syn: synapse_mask(graph, eid, syn, self.seed))
            if conn is not None:
                self.connectivity[eid] = conn
        self.program = Program(buffers=self.buffers, helpers=PHILOX_C_SOURCE,
                               constants={"batch_size": self.batch_size, "dt": self.dt})
        self.losses: dict = {}
        self.host_arrays: dict = {}

    # -- helpers shared with the neuron, learning and optimiser kernels --------------------------
    def literal(self, value, type_name="scalar"):
        return literal(value, type_name, self.precision)

    def ctype(self, type_name):
        return ctype(type_name, self.precision)

    def dim_b(self):
        return Dim("b", self.batch_size)

    def stem(self, owner) -> str:
        """The identifier stem of ``owner`` (names its kernels)."""
        return self.buffers.stem(owner)

    def buffer_of(self, owner):
        """``var -> Buffer`` of ``owner`` (a lookup function for kernel text)."""
        return lambda var: self.buffers[owner, var]

    def layout(self, eid):
        """``(strategy, host structure)`` of synapse group ``eid``'s layout."""
        return layout_of(self.synapses[eid]), self.connectivity.get(eid)

    @staticmethod
    def layout_of(syn):
        """The layout strategy of synapse group ``syn``."""
        return layout_of(syn)

    def synapse_count(self, eid) -> int:
        """Stored values of a per-synapse variable (per batch element) in the group's layout."""
        strategy, conn = self.layout(eid)
        return strategy.synapse_count(self.synapses[eid], conn)

    def fn(self, name, type_name="scalar"):
        """The target's name of math function ``name`` for arguments of ``type_name``."""
        from irsnn.lang.types import resolve_type
        return self.renderer.dialect.function_name(name, resolve_type(type_name, self.precision))

    def names(self, table):
        """A name resolver for the renderer over ``table`` (symbol name -> C text)."""
        def resolve(sym):
            try:
                return table[sym.name]
            except KeyError:
                raise KeyError(f"kernel builder has no C name for '{sym.name}' "
                               f"({sym.kind})") from None
        return resolve

    # -- buffers -------------------------------------------------------------------------------
    def _declare_buffers(self):
        B, add = self.batch_size, self.buffers.add
        for nid, pop in self.populations.items():
            n, h = pop.size, pop.spike_history
            for v in pop.vars:
                add(nid, v.name, self.ctype(v.type), (B, n) if v.batched else (n,))
            add(nid, "spk", "int32_t", (h, B, n))
            if pop.threshold_code.strip():
                add(nid, "fired", "int8_t", (B, n))
            add(nid, "spkcnt", "int32_t", (h, B))
            if pop.negative_threshold_code.strip():
                add(nid, "spksign", "int8_t", (h, B, n))
            for e in pop.egps:
                self.buffers.add_egp(nid, e.name, self.ctype(e.type.rstrip("*").strip()))
        for eid, syn in self.synapses.items():
            strategy, conn = self.layout(eid)
            strategy.declare(self, eid, syn, conn)
            add(eid, "insyn", self.scalar, (B, syn.num_post))
            for v in syn.psm_vars:
                add(eid, v.name, self.ctype(v.type), (B, syn.num_post))

    # -- propagation ---------------------------------------------------------------------------
    def _propagate(self, eid, syn) -> Kernel:
        pre = self.populations[syn.source]
        strategy, conn = self.layout(eid)
        B, n_pre, n_post, h = self.batch_size, syn.num_pre, syn.num_post, pre.spike_history
        signed = bool(pre.negative_threshold_code.strip())
        sign = " * (float)sgn[s]" if signed else ""
        spk, spkcnt = self.buffers[syn.source, "spk"], self.buffers[syn.source, "spkcnt"]
        body = [f"const int32_t slot = (int32_t)(((ts - {syn.delay_steps}) % {h} + {h}) % {h});",
                f"const int32_t cnt = {spkcnt}[slot * {B} + b];",
                f"GLOBAL const int32_t *spk = {spk} + ((size_t)slot * {B} + b) * {n_pre};"]
        if signed:
            body.append(f"GLOBAL const int8_t *sgn = {self.buffers[syn.source, 'spksign']} + "
                        f"((size_t)slot * {B} + b) * {n_pre};")
        body.append(f"GLOBAL {self.scalar} *insyn = {self.buffers[eid, 'insyn']} + "
                    f"(size_t)b * {n_post};")
        pulled = self._pull(eid, syn, signed, body)
        if pulled is None:
            row = strategy.propagate(self, eid, syn, conn, body, sign)
            spikes = ParallelFor if strategy.distinct_targets else For
            body.append(spikes("s", "cnt", ["const int32_t i = spk[s];"] + row))
        if syn.learning is not None:
            # (rows and traces in one phase were miscompiled by PoCL 3.0: memory corrupted)
            body += [Barrier()] + learning.trace_statements(self, eid, syn, signed)
        body += strategy.deliver(self, eid, syn)
        return Kernel(f"propagate_{self.stem(eid)}", (), (Dim("b", B),), body,
                      doc=f"spike propagation {eid} ({syn.connectivity}/{syn.layout})",
                      label=f"propagate:{eid}", parallel=strategy.parallel_rows)

    def _pull(self, eid, syn, signed, body):
        """On a block plan where :func:`.simt.pull_reason` says so, the statements of ``eid``'s
        propagation by postsynaptic neuron, appended to ``body``: this step's spikes flagged
        in a ``(batch, num_pre)`` scratch buffer (all zero between steps), the layout's pull,
        the flags cleared; None (nothing appended) where the rows are pushed."""
        strategy, conn = self.layout(eid)
        threads = self.plan.threads if self.plan is not None else None
        reason = simt.pull_reason(syn.num_pre, syn.num_post,
                                  strategy.mean_row(syn, conn) * syn.num_pre, threads)
        if threads is not None and self.plan.blocks > 1:
            reason = (f"{self.plan.blocks} work-groups per example: a push waits for the "
                      f"threads after every row, which launches cannot")
        n_pre = syn.num_pre
        pull = reason and strategy.pull(self, eid, syn, conn, "marks", signed)
        if not pull:
            return None
        marks = self.buffers.add(eid, "pullmarks", "int8_t", (self.batch_size, n_pre))
        self.program.plan_notes.append(f"propagate:{eid} pulled by postsynaptic neuron over "
                                       f"columns ({reason})")
        body += [f"GLOBAL int8_t *marks = {marks} + (size_t)b * {n_pre};",
                 ParallelFor("s", "cnt", [f"marks[spk[s]] = {'sgn[s]' if signed else '1'};"]),
                 *pull,
                 ParallelFor("s", "cnt", ["marks[spk[s]] = 0;"])]
        return body

    # -- recording -----------------------------------------------------------------------------
    def _recorders(self):
        body = []
        B = self.batch_size
        for k, (rid, rec) in enumerate(self.graph.nodes(RecorderNode)):
            pop = self.populations[rec.source]
            n, h = pop.size, pop.spike_history
            if rec.what == "spikes":
                words = (n + 31) // 32
                self.program.recorders.append(Recorder(rid, "spikes", None, n, words,
                                                       "uint32_t"))
                spk, spkcnt = self.buffers[rec.source, "spk"], self.buffers[rec.source, "spkcnt"]
                # (one thread: spikes of one word would meet in its bits)
                row = [Single([f"GLOBAL uint32_t *bits = rec{k}_buf + "
                               f"((size_t)r * rec{k}_capacity + rec_step) * {words};",
                               f"const int32_t slot = (int32_t)(ts % {h});",
                               f"const int32_t cnt = {spkcnt}[slot * {B} + b];",
                               f"GLOBAL const int32_t *spk = {spk} + "
                               f"((size_t)slot * {B} + b) * {n};",
                               For("s", "cnt", ["bits[spk[s] >> 5] |= 1u << (spk[s] & 31);"])])]
            else:
                var = pop.var(rec.var)
                ct = self.ctype(var.type)
                source = self.buffers[rec.source, var.name]
                self.program.recorders.append(Recorder(rid, "var", source, n, n, ct))
                src = f"{source} + (size_t)b * {n}" if var.batched else f"{source}"
                row = [f"GLOBAL {ct} *dst = rec{k}_buf + "
                       f"((size_t)r * rec{k}_capacity + rec_step) * {n};",
                       f"GLOBAL const {ct} *src = {src};",
                       ParallelFor("i", str(n), ["dst[i] = src[i];"])]
            # Each batch element records itself into the rows that asked for it
            body.append(If(f"rec_step < rec{k}_capacity", [
                For("r", f"rec{k}_nrows", [If(f"rec{k}_rows[r] == b", row)])]))
        return Kernel("record", (("int64_t", "rec_step"),), (Dim("b", B),), body,
                      doc="copy spikes (bit-packed) and variables into recording buffers",
                      label="record", parallel=True)

    def build(self) -> Program:
        """The complete :class:`Program` for the graph. A plan of several blocks per example
        that cannot run it (:func:`.grid.obstacle`) is refused where it was asked for, else
        the program is built again for one block per example."""
        program = self._build()
        plan = self.plan
        if plan is None or plan.blocks <= 1:
            return program
        from .grid import obstacle
        why = obstacle(program, plan.threads, plan.blocks)
        if why is None:
            return program
        if plan.blocks_asked:
            raise BackendError(f"{plan.blocks} work-groups per batch element were asked for, "
                               f"but model '{self.graph.name}' cannot run so: {why}; ask for "
                               f"one (IRSNN_BLOCKS_PER_EXAMPLE=1 or the backend's "
                               f"blocks_per_example=1)")
        fallback = plan.one_block(why)
        self.__init__(self.graph, self.renderer, self.seed, plan=lambda program: fallback)
        return self._build()

    def _build(self) -> Program:
        self._declare_buffers()
        if self._choose_plan is not None:
            self.plan = self._choose_plan(self.program)
        learning.declare_buffers(self)
        optimiser.declare_buffers(self)
        for eid, syn in self.synapses.items():
            self.program.kernels.append(self._propagate(eid, syn))
        for nid, pop in self.populations.items():
            self.program.kernels.append(neurons.update_kernel(self, nid, pop))
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
        self.program.constants = {"batch_size": self.batch_size, "dt": self.dt}
        # the model's time ``t`` in its precision, as the language types it (``scalar``)
        self.program.step_args = (("int64_t", "ts"), (self.scalar, "t"),
                                  ("uint32_t", "rng_step"))
        self.program.loop_sites = list(self.renderer.loop_sites)
        if self.program.loop_sites:
            self.buffers.add("", STATUS, "int32_t", (1,))
        return self.program


__all__ = ["KernelBuilder", "STATUS", "ctype", "literal"]
