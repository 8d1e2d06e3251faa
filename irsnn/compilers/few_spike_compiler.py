"""Few-spike inference: ANNs converted to spiking networks of ``FewSpikeRelu`` neurons.

Requires: :class:`~.inference_compiler.InferenceCompiler`, the few-spike neurons and the
``few-spike-pipeline`` pass. Provides :class:`FewSpikeCompiler` and
:class:`CompiledFewSpikeNetwork` (mlGeNN's, Stoeckl & Maass 2021).

Every layer is a pipeline stage: a batch is applied to the inputs, each period of ``k``
timesteps moves every batch in flight one layer on, and the readout of an output population
``d`` stages deep belongs to the batch applied ``d`` periods earlier (the
``few-spike-pipeline`` pass computes the depths and delays). Nothing is reset between
batches; ``evaluate`` and ``predict`` start from a fresh state and run ``d`` extra periods at
the end so the last batches come out.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence

import numpy as np

from ..errors import InputError, ModelError
from ..lowering import node_id
from ..neurons import FewSpikeRelu, FewSpikeReluInput
from ..population import get_underlying_pop
from ..readouts import Var
from .compiler import _positive_int
from .inference_compiler import CompiledInferenceNetwork, InferenceCompiler, _metrics_for


class CompiledFewSpikeNetwork(CompiledInferenceNetwork):
    """A network compiled by :class:`FewSpikeCompiler`: pipelined batches of ``k`` steps."""

    def __init__(self, compiler, network, name=None):
        super().__init__(compiler, network, name, example_timesteps=compiler.k)
        self.k = compiler.k
        depths = self.ir.attrs.get("pipeline_depth", {})
        #: population -> pipeline depth (periods between applying a batch and reading it)
        self.pop_pipeline_depth = {p: depths[node_id(p)] for p in network.populations}

    def evaluate(self, x: dict, y: dict, metrics="sparse_categorical_accuracy",
                 callbacks=("batch_progress_bar",)):
        """Evaluate inputs ``x`` against labels ``y``; returns ``(metrics, cb_data)``."""
        n = self._check_sizes(x, "input")
        if n != self._check_sizes(y, "label set"):
            raise InputError(f"{n} input examples but {self._check_sizes(y, 'label set')} "
                             f"labels; give one label per example")
        x = self._prepare_inputs(x)
        starts = range(0, n, self.batch_size)
        data = (([v[s:s + self.batch_size] for v in x.values()],
                 [v[s:s + self.batch_size] for v in y.values()]) for s in starts)
        return self._pipeline(list(x), list(y), data, len(starts), metrics, callbacks)

    def evaluate_batch_iter(self, inputs, outputs, data: Iterator, num_batches=None,
                            metrics="sparse_categorical_accuracy",
                            callbacks=("batch_progress_bar",)):
        """Evaluate batches ``(x, y)`` drawn from ``data`` (one array each, or one per input
        and output population)."""
        inputs = tuple(inputs) if isinstance(inputs, Sequence) else (inputs,)
        outputs = tuple(outputs) if isinstance(outputs, Sequence) else (outputs,)
        batches = (([bx] if len(inputs) == 1 else list(bx),
                    [by] if len(outputs) == 1 else list(by)) for bx, by in data)
        return self._pipeline(inputs, outputs, batches, num_batches, metrics, callbacks)

    def evaluate_batch(self, x: dict, y: dict, metrics="sparse_categorical_accuracy",
                       callbacks=()):
        """Evaluate exactly one batch (pushed through the whole pipeline)."""
        return self._pipeline(list(x), list(y), iter([(list(x.values()), list(y.values()))]),
                              1, metrics, callbacks)

    def predict(self, x: dict, outputs, callbacks=("batch_progress_bar",)):
        """Readouts of ``outputs`` for every example of ``x``: ``(y_pred, cb_data)``."""
        outputs = tuple(outputs) if isinstance(outputs, Sequence) else (outputs,)
        n = self._check_sizes(x, "input")
        x = self._prepare_inputs(x)
        starts = range(0, n, self.batch_size)
        data = (([v[s:s + self.batch_size] for v in x.values()],
                 [np.zeros(min(self.batch_size, n - s)) for _ in outputs]) for s in starts)
        preds = {o: [] for o in outputs}
        _, cb_data = self._pipeline(list(x), outputs, data, len(starts), None, callbacks,
                                    preds)
        return {o: np.concatenate(p) for o, p in preds.items()}, cb_data

    # -- the pipeline --------------------------------------------------------------------------
    def _pipeline(self, inputs, outputs, data, num_batches, metrics, callbacks, preds=None):
        for o in outputs:
            self._output_population(o)
        metrics = {} if metrics is None else _metrics_for(metrics, outputs)
        depth = {o: self.pop_pipeline_depth[get_underlying_pop(o)] for o in outputs}
        total = None if num_batches is None else num_batches + max(depth.values())
        cbs = self._callbacks(callbacks, total)
        sim = self.simulation
        sim.reset(vars=True, time=True, in_syn=True, readouts=True)
        queues = {o: deque() for o in outputs}
        cbs.on_test_begin()
        batch, remaining = 0, True
        while remaining or any(queues.values()):
            try:
                bx, by = next(data)
            except StopIteration:
                remaining = False
            num_examples = self.batch_size
            if remaining:
                if len(bx) != len(inputs) or len(by) != len(outputs):
                    raise InputError(f"batch {batch}: {len(bx)} input and {len(by)} label "
                                     f"arrays for {len(inputs)} inputs and {len(outputs)} "
                                     f"outputs")
                num_examples = len(by[0])
                self.begin_batch(cbs, batch, num_examples)
                self.set_input(dict(zip(inputs, bx)))
                for o, yo in zip(outputs, by):
                    queues[o].append(yo)
            else:
                self.begin_batch(cbs, batch, num_examples)
            self._batch_start_timestep = batch * self.k
            cbs.on_batch_begin(batch)
            self.run_example(cbs)
            ready = [o for o in outputs if batch >= depth[o] and queues[o]]
            for o, y_pred in zip(ready, self.get_readout(ready)):
                y_true = np.asarray(queues[o].popleft())
                y_pred = y_pred[:len(y_true)]
                if preds is not None:
                    preds[o].append(y_pred)
                else:
                    metrics[o].update(y_true, y_pred.reshape(len(y_true), -1))
            cbs.on_batch_end(batch, metrics)
            batch += 1
        cbs.on_test_end(metrics)
        return metrics, cbs.get_data()


class FewSpikeCompiler(InferenceCompiler):
    """Compile a network of few-spike neurons for pipelined inference (mlGeNN's).

    Populations must use :class:`~irsnn.neurons.FewSpikeRelu` or
    :class:`~irsnn.neurons.FewSpikeReluInput` neurons, connections ``Delta`` synapses without
    delays, and outputs the ``Var`` readout; the network must be feed-forward.

    Parameters
    ----------
    k : int
        Timesteps per period (each neuron's ``k`` must match).
    dt, batch_size, rng_seed, kernel_profiling, prefer_in_memory_connect, backend
        See :class:`~.compiler.Compiler`.
    """

    def __init__(self, k: int = 10, dt: float = 1.0, batch_size: int = 1, rng_seed: int = 0,
                 kernel_profiling: bool = False, prefer_in_memory_connect: bool = True,
                 communicator=None, backend=None, precision: str = "float", **genn_kwargs):
        self.k = _positive_int("FewSpikeCompiler", "k", k)
        super().__init__(evaluate_timesteps=self.k, dt=dt, batch_size=batch_size,
                         rng_seed=rng_seed, kernel_profiling=kernel_profiling,
                         prefer_in_memory_connect=prefer_in_memory_connect,
                         reset_time_between_batches=False, reset_vars_between_batches=False,
                         reset_in_syn_between_batches=False, backend=backend,
                         precision=precision, **genn_kwargs)
        self.communicator = communicator

    def passes(self):
        from irsnn.passes import FewSpikePipeline
        passes = super().passes()
        return passes[:1] + [FewSpikePipeline()] + passes[1:]

    def options(self):
        return {**super().options(), "few_spike_k": self.k}

    def lower(self, network, name=None):
        self._check(network)
        return super().lower(network, name)

    def _check(self, network):
        for pop in network.populations:
            nrn = pop.neuron
            where = f"Population '{pop.name}'"
            if not isinstance(nrn, FewSpikeRelu | FewSpikeReluInput):
                raise ModelError(f"{where}: FewSpikeCompiler runs FewSpikeRelu and "
                                 f"FewSpikeReluInput neurons only, not {type(nrn).__name__}")
            if nrn.k != self.k:
                raise ModelError(f"{where}: neuron k={nrn.k} but FewSpikeCompiler(k={self.k}); "
                                 f"use the same k for the compiler and every neuron")
            if nrn.readout is not None and not isinstance(nrn.readout, Var):
                raise ModelError(f"{where}: FewSpikeCompiler reads outputs with the 'var' "
                                 f"readout only, not {type(nrn.readout).__name__}")
        for conn in network.connections:
            synapse = type(conn.synapse).__name__
            if synapse != "Delta":
                raise ModelError(f"Connection '{conn.name}': FewSpikeCompiler needs Delta "
                                 f"synapses, not {synapse}")
            if not (isinstance(conn.connectivity.delay, int | float)
                    and conn.connectivity.delay == 0):
                raise ModelError(f"Connection '{conn.name}': few-spike connections take no "
                                 f"delay (the compiler sets pipeline delays); remove delay="
                                 f"{conn.connectivity.delay!r}")

    def compile(self, network, name: str | None = None, **kwargs) -> CompiledFewSpikeNetwork:
        """Lower, run the few-spike pipeline and build: a :class:`CompiledFewSpikeNetwork`."""
        return CompiledFewSpikeNetwork(self, network, name)


__all__ = ["FewSpikeCompiler", "CompiledFewSpikeNetwork"]
