"""EventProp gradients in float64 on small networks.

(a) Gradients of the weights into the output layer (the loss depends on its voltages only, and
    linearly on those weights) equal central finite differences of irsnn's own simulation.
(c) Every gradient (input, recurrent and output weights) equals an independent NumPy
    implementation of the same discrete-time adjoint equations, solved densely step by step
    (:mod:`.discrete_reference`), up to rounding; irsnn's forward pass agrees with its
    forward pass first.
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
from irsnn.utils.data import preprocess_spikes

from .discrete_reference import Model

N_IN, N_HID, N_OUT, T = 5, 7, 3, 40


def make_inputs(batch, seed, rate=0.12):
    """``(B, T, N_IN)`` 0/1 spikes and the same as irsnn inputs: a spike time in
    ``(k - 1, k]`` ms is emitted at step ``k`` (``dt = 1``)."""
    rng = np.random.default_rng(seed)
    steps = (rng.random((batch, T - 5, N_IN)) < rate).astype(float)
    steps = np.concatenate([steps, np.zeros((batch, 5, N_IN))], axis=1)
    steps[:, 0] = 0
    data = []
    for b in range(batch):
        t, i = np.nonzero(steps[b])
        data.append(preprocess_spikes(t - 0.5, i, N_IN))
    return steps, data


def weights(seed, recurrent):
    rng = np.random.default_rng(seed)
    w_in = rng.normal(1.2, 1.0, (N_IN, N_HID))
    w_rec = rng.normal(0.0, 0.4, (N_HID, N_HID)) if recurrent else None
    w_out = rng.normal(0.0, 1.0, (N_HID, N_OUT))
    return w_in, w_rec, w_out


def build(w_in, w_rec, w_out, readout, batch, **options):
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=T * N_IN), N_IN)
        hid = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0), N_HID)
        out = Population(LeakyIntegrate(tau_mem=20.0, readout=readout), N_OUT)
        Connection(inp, hid, Dense(w_in), Exponential(5.0), name="in_hid")
        if w_rec is not None:
            Connection(hid, hid, Dense(w_rec), Exponential(5.0), name="hid_hid")
        Connection(hid, out, Dense(w_out), Exponential(5.0), name="hid_out")
    compiler = EventPropCompiler(T, "sparse_categorical_crossentropy", batch_size=batch,
                                 precision="double", backend="reference", **options)
    return compiler.compile(net), inp, out


def irsnn_loss(cn, inp, out, data, labels, batch):
    r = np.asarray(cn.predict({inp: data}, [out], callbacks=[])[0][out], np.float64)
    z = r - r.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(labels)), labels].sum() / batch


@pytest.mark.parametrize("readout", ["sum_var", "avg_var", "max_var"])
def test_output_gradients_equal_finite_differences(readout):
    w_in, w_rec, w_out = weights(3, recurrent=True)
    steps, data = make_inputs(3, 7)
    labels = np.array([0, 2, 1])
    cn, inp, out = build(w_in, w_rec, w_out, readout, batch=3)
    with cn:
        grads = cn.compute_gradients({inp: data}, {out: labels})
        assert np.abs(grads["hid_out"]).max() > 1e-3
        # central differences along the unit directions of a few weights and along random
        # directions of the whole matrix
        rng = np.random.default_rng(0)
        dirs = [np.eye(N_HID * N_OUT)[k].reshape(N_HID, N_OUT) for k in (0, 7, 20)]
        dirs += [rng.normal(size=w_out.shape) for _ in range(2)]
        h = 1e-5
        fd, exact = [], []
        for d in dirs:
            diff = 0.0
            for sign in (1, -1):
                cn.simulation.set_weights("hid_out", w_out + sign * h * d)
                diff += sign * irsnn_loss(cn, inp, out, data, labels, 3) / (2 * h)
            fd.append(diff)
            exact.append(float((grads["hid_out"] * d).sum()))
    np.testing.assert_allclose(exact, fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("recurrent", [False, True])
@pytest.mark.parametrize("readout", ["sum_var", "avg_var", "max_var"])
def test_gradients_equal_independent_discrete_adjoint(readout, recurrent):
    w_in, w_rec, w_out = weights(11 + recurrent, recurrent)
    steps, data = make_inputs(2, 5)
    labels = np.array([1, 2])
    ref = Model(w_in, w_out, w_rec)
    rec = ref.forward(steps)
    assert rec["s_h"].sum() >= 10, "the case must have hidden spikes to test the jumps"
    cn, inp, out = build(w_in, w_rec, w_out, readout, batch=2)
    with cn:
        r = cn.predict({inp: data}, [out], callbacks=[])[0][out]
        np.testing.assert_allclose(r, ref.readout(rec, readout), rtol=1e-12, atol=1e-12)
        grads = cn.compute_gradients({inp: data}, {out: labels})
    g_in, g_rec, g_out = ref.gradients(steps, labels, readout)
    np.testing.assert_allclose(grads["in_hid"], g_in, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grads["hid_out"], g_out, rtol=1e-9, atol=1e-12)
    if recurrent:
        np.testing.assert_allclose(grads["hid_hid"], g_rec, rtol=1e-9, atol=1e-12)
    assert np.abs(g_in).max() > 1e-4


def test_partial_batch_rows_add_nothing():
    """A batch of 3 given 2 examples: the padding row adds no gradient, the loss is still
    divided by the batch size (as mlGeNN)."""
    w_in, w_rec, w_out = weights(4, recurrent=True)
    steps, data = make_inputs(2, 9)
    labels = np.array([2, 0])
    cn, inp, out = build(w_in, w_rec, w_out, "sum_var", batch=3)
    with cn:
        grads = cn.compute_gradients({inp: data}, {out: labels})
    g_in, g_rec, g_out = Model(w_in, w_out, w_rec).gradients(steps, labels, "sum_var")
    np.testing.assert_allclose(grads["hid_out"], g_out * 2 / 3, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grads["in_hid"], g_in * 2 / 3, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("recurrent", [False, True])
def test_time_to_first_spike_gradients_equal_independent_discrete_adjoint(recurrent):
    """LIF output, ``first_spike_time`` readout, RelativeMeanSquareError(delta): the jump at
    each output neuron's first spike carries ``-TauM dL/dt / (I - V)``."""
    from irsnn.losses import RelativeMeanSquareError
    rng = np.random.default_rng(21 + recurrent)
    w_in = rng.normal(1.5, 1.0, (N_IN, N_HID))
    w_rec = rng.normal(0.0, 0.4, (N_HID, N_HID)) if recurrent else None
    w_out = rng.normal(1.2, 0.8, (N_HID, N_OUT))
    steps, data = make_inputs(2, 13, rate=0.2)
    labels = np.array([2, 0])
    ref = Model(w_in, w_out, w_rec, lif_out=True)
    rec = ref.forward(steps)
    assert rec["s_o"].any(axis=1).sum() >= 4, "most output neurons must spike"
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=T * N_IN), N_IN)
        hid = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0), N_HID)
        out = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0,
                                            readout="first_spike_time"), N_OUT)
        Connection(inp, hid, Dense(w_in), Exponential(5.0), name="in_hid")
        if recurrent:
            Connection(hid, hid, Dense(w_rec), Exponential(5.0), name="hid_hid")
        Connection(hid, out, Dense(w_out), Exponential(5.0), name="hid_out")
    cn = EventPropCompiler(T, RelativeMeanSquareError(delta=3.0), batch_size=2,
                           precision="double", backend="reference").compile(net)
    with cn:
        r = cn.predict({inp: data}, [out], callbacks=[])[0][out]
        np.testing.assert_array_equal(-r, ref.first_spike_times(rec)[0])
        grads = cn.compute_gradients({inp: data}, {out: labels})
    g_in, g_rec, g_out = ref.ttfs_gradients(steps, labels, 3.0)
    assert np.abs(g_out).max() > 1e-4 and np.abs(g_in).max() > 1e-4
    np.testing.assert_allclose(grads["hid_out"], g_out, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grads["in_hid"], g_in, rtol=1e-9, atol=1e-12)
    if recurrent:
        np.testing.assert_allclose(grads["hid_hid"], g_rec, rtol=1e-9, atol=1e-12)
