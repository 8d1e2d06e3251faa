"""``default_params`` of the compiler modules, used the mlGeNN way: passed to the network, they
become the defaults of the neuron and synapse objects created inside it; explicit arguments win."""

import pytest

from irsnn import InputLayer, Layer, Network, Population, SequentialNetwork
from irsnn.compilers import eprop_compiler, inference_compiler
from irsnn.connectivity import Dense
from irsnn.errors import ModelError
from irsnn.neurons import (AdaptiveLeakyIntegrateFire, LeakyIntegrate, LeakyIntegrateFire,
                           SpikeInput)
from irsnn.synapses import Exponential


def test_eprop_default_params_hold_mlgenn_values():
    d = eprop_compiler.default_params
    assert d[LeakyIntegrateFire] == {"relative_reset": True, "integrate_during_refrac": True,
                                     "scale_i": False}
    assert d[AdaptiveLeakyIntegrateFire] == {"relative_reset": True,
                                             "integrate_during_refrac": True}
    assert d[LeakyIntegrate] == {"scale_i": False}
    assert inference_compiler.default_params == {}


def test_values_propagate_into_objects_created_in_the_network():
    # values that differ from the constructors' own defaults, so propagation is visible
    params = {LeakyIntegrateFire: {"relative_reset": False, "integrate_during_refrac": False,
                                   "scale_i": True, "tau_mem": 7.0},
              Exponential: {"scale_i": True, "tau": 3.0}}
    net = SequentialNetwork(params)
    with net:
        inp = InputLayer(SpikeInput(max_spikes=4), 2)
        hid = Layer(Dense(1.0), LeakyIntegrateFire(), 3, synapse=Exponential())
    lif = hid.population().neuron
    assert (lif.relative_reset, lif.integrate_during_refrac, lif.scale_i) == (False, False, True)
    assert lif.tau_mem == 7.0
    syn = hid.connection().synapse
    assert syn.scale_i is True and syn.tau == 3.0
    assert inp.population().neuron.max_spikes == 4
    # outside the network the constructors' own defaults apply again
    assert LeakyIntegrateFire().relative_reset is True


def test_explicit_arguments_win_positional_and_keyword():
    net = Network({LeakyIntegrateFire: {"v_thresh": 5.0, "tau_mem": 9.0}})
    with net:
        a = LeakyIntegrateFire(2.0)             # v_thresh positionally
        b = LeakyIntegrateFire(tau_mem=30.0)
        Population(a, 1)
    assert (a.v_thresh, a.tau_mem) == (2.0, 9.0)
    assert (b.v_thresh, b.tau_mem) == (5.0, 30.0)


def test_eprop_defaults_reach_an_eprop_network():
    net = SequentialNetwork(eprop_compiler.default_params)
    with net:
        InputLayer(SpikeInput(max_spikes=4), 2)
        hid = Layer(Dense(1.0), AdaptiveLeakyIntegrateFire(relative_reset=False), 3)
        out = Layer(Dense(1.0), LeakyIntegrate(readout="sum_var"), 2)
    assert hid.population().neuron.relative_reset is False     # explicit wins
    assert hid.population().neuron.integrate_during_refrac is True
    assert out.population().neuron.scale_i is False


def test_unknown_default_names_a_bad_argument():
    net = Network({Exponential: {"tau_syn": 3.0}})
    with net, pytest.raises(ModelError, match=r"Exponential name \['tau_syn'\].*\['tau', "):
        Exponential()
