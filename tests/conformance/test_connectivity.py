"""Conformance of synapse models, connectivity, recurrence and delays (all exact)."""

from __future__ import annotations

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.connectivity import Dense, FixedProbability, OneToOne
from irsnn.initializers import Normal, Uniform
from irsnn.neurons import (AdaptiveLeakyIntegrateFire, BinarySpikeInput, IntegrateFire,
                           LeakyIntegrate, LeakyIntegrateFire, SpikeInput)
from irsnn.synapses import Delta, Exponential

from ..models import random_spikes
from .conftest import check, spikes, total_spikes, var
from .test_neurons import dyadic

T = 50


@pytest.mark.parametrize("synapse", ["delta", Delta(), Exponential(3.0),
                                     Exponential(5.0, scale_i=True)],
                         ids=["delta-str", "delta", "exp", "exp-scale_i"])
def test_synapse_models_exact(backend, synapse):
    def build():
        net = Network()
        with net:
            inp = Population(SpikeInput(max_spikes=4000), 10, name="inp")
            lif = Population(LeakyIntegrateFire(v_thresh=0.5, tau_mem=10.0), 8, name="lif")
            li = Population(LeakyIntegrate(tau_mem=10.0, readout="var"), 4, name="li")
            Connection(inp, lif, Dense(dyadic((10, 8), 0.5, 1)), synapse, name="c0")
            Connection(lif, li, Dense(dyadic((8, 4), 0.5, 2)), synapse, name="c1")
        return net, {"inp": inp, "lif": lif, "li": li}
    x = {"inp": random_spikes(1, 10, T, rate=0.3, seed=1)}
    ref = check(build, backend, x, T, outputs=["li"],
                record=[spikes("lif"), var("lif", "V"), var("li", "V")])
    assert total_spikes(ref) > 5


@pytest.mark.parametrize("kind", ["dense", "one_to_one", "fixed_probability", "ragged",
                                  "bitmask_uniform", "procedural", "procedural_normal"])
def test_connectivity_exact(backend, kind):
    """``fixed_probability`` (a constant weight) is stored as a bitmask by the pass; the
    others name their FixedProbability layout. Random weights are summed in the same order
    (ascending presynaptic neuron, then target) everywhere, so they compare exactly too."""
    n = 24

    def build():
        net = Network()
        with net:
            inp = Population(SpikeInput(max_spikes=4000), n, name="inp")
            pop = Population(IntegrateFire(v_thresh=1.0), n, name="pop")
            if kind == "dense":
                conn = Dense(dyadic((n, n), 0.5, 4))
            elif kind == "one_to_one":
                conn = OneToOne(dyadic((n,), 0.5, 4) + 0.25)
            elif kind == "ragged":
                conn = FixedProbability(0.25, 0.375, layout="sparse")
            elif kind == "bitmask_uniform":
                conn = FixedProbability(0.25, Uniform(0.25, 0.5), layout="bitmask")
            elif kind == "procedural":
                conn = FixedProbability(0.25, 0.375, layout="procedural")
            elif kind == "procedural_normal":
                conn = FixedProbability(0.25, Normal(0.375, 0.125), layout="procedural")
            else:
                conn = FixedProbability(0.25, 0.375)
            Connection(inp, pop, conn, name="conn")
        return net, {"inp": inp, "pop": pop}
    x = {"inp": random_spikes(1, n, T, rate=0.3, seed=2)}
    ref = check(build, backend, x, T, record=[spikes("pop"), var("pop", "V")])
    assert total_spikes(ref) > 5


@pytest.mark.parametrize("kind", ["dense", "fixed_probability", "fixed_probability_self",
                                  "bitmask", "procedural", "procedural_self"])
