"""EventProp's further losses and readouts, in float64 on small networks.

``avg_var_exp_weight`` and the per-timestep cross-entropy (``per_timestep_loss=True``) with the
cross-entropy, ``mean_square_error`` with the ``var`` readout (targets per example and per
timestep) and mlGeNN's time-to-first-spike cross-entropy (``ttfs_alpha``) on LIF outputs:

(a) where the loss depends on the output's voltages only, the output-layer gradients equal
    central finite differences of a loss computed here from irsnn's own simulation (its readout
    or its recorded voltages);
(c) every gradient equals the independent dense adjoint of :mod:`.discrete_reference`.

The time-to-first-spike loss depends on spike steps, which do not move under small weight
changes in discrete time, so it is checked by (c) only.
"""

from __future__ import annotations

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.callbacks import VarRecorder
from irsnn.compilers import EventPropCompiler
from irsnn.compilers.event_prop_compiler import default_params
from irsnn.connectivity import Dense
from irsnn.losses import SparseCategoricalCrossentropy
from irsnn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from irsnn.synapses import Exponential

from .discrete_reference import Model
from .test_gradients import N_HID, N_IN, N_OUT, T, make_inputs, weights

#: (case, readout, loss, per_timestep_loss): the LeakyIntegrate outputs tested
CASES = {
    "exp_weight": ("avg_var_exp_weight", "sparse_categorical_crossentropy", False),
    "per_timestep_sum": ("sum_var", "sparse_categorical_crossentropy", True),
    "per_timestep_avg": ("avg_var", "sparse_categorical_crossentropy", True),
    "mse": ("var", "mean_square_error", False),
    "mse_per_step_targets": ("var", "mean_square_error", True),
}
TEMP = 0.7


def build(w_in, w_rec, w_out, readout, loss, per_timestep, batch, lif_out=False, **kw):
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=T * N_IN), N_IN)
        hid = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0), N_HID)
        neuron = (LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0, readout=readout) if lif_out
                  else LeakyIntegrate(tau_mem=20.0, readout=readout))
        out = Population(neuron, N_OUT)
        Connection(inp, hid, Dense(w_in), Exponential(5.0), name="in_hid")
        if w_rec is not None:
            Connection(hid, hid, Dense(w_rec), Exponential(5.0), name="hid_hid")
        Connection(hid, out, Dense(w_out), Exponential(5.0), name="hid_out")
    compiler = EventPropCompiler(T, loss, batch_size=batch, precision="double",
                                 backend="reference", per_timestep_loss=per_timestep,
                                 softmax_temperature=TEMP, **kw)
    return compiler.compile(net), inp, out


def targets_for(case, batch, seed=4):
    rng = np.random.default_rng(seed)
    if case == "mse":
        return rng.normal(0.3, 0.3, (batch, N_OUT))
    return rng.normal(0.3, 0.3, (batch, T, N_OUT))


def labels_for(case, batch):
    if case.startswith("mse"):
        return targets_for(case, batch)
    return np.array([0, 2, 1])[:batch]


def irsnn_loss(case, cn, inp, out, data, labels, batch):
    """The loss computed here from irsnn's simulation: its readout, or its voltages."""
    readout = CASES[case][0]
    preds, cb = cn.predict({inp: data}, [out], callbacks=[VarRecorder(out, "V", key="v")])
    v = np.asarray(cb["v"], np.float64)                       # (examples, T, n)
    if case == "exp_weight":
        r = np.asarray(preds[out], np.float64)
        z = r / TEMP
        logp = z - z.max(axis=1, keepdims=True)
        logp -= np.log(np.exp(logp).sum(axis=1, keepdims=True))
        return -logp[np.arange(len(labels)), labels].sum() / batch
    if case.startswith("per_timestep"):
        assert readout in ("sum_var", "avg_var")
        z = v / TEMP
        logp = z - z.max(axis=2, keepdims=True)
        logp -= np.log(np.exp(logp).sum(axis=2, keepdims=True))
        return -logp[np.arange(len(labels)), :, labels].sum() / (batch * T)
    y = labels if labels.ndim == 3 else labels[:, None, :]
    return 0.5 * ((v - y) ** 2).sum() / (batch * T)


