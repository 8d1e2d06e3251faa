"""Conformance of the built-in neuron models (all exact: dyadic weights and thresholds).

Each network is a SpikeInput replaying seeded random spike trains into the neuron under test
through Dense weights on a 1/64 grid, so every synaptic sum is exact in float32 whatever the
summation order, and the neuron arithmetic (float32, decays cast once on the host) is the same
on every backend: spike rasters and state must be bit-identical.
"""

from __future__ import annotations

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.connectivity import Dense
from irsnn.neurons import (AdaptiveLeakyIntegrateFire, IntegrateFire, LeakyIntegrate,
                           LeakyIntegrateFire, SpikeInput)
from irsnn.synapses import Exponential

from ..models import random_spikes
from .conftest import check, spikes, total_spikes, var

N_IN, N, T = 16, 12, 60


def dyadic(shape, scale, seed=0, grid=64.0):
    """Normal-ish weights rounded to multiples of 1/grid (exact sums in float32)."""
    rng = np.random.default_rng(seed)
    return np.round(rng.normal(0.0, scale, shape) * grid) / grid


def driven(neuron_factory, synapse="delta", scale=0.5, seed=0):
    def build():
        net = Network()
        with net:
            inp = Population(SpikeInput(max_spikes=4000), N_IN, name="inp")
            pop = Population(neuron_factory(), N, name="pop")
            Connection(inp, pop, Dense(dyadic((N_IN, N), scale, seed)), synapse, name="in_pop")
        return net, {"inp": inp, "pop": pop}
    return build


X = {"inp": random_spikes(1, N_IN, T, rate=0.25, seed=3)}


@pytest.mark.parametrize("relative_reset", [False, True])
@pytest.mark.parametrize("tau_refrac", [None, 3.0])
def test_integrate_fire_exact(backend, relative_reset, tau_refrac):
    build = driven(lambda: IntegrateFire(v_thresh=1.0, v_reset=-0.25,
                                         relative_reset=relative_reset,
                                         tau_refrac=tau_refrac))
    rec = [spikes("pop"), var("pop", "v")]
    if tau_refrac is not None:
        rec.append(var("pop", "RefracTime"))
    ref = check(build, backend, X, T, record=rec)
    assert total_spikes(ref) > 10


@pytest.mark.parametrize("relative_reset,tau_refrac,integrate_during_refrac,scale_i", [
    (True, None, True, False),
    (False, None, True, False),
    (True, 2.0, True, False),
    (False, 4.0, False, False),
    (True, 2.0, False, True),
])
def test_leaky_integrate_fire_exact(backend, relative_reset, tau_refrac,
                                    integrate_during_refrac, scale_i):
    build = driven(lambda: LeakyIntegrateFire(
        v_thresh=0.75 if not scale_i else 0.125, v_reset=0.0, tau_mem=10.0,
        tau_refrac=tau_refrac, relative_reset=relative_reset,
        integrate_during_refrac=integrate_during_refrac, scale_i=scale_i))
    rec = [spikes("pop"), var("pop", "V")]
    if tau_refrac is not None:
        rec.append(var("pop", "RefracTime"))
    ref = check(build, backend, X, T, record=rec)
    assert total_spikes(ref) > 10


@pytest.mark.parametrize("relative_reset,tau_refrac", [(True, None), (True, 5.0),
                                                       (False, 2.0)])
def test_adaptive_leaky_integrate_fire_exact(backend, relative_reset, tau_refrac):
    build = driven(lambda: AdaptiveLeakyIntegrateFire(
        v_thresh=0.75, beta=0.125, tau_mem=20.0, tau_adapt=50.0, tau_refrac=tau_refrac,
        relative_reset=relative_reset))
    rec = [spikes("pop"), var("pop", "V"), var("pop", "A")]
    ref = check(build, backend, X, T, record=rec)
    assert total_spikes(ref) > 10


@pytest.mark.parametrize("scale_i", [False, True])
@pytest.mark.parametrize("bias", [0.0, 0.125])
def test_leaky_integrate_exact(backend, scale_i, bias):
    build = driven(lambda: LeakyIntegrate(tau_mem=8.0, bias=bias, scale_i=scale_i,
                                          readout="sum_var"))
    check(build, backend, X, T, outputs=["pop"], record=[var("pop", "V")])


@pytest.mark.parametrize("neuron", ["if", "lif", "alif", "li"])
def test_neurons_behind_exponential_synapse_exact(backend, neuron):
    factory = {"if": lambda: IntegrateFire(v_thresh=1.0),
               "lif": lambda: LeakyIntegrateFire(v_thresh=1.0, tau_mem=10.0, tau_refrac=1.0),
               "alif": lambda: AdaptiveLeakyIntegrateFire(v_thresh=1.0, beta=0.25,
                                                          tau_adapt=30.0),
               "li": lambda: LeakyIntegrate(tau_mem=5.0)}[neuron]
    build = driven(factory, synapse=Exponential(4.0))
    rec = [var("pop", "V")] + ([] if neuron == "li" else [spikes("pop")])
    ref = check(build, backend, X, T, record=rec)
    if neuron != "li":
        assert total_spikes(ref, 1) > 0
