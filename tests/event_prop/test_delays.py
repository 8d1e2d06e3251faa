"""EventProp with synaptic delays (uniform and per synapse, fixed and learnt).

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
from irsnn.compilers import EventPropCompiler, InferenceCompiler
from irsnn.compilers.event_prop_compiler import default_params
from irsnn.connectivity import Dense
from irsnn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from irsnn.errors import CheckpointNotFoundError
from irsnn.ir import to_text
from irsnn.optimisers import Adam
from irsnn.synapses import Exponential

from .test_gradients import N_HID, N_IN, N_OUT, T, irsnn_loss, make_inputs, weights

TAU_M, TAU_S = 20.0, 5.0
EDGE_IN, EDGE_OUT = "syn.in->hid", "syn.hid->out"


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
    # D at arrival step m: (LambdaI(m) - LambdaI(m+1)) / dt, from the stored adjoints (dt = 1)
    d_h = lambda t: li_h[:, t] - li_h[:, t + 1]   # noqa: E731
    d_o = lambda t: li_o[:, t] - li_o[:, t + 1]   # noqa: E731
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


def build(w_in, w_rec, w_out, a_in, a_rec, a_out, batch, backend="reference"):
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
                                 precision="double", backend=backend)
    return compiler.compile(net), inp, out


def _backends():
    """The reference backend and every available kernel backend (their EventProp kernels keep
    the adjoints of the last steps for delayed arrivals)."""
    from irsnn.backends import available_backends
    return [pytest.param(name, marks=pytest.mark.skipif(not ok, reason=why))
            for name, (ok, why) in available_backends().items()]


def delays(kind, shape, seed):
    if kind == "uniform":
        return {(N_IN, N_HID): 2, (N_HID, N_HID): 1, (N_HID, N_OUT): 3}[shape]
    return np.random.default_rng(seed).integers(0, 4, shape)


@pytest.mark.parametrize("backend", _backends())
@pytest.mark.parametrize("kind", ["uniform", "per-synapse"])
def test_gradients_with_delays_equal_the_dense_reference(kind, backend):
    w_in, w_rec, w_out = weights(21, recurrent=True)
    w_in = w_in * 1.3
    a = [delays(kind, s, seed) for seed, s in enumerate([(N_IN, N_HID), (N_HID, N_HID),
                                                        (N_HID, N_OUT)])]
    steps, data = make_inputs(2, 5)
    labels = np.array([1, 2])
    full = [np.broadcast_to(np.asarray(x), s).astype(int) for x, s in
            zip(a, [(N_IN, N_HID), (N_HID, N_HID), (N_HID, N_OUT)])]
    readout, g_in, g_rec, g_out = dense_reference(w_in, w_rec, w_out, *full, steps, labels)
    cn, inp, out = build(w_in, w_rec, w_out, *a, batch=2, backend=backend)
    if backend == "reference":
        from ..conformance.conftest import nvrtc_check
        nvrtc_check(cn.ir)          # the CUDA kernels of the same model compile cleanly
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


# -- learnable delays: against the exact continuous-time reference ---------------------------
def continuous_case():
    rng = np.random.default_rng(0)
    w_in = rng.normal(1.5, 1.0, (4, 6))
    w_out = rng.normal(0.0, 1.0, (6, 3))
    inputs = sorted((float(t), int(i)) for t, i in zip(rng.uniform(0, 20, 16),
                                                       rng.integers(0, 4, 16)))
    d_in = rng.integers(0, 4, (4, 6)).astype(float)        # whole ms: every dt below hits them
    d_out = rng.integers(0, 4, (6, 3)).astype(float)
    return w_in, w_out, inputs, d_in, d_out


def test_continuous_delay_gradients_equal_their_finite_differences():
    """The adjoint's delay gradient (``-w D`` summed over arrivals) is the derivative of the
    exact continuous-time loss by each synapse's delay."""
    from .continuous_reference import ContinuousNet
    w_in, w_out, inputs, d_in, d_out = continuous_case()
    d_in, d_out = d_in + 0.37, d_out + 0.61       # away from the input spike times' ties
    net = ContinuousNet(w_in, w_out, d_in=d_in, d_out=d_out)
    counts = [len(s) for s in net.hidden_spikes(inputs)]
    assert sum(counts) >= 10
    g_din, g_dout = net.delay_gradients(inputs, 1)
    h = 1e-6
    rng = np.random.default_rng(1)
    checked = 0
    for which, grad, shape in (("in", g_din, d_in.shape), ("out", g_dout, d_out.shape)):
        for k in rng.choice(int(np.prod(shape)), 8, replace=False):
            idx = np.unravel_index(k, shape)
            fd = 0.0
            for sign in (1, -1):
                di, do = d_in.copy(), d_out.copy()
                (di if which == "in" else do)[idx] += sign * h
                other = ContinuousNet(w_in, w_out, d_in=di, d_out=do)
                assert [len(s) for s in other.hidden_spikes(inputs)] == counts
                fd += sign * other.loss(inputs, 1) / (2 * h)
            np.testing.assert_allclose(grad[idx], fd, rtol=1e-4, atol=1e-8)
            checked += abs(fd) > 1e-4
    assert checked >= 6


