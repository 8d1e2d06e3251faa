"""NaN and inf are refused wherever a user gives a number: neuron, synapse and connectivity
values (value descriptors), every parameter and initial value of a model (lowering, custom
models included), optimiser hyper-parameters (also when a schedule changes them) and
``set_weights``. Each error names the object, where it was created, the parameter and the
value."""

from __future__ import annotations

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.compilers import InferenceCompiler
from irsnn.connectivity import Dense, OneToOne
from irsnn.errors import InputError, IrsnnError, ModelError
from irsnn.neurons import LeakyIntegrate, LeakyIntegrateFire, Neuron, SpikeInput
from irsnn.optimisers import Adam
from irsnn.synapses import Exponential
from irsnn.utils.model import NeuronModel

NAN, INF = float("nan"), float("inf")
HERE = "test_nonfinite.py:"


@pytest.mark.parametrize("make, name, shown", [
    (lambda: LeakyIntegrateFire(v_thresh=NAN), "v_thresh", "v_thresh=nan"),
    (lambda: LeakyIntegrateFire(tau_mem=INF), "tau_mem", "tau_mem=inf"),
    (lambda: LeakyIntegrate(bias=-INF), "bias", "bias=-inf"),
    (lambda: LeakyIntegrateFire(v=[0.0, NAN, 1.0]), "v",
     "v holds 1 non-finite value(s) of 3, the first nan at index 1"),
    (lambda: Exponential(tau=NAN), "tau", "tau=nan"),
    (lambda: Dense(NAN), "weight", "weight=nan"),
    (lambda: Dense(np.array([[1.0, 2.0], [INF, 0.0]])), "weight",
     "weight holds 1 non-finite value(s) of 4, the first inf at index (1, 0)"),
    (lambda: OneToOne(np.float32("nan")), "weight", "weight=nan"),
])
def test_value_descriptors_refuse_nonfinite(make, name, shown):
    with pytest.raises(ModelError) as info:
        make()
    msg = str(info.value)
    assert shown in msg and HERE in msg and "finite" in msg and "pass a finite value" in msg
    assert isinstance(info.value, (IrsnnError, ValueError))


def test_assigning_nonfinite_later_is_refused_too():
    n = LeakyIntegrateFire()
    with pytest.raises(ModelError, match=r"LeakyIntegrateFire \(created at .*v_thresh=nan"):
        n.v_thresh = NAN
    assert n.v_thresh == 1.0


class _Custom(Neuron):
    """A model dict whose values do not pass through value descriptors."""

    def __init__(self, param, init):
        super().__init__()
        self.param, self.init = param, init

    def get_model(self, population, dt):
        return NeuronModel({"params": [("Scale", "scalar")], "vars": [("V", "scalar")],
                            "sim_code": "V += Scale * Isyn;"}, "V", {"Scale": self.param},
                           {"V": self.init})


@pytest.mark.parametrize("param, init, shown", [
    (NAN, 0.0, "Scale=nan"), (1.0, -INF, "V=-inf"),
    (1.0, np.array([0.0, INF]), "V holds 1 non-finite value(s) of 2, the first inf at index 1"),
])
def test_lowering_refuses_nonfinite_model_values(param, init, shown):
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=2), 2, name="inp")
        out = Population(_Custom(param, init), 2, name="custom")
        Connection(inp, out, Dense(1.0))
    with pytest.raises(ModelError) as info:
        InferenceCompiler(evaluate_timesteps=2, backend="reference").compile(net)
    msg = str(info.value)
    assert "Population 'custom' (created at " + HERE in msg and shown in msg


@pytest.mark.parametrize("kwargs, shown", [
    ({"alpha": NAN}, "alpha=nan"), ({"alpha": INF}, "alpha=inf"), ({"alpha": 0.0}, "alpha=0.0"),
    ({"alpha": -0.1}, "alpha=-0.1"), ({"beta1": 1.0}, "beta1=1.0"),
    ({"beta2": NAN}, "beta2=nan"), ({"beta1": -0.5}, "beta1=-0.5"),
    ({"epsilon": 0.0}, "epsilon=0.0"), ({"epsilon": INF}, "epsilon=inf"),
    ({"alpha": "fast"}, "alpha (the learning rate) must be a number"),
])
def test_adam_refuses_bad_hyper_parameters(kwargs, shown):
    with pytest.raises(ModelError) as info:
        Adam(**kwargs)
    assert "Adam (created at " + HERE in str(info.value) and shown in str(info.value)


def test_adam_checks_later_assignments():
    opt = Adam(0.01)
    opt.alpha = 0.005   # a schedule lowering the rate
    assert opt.alpha == 0.005
    with pytest.raises(ModelError, match="alpha=nan"):
        opt.alpha = NAN
    assert opt.alpha == 0.005


@pytest.mark.parametrize("backend", ["reference", "c"])
def test_set_weights_refuses_nonfinite(backend):
    from irsnn.backends import available_backends
    ok, why = available_backends()[backend]
    if not ok:
        pytest.skip(f"backend {backend!r} unavailable: {why}")
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=2), 2, name="inp")
        out = Population(LeakyIntegrateFire(), 3, name="out")
        Connection(inp, out, Dense(0.5), name="w")
    cn = InferenceCompiler(evaluate_timesteps=2, backend=backend).compile(net)
    w = np.ones((2, 3))
    w[1, 2] = NAN
    with pytest.raises(InputError, match=r"Connection 'w': weight holds 1 non-finite value\(s\) "
                                         r"of 6, the first nan at index \(1, 2\)"):
        cn.simulation.set_weights("w", w)
    np.testing.assert_array_equal(cn.simulation.get_weights("w"), np.full((2, 3), 0.5))


@pytest.mark.parametrize("make, shown", [
    (lambda: InferenceCompiler(evaluate_timesteps=2, dt=INF), "dt=inf"),
    (lambda: InferenceCompiler(evaluate_timesteps=2, dt=NAN), "dt=nan"),
    (lambda: _eprop(tau_reg=INF), "tau_reg=inf"),
    (lambda: _eprop(c_reg=NAN), "c_reg=nan"),
    (lambda: _eprop(f_target=INF), "f_target=inf"),
])
def test_compiler_options_refuse_nonfinite(make, shown):
    with pytest.raises(ModelError, match=shown):
        make()


def _eprop(**kwargs):
    from irsnn.compilers import EPropCompiler
    return EPropCompiler(example_timesteps=2, losses="mean_square_error", **kwargs)
