"""Networks shared by the tests (kept in one file so golden IR dumps have stable locations)."""

import numpy as np

from irsnn import Connection, Network, Population
from irsnn.connectivity import Dense, FixedProbability
from irsnn.initializers import Normal
from irsnn.neurons import AdaptiveLeakyIntegrateFire, LeakyIntegrate, SpikeInput


def recurrent_alif(num_input=20, num_hidden=16, num_output=3, max_spikes=2000):
    """Input -> recurrent ALIF -> LI readout, as the mlGeNN paper's ALIF-R classifiers."""
    network = Network()
    with network:
        inp = Population(SpikeInput(max_spikes=max_spikes), num_input, name="input")
        hidden = Population(AdaptiveLeakyIntegrateFire(v_thresh=0.6, tau_refrac=5.0,
                                                       tau_adapt=200.0),
                            num_hidden, name="hidden")
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"), num_output,
                         name="output")
        Connection(inp, hidden, Dense(Normal(mean=0.0, sd=1.0)), name="in_hid")
        Connection(hidden, hidden, FixedProbability(0.5, Normal(mean=0.0, sd=0.3)),
                   name="recurrent")
        Connection(hidden, out, Dense(Normal(mean=0.0, sd=0.5)), name="hid_out")
    return network, inp, hidden, out


def random_spikes(num_examples, num_neurons, timesteps, rate=0.05, seed=0):
    """A list of PreprocessedSpikes with Bernoulli spike trains (at most one spike per step)."""
    from irsnn.utils.data import preprocess_spikes
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(num_examples):
        t, i = np.nonzero(rng.random((timesteps, num_neurons)) < rate)
        out.append(preprocess_spikes(t.astype(float), i, num_neurons))
    return out


def sparse_recurrent_lif(num_input=10, num_hidden=8, num_output=2):
    """Input -> LIF with a sparse (ragged) recurrent FixedProbability -> LI readout."""
    from irsnn.neurons import LeakyIntegrateFire
    network = Network()
    with network:
        inp = Population(SpikeInput(max_spikes=100), num_input, name="input")
        hidden = Population(LeakyIntegrateFire(v_thresh=0.6), num_hidden, name="hidden")
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"), num_output,
                         name="output")
        Connection(inp, hidden, Dense(Normal(mean=0.0, sd=1.0)), name="in_hid")
        rec = Connection(hidden, hidden, FixedProbability(0.2, Normal(mean=0.0, sd=0.3),
                                                          layout="sparse"), name="recurrent")
        Connection(hidden, out, Dense(Normal(mean=0.0, sd=0.5)), name="hid_out")
    return network, inp, rec, out
