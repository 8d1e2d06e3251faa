"""Simulations driven by generated kernels (C, OpenCL, CUDA): the backend-independent part.

A :class:`KernelSimulation` builds the :class:`~backends.kernels.Program` of a graph, keeps a
host copy of every buffer (NumPy), initialises it, and implements the whole
:class:`~backends.base.Simulation` interface on those copies. Subclasses provide the target:
compile and load the generated source (``_prepare``), move buffers between host and device
(``_upload``/``_download``; no-ops where the device *is* host memory, as for C) and run a number
of timesteps natively (``_launch``). Host copies are synchronised lazily: host writes mark a
buffer for upload before the next run, runs mark state as newer on the device, and reads
download on demand, so training state crosses to the host only when asked for (batch ends).
"""

from __future__ import annotations

import contextlib
import time
from abc import abstractmethod

import numpy as np

from irsnn.errors import BackendError, InputError
from irsnn.ir import BackwardFilter, RecorderNode, edge_id
from irsnn.lang.render_c import CStyleRenderer

from .base import Simulation
from .host_init import (check_layout_weights, initial_values, numpy_type, ragged,
                        ragged_columns,
                        synapse_arrays, unpack_bitmask)
from .kernels import KernelBuilder
from .kernels.learning import COLUMN_BUFFERS

#: buffer element type -> NumPy dtype
NUMPY_TYPES = {"float": np.float32, "double": np.float64, "int32_t": np.int32,
               "uint32_t": np.uint32, "int8_t": np.int8, "bool": np.bool_}


