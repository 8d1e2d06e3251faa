"""Rate-coded inputs (IntegrateFireInput, LeakyIntegrateFireInput) against closed forms, and
``InputBase.create_input_model`` for a user-defined input neuron."""

from __future__ import annotations

import numpy as np
import pytest

from irsnn import Network, Population
from irsnn.callbacks import SpikeRecorder, VarRecorder
from irsnn.compilers import InferenceCompiler
from irsnn.errors import InputError, ModelError
from irsnn.neurons import (InputBase, IntegrateFire, IntegrateFireInput, LeakyIntegrateFire,
                           LeakyIntegrateFireInput, Neuron)


def _run(neuron, n, x, timesteps, batch_size, var="V"):
    net = Network()
    with net:
        pop = Population(neuron, n, name="inp")
    compiled = InferenceCompiler(evaluate_timesteps=timesteps, batch_size=batch_size,
                                 backend="reference").compile(net)
    _, cb = compiled.predict({pop: x}, [], callbacks=[SpikeRecorder(pop, key="s"),
                                                      VarRecorder(pop, var, key="v")])
    counts = [np.bincount(ids, minlength=n) for ids in cb["s"][1]]
    return np.array(counts), np.array(cb["v"]), cb["s"]


def test_integrate_fire_input_counts_follow_the_rate_closed_form():
    # V += x each step, spike at V >= 1 and reset to 0: first spike after ceil(1/x) steps
    x = np.array([[0.0, 0.125, 0.25, 0.5, 1.0, 0.375]])
    counts, v, _ = _run(IntegrateFireInput(v_thresh=1.0), 6, x, 40, 1)
    period = np.where(x[0] > 0, np.ceil(1.0 / np.where(x[0] > 0, x[0], 1.0)), np.inf)
    np.testing.assert_array_equal(counts[0], np.floor(40 / period))
    # the membrane of the 0.375 neuron: 0.375, 0.75, 0 (spike at 1.125 -> reset), ...
    np.testing.assert_allclose(v[0][:4, 5], [0.375, 0.75, 0.0, 0.375])


def test_leaky_integrate_fire_input_frames_switch_at_frame_boundaries():
    alpha = np.exp(-1.0 / 20.0)
    x = np.array([[[0.25, 0.0], [0.0, 0.25], [0.125, 0.125]],
                  [[0.0, 0.0], [0.5, 0.5], [0.0, 0.25]]])   # (batch, frames, neurons)
    neuron = LeakyIntegrateFireInput(v_thresh=10.0, tau_mem=20.0, input_frames=3,
                                     input_frame_timesteps=4)
    _, v, _ = _run(neuron, 2, x, 14, 2)
    for b in range(2):
        expect, vv = [], np.zeros(2)
        for step in range(14):
            vv = alpha * vv + x[b, min(step // 4, 2)]
            expect.append(vv.copy())
        np.testing.assert_allclose(v[b], np.array(expect), rtol=1e-5)


def test_input_neurons_report_bad_data_and_arguments():
    with pytest.raises(InputError, match="shape"):
        _run(IntegrateFireInput(), 3, np.zeros((1, 4)), 2, 1)
    with pytest.raises(InputError, match="NaN|nan"):
        _run(IntegrateFireInput(), 2, np.array([[np.nan, 0.0]]), 2, 1)
    with pytest.raises(ModelError, match="input_frames"):
        LeakyIntegrateFireInput(input_frames=0)


class DoubledInput(Neuron, InputBase):
    """A user-defined input neuron built with create_input_model: twice the data per step."""

    def __init__(self, input_frames=1, input_frame_timesteps=1, replace="Isyn"):
        super().__init__(input_frames=input_frames,
                         input_frame_timesteps=input_frame_timesteps)
        self.replace = replace

    def get_model(self, population, dt, batch_size):
        base = IntegrateFire(v_thresh=1.0).get_model(population, dt, batch_size)
        base.model = dict(base.model, sim_code="V += 2.0 * Isyn;\n")
        return self.create_input_model(base, batch_size, population.shape,
                                       replace_input=self.replace)


@pytest.mark.parametrize("frames", [1, 2])
def test_create_input_model_drives_a_user_neuron(frames):
    data = np.array([[0.125, 0.25]])
    x = data if frames == 1 else np.stack([data, 2 * data], axis=1)
    counts, v, _ = _run(DoubledInput(input_frames=frames, input_frame_timesteps=4), 2, x, 8, 1)
    # V after step s: 2 * sum of the inputs so far, reset to 0 at >= 1
    expect = []
    vv = np.zeros(2)
    for step in range(8):
        vv = vv + 2.0 * (x[0] if frames == 1 else x[0, min(step // 4, 1)])
        vv = np.where(vv >= 1.0, 0.0, vv)
        expect.append(vv.copy())
    np.testing.assert_allclose(v[0], np.array(expect), rtol=1e-6)
    assert counts.sum() > 0


def test_create_input_model_errors_name_the_problem():
    net = Network()
    with net:
        Population(DoubledInput(replace="Not a name"), 2, name="bad")
    with pytest.raises(ModelError, match="replace_input"):
        InferenceCompiler(evaluate_timesteps=2, backend="reference").compile(net)

    class Clash(DoubledInput):
        def get_model(self, population, dt, batch_size):
            base = LeakyIntegrateFire().get_model(population, dt, batch_size)
            base.add_var("Input", "scalar", 0.0)
            return self.create_input_model(base, batch_size, population.shape, "Isyn")

    net = Network()
    with net:
        Population(Clash(), 2, name="clash")
    with pytest.raises(ModelError, match="already declares 'Input'"):
        InferenceCompiler(evaluate_timesteps=2, backend="reference").compile(net)
