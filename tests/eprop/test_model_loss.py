"""mlGeNN's loss hooks in EPropCompiler: a loss written the mlGeNN way (``add_to_neuron`` adds
variables, extra global parameters and code defining ``yTrue`` to the output neuron model;
``set_target`` writes each batch's labels) trains exactly as irsnn's built-in loss with the same
meaning, its error is the output minus the target its code computes (checked in NumPy), and
hooks irsnn cannot express are refused with the loss named. Every backend against the
reference: ``tests/conformance/test_training.py``."""

from __future__ import annotations

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.callbacks import VarRecorder
from irsnn.compilers import EPropCompiler, EventPropCompiler
from irsnn.connectivity import Dense
from irsnn.errors import ModelError
from irsnn.losses import Loss, RelativeMeanSquareError
from irsnn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from irsnn.utils.data import preprocess_spikes

from .user_losses import ClassLabel, RampTargets, StepTargets

T = 16


def _net():
    rng = np.random.default_rng(0)
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=200), 4, name="inp")
        hid = Population(LeakyIntegrateFire(v_thresh=0.5, tau_mem=20.0), 8, name="hid")
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="var"), 2, name="out")
        Connection(inp, hid, Dense(rng.normal(0, 1.0, (4, 8))), name="i_h")
        Connection(hid, hid, Dense(rng.normal(0, 0.3, (8, 8))), name="h_h")
        Connection(hid, out, Dense(rng.normal(0, 0.5, (8, 2))), name="h_o")
    return net, inp, out


def _spikes(n, seed=1):
    rng = np.random.default_rng(seed)
    return [preprocess_spikes(np.sort(rng.uniform(0, T - 1, 12)), rng.integers(0, 4, 12), 4)
            for _ in range(n)]


def _train(backend, loss, y, batch_size=2, mode="event", record=False):
    net, inp, out = _net()
    compiled = EPropCompiler(example_timesteps=T, losses=loss, batch_size=batch_size,
                             backend=backend, gradient_mode=mode).compile(net)
    cbs = [VarRecorder(out, "V", key="v"), VarRecorder(out, "E", key="e")] if record else []
    with compiled:
        metrics, cb = compiled.train({inp: _spikes(len(y))}, {out: y}, num_epochs=2,
                                     callbacks=cbs)
        valid, _ = compiled.evaluate({inp: _spikes(len(y), seed=5)}, {out: y}, callbacks=[])
        weights = {c: compiled.simulation.get_weights(c) for c in ("i_h", "h_h", "h_o")}
    return weights, metrics[out], valid[out], cb


def _same_training(a, b):
    for conn in a[0]:
        np.testing.assert_array_equal(a[0][conn], b[0][conn], err_msg=conn)
    assert type(a[1]) is type(b[1]) and type(a[2]) is type(b[2])
    assert a[1].result == b[1].result and a[2].result == b[2].result


@pytest.mark.parametrize("mode", ["event", "online"])
def test_user_mean_square_error_trains_as_the_built_in_one(backend, mode):
    # targets per timestep through an extra global parameter indexed by batch, step and id;
    # 4 examples in batches of 2: the clock restarts every batch, as the code assumes
    y = np.random.default_rng(2).normal(0, 1, (4, T, 2)).astype(np.float32)
    user = _train(backend, StepTargets(), y, mode=mode)
    _same_training(user, _train(backend, "mean_square_error", y, mode=mode))
    assert type(user[1]).__name__ == "MeanSquareError"   # targets, not classes: regression


@pytest.mark.parametrize("batch_size", [1, 2])
def test_user_cross_entropy_trains_as_the_built_in_one(backend, batch_size):
    # a narrow (uint8_t) label shared by each row's neurons (GeNN's view: (batch, 1), or (1,)
    # for batch size 1); 3 examples in batches of 2 leave the last batch partial (set_target
    # gets one label; the padding row has no error)
    y = np.array([0, 1, 1])
    user = _train(backend, ClassLabel(), y, batch_size=batch_size)
    _same_training(user, _train(backend, "sparse_categorical_crossentropy", y,
                                batch_size=batch_size))
    assert type(user[1]).__name__ == "SparseCategoricalAccuracy"


