"""EventProp with synaptic delays (uniform and per synapse, fixed).

A spike emitted at step ``s`` over a synapse of delay ``a`` arrives at step ``s + 1 + a``, so
its weight's gradient takes ``LambdaI`` of the target at ``s + 1 + a`` and the presynaptic
jump takes the target's ``D`` there. Checked against an independent, dense-in-time NumPy
implementation written here (every step visited, arrays of every step kept: no events, no
closed forms, no code shared with the backend), against finite differences of irsnn's own
simulation for the output weights, and against a shift of the input spikes for a uniform
input delay.
"""

from __future__ import annotations

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.compilers import EventPropCompiler
from irsnn.compilers.event_prop_compiler import default_params
from irsnn.connectivity import Dense
from irsnn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from irsnn.synapses import Exponential

from .test_gradients import N_HID, N_IN, N_OUT, T, irsnn_loss, make_inputs, weights

TAU_M, TAU_S = 20.0, 5.0


def dense_reference(w_in, w_rec, w_out, a_in, a_rec, a_out, s_in, labels):
    """``(readout, dL/dw_in, dL/dw_rec, dL/dw_out)`` of ``SpikeInput -> LIF (recurrent) -> LI``
    with per-synapse delays ``a_*`` (ints), sum_var cross-entropy (batch mean)."""
    B = s_in.shape[0]
    alpha, beta = np.exp(-1.0 / TAU_M), np.exp(-1.0 / TAU_S)
    i_scale = TAU_S * (1.0 - beta)
    k = (1.0 - alpha) * i_scale
    pad = T + 2 + int(max(a_in.max(), a_rec.max(), a_out.max()))

    def arrivals(spk, w, a, t):          # input reaching step t: spikes of t - 1 - a
        u = np.zeros((B, w.shape[1]))
        for d in np.unique(a):
            if t - 1 - d >= 0:
                u += spk[:, t - 1 - d] @ np.where(a == d, w, 0.0)
        return u

    s_h = np.zeros((B, T, N_HID))
    i_h, v_h = np.zeros((B, T, N_HID)), np.zeros((B, T, N_HID))
    vr_h = np.zeros((B, T, N_HID))
    x_h, x_o = np.zeros((B, N_HID)), np.zeros((B, N_OUT))
    vh, vo = np.zeros((B, N_HID)), np.zeros((B, N_OUT))
    readout = np.zeros((B, N_OUT))
    for t in range(T):
        x_h = beta * x_h + arrivals(s_in, w_in, a_in, t) + arrivals(s_h, w_rec, a_rec, t)
        x_o = beta * x_o + arrivals(s_h, w_out, a_out, t)
        vh = alpha * vh + (1.0 - alpha) * i_scale * x_h
        vo = alpha * vo + (1.0 - alpha) * i_scale * x_o
        i_h[:, t], v_h[:, t] = i_scale * x_h, vh
        s_h[:, t] = vh >= 1.0
        vh = np.where(s_h[:, t] > 0, 0.0, vh)
        vr_h[:, t] = vh
        readout += vo
    p = np.exp(readout - readout.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(B), labels] -= 1.0
    g = p / B                                           # dL/dV_out at every step
    lv_h, li_h = np.zeros((B, pad, N_HID)), np.zeros((B, pad, N_HID))
    lv_o, li_o = np.zeros((B, pad, N_OUT)), np.zeros((B, pad, N_OUT))
    d_h = lambda t: i_scale * lv_h[:, t] / TAU_M - li_h[:, t] / TAU_S   # noqa: E731
    d_o = lambda t: i_scale * lv_o[:, t] / TAU_M - li_o[:, t] / TAU_S   # noqa: E731
    for t in range(T - 1, -1, -1):
        down = np.zeros((B, N_HID))
        for d in np.unique(a_out):
            down += d_o(t + 1 + d) @ np.where(a_out == d, w_out, 0.0).T
        for d in np.unique(a_rec):
            down += d_h(t + 1 + d) @ np.where(a_rec == d, w_rec, 0.0).T
        spk = s_h[:, t] > 0
        imv = np.where(spk, i_h[:, t] - v_h[:, t], 1.0)
        lv_h[:, t] = np.where(spk, alpha * lv_h[:, t + 1] * (i_h[:, t] - vr_h[:, t]) / imv
                              + TAU_M * down / imv, alpha * lv_h[:, t + 1])
        lv_o[:, t] = alpha * lv_o[:, t + 1] + g
        li_h[:, t] = beta * li_h[:, t + 1] + k * lv_h[:, t]
        li_o[:, t] = beta * li_o[:, t + 1] + k * lv_o[:, t]

    def grad(spk, a, li):                # sum over spikes at s of LambdaI(s + 1 + a)
        out = np.zeros(a.shape)
        for d in np.unique(a):
            for s in range(T):
                out += np.where(a == d, spk[:, s].T @ li[:, s + 1 + d], 0.0)
        return out

    return (readout, grad(s_in, a_in, li_h), grad(s_h, a_rec, li_h), grad(s_h, a_out, li_o))