def irsnn_delay_gradients(w_in, w_out, inputs, d_in, d_out, dt):
    """irsnn's EventProp delay gradients per ms (its own are per timestep of delay)."""
    from irsnn.utils.data import preprocess_spikes
    steps = lambda d: np.rint(d / dt).ravel()      # noqa: E731
    max_delay = int(np.rint(4.0 / dt))
    net = Network(default_params)
    with net:
        i = Population(SpikeInput(max_spikes=100), 4)
        h = Population(LeakyIntegrateFire(tau_mem=20.0), 6)
        o = Population(LeakyIntegrate(tau_mem=20.0, readout="avg_var"), 3)
        c_in = Connection(i, h, Dense(w_in, delay=steps(d_in)), Exponential(5.0), name="in_hid",
                          max_delay_steps=max_delay)
        c_out = Connection(h, o, Dense(w_out, delay=steps(d_out)), Exponential(5.0),
                           name="hid_out", max_delay_steps=max_delay)
    cn = EventPropCompiler(int(round(30 / dt)), "sparse_categorical_crossentropy", dt=dt,
                           precision="double", backend="reference",
                           delay_learn_conns=[c_in, c_out]).compile(net)
    times = np.array([t for t, _ in inputs])
    ids = np.array([n for _, n in inputs])
    with cn:
        g = cn.compute_gradients({i: [preprocess_spikes(times, ids, 4)]}, {o: np.array([1])})
    return np.concatenate([g["in_hid.d"].ravel(), g["hid_out.d"].ravel()]) / dt


@pytest.mark.slow
def test_discrete_delay_gradients_converge_to_continuous_ones():
    """Measured (this network, float64): relative error of irsnn's delay gradients 0.24 at
    dt = 1 ms, 0.021 at dt = 0.1 ms, 0.0014 at dt = 0.01 ms: first order in ``dt`` (0.52,
    0.066, 0.0062 with the continuous-time arrival term)."""
    from .continuous_reference import ContinuousNet
    w_in, w_out, inputs, d_in, d_out = continuous_case()
    exact = np.concatenate([g.ravel() for g in ContinuousNet(
        w_in, w_out, d_in=d_in, d_out=d_out).delay_gradients(inputs, 1)])
    errors = [np.linalg.norm(irsnn_delay_gradients(w_in, w_out, inputs, d_in, d_out, dt)
                             - exact) / np.linalg.norm(exact) for dt in (1.0, 0.1, 0.01)]
    print("relative errors of the delay gradients at dt = 1, 0.1, 0.01 ms:", errors)
    assert errors[0] > errors[1] > errors[2]
    assert errors[1] < errors[0] / 5 and errors[2] < errors[1] / 5


# -- learnable delays: training, clamping, checkpoints -----------------------------------------
def delay_network(max_delay=6):
    rng = np.random.default_rng(4)
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=T * N_IN), N_IN, name="in")
        hid = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=TAU_M), N_HID, name="hid")
        out = Population(LeakyIntegrate(tau_mem=TAU_M, readout="sum_var"), N_OUT, name="out")
        c_in = Connection(inp, hid, Dense(rng.normal(1.2, 1.0, (N_IN, N_HID)),
                                          delay=rng.integers(0, 4, N_IN * N_HID).astype(float)),
                          Exponential(TAU_S), name="in_hid", max_delay_steps=max_delay)
        c_out = Connection(hid, out, Dense(rng.normal(0.0, 1.0, (N_HID, N_OUT)), delay=1),
                           Exponential(TAU_S), name="hid_out", max_delay_steps=max_delay)
    return net, inp, out, c_in, c_out


