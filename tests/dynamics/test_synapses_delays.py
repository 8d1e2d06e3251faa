"""Exponential synapses and axonal delays against closed forms.

A spike emitted at step ``s`` through ``Dense(w, delay=d)`` reaches ``inSyn`` at step
``s + 1 + d``. With an ``Exponential(tau)`` synapse the injected current ``j`` steps after the
arrival is ``w c D^j`` (``D = exp(-dt/tau)``; ``c = 1``, or with ``scale_i``
``c = (tau/dt)(1 - D)``, which makes ``w c D^j`` the step average of the continuous kernel
``w exp(-t/tau)``). An IF target (no leak, unreachable threshold) integrates it to
``w c (1 - D^(j+1)) / (1 - D)``; a leaky integrator with ``Alpha != D`` to
``w c (Alpha^(j+1) - D^(j+1)) / (Alpha - D)``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.connectivity import Dense, OneToOne
from irsnn.initializers import Uniform
from irsnn.neurons import BinarySpikeInput, IntegrateFire, LeakyIntegrate, SpikeInput
from irsnn.synapses import Exponential
from irsnn.utils.data import preprocess_spikes

from .conftest import assert_close_f32, simulate

HIGH = 1e9  # threshold never reached


def one_spike(t, n=1, neuron=0):
    return [preprocess_spikes([t], [neuron], n)]


@pytest.mark.parametrize("scale_i", [False, True])
@pytest.mark.parametrize("tau,dt", [(5.0, 1.0), (2.0, 0.5), (0.8, 1.0)])
def test_exponential_kernel(scale_i, tau, dt):
    T, t_spike, w = 50, 4.0, 0.75
    tau_li = 10.0
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=4), 1)
        integ = Population(IntegrateFire(v_thresh=HIGH), 1)
        leaky = Population(LeakyIntegrate(tau_mem=tau_li), 1)
        Connection(inp, integ, Dense(w), Exponential(tau, scale_i=scale_i))
        Connection(inp, leaky, Dense(w), Exponential(tau, scale_i=scale_i))
    res = simulate(net, {inp: one_spike(t_spike)}, T, dt=dt,
                   record_vars=[(integ, "V"), (leaky, "V")])
    d = math.exp(-dt / tau)
    alpha = math.exp(-dt / tau_li)
    c = (tau / dt) * (1.0 - d) if scale_i else 1.0
    arrive = int(round(t_spike / dt)) + 1
    k = np.arange(T)
    j = np.maximum(k - arrive, 0)
    on = k >= arrive
    v_if = np.where(on, w * c * (1.0 - d ** (j + 1)) / (1.0 - d), 0.0)
    v_li = np.where(on, w * c * (alpha ** (j + 1) - d ** (j + 1)) / (alpha - d), 0.0)
    assert_close_f32(res.vars[(integ, "V")][0][:, 0], v_if, ulps=64, atol=1e-7)
    assert_close_f32(res.vars[(leaky, "V")][0][:, 0], v_li, ulps=64, atol=1e-7)
    # the injected current itself (increments of the IF voltage)
    isyn = np.diff(res.vars[(integ, "V")][0][:, 0].astype(np.float64), prepend=0.0)
    if scale_i:
        # step average of the continuous kernel w exp(-(t - t_arrive)/tau)
        avg = w / dt * tau * (np.exp(-j * dt / tau) - np.exp(-(j + 1) * dt / tau))
        # (the increments of a float32 sum are exact to a few ulp of V, not of Isyn)
        np.testing.assert_allclose(isyn[on], avg[on], rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_allclose(isyn[arrive], w, rtol=1e-7)


def test_exponential_superposition_of_two_spikes():
    T, tau, w = 40, 4.0, 0.5
    d = math.exp(-1.0 / tau)
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=4), 1)
        integ = Population(IntegrateFire(v_thresh=HIGH), 1)
        Connection(inp, integ, Dense(w), Exponential(tau))
    res = simulate(net, {inp: [preprocess_spikes([2.0, 9.0], [0, 0], 1)]}, T,
                   record_vars=[(integ, "V")])
    k = np.arange(T)
    v = np.zeros(T)
    for s in (2, 9):
        j = k - (s + 1)
        v += np.where(j >= 0, w * (1.0 - d ** (np.maximum(j, 0) + 1)) / (1.0 - d), 0.0)
    assert_close_f32(res.vars[(integ, "V")][0][:, 0], v, ulps=64, atol=1e-7)


@pytest.mark.parametrize("synapse", [None, "exp"])
def test_constant_delay_shifts_response_exactly(synapse):
    """delay=d gives exactly the same trace, shifted by d steps."""
    T, t_spike = 40, 3.0
    delays = [0, 1, 3, 7]
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=4), 1)
        targets = []
        for dl in delays:
            p = Population(LeakyIntegrate(tau_mem=8.0), 1)
            syn = Exponential(3.0) if synapse == "exp" else "delta"
            Connection(inp, p, Dense(0.625, delay=dl), syn)
            targets.append(p)
    res = simulate(net, {inp: one_spike(t_spike)}, T,
                   record_vars=[(p, "V") for p in targets])
    base = res.vars[(targets[0], "V")][0][:, 0]
    onset = int(t_spike) + 1
    assert np.all(base[:onset] == 0) and base[onset] == 0.625
    for dl, p in zip(delays, targets):
        v = res.vars[(p, "V")][0][:, 0]
        np.testing.assert_array_equal(v[:onset + dl], 0.0)
        np.testing.assert_array_equal(v[dl:], base[:T - dl])


@pytest.mark.parametrize("max_delay_steps", [None, 8, 12])
def test_per_synapse_delay_array(max_delay_steps):
    """One source, targets with their own delays: target j's step response starts at
    s + 1 + d_j; two source spikes superpose (ring buffer)."""
    T = 30
    delays = np.array([0, 2, 5, 1, 8, 3])
    weights = np.array([0.5, 0.25, 1.0, 0.125, 0.75, -0.5])
    n = len(delays)
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=4), 1)
        tgt = Population(IntegrateFire(v_thresh=HIGH), n)
        Connection(inp, tgt, Dense(weights[None, :], delay=delays[None, :]),
                   max_delay_steps=max_delay_steps)
    spikes = [2, 4]
    res = simulate(net, {inp: [preprocess_spikes([float(s) for s in spikes], [0, 0], 1)]}, T,
                   record_vars=[(tgt, "V")])
    v = res.vars[(tgt, "V")][0]
    k = np.arange(T)[:, None]
    expected = sum(weights[None, :] * (k >= s + 1 + delays[None, :]) for s in spikes)
    np.testing.assert_array_equal(v, expected)


def test_delays_from_many_sources_into_one_target():
    """Source i (weight 2^-i) has delay d_i: each step's increment tells exactly which
    sources' spikes arrived (dyadic weights: exact sums)."""
    T = 24
    delays = np.array([4, 0, 6, 1, 3])
    weights = 2.0 ** -np.arange(len(delays))
    n = len(delays)
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=16), n)
        tgt = Population(IntegrateFire(v_thresh=HIGH), 1)
        Connection(inp, tgt, Dense(weights[:, None], delay=delays[:, None]),
                   max_delay_steps=int(delays.max()))
    t_spike = np.array([1.0, 5.0, 0.0, 2.0, 7.0])
    res = simulate(net, {inp: [preprocess_spikes(t_spike, np.arange(n), n)]}, T,
                   record_vars=[(tgt, "V")])
    inc = np.diff(res.vars[(tgt, "V")][0][:, 0], prepend=np.float32(0))
    expected = np.zeros(T)
    for i in range(n):
        expected[int(t_spike[i]) + 1 + delays[i]] += weights[i]
    np.testing.assert_array_equal(inc, expected)


