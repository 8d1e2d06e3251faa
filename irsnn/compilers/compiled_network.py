"""A compiled network: a built simulation plus the glue to the front-end objects.

Requires: a compiler, the network it lowered (node ids through :func:`irsnn.lowering.node_id`)
and the :class:`~irsnn.backends.Simulation` the compiler builds, (re)built when recording
requests change, after :func:`~irsnn.backends.footprint.check_fits` found that it fits in
memory. Provides :class:`CompiledNetwork`: inputs, readouts, recordings, running one
batch's examples with callbacks, and ``save`` through a serialiser.
"""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict

import numpy as np

from ..backends.footprint import check_fits
from ..errors import InputError, ModelError
from ..ir.ids import edge_id, readout_id, recorder_id
from ..lowering import node_id
from ..population import get_underlying_pop
from .genn_model import GeNNModelView, GroupView, GroupViews, VarView


class CompiledNetwork:
    """A network compiled for one backend.

    Use it as a context manager (``with compiled_net:``); the simulation is built on entry
    (or on first use) and released on exit. ``kernel_times`` holds per-kernel seconds when the
    compiler had ``kernel_profiling=True``; ``ir`` is the IR the backend built.
    """

    def __init__(self, compiler, network, example_timesteps: int, name: str | None = None):
        self.compiler = compiler
        self.network = network
        self.example_timesteps = int(example_timesteps)
        self.name = name or "irsnn_model"
        self.batch_size = compiler.batch_size
        self._lowered = compiler.lower(network, self.name)
        self._recordings: tuple = ()
        self.ir = compiler.run_pipeline(self._lowered)
        self.backend = compiler.get_backend()
        # refuse a model that cannot fit now, before anything is allocated
        check_fits(self.ir, self.backend)
        self._sim = None
        self._populations = {node_id(p): p for p in network.populations}
        #: results of checking/looking up input and output keys, kept while ``ir`` stays
        self._lookups: dict = {}
        self.current_batch_examples = 0
        self._batch_start_timestep = 0
        #: wall-clock seconds of the operations that stand for mlGeNN's custom updates
        #: (``Reset``, ``GradientLearn``, ``Softmax``), measured with ``kernel_profiling``
        self.custom_update_times: dict = defaultdict(float)
        #: what mlGeNN scripts reach through GeNN (timers, custom updates): see
        #: :mod:`.genn_model`
        self.genn_model = GeNNModelView(self)
        #: ``neuron_populations[pop].vars["V"]``: pygenn-style access to population variables
        self.neuron_populations = GroupViews(self._population_group)
        #: ``connection_populations[conn].vars["g"]``: pygenn-style access to the weights
        self.connection_populations = GroupViews(self._connection_group)
        #: this rank's part in a data-parallel job (None: one process)
        self._data_parallel = None
        if getattr(compiler, "communicator", None) is not None:
            from .data_parallel import DataParallel
            self._data_parallel = DataParallel(compiler.communicator, self.name)
            self.device = self._data_parallel.use_local_device(self.backend)
            self._data_parallel.check_same_model(self.ir, compiler, self.backend)

    # -- life cycle ---------------------------------------------------------------------------
    def __enter__(self):
        # The simulation is built on first use, when the recordings the callbacks need are
        # known (building here would compile twice whenever a recorder is used)
        return self

    def __exit__(self, *exc):
        # The state (trained weights included) is kept: leaving and re-entering must not
        # silently fall back to the initial values
        return False

    @staticmethod
    def _request_key(request):
        """``("spikes", pop)``/``("var", pop, var)`` -> the IR form with the node id."""
        return (request[0], node_id(get_underlying_pop(request[1]))) + tuple(request[2:])

    @staticmethod
    def _recorder_id(key):
        return recorder_id(key[1], None if key[0] == "spikes" else key[2])

    def _ensure_sim(self, requests):
        """Build the simulation with every recording in ``requests`` compiled in."""
        wanted = set(self._recordings) | {self._request_key(r) for r in requests}
        if self._sim is not None and wanted <= set(self._recordings):
            return self._sim
        if wanted != set(self._recordings):
            self._recordings = tuple(sorted(wanted))
            self.ir = self.compiler.run_pipeline(self._lowered, recordings=self._recordings)
            self._lookups.clear()
        check_fits(self.ir, self.backend)
        sim = self.backend.build(self.ir, rng_seed=self.compiler.rng_seed,
                                 kernel_profiling=self.compiler.kernel_profiling)
        if self._sim is not None:
            sim.import_state(self._sim.export_state())
        self._sim = sim
        return sim

    @property
    def simulation(self):
        return self._sim if self._sim is not None else self._ensure_sim(())

    @property
    def kernel_times(self) -> dict:
        return dict(self.simulation.kernel_times)

    @contextlib.contextmanager
    def timed_update(self, name: str):
        """Add the wall time of the block to ``custom_update_times[name]`` (with
        ``kernel_profiling``)."""
        if not self.compiler.kernel_profiling:
            yield
            return
        start = time.perf_counter()
        try:
            yield
        finally:
            self.custom_update_times[name] += time.perf_counter() - start

    def add_custom_update(self, model, group: str, name: str | None = None):
        """Add a user custom update (mlGeNN's :class:`~irsnn.utils.model.CustomUpdateModel`)
        to ``group``; ``genn_model.custom_update(group)`` and the ``CustomUpdateOn...``
        callbacks run it. See :mod:`irsnn.compilers.custom_updates`."""
        return self.genn_model.add_custom_update(model, group, name)

    # -- pygenn-style variable access ------------------------------------------------------
    def _population_group(self, key):
        pop = self.network.populations
        if isinstance(key, str):
            found = [p for p in pop if p.name == key]
            if not found:
                raise InputError(f"neuron_populations: no population named '{key}' "
                                 f"(populations: {[p.name for p in pop]})")
            key = found[0]
        p = self._find_population(key)
        nid = node_id(p)
        label = f"Population '{p.name}'"

        def make():
            return GroupView(label, self.var_names(p), lambda name: VarView(
                label, name, lambda: self.simulation.get_var(nid, name),
                lambda v: self.simulation.set_var(nid, name, v)))
        return p.name, make

    def _find_population(self, key):
        p = get_underlying_pop(key)
        if self._populations.get(node_id(p)) is not p:
            raise InputError(f"Population '{p.name}' is not part of this compiled network")
        return p

    def _connection_group(self, key):
        from ..utils.network import get_underlying_conn
        conns = {c.name: c for c in self.network.connections}
        conn = conns.get(key) if isinstance(key, str) else get_underlying_conn(key)
        if conn is None or conns.get(conn.name) is not conn:
            raise InputError(f"connection_populations: {key!r} is not a connection of this "
                             f"network (connections: {sorted(conns)})")

        def make():
            label = f"Connection '{conn.name}'"
            return GroupView(label, ["g"], lambda name: VarView(
                label, name, lambda: self.simulation.get_weights(conn.name),
                lambda v: self.simulation.set_weights(conn.name, v)))
        return conn.name, make

    # -- data ---------------------------------------------------------------------------------
    def _lookup(self, what, key, find):
        """``find(key)``, worked out on first use and kept while ``ir`` stays: inputs, outputs
        and readouts are looked up before every batch."""
        memo = (what, key)
        try:
            value = self._lookups.get(memo)
        except TypeError:   # an unhashable key: find says what is wrong with it
            return find(key)
        if value is None:
            value = self._lookups[memo] = find(key)
        return value

    def _input_population(self, key):
        return self._lookup("input", key, self._find_input_population)

    def _find_input_population(self, key):
        pop = get_underlying_pop(key)
        nid = node_id(pop)
        if nid not in self._populations or self._populations[nid] is not pop:
            raise InputError(f"input key '{pop.name}' is not a population of this network")
        if not self.ir.node(nid).is_input:
            raise InputError(f"Population '{pop.name}' ({type(pop.neuron).__name__}) is not an "
                             f"input population; pass inputs to populations with an input "
                             f"neuron (SpikeInput, PoissonInput, BinarySpikeInput)")
        return pop

    def _output_population(self, key):
        return self._lookup("output", key, self._find_output_population)

    def _find_output_population(self, key):
        pop = get_underlying_pop(key)
        nid = node_id(pop)
        if nid not in self._populations or self._populations[nid] is not pop:
            raise InputError(f"output key '{pop.name}' is not a population of this network")
        if not self.ir.has_node(readout_id(nid)):
            raise InputError(f"Population '{pop.name}' has no readout; give its neuron a "
                             f"readout (e.g. readout='sum_var') to use it as an output")
        return pop

    def _readout(self, key):
        """``(population, readout node, names of the variables it reads)`` of output ``key``;
        the reduction is the population's readout object (``pop.neuron.readout``)."""
        return self._lookup("readout", key, self._find_readout)

    def _find_readout(self, key):
        pop = self._output_population(key)
        rnode = self.ir.node(readout_id(node_id(pop)))
        return pop, rnode, (rnode.var,) + rnode.accumulators

    def _prepare_inputs(self, x: dict) -> dict:
        """``x`` with each population's data prepared once for all their batches
        (:meth:`~irsnn.neurons.Input.prepare_input`; spike trains are checked here)."""
        out = {}
        for key, data in x.items():
            pop = self._input_population(key)
            out[key] = pop.neuron.prepare_input(pop.shape, data, self.example_timesteps,
                                                self.compiler.dt)
        return out

    def set_input(self, x: dict):
        """Apply one batch of inputs (dict population/layer -> data for up to batch_size)."""
        sim = self.simulation
        for key, data in x.items():
            pop = self._input_population(key)
            n = len(data)
            if n > self.batch_size:
                raise InputError(f"Population '{pop.name}': {n} examples given for a batch of "
                                 f"{self.batch_size}; split the data into batches")
            state = sim.input_state(node_id(pop), self.example_timesteps)
            pop.neuron.set_input(state, self.batch_size, pop.shape, data)

    def get_readout(self, outputs) -> list[np.ndarray]:
        """Per-example readout of each output population (``(batch, *shape)``)."""
        sim = self.simulation
        out = []
        for key in outputs:
            pop, rnode, names = self._readout(key)
            values = {n: sim.get_var(rnode.source, n) for n in names}
            y = np.asarray(pop.neuron.readout.compute(
                values, rnode.var, self.example_timesteps, self.compiler.dt))
            if rnode.softmax:
                with self.timed_update("Softmax"):
                    z = y - y.max(axis=-1, keepdims=True)
                    y = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
            out.append(y.reshape((y.shape[0],) + tuple(pop.shape)))
        return out

    def get_recording(self, pop, what, var=None):
        """``(rows, data)`` recorded in the current batch: ``data[i]`` (timesteps, neurons)
        belongs to batch row (example) ``rows[i]``."""
        key = self._request_key((what, pop) + ((var,) if what == "var" else ()))
        return self.simulation.recording(self._recorder_id(key))

    def recording_times(self) -> np.ndarray:
        """Times (ms) of the timesteps in the current recording buffers."""
        steps = self.simulation.recorded_timesteps
        return (self._batch_start_timestep + np.arange(steps)) * self.compiler.dt

    def has_var(self, pop, var) -> bool:
        return var in self.var_names(pop)

    def var_names(self, pop) -> list[str]:
        pop = get_underlying_pop(pop)
        return [v.name for v in self.ir.node(node_id(pop)).vars]

    # -- running ------------------------------------------------------------------------------
    def begin_batch(self, callback_list, batch, num_examples):
        """Prepare recording buffers for batch ``batch`` of ``num_examples`` examples: only the
        rows some callback wants are recorded."""
        sim = self._ensure_sim(callback_list.recording_requests())
        self.current_batch_examples = num_examples
        rows = {}
        for request, r in callback_list.batch_recordings(batch, num_examples):
            rid = self._recorder_id(self._request_key(request))
            rows[rid] = np.union1d(rows.get(rid, np.zeros(0, np.int64)), r)
        sim.begin_batch(self.example_timesteps, rows)
        return sim

    def run_example(self, callback_list):
        """Advance ``example_timesteps``: in one call, or per timestep when callbacks need it."""
        sim = self.simulation
        if callback_list.per_timestep:
            for i in range(self.example_timesteps):
                callback_list.on_timestep_begin(i)
                sim.run(1)
                callback_list.on_timestep_end(i)
        else:
            sim.run(self.example_timesteps)

    def save(self, keys=(), serialiser="numpy"):
        """Save every connection's weights as mlGeNN does (``keys + (connection name, "g")``,
        1-D: see :mod:`irsnn.serialisers.layout`); a sparse connection's synapses too
        (``"pre_ind"``/``"post_ind"``), so the checkpoint says where its weights belong."""
        from ..serialisers import Serialiser, default_serialisers
        from ..serialisers.layout import WEIGHT, saved_indices, saved_weights, weight_kind
        from ..utils.module import get_object
        serialiser = get_object(serialiser, Serialiser, "Serialiser", default_serialisers)
        keys = tuple(keys) if isinstance(keys, list | tuple) else (keys,)
        eids = {syn.name: edge_id(u, v, k) for u, v, k, syn in self.ir.synapses()}
        for conn in self.network.connections:
            kind = weight_kind(conn.connectivity)
            w = self.simulation.get_weights(conn.name)
            mask = self.simulation.synapse_mask(eids[conn.name]) if kind == "sparse" else None
            serialiser.serialise(keys + (conn.name, WEIGHT), saved_weights(kind, w, mask))
            if kind == "sparse":
                pre, post = saved_indices(kind, w.shape, mask)
                serialiser.serialise(keys + (conn.name, "pre_ind"), pre)
                serialiser.serialise(keys + (conn.name, "post_ind"), post)

    def _check_sizes(self, data: dict, what: str) -> int:
        sizes = {get_underlying_pop(k).name: len(v) for k, v in data.items()}
        if len(set(sizes.values())) > 1:
            raise InputError(f"every {what} must have the same number of examples; got "
                             f"{sizes}")
        if not sizes:
            raise ModelError(f"no {what} given")
        n = next(iter(sizes.values()))
        if n == 0:
            raise InputError(f"the {what} for {sorted(sizes)} holds no examples; give at least "
                             f"one example (check the data loading or the split that produced "
                             f"it)")
        return n
