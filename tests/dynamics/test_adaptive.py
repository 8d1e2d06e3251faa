"""Adaptive LIF (ALIF) under constant drive, against closed forms.

Per step: ``V = Alpha V + Isyn``, ``A *= Rho`` (``Rho = exp(-dt / tau_adapt)``); spike when
``V >= Vthresh + Beta A``; the reset adds 1 to ``A``. So ``A_k = sum over spikes s <= k of
Rho^(k - s)`` and, with an absolute reset, the interval after a spike that left the adaptation
at ``a`` is the smallest ``m`` with ``I (1 - Alpha^m)/(1 - Alpha) >= theta + Beta a Rho^m``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from irsnn.neurons import AdaptiveLeakyIntegrateFire, LeakyIntegrateFire

from .conftest import assert_close_f32, driven, spike_steps

TAU_MEM, TAU_ADAPT, THETA = 20.0, 200.0, 1.0
DRIVES = np.array([0.1, 0.15, 0.25, 0.5])
BETAS = [0.02, 0.1]


def predicted_spikes(i, beta, alpha, rho, T):
    """Iterate the interval closed form (absolute reset). Also returns the margins by which
    the decisive comparisons were won or lost, to make sure they are not rounding-sensitive."""
    spikes, margins = [], []
    s, a = 0, 0.0  # last spike step (0: drive starts at step 1 with V_0 = 0), adaptation then
    while True:
        m = 1
        while True:
            gap = i * (1 - alpha ** m) / (1 - alpha) - (THETA + beta * a * rho ** m)
            if gap >= 0:
                break
            margins.append(-gap)
            m += 1
            if s + m >= T:
                return spikes, margins
        margins.append(gap)
        s += m
        if s >= T:
            return spikes, margins
        spikes.append(s)
        a = a * rho ** m + 1.0


@pytest.mark.parametrize("beta", BETAS)
def test_alif_intervals_lengthen_as_predicted(beta):
    alpha, rho = math.exp(-1.0 / TAU_MEM), math.exp(-1.0 / TAU_ADAPT)
    T = 300
    traces, raster = driven(
        AdaptiveLeakyIntegrateFire(v_thresh=THETA, beta=beta, tau_mem=TAU_MEM,
                                   tau_adapt=TAU_ADAPT, relative_reset=False),
        DRIVES, T, record=("V", "A"))
    k = np.arange(T)
    lengthened = 0
    for j, i in enumerate(DRIVES):
        expected, margins = predicted_spikes(i, beta, alpha, rho, T)
        assert min(margins) > 2e-5
        got = spike_steps(raster[:, j])
        np.testing.assert_array_equal(got, expected, err_msg=f"I={i}, beta={beta}")
        isi = np.diff(got)
        assert len(isi) >= 2
        assert np.all(np.diff(isi) >= 0), isi  # adaptation only ever lengthens the interval
        lengthened += isi[-1] > isi[0]
        # A is the sum of decaying unit jumps
        a_expected = np.array([(rho ** (k - s)) * (k >= s) for s in got]).sum(axis=0)
        assert_close_f32(traces["A"][:, j], a_expected, ulps=64, atol=1e-6)
    assert lengthened >= 2


def test_alif_adaptation_decays_after_drive_stops():
    """A single burst then silence: A decays exactly geometrically with Rho."""
    rho = math.exp(-1.0 / TAU_ADAPT)
    T = 80
    # I >= theta + beta*A every step for a while: fires at steps 1, 2, ... until the
    # adaptation pushes the threshold above I / (1 - ...) -- simpler: check decay between spikes
    traces, raster = driven(
        AdaptiveLeakyIntegrateFire(v_thresh=THETA, beta=0.5, tau_mem=TAU_MEM,
                                   tau_adapt=TAU_ADAPT, relative_reset=False),
        [0.3], T, record=("A",))
    got = spike_steps(raster[:, 0])
    assert len(got) >= 2
    a = traces["A"][:, 0].astype(np.float64)
    # between consecutive spikes A decays by exactly Rho per step
    s0, s1 = got[0], got[1]
    np.testing.assert_allclose(a[s0 + 1:s1] / a[s0:s1 - 1], rho, rtol=1e-6)
    # at a spike it jumps by 1 on top of the decay
    np.testing.assert_allclose(a[s1] - a[s1 - 1] * rho, 1.0, rtol=1e-6)


def test_alif_relative_reset_matches_recurrence():
    """Default ALIF (relative reset) against the float64 recurrence of the model."""
    alpha, rho = math.exp(-1.0 / TAU_MEM), math.exp(-1.0 / TAU_ADAPT)
    beta, T = 0.05, 250
    _, raster = driven(AdaptiveLeakyIntegrateFire(v_thresh=THETA, beta=beta, tau_mem=TAU_MEM,
                                                  tau_adapt=TAU_ADAPT), DRIVES, T)
    for j, i in enumerate(DRIVES):
        v, a, expected, gaps = 0.0, 0.0, [], []
        for step in range(T):
            v = alpha * v + (i if step > 0 else 0.0)
            a *= rho
            gaps.append(abs(v - (THETA + beta * a)))
            if v >= THETA + beta * a:
                expected.append(step)
                v -= THETA
                a += 1.0
        assert min(gaps) > 2e-5
        np.testing.assert_array_equal(spike_steps(raster[:, j]), expected, err_msg=f"I={i}")


def test_alif_with_zero_beta_is_lif():
    T = 150
    tr_a, r_a = driven(AdaptiveLeakyIntegrateFire(beta=0.0, tau_mem=TAU_MEM,
                                                  relative_reset=True), DRIVES, T)
    tr_l, r_l = driven(LeakyIntegrateFire(tau_mem=TAU_MEM, relative_reset=True), DRIVES, T)
    np.testing.assert_array_equal(r_a, r_l)
    np.testing.assert_array_equal(tr_a["V"], tr_l["V"])