class Frozen(Adam):
    """An optimiser that leaves its parameters as they are (the weights here)."""

    def step(self, param, grad, state, step):
        pass


def test_only_delays_learn_clamped_and_the_loss_falls():
    """With the weights' learning rate 0 only the delays move: they stay within [0,
    max_delay_steps], the forward pass delivers after the rounded learnt delays, and training
    lowers the loss."""
    net, inp, out, c_in, c_out = delay_network()
    steps, data = make_inputs(8, 13)
    labels = np.arange(8) % N_OUT
    compiler = EventPropCompiler(T, "sparse_categorical_crossentropy", batch_size=8,
                                 optimiser=Frozen(), delay_optimiser=Adam(alpha=0.5),
                                 delay_learn_conns=[c_in, c_out], backend="reference",
                                 precision="double")
    with compiler.compile(net) as cn:
        assert "clamp=[0.0, 6.0]" in to_text(cn.ir)
        assert [len(t) for _, t in cn.optimisers] == [2, 2]
        w0 = cn.simulation.get_weights("in_hid")
        d0 = cn.simulation.get_var(EDGE_IN, "d")
        losses = []
        for _ in range(8):
            losses.append(irsnn_loss(cn, inp, out, data, labels, 8))
            cn.train({inp: data}, {out: labels}, num_epochs=1, shuffle=False, callbacks=[])
        d1 = cn.simulation.get_var(EDGE_IN, "d")
        np.testing.assert_array_equal(cn.simulation.get_weights("in_hid"), w0)
        assert not np.array_equal(d0, d1)
        assert d1.min() >= 0.0 and d1.max() <= 6.0
        assert (d1 == 0.0).any() or (d1 == 6.0).any()       # some delays reached a bound
        assert losses[-1] < 0.8 * losses[0], losses
        # the forward pass uses the learnt delays, rounded: a network built with them agrees
        r = cn.predict({inp: data}, [out], callbacks=[])[0][out]
        d_out = cn.simulation.get_var(EDGE_OUT, "d")
    rounded = lambda d: np.floor(d + 0.5).ravel()       # noqa: E731
    net2, inp2, out2, *_ = delay_network()
    net2.connections[0].connectivity.delay = rounded(d1)
    net2.connections[1].connectivity.delay = rounded(d_out)
    with EventPropCompiler(T, "sparse_categorical_crossentropy", batch_size=8,
                           backend="reference", precision="double").compile(net2) as cn2:
        r2 = cn2.predict({inp2: data}, [out2], callbacks=[])[0][out2]
    np.testing.assert_allclose(r, r2, rtol=1e-12)


def test_learnt_delays_round_trip_through_checkpoints(tmp_path):
    from irsnn.serialisers import Numpy
    net, inp, out, c_in, c_out = delay_network()
    steps, data = make_inputs(4, 2)
    labels = np.arange(4) % N_OUT

    def compile_():
        return EventPropCompiler(T, "sparse_categorical_crossentropy", batch_size=4,
                                 delay_learn_conns=[c_in, c_out], backend="reference",
                                 delay_optimiser=Adam(alpha=0.3)).compile(net)
    with compile_() as cn:
        cn.train({inp: data}, {out: labels}, num_epochs=2, shuffle=False, callbacks=[])
        cn.save((1,), Numpy(str(tmp_path)))
        learnt = cn.simulation.get_var(EDGE_IN, "d")
    saved = np.load(tmp_path / "1-in_hid-d.npy")          # mlGeNN's name and 1-D layout
    np.testing.assert_array_equal(saved, learnt.ravel())
    with compile_() as cn2:
        cn2.resume((1,), Numpy(str(tmp_path)))
        np.testing.assert_array_equal(cn2.simulation.get_var(EDGE_IN, "d"), learnt)
        out_learnt = cn2.predict({inp: data}, [out], callbacks=[])[0][out]
    # a network loading them runs as the trained one did: after the rounded learnt delays
    assert (learnt != np.floor(learnt)).any()       # (real numbers of steps)
    fresh, inp2, out2, *_ = delay_network()
    fresh.load((1,), Numpy(str(tmp_path)))
    np.testing.assert_array_equal(fresh.connections[0].connectivity.delay,
                                  np.floor(learnt + 0.5).ravel())
    with InferenceCompiler(T, batch_size=4, backend="reference").compile(fresh) as inf:
        out_loaded = inf.predict({inp2: data}, [out2], callbacks=[])[0][out2]
    np.testing.assert_allclose(out_loaded, out_learnt, rtol=1e-6)
    (tmp_path / "1-hid_out-d.npy").unlink()
    with compile_() as cn3, pytest.raises(CheckpointNotFoundError, match="hid_out.*learnt d"):
        cn3.resume((1,), Numpy(str(tmp_path)))


