"""Simulations driven by generated kernels (C, OpenCL, CUDA): the backend-independent part.

Requires: a scheduled IR graph, the kernel builder (:mod:`backends.kernels`) and a target
subclass. Provides :class:`KernelSimulation`, which builds the
:class:`~backends.kernels.Program` of a graph, keeps a host copy of every buffer
(:class:`~.memory.HostMemory`), initialises it, and implements the whole
:class:`~backends.base.Simulation` interface on those copies (weights and connectivity in
:mod:`.weights`, resets and state export in :mod:`.state`). Subclasses provide the target:
compile and load the generated source (``_prepare``), move buffers between host and device
(``_upload``/``_download``; no-ops where the device *is* host memory, as for C) and run a
number of timesteps (``_launch``). Host copies are synchronised lazily, so training state
crosses to the host only when asked for (batch ends); :meth:`~KernelSimulation.native_var`
hands out a buffer where the target keeps it (``_native``: the host copy, or the device's on
CUDA) without crossing.
"""

from __future__ import annotations

import contextlib
import time
from abc import abstractmethod

import numpy as np

from irsnn.errors import BackendError, InputError
from irsnn.ir import BackwardFilter, RecorderNode
from irsnn.ir.ids import var_ref
from irsnn.lang.limits import loop_limit_error
from irsnn.lang.render_c import CStyleRenderer
from irsnn.lang.types import C_DTYPES

from ..base import Simulation
from ..host_init import initial_values, numpy_type, synapse_arrays
from ..kernels import KernelBuilder
from ..kernels.builder import STATUS
from ..kernels.layouts import layout_of
from .eventprop import EventPropBuffers
from .grid import GridLaunch, step_scalars
from .memory import HostMemory
from .state import StateMixin
from .weights import WeightsMixin