def test_recurrent_exact(backend, kind):
    n_in, n = 12, 20

    def build():
        net = Network()
        with net:
            inp = Population(SpikeInput(max_spikes=4000), n_in, name="inp")
            hid = Population(AdaptiveLeakyIntegrateFire(v_thresh=0.75, beta=0.125,
                                                        tau_adapt=40.0, tau_refrac=2.0),
                             n, name="hid")
            out = Population(LeakyIntegrate(tau_mem=10.0, readout="sum_var"), 3, name="out")
            Connection(inp, hid, Dense(dyadic((n_in, n), 0.5, 5)), name="in_hid")
            if kind == "dense":
                rec = Dense(dyadic((n, n), 0.25, 6))
            else:
                layout = kind.split("_")[0] if kind.split("_")[0] != "fixed" else None
                rec = FixedProbability(0.3, 0.25 if kind.endswith("self") else -0.125,
                                       allow_self_connections=kind.endswith("self"),
                                       layout=layout)
            Connection(hid, hid, rec, Exponential(2.0), name="rec")
            Connection(hid, out, Dense(dyadic((n, 3), 0.5, 7)), name="hid_out")
        return net, {"inp": inp, "hid": hid, "out": out}
    x = {"inp": random_spikes(2, n_in, T, rate=0.25, seed=3)}
    ref = check(build, backend, x, T, outputs=["out"], batch_size=2,
                record=[spikes("hid"), var("hid", "V"), var("hid", "A")])
    assert total_spikes(ref) > 10


@pytest.mark.parametrize("delay", [1, 3, 7])
@pytest.mark.parametrize("synapse", ["delta", "exp"])
def test_constant_delay_exact(backend, delay, synapse):
    def build():
        net = Network()
        with net:
            inp = Population(SpikeInput(max_spikes=4000), 8, name="inp")
            lif = Population(LeakyIntegrateFire(v_thresh=0.5, tau_mem=10.0), 6, name="lif")
            out = Population(LeakyIntegrate(tau_mem=10.0, readout="sum_var"), 6, name="out")
            syn = Exponential(2.0) if synapse == "exp" else "delta"
            Connection(inp, lif, Dense(dyadic((8, 6), 0.5, 8), delay=delay), syn, name="c0")
            Connection(lif, out, OneToOne(0.875, delay=delay), syn, name="c1")
        return net, {"inp": inp, "lif": lif, "out": out}
    x = {"inp": random_spikes(1, 8, T, rate=0.3, seed=4)}
    ref = check(build, backend, x, T, outputs=["out"],
                record=[spikes("lif"), var("lif", "V"), var("out", "V")])
    assert total_spikes(ref) > 5


@pytest.mark.parametrize("max_delay_steps", [None, 12])
def test_per_synapse_delay_arrays_exact(backend, max_delay_steps):
    n_in, n = 6, 10
    delays = np.random.default_rng(9).integers(0, 10, (n_in, n))

    def build():
        net = Network()
        with net:
            inp = Population(SpikeInput(max_spikes=4000), n_in, name="inp")
            pop = Population(IntegrateFire(v_thresh=1.0), n, name="pop")
            Connection(inp, pop, Dense(dyadic((n_in, n), 0.5, 10), delay=delays),
                       Exponential(3.0), name="c", max_delay_steps=max_delay_steps)
        return net, {"inp": inp, "pop": pop}
    x = {"inp": random_spikes(1, n_in, T, rate=0.3, seed=5)}
    ref = check(build, backend, x, T, record=[spikes("pop"), var("pop", "V")])
    assert total_spikes(ref) > 5


def test_initializer_delays_on_sparse_connectivity_exact(backend):
    """Uniform delays drawn by the counter-based RNG on FixedProbability synapses."""
    def build():
        net = Network()
        with net:
            inp = Population(BinarySpikeInput(), 16, name="inp")
            pop = Population(IntegrateFire(v_thresh=4.0), 32, name="pop")
            Connection(inp, pop, FixedProbability(0.5, 0.25, delay=Uniform(0.0, 6.0)),
                       name="c", max_delay_steps=6)
        return net, {"inp": inp, "pop": pop}
    x = {"inp": (np.arange(16)[None, :] % 3 == 0).astype(float)}
    ref = check(build, backend, x, 30, record=[spikes("pop"), var("pop", "V")])
    assert total_spikes(ref) > 5