def test_kernel_backends_refuse_what_their_kernels_lack():
    """Per-synapse delays outside dense matrices, fixed or learnt, are refused on the kernel
    backends, with the reason."""
    from irsnn.backends import available_backends
    from irsnn.connectivity import FixedProbability
    from irsnn.errors import ModelError
    from irsnn.initializers import Uniform
    if not available_backends()["c"][0]:
        pytest.skip("no C compiler")
    net, inp, out, c_in, c_out = delay_network()
    EventPropCompiler(T, "sparse_categorical_crossentropy", backend="c").compile(net)
    ragged = Network(default_params)
    with ragged:
        i = Population(SpikeInput(max_spikes=100), N_IN)
        h = Population(LeakyIntegrateFire(tau_mem=TAU_M), N_HID)
        o = Population(LeakyIntegrate(tau_mem=TAU_M, readout="sum_var"), N_OUT)
        Connection(i, h, FixedProbability(0.5, 1.0, delay=Uniform(0.0, 3.0)),
                   Exponential(TAU_S), name="sparse_in", max_delay_steps=3)
        Connection(h, o, Dense(np.ones((N_HID, N_OUT))), Exponential(TAU_S))
    with pytest.raises(ModelError, match="sparse_in.*per-synapse delays of "
                                         "FixedProbability.*Dense"):
        EventPropCompiler(T, "sparse_categorical_crossentropy", backend="c").compile(ragged)
    sparse_in = ragged.connections[0]
    with pytest.raises(ModelError, match="sparse_in.*learnt delays of FixedProbability.*Dense"):
        EventPropCompiler(T, "sparse_categorical_crossentropy", backend="c",
                          delay_learn_conns=[sparse_in]).compile(ragged)


def test_without_a_backend_the_default_one_runs_what_its_kernels_have():
    """No backend given: the default backend where its kernels implement the model (C here
    when a compiler exists), the reference backend for learnt delays of sparse connectivity."""
    from irsnn.backends import get_backend
    w_in, w_rec, w_out = weights(2, recurrent=False)
    plain = Network(default_params)
    with plain:
        i = Population(SpikeInput(max_spikes=100), N_IN)
        h = Population(LeakyIntegrateFire(tau_mem=TAU_M), N_HID)
        o = Population(LeakyIntegrate(tau_mem=TAU_M, readout="sum_var"), N_OUT)
        Connection(i, h, Dense(w_in), Exponential(TAU_S))
        Connection(h, o, Dense(w_out), Exponential(TAU_S))
    compiler = EventPropCompiler(T, "sparse_categorical_crossentropy")
    with compiler.compile(plain) as cn:
        assert cn.backend.name == get_backend(None).name
    net, _, _, c_in, _ = delay_network()
    with compiler.compile(net) as cn:          # delays: the kernels have them
        assert cn.backend.name == get_backend(None).name
    learnt = EventPropCompiler(T, "sparse_categorical_crossentropy", delay_learn_conns=[c_in])
    with learnt.compile(net) as cn:            # learnt delays of a dense matrix: too
        assert cn.backend.name == get_backend(None).name
    from irsnn.connectivity import FixedProbability
    sparse = Network(default_params)
    with sparse:
        i = Population(SpikeInput(max_spikes=100), N_IN)
        h = Population(LeakyIntegrateFire(tau_mem=TAU_M), N_HID)
        o = Population(LeakyIntegrate(tau_mem=TAU_M, readout="sum_var"), N_OUT)
        c = Connection(i, h, FixedProbability(0.5, 1.0), Exponential(TAU_S), max_delay_steps=3)
        Connection(h, o, Dense(w_out), Exponential(TAU_S))
    with EventPropCompiler(T, "sparse_categorical_crossentropy",
                           delay_learn_conns=[c]).compile(sparse) as cn:   # not (ragged rows)
        assert cn.backend.name == "reference"


