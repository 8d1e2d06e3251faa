import numpy as np
import pytest

from irsnn.errors import ContextError, ModelError, UnknownNameError
from irsnn.initializers import Initializer, Normal, Uniform, default_initializers
from irsnn.network import Network
from irsnn.neurons import LeakyIntegrateFire, Neuron, default_neurons
from irsnn.synapses import Exponential
from irsnn.utils.location import user_location
from irsnn.utils.module import camel_to_snake, get_object, get_object_mapping
from irsnn.utils.value import (ValueDescriptor, get_values, is_value_array,
                               is_value_constant, is_value_initializer, set_values)


def test_camel_to_snake():
    assert camel_to_snake("LeakyIntegrateFire") == "leaky_integrate_fire"


def test_default_neurons_names():
    assert set(default_neurons) >= {
        "integrate_fire", "leaky_integrate_fire", "adaptive_leaky_integrate_fire",
        "leaky_integrate", "spike_input", "poisson_input", "binary_spike_input"}


def test_get_object_forms():
    assert get_object(None, Neuron, "Neuron", default_neurons) is None
    assert isinstance(get_object("leaky_integrate_fire", Neuron, "Neuron", default_neurons),
                      LeakyIntegrateFire)
    assert isinstance(get_object(LeakyIntegrateFire, Neuron, "Neuron", default_neurons),
                      LeakyIntegrateFire)
    orig = LeakyIntegrateFire(tau_mem=5.0)
    copy = get_object(orig, Neuron, "Neuron", default_neurons)
    assert copy is not orig and copy.tau_mem == 5.0


def test_get_object_unknown_lists_names_and_suggests():
    with pytest.raises(UnknownNameError) as info:
        get_object("leaky_integrate_fir", Neuron, "Neuron", default_neurons)
    msg = str(info.value)
    assert "'leaky_integrate_fir'" in msg
    assert "Did you mean 'leaky_integrate_fire'" in msg
    for name in default_neurons:
        assert f"'{name}'" in msg
    assert isinstance(info.value, KeyError)


def test_get_object_wrong_type():
    with pytest.raises(ModelError, match="Neuron must be given"):
        get_object(3, Neuron, "Neuron", default_neurons)


def test_get_object_mapping():
    m = get_object_mapping("leaky_integrate_fire", ["a", "b"], Neuron, "Neuron",
                           default_neurons)
    assert set(m) == {"a", "b"} and m["a"] is not m["b"]
    with pytest.raises(ModelError, match="should match"):
        get_object_mapping({"a": None}, ["a", "b"], Neuron, "Neuron", default_neurons)


def test_user_location_points_here():
    loc = user_location()
    assert loc.startswith("test_module_value.py:")


class _Thing:
    plain = ValueDescriptor("Plain")
    decay = ValueDescriptor("Decay", lambda v, dt: np.exp(-dt / v))
    both = ValueDescriptor(("A", lambda v, dt: v * 2), ("B", None))
    pos = ValueDescriptor("Pos", constraint="positive")


def test_value_descriptor_storage_and_forms():
    t = _Thing()
    t.plain = [1, 2, 3]
    assert isinstance(t.plain, np.ndarray) and t._plain is t.plain
    t.plain = "normal"
    assert isinstance(t.plain, Normal)
    t.decay = 20.0
    assert _Thing.decay.genn_name == "Decay"
    assert _Thing.decay.get_transformed(t, 1.0) == pytest.approx(np.exp(-1 / 20))
    t.decay = [10.0, 20.0]
    np.testing.assert_allclose(_Thing.decay.get_transformed(t, 1.0),
                               np.exp(-1.0 / np.array([10.0, 20.0])))
    t.both = 3.0
    assert _Thing.both.get_transformed_all(t, 1.0) == {"A": 6.0, "B": 3.0}


def test_value_descriptor_errors():
    t = _Thing()
    with pytest.raises(ModelError, match="cannot be given as an initializer"):
        t.decay = Normal()
    with pytest.raises(ModelError, match="cannot be given as an initializer"):
        t.decay = "uniform"
    with pytest.raises(UnknownNameError, match="'normal'"):
        t.plain = "gaussian"
    with pytest.raises(ModelError, match="must be > 0"):
        t.pos = -1.0
    with pytest.raises(ModelError, match="must be a number"):
        t.plain = object()


def test_value_predicates_and_get_set_values():
    assert is_value_constant(1.0) and not is_value_constant([1.0])
    assert is_value_array(np.zeros(2)) and is_value_array([1]) and not is_value_array("ab")
    assert is_value_initializer(Uniform()) and not is_value_initializer(1.0)
    t = _Thing()
    t.plain, t.decay, t.both, t.pos = 1.0, 2.0, 3.0, 4.0
    vals = get_values(t, [("Plain", "scalar"), ("Decay", "scalar")], 1.0)
    assert vals == {"Plain": 1.0, "Decay": pytest.approx(np.exp(-0.5))}
    used = set_values(t, {"Plain": 7.0, "pos": 9.0, "Decay": 0.1, "unknown": 1})
    assert used == {"Plain", "pos"} and t.plain == 7.0 and t.pos == 9.0 and t.decay == 2.0


def test_initializers():
    assert default_initializers == {"normal": Normal, "uniform": Uniform}
    n = Normal(1.0, 2.0)
    assert n.kind == "normal" and n.params == {"mean": 1.0, "sd": 2.0}
    u = Uniform(-1, 1)
    assert u.kind == "uniform" and u.params == {"min": -1.0, "max": 1.0}
    assert isinstance(u, Initializer) and Normal() == Normal(0.0, 1.0)
    with pytest.raises(ModelError, match=r"sd must be >= 0 \(got -1"):
        Normal(sd=-1)
    with pytest.raises(ModelError, match=r"min \(2\) must be <= max \(1\)"):
        Uniform(2, 1)


def test_network_default_params():
    net = Network(default_params={LeakyIntegrateFire: {"tau_mem": 10.0, "v_thresh": 2.0},
                                  Exponential: {"tau": 2.0}})
    with net:
        a = LeakyIntegrateFire()
        b = LeakyIntegrateFire(v_thresh=3.0)
        c = LeakyIntegrateFire(5.0)  # positional v_thresh wins over the default
        s = Exponential()
    assert (a.tau_mem, a.v_thresh) == (10.0, 2.0)
    assert (b.tau_mem, b.v_thresh) == (10.0, 3.0)
    assert c.v_thresh == 5.0
    assert s.tau == 2.0
    assert LeakyIntegrateFire().tau_mem == 20.0


def test_network_default_params_unknown_key():
    with Network(default_params={LeakyIntegrateFire: {"tau_membrane": 1.0}}):
        with pytest.raises(ModelError, match="tau_membrane"):
            LeakyIntegrateFire()


def test_nested_networks():
    outer, inner = Network(), Network({LeakyIntegrateFire: {"tau_mem": 1.0}})
    with outer:
        with inner:
            assert Network.current() is inner
            assert LeakyIntegrateFire().tau_mem == 1.0
        assert Network.current() is outer
    assert Network.current() is None
    with pytest.raises(ContextError):
        Network._require_context("Population", "'x'", "here:1")
