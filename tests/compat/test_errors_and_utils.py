"""mlGeNN's exception types on irsnn's errors, and the ``ml_genn.utils`` helpers scripts use."""

import numpy as np
import pytest

from irsnn import InputLayer, Layer, Network, Population, SequentialNetwork, errors
from irsnn.connection import Connection
from irsnn.connectivity import Dense
from irsnn.neurons import IntegrateFire, LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from irsnn.utils.data import split_dataset
from irsnn.utils.filter import ExampleFilter, get_neuron_filter_mask
from irsnn.utils.network import get_network_dag, get_underlying_conn
from irsnn.utils.snippet import ConstantValueDescriptor
from irsnn.utils.value import get_genn_var_name


@pytest.mark.parametrize("cls, builtins", [
    (errors.IrsnnError, (RuntimeError,)),
    (errors.ModelError, (RuntimeError, ValueError)),
    (errors.InputError, (RuntimeError, ValueError)),
    (errors.UnknownNameError, (RuntimeError, KeyError)),
    (errors.IndexRangeError, (RuntimeError, ValueError, IndexError)),
    (errors.DuplicateKeyError, (RuntimeError, KeyError)),
    (errors.UnknownAttributeError, (RuntimeError, AttributeError)),
    (errors.IrsnnWarning, (UserWarning,)),
])
def test_error_classes_derive_from_mlgenn_builtins(cls, builtins):
    assert all(issubclass(cls, b) for b in builtins)


def test_key_errors_print_their_message_verbatim():
    assert str(errors.DuplicateKeyError("key 'x' twice")) == "key 'x' twice"


@pytest.mark.parametrize("f, shape, exc, match", [
    ([1, 3, 5], 5, IndexError, r"\[1, 3, 5\] does not fit population shape \(5,\)"),
    ([[0, 0], [0, 4]], (2, 3), IndexError, "index 4 is out of bounds"),
    (np.ones(4, bool), 5, RuntimeError, r"shape \(4,\) but the population has shape \(5,\)"),
    (["a", 2], 5, RuntimeError, "unsupported neuron filter"),
])
def test_neuron_filter_errors(f, shape, exc, match):
    with pytest.raises(exc, match=match) as info:
        get_neuron_filter_mask(f, shape)
    assert isinstance(info.value, errors.ModelError)


def test_example_filter_and_split_errors_are_runtime_errors():
    with pytest.raises(RuntimeError, match="must hold ints or bools"):
        ExampleFilter(np.array(["x"]))
    with pytest.raises(RuntimeError, match=r"split must be in \[0, 1\] \(got 2.0\)"):
        split_dataset({"a": [1, 2]}, 2.0)


def test_get_genn_var_name_missing_attribute_is_attribute_error():
    lif = LeakyIntegrateFire()
    assert get_genn_var_name(lif, "v_thresh") == "Vthresh"
    with pytest.raises(AttributeError, match=r"'nope' is not a value attribute.*'tau_mem'"):
        get_genn_var_name(lif, "nope")


def test_get_underlying_conn():
    net = SequentialNetwork()
    with net:
        inp = InputLayer(SpikeInput(max_spikes=2), 2)
        out = Layer(Dense(1.0), IntegrateFire(), 2)
    assert get_underlying_conn(out) is out.connection()
    assert get_underlying_conn(out.connection()) is out.connection()
    with pytest.raises(RuntimeError, match="an InputLayer has none"):
        get_underlying_conn(inp)


def test_get_network_dag_orders_populations_despite_self_connections():
    net = Network()
    with net:
        a = Population(SpikeInput(max_spikes=2), 2, name="a")
        b = Population(LeakyIntegrateFire(), 2, name="b")
        c = Population(LeakyIntegrateFire(), 2, name="c")
        d = Population(LeakyIntegrate(readout="sum_var"), 2, name="d")
        lone = Population(LeakyIntegrate(readout="sum_var"), 2, name="lone")
        Connection(a, c, Dense(1.0))
        Connection(c, d, Dense(1.0))
        Connection(a, b, Dense(1.0))
        Connection(b, c, Dense(1.0))
        Connection(c, c, Dense(1.0))
    assert [p.name for p in get_network_dag([a], [d])] == ["a", "b", "c", "d"]
    with pytest.raises(RuntimeError, match=r"outputs \['lone'\] cannot be reached"):
        get_network_dag(a, lone)


def test_constant_value_descriptor():
    class Conn:
        p = ConstantValueDescriptor()

        def __init__(self, p):
            self.p = p

    assert Conn(0.25).p == 0.25
    assert isinstance(Conn.p, ConstantValueDescriptor)
    for bad in (np.ones(3), "0.1", True):
        with pytest.raises(RuntimeError, match=r"Conn: p=.* must be a plain number"):
            Conn(bad)