def test_one_to_one_delay_with_constant_drive():
    """A BinarySpikeInput firing every step through OneToOne(w, delay=d): Isyn = w from step
    1 + d on, so an IF neuron's V is w * max(0, k - d)."""
    T, d = 20, 5
    w = np.array([0.25, 0.5, 0.125])
    net = Network()
    with net:
        inp = Population(BinarySpikeInput(), 3)
        tgt = Population(IntegrateFire(v_thresh=HIGH), 3)
        Connection(inp, tgt, OneToOne(w, delay=d))
    res = simulate(net, {inp: np.ones((1, 3))}, T, record_vars=[(tgt, "V")])
    k = np.arange(T)[:, None]
    np.testing.assert_array_equal(res.vars[(tgt, "V")][0], w[None, :] * np.maximum(0, k - d))


def test_initializer_delays_stay_within_max_delay_steps():
    """Uniform delays with max_delay_steps: every onset lies in [1, 1 + max] and is a whole
    number of steps; the onsets are not all equal."""
    T, max_d, n = 30, 10, 64
    net = Network()
    with net:
        inp = Population(BinarySpikeInput(), 1)
        tgt = Population(IntegrateFire(v_thresh=HIGH), n)
        Connection(inp, tgt, Dense(1.0, delay=Uniform(0.0, float(max_d))),
                   max_delay_steps=max_d)
    res = simulate(net, {inp: np.ones((1, 1))}, T, record_vars=[(tgt, "V")])
    v = res.vars[(tgt, "V")][0]
    onset = np.argmax(v > 0, axis=0)
    assert np.all(v[-1] > 0)
    assert np.all((onset >= 1) & (onset <= 1 + max_d))
    assert len(np.unique(onset)) > 3
    # once started, exactly one unit per step
    k = np.arange(T)[:, None]
    np.testing.assert_array_equal(v, np.maximum(0, k - onset[None, :] + 1))