class KernelSimulation(Simulation):
    """Base of kernel-driven simulations (see the module docstring)."""

    def __init__(self, graph, *, rng_seed=0, kernel_profiling=False):
        self.graph = graph
        self.dt = float(graph.attrs["dt"])
        self.batch_size = B = int(graph.attrs["batch_size"])
        self.precision = graph.attrs.get("precision", "float")
        self.seed = int(rng_seed)
        builder = KernelBuilder(graph, CStyleRenderer(self.kernel_dialect().lang), seed=rng_seed)
        #: ragged groups: edge id -> (row lengths, indices) — values convert to/from dense
        self.rows = builder.rows
        #: bitmask groups: edge id -> (num_pre, words) uint32 bits (constant)
        self.bitmasks = builder.bitmasks
        self.program = program = builder.build()
        #: buffers of event-driven learning that hold one example (spike bits, step counter)
        self._example_buffers = list(builder.example_buffers)
        #: (parameter target, state name) -> buffer of the device optimiser's state
        self._optimiser_buffers = dict(builder.optimiser_buffers)
        self.prefix = builder.group_names()
        self.buffers = {b.name: np.zeros(b.size, NUMPY_TYPES[b.ctype])
                        for b in program.buffers}
        self._stale: set[str] = set()      # newer on the device than on the host
        #: views and values of the buffers ``_overwrite`` writes, by what writes them
        self._write_plans: dict = {}
        self._dirty: set[str] = set(self.buffers)   # newer on the host than on the device
        self.egps: dict[tuple[str, str], np.ndarray] = {}
        self._egp_index = {b.name: k for k, b in enumerate(program.egps)}
        #: extra global parameter buffer -> (node id, parameter name), its key in ``egps``
        self._egp_keys = {}
        for b in program.egps:
            node = next(n for n, p in self.prefix.items() if b.name.startswith(p + "_egp_"))
            self._egp_keys[b.name] = (node, b.name.split("_egp_", 1)[1])
        self.kernel_names = [k.label or k.name for k in program.kernels]
        self.kernel_times = {k: 0.0 for k in self.kernel_names} if kernel_profiling else {}
        self._profiling = kernel_profiling
        self.recorders = {rid: r for rid, r in graph.nodes(RecorderNode)}
        self._recorder_index = {rec[0]: k for k, rec in enumerate(program.recorders)}
        self._recording: dict[str, tuple] = {}
        #: indices (into ``program.egps``) of extra global parameters given new arrays since
        #: they were last handed to the native code (see :meth:`_bindings_changed`)
        self._egps_changed: set[int] = set()
        self._bindings_changed()
        self.recorded_timesteps = 0
        self.timestep = 0
        self.rng_step = 0

        # Initial values, kept for resets
        self.initial: dict[str, np.ndarray] = {}
        self.state_keys: dict[tuple[str, str], tuple[str, tuple]] = {}
        for nid, pop in graph.populations():
            g = self.prefix[nid]
            for v in pop.vars:
                buf = f"{g}_{v.name}"
                self.initial[buf] = initial_values(graph, v.init, f"{nid}/{v.name}", pop.size,
                                                   rng_seed, numpy_type(v.type, self.precision))
                shape = (B, pop.size) if v.batched else (pop.size,)
                self.state_keys[(nid, v.name)] = (buf, shape)
        self.synapses = {}
        #: (edge id, variable) of per-synapse (learning) variables
        self._synapse_vars: set[tuple[str, str]] = set()
        for eid, syn in self._synapses():
            s = self.prefix[eid]
            if syn.layout == "procedural":
                # nothing stored: the kernels regenerate the synapses at every spike
                self.synapses[eid] = (s, syn, (syn.num_pre, syn.num_post))
                continue
            w, d = synapse_arrays(graph, eid, syn, rng_seed, numpy_type("scalar",
                                                                          self.precision))
            if eid in self.bitmasks:
                self.buffers[f"{s}_bits"][:] = self.bitmasks[eid].reshape(-1)
                self.buffers[f"{s}_g"][:] = (syn.weight.value if syn.weight.kind == "constant"
                                             else w.reshape(-1))
            elif eid in self.rows:
                row_length, ind = self.rows[eid]
                self.buffers[f"{s}_rowlen"][:] = row_length
                self.buffers[f"{s}_ind"][:] = ind.reshape(-1)
                self.buffers[f"{s}_g"][:] = self._to_ragged(eid, w).reshape(-1)
            else:
                self.buffers[f"{s}_g"][:] = w.reshape(-1)
            if d is not None:
                self.buffers[f"{s}_d"][:] = d.reshape(-1)
            self.synapses[eid] = (s, syn, w.shape)
            for v in syn.psm_vars:
                buf = f"{s}_{v.name}"
                self.initial[buf] = initial_values(graph, v.init, f"{eid}/{v.name}",
                                                   syn.num_post, rng_seed,
                                                   numpy_type(v.type, self.precision))
                self.state_keys[(eid, v.name)] = (buf, (B, syn.num_post))
            if syn.learning is not None:
                lr = syn.learning
                for v in lr.vars:
                    buf = f"{s}_{v.name}"
                    self.initial[buf] = np.zeros(builder.synapse_count(eid),
                                                 numpy_type(v.type, self.precision))
                    self.state_keys[(eid, v.name)] = (
                        buf, ((B,) if v.batched else ()) + (syn.num_pre, syn.num_post))
                    self._synapse_vars.add((eid, v.name))
                if not lr.backward:
                    buf = f"{s}_{lr.pre_trace}"
                    self.initial[buf] = np.zeros(syn.num_pre, numpy_type("scalar",
                                                                         self.precision))
                    self.state_keys[(eid, lr.pre_trace)] = (buf, (B, syn.num_pre))
        for buf, key in builder.constant_buffers.items():
            self.buffers[buf][:] = np.asarray(graph.array(key)).reshape(-1)
        for buf, values in builder.host_arrays.items():
            self.buffers[buf][:] = values
        self.losses = {lid: ln for lid, (ln, _) in builder.losses.items()}
        self._learning = bool(self.losses) or any(
            syn.learning is not None for _, syn, _ in self.synapses.values())
        self._learning_on = self._learning
        #: timesteps of an example event-driven learning can store (its backward filters')
        self._example_capacity = min((f.timesteps for _, f in graph.nodes(BackwardFilter)),
                                     default=None)
        self.by_name = {syn.name: eid for eid, (_, syn, _) in self.synapses.items()}
        self._prepare(kernel_profiling)
        self.reset(vars=True, time=True, in_syn=True)

    def _synapses(self):
        for u, v, k, syn in self.graph.synapses():
            yield edge_id(u, v, k), syn

    def _synapse_ids(self):
        return [eid for eid, _ in self._synapses()]

    # -- state --------------------------------------------------------------------------------
    def reset(self, *, vars=True, time=True, in_syn=False, readouts=True):
        key = ("reset", bool(vars), bool(in_syn), bool(readouts), self._initialised)
        self._overwrite(key, lambda: self._reset_values(*key[1:]))
        if vars:
            self.begin_example()
        if time:
            self.timestep = 0
        self._initialised = True

    def _reset_values(self, vars, in_syn, readouts, initialised):
        """``[(buffer, value)]`` a reset with these options writes: initial values, or 0."""
        out = []
        for nid, pop in self.graph.populations():
            g = self.prefix[nid]
            for v in pop.vars:
                # parameters (per-neuron values, trained biases) are not state: never reset
                if v.role == "param" and initialised:
                    continue
                if vars or (readouts and v.role == "readout"):
                    out.append(self._initial(f"{g}_{v.name}"))
            if vars:
                out.append((f"{g}_spkcnt", 0))
        for s, syn, _ in self.synapses.values():
            if vars:
                for v in syn.psm_vars:
                    out.append(self._initial(f"{s}_{v.name}"))
                if syn.learning is not None:
                    for v in syn.learning.vars:
                        out.append(self._initial(f"{s}_{v.name}"))
                    if not syn.learning.backward:
                        out.append(self._initial(f"{s}_{syn.learning.pre_trace}"))
            if in_syn:
                out.append((f"{s}_insyn", 0))
                if f"{s}_den" in self.buffers:
                    out.append((f"{s}_den", 0))
        return out

    def _initial(self, buf):
        """``(buf, its initial values)``."""
        return buf, self.initial[buf]

    def _overwrite(self, key, values):
        """Write whole buffers on the host: ``values()`` gives the ``[(buffer, value)]``
        (``value`` one element, or one row repeated over the buffer). Resets run before
        every batch, so the views to write are worked out once per ``key`` and kept (buffers
        are never reallocated); the device copies of the buffers are not newer any more."""
        plan = self._write_plans.get(key)
        if plan is None:
            writes = values()
            plan = self._write_plans[key] = (
                [name for name, _ in writes],
                [(self.buffers[name].reshape(-1, np.size(value)) if np.ndim(value)
                  else self.buffers[name], value) for name, value in writes])
        names, views = plan
        for view, value in views:
            view[...] = value
        self._stale.difference_update(names)
        self._dirty.update(names)

    # -- learning: traces and event-driven examples ----------------------------------------------
    def reset_traces(self):
        self._overwrite(("reset_traces",), self._trace_values)

    def _trace_values(self):
        """``[(buffer, initial value)]`` of forward learning's traces (not its gradients)."""
        out = []
        for s, syn, _ in self.synapses.values():
            lr = syn.learning
            if lr is None or lr.backward:
                continue
            for v in lr.vars:
                if v.name != lr.gradient:
                    out.append(self._initial(f"{s}_{v.name}"))
            out.append(self._initial(f"{s}_{lr.pre_trace}"))
        return out

    def begin_example(self):
        self._overwrite(("begin_example",), lambda: [(name, 0) for name in self._example_buffers])
        self._example_steps = 0
        self._pending = False

    #: the optimiser kernels can take event-driven gradients straight from the example's
    #: spikes and sequences (``Program.fused_optimiser_kernels``; C)
    fuses_event_gradients = False
    #: an example ended without materialising its event-driven gradients
    _pending = False

    def end_example(self, for_optimiser=False):
        if not self.program.end_kernels:
            return
        self._upload_dirty()
        defer = bool(for_optimiser and self.fuses_event_gradients and self.optimiser_in_kernels)
        with self._timed("end-of-example"):
            self._launch_end(materialise=not defer)
        self._pending = defer
        if not self.host_is_device:
            self._stale = {b.name for b in self.program.buffers if b.role == "state"}
        self._example_steps = 0

    _example_steps = 0

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

    # -- optimiser on the device ----------------------------------------------------------------
    @property
    def optimiser_in_kernels(self) -> bool:
        return bool(self.program.optimiser_kernels)

    def optimise(self, scalars: dict, rows: int):
        """One optimiser step of every parameter from the gradients of the first ``rows``
        batch rows (zeroing every row's gradients), with the optimiser's runtime ``scalars``."""
        values = self._host("optim_scalars", write=True)
        for i, name in enumerate(self.program.optimiser_scalars):
            values[i] = scalars[name]
        self._host("optim_rows", write=True)[0] = int(rows)
        self._upload_dirty()
        with self._timed("optimiser"):
            self._launch_optimise(fused=self._pending)
        self._pending = False
        if not self.host_is_device:
            self._stale = {b.name for b in self.program.buffers if b.role == "state"}

    def _check_example_capacity(self, timesteps):
        """Event-driven learning stores at most ``timesteps`` of the backward filters per
        example: refuse to run past it rather than drop steps."""
        if not (self._learning_on and self.program.end_kernels):
            return
        capacity = self._example_capacity
        if self._example_steps + timesteps > capacity:
            raise InputError(f"event-driven e-prop stores {capacity} timesteps per example "
                             f"(example_timesteps) but {self._example_steps + timesteps} were "
                             f"run with learning on; end the example (end_example) first, or "
                             f"compile with gradient_mode='online'")
        self._example_steps += timesteps

    _initialised = False

    def _host(self, name, write=False):
        """The host copy of buffer ``name``, brought up to date; ``write`` marks it for upload
        before the next run."""
        if name in self._stale:
            self._download(name, self.buffers[name])
            self._stale.discard(name)
        if write:
            self._dirty.add(name)
        return self.buffers[name]

    def _key(self, owner, name):
        try:
            return self.state_keys[(owner, name)]
        except KeyError:
            known = sorted(n for o, n in self.state_keys if o == owner)
            raise InputError(f"'{owner}' has no variable '{name}' (variables: {known})") \
                from None

    # -- trainable parameters in storage layout (no dense conversions for ragged groups) -------
    def parameter(self, target):
        if "/" in target or target not in self.rows:
            return super().parameter(target)
        return self._host(f"{self.synapses[target][0]}_g").copy()

    def set_parameter(self, target, values):
        if "/" in target or target not in self.rows:
            return super().set_parameter(target, values)
        self._host(f"{self.synapses[target][0]}_g", write=True)[:] = values

    def gradient_sum(self, target, var, rows):
        if "/" in target:
            return super().gradient_sum(target, var, rows)
        buf, shape = self._key(target, var)
        if len(shape) == 2:  # one gradient for the whole batch (event-driven learning)
            total = self._host(buf).astype(np.float64)
        else:
            total = self._host(buf).reshape(self.batch_size, -1)[:rows].sum(axis=0,
                                                                          dtype=np.float64)
        if target in self.rows:
            return total  # ragged padding never accumulates anything
        mask = self._existing(target)
        total = total.reshape(self.synapses[target][2])
        return total if mask is None else np.where(mask, total, 0.0)

    def zero_var(self, owner, var):
        buf, _ = self._key(owner, var)
        self._host(buf, write=True)[:] = 0

    # -- connectivity (Deep-R changes it) --------------------------------------------------------
    def synapse_mask(self, target):
        if target not in self.rows:
            return super().synapse_mask(target)
        syn = self.synapses[target][1]
        valid, pre, post = self._positions(target)
        mask = np.zeros((syn.num_pre, syn.num_post), bool)
        mask[pre, post] = True
        return mask

    def row_capacity(self, target):
        if target not in self.rows:
            return super().row_capacity(target)
        return int(self.rows[target][1].shape[1])

    def to_parameter_layout(self, target, dense):
        if target not in self.rows:
            return super().to_parameter_layout(target, dense)
        return self._to_ragged(target, np.asarray(dense)).reshape(-1)

    def _per_synapse_buffers(self, eid):
        s, syn, _ = self.synapses[eid]
        names = [f"{s}_g"]
        if syn.learning is not None:
            names += [f"{s}_{v.name}" for v in syn.learning.vars]
        return names

    def rewire(self, target, remove, add, carry=()):
        """Rewire a ragged group in place: only the rows that change are rebuilt (kept
        synapses move with all their per-synapse state; rows stay sorted by target)."""
        self._require_ragged(target, "rewire")
        _, remove, add = self._check_rewire(target, self.synapse_mask(target), remove, add)
        syn = self.synapses[target][1]
        n_post = syn.num_post
        row_length, ind = self.rows[target]
        M = ind.shape[1]
        rows = np.union1d(remove[0], add[0])
        cols = ind[rows]
        valid = np.arange(M)[None, :] < row_length[rows][:, None]
        gone = np.isin(rows[:, None] * n_post + cols, remove[0] * n_post + remove[1])
        kr, ks = np.nonzero(valid & ~gone)          # kept: row (into rows), old slot
        new_r = np.concatenate([kr, np.searchsorted(rows, add[0])])
        new_c = np.concatenate([cols[kr, ks], add[1]])
        src = np.concatenate([ks, np.full(len(add[0]), -1)])
        order = np.lexsort((new_c, new_r))          # by row, then ascending target
        new_r, new_c, src = new_r[order], new_c[order], src[order]
        slot = np.arange(len(new_r)) - np.searchsorted(new_r, new_r, side="left")
        ind[rows] = 0
        ind[rows[new_r], slot] = new_c
        row_length[rows] = np.bincount(new_r, minlength=len(rows))
        kept = src >= 0
        views = [self._host(b, write=True).reshape(-1, syn.num_pre, M)
                 for b in self._per_synapse_buffers(target)]
        shapes = [np.shape(c) for c in carry]
        carried = [np.array(c, copy=True).reshape(-1, syn.num_pre, M) for c in carry]
        for arr in views + carried:
            old = arr[:, rows, :]
            arr[:, rows, :] = 0
            arr[:, rows[new_r[kept]], slot[kept]] = old[:, new_r[kept], src[kept]]
        self._store_rows(target)
        return [c.reshape(shape) for c, shape in zip(carried, shapes)]

    def _store_rows(self, target):
        """Upload a ragged group's changed rows, and its synapses by postsynaptic neuron where
        its learning kernel walks those (``backends.kernels.learning.by_columns``)."""
        s, syn, _ = self.synapses[target]
        row_length, ind = self.rows[target]
        self._host(f"{s}_ind", write=True)[:] = ind.reshape(-1)
        self._host(f"{s}_rowlen", write=True)[:] = row_length
        if f"{s}_colstart" in self.buffers:
            for name, values in zip(COLUMN_BUFFERS, ragged_columns(row_length, ind,
                                                                   syn.num_post)):
                self._host(f"{s}_{name}", write=True)[:] = values

    def _require_ragged(self, target, what):
        """Connectivity changes need the ragged layout (rows with room): a clear error
        otherwise."""
        if target not in self.rows:
            syn = self.synapses[target][1]
            raise BackendError(f"Connection '{syn.name}' is stored {syn.layout}; only ragged "
                               f"(layout='sparse') connections can {what} their synapses")

    def set_connectivity(self, target, mask):
        self._require_ragged(target, "change")
        syn = self.synapses[target][1]
        mask = np.asarray(mask, bool).reshape(syn.num_pre, syn.num_post)
        row_length, ind = self.rows[target]
        new_len, new_ind, _ = ragged(np.zeros(mask.shape, np.float32), mask,
                                     capacity=ind.shape[1])
        row_length[:] = new_len
        ind[:] = new_ind
        self._store_rows(target)
        for b in self._per_synapse_buffers(target):
            self._host(b, write=True)[:] = 0

    # -- ragged <-> dense ------------------------------------------------------------------------
    def _positions(self, eid):
        row_length, ind = self.rows[eid]
        valid = np.arange(ind.shape[1])[None, :] < row_length[:, None]
        pre = np.nonzero(valid)[0]
        return valid, pre, ind[valid]

    def _to_dense(self, eid, values):
        """``(..., num_pre, max_row)`` ragged values -> ``(..., num_pre, num_post)``."""
        syn = self.synapses[eid][1]
        valid, pre, post = self._positions(eid)
        out = np.zeros(values.shape[:-2] + (syn.num_pre, syn.num_post), values.dtype)
        out[..., pre, post] = values[..., valid]
        return out

    def _to_ragged(self, eid, dense):
        """``(..., num_pre, num_post)`` -> ragged ``(..., num_pre, max_row)`` (absent: 0)."""
        valid, pre, post = self._positions(eid)
        out = np.zeros(dense.shape[:-2] + valid.shape, dense.dtype)
        out[..., valid] = dense[..., pre, post]
        return out

    def _ragged_key(self, node_id, name):
        """A per-synapse variable stored ragged (converted to/from dense here)."""
        return node_id in self.rows and (node_id, name) in self._synapse_vars

    def get_var(self, node_id, name):
        buf, shape = self._key(node_id, name)
        if self._ragged_key(node_id, name):
            return self._to_dense(node_id, self._host(buf).reshape(shape[:-1] + (-1,)))
        return self._host(buf).reshape(shape).copy()

    def set_var(self, node_id, name, values):
        buf, shape = self._key(node_id, name)
        values = self.check_var_values(node_id, name, values, shape)
        if self._ragged_key(node_id, name):
            self._host(buf, write=True)[:] = self._to_ragged(node_id, values).reshape(-1)
            return
        self._host(buf, write=True).reshape(shape)[...] = values

    def set_egp(self, node_id, name, values):
        g = self.prefix.get(node_id)
        key = f"{g}_egp_{name}"
        if key not in self._egp_index:
            pop = self.graph.node(node_id)
            raise InputError(f"'{node_id}' has no extra global parameter '{name}' "
                             f"(it has {[e.name for e in pop.egps]})")
        ct = self.program.egps[self._egp_index[key]].ctype
        self.egps[(node_id, name)] = np.ascontiguousarray(np.asarray(values).reshape(-1),
                                                          NUMPY_TYPES[ct])
        self._bindings_changed(egp=self._egp_index[key])

    def set_labels(self, loss_id, labels, active):
        """Labels (or targets) of this batch for loss node ``loss_id``; inactive rows (padding
        of a partial batch) contribute no error."""
        if loss_id not in self.losses:
            raise InputError(f"no loss node '{loss_id}' (losses: {sorted(self.losses)})")
        ln = self.losses[loss_id]
        self._host(f"{ln}_labels", write=True)[:] = np.asarray(labels).reshape(-1)
        self._host(f"{ln}_active", write=True)[:] = np.asarray(active, bool)

    @property
    def learning_enabled(self) -> bool:
        return self._learning_on

    @learning_enabled.setter
    def learning_enabled(self, on: bool):
        on = bool(on) and self._learning
        if on != self._learning_on:
            self._learning_on = on
            self._bindings_changed()

    def get_weights(self, edge):
        """Dense ``(num_pre, num_post)`` weights (zero where no synapse exists) whatever the
        layout; a procedural group's are regenerated on the host from the same draws."""
        eid = self.by_name.get(edge, edge)
        if eid not in self.synapses:
            raise InputError(f"no connection '{edge}' (connections: {sorted(self.by_name)})")
        s, syn, shape = self.synapses[eid]
        if eid in self.rows:
            return self._to_dense(eid, self._host(f"{s}_g").reshape(shape[0], -1))
        if syn.layout == "procedural":
            return synapse_arrays(self.graph, eid, syn, self.seed,
                                  numpy_type("scalar", self.precision))[0]
        if eid in self.bitmasks:
            g = self._host(f"{s}_g")
            return np.where(self._bit_mask(eid), g[0] if g.size == 1 else g.reshape(shape),
                            g.dtype.type(0))
        return self._host(f"{s}_g").reshape(shape).copy()

    def _bit_mask(self, eid):
        """Boolean ``(num_pre, num_post)`` mask of a bitmask group's synapses (unpacked on
        demand: a bitmask stores one bit per pair)."""
        return unpack_bitmask(self.bitmasks[eid], self.synapses[eid][1].num_post)

    def set_weights(self, edge, values):
        eid = self.by_name.get(edge, edge)
        if eid not in self.synapses:
            raise InputError(f"no connection '{edge}' (connections: {sorted(self.by_name)})")
        s, syn, shape = self.synapses[eid]
        values = self.check_var_values(edge, "weight", values, shape)
        if syn.layout in ("bitmask", "procedural"):
            mask = self._bit_mask(eid) if eid in self.bitmasks else None
            values = check_layout_weights(edge, syn, values, mask)   # refuses procedural
            g = self._host(f"{s}_g", write=True)
            if g.size > 1:
                g[:] = values.reshape(-1)
            elif mask.any():   # one stored value (a constant weight)
                g[:] = values[mask][0]
            return
        if eid in self.rows:
            values = check_layout_weights(edge, syn, values, self.synapse_mask(eid))
            self._host(f"{s}_g", write=True)[:] = self._to_ragged(eid, values).reshape(-1)
            return
        self._host(f"{s}_g", write=True).reshape(shape)[...] = values

    def export_state(self):
        return {"connectivity": {e: self.synapse_mask(e) for e, (_, syn, _) in
                                 self.synapses.items() if syn.rewiring is not None},
                "state": {k: self.get_var(*k) for k in self.state_keys},
                "egps": dict(self.egps), "timestep": self.timestep, "rng_step": self.rng_step,
                "weights": {e: self.get_weights(e) for e, (_, syn, _) in self.synapses.items()
                            if syn.layout != "procedural"},
                "in_syn": {e: self._host(f"{s}_insyn").reshape(self.batch_size, -1).copy()
                           for e, (s, _, _) in self.synapses.items()},
                "optimiser": {k: self._host(b).copy()
                              for k, b in self._optimiser_buffers.items()},
                "spikes": {nid: {name: self._host(f"{g}_{name}").copy()
                                 for name in ("spk", "spkcnt", "spksign")
                                 if f"{g}_{name}" in self.buffers}
                           for nid, _ in self.graph.populations()
                           for g in (self.prefix[nid],)}}

    def import_state(self, st):
        for e, mask in st.get("connectivity", {}).items():
            if e in self.rows:
                self.set_connectivity(e, mask)
        for k, v in st["state"].items():
            if k in self.state_keys and self.state_keys[k][1] == v.shape:
                self.set_var(*k, v)
        self.egps.update(st["egps"])
        self._bindings_changed()
        self.timestep, self.rng_step = st["timestep"], st["rng_step"]
        for e, w in st["weights"].items():
            if e in self.synapses:
                self.set_weights(e, w)
        for e, in_syn in st["in_syn"].items():
            if e in self.synapses:
                self._host(f"{self.synapses[e][0]}_insyn", write=True)[:] = in_syn.reshape(-1)
        # spikes in flight (emitted, not yet delivered) and the optimiser's moments survive a
        # rebuild (e.g. when a callback adds a recorder)
        for nid, arrays in st.get("spikes", {}).items():
            g = self.prefix.get(nid)
            for name, values in arrays.items():
                buf = f"{g}_{name}"
                if g is not None and buf in self.buffers and \
                        self.buffers[buf].shape == values.shape:
                    self._host(buf, write=True)[:] = values
        for k, values in st.get("optimiser", {}).items():
            buf = self._optimiser_buffers.get(k)
            if buf is not None and self.buffers[buf].shape == values.shape:
                self._host(buf, write=True)[:] = values

    # -- recording ----------------------------------------------------------------------------
    def begin_batch(self, timesteps, recorders=None):
        if self._recording or recorders:
            self._bindings_changed()
        self._recording = {}
        for rid, rows in (recorders or {}).items():
            if rid not in self._recorder_index:
                raise BackendError(f"no recorder '{rid}' in the IR (recorders: "
                                   f"{sorted(self._recorder_index)})")
            _, kind, _, n, per_step, _ = self.program.recorders[self._recorder_index[rid]]
            rows = np.ascontiguousarray(rows, np.int32)
            if kind == "spikes":
                buf = np.zeros((len(rows), timesteps, per_step), np.uint32)
            else:
                var = self.graph.node(self.recorders[rid].source).var(self.recorders[rid].var)
                buf = np.zeros((len(rows), timesteps, n), numpy_type(var.type, self.precision))
            self._recording[rid] = (rows, buf, kind, n)
        self.recorded_timesteps = 0

    def recording(self, rec_id):
        if rec_id not in self._recording:
            raise BackendError(f"nothing was recorded as '{rec_id}' in this batch (recorded: "
                               f"{sorted(self._recording)})")
        rows, buf, kind, n = self._recording[rec_id]
        self._download_recording(rec_id, buf)
        data = buf[:, :self.recorded_timesteps]
        if kind == "spikes":
            bits = np.unpackbits(data.view(np.uint8), axis=-1, bitorder="little")
            data = bits[..., :n].astype(bool)
        return rows, data

    # -- running ------------------------------------------------------------------------------
    def _check_egps(self):
        for node, egp in self._egp_keys.values():
            if (node, egp) not in self.egps:
                pop = self.graph.node(node)
                raise InputError(f"Population '{pop.name}': its input ('{egp}') was never set; "
                                 f"pass input data for it to evaluate/predict")

    def egp_array(self, buffer_name):
        """The array bound to the extra global parameter buffer ``buffer_name``."""
        return self.egps[self._egp_keys[buffer_name]]

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
        if not self.host_is_device:
            self._stale = {b.name for b in self.program.buffers if b.role == "state"}
        self.timestep += timesteps
        self.rng_step += timesteps
        if self._recording:
            self.recorded_timesteps = min(self.recorded_timesteps + timesteps,
                                          max(b.shape[1] for _, b, _, _ in
                                              self._recording.values()))

    def fused_arguments(self, to_device, dummy, steps) -> list:
        """Arguments of a fused ``irsnn_run`` kernel (see
        :meth:`~backends.kernels.KernelRenderer.fused_kernel`), in order: state buffers,
        extra global parameters, recorders (buffer, rows, count, capacity), then the scalars.
        ``to_device(host)`` makes (and the caller caches) a device copy of a host array;
        ``dummy`` stands in for disabled recorders and empty arrays."""
        args = [self.dev[b.name] for b in self.program.buffers]
        for b in self.program.egps:
            host = self.egp_array(b.name)
            cached = self._egp_dev.get(b.name)
            if cached is None or cached[0] is not host:
                self._egp_dev[b.name] = (host, to_device(host) if host.size else dummy)
            args.append(self._egp_dev[b.name][1])
        for rec in self.program.recorders:
            rid = rec[0]
            if rid in self._recording:
                rows, buf, _, _ = self._recording[rid]
                cached = self._rec_dev.get(rid)
                if cached is None or cached[0] is not buf:
                    self._rec_dev[rid] = (buf, to_device(buf),
                                          to_device(rows) if rows.size else dummy)
                _, dbuf, drows = self._rec_dev[rid]
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
        """Note that what the native code must be handed besides the (fixed) buffers changed:
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

    @abstractmethod
    def _launch(self, steps: int):
        """Run ``steps`` timesteps from ``self.timestep`` / ``self.rng_step`` natively."""

    # Targets that launch kernels one by one (OpenCL, CUDA) set ``end_kernels`` (the fused
    # sweep and restart kernels), ``scatter_kernels`` and ``optimiser_kernels`` (``(kernel,
    # rows)`` from :meth:`_row_kernels`) and implement :meth:`_launch_rows`; C overrides these.
    end_kernels: tuple = ()
    scatter_kernels: tuple = ()
    optimiser_kernels: tuple = ()

    @staticmethod
    def _row_kernels(get, kernels) -> list:
        """``[(compiled kernel, grid extent)]`` of one-dimensional kernels, by name."""
        return [(get(k.name), k.grid[0].extent) for k in kernels]

    def _launch_end(self, materialise=True):
        """Run the backward sweeps (``program.end_kernels``) natively, then with
        ``materialise`` the scatter and restart kernels. Targets without fused optimiser
        kernels always materialise."""
        sweep, restart = self.end_kernels
        self._launch(0, sweep)
        self._launch_rows(self.scatter_kernels)
        self._launch(0, restart)

    def _launch_optimise(self, fused=False):
        """Run the optimiser kernels (``program.optimiser_kernels``, or with ``fused``
        ``program.fused_optimiser_kernels`` and the restart kernels) natively."""
        self._launch_rows(self.optimiser_kernels)

    def _launch_rows(self, kernels):
        """Launch ``(kernel, rows)`` pairs over all state buffers, one work-item per row, and
        wait for them."""
        raise BackendError(f"{type(self).__name__} cannot launch row kernels")

    def _upload_dirty(self):
        """Upload every buffer written on the host since the last upload (before a launch)."""
        if not self.host_is_device:
            for name in sorted(self._dirty):
                self._upload(name, self.buffers[name])
        self._dirty.clear()

    def _upload(self, name, host):
        """Copy the host copy of buffer ``name`` to the device."""

    def _download(self, name, host):
        """Copy buffer ``name`` from the device into its host copy."""

    def _download_recording(self, rec_id, host):
        """Copy a recording buffer from the device into ``host``."""

    def _times(self):
        """Accumulated seconds per kernel (profiling builds)."""
        return [0.0] * len(self.kernel_names)
