"""A network compiled for training: the epoch/batch loop, optimiser steps and checkpoints.

Requires: a scheduled IR graph with learning and optimiser nodes and its simulation,
:class:`~.inference_compiler.CompiledInferenceNetwork`, :mod:`.deep_r`, the optimisers and
:func:`irsnn.ir.layouts.layout_traits`. Provides :class:`CompiledTrainingNetwork`: ``train``,
``compute_gradients``, ``gradients``, ``apply_optimiser``, ``save`` and ``save_connectivity``.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..ir import OptimiserNode, edge_id
from ..ir.layouts import layout_traits
from ..ir.ids import is_var_ref, loss_id, population_name, ref_owner, split_var_ref
from ..lowering import node_id
from ..neurons.input import PreparedInputs
from ..population import get_underlying_pop
from .deep_r import DeepR, RewiringRecord
from .inference_compiler import CompiledInferenceNetwork, _metrics_for


class CompiledTrainingNetwork(CompiledInferenceNetwork):
    """A network compiled by :class:`~irsnn.compilers.EPropCompiler`.

    ``train`` runs epochs of batches with learning on; after every batch the optimiser is
    applied to the batch-summed gradients (the only time training state crosses to Python).
    ``evaluate`` and ``predict`` run the same model with learning off.
    """

    def __init__(self, compiler, network, name=None):
        super().__init__(compiler, network, name, example_timesteps=compiler.example_timesteps)
        #: examples per optimiser step; ``batch_size`` is what the model simulates at once
        #: (smaller when ``event_memory_budget_mb`` splits batches into chunks)
        self.training_batch_size = compiler.batch_size
        self.batch_size = compiler.simulation_batch_size
        #: batch rows holding gradients of the current optimiser step
        self._gradient_rows = 0
        #: examples of the current optimiser step
        self._step_examples = 0
        self.optimiser = compiler.optimiser
        self.optimiser_step = 0
        self._opt_state: dict[str, dict] = {}
        #: ``{connection name: cb_data key}`` of deep_r_record_rewirings
        self._rewiring_records = dict(getattr(compiler, "deep_r_record_rewirings", {}))
        #: Deep-R state by edge id (connections the insert-deep-r pass marked)
        self.deep_r = {edge_id(u, v, k): DeepR(edge_id(u, v, k), syn, compiler.rng_seed)
                       for u, v, k, syn in self.ir.synapses() if syn.rewiring is not None}

    # -- evaluation (learning off) -----------------------------------------------------------
    def _reset_for_batch(self, sim):
        sim.learning_enabled = False
        sim.reset(vars=True, time=True, in_syn=True, readouts=True)

    # -- training ------------------------------------------------------------------------------
    def train(self, x: dict, y: dict, num_epochs: int, start_epoch: int = 0,
              shuffle: bool = True, metrics="sparse_categorical_accuracy",
              callbacks=("batch_progress_bar",), validation_callbacks=("batch_progress_bar",),
              validation_split: float = 0.0, validation_x: dict | None = None,
              validation_y: dict | None = None):
        """Train for ``num_epochs`` epochs (mlGeNN's ``train``).

        Returns ``(metrics, cb_data)``, or with validation data
        ``(train_metrics, valid_metrics, train_cb_data, valid_cb_data)``; metrics are those
        of the last epoch.
        """
        for name, value, least in (("num_epochs", num_epochs, 1), ("start_epoch", start_epoch, 0)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
                    or value < least:
                raise InputError(f"train: {name}={value!r}; give an integer >= {least}")
        n = self._check_sizes(x, "input")
        if n != self._check_sizes(y, "label set"):
            raise InputError(f"{n} input examples but {self._check_sizes(y, 'label set')} "
                             f"labels; give one label per example")
        if not 0.0 <= validation_split < 1.0:
            raise InputError(f"validation_split={validation_split!r} must be in [0, 1)")
        if validation_split > 0.0:
            if validation_x is not None:
                raise InputError("give validation_split or validation_x/validation_y, not both")
            n_valid = int(round(n * validation_split))
            validation_x = {k: v[n - n_valid:] for k, v in x.items()}
            validation_y = {k: v[n - n_valid:] for k, v in y.items()}
            x = {k: v[:n - n_valid] for k, v in x.items()}
            y = {k: v[:n - n_valid] for k, v in y.items()}
            n -= n_valid
        for k, v in y.items():
            self._check_labels(k, v)
        outputs = list(y)
        step = self.training_batch_size
        # callbacks see every simulated chunk as a batch
        num_batches = sum(-(-min(step, n - s) // self.batch_size) for s in range(0, n, step))
        cbs = self._callbacks(self._with_rewiring_records(callbacks), num_batches, num_epochs)
        cbs.on_train_begin()
        x = self._prepare_inputs(x)
        valid = None
        for epoch in range(start_epoch, start_epoch + num_epochs):
            epoch_metrics = _metrics_for(metrics, outputs)
            # one permutation per (seed, epoch): resumed or epoch-by-epoch training shuffles
            # exactly as one long call would
            rng = np.random.default_rng([self.compiler.rng_seed, epoch])
            order = rng.permutation(n) if shuffle else np.arange(n)
            cbs.on_epoch_begin(epoch)
            batch = 0
            for start in range(0, n, step):
                idx = order[start:start + step]
                batch = self._train_batch(batch, {k: _take(v, idx) for k, v in x.items()},
                                  {k: _take(v, idx) for k, v in y.items()}, epoch_metrics, cbs)
            if validation_x is not None:
                valid = self.evaluate(validation_x, validation_y, metrics,
                                      callbacks=validation_callbacks)
            cbs.on_epoch_end(epoch, epoch_metrics)
        cbs.on_train_end(epoch_metrics)
        if valid is not None:
            return epoch_metrics, valid[0], cbs.get_data(), valid[1]
        return epoch_metrics, cbs.get_data()

    def _with_rewiring_records(self, callbacks):
        """``callbacks`` plus a :class:`RewiringRecord` per ``deep_r_record_rewirings`` entry."""
        records = self._rewiring_records
        if not records:
            return callbacks
        callbacks = [] if callbacks is None else \
            [callbacks] if isinstance(callbacks, str) else list(callbacks)
        names = {syn.name: edge_id(u, v, k) for u, v, k, syn in self.ir.synapses()}
        return callbacks + [RewiringRecord(names[name], key) for name, key in records.items()]

    def _check_labels(self, key, labels):
        pop = get_underlying_pop(key)
        lid = loss_id(node_id(pop))
        loss = self.ir.node(lid) if self.ir.has_node(lid) else None
        if loss is None:
            raise InputError(f"labels given for '{pop.name}', which is not the trained output")
        labels = np.asarray(labels)
        size = int(np.prod(pop.shape))
        if loss.kind in ("sparse_categorical_crossentropy", "relative_mean_square_error"):
            if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
                raise InputError(f"labels for '{pop.name}' must be a 1-D array of integer "
                                 f"class indices (got shape {labels.shape}, dtype "
                                 f"{labels.dtype})")
            bad = np.flatnonzero((labels < 0) | (labels >= size))
            if len(bad):
                raise InputError(f"label {labels[bad[0]]} (example {bad[0]}) of '{pop.name}' is "
                                 f"outside [0, {size}); the output has {size} neurons")
        elif labels.ndim != 2 or labels.shape[1] != size:
            raise InputError(f"targets for '{pop.name}' must have shape (examples, {size}) "
                             f"(got {labels.shape})")

    def _set_labels(self, y, num_examples):
        sim = self.simulation
        active = np.arange(self.batch_size) < num_examples
        for key, labels in y.items():
            pop = get_underlying_pop(key)
            labels = np.asarray(labels)
            padded = np.zeros((self.batch_size,) + labels.shape[1:], labels.dtype)
            padded[:num_examples] = labels
            sim.set_labels(loss_id(node_id(pop)), padded, active)

    def _train_batch(self, batch, x, y, metrics, cbs) -> int:
        """One optimiser step on the examples ``x``/``y`` (in simulated chunks when they do
        not fit); returns the callbacks' next batch index."""
        batch = self._learn(batch, x, y, cbs, metrics)
        self.apply_optimiser()
        cbs.on_batch_end(batch, metrics)
        return batch + 1

    def _learn(self, batch, x, y, cbs, metrics=None, defer=True) -> int:
        """Run the examples of one optimiser step with learning on, ``batch_size`` at a time,
        accumulating their gradients (materialised unless ``defer`` lets an optimiser in kernels
        take them from the example directly); returns the callbacks' batch index of the last
        chunk (whose ``on_batch_end`` the caller sends)."""
        n = len(next(iter(y.values())))
        chunk = self.batch_size
        chunked = n > chunk
        grads = [(ref_owner(node.target), node.gradient)
                 for _, node in self.ir.nodes(OptimiserNode)] if chunked else []
        for start in range(0, n, chunk):
            xs = {k: _take(v, np.arange(start, min(n, start + chunk))) for k, v in x.items()}
            ys = {k: _take(v, np.arange(start, min(n, start + chunk))) for k, v in y.items()}
            m = min(chunk, n - start)
            sim = self.begin_batch(cbs, batch, m)
            # a reset between chunks must not lose the gradients of the earlier chunks
            kept = {g: sim.get_var(*g) for g in grads} if start else {}
            self._start_learning(sim)
            for g, value in kept.items():
                sim.set_var(*g, value)
            self._batch_start_timestep = sim.timestep
            self.set_input(xs)
            self._set_labels(ys, m)
            cbs.on_batch_begin(batch)
            self.run_example(cbs)
            sim.end_example(for_optimiser=defer and self._optimiser_in_kernels and not chunked)
            if metrics is not None:
                for (o, y_true), yp in zip(ys.items(), self.get_readout(list(ys))):
                    metrics[o].update(np.asarray(y_true), yp[:m].reshape(m, -1))
            if start + chunk < n:
                cbs.on_batch_end(batch, metrics)
                batch += 1
        # rows beyond the examples are padding (their errors are zero; event-driven gradients
        # skip them); with chunks, every row used holds gradients of some chunk
        self._gradient_rows = min(n, chunk)
        self._step_examples = n
        return batch

    @property
    def _optimiser_in_kernels(self) -> bool:
        """The optimiser runs as kernels where the gradients are (Deep-R rewires on the host,
        with the optimiser's state, so it keeps the host optimiser)."""
        return bool(self.simulation.optimiser_in_kernels) and not self.deep_r

    def _start_learning(self, sim):
        """Learning on, state reset as the compiler asks, before a training batch."""
        c = self.compiler
        sim.learning_enabled = True
        sim.reset(vars=c.reset_vars_between_examples, time=c.reset_time_between_batches,
                  in_syn=c.reset_vars_between_examples, readouts=True)
        if c.reset_traces_between_examples:
            sim.reset_traces()
        sim.begin_example()

    # -- gradients and the optimiser -------------------------------------------------------------
    def _mask(self, eid):
        """The synapses of edge ``eid`` that exist now (None: every stored weight)."""
        return self.simulation.synapse_mask(eid)

    def gradients(self, reset: bool = True) -> dict:
        """Batch-summed gradients accumulated since the last optimiser step, keyed by the
        optimiser node's target (an edge id, or ``pop.<name>/Bias``); zeroed if ``reset``."""
        sim = self.simulation
        out = {}
        for _, node in self.ir.nodes(OptimiserNode):
            owner = ref_owner(node.target)
            grad = sim.get_var(owner, node.gradient)
            if not is_var_ref(node.target) and grad.ndim == 2:
                # one gradient for the batch (event-driven e-prop adds active examples only)
                total = grad.astype(np.float64)
            else:
                # rows beyond the batch's examples are padding: their firing-rate terms must
                # not reach the gradient
                total = grad[:self._gradient_rows].sum(axis=0, dtype=np.float64)
            if not is_var_ref(node.target):
                mask = self._mask(node.target)
                if mask is not None:
                    total = np.where(mask, total, 0.0)
            out[node.target] = total
            if reset:
                sim.set_var(owner, node.gradient, np.zeros_like(grad))
        return out

    def apply_optimiser(self):
        """One optimiser step on every trainable parameter (called after every batch), in the
        backend's storage layout (sparse connections update only the synapses that exist),
        then Deep-R rewiring of the connections it applies to (:mod:`.deep_r`)."""
        sim = self.simulation
        self.optimiser_step += 1
        for dr in self.deep_r.values():
            if dr.sign is None:
                dr.init_signs(sim)  # from the weights before the first step
        if self._optimiser_in_kernels:
            sim.optimise(self.optimiser.scalars(self.optimiser_step),
                         self._gradient_rows)
            return
        for _, node in self.ir.nodes(OptimiserNode):
            param = sim.parameter(node.target)
            grad = sim.gradient_sum(node.target, node.gradient, self._gradient_rows)
            grad = grad.reshape(param.shape)
            dr = self.deep_r.get(node.target)
            if dr is not None and dr.l1_strength > 0:
                grad = grad + dr.l1_term(sim, self._step_examples).reshape(param.shape)
            state = self._opt_state.setdefault(node.target,
                                               self.optimiser.init_state(param.shape))
            self.optimiser.step(param, grad, state, self.optimiser_step)
            sim.set_parameter(node.target, param)
            sim.zero_var(ref_owner(node.target), node.gradient)
        for eid, dr in self.deep_r.items():
            state = self._opt_state[eid]
            names = sorted(state)
            moved = dr.step(sim, self.optimiser_step, [state[n] for n in names])
            state.update(zip(names, moved))

    def compute_gradients(self, x: dict, y: dict) -> dict:
        """Run one batch with learning on and return its batch-summed gradients without
        applying the optimiser: ``{connection name or '<population>.bias': array}``."""
        n = self._check_sizes(x, "input")
        if n != self._check_sizes(y, "label set"):
            raise InputError(f"{n} input examples but {self._check_sizes(y, 'label set')} "
                             f"labels; give one label per example")
        if n > self.training_batch_size:
            raise InputError(f"{n} examples given for a batch of {self.training_batch_size}")
        for k, v in y.items():
            self._check_labels(k, v)
        from ..callbacks.callback_list import CallbackList
        cbs = CallbackList([], compiled_network=self, batch_size=self.batch_size)
        self._learn(0, x, y, cbs, defer=False)
        names = {edge_id(u, v, k): syn.name for u, v, k, syn in self.ir.synapses()}
        return {names[t] if t in names else _bias_name(t): g
                for t, g in self.gradients().items()}

    # -- checkpoints ---------------------------------------------------------------------------
    def save(self, keys=(), serialiser="numpy"):
        """Save every connection's weights and trained biases under ``keys``."""
        from ..serialisers import Serialiser, default_serialisers
        from ..utils.module import get_object
        serialiser = get_object(serialiser, Serialiser, "Serialiser", default_serialisers)
        keys = tuple(keys) if isinstance(keys, list | tuple) else (keys,)
        super().save(keys, serialiser)
        if self.deep_r:
            # rewired connectivity changes during training: keep it with the weights
            self.save_connectivity(keys, serialiser, only=set(self.deep_r))
        for _, node in self.ir.nodes(OptimiserNode):
            if is_var_ref(node.target):
                nid, var = split_var_ref(node.target)
                serialiser.serialise(keys + (population_name(nid), var),
                                     self.simulation.get_var(nid, var))

    def save_connectivity(self, keys=(), serialiser="numpy", only=None):
        """Save each connection's synapse indices as ``pre_ind``/``post_ind`` (the synapses
        that exist now: after Deep-R rewiring, the rewired ones); ``only``: a set of edge ids
        to restrict to."""
        from ..serialisers import Serialiser, default_serialisers
        from ..utils.module import get_object
        serialiser = get_object(serialiser, Serialiser, "Serialiser", default_serialisers)
        keys = tuple(keys) if isinstance(keys, list | tuple) else (keys,)
        for u, v, k, syn in self.ir.synapses():
            eid = edge_id(u, v, k)
            if only is not None and eid not in only:
                continue
            mask = self._mask(eid)
            if layout_traits(syn.layout).per_neuron:
                pre = post = np.arange(syn.num_post)
            else:
                if mask is None:
                    mask = np.ones((syn.num_pre, syn.num_post), bool)
                pre, post = np.nonzero(mask)
            serialiser.serialise(keys + (syn.name, "pre_ind"), pre.astype(np.int64))
            serialiser.serialise(keys + (syn.name, "post_ind"), post.astype(np.int64))


def _bias_name(target):
    """``<population>.bias`` for the optimiser target ``pop.<population>/Bias``."""
    owner, var = split_var_ref(target)
    return f"{population_name(owner)}.{var.lower()}"


def _take(data, idx):
    """Examples ``idx`` (an integer array) of ``data``: arrays and prepared inputs select them
    at once, other sequences one by one."""
    if isinstance(data, np.ndarray | PreparedInputs):
        return data[idx]
    return [data[i] for i in idx]