def learnt_delay_network():
    """Learnt delays on a connection from an input (whose targets' ``D`` only the delay
    gradient needs), a recurrent one and one whose delays may only be 0 (the arrival step's
    ``D`` from the adjoints of that step, no ring)."""
    rng = np.random.default_rng(7)
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=T * N_IN), N_IN, name="in")
        hid = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=TAU_M), N_HID, name="hid")
        out = Population(LeakyIntegrate(tau_mem=TAU_M, readout="sum_var"), N_OUT, name="out")
        conns = [
            Connection(inp, hid, Dense(rng.normal(1.3, 1.0, (N_IN, N_HID)),
                                       delay=rng.integers(0, 4, N_IN * N_HID).astype(float)),
                       Exponential(TAU_S), name="in_hid", max_delay_steps=5),
            Connection(hid, hid, Dense(rng.normal(0.0, 0.4, (N_HID, N_HID)), delay=1),
                       Exponential(TAU_S), name="hid_hid", max_delay_steps=3),
            Connection(hid, out, Dense(rng.normal(0.0, 1.0, (N_HID, N_OUT))),
                       Exponential(TAU_S), name="hid_out", max_delay_steps=0)]
    return net, inp, out, conns


@pytest.mark.parametrize("backend", [p for p in _backends() if p.values[0] != "reference"])
@pytest.mark.parametrize("batch", [1, 5])
def test_learnt_delays_on_kernel_backends_match_the_reference(backend, batch):
    """The kernels' delay gradients (``-dt w D`` at each arrival, per lane of batch elements
    then reduced), the forward pass after rounded learnt delays, and a few epochs of training
    equal the reference's (float64; batch 5 of 8 examples: a padded last batch)."""
    steps, data = make_inputs(8, 31)
    labels = np.arange(8) % N_OUT
    runs = {}
    for be in ("reference", backend):
        net, inp, out, conns = learnt_delay_network()
        compiler = EventPropCompiler(T, "sparse_categorical_crossentropy", batch_size=batch,
                                     delay_optimiser=Adam(alpha=0.4), delay_learn_conns=conns,
                                     backend=be, precision="double")
        with compiler.compile(net) as cn:
            assert cn.backend.name == be
            if be == "reference" and backend == "c" and batch == 5:
                from ..conformance.conftest import nvrtc_check
                nvrtc_check(cn.ir)      # the CUDA kernels of the model compile cleanly
            g = cn.compute_gradients({inp: data[:batch]}, {out: labels[:batch]})
            cn.train({inp: data}, {out: labels}, num_epochs=3, shuffle=False, callbacks=[])
            learnt = {k: cn.simulation.get_var(k, "d") for k in
                      ("syn.in->hid", "rec.hid->hid", "syn.hid->out")}
            r = cn.predict({inp: data}, [out], callbacks=[])[0][out]
        runs[be] = g, learnt, r
    (g_ref, d_ref, r_ref), (g, d, r) = runs["reference"], runs[backend]
    assert set(g) == {f"{c}{x}" for c in ("in_hid", "hid_hid", "hid_out") for x in ("", ".d")}
    for k in g_ref:
        assert np.abs(g_ref[k]).max() > 1e-4, k      # every gradient is exercised
        np.testing.assert_allclose(g[k], g_ref[k], rtol=1e-9,
                                   atol=1e-12 * np.abs(g_ref[k]).max(), err_msg=k)
    for k in d_ref:
        np.testing.assert_allclose(d[k], d_ref[k], rtol=1e-9, atol=1e-12, err_msg=k)
    assert d_ref["syn.hid->out"].max() == 0.0 and d_ref["syn.in->hid"].max() > 3.5
    np.testing.assert_allclose(r, r_ref, rtol=1e-9, atol=1e-12)
