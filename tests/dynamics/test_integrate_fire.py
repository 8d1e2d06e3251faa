"""LIF and IF neurons under constant drive, against closed forms.

With ``Isyn = I`` from step 1 on and ``V_0 = 0`` the leaky membrane after step ``k`` is
``V_k = I (1 - alpha^k) / (1 - alpha)`` (``alpha = exp(-dt / tau_mem)``; ``scale_i`` multiplies
``I`` by ``1 - alpha``, as mlGeNN's LIF does), and an absolute reset restarts this trajectory,
so the neuron fires every ``n*`` steps with
``n* = ceil(log(1 - theta (1 - alpha) / I) / log(alpha))``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from irsnn.neurons import IntegrateFire, LeakyIntegrateFire

from .conftest import assert_close_f32, driven, spike_steps

TAU = 20.0
THETA = 1.0
# Drives chosen so that V_k stays well away from theta at every k (checked below)
DRIVES = np.array([0.0625, 0.1, 0.25, 0.3, 0.5, 1.25])


def n_star(i, theta, alpha):
    return math.ceil(math.log(1.0 - theta * (1.0 - alpha) / i) / math.log(alpha))


def free_trajectory(i, alpha, k):
    k = np.asarray(k, dtype=np.float64)
    return i * (1.0 - alpha ** k) / (1.0 - alpha)


def check_margin(i, theta, alpha, n):
    """The closed form is not within float32 rounding of theta at the decisive steps."""
    for k in (n - 1, n):
        if k > 0:
            assert abs(free_trajectory(i, alpha, k) - theta) > 1e-4, (i, k)


@pytest.mark.parametrize("dt", [1.0, 0.5])
def test_lif_free_membrane_matches_closed_form(dt):
    """Below threshold the membrane follows the geometric closed form exactly (few ulp)."""
    alpha = math.exp(-dt / TAU)
    drives = np.array([0.015625, 0.03125, 0.0421875])  # asymptote I/(1-alpha) < theta=50
    T = 120
    traces, raster = driven(LeakyIntegrateFire(v_thresh=50.0, tau_mem=TAU), drives, T, dt=dt)
    v = traces["V"]
    assert not raster.any()
    expected = free_trajectory(drives[None, :], alpha, np.arange(T)[:, None])
    assert_close_f32(v, expected, ulps=64, atol=1e-7)
    # and bit-for-bit against a float32 re-computation of V = Alpha * V + Isyn
    a32 = np.float32(alpha)
    v32 = np.zeros(drives.size, np.float32)
    emu = []
    for k in range(T):
        isyn = np.float32(0.0) if k == 0 else drives.astype(np.float32)
        v32 = (a32 * v32 + isyn).astype(np.float32)
        emu.append(v32)
    assert_close_f32(v, np.array(emu), ulps=2)


def test_lif_scale_i_scales_input_by_one_minus_alpha():
    alpha = math.exp(-1.0 / TAU)
    drives = np.array([0.5, 0.75])
    T = 100
    traces, raster = driven(LeakyIntegrateFire(v_thresh=10.0, tau_mem=TAU, scale_i=True),
                            drives, T)
    assert not raster.any()
    # V_k = I (1 - alpha^k): approaches I, not I / (1 - alpha)
    expected = drives[None, :] * (1.0 - alpha ** np.arange(T)[:, None])
    assert_close_f32(traces["V"], expected, ulps=64, atol=1e-7)


@pytest.mark.parametrize("dt", [1.0, 0.5])
def test_lif_absolute_reset_fires_every_n_star_steps(dt):
    alpha = math.exp(-dt / TAU)
    T = 200
    traces, raster = driven(
        LeakyIntegrateFire(v_thresh=THETA, tau_mem=TAU, relative_reset=False), DRIVES, T, dt=dt)
    v = traces["V"]
    for j, i in enumerate(DRIVES):
        n = n_star(i, THETA, alpha)
        check_margin(i, THETA, alpha, n)
        expected = np.arange(n, T, n)
        np.testing.assert_array_equal(spike_steps(raster[:, j]), expected, err_msg=f"I={i}")
        # the rate is exactly one spike per n* steps
        assert len(expected) == (T - 1) // n
        # between spikes the membrane restarts the closed-form trajectory from 0
        k_since = np.arange(T) % n
        assert_close_f32(v[:, j], free_trajectory(i, alpha, k_since), ulps=64, atol=1e-7)


def test_lif_relative_reset_carries_the_overshoot():
    """Relative reset subtracts theta: V_k = I (1 - alpha^k)/(1 - alpha) - theta * sum over
    spikes s <= k of alpha^(k - s), and spikes happen exactly where the recurrence says."""
    alpha = math.exp(-1.0 / TAU)
    T = 200
    traces, raster = driven(
        LeakyIntegrateFire(v_thresh=THETA, v_reset=0.0, tau_mem=TAU, relative_reset=True),
        DRIVES, T)
    v = traces["V"]
    k = np.arange(T)
    for j, i in enumerate(DRIVES):
        # float64 recurrence: the predicted spike steps
        x, predicted, pre = 0.0, [], []
        for step in range(T):
            x = alpha * x + (i if step > 0 else 0.0)
            pre.append(x)
            if x >= THETA:
                predicted.append(step)
                x -= THETA
        pre = np.array(pre)
        assert np.min(np.abs(pre - THETA)) > 1e-4
        got = spike_steps(raster[:, j])
        np.testing.assert_array_equal(got, predicted, err_msg=f"I={i}")
        # superposition closed form of the trace, given the spikes
        resets = np.array([(alpha ** (k - s)) * (k >= s) for s in got]).sum(axis=0) \
            if len(got) else 0.0
        expected = free_trajectory(i, alpha, k) - THETA * resets
        assert_close_f32(v[:, j], expected, ulps=256, atol=2e-6)
    # relative reset fires at least as often as absolute reset (it keeps the overshoot)
    _, raster_abs = driven(
        LeakyIntegrateFire(v_thresh=THETA, tau_mem=TAU, relative_reset=False), DRIVES, T)
    assert np.all(raster.sum(axis=0) >= raster_abs.sum(axis=0))
    assert np.any(raster.sum(axis=0) > raster_abs.sum(axis=0))


def test_lif_superthreshold_drive_fires_every_step():
    """I >= theta: the neuron fires at every step from step 1 (n* = 1)."""
    T = 30
    _, raster = driven(LeakyIntegrateFire(v_thresh=1.0, relative_reset=False), [1.5], T)
    np.testing.assert_array_equal(spike_steps(raster[:, 0]), np.arange(1, T))


@pytest.mark.parametrize("dt", [1.0, 0.5])
@pytest.mark.parametrize("tau_refrac_steps", [2, 7])
def test_lif_refractory_integrating(dt, tau_refrac_steps):
    """integrate_during_refrac=True: V keeps following the closed form after the reset, but a
    spike needs RefracTime <= 0, so the interval is max(n*, tau_refrac / dt)."""
    alpha = math.exp(-dt / TAU)
    T = 200
    traces, raster = driven(
        LeakyIntegrateFire(v_thresh=THETA, tau_mem=TAU, relative_reset=False,
                           tau_refrac=tau_refrac_steps * dt, integrate_during_refrac=True),
        DRIVES, T, dt=dt, record=("V", "RefracTime"))
    for j, i in enumerate(DRIVES):
        n = n_star(i, THETA, alpha)
        period = max(n, tau_refrac_steps)
        expected = np.arange(n, T, period)
        np.testing.assert_array_equal(spike_steps(raster[:, j]), expected,
                                      err_msg=f"I={i}, n*={n}")
        # RefracTime counts down by dt from tau_refrac after each spike
        rt = traces["RefracTime"][:, j]
        s = expected[0]
        np.testing.assert_allclose(rt[s:s + tau_refrac_steps],
                                   dt * np.arange(tau_refrac_steps, 0, -1), atol=1e-6)
        if period > tau_refrac_steps:
            assert abs(rt[s + tau_refrac_steps]) < 1e-6
    # drives whose n* is shorter than the refractory period are slowed down to it
    ns = np.array([n_star(i, THETA, alpha) for i in DRIVES])
    assert np.any(ns < tau_refrac_steps)


@pytest.mark.parametrize("tau_refrac_steps", [3, 5])
def test_lif_refractory_not_integrating(tau_refrac_steps):
    """integrate_during_refrac=False: V is frozen (at the reset value) for tau_refrac/dt steps,
    then integrates from scratch: the interval is tau_refrac / dt + n*."""
    alpha = math.exp(-1.0 / TAU)
    T = 200
    traces, raster = driven(
        LeakyIntegrateFire(v_thresh=THETA, tau_mem=TAU, relative_reset=False,
                           tau_refrac=float(tau_refrac_steps), integrate_during_refrac=False),
        DRIVES, T)
    v = traces["V"]
    for j, i in enumerate(DRIVES):
        n = n_star(i, THETA, alpha)
        expected = np.arange(n, T, n + tau_refrac_steps)
        np.testing.assert_array_equal(spike_steps(raster[:, j]), expected,
                                      err_msg=f"I={i}, n*={n}")
        s = expected[0]
        # frozen at the reset value during the refractory period
        np.testing.assert_array_equal(v[s:s + tau_refrac_steps + 1, j], 0.0)
        # then the free trajectory restarts
        ks = np.arange(1, n)
        assert_close_f32(v[s + tau_refrac_steps + ks, j], free_trajectory(i, alpha, ks),
                         ulps=64, atol=1e-7)


@pytest.mark.parametrize("relative_reset", [False, True])
def test_lif_refractory_relative_reset(relative_reset):
    """Relative reset with a refractory period, checked against the float64 recurrence of the
    exact model (update, count-down, threshold with RefracTime <= 0, reset)."""
    alpha = math.exp(-1.0 / TAU)
    T = 150
    tr = 4.0
    _, raster = driven(
        LeakyIntegrateFire(v_thresh=THETA, tau_mem=TAU, relative_reset=relative_reset,
                           tau_refrac=tr, integrate_during_refrac=True), DRIVES, T)
    for j, i in enumerate(DRIVES):
        x, rt, predicted = 0.0, 0.0, []
        for step in range(T):
            x = alpha * x + (i if step > 0 else 0.0)
            if rt > 0:
                rt -= 1.0
            if x >= THETA and rt <= 0:
                predicted.append(step)
                x = x - THETA if relative_reset else 0.0
                rt = tr
        np.testing.assert_array_equal(spike_steps(raster[:, j]), predicted, err_msg=f"I={i}")


@pytest.mark.parametrize("relative_reset", [False, True])
def test_if_linear_growth_and_spike_times(relative_reset):
    """IF: V grows by I per step. Absolute reset: a spike every ceil(theta / I) steps; relative
    reset: after k steps exactly floor(k I / theta) spikes and V = k I - theta * spikes."""
    theta = 1.0
    drives = np.array([0.125, 0.25, 0.375, 0.625, 0.75])  # dyadic: all sums exact
    T = 64
    traces, raster = driven(IntegrateFire(v_thresh=theta, relative_reset=relative_reset),
                            drives, T)
    v = traces["V"]
    k = np.arange(T)
    for j, i in enumerate(drives):
        got = spike_steps(raster[:, j])
        if relative_reset:
            count = np.floor(k * i / theta)
            np.testing.assert_array_equal(np.cumsum(raster[:, j]), count)
            np.testing.assert_array_equal(v[:, j], k * i - theta * count)
        else:
            n = math.ceil(theta / i)
            np.testing.assert_array_equal(got, np.arange(n, T, n))
            np.testing.assert_array_equal(v[:, j], i * (k % n))


def test_if_refractory_not_integrating_freezes_voltage():
    theta, i, tr = 1.0, 0.25, 3
    T = 60
    traces, raster = driven(IntegrateFire(v_thresh=theta, relative_reset=False,
                                          tau_refrac=float(tr), integrate_during_refrac=False),
                            [i], T)
    n = math.ceil(theta / i)
    np.testing.assert_array_equal(spike_steps(raster[:, 0]), np.arange(n, T, n + tr))
