"""The NumPy reference simulation: executes the IR directly, vectorised over batch and neurons.

Requires: a scheduled IR graph, :mod:`irsnn.ir.scopes`, :mod:`irsnn.rng`, :mod:`..host_init`,
the layout strategies (:func:`~backends.kernels.layouts.layout_of`: how a group's weights are
checked and held), :mod:`..state`, :mod:`.codegen`, :mod:`.learning` and NumPy. Provides
:class:`ReferenceSimulation`, the :class:`~backends.base.Simulation` of the reference backend.

Per timestep it follows GeNN's order:

1. spike propagation: every synapse group adds ``spikes @ W`` of the spikes its source emitted
   ``delay_steps`` steps ago to ``inSyn`` (per-synapse delays go through a dendritic ring
   buffer, as GeNN's);
2. postsynaptic models turn ``inSyn`` into ``Isyn`` (``injectCurrent``);
3. neuron update: sim code, threshold (and negative threshold), reset of the neurons that spiked;
4. recording; then the clock advances.

All state is float32 (``scalar``) unless the model says otherwise; exponential decays are the
exact factors computed at lowering time. This backend is the oracle the others are tested
against, so it favours clarity over speed (it is still vectorised: no Python loop per neuron).
Resets follow the rules shared with the kernel backends (:func:`backends.state.reset_entries`)
and the state moves between simulations as a :class:`backends.state.SimulationState`.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict

import numpy as np

from irsnn import settings
from irsnn.errors import BackendError, InputError
from irsnn.ir import NeuronGroup, RecorderNode, SynapseGroup, edge_id
from irsnn.ir.ids import var_ref
from irsnn.ir.scopes import check_neuron, check_psm
from irsnn.rng import CounterRNG, LaneRNG

from ..base import Simulation
from ..host_init import initial_values, numpy_type, stream_id, synapse_arrays
from ..kernels.layouts import layout_of
from ..state import (DENDRITIC, IN_SYN, INITIAL, SPIKES, SimulationState, reset_entries,
                     state_variables, trace_entries)
from .codegen import compile_block
from .learning import Learning


def _sequential_sum(start, rows):
    """``((start + rows[0]) + rows[1]) + ...`` in the dtype of ``start`` (no pairwise sums)."""
    return np.cumsum(np.concatenate([start[None], rows.astype(start.dtype)]), axis=0)[-1]


class _Neurons:
    """Compiled code and state of one neuron group."""

    def __init__(self, nid, pop: NeuronGroup, batch, precision, rng):
        self.nid, self.pop = nid, pop
        n = pop.size
        checked = check_neuron(nid, pop, precision)
        self.sim = compile_block(checked.sim_code)
        self.threshold = compile_block(checked.threshold_code)
        self.neg_threshold = compile_block(checked.negative_threshold_code)
        self.reset = compile_block(checked.reset_code)
        self.writable = [v.name for v in pop.vars if v.access == "readwrite"]
        self.dtypes = {v.name: numpy_type(v.type, precision) for v in pop.vars}
        self.constants = {p.name: numpy_type(p.type, precision)(p.value) for p in pop.params}
        self.constants.update({
            "id": np.arange(n, dtype=np.uint32)[None, :],
            "batch": np.arange(batch, dtype=np.uint32)[:, None],
            "num_neurons": np.uint32(n), "num_batch": np.uint32(batch)})
        if settings.debug_level() >= 4:
            for block in ("sim", "threshold", "neg_threshold", "reset"):
                code = getattr(self, block)
                if code is not None:
                    sys.stderr.write(f"// ----- {nid} {block} (NumPy) -----\n{code.source}\n")
        self.additional = {name: numpy_type(typ, precision)(init)
                           for name, typ, init in pop.additional_input_vars}
        # One block of 256 streams per population; the call site picks the stream
        self.rng = LaneRNG(rng, stream_offset=stream_id(nid) & 0xFFFFFF00)
        self.lane_shape = (batch, n)
        self.spikes = np.zeros((pop.spike_history, batch, n), np.float32)
        self.signed = checked.negative_threshold_code is not None


class _Synapses:
    """Weights, delays and postsynaptic state of one synapse group."""

    def __init__(self, eid, syn: SynapseGroup, target: NeuronGroup, batch, precision, seed,
                 graph):
        self.eid, self.syn = eid, syn
        # every layout but one-to-one is computed as a dense matrix with zeros
        w, d = synapse_arrays(graph, eid, syn, seed, numpy_type("scalar", precision))
        self.weights, self.delays = w, d
        self.layout = layout_of(syn)
        self.psm = compile_block(check_psm(syn, target, precision))
        self.constants = {p.name: numpy_type(p.type, precision)(p.value)
                          for p in syn.psm_params}
        self.psm_writable = [v.name for v in syn.psm_vars if v.access == "readwrite"]
        self.in_syn = np.zeros((batch, syn.num_post), numpy_type("scalar", precision))
        if d is not None:
            # The ring buffer holds input arriving in future steps (dendritic delays)
            self.ring = np.zeros((syn.max_delay_steps + 1, batch, syn.num_post), w.dtype)


class ReferenceSimulation(Simulation):
    """A running NumPy simulation of an IR graph (see the module docstring)."""

    def __init__(self, graph, *, rng_seed=0, kernel_profiling=False):
        super().__init__(graph, rng_seed)
        self.profiling = kernel_profiling
        self.kernel_times = defaultdict(float)
        self.timestep = 0
        # Random streams are keyed on a step count that never restarts (unlike the clock,
        # which batches may reset), so every batch draws fresh numbers
        self.rng_step = 0
        rng = CounterRNG(rng_seed)
        B = self.batch_size
        self.neurons = {nid: _Neurons(nid, p, B, self.precision, rng)
                        for nid, p in graph.populations()}
        self.synapses = {}
        self.incoming = defaultdict(list)
        for u, v, k, syn in graph.synapses():
            eid = edge_id(u, v, k)
            self.synapses[eid] = _Synapses(eid, syn, graph.node(v), B, self.precision,
                                           rng_seed, graph)
            self.incoming[v].append(self.synapses[eid])
        self.by_name = {s.syn.name: s for s in self.synapses.values()}
        self.recorders = {rid: r for rid, r in graph.nodes(RecorderNode)}
        self.initial = {}
        for nid, p in graph.populations():
            for v in p.vars:
                self.initial[(nid, v.name)] = initial_values(
                    graph, v.init, var_ref(nid, v.name), p.size, rng_seed, self.neurons[nid].dtypes[
                        v.name])
        for eid, s in self.synapses.items():
            for v in s.syn.psm_vars:
                self.initial[(eid, v.name)] = initial_values(
                    graph, v.init, var_ref(eid, v.name), s.syn.num_post, rng_seed,
                    numpy_type(v.type, self.precision))
        #: (owner, variable) -> its :class:`~backends.state.StateVariable`
        self.variables = {(v.owner, v.name): v for v in state_variables(graph)}
        self.state: dict[tuple[str, str], np.ndarray] = {}
        #: reset options -> the :class:`~backends.state.ResetEntry` list they write
        self._resets: dict[tuple, list] = {}
        self._initialised = False
        self.learning = Learning(self)
        self.egps: dict[tuple[str, str], np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.recorded_timesteps = 0
        self.reset(vars=True, time=True, in_syn=True)

    # -- state --------------------------------------------------------------------------------
    def _fresh(self, key):
        init = self.initial[key]
        return np.broadcast_to(init, (self.batch_size,) + init.shape).copy() \
            if self.variables[key].batched else init.copy()

    def reset(self, *, vars=True, time=True, in_syn=False, readouts=True):
        key = (bool(vars), bool(in_syn), bool(readouts), self._initialised)
        if key not in self._resets:
            self._resets[key] = reset_entries(self.graph, vars=key[0], in_syn=key[1],
                                              readouts=key[2], initialised=key[3])
        self._write(self._resets[key])
        self._sync_delays()
        if vars:
            self.learning.begin_example()
        if time:
            self.timestep = 0
        self._initialised = True

    def _sync_delays(self):
        """The steps learnable delays deliver after: each synapse's delay variable rounded to
        the nearest step (halves up, as mlGeNN's ``round``) and clipped to ``[0,
        max_delay_steps]``."""
        for eid, s in self.synapses.items():
            lr = s.syn.learning
            key = (eid, lr.delay_var) if lr is not None and lr.delay_var else None
            if key in self.state:
                s.delays = np.clip(np.floor(self.state[key].astype(np.float64) + 0.5), 0,
                                   s.syn.max_delay_steps).astype(np.int32)

    def _write(self, entries):
        """Apply :class:`~backends.state.ResetEntry` items (see :mod:`backends.state`)."""
        for owner, variable, value in entries:
            if variable == SPIKES:
                self.neurons[owner].spikes[:] = 0
            elif variable == IN_SYN:
                self.synapses[owner].in_syn[:] = 0
            elif variable == DENDRITIC:
                self.synapses[owner].ring[:] = 0
            elif value == INITIAL:
                self.state[(owner, variable)] = self._fresh((owner, variable))
            else:
                self.state[(owner, variable)] = np.zeros_like(self.state[(owner, variable)])

    def _lookup(self, node_or_edge, name):
        key = (node_or_edge, name)
        if key not in self.state:
            owner = self.neurons.get(node_or_edge)
            known = [v.name for v in owner.pop.vars] if owner else []
            raise InputError(f"'{node_or_edge}' has no variable '{name}' (variables: {known})")
        return key

    def get_var(self, node_id, name):
        return self.state[self._lookup(node_id, name)].copy()

    def set_var(self, node_id, name, values):
        key = self._lookup(node_id, name)
        cur = self.state[key]
        arr = self.check_var_values(node_id, name, values, cur.shape)
        self.state[key] = np.array(arr, dtype=cur.dtype)
        if node_id in self.synapses:
            self._sync_delays()

    def native_var(self, node_id, name):
        """The simulation's own array of the variable (a view: writes change the state)."""
        key = self._lookup(node_id, name)
        arr = self.state[key]
        if not (arr.flags.writeable and arr.flags.c_contiguous):
            arr = self.state[key] = np.array(arr, order="C")
        return arr.reshape(self._native_shape(node_id, name))

    def native_written(self, node_id, name, array):
        """Nothing to do: :meth:`native_var`'s arrays are the state itself."""

    def set_labels(self, loss_id, labels, active):
        """Labels (or regression targets) of this batch for loss node ``loss_id``; rows with
        ``active`` False (padding of a partial batch) contribute no error."""
        self.learning.set_labels(loss_id, labels, active)

    @property
    def learning_enabled(self) -> bool:
        return self.learning.enabled

    @learning_enabled.setter
    def learning_enabled(self, on: bool):
        self.learning.enabled = bool(on) and self.learning.available

    def reset_traces(self):
        if "traces" not in self._resets:
            self._resets["traces"] = trace_entries(self.graph)
        self._write(self._resets["traces"])

    def begin_example(self):
        self.learning.begin_example()

    def end_example(self, for_optimiser=False):
        self._timed("end-of-example", self.learning.end_example,
                    for_optimiser and self.optimiser_in_kernels)

    # -- optimiser (the kernels' arithmetic, element by element, in NumPy) ----------------------
    @property
    def optimiser_in_kernels(self) -> bool:
        return self.learning.optimiser is not None

    def optimise(self, scalars, rows):
        self._timed("optimiser", self.learning.optimise, scalars, rows)

    def set_egp(self, node_id, name, values):
        pop = self.neurons[node_id].pop
        egp = next((e for e in pop.egps if e.name == name), None)
        if egp is None:
            raise InputError(f"'{node_id}' has no extra global parameter '{name}' "
                             f"(it has {[e.name for e in pop.egps]})")
        self.egps[(node_id, name)] = np.ascontiguousarray(
            np.asarray(values).reshape(-1), numpy_type(egp.type.rstrip("*").strip(),
                                                       self.precision))

    def get_weights(self, edge):
        s = self.by_name.get(edge) or self.synapses.get(edge)
        if s is None:
            raise InputError(f"no connection '{edge}' (connections: {sorted(self.by_name)})")
        return s.weights.copy()

    def set_weights(self, edge, values):
        s = self.by_name.get(edge) or self.synapses.get(edge)
        if s is None:
            raise InputError(f"no connection '{edge}' (connections: {sorted(self.by_name)})")
        values = self.check_var_values(f"Connection '{s.syn.name}'", "weight", values,
                                       s.weights.shape, finite=True)
        # layouts storing existing synapses only cannot add any (Deep-R changes which exist)
        mask = self.synapse_mask(s.eid) if s.layout.absent_as_zero else None
        values = s.layout.check_weights(s.syn, values, mask)
        s.weights = np.array(values, s.weights.dtype)

    # -- connectivity (Deep-R changes it; stored as dense matrices with zeros) ----------------
    def _zero_synapses(self, target, positions):
        s = self.synapses[target]
        s.weights[positions] = 0
        if s.syn.learning is not None:
            for v in s.syn.learning.vars:
                lead = (slice(None),) if v.batched else ()
                self.state[(target, v.name)][lead + tuple(positions)] = 0

    def rewire(self, target, remove, add, carry=()):
        new, remove, add = self._check_rewire(target, self.synapse_mask(target), remove, add)
        out = []
        for c in carry:
            c = np.array(c, copy=True)
            c[remove] = 0
            c[add] = 0
            out.append(c)
        self._zero_synapses(target, remove)
        self._zero_synapses(target, add)
        self._masks[target] = new
        return out

    def set_connectivity(self, target, mask):
        s = self.synapses[target]
        mask = np.asarray(mask, bool).reshape(s.syn.num_pre, s.syn.num_post)
        self.synapse_mask(target)   # creates the cache
        self._masks[target] = mask.copy()
        self._zero_synapses(target, np.nonzero(~mask))

    def export_state(self) -> SimulationState:
        return SimulationState(
            timestep=self.timestep, rng_step=self.rng_step,
            variables={k: v.copy() for k, v in self.state.items()},
            egps=dict(self.egps),
            weights={e: s.weights.copy() for e, s in self.synapses.items()},
            in_syn={e: s.in_syn.copy() for e, s in self.synapses.items()},
            optimiser=self.learning.optimiser_state(),
            spikes={nid: n.spikes.astype(np.int8) for nid, n in self.neurons.items()},
            connectivity={e: self.synapse_mask(e) for e, s in self.synapses.items()
                          if s.syn.rewiring is not None})

    def import_state(self, state: SimulationState) -> None:
        for e, mask in state.connectivity.items():
            if e in self.synapses:
                self.set_connectivity(e, mask)
        for k, v in state.variables.items():
            if k in self.state and self.state[k].shape == v.shape:
                self.state[k] = v.copy()
        self.egps.update(state.egps)
        self.timestep = state.timestep
        self.rng_step = state.rng_step
        for e, w in state.weights.items():
            if e in self.synapses:
                self.synapses[e].weights = w.copy()
        for e, in_syn in state.in_syn.items():
            if e in self.synapses:
                self.synapses[e].in_syn = in_syn.copy()
        # spikes in flight (emitted, not yet delivered) and the optimiser's moments survive a
        # rebuild (e.g. when a callback adds a recorder)
        for nid, spikes in state.spikes.items():
            if nid in self.neurons and self.neurons[nid].spikes.shape == spikes.shape:
                self.neurons[nid].spikes = spikes.astype(np.float32)
        self.learning.set_optimiser_state(state.optimiser)
        self._sync_delays()

    # -- recording ----------------------------------------------------------------------------
    def begin_batch(self, timesteps, recorders=None):
        self.buffers = {}
        for rid, rows in (recorders or {}).items():
            if rid not in self.recorders:
                raise BackendError(f"no recorder '{rid}' in the IR (recorders: "
                                   f"{sorted(self.recorders)})")
            r = self.recorders[rid]
            rows = np.asarray(rows, np.int64)
            n = self.neurons[r.source].pop.size
            dtype = np.bool_ if r.what == "spikes" else self.neurons[r.source].dtypes[r.var]
            self.buffers[rid] = (rows, np.zeros((len(rows), timesteps, n), dtype))
        self.recorded_timesteps = 0

    def recording(self, rec_id):
        if rec_id not in self.buffers:
            raise BackendError(f"nothing was recorded as '{rec_id}' in this batch (recorded: "
                               f"{sorted(self.buffers)})")
        rows, buf = self.buffers[rec_id]
        return rows, buf[:, :self.recorded_timesteps]

    # -- stepping -----------------------------------------------------------------------------
    def run(self, timesteps):
        self.learning.check_capacity(int(timesteps))
        for _ in range(int(timesteps)):
            self._step()

    def _timed(self, name, fn, *args):
        if not self.profiling:
            return fn(*args)
        start = time.perf_counter()
        out = fn(*args)
        self.kernel_times[name] += time.perf_counter() - start
        return out

    def _step(self):
        for eid, s in self.synapses.items():
            self._timed(f"propagate:{eid}", self._propagate, s)
        spikes = {}
        for nid, n in self.neurons.items():
            spikes[nid] = self._timed(f"neuron:{nid}", self._update_neurons, n)
        if self.learning.enabled:
            self._timed("learn", self.learning.step, spikes)
        for nid, n in self.neurons.items():
            n.spikes[self.timestep % n.pop.spike_history] = spikes[nid]
        self._timed("record", self._record, spikes)
        self.timestep += 1
        self.rng_step += 1

    def _propagate(self, s):
        """Add the weight rows of the presynaptic neurons that spiked ``delay_steps`` ago.

        Rows are added one after another in ascending presynaptic order (``np.cumsum`` is a
        sequential sum), the order every backend uses, so float32 results are bit-identical.
        """
        syn = s.syn
        pre = self.neurons[syn.source]
        spk = pre.spikes[(self.timestep - syn.delay_steps) % pre.pop.spike_history]
        self.learning.trace(s, spk)
        if s.delays is not None:
            L = s.ring.shape[0]
            slot = self.timestep % L
            for b in np.flatnonzero(spk.any(axis=1)):
                idx = np.flatnonzero(spk[b])
                rows = s.weights[idx] * spk[b, idx, None]
                for k in np.unique(s.delays[idx]):
                    target = (slot + k) % L
                    s.ring[target, b] = _sequential_sum(s.ring[target, b],
                                                        np.where(s.delays[idx] == k, rows, 0))
            s.in_syn += s.ring[slot]
            s.ring[slot] = 0
        elif s.layout.per_neuron:
            if spk.any():
                s.in_syn += spk * s.weights
        else:
            for b in np.flatnonzero(spk.any(axis=1)):
                idx = np.flatnonzero(spk[b])
                s.in_syn[b] = _sequential_sum(s.in_syn[b], s.weights[idx] * spk[b, idx, None])

    def _env(self, n, key):
        env = dict(n.constants)
        env["t"] = self.scalar(self.timestep * self.dt)
        env["dt"] = self.scalar(self.dt)
        for v in n.pop.vars:
            env[v.name] = self.state[(key, v.name)]
        for e in n.pop.egps:
            arr = self.egps.get((key, e.name))
            if arr is None:
                raise InputError(f"Population '{n.pop.name}': its input ('{e.name}') was never "
                                 f"set; pass input data for it to evaluate/predict")
            env[e.name] = arr
        return env

    def _scheduled_spikes(self, n):
        """This step's spikes of a spike-schedule group, read from its schedule."""
        env = self._env(n, n.nid)
        first, steps = (int(v) for v in env["ScheduleWindow"][:2])
        out = np.zeros((self.batch_size, n.pop.size), np.float32)
        k = self.timestep - first
        if 0 <= k < steps:
            offsets = env["ScheduleOffsets"]
            for b in range(self.batch_size):
                at = b * steps + k
                out[b, env["ScheduleSpikes"][offsets[at]:offsets[at + 1]]] = 1.0
        return out

    def _update_neurons(self, n):
        if n.pop.spike_schedule:
            return self._scheduled_spikes(n)
        nid, B, size = n.nid, self.batch_size, n.pop.size
        isyn = np.zeros((B, size), self.scalar)
        extra = {k: np.full((B, size), v) for k, v in n.additional.items()}
        for s in self.incoming[nid]:
            isyn, extra = self._apply_psm(s, n, isyn, extra)
        env = self._env(n, nid)
        env.update(extra)
        env["Isyn"] = isyn
        n.rng.begin_step(self.rng_step)
        env["__rng__"] = n.rng
        env["__shape__"] = n.lane_shape
        if n.sim is not None:
            n.sim.run(env)
        out = np.zeros((B, size), np.float32)
        if n.threshold is not None:
            fired = np.broadcast_to(n.threshold.evaluate(env), (B, size))
            out[fired] = 1.0
            if n.neg_threshold is not None:
                neg = np.broadcast_to(n.neg_threshold.evaluate(env), (B, size)) & ~fired
                out[neg] = -1.0
            if n.reset is not None and out.any():
                n.reset.run(env, out != 0)
        for name in n.writable:
            self.state[(nid, name)] = np.broadcast_to(
                env[name], (B, size)).astype(n.dtypes[name], copy=True)
        return out

    def _apply_psm(self, s, n, isyn, extra):
        if s.psm is None:
            return isyn, extra
        env = dict(n.constants)
        env.update(s.constants)
        env.update(extra)
        env["t"] = self.scalar(self.timestep * self.dt)
        env["dt"] = self.scalar(self.dt)
        env["inSyn"] = s.in_syn
        env["Isyn"] = isyn
        for v in s.syn.psm_vars:
            env[v.name] = self.state[(s.eid, v.name)]

        def inject(mask, x):
            x = np.asarray(x, self.scalar)
            env["Isyn"] = env["Isyn"] + (x if mask is None else np.where(mask, x, 0))
        env["__intrinsics__"] = {"injectCurrent": inject}
        s.psm.run(env)
        shape = (self.batch_size, s.syn.num_post)
        s.in_syn = np.broadcast_to(env["inSyn"], shape).astype(s.in_syn.dtype, copy=True)
        for name in s.psm_writable:
            self.state[(s.eid, name)] = np.broadcast_to(env[name], shape).copy()
        extra = {k: env[k] for k in extra}
        return np.broadcast_to(env["Isyn"], shape).astype(self.scalar), extra

    def _record(self, spikes):
        if not self.buffers:
            return
        k = self.recorded_timesteps
        for rid, (rows, buf) in self.buffers.items():
            if k >= buf.shape[1]:
                raise BackendError(f"recording buffer '{rid}' holds {buf.shape[1]} timesteps; "
                                   f"call begin_batch before running more")
            r = self.recorders[rid]
            src = spikes[r.source] != 0 if r.what == "spikes" else self.state[(r.source, r.var)]
            buf[:, k] = src[rows]
        self.recorded_timesteps += 1
