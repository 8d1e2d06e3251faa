import gc

import numpy as np
import pytest

from irsnn.connection import Connection
from irsnn.connectivity import Dense, FixedProbability, OneToOne
from irsnn.errors import ContextError, ModelError, ShapeError, UnknownNameError
from irsnn.initializers import Normal, Uniform
from irsnn.layer import InputLayer, Layer
from irsnn.network import Network
from irsnn.neurons import LeakyIntegrate, LeakyIntegrateFire, PoissonInput, SpikeInput
from irsnn.population import Population
from irsnn.sequential_network import SequentialNetwork
from irsnn.serialisers import Numpy
from irsnn.synapses import Delta, Exponential


def test_population_basics_and_names():
    net = Network()
    with net:
        a = Population("spike_input", 10)
        b = Population(LeakyIntegrateFire(), (2, 3), record_spikes=True)
        c = Population("leaky_integrate", 4, name="out")
        d = Population("leaky_integrate", 4)
    assert [p.name for p in net.populations] == ["Pop0", "Pop1", "out", "Pop3"]
    assert a.shape == (10,) and b.shape == (2, 3) and b.num_neurons == 6
    assert isinstance(a.neuron, SpikeInput) and b.record_spikes and not a.record_spikes
    assert a.location.startswith("test_network.py:")
    assert c.incoming_connections == [] and d.outgoing_connections == []


def test_population_outside_network():
    with pytest.raises(ContextError) as info:
        Population("leaky_integrate_fire", 3, name="hidden")
    msg = str(info.value)
    assert "'hidden'" in msg and "test_network.py:" in msg and "with network:" in msg


def test_population_bad_inputs():
    with Network():
        with pytest.raises(UnknownNameError, match="leaky_integrate_fire"):
            Population("leaky_integrat_fire", 3)
        with pytest.raises(ModelError, match="> 0"):
            Population("leaky_integrate_fire", (3, 0))
        with pytest.raises(ModelError, match="int"):
            Population("leaky_integrate_fire", 2.5)
        with pytest.raises(ModelError, match="already used"):
            Population("leaky_integrate_fire", 2, name="x")
            Population("leaky_integrate_fire", 2, name="x")


def test_connection_basics():
    net = Network()
    with net:
        a = Population("poisson_input", 4)
        b = Population("leaky_integrate_fire", 3)
        c = Connection(a, b, Dense(Normal(sd=0.1)))
        d = Connection(b, b, FixedProbability(0.1, 1.0), "exponential", name="rec")
    assert [x.name for x in net.connections] == ["Conn0", "rec"]
    assert c.source() is a and c.target() is b
    assert isinstance(c.synapse, Delta) and isinstance(d.synapse, Exponential)
    assert [r() for r in b.incoming_connections] == [c, d]
    assert [r() for r in a.outgoing_connections] == [c]
    assert c.location.startswith("test_network.py:")


def test_connection_outside_network():
    with Network():
        a = Population("poisson_input", 4, name="in")
        b = Population("leaky_integrate_fire", 3, name="hid")
    with pytest.raises(ContextError) as info:
        Connection(a, b, Dense(1.0))
    msg = str(info.value)
    assert "'in'" in msg and "'hid'" in msg and "test_network.py:" in msg


def test_dense_weight_shape_checks():
    with Network():
        a = Population("poisson_input", 4)
        b = Population("leaky_integrate_fire", 3)
        Connection(a, b, Dense(np.zeros((4, 3))))
        Connection(a, b, Dense(np.zeros(12)))
        with pytest.raises(ShapeError) as info:
            Connection(a, b, Dense(np.zeros((3, 4))))
        assert "(4, 3)" in str(info.value) and "(3, 4)" in str(info.value)
        with pytest.raises(ShapeError, match="delay"):
            Connection(a, b, Dense(1.0, delay=np.zeros((2, 2))))


def test_dense_infers_target_shape():
    with Network():
        a = Population("poisson_input", 4)
        b = Population("leaky_integrate_fire")
        c = Connection(a, b, Dense(np.ones((4, 5))))
    assert b.shape == (5,)
    spec = c.connectivity.get_spec(c)
    assert spec.kind == "dense" and spec.weight.shape == (4, 5) and spec.trainable


def test_one_to_one_sizes():
    with Network():
        a = Population("poisson_input", 4)
        b = Population("leaky_integrate_fire", 4)
        c = Connection(a, b, OneToOne(np.arange(4.0)))
        spec = c.connectivity.get_spec(c)
        assert spec.kind == "one_to_one" and spec.weight.shape == (4,)
        e = Population("leaky_integrate_fire", 5)
        with pytest.raises(ShapeError, match="4 neurons.*5"):
            Connection(a, e, OneToOne(1.0))
        f = Population("leaky_integrate_fire")
        Connection(a, f, OneToOne(1.0))
        assert f.shape == (4,)


def test_fixed_probability():
    with pytest.raises(ModelError, match=r"\[0, 1\].*1\.5"):
        FixedProbability(1.5, 1.0)
    with pytest.raises(ModelError, match="-0.1"):
        FixedProbability(-0.1, 1.0)
    with pytest.raises(ModelError, match="array"):
        FixedProbability(0.5, np.ones(3))
    with Network():
        a = Population("leaky_integrate_fire", 4)
        c = Connection(a, a, FixedProbability(0.25, Uniform(0, 1), True, delay=2))
    spec = c.connectivity.get_spec(c)
    assert (spec.kind, spec.p, spec.allow_self_connections, spec.delay) == (
        "fixed_probability", 0.25, True, 2)
    assert spec.weight == Uniform(0, 1)


