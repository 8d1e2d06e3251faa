"""Poisson input statistics and signs, RNG determinism, and batch independence."""

from __future__ import annotations

import math

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.connectivity import Dense, OneToOne
from irsnn.neurons import (AdaptiveLeakyIntegrateFire, BinarySpikeInput, IntegrateFire,
                           LeakyIntegrate, LeakyIntegrateFire, PoissonInput, SpikeInput)
from irsnn.synapses import Exponential
from irsnn.utils.data import preprocess_spikes

from .conftest import simulate

RATES = np.array([0.0, 0.01, 0.05, 0.2, 1.0])  # spikes per ms


def poisson_net(n, signed=False, target=False):
    net = Network()
    with net:
        inp = Population(PoissonInput(signed_spikes=signed), n)
        tgt = None
        if target:
            tgt = Population(IntegrateFire(v_thresh=1e9), n)
            Connection(inp, tgt, OneToOne(1.0))
    return net, inp, tgt


@pytest.mark.parametrize("dt", [1.0, 0.5])
def test_poisson_rate_within_binomial_bounds(dt):
    per_rate, T, batch = 200, 200, 2
    n = per_rate * len(RATES)
    rates = np.repeat(RATES, per_rate)
    net, inp, _ = poisson_net(n)
    res = simulate(net, {inp: np.tile(rates, (batch, 1))}, T, dt=dt, batch_size=batch,
                   record_spikes=[inp])
    raster = np.stack(res.spikes[inp])  # (batch, T, n)
    for g, r in enumerate(RATES):
        block = raster[:, :, g * per_rate:(g + 1) * per_rate]
        trials = block.size
        p = 1.0 - math.exp(-r * dt)
        k = block.sum()
        if r == 0.0:
            assert k == 0
            continue
        z = (k - trials * p) / math.sqrt(trials * p * (1.0 - p))
        assert abs(z) < 5.0, (r, k / trials, p, z)
        # no temporal structure: the spike count of each step is binomial too (no step
        # where everything fires or nothing does at high rates)
        per_step = block.sum(axis=(0, 2))
        m = batch * per_rate
        zs = (per_step - m * p) / math.sqrt(m * p * (1.0 - p))
        assert np.max(np.abs(zs)) < 6.0, (r, zs)
    # different neurons and examples draw different numbers
    hi = raster[:, :, -per_rate:]
    assert not np.array_equal(hi[0], hi[1])
    assert not np.array_equal(hi[0, :, 0], hi[0, :, 1])


def test_signed_poisson_spikes_contribute_with_their_sign():
    """Negative rates emit negative spikes: an IF neuron behind OneToOne(1.0) ends at
    minus the number of spikes its source emitted (positive rates: plus)."""
    per, T = 100, 100
    rates = np.concatenate([np.full(per, 0.3), np.full(per, -0.3)])
    net, inp, tgt = poisson_net(2 * per, signed=True, target=True)
    res = simulate(net, {inp: rates[None, :]}, T, record_spikes=[inp],
                   record_vars=[(tgt, "V")])
    raster = res.spikes[inp][0]
    v = res.vars[(tgt, "V")][0]
    sign = np.sign(rates)
    # a spike at step s reaches V at step s + 1
    counts_before_last = raster[:-1].sum(axis=0)
    np.testing.assert_array_equal(v[-1], sign * counts_before_last)
    np.testing.assert_array_equal(v[1:], sign * np.cumsum(raster[:-1], axis=0))
    # both halves fire at the same (statistical) rate
    p = 1.0 - math.exp(-0.3)
    for half in (raster[:, :per], raster[:, per:]):
        z = (half.sum() - half.size * p) / math.sqrt(half.size * p * (1 - p))
        assert abs(z) < 5.0


def test_poisson_is_deterministic_given_seed():
    n, T = 100, 50
    rates = np.full((1, n), 0.2)

    def raster(seed):
        net, inp, _ = poisson_net(n)
        return simulate(net, {inp: rates}, T, rng_seed=seed, record_spikes=[inp]).spikes[inp][0]

    a, b, c = raster(1), raster(1), raster(2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # the two seeds agree about as often as two independent Bernoulli streams should
    p = 1.0 - math.exp(-0.2)
    agree = np.mean(a == c)
    expected = p * p + (1 - p) * (1 - p)
    assert abs(agree - expected) < 5 * math.sqrt(expected * (1 - expected) / a.size)


def _dyadic(rng, shape, scale):
    """Weights on a 1/64 grid: every sum of them is exact in float32, in any order."""
    return np.round(rng.normal(0.0, scale, shape) * 64.0) / 64.0


def batch_net(seed=0):
    rng = np.random.default_rng(seed)
    n_in, n_hid, n_lif, n_out = 20, 16, 8, 4
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=2000), n_in)
        hid = Population(AdaptiveLeakyIntegrateFire(v_thresh=0.5, beta=0.125, tau_mem=10.0,
                                                    tau_adapt=50.0, tau_refrac=2.0), n_hid)
        lif = Population(LeakyIntegrateFire(v_thresh=0.5, tau_mem=15.0, relative_reset=False),
                         n_lif)
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"), n_out)
        out_max = Population(LeakyIntegrate(tau_mem=5.0, readout="max_var"), n_out)
        Connection(inp, hid, Dense(_dyadic(rng, (n_in, n_hid), 0.4)))
        Connection(hid, hid, Dense(_dyadic(rng, (n_hid, n_hid), 0.2)))
        Connection(inp, lif, Dense(_dyadic(rng, (n_in, n_lif), 0.4)), Exponential(4.0))
        Connection(hid, out, Dense(_dyadic(rng, (n_hid, n_out), 0.3)))
        Connection(lif, out, Dense(_dyadic(rng, (n_lif, n_out), 0.3), delay=2))
        Connection(hid, out_max, Dense(_dyadic(rng, (n_hid, n_out), 0.3)), Exponential(2.0))
    return net, inp, hid, lif, out, out_max