def build(w_in, w_rec, w_out, a_in, a_rec, a_out, batch):
    def conn(a):
        if np.ndim(a) == 0:
            return dict(delay=int(a)), None
        return dict(delay=a.ravel().astype(float)), int(a.max())

    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=T * N_IN), N_IN)
        hid = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=TAU_M), N_HID)
        out = Population(LeakyIntegrate(tau_mem=TAU_M, readout="sum_var"), N_OUT)
        for name, (pre, post, w, a) in {"in_hid": (inp, hid, w_in, a_in),
                                        "hid_hid": (hid, hid, w_rec, a_rec),
                                        "hid_out": (hid, out, w_out, a_out)}.items():
            kw, max_delay = conn(a)
            Connection(pre, post, Dense(w, **kw), Exponential(TAU_S), name=name,
                       max_delay_steps=max_delay)
    compiler = EventPropCompiler(T, "sparse_categorical_crossentropy", batch_size=batch,
                                 precision="double", backend="reference")
    return compiler.compile(net), inp, out


def delays(kind, shape, seed):
    if kind == "uniform":
        return {(N_IN, N_HID): 2, (N_HID, N_HID): 1, (N_HID, N_OUT): 3}[shape]
    return np.random.default_rng(seed).integers(0, 4, shape)


@pytest.mark.parametrize("kind", ["uniform", "per-synapse"])
def test_gradients_with_delays_equal_the_dense_reference(kind):
    w_in, w_rec, w_out = weights(21, recurrent=True)
    w_in = w_in * 1.3
    a = [delays(kind, s, seed) for seed, s in enumerate([(N_IN, N_HID), (N_HID, N_HID),
                                                        (N_HID, N_OUT)])]
    steps, data = make_inputs(2, 5)
    labels = np.array([1, 2])
    full = [np.broadcast_to(np.asarray(x), s).astype(int) for x, s in
            zip(a, [(N_IN, N_HID), (N_HID, N_HID), (N_HID, N_OUT)])]
    readout, g_in, g_rec, g_out = dense_reference(w_in, w_rec, w_out, *full, steps, labels)
    cn, inp, out = build(w_in, w_rec, w_out, *a, batch=2)
    with cn:
        r = cn.predict({inp: data}, [out], callbacks=[])[0][out]
        np.testing.assert_allclose(r, readout, rtol=1e-12, atol=1e-12)
        grads = cn.compute_gradients({inp: data}, {out: labels})
    assert np.abs(g_rec).max() > 1e-4 and np.abs(g_in).max() > 1e-4
    np.testing.assert_allclose(grads["in_hid"], g_in, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grads["hid_hid"], g_rec, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grads["hid_out"], g_out, rtol=1e-9, atol=1e-12)
    # the delays matter: without them the gradients differ
    _, g0_in, _, _ = dense_reference(w_in, w_rec, w_out, *(np.zeros_like(f) for f in full),
                                     steps, labels)
    assert not np.allclose(g0_in, g_in, rtol=1e-3)


def test_delayed_output_gradients_equal_finite_differences():
    w_in, w_rec, w_out = weights(3, recurrent=True)
    a_out = delays("per-synapse", (N_HID, N_OUT), 9)
    steps, data = make_inputs(3, 7)
    labels = np.array([0, 2, 1])
    cn, inp, out = build(w_in, w_rec, w_out, 1, 0, a_out, batch=3)
    with cn:
        grads = cn.compute_gradients({inp: data}, {out: labels})
        rng = np.random.default_rng(0)
        h, fd, exact = 1e-5, [], []
        for d in [rng.normal(size=w_out.shape) for _ in range(3)]:
            diff = 0.0
            for sign in (1, -1):
                cn.simulation.set_weights("hid_out", w_out + sign * h * d)
                diff += sign * irsnn_loss(cn, inp, out, data, labels, 3) / (2 * h)
            fd.append(diff)
            exact.append(float((grads["hid_out"] * d).sum()))
    np.testing.assert_allclose(exact, fd, rtol=1e-6, atol=1e-9)


def test_a_uniform_input_delay_equals_shifted_input_spikes():
    """Delaying every input synapse by 3 steps is the same network as emitting every input
    spike 3 steps later: equal readouts and gradients."""
    w_in, w_rec, w_out = weights(8, recurrent=True)
    steps, data = make_inputs(2, 3)
    shifted = [type(x)(x.end_spikes, x.spike_times + 3.0) for x in data]
    labels = np.array([2, 0])
    results = []
    for a_in, inputs in ((3, data), (0, shifted)):
        cn, inp, out = build(w_in, w_rec, w_out, a_in, 0, 0, batch=2)
        with cn:
            r = cn.predict({inp: inputs}, [out], callbacks=[])[0][out]
            results.append((r, cn.compute_gradients({inp: inputs}, {out: labels})))
    (r1, g1), (r2, g2) = results
    np.testing.assert_allclose(r1, r2, rtol=1e-12)
    for name in ("in_hid", "hid_hid", "hid_out"):
        np.testing.assert_allclose(g1[name], g2[name], rtol=1e-9, atol=1e-12)
