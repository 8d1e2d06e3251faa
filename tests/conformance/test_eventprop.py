"""EventProp training on every backend against the reference: gradients of a batch (double
precision: the same equations, the reference advancing in closed form between events in
float64, the kernels step by step, so agreement to rounding; float: to float tolerance), the
weights after a few Adam steps, spike-buffer overflow, and the CUDA source compiled by NVRTC.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.compilers import EventPropCompiler
from irsnn.compilers.event_prop_compiler import default_params
from irsnn.connectivity import Dense, FixedProbability
from irsnn.errors import InputError, ModelError
from irsnn.losses import RelativeMeanSquareError
from irsnn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from irsnn.synapses import Exponential
from irsnn.utils.data import preprocess_spikes

from .conftest import nvrtc_check

T = 30


def _network(readout, recurrent, sparse, silent=False):
    rng = np.random.default_rng(1)
    net = Network(default_params)
    ttfs = readout == "first_spike_time"
    with net:
        i = Population(SpikeInput(max_spikes=200), 6, name="input")
        h = Population(LeakyIntegrateFire(tau_mem=10.0), 8, name="hidden")
        o = Population((LeakyIntegrateFire if ttfs else LeakyIntegrate)(
            readout=readout, tau_mem=10.0), 3, name="output")
        Connection(i, h, FixedProbability(0.6, 2.0) if sparse else
                   Dense(rng.normal(1.5, 0.8, (6, 8))), Exponential(5.0), name="in_hid")
        if recurrent:
            Connection(h, h, FixedProbability(0.5, 0.3) if sparse else
                       Dense(rng.normal(0, 0.4, (8, 8))), Exponential(5.0), name="hid_hid")
        w_out = rng.normal(1.5 if ttfs else 0.0, 1.0 if ttfs else 0.5, (8, 3))
        if silent:          # output neuron 2 never fires
            w_out[:, 2] = -1.0
        Connection(h, o, Dense(w_out), Exponential(5.0), name="hid_out")
    return net, i, o


def _data(n, seed=0):
    rng = np.random.default_rng(seed)
    xs = []
    for _ in range(n):
        t = np.sort(rng.uniform(0, 25, 30))
        xs.append(preprocess_spikes(t, rng.integers(0, 6, 30), 6))
    return xs, rng.integers(0, 3, n)


def _compile(backend, readout, recurrent, sparse, precision, silent=False, losses=None,
             **kw):
    net, i, o = _network(readout, recurrent, sparse, silent)
    loss = losses or (RelativeMeanSquareError(2.0) if readout == "first_spike_time"
                      else "sparse_categorical_crossentropy")
    c = EventPropCompiler(T, loss, backend=backend, precision=precision, **kw)
    return c.compile(net), i, o


# feed-forward and recurrent, dense and ragged, every readout of the kernels
CASES = [("sum_var", False, False), ("avg_var", True, False), ("max_var", True, True),
         ("sum_var", False, True), ("first_spike_time", True, False),
         ("avg_var_exp_weight", True, True)]


@pytest.mark.parametrize("readout,recurrent,sparse", CASES)
def test_gradients_and_training_match_reference(backend, readout, recurrent, sparse):
    # 8 examples in batches of 5 (the backward pass's lanes of 2, 2 and 1 elements): a full
    # batch, then a partial (padded) one
    x, y = _data(8)
    runs = {}
    for be in ("reference", backend):
        cn, i, o = _compile(be, readout, recurrent, sparse, "double", batch_size=5)
        with cn:
            w0 = {k: cn.simulation.get_weights(k) for k in ("in_hid", "hid_out")}
            g = cn.compute_gradients({i: x[:5]}, {o: y[:5]})
            cn.train({i: x}, {o: y}, num_epochs=2, shuffle=False, callbacks=[])
            w = {k: cn.simulation.get_weights(k) for k in g}
        runs[be] = g, w
        for k, before in w0.items():   # the optimiser steps moved the weights
            assert np.abs(w[k] - before).max() > 1e-4, k
        if be == "reference" and backend == "reference":
            nvrtc_check(cn.ir)
    (g_ref, w_ref), (g, w) = runs["reference"], runs[backend]
    assert set(g) == {"in_hid", "hid_out"} | ({"hid_hid"} if recurrent else set())
    for k in g_ref:
        assert np.abs(g_ref[k]).max() > 1e-3, k   # the case trains every connection
        np.testing.assert_allclose(g[k], g_ref[k], rtol=1e-9,
                                   atol=1e-12 * np.abs(g_ref[k]).max(), err_msg=k)
        np.testing.assert_allclose(w[k], w_ref[k], rtol=1e-9, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("readout", ["avg_var_exp_weight", "first_spike_time"])
def test_spike_count_regularisation_matches_reference(backend, readout):
    """mlGeNN's regulariser (strengths and target of its SHD example's order, scaled to this
    network's counts) on a recurrent hidden layer: the upper strength for neurons above the
    target, the lower for the others, both present in the batch."""
    x, y = _data(5, seed=3)
    reg = dict(reg_lambda_upper=4e-3, reg_lambda_lower=1e-3, reg_nu_upper=2)
    grads, counts = {}, {}
    for be in ("reference", backend):
        cn, i, o = _compile(be, readout, True, False, "double", batch_size=5, **reg)
        with cn:
            grads[be] = cn.compute_gradients({i: x}, {o: y})
        counts[be] = _eventprop(cn.simulation).spike_counts
    plain, pi, po = _compile("reference", readout, True, False, "double", batch_size=5)
    with plain:
        g_plain = plain.compute_gradients({pi: x}, {po: y})
    assert counts[backend] == counts["reference"]
    for k, g_ref in grads["reference"].items():
        assert np.abs(g_ref).max() > 1e-3, k
        np.testing.assert_allclose(grads[backend][k], g_ref, rtol=1e-9,
                                   atol=1e-12 * np.abs(g_ref).max(), err_msg=k)
    # the regulariser moved the hidden layer's input gradients
    assert np.abs(grads["reference"]["in_hid"] - g_plain["in_hid"]).max() > 1e-6


@pytest.mark.parametrize("per_step", [False, True], ids=["targets", "step-targets"])
def test_mean_square_error_of_var_readout_matches_reference(backend, per_step):
    """mlGeNN's pattern_recognition setup in small: a ``var`` readout, the mean-square error
    at every step (one target per example, or one per step), the regulariser; a partial
    batch (3 of 4 rows)."""
    rng = np.random.default_rng(5)
    x, _ = _data(3, seed=6)
    y = rng.normal(0.0, 1.0, (3, T, 3) if per_step else (3, 3))
    _assert_batch_gradients_match(backend, "var", x, y, "mean_square_error",
                                  reg_lambda_upper=1e-3, reg_lambda_lower=1e-3, reg_nu_upper=1)


def _assert_batch_gradients_match(backend, readout, x, y, loss, **options):
    """The gradients of one batch (4 rows, ``len(x)`` of them examples) of the recurrent
    dense network with ``readout`` and ``loss`` on ``backend`` equal the reference's."""
    grads = {}
    for be in ("reference", backend):
        net, i, o = _network(readout, True, False)
        c = EventPropCompiler(T, loss, backend=be, precision="double", batch_size=4,
                              **options)
        with c.compile(net) as cn:
            grads[be] = cn.compute_gradients({i: x}, {o: y})
            if be == "reference" == backend:
                nvrtc_check(cn.ir)
    for k, g_ref in grads["reference"].items():
        assert np.abs(g_ref).max() > 1e-3, k
        np.testing.assert_allclose(grads[backend][k], g_ref, rtol=1e-9,
                                   atol=1e-12 * np.abs(g_ref).max(), err_msg=k)