def test_delays():
    with Network():
        a = Population("poisson_input", 2)
        b = Population("leaky_integrate_fire", 2)
        c = Connection(a, b, Dense(1.0, delay=3))
        assert c.get_max_delay_steps() == 3
        with pytest.raises(ModelError, match="whole number.*1.5"):
            Dense(1.0, delay=1.5)
        with pytest.raises(ModelError, match="-1"):
            Dense(1.0, delay=-1)
        with pytest.raises(ModelError, match="max_delay_steps"):
            Connection(a, b, Dense(1.0, delay=Uniform(0, 4)))
        c2 = Connection(a, b, Dense(1.0, delay=Uniform(0, 4)), max_delay_steps=4)
        assert c2.get_max_delay_steps() == 4
        with pytest.raises(ModelError, match="delay of 5 steps exceeds max_delay_steps=4"):
            Connection(a, b, Dense(1.0, delay=5), max_delay_steps=4)
        with pytest.raises(ModelError, match="exceeds"):
            Connection(a, b, Dense(1.0, delay=np.array([[0, 1], [2, 9]])), max_delay_steps=4)
        c3 = Connection(a, b, Dense(1.0, delay=np.array([[0, 1], [2, 6]])))
        assert c3.get_max_delay_steps() == 6
        with pytest.raises(ModelError, match="non-negative integer"):
            Connection(a, b, Dense(1.0), max_delay_steps=-2)


def test_shared_connectivity_object_is_copied():
    dense = Dense(1.0)
    with Network():
        a = Population("poisson_input", 2)
        b = Population("leaky_integrate_fire", 2)
        c1 = Connection(a, b, dense)
        c2 = Connection(a, b, dense)
    assert c1.connectivity is not c2.connectivity


def test_sequential_network():
    net = SequentialNetwork(default_params={LeakyIntegrateFire: {"tau_mem": 10.0}})
    with net:
        inp = InputLayer("poisson_input", 20, name="input")
        hid = Layer(Dense(Normal(sd=0.1)), "leaky_integrate_fire", 8)
        out = Layer(Dense(np.ones((8, 3))), LeakyIntegrate(readout=None), synapse="exponential")
    assert net.layers == [inp, hid, out]
    assert [p.name for p in net.populations] == ["input", "Pop1", "Pop2"]
    assert len(net.connections) == 2
    assert inp.connection is None
    assert hid.connection().source() is inp.population()
    assert out.population().shape == (3,)
    assert hid.population().neuron.tau_mem == 10.0
    assert isinstance(out.connection().synapse, Exponential)
    assert out.population().location.startswith("test_network.py:")


def test_layers_need_sequential_network():
    with pytest.raises(ContextError, match="SequentialNetwork"):
        InputLayer("poisson_input", 3)
    with Network():
        with pytest.raises(ContextError, match="plain Network"):
            Layer(Dense(1.0), "leaky_integrate_fire", 3)
    with SequentialNetwork():
        InputLayer("poisson_input", 3)
        with pytest.raises(ModelError, match="shape"):
            Layer(Dense(Normal()), "leaky_integrate_fire")


def test_connection_accepts_layers():
    net = SequentialNetwork()
    with net:
        InputLayer("poisson_input", 3)
        b = Layer(Dense(1.0), "leaky_integrate_fire", 3)
        c = Connection(b, b, OneToOne(1.0))
    assert c.source() is b.population() and len(net.connections) == 2


def test_load_round_trip(tmp_path):
    ser = Numpy(str(tmp_path))
    net = Network()
    with net:
        a = Population("poisson_input", 2, name="in")
        b = Population(LeakyIntegrate(bias=0.0), 3, name="out")
        c = Connection(a, b, Dense(Normal()), name="w")
    w = np.arange(6.0).reshape(2, 3)
    ser.serialise((5, "w", "weight"), w)
    ser.serialise((5, "w", "delay"), np.ones((2, 3)))
    ser.serialise((5, "out", "bias"), np.array([1.0, 2.0, 3.0]))
    ser.serialise((5, "out", "unrelated"), np.array([1.0]))
    loaded = net.load((5,), ser)
    assert loaded == {"w": ["delay", "weight"], "in": [], "out": ["bias"]}
    np.testing.assert_array_equal(c.connectivity.weight, w)
    np.testing.assert_array_equal(b.neuron.bias, [1.0, 2.0, 3.0])
    ser.serialise((6, "w", "weight"), np.zeros((3, 3)))
    with pytest.raises(ShapeError):
        net.load((6,), ser)


def test_weakrefs_die_with_network():
    net = SequentialNetwork()
    with net:
        layer = InputLayer("poisson_input", 3)
    assert layer.population() is net.populations[0]
    del net
    gc.collect()
    assert layer.population() is None


def test_population_with_poisson_instance():
    with Network():
        p = Population(PoissonInput(signed_spikes=True), 3)
    assert p.neuron.signed_spikes
