"""The C backend's simulation: NumPy-owned state, a compiled library, one native call per run.

Every buffer is a NumPy array allocated here; the library receives their addresses
(``irsnn_bind``) and runs whole multi-timestep loops (``irsnn_run``) without calling back into
Python. Reading or writing state is therefore plain NumPy on the same memory. Recordings go into
per-batch buffers (spikes bit-packed, 32 neurons per word) that the library fills natively.
"""

from __future__ import annotations

import ctypes
import os
import re
import sys

import numpy as np

from irsnn.errors import BackendError, InputError
from irsnn.ir import RecorderNode, edge_id

from ..base import Simulation
from ..host_init import initial_values, numpy_type, synapse_arrays
from ..kernels import KernelBuilder
from .source import API_VERSION, c_source
from .toolchain import build_library

_NP = {"float": np.float32, "double": np.float64, "int32_t": np.int32, "uint32_t": np.uint32,
       "int8_t": np.int8, "bool": np.bool_}


class CSimulation(Simulation):
    """A model compiled to C and loaded with ctypes (see the module docstring)."""

    def __init__(self, graph, *, rng_seed=0, kernel_profiling=False):
        self.graph = graph
        self.dt = float(graph.attrs["dt"])
        self.batch_size = B = int(graph.attrs["batch_size"])
        self.precision = graph.attrs.get("precision", "float")
        self.seed = int(rng_seed)
        builder = KernelBuilder(graph)
        self.program = program = builder.build()
        self.prefix = builder.group_names()
        self.source = c_source(program, graph.name, kernel_profiling)
        if int(os.environ.get("IRSNN_DEBUG", "0") or 0) >= 4:
            sys.stderr.write(f"// ----- generated C for '{graph.name}' -----\n{self.source}")
        name = re.sub(r"[^A-Za-z0-9_]", "_", graph.name) or "model"
        self.library_path, self.cache_hit = build_library(self.source, name)
        self.lib = ctypes.CDLL(str(self.library_path))
        self._declare_api()
        if self.lib.irsnn_api_version() != API_VERSION:
            raise BackendError(f"cached library {self.library_path} has API "
                               f"{self.lib.irsnn_api_version()}, expected {API_VERSION}; "
                               f"delete it and compile again")

        self.buffers = {b.name: np.zeros(b.size, _NP[b.ctype]) for b in program.buffers}
        self._pointers = (ctypes.c_void_p * max(1, len(program.buffers)))(
            *[a.ctypes.data for a in self.buffers.values()])
        self.egps: dict[tuple[str, str], np.ndarray] = {}
        self._egp_index = {b.name: k for k, b in enumerate(program.egps)}
        self.kernel_names = [k.label or k.name for k in program.kernels]
        self.kernel_times = {k: 0.0 for k in self.kernel_names} if kernel_profiling else {}
        self._profiling = kernel_profiling
        self.recorders = {rid: r for rid, r in graph.nodes(RecorderNode)}
        self._recorder_index = {rec[0]: k for k, rec in enumerate(program.recorders)}
        self._recording: dict[str, tuple] = {}
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
        for eid, syn in self._synapses():
            s = self.prefix[eid]
            w, d = synapse_arrays(graph, eid, syn, rng_seed, numpy_type("scalar",
                                                                          self.precision))
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
                    self.initial[buf] = np.zeros(syn.num_pre * syn.num_post,
                                                 numpy_type(v.type, self.precision))
                    self.state_keys[(eid, v.name)] = (buf, (B, syn.num_pre, syn.num_post))
                buf = f"{s}_{lr.pre_trace}"
                self.initial[buf] = np.zeros(syn.num_pre, numpy_type("scalar", self.precision))
                self.state_keys[(eid, lr.pre_trace)] = (buf, (B, syn.num_pre))
        for buf, key in builder.constant_buffers.items():
            self.buffers[buf][:] = np.asarray(graph.array(key)).reshape(-1)
        self.losses = {lid: ln for lid, (ln, _) in builder.losses.items()}
        self._learning = bool(self.losses) or any(
            syn.learning is not None for _, syn, _ in self.synapses.values())
        self._learning_on = self._learning
        self.by_name = {syn.name: eid for eid, (_, syn, _) in self.synapses.items()}
        self.reset(vars=True, time=True, in_syn=True)

    def _synapses(self):
        for u, v, k, syn in self.graph.synapses():
            yield edge_id(u, v, k), syn

    def _synapse_ids(self):
        return [eid for eid, _ in self._synapses()]

    def _declare_api(self):
        lib, vp, i32, i64, u32 = (self.lib, ctypes.c_void_p, ctypes.c_int32, ctypes.c_int64,
                                  ctypes.c_uint32)
        lib.irsnn_bind.argtypes = [ctypes.POINTER(vp), ctypes.c_uint64]
        lib.irsnn_bind_egp.argtypes = [i32, vp]
        lib.irsnn_bind_recorder.argtypes = [i32, vp, vp, i32, i64]
        lib.irsnn_run.argtypes = [i64, i64, u32, i64]
        lib.irsnn_run.restype = ctypes.c_int
        lib.irsnn_kernel_times.argtypes = [ctypes.POINTER(ctypes.c_double)]
        lib.irsnn_set_learning.argtypes = [ctypes.c_int]
        lib.irsnn_api_version.restype = ctypes.c_int

    # -- state --------------------------------------------------------------------------------
    def reset(self, *, vars=True, time=True, in_syn=False, readouts=True):
        for nid, pop in self.graph.populations():
            g = self.prefix[nid]
            for v in pop.vars:
                if vars or (readouts and v.role == "readout"):
                    self._fill(f"{g}_{v.name}")
            if vars:
                self.buffers[f"{g}_spkcnt"][:] = 0
        for s, syn, _ in self.synapses.values():
            if vars:
                for v in syn.psm_vars:
                    self._fill(f"{s}_{v.name}")
                if syn.learning is not None:
                    for v in syn.learning.vars:
                        self._fill(f"{s}_{v.name}")
                    self._fill(f"{s}_{syn.learning.pre_trace}")
            if in_syn:
                self.buffers[f"{s}_insyn"][:] = 0
                if f"{s}_den" in self.buffers:
                    self.buffers[f"{s}_den"][:] = 0
        if time:
            self.timestep = 0

    def _fill(self, buf):
        init, arr = self.initial[buf], self.buffers[buf]
        arr.reshape(-1, init.size)[:] = init

    def _key(self, owner, name):
        try:
            return self.state_keys[(owner, name)]
        except KeyError:
            known = sorted(n for o, n in self.state_keys if o == owner)
            raise InputError(f"'{owner}' has no variable '{name}' (variables: {known})") \
                from None

    def get_var(self, node_id, name):
        buf, shape = self._key(node_id, name)
        return self.buffers[buf].reshape(shape).copy()

    def set_var(self, node_id, name, values):
        buf, shape = self._key(node_id, name)
        arr = self.buffers[buf].reshape(shape)
        arr[...] = self.check_var_values(node_id, name, values, shape)

    def set_egp(self, node_id, name, values):
        g = self.prefix.get(node_id)
        key = f"{g}_egp_{name}"
        if key not in self._egp_index:
            pop = self.graph.node(node_id)
            raise InputError(f"'{node_id}' has no extra global parameter '{name}' "
                             f"(it has {[e.name for e in pop.egps]})")
        ct = self.program.egps[self._egp_index[key]].ctype
        self.egps[(node_id, name)] = np.ascontiguousarray(np.asarray(values).reshape(-1),
                                                          _NP[ct])

    def set_labels(self, loss_id, labels, active):
        """Labels (or targets) of this batch for loss node ``loss_id``; inactive rows (padding
        of a partial batch) contribute no error."""
        if loss_id not in self.losses:
            raise InputError(f"no loss node '{loss_id}' (losses: {sorted(self.losses)})")
        ln = self.losses[loss_id]
        self.buffers[f"{ln}_labels"][:] = np.asarray(labels).reshape(-1)
        self.buffers[f"{ln}_active"][:] = np.asarray(active, bool)

    @property
    def learning_enabled(self) -> bool:
        return self._learning_on

    @learning_enabled.setter
    def learning_enabled(self, on: bool):
        self._learning_on = bool(on) and self._learning

    def get_weights(self, edge):
        eid = self.by_name.get(edge, edge)
        if eid not in self.synapses:
            raise InputError(f"no connection '{edge}' (connections: {sorted(self.by_name)})")
        s, _, shape = self.synapses[eid]
        return self.buffers[f"{s}_g"].reshape(shape).copy()

    def set_weights(self, edge, values):
        eid = self.by_name.get(edge, edge)
        s, _, shape = self.synapses[eid]
        self.buffers[f"{s}_g"].reshape(shape)[...] = self.check_var_values(edge, "weight",
                                                                           values, shape)

    def export_state(self):
        return {"state": {k: self.get_var(*k) for k in self.state_keys},
                "egps": dict(self.egps), "timestep": self.timestep, "rng_step": self.rng_step,
                "weights": {e: self.get_weights(e) for e in self.synapses},
                "in_syn": {e: self.buffers[f"{s}_insyn"].reshape(self.batch_size, -1).copy()
                           for e, (s, _, _) in self.synapses.items()}}

    def import_state(self, st):
        for k, v in st["state"].items():
            if k in self.state_keys and self.state_keys[k][1] == v.shape:
                self.set_var(*k, v)
        self.egps.update(st["egps"])
        self.timestep, self.rng_step = st["timestep"], st["rng_step"]
        for e, w in st["weights"].items():
            if e in self.synapses:
                self.set_weights(e, w)
                self.buffers[f"{self.synapses[e][0]}_insyn"][:] = st["in_syn"][e].reshape(-1)

    # -- recording ----------------------------------------------------------------------------
    def begin_batch(self, timesteps, recorders=None):
        self._recording = {}
        for rid, rows in (recorders or {}).items():
            if rid not in self._recorder_index:
                raise BackendError(f"no recorder '{rid}' in the IR (recorders: "
                                   f"{sorted(self._recorder_index)})")
            _, kind, _, n, per_step = self.program.recorders[self._recorder_index[rid]]
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
        data = buf[:, :self.recorded_timesteps]
        if kind == "spikes":
            bits = np.unpackbits(data.view(np.uint8), axis=-1, bitorder="little")
            data = bits[..., :n].astype(bool)
        return rows, data

    # -- running ------------------------------------------------------------------------------
    def _bind(self):
        lib = self.lib
        lib.irsnn_bind(self._pointers, ctypes.c_uint64(self.seed))
        lib.irsnn_set_learning(1 if self._learning_on else 0)
        for (node, name), arr in self.egps.items():
            lib.irsnn_bind_egp(self._egp_index[f"{self.prefix[node]}_egp_{name}"],
                               arr.ctypes.data)
        for b in self.program.egps:
            node = next(n for n, p in self.prefix.items() if b.name.startswith(p + "_egp_"))
            egp = b.name.split("_egp_", 1)[1]
            if (node, egp) not in self.egps:
                pop = self.graph.node(node)
                raise InputError(f"Population '{pop.name}': its input ('{egp}') was never set; "
                                 f"pass input data for it to evaluate/predict")
        for rid, k in self._recorder_index.items():
            if rid in self._recording:
                rows, buf, _, _ = self._recording[rid]
                lib.irsnn_bind_recorder(k, buf.ctypes.data, rows.ctypes.data, len(rows),
                                        buf.shape[1])
            else:
                lib.irsnn_bind_recorder(k, None, None, 0, 0)

    def run(self, timesteps):
        timesteps = int(timesteps)
        if timesteps <= 0:
            return
        self._bind()
        before = self._times() if self._profiling else None
        self.lib.irsnn_run(timesteps, self.timestep, self.rng_step & 0xFFFFFFFF,
                           self.recorded_timesteps)
        if self._profiling:
            for name, t0, t1 in zip(self.kernel_names, before, self._times()):
                self.kernel_times[name] += t1 - t0
        self.timestep += timesteps
        self.rng_step += timesteps
        if self._recording:
            self.recorded_timesteps = min(self.recorded_timesteps + timesteps,
                                          max(b.shape[1] for _, b, _, _ in
                                              self._recording.values()))

    def _times(self):
        out = (ctypes.c_double * len(self.kernel_names))()
        self.lib.irsnn_kernel_times(out)
        return list(out)