def test_error_is_output_minus_the_target_the_code_computes():
    # independent of irsnn's losses: E(t) = V(t) - Gain * (id + 1) * t / T, in NumPy
    gains = np.random.default_rng(3).uniform(0.5, 2.0, (3, 2))
    _, _, _, cb = _train("reference", RampTargets(), gains, batch_size=3, record=True)
    t = np.arange(T)[:, None]
    for epoch_row in range(6):   # two epochs of three examples, shuffled
        v, e = np.asarray(cb["v"][epoch_row]), np.asarray(cb["e"][epoch_row])
        # which example this was: the one whose ramp fits the error
        fits = [np.abs(e - (v - g * (np.arange(2) + 1) * t / T)).max() for g in gains]
        assert min(fits) < 1e-5 and sorted(fits)[1] > 1e-2


def _loss(add, set_target=True):
    """A loss class whose add_to_neuron is ``add`` (and a set_target unless told not to)."""
    body = {"add_to_neuron": lambda self, model, shape, batch_size, steps: add(model)}
    if set_target:
        body["set_target"] = lambda self, pop, y, shape, batch_size, steps: None
    return type("BadLoss", (Loss,), body)()


@pytest.mark.parametrize("loss, match", [
    (_loss(lambda m: m.append_sim_code("const scalar yTrue = 0.0;"), set_target=False),
     r"BadLoss implements add_to_neuron but not set_target"),
    (_loss(lambda m: m.append_sim_code("const scalar other = 0.0;")),
     r"BadLoss.add_to_neuron appended no code that sets yTrue"),
    (_loss(lambda m: m.prepend_sim_code("const scalar yTrue = 0.0;")),
     r"BadLoss.add_to_neuron changed the neuron's existing sim code.*append_sim_code"),
    (_loss(lambda m: (m.model.update(params=[p for p in m.model["params"]
                                             if (p if isinstance(p, str) else p[0]) != "Bias"]),
                      m.append_sim_code("const scalar yTrue = 0.0;"))),
     r"BadLoss.add_to_neuron removed parameters \['Bias'\]"),
    (_loss(lambda m: m.append_reset_code("V = 0.0;")),
     r"BadLoss.add_to_neuron changed the neuron's reset_code"),
    (_loss(lambda m: (m.add_param("Scale", "scalar", 2.0),
                      m.append_sim_code("const scalar yTrue = Scale;"))),
     r"BadLoss.add_to_neuron adds parameters \['Scale'\]"),
    (_loss(lambda m: (m.add_egp("Y", "scalar*", None),
                      m.append_sim_code("const scalar yTrue = Y[id];"))),
     r"extra global parameter 'Y' has no value"),
    (_loss(lambda m: (m.add_var("Y", "scalar", np.zeros(2)),
                      m.append_sim_code("const scalar yTrue = Y;"))),
     r"variable 'Y' starts from array"),
    (_loss(lambda m: (m.add_var("Y", "int64_t", 0),
                      m.append_sim_code("const scalar yTrue = Y;"))),
     r"variable 'Y' has type 'int64_t'"),
    (_loss(lambda m: (m.add_var("E", "scalar", 0.0),
                      m.append_sim_code("const scalar yTrue = E;"))),
     r"its loss .*BadLoss adds \['E'\], which the neuron model or e-prop already declares"),
])
def test_hooks_irsnn_cannot_express_are_refused_with_the_loss_named(loss, match):
    net, _, _ = _net()
    with pytest.raises(ModelError, match=match) as info:
        EPropCompiler(example_timesteps=T, losses=loss, backend="reference").compile(net)
    assert "'out'" in str(info.value)


def test_losses_other_compilers_cannot_use_are_refused():
    net, _, _ = _net()
    with pytest.raises(ModelError, match=r"RelativeMeanSquareError, is neither one of irsnn's "
                                         r"e-prop losses"):
        EPropCompiler(example_timesteps=T, losses=RelativeMeanSquareError(1.0),
                      backend="reference").compile(net)
    with pytest.raises(ModelError, match=r"StepTargets, is written with mlGeNN's add_to_neuron"
                                         r"/set_target hooks.*train it with EPropCompiler"):
        EventPropCompiler(example_timesteps=T, losses=StepTargets(),
                          backend="reference").compile(net)
