"""Leaky integrators: impulse response, bias and readouts against closed forms.

``V_k = Alpha V_(k-1) + Isyn_k + Bias`` from ``V = 0``: the bias alone gives
``Bias (1 - Alpha^(k+1)) / (1 - Alpha)``; an input spike at step ``s`` through a delta synapse
of weight ``w`` adds ``w Alpha^(k - s - 1)`` from step ``s + 1`` on.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.connectivity import Dense
from irsnn.neurons import LeakyIntegrate, SpikeInput
from irsnn.utils.data import preprocess_spikes

from .conftest import assert_close_f32, simulate

TAU = 10.0
W = np.array([[0.5, -0.25, 1.0, 0.0]])
BIAS = np.array([0.0, 0.125, -0.0625, 0.03125])
READOUTS = ("var", "sum_var", "avg_var", "max_var")


def closed_form(spike_step, T, alpha, w=W[0], bias=BIAS, scale_i=False):
    """(T, n) trajectory: bias ramp plus the impulse response of one spike at spike_step."""
    k = np.arange(T, dtype=np.float64)[:, None]
    gain = (1.0 - alpha) if scale_i else 1.0
    v = bias[None, :] * (1.0 - alpha ** (k + 1)) / (1.0 - alpha)
    arrive = spike_step + 1
    v = v + gain * w[None, :] * np.where(k >= arrive, alpha ** np.maximum(k - arrive, 0), 0.0)
    return v


def build(scale_i=False, tau=TAU):
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=16), 1)
        outs = {}
        for r in READOUTS:
            outs[r] = Population(LeakyIntegrate(tau_mem=tau, bias=BIAS, scale_i=scale_i,
                                                readout=r), W.shape[1])
            Connection(inp, outs[r], Dense(W))
    return net, inp, outs


@pytest.mark.parametrize("scale_i", [False, True])
def test_impulse_response_bias_and_readouts(scale_i):
    alpha = math.exp(-1.0 / TAU)
    T = 60
    # example 0: spike at t = 5 ms (step 5); example 1: at t = 2.5 ms -> first step with
    # t >= 2.5 is step 3; example 2: no spike at all (bias only)
    x = [preprocess_spikes([5.0], [0], 1), preprocess_spikes([2.5], [0], 1),
         preprocess_spikes([], [], 1)]
    steps = [5, 3, T + 10]
    net, inp, outs = build(scale_i)
    res = simulate(net, {inp: x}, T, batch_size=3, outputs=list(outs.values()),
                   record_vars=[(outs["var"], "V")])
    for e, s in enumerate(steps):
        expected = closed_form(s, T, alpha, scale_i=scale_i)
        assert_close_f32(res.vars[(outs["var"], "V")][e], expected, ulps=32, atol=1e-7)
        pred = {r: res.preds[outs[r]][e] for r in READOUTS}
        assert_close_f32(pred["var"], expected[-1], ulps=32, atol=1e-7)
        np.testing.assert_allclose(pred["sum_var"], expected.sum(axis=0), rtol=2e-5,
                                   atol=1e-5)
        np.testing.assert_allclose(pred["avg_var"], expected.mean(axis=0), rtol=2e-5,
                                   atol=1e-6)
        assert_close_f32(pred["max_var"], expected.max(axis=0), ulps=32, atol=1e-7)


def test_readout_sums_match_geometric_series():
    """sum_var of the pure impulse response is w (1 - alpha^(T - s - 1)) / (1 - alpha), and of
    the bias ramp b/(1-alpha) (T - alpha (1 - alpha^T)/(1 - alpha)): independent of the
    trajectory code above."""
    alpha = math.exp(-1.0 / TAU)
    T, s = 40, 7
    net, inp, outs = build()
    res = simulate(net, {inp: [preprocess_spikes([float(s)], [0], 1)]}, T,
                   outputs=[outs["sum_var"], outs["max_var"]])
    impulse = W[0] * (1.0 - alpha ** (T - s - 1)) / (1.0 - alpha)
    ramp = BIAS / (1.0 - alpha) * (T - alpha * (1.0 - alpha ** T) / (1.0 - alpha))
    np.testing.assert_allclose(res.preds[outs["sum_var"]][0], impulse + ramp, rtol=2e-5,
                               atol=1e-5)
    # neuron 0 (w = 0.5, no bias): the maximum is the jump itself
    np.testing.assert_allclose(res.preds[outs["max_var"]][0][0], 0.5, rtol=1e-7)


def test_readouts_reset_between_batches():
    """Accumulators restart for every batch: the same input gives the same readout twice."""
    T = 30
    net, inp, outs = build()
    x = [preprocess_spikes([4.0], [0], 1)] * 2
    res = simulate(net, {inp: x}, T, batch_size=1, outputs=[outs["sum_var"], outs["max_var"]])
    for r in ("sum_var", "max_var"):
        np.testing.assert_array_equal(res.preds[outs[r]][0], res.preds[outs[r]][1])