@pytest.mark.parametrize("readout", ["sum_var", "avg_var"])
def test_per_timestep_cross_entropy_matches_reference(backend, readout):
    """mlGeNN's ``per_timestep_loss``: the cross-entropy of the output at every step, with a
    softmax temperature; a partial batch (3 of 4 rows)."""
    x, y = _data(3, seed=7)
    _assert_batch_gradients_match(backend, readout, x, y, "sparse_categorical_crossentropy",
                                  per_timestep_loss=True, softmax_temperature=0.5)


@pytest.mark.parametrize("loss", ["relative_mean_square_error", "cross_entropy"])
def test_time_to_first_spike_with_silent_outputs_matches_reference(backend, loss):
    """mlGeNN's time-to-first-spike losses with an output neuron that never fires, as the
    correct neuron of some examples and a wrong one of the others: the relative mean-square
    error (counted as t = 0, no dL/dt of its own) and the cross-entropy (left out of the
    softmax; mlGeNN's phantom push where it is the correct one)."""
    x, y = _data(5, seed=2)
    y[:2] = 2
    grads = {}
    kw = ({} if loss == "relative_mean_square_error" else
          dict(losses="sparse_categorical_crossentropy", ttfs_alpha=0.05,
               softmax_temperature=2.0))
    for be in ("reference", backend):
        cn, i, o = _compile(be, "first_spike_time", False, False, "double", silent=True,
                            batch_size=5, **kw)
        with cn:
            grads[be] = cn.compute_gradients({i: x}, {o: y})
            first = cn.simulation.get_var("pop.output", "TFirstSpike")
        assert np.isinf(first[:, 2]).all() and np.isfinite(first[:, :2]).all()
    for k, g_ref in grads["reference"].items():
        assert np.abs(g_ref).max() > 1e-3, k
        np.testing.assert_allclose(grads[backend][k], g_ref, rtol=1e-9,
                                   atol=1e-12 * np.abs(g_ref).max(), err_msg=k)


