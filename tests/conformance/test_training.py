"""e-prop training on every backend against the reference: gradients of one batch, then the
weights after a few optimiser steps (realistic case: float32 sums in different orders, so
tolerances)."""

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.compilers import EPropCompiler
from irsnn.connectivity import Dense, FixedProbability
from irsnn.initializers import Normal
from irsnn.neurons import (AdaptiveLeakyIntegrateFire, LeakyIntegrate, LeakyIntegrateFire,
                           SpikeInput)

from ..models import random_spikes
from .conftest import nvrtc_check


def _network(model):
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=4000), 12, name="in")
        hidden = Population(model, 10, name="hid")
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"), 3, name="out")
        Connection(inp, hidden, Dense(Normal(sd=0.8)), name="ih")
        Connection(hidden, hidden, FixedProbability(0.5, Normal(sd=0.3)), name="hh")
        Connection(hidden, out, Dense(Normal(sd=0.5)), name="ho")
    return net, inp, out


MODELS = {"lif": lambda: LeakyIntegrateFire(v_thresh=0.5, tau_refrac=3.0),
          "alif": lambda: AdaptiveLeakyIntegrateFire(v_thresh=0.5, tau_refrac=3.0,
                                                     tau_adapt=100.0, beta=0.2)}


def _compile(backend, model, loss, feedback):
    net, inp, out = _network(MODELS[model]())
    c = EPropCompiler(example_timesteps=25, losses=loss, batch_size=3, backend=backend,
                      feedback=feedback)
    return c.compile(net), inp, out


@pytest.mark.parametrize("model", sorted(MODELS))
@pytest.mark.parametrize("loss,feedback", [("sparse_categorical_crossentropy", "symmetric"),
                                           ("mean_square_error", "random")])
def test_training_matches_reference(backend, model, loss, feedback):
    x = random_spikes(5, 12, 25, rate=0.15, seed=3)
    if loss == "sparse_categorical_crossentropy":
        y = np.array([0, 2, 1, 1, 0])
    else:
        y = np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)
    ref, ri, ro = _compile("reference", model, loss, feedback)
    net, ni, no = _compile(backend, model, loss, feedback)
    g_ref = ref.compute_gradients({ri: x[:3]}, {ro: y[:3]})
    g = net.compute_gradients({ni: x[:3]}, {no: y[:3]})
    assert set(g) == set(g_ref) == {"ih", "hh", "ho", "out.bias"}
    for k in g_ref:
        scale = np.abs(g_ref[k]).max() + 1e-6
        np.testing.assert_allclose(g[k], g_ref[k], rtol=1e-4, atol=1e-5 * scale, err_msg=k)
    assert np.abs(g_ref["ih"]).max() > 0 and np.abs(g_ref["ho"]).max() > 0
    metric = "sparse_categorical_accuracy" if y.ndim == 1 else "mean_square_error"
    # with validation after every epoch: learning off, and on again (on blocks of threads,
    # two kernels)
    _, valid_ref, _, _ = ref.train({ri: x}, {ro: y}, num_epochs=2, shuffle=False,
                                   metrics=metric, callbacks=[], validation_callbacks=[],
                                   validation_x={ri: x[3:]}, validation_y={ro: y[3:]})
    _, valid, _, _ = net.train({ni: x}, {no: y}, num_epochs=2, shuffle=False, metrics=metric,
                               callbacks=[], validation_callbacks=[],
                               validation_x={ni: x[3:]}, validation_y={no: y[3:]})
    assert valid[no].total == valid_ref[ro].total == 2
    np.testing.assert_allclose(valid[no].result, valid_ref[ro].result, rtol=1e-4)
    for conn in ("ih", "hh", "ho"):
        np.testing.assert_allclose(net.simulation.get_weights(conn),
                                   ref.simulation.get_weights(conn), rtol=1e-4, atol=1e-5)
    if backend == "reference":
        nvrtc_check(ref.ir)


@pytest.mark.parametrize("loss", ["class_label", "step_targets"])
def test_losses_written_with_mlgenn_hooks_match_reference(backend, loss):
    # a loss's add_to_neuron code (narrow shared label, extra global parameter indexed by
    # batch, step and id) runs in every backend's kernels as in the reference
    from ..eprop.user_losses import ClassLabel, StepTargets
    x = random_spikes(3, 12, 25, rate=0.15, seed=3)
    if loss == "class_label":
        make, y = ClassLabel, np.array([0, 2, 1])
    else:
        make, y = StepTargets, np.random.default_rng(1).normal(size=(3, 25, 3))
    ref, ri, ro = _compile("reference", "lif", make(), "symmetric")
    net, ni, no = _compile(backend, "lif", make(), "symmetric")
    g_ref = ref.compute_gradients({ri: x}, {ro: y})
    g = net.compute_gradients({ni: x}, {no: y})
    for k in g_ref:
        scale = np.abs(g_ref[k]).max() + 1e-6
        np.testing.assert_allclose(g[k], g_ref[k], rtol=1e-4, atol=1e-5 * scale, err_msg=k)
    assert np.abs(g_ref["ho"]).max() > 0
    if backend == "reference":
        nvrtc_check(ref.ir)