class KernelSimulation(StateMixin, WeightsMixin, Simulation):
    """Base of kernel-driven simulations (see the module docstring)."""

    def __init__(self, graph, *, rng_seed=0, kernel_profiling=False):
        super().__init__(graph, rng_seed)
        builder = KernelBuilder(graph, CStyleRenderer(self.kernel_dialect().lang), seed=rng_seed,
                                plan=self._choose_plan)
        self.program = program = builder.build()
        #: the SIMT plan the program was built for (None: C)
        self.plan = builder.plan
        table = program.buffers
        #: edge id -> synapse group, layout strategy; host structures (rows, bits) by edge id
        self.synapses = dict(builder.synapses)
        self.layouts = {eid: layout_of(syn) for eid, syn in self.synapses.items()}
        self.connectivity = builder.connectivity
        self.by_name = {syn.name: eid for eid, syn in self.synapses.items()}
        #: buffers of event-driven learning that hold one example (spike bits, step counter)
        self._example_buffers = list(builder.example_buffers)
        #: (parameter target, state name) -> buffer of the device optimiser's state
        self._optimiser_buffers = dict(builder.optimiser_buffers)
        self.memory = HostMemory(table, lambda buf, host: self._download(buf, host),
                                 self.host_is_device)
        self.egps: dict[tuple[str, str], np.ndarray] = {}
        self._egp_index = {b: k for k, b in enumerate(program.egps)}
        self.kernel_names = [k.label or k.name for k in program.kernels]
        self.kernel_times = {k: 0.0 for k in self.kernel_names} if kernel_profiling else {}
        self._profiling = kernel_profiling
        self.recorders = {rid: r for rid, r in graph.nodes(RecorderNode)}
        self._recorder_index = {rec.id: k for k, rec in enumerate(program.recorders)}
        self._recording: dict[str, tuple] = {}
        #: indices (into ``program.egps``) of extra global parameters given new arrays since
        #: they were last handed to the target (see :meth:`_bindings_changed`)
        self._egps_changed: set[int] = set()
        self._bindings_changed()
        self.recorded_timesteps = 0
        self.timestep = 0
        self.rng_step = 0
        self._init_state(graph, table)
        for buf, values in builder.host_arrays.items():
            self.memory(buf, write=True)[:] = values
        self.losses = dict(builder.losses)
        self._learning = bool(self.losses) or any(
            syn.learning is not None for syn in self.synapses.values())
        self._learning_on = self._learning
        #: timesteps of an example event-driven learning can store (its backward filters')
        self._example_capacity = min((f.timesteps for _, f in graph.nodes(BackwardFilter)),
                                     default=None)
        #: EventProp's spike buffers seen from the host (None without EventProp)
        self.eventprop = EventPropBuffers(self, builder.eventprop) if builder.eventprop else None
        self._prepare(kernel_profiling)
        self.reset(vars=True, time=True, in_syn=True)

    def _choose_plan(self, program):
        """The :class:`~backends.kernels.simt.Plan` of ``program`` on this target (its neuron
        buffers declared), or None where every grid point runs on one thread (C); the builder
        builds the propagation for it."""
        return None

    def _init_state(self, graph, table):
        """Initial values of the variables (kept for resets) and the synapses' storage."""
        seed, host = self.seed, self.memory.writer()
        #: buffer -> initial values of a variable
        self.initial: dict = {}
        #: (owner, variable) of every variable get_var/set_var reach
        self.variables: set[tuple[str, str]] = set()
        #: (edge id, variable) of per-synapse (learning) variables, seen dense
        self._synapse_vars: set[tuple[str, str]] = set()

        def variable(owner, v, size, init=None):
            buf = table[owner, v.name]
            self.variables.add((owner, v.name))
            self.initial[buf] = (initial_values(graph, init, var_ref(owner, v.name), size, seed,
                                                numpy_type(v.type, self.precision))
                                 if init is not None else
                                 np.zeros(size, numpy_type(v.type, self.precision)))

        for nid, pop in graph.populations():
            for v in pop.vars:
                variable(nid, v, pop.size, v.init)
        for eid, syn in self.synapses.items():
            strategy, conn = self.layouts[eid], self.connectivity.get(eid)
            d = None
            if strategy.stores_weights:
                w, d = synapse_arrays(graph, eid, syn, seed, self.scalar)
                strategy.store(host, table, eid, syn, conn, w, d)
            for v in syn.psm_vars:
                variable(eid, v, syn.num_post, v.init)
            lr = syn.learning
            if lr is None:
                continue
            for v in lr.vars:
                variable(eid, v, strategy.synapse_count(syn, conn))
                self._synapse_vars.add((eid, v.name))
            if lr.delay_var:    # learnt delays start from the connection's (whole steps)
                buf = table[eid, lr.delay_var]
                self.initial[buf] = d.reshape(-1).astype(self.initial[buf].dtype)
            if not lr.backward:
                trace = table[eid, lr.pre_trace]
                self.variables.add((eid, lr.pre_trace))
                self.initial[trace] = np.zeros(syn.num_pre, self.scalar)

    def _var_buffer(self, owner, name):
        """The buffer of variable ``name`` of ``owner`` (an :class:`InputError` listing the
        variables otherwise)."""
        if (owner, name) not in self.variables:
            known = sorted(n for o, n in self.variables if o == owner)
            raise InputError(f"'{owner}' has no variable '{name}' (variables: {known})")
        return self.program.buffers[owner, name]

    @staticmethod
    def _var_shape(buf):
        return buf.shape

    # -- variables in the target's own memory -----------------------------------------------------
    def native_var(self, node_id, name):
        buf = self._var_buffer(node_id, name)
        return self._native(buf).reshape(self._native_shape(node_id, name))

    def native_written(self, node_id, name, array):
        self._native_written(self._var_buffer(node_id, name))

    def _native(self, buf):
        """Buffer ``buf`` as the target's own (flat) array: here the host copy, brought up to
        date (C's memory itself; OpenCL's buffers are no arrays, so MPI needs the host copy)."""
        return self.memory(buf)

    def _native_written(self, buf):
        """After writing the array :meth:`_native` returned."""
        self.memory.written(buf)

    # -- learning: traces and event-driven examples ----------------------------------------------
    def begin_example(self):
        self.memory.overwrite(("begin_example",),
                              lambda: [(buf, 0) for buf in self._example_buffers])
        self._example_steps = 0
        self._pending = False

    #: the optimiser kernels can take event-driven gradients straight from the example's
    #: spikes and sequences (``Program.fused_optimiser_kernels``; C)
    fuses_event_gradients = False
    #: an example ended without materialising its event-driven gradients
    _pending = False
    _example_steps = 0

    def end_example(self, for_optimiser=False):
        if not self.program.end_kernels:
            return
        if self.eventprop is not None:
            self.eventprop.check()
        self._upload_dirty()
        defer = bool(for_optimiser and self.fuses_event_gradients and self.optimiser_in_kernels)
        with self._timed("end-of-example"):
            self._launch_end(materialise=not defer)
        self._pending = defer
        self.memory.device_wrote()
        self._check_loops()
        self._example_steps = 0

    @contextlib.contextmanager
    def _timed(self, label):
        """With kernel profiling, add the wall time of the block (the launch returns when the
        work is done on every backend) to ``kernel_times[label]``."""
        if not self._profiling:
            yield
            return
        start = time.perf_counter()
        yield
        self.kernel_times[label] = self.kernel_times.get(label, 0.0) + time.perf_counter() - start

    # -- optimiser in kernels ---------------------------------------------------------------------
    @property
    def optimiser_in_kernels(self) -> bool:
        return bool(self.program.optimiser_kernels)

    def optimise(self, scalars: dict, rows: int):
        """One optimiser step of every parameter from the gradients of the first ``rows``
        batch rows (zeroing every row's gradients), with the optimiser's runtime ``scalars``."""
        table = self.program.buffers
        values = self.memory(table["", "optim_scalars"], write=True)
        for i, name in enumerate(self.program.optimiser_scalars):
            values[i] = scalars[name]
        self.memory(table["", "optim_rows"], write=True)[0] = int(rows)
        self._upload_dirty()
        with self._timed("optimiser"):
            self._launch_optimise(fused=self._pending)
        self._pending = False
        self.memory.device_wrote()
        self._check_loops()

    def _check_loops(self):
        """After a launch: when a loop of model code ran past its bound (the status word is
        its site), clear the word and raise the reference's error for that loop."""
        if not self.program.loop_sites:
            return
        status = self.program.buffers["", STATUS]
        site = int(self.memory(status)[0])
        if site:
            self.memory(status, write=True)[0] = 0
            where, line, col, source, limit = self.program.loop_sites[site - 1]
            raise loop_limit_error(where, line, col, source, limit)

    def _check_example_capacity(self, timesteps):
        """Event-driven learning stores at most ``timesteps`` of the backward filters per
        example: refuse to run past it rather than drop steps."""
        if not (self._learning_on and self.program.end_kernels):
            return
        capacity = self._example_capacity
        if capacity is None:   # EventProp: per-neuron spike buffers, no per-step storage
            return
        if self._example_steps + timesteps > capacity:
            raise InputError(f"event-driven e-prop stores {capacity} timesteps per example "
                             f"(example_timesteps) but {self._example_steps + timesteps} were "
                             f"run with learning on; end the example (end_example) first, or "
                             f"compile with gradient_mode='online'")
        self._example_steps += timesteps

    # -- inputs and labels ------------------------------------------------------------------------
    def set_egp(self, node_id, name, values):
        buf = self.program.buffers.egp(node_id, name)
        if buf is None:
            pop = self.graph.node(node_id)
            raise InputError(f"'{node_id}' has no extra global parameter '{name}' "
                             f"(it has {[e.name for e in pop.egps]})")
        self.egps[(node_id, name)] = np.ascontiguousarray(np.asarray(values).reshape(-1),
                                                          C_DTYPES[buf.ctype])
        self._bindings_changed(egp=self._egp_index[buf])

    def set_labels(self, loss_id, labels, active):
        """Labels (or targets) of this batch for loss node ``loss_id``; inactive rows (padding
        of a partial batch) contribute no error."""
        if loss_id not in self.losses:
            raise InputError(f"no loss node '{loss_id}' (losses: {sorted(self.losses)})")
        table = self.program.buffers
        self.memory(table[loss_id, "labels"], write=True)[:] = np.asarray(labels).reshape(-1)
        self.memory(table[loss_id, "active"], write=True)[:] = np.asarray(active, bool)

    @property
    def learning_enabled(self) -> bool:
        return self._learning_on

    @learning_enabled.setter
    def learning_enabled(self, on: bool):
        on = bool(on) and self._learning
        if on != self._learning_on:
            self._learning_on = on
            self._bindings_changed()

    def _check_egps(self):
        for buf in self.program.egps:
            if (buf.owner, buf.var) not in self.egps:
                pop = self.graph.node(buf.owner)
                raise InputError(f"Population '{pop.name}': its input ('{buf.var}') was never "
                                 f"set; pass input data for it to evaluate/predict")

    def egp_array(self, buf):
        """The array bound to extra global parameter ``buf``."""
        return self.egps[(buf.owner, buf.var)]

    # -- recording ----------------------------------------------------------------------------
    def begin_batch(self, timesteps, recorders=None):
        if self._recording or recorders:
            self._bindings_changed()
        self._recording = {}
        for rid, rows in (recorders or {}).items():
            if rid not in self._recorder_index:
                raise BackendError(f"no recorder '{rid}' in the IR (recorders: "
                                   f"{sorted(self._recorder_index)})")
            rec = self.program.recorders[self._recorder_index[rid]]
            rows = np.ascontiguousarray(rows, np.int32)
            if rec.kind == "spikes":
                buf = np.zeros((len(rows), timesteps, rec.per_step), np.uint32)
            else:
                var = self.graph.node(self.recorders[rid].source).var(self.recorders[rid].var)
                buf = np.zeros((len(rows), timesteps, rec.neurons),
                               numpy_type(var.type, self.precision))
            self._recording[rid] = (rows, buf, rec)
        self.recorded_timesteps = 0

    def recording(self, rec_id):
        if rec_id not in self._recording:
            raise BackendError(f"nothing was recorded as '{rec_id}' in this batch (recorded: "
                               f"{sorted(self._recording)})")
        rows, buf, rec = self._recording[rec_id]
        self._download_recording(rec_id, buf)
        data = buf[:, :self.recorded_timesteps]
        if rec.kind == "spikes":
            bits = np.unpackbits(data.view(np.uint8), axis=-1, bitorder="little")
            data = bits[..., :rec.neurons].astype(bool)
        return rows, data

    # -- running ------------------------------------------------------------------------------
    def run(self, timesteps):
        timesteps = int(timesteps)
        if timesteps <= 0:
            return
        self._check_egps()
        self._check_example_capacity(timesteps)
        self._upload_dirty()
        before = self._times() if self._profiling else None
        self._launch(timesteps)
        if self._profiling:
            for name, t0, t1 in zip(self.kernel_names, before, self._times()):
                self.kernel_times[name] += t1 - t0
        self.memory.device_wrote()
        self._check_loops()
        self.timestep += timesteps
        self.rng_step += timesteps
        if self._recording:
            self.recorded_timesteps = min(self.recorded_timesteps + timesteps,
                                          max(b.shape[1] for _, b, _ in
                                              self._recording.values()))

    def fused_arguments(self, to_device, dummy, steps) -> list:
        """Arguments of a fused ``irsnn_run`` kernel (see
        :meth:`~backends.kernels.KernelRenderer.fused_kernel`), in order: state buffers,
        extra global parameters, recorders (buffer, rows, count, capacity), then the scalars.
        ``to_device(host)`` makes (and the caller caches) a device copy of a host array;
        ``dummy`` stands in for disabled recorders and empty arrays."""
        args = [self.dev[b.name] for b in self.program.buffers]
        for b in self.program.egps:
            host = self.egp_array(b)
            cached = self._egp_dev.get(b.name)
            if cached is None or cached[0] is not host:
                self._egp_dev[b.name] = (host, to_device(host) if host.size else dummy)
            args.append(self._egp_dev[b.name][1])
        for rec in self.program.recorders:
            if rec.id in self._recording:
                rows, buf, _ = self._recording[rec.id]
                cached = self._rec_dev.get(rec.id)
                if cached is None or cached[0] is not buf:
                    self._rec_dev[rec.id] = (buf, to_device(buf),
                                             to_device(rows) if rows.size else dummy)
                _, dbuf, drows = self._rec_dev[rec.id]
                args += [dbuf, drows, np.int32(len(rows)), np.int64(buf.shape[1])]
            else:
                args += [dummy, dummy, np.int32(0), np.int64(0)]
        return args + [np.uint64(self.seed), np.int64(steps), np.int64(self.timestep),
                       np.uint32(self.rng_step & 0xFFFFFFFF),
                       np.int64(self.recorded_timesteps),
                       np.int32(1 if self._learning_on else 0)]

    # -- the target ---------------------------------------------------------------------------
    #: host copies are the device's memory (no transfers; C)
    host_is_device = False

    def _bindings_changed(self, egp=None):
        """Note that what the target must be handed besides the (fixed) buffers changed:
        extra global parameter arrays, the recording buffers or the learning switch; with
        ``egp`` (an index into ``program.egps``), only that parameter's array. Targets that
        hand these over once and keep them (C's ``_bind``) compare ``_binding``, a fresh token
        after every change but of single parameters, with the one they last handed over, and
        hand over again the parameters in ``_egps_changed``."""
        if egp is None:
            self._binding = object()
        else:
            self._egps_changed.add(egp)

    @abstractmethod
    def kernel_dialect(self):
        """The :class:`~backends.kernels.KernelDialect` this target renders."""

    @abstractmethod
    def _prepare(self, profiling: bool):
        """Generate, compile and load the program; allocate device memory."""

    #: the fused kernel with learning off, where the target has one (SIMT blocks; see
    #: ``KernelRenderer.learning_variants``); else ``kernel`` reads the learning switch
    infer_kernel = None
    #: the kernels of the grid plan (:class:`.grid.GridLaunch`), where the plan is one
    grid = None

    def _grid_kernels(self, renderer, get):
        """Load the kernels of the grid plan (``get(name)``) into :attr:`grid`."""
        self.grid = GridLaunch.load(renderer, self.program, get)

    def step_scalars(self, k: int) -> list:
        """The scalars of step ``k`` of a launch on the grid plan (:func:`.grid.step_scalars`)."""
        return step_scalars(self, k)

    def _run_kernel(self):
        """The fused kernel to launch for the learning switch as it is."""
        return self.kernel if self._learning_on or self.infer_kernel is None \
            else self.infer_kernel

    @abstractmethod
    def _launch(self, steps: int):
        """Run ``steps`` timesteps from ``self.timestep`` / ``self.rng_step`` on the target."""

    # Targets that launch kernels one by one (OpenCL, CUDA) set ``end_kernels`` (the fused
    # sweep and restart kernels), ``scatter_kernels`` and ``optimiser_kernels`` (``(kernel,
    # rows, threads)`` from :meth:`_row_kernels`) and implement :meth:`_launch_rows`; C
    # overrides these.
    end_kernels: tuple = ()
    scatter_kernels: tuple = ()
    optimiser_kernels: tuple = ()

    def _row_kernels(self, get, kernels) -> list:
        """``[(compiled kernel, grid extent, threads)]`` of one-dimensional kernels, by name:
        ``threads`` per block (work-group) for kernels written for a block
        (:attr:`~backends.kernels.description.Kernel.parallel`) on a plan with blocks (one
        block per grid point, :meth:`~backends.kernels.KernelRenderer.buffer_kernel`), else
        None (one work-item per grid point)."""
        threads = self.plan.threads if self.plan is not None else None
        return [(get(k.name), k.grid[0].extent, threads if k.parallel else None)
                for k in kernels]

    def _launch_end(self, materialise=True):
        """Run the backward sweeps (``program.end_kernels``), then with ``materialise`` the
        scatter and restart kernels. Targets without fused optimiser kernels always
        materialise."""
        sweep, restart = self.end_kernels
        self._launch(0, sweep)
        self._launch_rows(self.scatter_kernels)
        self._launch(0, restart)

    def _launch_optimise(self, fused=False):
        """Run the optimiser kernels (``program.optimiser_kernels``, or with ``fused``
        ``program.fused_optimiser_kernels`` and the restart kernels)."""
        self._launch_rows(self.optimiser_kernels)

    def _launch_rows(self, kernels):
        """Launch ``(kernel, rows, threads)`` triples over all state buffers, one work-item per
        row (``threads`` None) or one block of ``threads`` per row, and wait for them."""
        raise BackendError(f"{type(self).__name__} cannot launch row kernels")

    def _upload_dirty(self):
        """Upload every buffer written on the host since the last upload (before a launch)."""
        self.memory.upload_dirty(self._upload)

    def _upload(self, buf, host):
        """Copy the host copy of buffer ``buf`` to the device."""

    def _download(self, buf, host):
        """Copy buffer ``buf`` from the device into its host copy."""

    def _download_recording(self, rec_id, host):
        """Copy a recording buffer from the device into ``host``."""

    def _times(self):
        """Accumulated seconds per kernel (profiling builds)."""
        return [0.0] * len(self.kernel_names)


__all__ = ["KernelSimulation"]