@pytest.mark.parametrize("readout,recurrent,sparse", CASES[1:3] + CASES[4:])
def test_float_gradients_match_reference(backend, readout, recurrent, sparse):
    x, y = _data(3, seed=4)
    grads = {}
    for be in ("reference", backend):
        cn, i, o = _compile(be, readout, recurrent, sparse, "float", batch_size=3)
        with cn:
            grads[be] = cn.compute_gradients({i: x}, {o: y})
    for k, ref in grads["reference"].items():
        scale = np.abs(ref).max()
        np.testing.assert_allclose(grads[backend][k], ref, rtol=1e-4, atol=1e-5 * scale,
                                   err_msg=k)


def test_kernel_backends_agree_bit_for_bit(backend):
    """The kernel backends run the same program in the same order; with the time-to-first-spike
    loss every operation of forward and backward pass is a correctly rounded +, -, * or / (the
    decays are host constants, no exp), so float32 gradients agree with C's bit for bit."""
    from irsnn.backends import available_backends
    if backend in ("reference", "c") or not available_backends()["c"][0]:
        pytest.skip("compares another kernel backend with the C backend")
    x, y = _data(3, seed=4)
    grads = {}
    for be in ("c", backend):
        cn, i, o = _compile(be, "first_spike_time", True, False, "float", batch_size=3)
        with cn:
            grads[be] = cn.compute_gradients({i: x}, {o: y})
    for k, ref in grads["c"].items():
        assert np.abs(ref).max() > 1e-3, k
        np.testing.assert_array_equal(grads[backend][k], ref, err_msg=k)


