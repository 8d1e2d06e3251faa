"""Conformance of user-defined neurons (exact) and of realistic networks (tolerances).

Exact: a GeNN-4 model dict written with ``$(V)`` syntax, and a stochastic neuron that draws
``gennrand_uniform()`` in its sim code into a local variable used by its threshold (the
counter-based RNG must give every backend the same stream).

Tolerance (marked ``realistic`` in the test names): Normal-initialised weights (not dyadic, so a
different float32 summation order may change the last bit of a synaptic sum), Poisson input,
hundreds of neurons; state within rtol 1e-5 over short horizons, spikes exact.
"""

from __future__ import annotations

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.connectivity import Dense, FixedProbability
from irsnn.initializers import Normal
from irsnn.neurons import (AdaptiveLeakyIntegrateFire, LeakyIntegrate, LeakyIntegrateFire,
                           Neuron, PoissonInput, SpikeInput)
from irsnn.synapses import Exponential
from irsnn.utils.model import NeuronModel
from irsnn.utils.value import ValueDescriptor

from ..models import random_spikes, recurrent_alif
from .conftest import check, spikes, total_spikes, var
from .test_neurons import dyadic

# The mlGeNN paper's custom neuron: a GeNN 4 model dict with $(...) syntax
GENN4_IF = {
    "var_name_types": [("V", "scalar")],
    "param_name_types": [("Vthresh", "scalar")],
    "sim_code": "$(V) += $(Isyn);",
    "threshold_condition_code": "$(V) >= $(Vthresh)",
    "reset_code": "$(V) = 0.0;",
    "is_auto_refractory_required": False}


class Genn4IntegrateFire(Neuron):
    v = ValueDescriptor("V")
    v_thresh = ValueDescriptor("Vthresh")

    def __init__(self, v=0.0, v_thresh=1.0, softmax=False, readout=None):
        super().__init__(softmax, readout)
        self.v = v
        self.v_thresh = v_thresh

    def get_model(self, population, dt):  # old two-argument signature
        return NeuronModel.from_val_descriptors(GENN4_IF, "V", self, dt)


class NoisyLeaky(Neuron):
    """Leaky neuron that also fires at random: a local ``r`` drawn in the sim code is used by
    the threshold; refractory counter as an int variable."""

    v = ValueDescriptor("V")

    def __init__(self, v=0.0, p_noise=0.0625, readout=None):
        super().__init__(readout=readout)
        self.v = v
        self.p_noise = p_noise

    def get_model(self, population, dt, batch_size):
        model = {
            "vars": [("V", "scalar"), ("Count", "int")],
            "params": [("PNoise", "scalar")],
            "sim_code": ("const scalar r = gennrand_uniform();\n"
                         "$(V) = (0.75 * $(V)) + $(Isyn);\n"
                         "if (r < 0.5) { $(V) += 0.125; }\n"),
            "threshold_condition_code": "$(V) >= 1.0 || r < $(PNoise)",
            "reset_code": "$(V) = 0.0;\n$(Count) += 1;\n"}
        return NeuronModel.from_val_descriptors(model, "V", self, dt,
                                                param_vals={"PNoise": self.p_noise},
                                                var_vals={"Count": 0})


def test_genn4_dict_neuron_exact(backend):
    def build():
        net = Network()
        with net:
            inp = Population(PoissonInput(signed_spikes=True), 30, name="inp")
            pop = Population(Genn4IntegrateFire(v_thresh=2.0, readout="spike_count"), 30,
                             name="pop")
            Connection(inp, pop, Dense(dyadic((30, 30), 0.5, 60)), Exponential(2.0),
                       name="c")
        return net, {"inp": inp, "pop": pop}
    rates = np.random.default_rng(61).uniform(-0.2, 0.2, (5, 30))
    ref = check(build, backend, {"inp": rates}, 50, batch_size=4, rng_seed=5,
                labels={"pop": np.arange(5)},
                record=[spikes("pop"), var("pop", "v", example_filter=[0, 4])])
    assert total_spikes(ref) > 10


@pytest.mark.parametrize("rng_seed", [0, 123])
def test_gennrand_neuron_with_local_in_threshold_exact(backend, rng_seed):
    def build():
        net = Network()
        with net:
            inp = Population(SpikeInput(max_spikes=10000), 10, name="inp")
            pop = Population(NoisyLeaky(readout="spike_count"), 40, name="pop")
            out = Population(LeakyIntegrate(tau_mem=10.0, readout="avg_var"), 3, name="out")
            Connection(inp, pop, Dense(dyadic((10, 40), 0.25, 62)), name="c0")
            Connection(pop, out, Dense(dyadic((40, 3), 0.25, 63)), name="c1")
        return net, {"inp": inp, "pop": pop, "out": out}
    x = {"inp": random_spikes(3, 10, 40, rate=0.2, seed=64)}
    ref = check(build, backend, x, 40, batch_size=2, rng_seed=rng_seed,
                outputs=["pop", "out"],
                record=[spikes("pop"), var("pop", "V"), var("pop", "Count")])
    assert total_spikes(ref) > 50


# -- realistic (tolerance) ---------------------------------------------------------------------
def test_realistic_recurrent_alif(backend):
    """tests/models.recurrent_alif: Normal weights, FixedProbability recurrence."""
    def build():
        net, inp, hidden, out = recurrent_alif(num_input=40, num_hidden=64, num_output=5)
        return net, {"inp": inp, "hid": hidden, "out": out}
    x = {"inp": random_spikes(3, 40, 30, rate=0.1, seed=70)}
    ref = check(build, backend, x, 30, exact=False, rtol=1e-5, atol=1e-5, batch_size=2,
                outputs=["out"], rng_seed=3,
                record=[spikes("hid"), var("hid", "V"), var("hid", "A"), var("out", "V")])
    assert total_spikes(ref) > 20


@pytest.mark.parametrize("batch_size", [1, 4])
def test_realistic_poisson_lif_network(backend, batch_size):
    """300 Poisson inputs -> 200 LIF (Exponential, Normal weights) -> 200 LIF (sparse,
    recurrent) -> 10 LI; short horizon."""
    n_in, n_h = 300, 200

    def build():
        net = Network()
        with net:
            inp = Population(PoissonInput(), n_in, name="inp")
            h1 = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0, tau_refrac=2.0),
                            n_h, name="h1")
            h2 = Population(AdaptiveLeakyIntegrateFire(v_thresh=0.6, tau_refrac=5.0), n_h,
                            name="h2")
            out = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"), 10, name="out")
            Connection(inp, h1, Dense(Normal(0.05, 1.0 / np.sqrt(n_in))), Exponential(5.0),
                       name="c0")
            Connection(h1, h2, FixedProbability(0.2, Normal(0.1, 0.5)), name="c1")
            Connection(h2, h2, FixedProbability(0.1, Normal(0.0, 0.3)), Exponential(2.0),
                       name="c2")
            Connection(h2, out, Dense(Normal(0.0, 1.0 / np.sqrt(n_h))), name="c3")
        return net, {"inp": inp, "h1": h1, "h2": h2, "out": out}
    rates = np.random.default_rng(71).uniform(0.0, 0.2, (batch_size + 1, n_in))
    ref = check(build, backend, {"inp": rates}, 25, exact=False, rtol=1e-5, atol=1e-5,
                batch_size=batch_size, outputs=["out"], rng_seed=11,
                record=[spikes("inp"), spikes("h1"), spikes("h2"), var("h1", "V"),
                        var("out", "V", example_filter=0)])
    assert total_spikes(ref, 1) > 50
