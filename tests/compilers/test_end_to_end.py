"""Model-level paths through the compiler: SequentialNetwork, checkpoints, bad code strings and
bad spike inputs, each end to end on the reference backend."""

import numpy as np
import pytest

from irsnn import Connection, InputLayer, Layer, Network, Population, SequentialNetwork
from irsnn.compilers import InferenceCompiler
from irsnn.connectivity import Dense
from irsnn.errors import InputError, ModelError
from irsnn.lang import LangError
from irsnn.neurons import LeakyIntegrate, LeakyIntegrateFire, Neuron, SpikeInput
from irsnn.serialisers import Numpy
from irsnn.utils.data import preprocess_spikes
from irsnn.utils.model import NeuronModel

from ..models import random_spikes, recurrent_alif


def test_sequential_network_compiles_and_layers_are_keys():
    network = SequentialNetwork()
    with network:
        inp = InputLayer(SpikeInput(max_spikes=500), 12)
        hid = Layer(Dense(0.3), LeakyIntegrateFire(tau_mem=10.0), 8)
        out = Layer(Dense(0.5), LeakyIntegrate(readout="avg_var"), 3)
    net = InferenceCompiler(evaluate_timesteps=20, batch_size=2).compile(network)
    metrics, _ = net.evaluate({inp: random_spikes(3, 12, 20, rate=0.3)}, {out: [0, 1, 2]},
                              callbacks=[])
    assert metrics[out].total == 3
    assert len(net.ir.in_edges("pop." + hid.population().name)) == 1


def test_checkpoint_round_trip_through_network_load(tmp_path):
    network, inp, hidden, out = recurrent_alif()
    net = InferenceCompiler(evaluate_timesteps=15, batch_size=2).compile(network)
    x = random_spikes(2, 20, 15, rate=0.2)
    before = net.predict({inp: x}, out, callbacks=[])[0][out]
    net.save(("ckpt",), Numpy(tmp_path))
    # A fresh network with different random weights reproduces the outputs once loaded
    network2, inp2, hidden2, out2 = recurrent_alif()
    loaded = network2.load(("ckpt",), Numpy(tmp_path))
    assert set(loaded) >= {"in_hid", "recurrent", "hid_out"}
    net2 = InferenceCompiler(evaluate_timesteps=15, batch_size=2, rng_seed=99).compile(network2)
    after = net2.predict({inp2: x}, out2, callbacks=[])[0][out2]
    np.testing.assert_array_equal(before, after)


class _CodeNeuron(Neuron):
    def __init__(self, sim, threshold="V >= 1.0"):
        super().__init__()
        self.sim, self.threshold = sim, threshold

    def get_model(self, population, dt, batch_size):
        return NeuronModel({"vars": [("V", "scalar")], "sim_code": self.sim,
                            "threshold_condition_code": self.threshold,
                            "reset_code": "V = 0.0;"}, "V", {}, {"V": 0.0})


def _compile_code(sim, threshold="V >= 1.0"):
    network = Network()
    with network:
        a = Population(SpikeInput(), 2, name="a")
        b = Population(_CodeNeuron(sim, threshold), 2, name="custom")
        Connection(a, b, Dense(1.0))
    return InferenceCompiler(evaluate_timesteps=5).compile(network)


@pytest.mark.parametrize("sim,threshold,pattern", [
    ("V += Isyn * Gain;", "V >= 1.0", r"unknown name 'Gain'"),
    ("V += Isyn", "V >= 1.0", r"(?i)expected ';'"),
    ("V = 0; } evil(); {", "V >= 1.0", r"line 1"),
    ("#include <stdio.h>\nV += Isyn;", "V >= 1.0", r"(?i)preprocessor"),
    ("V += Isyn;", "V >= 1.0; system(1)", r"threshold_condition_code|threshold_code"),
    ("int n = V;", "V >= 1.0", r"(?i)cast|narrow"),
    ("Isyn = 2.0;", "V >= 1.0", r"(?i)read-only|not writable|cannot assign"),
])
def test_bad_code_strings_name_the_population_and_block(sim, threshold, pattern):
    with pytest.raises(LangError, match=pattern) as err:
        _compile_code(sim, threshold)
    assert "Population 'custom' (_CodeNeuron)" in str(err.value)