@pytest.mark.parametrize("case", sorted(CASES))
def test_output_gradients_equal_finite_differences(case):
    readout, loss, per_timestep = CASES[case]
    w_in, w_rec, w_out = weights(3, recurrent=True)
    steps, data = make_inputs(3, 7)
    labels = labels_for(case, 3)
    cn, inp, out = build(w_in, w_rec, w_out, readout, loss, per_timestep, batch=3)
    with cn:
        grads = cn.compute_gradients({inp: data}, {out: labels})
        assert np.abs(grads["hid_out"]).max() > 1e-3
        rng = np.random.default_rng(0)
        dirs = [np.eye(N_HID * N_OUT)[k].reshape(N_HID, N_OUT) for k in (0, 7, 20)]
        dirs += [rng.normal(size=w_out.shape) for _ in range(2)]
        h = 1e-5
        fd, exact = [], []
        for d in dirs:
            diff = 0.0
            for sign in (1, -1):
                cn.simulation.set_weights("hid_out", w_out + sign * h * d)
                diff += sign * irsnn_loss(case, cn, inp, out, data, labels, 3) / (2 * h)
            fd.append(diff)
            exact.append(float((grads["hid_out"] * d).sum()))
    np.testing.assert_allclose(exact, fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("recurrent", [False, True])
@pytest.mark.parametrize("case", sorted(CASES))
def test_gradients_equal_independent_discrete_adjoint(case, recurrent):
    readout, loss, per_timestep = CASES[case]
    w_in, w_rec, w_out = weights(11 + recurrent, recurrent)
    steps, data = make_inputs(2, 5)
    labels = labels_for(case, 2)
    ref = Model(w_in, w_out, w_rec)
    assert ref.forward(steps)["s_h"].sum() >= 10, "the case must have hidden spikes"
    cn, inp, out = build(w_in, w_rec, w_out, readout, loss, per_timestep, batch=2)
    with cn:
        grads = cn.compute_gradients({inp: data}, {out: labels})
    if case.startswith("mse"):
        kind, kw = "mse", dict(targets=labels)
    elif per_timestep:
        kind, kw = "per_timestep", dict(temp=TEMP)
    else:
        kind, kw = readout, {}
        assert TEMP != 1.0
        # the reference's readout cross-entropy has temperature 1: rescale the readout
        ref_t = Model(w_in, w_out / TEMP, w_rec)
        g_in, g_rec, g_out = ref_t.gradients(steps, labels, kind)
        g_out = g_out / TEMP
        _check(grads, g_in, g_rec, g_out, recurrent)
        return
    g_in, g_rec, g_out = ref.gradients(steps, labels, kind, **kw)
    _check(grads, g_in, g_rec, g_out, recurrent)


def _check(grads, g_in, g_rec, g_out, recurrent):
    assert np.abs(g_in).max() > 1e-5 and np.abs(g_out).max() > 1e-5
    np.testing.assert_allclose(grads["hid_out"], g_out, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grads["in_hid"], g_in, rtol=1e-9, atol=1e-12)
    if recurrent:
        np.testing.assert_allclose(grads["hid_hid"], g_rec, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("recurrent", [False, True])
@pytest.mark.parametrize("phantom", [False, True])
def test_ttfs_crossentropy_equals_independent_discrete_adjoint(recurrent, phantom):
    """LIF output, ``first_spike_time``, SparseCategoricalCrossentropy with ``ttfs_alpha``:
    first-spike jumps of the softmax cross-entropy of ``-t / temperature`` plus ``alpha /
    (1.01 T - t_y)``; with ``phantom`` one example's correct neuron never spikes and gets
    mlGeNN's phantom drive at the last step."""
    rng = np.random.default_rng(21 + recurrent)
    w_in = rng.normal(1.5, 1.0, (N_IN, N_HID))
    w_rec = rng.normal(0.0, 0.4, (N_HID, N_HID)) if recurrent else None
    w_out = rng.normal(1.2, 0.8, (N_HID, N_OUT))
    steps, data = make_inputs(2, 13, rate=0.2)
    ref = Model(w_in, w_out, w_rec, lif_out=True)
    rec = ref.forward(steps)
    first, spiked = ref.first_spike_times(rec)
    if phantom:
        w_out[:, 1] = -1.0              # neuron 1 never spikes
        ref = Model(w_in, w_out, w_rec, lif_out=True)
        rec = ref.forward(steps)
        first, spiked = ref.first_spike_times(rec)
        assert not spiked[:, 1].any()
        labels = np.array([1, 0])
    else:
        labels = np.array([2, 0])
    assert spiked.sum() >= 4 and spiked[1, labels[1]], "most output neurons must spike"
    cn, inp, out = build(w_in, w_rec, w_out, "first_spike_time",
                         SparseCategoricalCrossentropy(), False, batch=2, lif_out=True,
                         ttfs_alpha=0.5)
    with cn:
        r = cn.predict({inp: data}, [out], callbacks=[])[0][out]
        np.testing.assert_array_equal(-r, first)
        grads = cn.compute_gradients({inp: data}, {out: labels})
    g_in, g_rec, g_out = ref.gradients(steps, labels, "ttfs_ce", temp=TEMP, alpha=0.5)
    if phantom:     # the phantom drive reaches the correct neuron's input weights
        assert np.abs(g_out[:, 1]).max() > 1e-6
    _check(grads, g_in, g_rec, g_out, recurrent)


def test_ir_marks_per_timestep_losses():
    from irsnn.ir import EventPropState, LossNode
    from irsnn.passes.insert_eventprop import features
    w_in, w_rec, w_out = weights(3, recurrent=False)
    cn, *_ = build(w_in, w_rec, w_out, "var", "mean_square_error", False, batch=1)
    g = cn.ir
    (node,) = [n for _, n in g.nodes(EventPropState) if n.kind == "output"]
    assert node.per_timestep and node.readout == "var"
    (loss,) = [n for _, n in g.nodes(LossNode)]
    assert loss.timesteps == T
    assert features(g) == {("leaky_integrate", "var", "mean_square_error", True)}


@pytest.mark.parametrize("case", ["per_timestep_sum", "mse_per_step_targets", "exp_weight"])
def test_partial_batch_rows_add_nothing(case):
    """A batch of 3 given 2 examples: the padding row adds nothing, the loss is still divided
    by the batch size."""
    readout, loss, per_timestep = CASES[case]
    w_in, w_rec, w_out = weights(4, recurrent=True)
    steps, data = make_inputs(2, 9)
    labels = labels_for(case, 2)
    cn3, inp, out = build(w_in, w_rec, w_out, readout, loss, per_timestep, batch=3)
    cn2, inp2, out2 = build(w_in, w_rec, w_out, readout, loss, per_timestep, batch=2)
    with cn3:
        g3 = cn3.compute_gradients({inp: data}, {out: labels})
    with cn2:
        g2 = cn2.compute_gradients({inp2: data}, {out2: labels})
    for name in ("in_hid", "hid_hid", "hid_out"):
        assert np.abs(g2[name]).max() > 1e-6
        np.testing.assert_allclose(g3[name], g2[name] * 2 / 3, rtol=1e-9, atol=1e-13)


def test_ttfs_rmse_with_silent_neurons_equals_independent_discrete_adjoint():
    """RelativeMeanSquareError with an output neuron that never spikes (the correct one in
    one example, a wrong one in the other): as mlGeNN's, it counts as ``t = 0``."""
    from irsnn.losses import RelativeMeanSquareError
    rng = np.random.default_rng(21)
    w_in = rng.normal(1.5, 1.0, (N_IN, N_HID))
    w_out = rng.normal(1.2, 0.8, (N_HID, N_OUT))
    w_out[:, 1] = -1.0
    steps, data = make_inputs(2, 13, rate=0.2)
    ref = Model(w_in, w_out, None, lif_out=True)
    first, spiked = ref.first_spike_times(ref.forward(steps))
    assert not spiked[:, 1].any() and spiked[:, [0, 2]].all()
    labels = np.array([1, 0])
    cn, inp, out = build(w_in, None, w_out, "first_spike_time", RelativeMeanSquareError(2.0),
                         False, batch=2, lif_out=True)
    with cn:
        grads = cn.compute_gradients({inp: data}, {out: labels})
    g_in, _, g_out = ref.ttfs_gradients(steps, labels, 2.0)
    _check(grads, g_in, None, g_out, False)