def _busy(backend, max_spikes, strict):
    """Two input spikes make the 'busy' neurons spike 5+ times each."""
    net = Network(default_params)
    with net:
        i = Population(SpikeInput(max_spikes=100), 2, name="input")
        h = Population(LeakyIntegrateFire(tau_mem=5.0), 3, name="busy")
        o = Population(LeakyIntegrate(readout="sum_var"), 2, name="output")
        Connection(i, h, Dense(np.array([[30.0, 20.0, 25.0], [1.0, 1.0, 1.0]])),
                   Exponential(5.0))
        Connection(h, o, Dense(np.array([[0.5, -0.2], [0.1, 0.3], [-0.4, 0.2]])),
                   Exponential(5.0))
    c = EventPropCompiler(30, "sparse_categorical_crossentropy", max_spikes=max_spikes,
                          strict_buffer_checking=strict, backend=backend, precision="double",
                          batch_size=2)
    x = {i: [preprocess_spikes(np.array([0.5, 1.5]), np.array([0, 1]), 2)] * 2}
    return c.compile(net), x, {o: np.array([1, 0])}


def _eventprop(sim):
    """The object holding ``dropped`` and ``spike_counts`` (reference or kernels)."""
    return sim.learning.eventprop if hasattr(sim, "learning") else sim.eventprop


def test_strict_buffer_overflow_names_the_population(backend):
    cn, x, y = _busy(backend, 3, strict=True)
    with cn, pytest.raises(InputError, match="'busy'.*max_spikes=3"):
        cn.compute_gradients(x, y)


def test_lenient_buffer_overflow_drops_as_reference(backend):
    out = {}
    for be in ("reference", backend):
        cn, x, y = _busy(be, 3, strict=False)
        with cn, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            g = cn.compute_gradients(x, y)
            ep = _eventprop(cn.simulation)
            assert cn.dropped_spikes == ep.dropped
            out[be] = g, dict(ep.dropped), dict(ep.spike_counts)
        assert any("max_spikes" in str(w.message) for w in caught)
    (g_ref, d_ref, c_ref), (g, d, c) = out["reference"], out[backend]
    assert d == d_ref and d["busy"] > 0
    assert c == c_ref
    for k in g_ref:
        np.testing.assert_allclose(g[k], g_ref[k], rtol=1e-9, atol=1e-12, err_msg=k)


def test_kernel_backends_refuse_readouts_they_lack(backend, monkeypatch):
    """A readout/loss pair outside ``backends.kernels.eventprop.SUPPORTED`` (here max_var,
    taken out of it) is refused when compiling for a kernel backend, with the reason."""
    if backend == "reference":
        pytest.skip("the reference backend implements every EventProp readout")
    from irsnn.backends.kernels import eventprop
    monkeypatch.setattr(eventprop, "SUPPORTED", tuple(
        pair for pair in eventprop.SUPPORTED if pair[0] != "max_var"))
    with pytest.raises(ModelError, match="'output'.*'max_var'.*no EventProp kernels on backend"):
        _compile(backend, "max_var", False, False, "float")
    _compile(backend, "sum_var", False, False, "float")   # the others still compile
    # (options the kernels do not build: tests/event_prop/test_delays.py)


def test_kernel_source_does_not_depend_on_the_hash_seed():
    """The generated source of a model is the same in every process (the compiled-kernel
    caches are keyed on it): nothing is emitted in the order of a set of strings."""
    import subprocess
    import sys
    code = ("from tests.conformance.test_eventprop import _compile\n"
            "from irsnn.backends.cuda import _source\n"
            "from irsnn.backends.kernels import KernelBuilder\n"
            "from irsnn.backends.c.source import c_source\n"
            "cn, _, _ = _compile('reference', 'sum_var', True, False, 'double', batch_size=5)\n"
            "print(c_source(KernelBuilder(cn.ir).build(), 'm', False) + _source(cn.ir, 32))\n")
    root = __file__.rsplit("/tests/", 1)[0]
    out = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=root, env={**__import__("os").environ,
                                                     "PYTHONHASHSEED": str(seed)}).stdout
           for seed in (0, 6, 11, 17)}    # (0 and 6 ordered a set of two strings apart)
    assert len(out) == 1 and "irsnn_end_example" in next(iter(out))