def test_good_custom_code_runs():
    net = _compile_code("V += Isyn;")
    assert net.ir.node("pop.custom").sim_code == "V += Isyn;"


def _spike_net(max_spikes=50):
    network = Network()
    with network:
        a = Population(SpikeInput(max_spikes=max_spikes), 4, name="spikes")
        b = Population(LeakyIntegrate(readout="sum_var"), 2, name="out")
        Connection(a, b, Dense(1.0))
    return InferenceCompiler(evaluate_timesteps=10, batch_size=2).compile(network), a, b


def test_spike_times_outside_the_example_are_rejected():
    net, a, b = _spike_net()
    late = preprocess_spikes(np.array([1.0, 12.0]), np.array([0, 1]), 4)
    with pytest.raises(InputError, match=r"12"):
        net.predict({a: [late]}, b, callbacks=[])
    early = preprocess_spikes(np.array([-1.0]), np.array([0]), 4)
    with pytest.raises(InputError, match=r"-1"):
        net.predict({a: [early]}, b, callbacks=[])


def test_max_spikes_exceeded_is_rejected():
    net, a, b = _spike_net(max_spikes=5)
    many = preprocess_spikes(np.arange(8, dtype=float), np.zeros(8, int), 4)
    with pytest.raises(InputError, match=r"max_spikes|5"):
        net.predict({a: [many]}, b, callbacks=[])


def test_spike_input_delivers_each_spike_once():
    net, a, b = _spike_net()
    spikes = preprocess_spikes(np.array([0.0, 3.0, 3.0]), np.array([0, 1, 2]), 4)
    from irsnn.callbacks import SpikeRecorder
    _, cb = net.predict({a: [spikes]}, b, callbacks=[SpikeRecorder(a, key="s")])
    times, ids = cb["s"]
    np.testing.assert_array_equal(times[0], [0.0, 3.0, 3.0])
    np.testing.assert_array_equal(ids[0], [0, 1, 2])


def test_connection_into_input_population_is_rejected():
    network = Network()
    with network:
        a = Population(SpikeInput(), 2, name="a")
        b = Population(SpikeInput(), 2, name="b")
        Connection(a, b, Dense(1.0), name="into_input")
    with pytest.raises(ModelError, match="Connection 'into_input'.*input population"):
        InferenceCompiler(evaluate_timesteps=5).compile(network)


def test_empty_network_is_rejected():
    with pytest.raises(ModelError, match="no populations"):
        InferenceCompiler(evaluate_timesteps=5).compile(Network())


class _TwoNameNeuron(Neuron):
    """One attribute feeding two model parameters through different transforms."""

    from irsnn.utils.value import ValueDescriptor as _VD
    tau_mem = _VD(("Alpha", lambda v, dt: np.exp(-dt / v)),
                  ("Beta", lambda v, dt: 1.0 - np.exp(-dt / v)))
    v = _VD("V")

    def __init__(self, tau_mem=10.0, v=0.0):
        super().__init__(readout="var")
        self.tau_mem, self.v = tau_mem, v

    def get_model(self, population, dt, batch_size):
        return NeuronModel.from_val_descriptors(
            {"params": [("Alpha", "scalar"), ("Beta", "scalar")], "vars": [("V", "scalar")],
             "sim_code": "V = (Alpha * V) + (Beta * Isyn);"}, "V", self, dt)


def test_multi_name_value_descriptor_feeds_every_parameter():
    network = Network()
    with network:
        a = Population(SpikeInput(), 1, name="a")
        b = Population(_TwoNameNeuron(tau_mem=10.0), 1, name="b")
        Connection(a, b, Dense(1.0))
    g = InferenceCompiler(evaluate_timesteps=5, dt=0.5).build_ir(network)
    pop = g.node("pop.b")
    assert pop.param("Alpha").value == pytest.approx(np.exp(-0.05))
    assert pop.param("Beta").value == pytest.approx(1 - np.exp(-0.05))