def _examples(num, n_in, T, seed=5):
    rng = np.random.default_rng(seed)
    out = []
    for e in range(num):
        mask = rng.random((T, n_in)) < 0.05 + 0.03 * e
        steps, ids = np.nonzero(mask)
        out.append(preprocess_spikes(steps.astype(float), ids, n_in))
    return out


def test_batch_examples_are_independent_and_bit_identical():
    """Six examples in batches of 4 (the last one partial) give bit-identical traces and
    readouts to running them one at a time. (inSyn is cleared between batches: by default it
    carries over, as in mlGeNN, which would couple consecutive batches.)"""
    T = 60
    x = _examples(6, 20, T)

    def run(batch_size):
        net, inp, hid, lif, out, out_max = batch_net()
        res = simulate(net, {inp: x}, T, batch_size=batch_size, outputs=[out, out_max],
                       record_vars=[(hid, "V"), (hid, "A"), (lif, "V"), (out, "V")],
                       record_spikes=[hid, lif], reset_in_syn_between_batches=True)
        return ([np.asarray(res.preds[out]), np.asarray(res.preds[out_max])]
                + [np.stack(res.vars[k]) for k in res.vars]
                + [np.stack(res.spikes[k]) for k in res.spikes])

    one, four = run(1), run(4)
    for a, b in zip(one, four):
        assert a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    hid_spikes = one[-2]
    # the examples really differ, and the hidden layer really spikes
    assert hid_spikes.sum() > 0
    assert not np.array_equal(hid_spikes[0], hid_spikes[3])
    assert not np.array_equal(one[0][0], one[0][1])


@pytest.mark.parametrize("reset_in_syn", [False, True])
def test_in_syn_carries_over_between_batches_unless_reset(reset_in_syn):
    """mlGeNN's default keeps inSyn between batches: an exponential current started in one
    batch keeps decaying into the next (V and spikes are reset, inSyn is not)."""
    T, tau, t_spike = 20, 5.0, 5.0
    d = math.exp(-1.0 / tau)
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=4), 1)
        tgt = Population(IntegrateFire(v_thresh=1e9), 1)
        Connection(inp, tgt, Dense(1.0), Exponential(tau))
    x = [preprocess_spikes([t_spike], [0], 1), preprocess_spikes([], [], 1)]
    res = simulate(net, {inp: x}, T, batch_size=1, record_vars=[(tgt, "V")],
                   reset_in_syn_between_batches=reset_in_syn)
    second = res.vars[(tgt, "V")][1][:, 0].astype(np.float64)
    if reset_in_syn:
        np.testing.assert_array_equal(second, 0.0)
    else:
        carry = d ** (T - 1 - int(t_spike))  # inSyn after the first batch's last decay
        j = np.arange(T)
        np.testing.assert_allclose(second, carry * (1 - d ** (j + 1)) / (1 - d), rtol=1e-5)


def test_poisson_frames_switch_rate_at_frame_boundaries():
    """With input_frames the rate of frame f applies for steps [f*ts, (f+1)*ts); the last
    frame holds until the end."""
    n, ts, T = 400, 20, 70
    net = Network()
    with net:
        inp = Population(PoissonInput(input_frames=3, input_frame_timesteps=ts), n)
    rates = np.zeros((1, 3, n))
    rates[0, 1] = 0.5
    rates[0, 2] = 0.05
    res = simulate(net, {inp: rates}, T, record_spikes=[inp])
    raster = res.spikes[inp][0]
    assert not raster[:ts].any()
    for lo, hi, r in ((ts, 2 * ts, 0.5), (2 * ts, T, 0.05)):
        block = raster[lo:hi]
        p = 1.0 - math.exp(-r)
        z = (block.sum() - block.size * p) / math.sqrt(block.size * p * (1 - p))
        assert abs(z) < 5.0, (lo, hi, z)


def test_binary_signed_input_sign_and_timing():
    """BinarySpikeInput(signed_spikes=True): +1 spikes for positive, -1 for negative inputs,
    every step; zero input never fires."""
    T = 12
    x = np.array([[0.7, -0.2, 0.0, -3.0]])
    net = Network()
    with net:
        inp = Population(BinarySpikeInput(signed_spikes=True), 4)
        tgt = Population(IntegrateFire(v_thresh=1e9), 4)
        Connection(inp, tgt, OneToOne(np.array([0.5, 0.5, 0.5, 0.25])))
    res = simulate(net, {inp: x}, T, record_spikes=[inp], record_vars=[(tgt, "V")])
    raster = res.spikes[inp][0]
    np.testing.assert_array_equal(raster, np.tile([True, True, False, True], (T, 1)))
    k = np.arange(T)[:, None]
    np.testing.assert_array_equal(res.vars[(tgt, "V")][0],
                                  k * np.array([0.5, -0.5, 0.0, -0.25])[None, :])
