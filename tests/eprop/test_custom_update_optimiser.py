"""An optimiser written mlGeNN's way (``get_model`` returning a CustomUpdateModel over
variable references, ``set_step`` setting dynamic parameters) trains an e-prop network: its
update equals the NumPy formula in the kernels and on the host."""

from __future__ import annotations

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.compilers import EPropCompiler
from irsnn.connectivity import Dense
from irsnn.errors import ModelError
from irsnn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from irsnn.optimisers import Optimiser
from irsnn.optimisers.custom_update import CustomUpdateOptimiser
from irsnn.utils.data import preprocess_spikes
from irsnn.utils.model import CustomUpdateModel


class MomentumSGD(Optimiser):
    """SGD with momentum as an mlGeNN user would write it."""

    def __init__(self, eta=0.5, mu=0.25):
        self.eta, self.mu = eta, mu

    def set_step(self, genn_cu, step):
        genn_cu.set_dynamic_param_value("Eta", self.eta / (1 + step))

    def get_model(self, gradient_ref, var_ref, zero_gradient, clamp_var=None):
        model = CustomUpdateModel(
            {"vars": [("M", "scalar")], "params": [("Eta", "scalar"), ("Mu", "scalar")],
             "var_refs": [("Gradient", "scalar"), ("Variable", "scalar")],
             "update_code": "M = (Mu * M) + Gradient;\nVariable -= Eta * M;\n"},
            {"Eta": self.eta, "Mu": self.mu}, {"M": 0.0},
            {"Gradient": gradient_ref, "Variable": var_ref})
        model.set_param_dynamic("Eta")
        return model


def _network():
    rng = np.random.default_rng(0)
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=100), 4, name="inp")
        hid = Population(LeakyIntegrateFire(v_thresh=0.5), 6, name="hid")
        out = Population(LeakyIntegrate(readout="sum_var"), 2, name="out")
        Connection(inp, hid, Dense(rng.normal(0, 1.0, (4, 6))), name="i_h")
        Connection(hid, out, Dense(rng.normal(0, 0.5, (6, 2))), name="h_o")
    return net, inp, out


def test_user_optimiser_update_matches_numpy(backend):
    x = [preprocess_spikes(np.array([1.0, 2.0, 4.0, 6.0]), np.array([0, 1, 2, 3]), 4)] * 2
    y = np.array([0, 1])
    grads = []
    for opt in ("adam", MomentumSGD()):
        net, inp, out = _network()
        # the gradients come from the reference (the oracle), the update from ``backend``
        compiled = EPropCompiler(example_timesteps=10, losses="sparse_categorical_crossentropy",
                                 batch_size=2, optimiser=opt,
                                 backend="reference" if opt == "adam" else backend).compile(net)
        w0 = compiled.simulation.get_weights("h_o")
        if opt == "adam":
            grads = compiled.compute_gradients({inp: x}, {out: y})["h_o"]
            continue
        compiled.train({inp: x}, {out: y}, num_epochs=1, callbacks=[], shuffle=False)
        w1 = compiled.simulation.get_weights("h_o")
    # first step: M = G, W -= Eta * M with Eta = eta / (1 + 0)
    assert np.abs(grads).max() > 0
    np.testing.assert_allclose(w1, w0 - 0.5 * grads, rtol=1e-5, atol=1e-6)


def test_host_update_runs_the_same_code():
    opt = CustomUpdateOptimiser(MomentumSGD(eta=0.5, mu=0.25))
    assert opt.state_names == ("M",) and "Param -= Eta * M;" in opt.update_code
    param = np.array([1.0, 2.0], np.float32)
    state = opt.init_state(param.shape)
    g = np.array([0.5, -1.0], np.float32)
    opt.step(param, g, state, 1)
    opt.step(param, g, state, 2)
    m1 = g
    m2 = 0.25 * m1 + g
    np.testing.assert_allclose(param, [1.0, 2.0] - 0.5 * m1 - 0.25 * m2, rtol=1e-6)
    opt.eta = 1.0   # schedules set attributes of the user's object
    assert opt.inner.eta == 1.0 and opt.scalars(1)["Eta"] == 1.0


def test_bad_custom_update_models_are_reported():
    class NoRefs(MomentumSGD):
        def get_model(self, gradient_ref, var_ref, zero_gradient, clamp_var=None):
            return CustomUpdateModel({"update_code": "M = 1.0;"}, {}, {}, {})

    with pytest.raises(ModelError, match="bind one variable reference"):
        CustomUpdateOptimiser(NoRefs())

    class Undeclared(MomentumSGD):
        def set_step(self, genn_cu, step):
            genn_cu.set_dynamic_param_value("Mu", 1.0)

    with pytest.raises(ModelError, match="did not make dynamic"):
        CustomUpdateOptimiser(Undeclared()).scalars(1)
