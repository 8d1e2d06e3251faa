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
from ..ir.ids import is_var_ref, loss_id, population_name, ref_owner, split_var_ref, var_ref
from ..lowering import node_id
from ..neurons.input import PreparedInputs
from ..population import get_underlying_pop
from .deep_r import DeepR, RewiringRecord
from .loss_targets import TargetWriter
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
        #: the compiler's loss is a mean over the batch (EventProp), not a sum (e-prop)
        self._gradients_are_means = bool(getattr(compiler, "gradients_are_batch_means", False))
        self.optimiser = compiler.optimiser
        #: the optimiser of each parameter the compiler's optimiser does not train: learnable
        #: delays (``delay_optimiser`` of EventPropCompiler)
        delay_opt = getattr(compiler, "delay_optimiser", None) or compiler.optimiser
        self._synapse_owners = {edge_id(u, v, k) for u, v, k, _ in self.ir.synapses()}
        self._other_optimisers = {
            var_ref(edge_id(u, v, k), syn.learning.delay_var): delay_opt
            for u, v, k, syn in self.ir.synapses()
            if syn.learning is not None and syn.learning.delay_var}
        self.optimiser_step = 0
        self._opt_state: dict[str, dict] = {}
        #: ``{connection name: cb_data key}`` of deep_r_record_rewirings
        self._rewiring_records = dict(getattr(compiler, "deep_r_record_rewirings", {}))
        #: ``{output node id: TargetWriter}`` of losses written with mlGeNN's hooks
        self._target_writers = None
        #: Deep-R state by edge id (connections the insert-deep-r pass marked)
        self.deep_r = {edge_id(u, v, k): DeepR(edge_id(u, v, k), syn, compiler.rng_seed)
                       for u, v, k, syn in self.ir.synapses() if syn.rewiring is not None}

    def _ensure_sim(self, requests):
        """The simulation (see the base class); a new one gets the target writers of the losses
        written with mlGeNN's hooks, and their extra global parameters their initial values
        (so that the loss code can run before the first ``set_target``, as in ``evaluate``)."""
        old = self._sim
        sim = super()._ensure_sim(requests)
        if sim is not old or self._target_writers is None:
            self._target_writers = {}
            for nid, (loss, info) in getattr(self.compiler, "model_losses", {}).items():
                pop = self.ir.node(nid)
                dtypes = {e.name: _egp_dtype(e.type, sim.scalar) for e in pop.egps}
                writer = TargetWriter(loss, sim, nid, pop.name, [v.name for v in pop.vars],
                                      info, dtypes)
                writer.push_initial()
                self._target_writers[nid] = writer
        return sim

    @property
    def optimisers(self) -> list:
        """mlGeNN's ``[(optimiser, updates)]``: the optimiser and the targets of the parameters
        it updates (edge ids, ``pop.<name>/Bias``, ``<edge id>/d`` for learnable delays); empty
        when nothing is trainable."""
        out: list = []
        for _, node in self.ir.nodes(OptimiserNode):
            opt = self._other_optimisers.get(node.target, self.optimiser)
            for entry in out:
                if entry[0] is opt:
                    entry[1].append(node.target)
                    break
            else:
                out.append((opt, [node.target]))
        return out

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

        Notes
        -----
        The training metric is the accuracy of the outputs the network produced during the
        epoch, the same in event and online mode: each example's readout as it was simulated,
        with the weights of that moment (the optimiser steps after every batch) and the state
        carried over from the batch before (neuron state is not reset between batches unless
        ``reset_vars_between_examples``, as in mlGeNN; readouts are). ``evaluate`` resets the
        state before every batch and uses the weights after the epoch, so it can report much
        more: on 600 ordered scikit-learn digits (classes cycling 0..9, so the output state
        carried over always favours the previous, different class), 64-128-10 recurrent LIF,
        batch 1, event mode, the first epoch's training metric was 0.14, an inference pass
        with the final weights and carried state 0.27, and ``evaluate`` 0.68; with
        ``reset_vars_between_examples=True`` the training metric tracks ``evaluate``.
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
            if n_valid >= n:
                raise InputError(f"validation_split={validation_split!r} of {n} examples "
                                 f"leaves none to train on; lower validation_split or give "
                                 f"more examples")
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
        num_steps = -(-n // step)
        dp = self._data_parallel
        if dp is not None:   # every rank takes as many steps as the largest shard needs
            dp.start(self, training=True)
            num_steps = dp.num_batches(num_steps)
            num_batches += num_steps - -(-n // step)
        cbs = self._callbacks(self._with_rewiring_records(callbacks), num_batches, num_epochs)
        cbs.on_train_begin()
        x = self._prepare_inputs(x)
        valid = None
        for epoch in range(start_epoch, start_epoch + num_epochs):
            epoch_metrics = _metrics_for(self._regression_metrics(metrics, outputs, y),
                                         outputs)
            # one permutation per (seed, epoch): resumed or epoch-by-epoch training shuffles
            # exactly as one long call would
            rng = np.random.default_rng([self.compiler.rng_seed, epoch])
            order = rng.permutation(n) if shuffle else np.arange(n)
            cbs.on_epoch_begin(epoch)
            batch = 0
            for start in range(0, num_steps * step, step):
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
        if loss.target_var:
            return   # a loss written with mlGeNN's hooks: its set_target checks its labels
        if loss.kind in ("sparse_categorical_crossentropy", "relative_mean_square_error"):
            if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
                raise InputError(f"labels for '{pop.name}' must be a 1-D array of integer "
                                 f"class indices (got shape {labels.shape}, dtype "
                                 f"{labels.dtype})")
            bad = np.flatnonzero((labels < 0) | (labels >= size))
            if len(bad):
                raise InputError(f"label {labels[bad[0]]} (example {bad[0]}) of '{pop.name}' is "
                                 f"outside [0, {size}); the output has {size} neurons")
        elif loss.timesteps and labels.ndim >= 2 and labels.shape[1:] in (
                (loss.timesteps, size), (loss.timesteps,) + tuple(pop.shape)):
            pass   # one target per timestep, as mlGeNN's MeanSquareError
        elif labels.ndim != 2 or labels.shape[1] != size:
            per_step = (f", or (examples, {loss.timesteps}, {size}) for a target per "
                        f"timestep" if loss.timesteps else "")
            raise InputError(f"targets for '{pop.name}' must have shape (examples, {size}) "
                             f"(got {labels.shape}){per_step}")

    def _check_targets(self, key, labels) -> None:
        """Validation labels are checked as training labels are (per-timestep targets
        included)."""
        self._check_labels(key, labels)

    def _evaluation_metrics(self, metrics, outputs, labels=None):
        return self._regression_metrics(metrics, outputs, labels)

    def _regression_metrics(self, metrics, outputs, labels=None):
        """The default metric (sparse categorical accuracy) does not apply to an output
        trained with mean square error: it gets the mean-square-error metric instead (mlGeNN
        computes a meaningless accuracy from the regression targets there). So does an output
        whose loss is written with mlGeNN's hooks without softmax when its ``labels`` are not
        one integer per example (targets, not classes)."""
        if not (isinstance(metrics, str) and metrics == "sparse_categorical_accuracy"):
            return metrics
        regression = []
        for o in outputs:
            lid = loss_id(node_id(get_underlying_pop(o)))
            kind = self.ir.node(lid).kind if self.ir.has_node(lid) else None
            if kind == "mean_square_error":
                regression.append(o)
            elif kind == "model" and labels is not None and o in labels:
                y = np.asarray(labels[o])
                if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
                    regression.append(o)
        if not regression:
            return metrics
        return {o: "mean_square_error" if o in regression else metrics for o in outputs}

    def _metric_targets(self, key, y_true):
        """Targets the metric compares with the readout: with one target per timestep, the
        last timestep's (the readout is read at the end of the example)."""
        y_true = np.asarray(y_true)
        lid = loss_id(node_id(get_underlying_pop(key)))
        if self.ir.has_node(lid) and y_true.ndim >= 3:
            loss, pop = self.ir.node(lid), get_underlying_pop(key)
            # a loss written with mlGeNN's hooks may take targets per timestep too
            steps = loss.timesteps or (self.example_timesteps if loss.target_var else 0)
            if steps and y_true.shape[1:] in ((steps, pop.num_neurons),
                                             (steps,) + tuple(pop.shape)):
                return y_true[:, -1]
        return y_true

    def _set_labels(self, y, num_examples):
        sim = self.simulation
        active = np.arange(self.batch_size) < num_examples
        for key, labels in y.items():
            pop = get_underlying_pop(key)
            labels = np.asarray(labels)
            loss = self.ir.node(loss_id(node_id(pop)))
            if loss.target_var:
                # mlGeNN's hooks: set_target gets the batch's labels as mlGeNN passes them
                self._target_writers[node_id(pop)].set_target(
                    labels, pop.shape, self.batch_size, self.example_timesteps)
                sim.set_labels(loss_id(node_id(pop)), np.zeros(self.batch_size, np.int32),
                               active)
                continue
            if loss.timesteps:
                # (examples, T, neurons); one target per example is the same at every step
                n = int(np.prod(pop.shape))
                labels = labels.reshape(len(labels), -1, n)
                labels = np.broadcast_to(labels, (len(labels), loss.timesteps, n))
            padded = np.zeros((self.batch_size,) + labels.shape[1:], labels.dtype)
            padded[:num_examples] = labels
            sim.set_labels(loss_id(node_id(pop)), padded, active)

    def _train_batch(self, batch, x, y, metrics, cbs) -> int:
        """One optimiser step on the examples ``x``/``y`` (in simulated chunks when they do
        not fit); returns the callbacks' next batch index."""
        dp = self._data_parallel
        if dp is None:
            batch = self._learn(batch, x, y, cbs, metrics)
        else:
            failure, pending = None, []
            try:
                # gradients materialised: the ranks sum them before the optimiser step
                batch = self._learn(batch, x, y, cbs, pending, defer=False)
            except Exception as exc:   # noqa: BLE001 - the other ranks must hear of it
                failure = exc
            dp.agree(failure)
            # metrics are summed over ranks once every rank is known to be well
            for key, y_true, y_pred in pending:
                metrics[key].update(y_true, y_pred, dp.comm)
        self.apply_optimiser()
        cbs.on_batch_end(batch, metrics)
        return batch + 1

    def _learn(self, batch, x, y, cbs, metrics=None, defer=True) -> int:
        """Run the examples of one optimiser step with learning on, ``batch_size`` at a time,
        accumulating their gradients (materialised unless ``defer`` lets an optimiser in kernels
        take them from the example directly); returns the callbacks' batch index of the last
        chunk (whose ``on_batch_end`` the caller sends)."""
        n = len(next(iter(y.values())))
        if n == 0:   # a data-parallel rank whose shard has run out: nothing to simulate
            if isinstance(metrics, list):
                metrics.extend((o, np.asarray(y[o]), np.zeros((0, self._output_size(o))))
                               for o in y)
            self._gradient_rows = self._step_examples = 0
            return batch
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
            with self.timed_update("Reset"):
                self._start_learning(sim)
            for g, value in kept.items():
                sim.set_var(*g, value)
            self._batch_start_timestep = sim.timestep
            self.set_input(xs)
            self._set_labels(ys, m)
            cbs.on_batch_begin(batch)
            self.run_example(cbs)
            sim.end_example(for_optimiser=defer and self._optimiser_in_kernels and not chunked)
            if isinstance(metrics, list):   # data-parallel: updated once the ranks agree
                metrics.extend((o, self._metric_targets(o, y_true), yp[:m].reshape(m, -1))
                               for (o, y_true), yp in zip(ys.items(), self.get_readout(list(ys))))
            elif metrics is not None:
                for (o, y_true), yp in zip(ys.items(), self.get_readout(list(ys))):
                    metrics[o].update(self._metric_targets(o, y_true), yp[:m].reshape(m, -1))
            if start + chunk < n:
                cbs.on_batch_end(batch, metrics)
                batch += 1
        # rows beyond the examples are padding (their errors are zero; event-driven gradients
        # skip them); with chunks, every row used holds gradients of some chunk
        self._gradient_rows = min(n, chunk)
        self._step_examples = n
        return batch

    @property
    def dropped_spikes(self) -> dict:
        """EventProp: ``{population name: spikes}`` of the last example beyond ``max_spikes``,
        left out of its backward pass (``strict_buffer_checking=False``); empty otherwise."""
        sim = self.simulation
        ep = getattr(sim, "eventprop", None) or getattr(getattr(sim, "learning", None),
                                                         "eventprop", None)
        return dict(ep.dropped) if ep is not None else {}

    @property
    def _optimiser_in_kernels(self) -> bool:
        """The optimiser runs as kernels where the gradients are (Deep-R rewires on the host,
        with the optimiser's state, so it keeps the host optimiser)."""
        return (bool(self.simulation.optimiser_in_kernels) and not self.deep_r
                and not self._other_optimisers)

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
            # weights, or a per-synapse parameter (learnable delays) of a connection
            synapses = not is_var_ref(node.target) or owner in self._synapse_owners
            if synapses and grad.ndim == 2:
                # one gradient for the batch (event-driven e-prop adds active examples only)
                total = grad.astype(np.float64)
            else:
                # rows beyond the batch's examples are padding: their firing-rate terms must
                # not reach the gradient
                total = grad[:self._gradient_rows].sum(axis=0, dtype=np.float64)
            if synapses:
                mask = self._mask(owner)
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
        with self.timed_update("GradientLearn"):
            self._apply_optimiser()

    def _apply_optimiser(self):
        sim = self.simulation
        self.optimiser_step += 1
        if self._data_parallel is not None:   # the gradients of every rank's examples
            self._gradient_rows, self._step_examples = \
                self._data_parallel.reduce_gradients(self)
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
                # per example of a batch sum, once on a batch mean (EventProp)
                examples = 1 if self._gradients_are_means else self._step_examples
                grad = grad + dr.l1_term(sim, examples).reshape(param.shape)
            opt = self._other_optimisers.get(node.target, self.optimiser)
            state = self._opt_state.setdefault(node.target, opt.init_state(param.shape))
            opt.step(param, grad, state, self.optimiser_step)
            if node.clamp is not None:
                np.clip(param, *node.clamp, out=param)
            sim.set_parameter(node.target, param)
            sim.zero_var(ref_owner(node.target), node.gradient)
        for eid, dr in self.deep_r.items():
            state = self._opt_state[eid]
            names = sorted(state)
            moved = dr.step(sim, self.optimiser_step, [state[n] for n in names])
            state.update(zip(names, moved))

    def compute_gradients(self, x: dict, y: dict) -> dict:
        """Run one batch with learning on and return its batch-summed gradients without
        applying the optimiser: ``{connection name, '<connection>.d' (learnable delays, per
        timestep of delay) or '<population>.bias': array}``."""
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
        return {_gradient_name(t, names): g for t, g in self.gradients().items()}

    # -- checkpoints ---------------------------------------------------------------------------
    def save(self, keys=(), serialiser="numpy"):
        """Save a checkpoint under ``keys``: every connection's weights and trained population
        variables (``Bias``) in mlGeNN's file layout (:mod:`irsnn.serialisers.layout`), then
        irsnn's training state (optimiser state and step, simulation state, Deep-R), which
        :meth:`resume` needs to continue exactly (:mod:`.training_state`)."""
        from ..serialisers import Serialiser, default_serialisers
        from ..utils.module import get_object
        from .training_state import save_training_state
        serialiser = get_object(serialiser, Serialiser, "Serialiser", default_serialisers)
        keys = tuple(keys) if isinstance(keys, list | tuple) else (keys,)
        super().save(keys, serialiser)
        from ..serialisers.layout import saved_weights, weight_kind
        conns = {c.name: c for c in self.network.connections}
        edges = {edge_id(u, v, k): syn.name for u, v, k, syn in self.ir.synapses()}
        for _, node in self.ir.nodes(OptimiserNode):
            if not is_var_ref(node.target):
                continue
            owner, var = split_var_ref(node.target)
            value = self.simulation.get_var(owner, var)
            if owner in edges:      # learnt delays: 1-D, as the connection's weights
                conn = conns[edges[owner]]
                serialiser.serialise(keys + (conn.name, var), saved_weights(
                    weight_kind(conn.connectivity), value, self._mask(owner)))
            else:
                serialiser.serialise(keys + (population_name(owner), var), value)
        # last: a checkpoint cut short by a crash has no state and cannot be resumed from
        save_training_state(self, serialiser, keys)

    def resume(self, keys=(), serialiser="numpy"):
        """Continue from a checkpoint :meth:`save` wrote (e.g. ``(epoch,)`` of the
        ``Checkpoint`` callback) as if training had not stopped: its weights, trained
        population variables, optimiser state and step count, optimiser hyper-parameters,
        simulation state and Deep-R state. Call it on a fresh compile of the same network
        with the same compiler options, then ``train(..., start_epoch=epoch + 1)``.

        Raises
        ------
        CheckpointNotFoundError
            The folder, the checkpoint, an array file or the training state is missing.
        CheckpointKeyError
            The training state lacks an entry this network has.
        InputError
            An array has another shape (another network, batch size or seed).
        """
        from ..serialisers import Serialiser, default_serialisers
        from ..utils.module import get_object
        from .training_state import restore_training_state
        serialiser = get_object(serialiser, Serialiser, "Serialiser", default_serialisers)
        keys = tuple(keys) if isinstance(keys, list | tuple) else (keys,)
        restore_training_state(self, serialiser, keys)

    def save_connectivity(self, keys=(), serialiser="numpy", only=None):
        """Save the synapses of every sparse (``FixedProbability``, ``Sparse``) and one-to-one
        connection as ``pre_ind``/``post_ind`` (as mlGeNN does for its SPARSE connections):
        the synapses that exist now (after Deep-R rewiring, the rewired ones), in the order of
        the saved weights; ``only``: a set of edge ids to restrict to."""
        from ..serialisers import Serialiser, default_serialisers
        from ..serialisers.layout import saved_indices, weight_kind
        from ..utils.module import get_object
        serialiser = get_object(serialiser, Serialiser, "Serialiser", default_serialisers)
        keys = tuple(keys) if isinstance(keys, list | tuple) else (keys,)
        conns = {c.name: c for c in self.network.connections}
        for u, v, k, syn in self.ir.synapses():
            eid = edge_id(u, v, k)
            kind = weight_kind(conns[syn.name].connectivity)
            if (only is not None and eid not in only) or kind == "dense":
                continue
            pre, post = saved_indices(kind, (syn.num_pre, syn.num_post), self._mask(eid))
            serialiser.serialise(keys + (syn.name, "pre_ind"), pre)
            serialiser.serialise(keys + (syn.name, "post_ind"), post)


def _gradient_name(target, connection_names: dict) -> str:
    """The name :meth:`CompiledTrainingNetwork.compute_gradients` gives an optimiser target:
    the connection's name for its weights, ``<connection>.d`` for its learnable delays,
    ``<population>.bias`` for ``pop.<population>/Bias``."""
    if target in connection_names:
        return connection_names[target]
    owner, var = split_var_ref(target)
    if owner in connection_names:
        return f"{connection_names[owner]}.{var}"
    return f"{population_name(owner)}.{var.lower()}"


def _take(data, idx):
    """Examples ``idx`` (an integer array) of ``data``: arrays and prepared inputs select them
    at once, other sequences one by one."""
    if isinstance(data, np.ndarray | PreparedInputs):
        return data[idx]
    return [data[i] for i in idx]


def _egp_dtype(typ, scalar):
    """The NumPy dtype of an extra global parameter of language type ``typ`` (``"scalar*"``)."""
    from ..lang.types import type_info
    base = typ.rstrip("*").strip()
    if base == "scalar":
        return np.dtype(scalar)
    return np.dtype(type_info(base).dtype)
