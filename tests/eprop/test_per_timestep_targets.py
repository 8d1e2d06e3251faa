"""Mean-square error with one target per timestep (labels ``(examples, timesteps, neurons)``,
as mlGeNN's MeanSquareError and its e-prop pattern-recognition example use): the output error
of every step is ``V(t) - y(t)``, and constant per-timestep targets train exactly as
per-example targets do."""

from __future__ import annotations

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.callbacks import VarRecorder
from irsnn.compilers import EPropCompiler
from irsnn.connectivity import Dense
from irsnn.errors import InputError
from irsnn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from irsnn.utils.data import preprocess_spikes

T = 16


def _net():
    rng = np.random.default_rng(0)
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=200), 4, name="inp")
        hid = Population(LeakyIntegrateFire(v_thresh=0.5, tau_mem=20.0), 8, name="hid")
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="var"), 2, name="out")
        Connection(inp, hid, Dense(rng.normal(0, 1.0, (4, 8))), name="i_h")
        Connection(hid, out, Dense(rng.normal(0, 0.5, (8, 2))), name="h_o")
    return net, inp, out


def _spikes(n):
    rng = np.random.default_rng(1)
    return [preprocess_spikes(np.sort(rng.uniform(0, T - 1, 12)), rng.integers(0, 4, 12), 4)
            for _ in range(n)]


def _train(backend, targets, record=False):
    net, inp, out = _net()
    compiled = EPropCompiler(example_timesteps=T, losses="mean_square_error", batch_size=2,
                             optimiser="adam", backend=backend).compile(net)
    callbacks = [VarRecorder(out, "V", key="v"), VarRecorder(out, "E", key="e")] if record \
        else []
    metrics, cb = compiled.train({inp: _spikes(3)}, {out: targets}, num_epochs=1,
                                 callbacks=callbacks, shuffle=False)
    cb["metric"] = metrics[out]
    return compiled.simulation.get_weights("h_o"), cb


def test_error_is_output_minus_the_target_of_each_timestep(backend):
    targets = np.random.default_rng(2).normal(0, 1, (3, T, 2))
    _, cb = _train(backend, targets, record=True)
    for ex in range(3):
        v, e = np.asarray(cb["v"][ex]), np.asarray(cb["e"][ex])
        np.testing.assert_allclose(e, v - targets[ex], rtol=1e-5, atol=1e-6)
    # the default metric of a regression output is the mean square error of the readout (V at
    # the end of the example) against the last timestep's target
    last = np.array([np.asarray(cb["v"][ex])[-1] for ex in range(3)])
    expect = np.mean(np.mean((last - targets[:, -1]) ** 2, axis=1))
    assert type(cb["metric"]).__name__ == "MeanSquareError"
    np.testing.assert_allclose(cb["metric"].result, expect, rtol=1e-5)


def test_constant_targets_per_timestep_train_as_per_example_targets(backend):
    per_example = np.random.default_rng(3).normal(0, 1, (3, 2))
    w_example, _ = _train(backend, per_example)
    w_steps, _ = _train(backend, np.repeat(per_example[:, None, :], T, axis=1))
    np.testing.assert_array_equal(w_steps, w_example)


def test_wrong_target_shapes_say_what_is_expected():
    with pytest.raises(InputError, match=rf"\(examples, {T}, 2\) for a target per timestep"):
        _train("reference", np.zeros((3, T - 1, 2)))


def test_validation_and_evaluate_take_per_timestep_targets(backend):
    # validation_x/validation_y with (examples, timesteps, neurons) targets, as training takes:
    # the validation metric is the mean square error of the readout (V at the end of each
    # example) against the last timestep's target, computed here from the recorded V
    net, inp, out = _net()
    compiled = EPropCompiler(example_timesteps=T, losses="mean_square_error", batch_size=2,
                             backend=backend).compile(net)
    targets = np.random.default_rng(4).normal(0, 1, (3, T, 2))
    with compiled:
        train_m, valid_m, _, valid_cb = compiled.train(
            {inp: _spikes(3)}, {out: targets}, num_epochs=1, callbacks=[],
            validation_x={inp: _spikes(3)}, validation_y={out: targets},
            validation_callbacks=[VarRecorder(out, "V", key="v")])
        last = np.array([np.asarray(v)[-1] for v in valid_cb["v"]])
        expect = np.mean(np.mean((last - targets[:, -1]) ** 2, axis=1))
        assert type(valid_m[out]).__name__ == "MeanSquareError"
        np.testing.assert_allclose(valid_m[out].result, expect, rtol=1e-5)
        # evaluate on its own: the same weights and resets give the same result
        metrics, _ = compiled.evaluate({inp: _spikes(3)}, {out: targets}, callbacks=[])
        np.testing.assert_allclose(metrics[out].result, valid_m[out].result, rtol=1e-6)
        with pytest.raises(InputError, match=rf"\(examples, {T}, 2\) for a target per timestep"):
            compiled.evaluate({inp: _spikes(3)}, {out: targets[:, 1:]}, callbacks=[])
