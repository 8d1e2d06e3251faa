"""The metric ``train`` reports is the accuracy of the outputs the network produced during the
epoch, the same in event and online e-prop: each example's readout, with the weights of that
moment and the state carried over from the example before (e-prop does not reset neuron state
between batches unless ``reset_vars_between_examples``, as mlGeNN).

Checked against an independent recomputation: an inference network of the same model, with the
same state handling (no reset between batches, or a reset before each), fed the same examples
in the same order with the weights training had before each batch. With frozen weights the
recomputation's accuracy must equal the training metric; with Adam it must too, weights copied
in before every batch; and event and online modes must report the same readouts when the
weights do not move.
"""

from __future__ import annotations

import numpy as np
import pytest

from irsnn.callbacks import Callback
from irsnn.compilers import EPropCompiler, InferenceCompiler
from irsnn.metrics import Metric
from irsnn.optimisers import Adam, Optimiser
from irsnn.utils.data import preprocess_spikes

from .test_training import N_IN, N_OUT, network

CONNECTIONS = ("ih", "hh", "ho")
T = 12


def dataset(n, seed):
    """``n`` examples whose class (0..2) sets which third of the inputs fires early."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, N_OUT, n)
    x = []
    for label in y:
        times = rng.uniform(4.0, T - 1.0, N_IN)
        times[2 * label:2 * label + 2] = rng.uniform(0.0, 2.0, 2)
        x.append(preprocess_spikes(np.round(times), np.arange(N_IN), N_IN))
    return x, y


class Frozen(Optimiser):
    """An optimiser that leaves every parameter as it is (a learning rate of 0)."""

    name = "frozen"


class Readouts(Metric):
    """Accuracy that also keeps every readout it was given, in order."""

    def __init__(self):
        self.reset()

    def update(self, y_true, y_pred, communicator=None):
        self.y_true.append(np.asarray(y_true))
        self.y_pred.append(np.asarray(y_pred, np.float64))
        self.correct += int((np.argmax(y_pred, axis=1) == np.asarray(y_true)).sum())
        self.total += len(y_true)

    def reset(self):
        self.y_true, self.y_pred, self.correct, self.total = [], [], 0, 0

    @property
    def result(self):
        return self.correct / self.total if self.total else None

    @property
    def readouts(self):
        return np.concatenate(self.y_pred)


class WeightsBeforeBatch(Callback):
    """The weights of every connection at the start of every training batch."""

    def __init__(self):
        self.seen = []

    def set_params(self, compiled_network=None, **kwargs):
        self.net = compiled_network

    def on_batch_begin(self, batch):
        sim = self.net.simulation
        self.seen.append({c: sim.get_weights(c) for c in CONNECTIONS})


def _train(backend, mode, reset, optimiser, batch_size, epochs, x, y):
    net, inp, out = network(seed=3)
    cn = EPropCompiler(example_timesteps=T, losses="sparse_categorical_crossentropy",
                       optimiser=optimiser, batch_size=batch_size, backend=backend,
                       gradient_mode=mode, reset_vars_between_examples=reset,
                       train_output_bias=False).compile(net)
    weights, metrics = WeightsBeforeBatch(), []
    for _ in range(epochs):
        m, _ = cn.train({inp: x}, {out: y}, num_epochs=1, shuffle=False,
                        metrics=Readouts(), callbacks=[weights])
        metrics.append(m[out])
    return net, inp, out, metrics, weights.seen


def _recompute(backend, reset, batch_size, epochs, x, y, weights, net, inp, out):
    """The readouts of an inference network with the training's state handling, given the
    weights training had before each batch."""
    inf = InferenceCompiler(evaluate_timesteps=T, batch_size=batch_size, backend=backend,
                            reset_vars_between_batches=reset,
                            reset_in_syn_between_batches=reset).compile(net)
    sim = inf.simulation
    out_metrics, k = [], 0
    for _ in range(epochs):
        metric = Readouts()
        for start in range(0, len(y), batch_size):
            for c, w in weights[k].items():
                sim.set_weights(c, w)
            k += 1
            got, _ = inf.evaluate_batch({inp: x[start:start + batch_size]},
                                        {out: y[start:start + batch_size]}, metrics=Readouts())
            metric.y_pred += got[out].y_pred
            metric.correct += got[out].correct
            metric.total += got[out].total
        out_metrics.append(metric)
    return out_metrics


@pytest.mark.parametrize("reset, batch_size", [
    pytest.param(False, 1, id="state-carried-batch1"),
    pytest.param(True, 3, id="state-reset-batch3", marks=pytest.mark.slow)])
def test_frozen_training_metric_equals_inference_and_modes_agree(backend, reset, batch_size):
    x, y = dataset(6, seed=4)
    epochs = 2
    results = {}
    for mode in ("event", "online"):
        net, inp, out, metrics, weights = _train(backend, mode, reset, Frozen(), batch_size,
                                                 epochs, x, y)
        again = _recompute(backend, reset, batch_size, epochs, x, y, weights, net, inp, out)
        for trained, recomputed in zip(metrics, again):
            assert trained.total == recomputed.total == len(y)
            np.testing.assert_allclose(trained.readouts, recomputed.readouts, rtol=1e-5,
                                       atol=1e-5)
            assert trained.correct == recomputed.correct
        results[mode] = metrics
    for event, online in zip(results["event"], results["online"]):
        np.testing.assert_allclose(event.readouts, online.readouts, rtol=1e-5, atol=1e-5)
        assert event.correct == online.correct
    if reset:
        # resetting before every batch, as evaluate does: every epoch sees the same outputs
        np.testing.assert_allclose(results["event"][0].readouts,
                                   results["event"][1].readouts, rtol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["event", "online"])
def test_learning_training_metric_is_the_outputs_produced_during_the_epoch(backend, mode):
    """With Adam moving the weights after every example, the training metric is the accuracy
    of the readouts an inference network gives with the weights of each moment and the state
    carried over (not evaluate's accuracy after the epoch, nor with reset state)."""
    x, y = dataset(8, seed=5)
    net, inp, out, metrics, weights = _train(backend, mode, False, Adam(0.05), 1, 2, x, y)
    assert any(not np.array_equal(weights[0][c], weights[-1][c]) for c in CONNECTIONS)
    again = _recompute(backend, False, 1, 2, x, y, weights, net, inp, out)
    for trained, recomputed in zip(metrics, again):
        np.testing.assert_allclose(trained.readouts, recomputed.readouts, rtol=1e-4, atol=1e-4)
        assert trained.correct == recomputed.correct
