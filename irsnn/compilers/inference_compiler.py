"""Inference: static weights, batched evaluation and prediction.

Requires: :class:`~.compiler.Compiler`, :class:`~.compiled_network.CompiledNetwork`, the
metrics and :class:`~irsnn.callbacks.callback_list.CallbackList`. Provides
:class:`InferenceCompiler` (mlGeNN's) and :class:`CompiledInferenceNetwork` (``evaluate``,
``evaluate_batch_iter``, ``evaluate_batch``, ``predict``), and :data:`default_params`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from ..errors import InputError
from ..metrics import Metric, default_metrics
from ..population import get_underlying_pop
from ..callbacks.callback_list import CallbackList
from ..utils.module import get_object
from .compiled_network import CompiledNetwork
from .compiler import Compiler, _positive_int

#: ``{class: {argument: value}}`` for ``Network(default_params)``: inference takes every
#: model's own defaults (mlGeNN's InferenceCompiler defines none), so it is empty; it exists
#: so that scripts written for any compiler can pass their compiler's ``default_params``.
default_params: dict = {}


def _metrics_for(metrics, outputs):
    """One Metric object per output (a single spec is copied for each)."""
    if isinstance(metrics, dict):
        return {o: get_object(metrics[o], Metric, "Metric", default_metrics) for o in outputs}
    return {o: get_object(metrics, Metric, "Metric", default_metrics) for o in outputs}


class CompiledInferenceNetwork(CompiledNetwork):
    """A network compiled by :class:`InferenceCompiler`."""

    def __init__(self, compiler, network, name=None, example_timesteps=None):
        super().__init__(compiler, network, example_timesteps or compiler.evaluate_timesteps,
                         name)
        self.evaluate_timesteps = self.example_timesteps

    # -- evaluation ---------------------------------------------------------------------------
    def evaluate(self, x: dict, y: dict, metrics="sparse_categorical_accuracy",
                 callbacks=("batch_progress_bar",)):
        """Evaluate inputs ``x`` against labels ``y`` (dicts keyed by population or layer).

        Returns ``(metrics, cb_data)``: ``metrics[output]`` has ``result``, ``correct`` and
        ``total``; ``cb_data`` holds the callbacks' data by key.
        """
        n = self._check_sizes(x, "input")
        ny = self._check_sizes(y, "label set")
        if n != ny:
            raise InputError(f"{n} input examples but {ny} labels; give one label per example")
        for key in y:
            self._output_population(key)
            self._check_targets(key, y[key])
        metrics = _metrics_for(self._evaluation_metrics(metrics, list(y), y), list(y))
        num_batches = -(-n // self.batch_size)
        dp = self._data_parallel
        if dp is not None:   # every rank runs as many batches as the largest shard needs
            dp.start(self, training=False)
            num_batches = dp.num_batches(num_batches)
        cbs = self._callbacks(callbacks, num_batches)
        cbs.on_test_begin()
        x = self._prepare_inputs(x)
        for batch in range(num_batches):
            start = min(n, batch * self.batch_size)
            stop = min(n, start + self.batch_size)
            self._evaluate_batch(batch, {k: v[start:stop] for k, v in x.items()},
                                 {k: v[start:stop] for k, v in y.items()}, metrics, cbs)
        cbs.on_test_end(metrics)
        return metrics, cbs.get_data()

    def evaluate_batch_iter(self, inputs, outputs, data: Iterator, num_batches=None,
                            metrics="sparse_categorical_accuracy",
                            callbacks=("batch_progress_bar",)):
        """Evaluate batches ``(x, y)`` drawn from the iterator ``data``."""
        inputs = tuple(inputs) if isinstance(inputs, Sequence) else (inputs,)
        outputs = tuple(outputs) if isinstance(outputs, Sequence) else (outputs,)
        metrics = _metrics_for(self._evaluation_metrics(metrics, list(outputs)), outputs)
        cbs = self._callbacks(callbacks, num_batches)
        cbs.on_test_begin()
        for batch, (bx, by) in enumerate(data):
            x = {inputs[0]: bx} if len(inputs) == 1 else dict(zip(inputs, bx))
            y = {outputs[0]: by} if len(outputs) == 1 else dict(zip(outputs, by))
            self._evaluate_batch(batch, x, y, metrics, cbs)
        cbs.on_test_end(metrics)
        return metrics, cbs.get_data()

    def evaluate_batch(self, x: dict, y: dict, metrics="sparse_categorical_accuracy",
                       callbacks=()):
        """Evaluate exactly one batch."""
        metrics = _metrics_for(self._evaluation_metrics(metrics, list(y), y), list(y))
        cbs = self._callbacks(callbacks, 1)
        cbs.on_test_begin()
        self._evaluate_batch(0, x, y, metrics, cbs)
        cbs.on_test_end(metrics)
        return metrics, cbs.get_data()

    def predict(self, x: dict, outputs, callbacks=("batch_progress_bar",)):
        """Readouts of ``outputs`` for every example of ``x``: ``(y_pred, cb_data)``.

        ``y_pred`` maps each output to an array ``(examples, *shape)``.
        """
        outputs = tuple(outputs) if isinstance(outputs, Sequence) else (outputs,)
        for o in outputs:
            self._output_population(o)
        n = self._check_sizes(x, "input")
        cbs = self._callbacks(callbacks, -(-n // self.batch_size))
        cbs.on_test_begin()
        x = self._prepare_inputs(x)
        preds = {o: [] for o in outputs}
        for batch, start in enumerate(range(0, n, self.batch_size)):
            stop = min(n, start + self.batch_size)
            y_pred = self._run_batch(batch, {k: v[start:stop] for k, v in x.items()},
                                     outputs, stop - start, cbs)
            for o, yp in zip(outputs, y_pred):
                preds[o].append(yp[:stop - start])
            cbs.on_batch_end(batch, {})
        cbs.on_test_end({})
        return {o: np.concatenate(p) for o, p in preds.items()}, cbs.get_data()

    # -- internals ----------------------------------------------------------------------------
    def _callbacks(self, callbacks, num_batches, num_epochs=1):
        if callbacks is None:
            callbacks = ()
        if isinstance(callbacks, str):
            callbacks = (callbacks,)
        cbs = CallbackList(list(callbacks), compiled_network=self, num_batches=num_batches,
                           num_epochs=num_epochs, batch_size=self.batch_size)
        if self._data_parallel is not None:
            self._data_parallel.local_callbacks(cbs)
        return cbs

    def _reset_for_batch(self, sim):
        """State resets before an evaluation batch (the compiler's options)."""
        c = self.compiler
        sim.reset(vars=c.reset_vars_between_batches, time=c.reset_time_between_batches,
                  in_syn=c.reset_in_syn_between_batches, readouts=True)

    def _run_batch(self, batch, x, outputs, num_examples, cbs):
        sim = self.begin_batch(cbs, batch, num_examples)
        with self.timed_update("Reset"):
            self._reset_for_batch(sim)
        self._batch_start_timestep = sim.timestep
        self.set_input(x)
        cbs.on_batch_begin(batch)
        self.run_example(cbs)
        return self.get_readout(outputs)

    def _evaluate_batch(self, batch, x, y, metrics, cbs):
        n = len(next(iter(y.values())))
        dp = self._data_parallel
        failure = None
        try:
            if n:
                y_pred = self._run_batch(batch, x, list(y), n, cbs)
            else:   # this rank's shard has run out: it only takes part in the reductions
                y_pred = [np.zeros((0, self._output_size(o))) for o in y]
        except Exception as exc:   # noqa: BLE001 - the other ranks must hear of it
            if dp is None:
                raise
            failure = exc
        if dp is not None:
            dp.agree(failure)
        comm = None if dp is None else dp.comm
        for (o, y_true), yp in zip(y.items(), y_pred):
            rows = len(y_true)
            metrics[o].update(self._metric_targets(o, y_true),
                              yp[:rows].reshape(rows, int(np.prod(yp.shape[1:]))), comm)
        cbs.on_batch_end(batch, metrics)

    def _evaluation_metrics(self, metrics, outputs, labels=None):
        """The metric specification ``evaluate`` uses for ``outputs`` (training networks
        replace the default metric of regression outputs; ``labels``, where known, tell)."""
        return metrics

    def _check_targets(self, key, labels) -> None:
        """Check the labels ``evaluate`` got for output ``key`` (the metric checks them
        here; training networks check them against their loss first)."""

    def _metric_targets(self, key, y_true):
        """The targets the metric compares with the readout of output ``key``."""
        return np.asarray(y_true)

    def _output_size(self, key) -> int:
        return int(np.prod(get_underlying_pop(key).shape))


class InferenceCompiler(Compiler):
    """Compile a network for inference (mlGeNN's ``InferenceCompiler``).

    Parameters
    ----------
    evaluate_timesteps : int
        Timesteps each example is presented for.
    reset_vars_between_batches : bool
        Reset neuron and postsynaptic variables to their initial values before each batch.
    reset_time_between_batches : bool
        Restart the clock at 0 for each batch.
    reset_in_syn_between_batches : bool
        Clear synaptic input (``inSyn``) between batches (mlGeNN's default is not to).
    dt, batch_size, rng_seed, kernel_profiling, prefer_in_memory_connect, backend, communicator
        See :class:`Compiler`.
    """

    def __init__(self, evaluate_timesteps: int, dt: float = 1.0, batch_size: int = 1,
                 rng_seed: int = 0, kernel_profiling: bool = False,
                 prefer_in_memory_connect: bool = True, reset_time_between_batches: bool = True,
                 reset_vars_between_batches: bool = True,
                 reset_in_syn_between_batches: bool = False, backend=None,
                 precision: str = "float", communicator=None, **genn_kwargs):
        super().__init__(dt=dt, batch_size=batch_size, rng_seed=rng_seed,
                         kernel_profiling=kernel_profiling,
                         prefer_in_memory_connect=prefer_in_memory_connect, backend=backend,
                         precision=precision, communicator=communicator, **genn_kwargs)
        self.evaluate_timesteps = _positive_int("InferenceCompiler", "evaluate_timesteps",
                                                evaluate_timesteps)
        self.reset_time_between_batches = reset_time_between_batches
        self.reset_vars_between_batches = reset_vars_between_batches
        self.reset_in_syn_between_batches = reset_in_syn_between_batches

    def options(self):
        return {**super().options(), "example_timesteps": self.evaluate_timesteps}

    def layouts(self):
        """Bitmask for constant weights, then ragged (in-memory sparse), then procedural, then
        dense; procedural first with ``prefer_in_memory_connect=False`` (as mlGeNN)."""
        if self.prefer_in_memory_connect:
            return ("bitmask", "ragged", "procedural", "dense", "one_to_one")
        return ("procedural", "bitmask", "ragged", "dense", "one_to_one")

    def compile(self, network, name: str | None = None, **kwargs) -> CompiledInferenceNetwork:
        """Lower, run the inference pipeline and build: a :class:`CompiledInferenceNetwork`."""
        return CompiledInferenceNetwork(self, network, name)
