"""(b) Against an exact event-based continuous-time simulation (:mod:`.continuous_reference`):
its continuous EventProp gradients equal its own finite differences (perturbations too small
to add or remove a spike) at rtol 1e-4, and irsnn's discrete-time EventProp gradients converge
to them as ``dt`` shrinks.

Measured (this network, float64): relative error of irsnn's gradients (all weights)
0.26 at dt = 1 ms, 0.041 at dt = 0.1 ms, 0.0031 at dt = 0.01 ms: first order in ``dt`` (0.31,
0.032, 0.0026 with the continuous-time arrival term ``c LambdaV / TauM - LambdaI / TauSyn``).

The same for a LIF output with the ``first_spike_time`` readout and mlGeNN's
``RelativeMeanSquareError(1.0)`` (:class:`.continuous_reference.ContinuousTtfsNet`), two cases
(all outputs spike; a wrong output never spikes): relative error 1.03, 0.074, 0.0065 and
0.29, 0.065, 0.0020 at dt = 1, 0.1, 0.01 ms.
"""

from __future__ import annotations

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.compilers import EventPropCompiler
from irsnn.compilers.event_prop_compiler import default_params
from irsnn.connectivity import Dense
from irsnn.losses import RelativeMeanSquareError
from irsnn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from irsnn.synapses import Exponential
from irsnn.utils.data import preprocess_spikes

from .continuous_reference import ContinuousNet, ContinuousTtfsNet

LABEL = 1


def case():
    rng = np.random.default_rng(0)
    w_in = rng.normal(1.5, 1.0, (4, 6))
    w_out = rng.normal(0.0, 1.0, (6, 3))
    inputs = sorted((float(t), int(i)) for t, i in zip(rng.uniform(0, 20, 16),
                                                       rng.integers(0, 4, 16)))
    return w_in, w_out, inputs


def test_continuous_adjoint_equals_its_finite_differences():
    w_in, w_out, inputs = case()
    net = ContinuousNet(w_in, w_out)
    counts = [len(s) for s in net.hidden_spikes(inputs)]
    assert sum(counts) >= 10
    g_in, g_out = net.gradients(inputs, LABEL)
    h = 1e-6
    rng = np.random.default_rng(1)
    for which, grad, shape in (("in", g_in, w_in.shape), ("out", g_out, w_out.shape)):
        chosen = rng.choice(int(np.prod(shape)), 6, replace=False)
        for idx in (np.unravel_index(k, shape) for k in chosen):
            fd = 0.0
            for sign in (1, -1):
                wi, wo = w_in.copy(), w_out.copy()
                (wi if which == "in" else wo)[idx] += sign * h
                other = ContinuousNet(wi, wo)
                assert [len(s) for s in other.hidden_spikes(inputs)] == counts
                fd += sign * other.loss(inputs, LABEL) / (2 * h)
            np.testing.assert_allclose(grad[idx], fd, rtol=1e-4, atol=1e-8)


def irsnn_gradients(w_in, w_out, inputs, dt, label=None, output=None, loss=None):
    """irsnn's EventProp gradients (``in_hid`` then ``hid_out``, flattened) of the 4-N-3
    network of ``w_in``/``w_out`` at step ``dt`` (reference backend, float64): by default
    the ``avg_var`` cross-entropy output of :class:`ContinuousNet`; ``output`` (a function
    making the output neuron inside the network, where ``default_params`` apply) and ``loss``
    replace it (the time-to-first-spike case)."""
    label = LABEL if label is None else label
    net = Network(default_params)
    with net:
        i = Population(SpikeInput(max_spikes=100), 4)
        h = Population(LeakyIntegrateFire(tau_mem=20.0), w_in.shape[1])
        o = Population(output() if output else
                       LeakyIntegrate(tau_mem=20.0, readout="avg_var"), 3)
        Connection(i, h, Dense(w_in), Exponential(5.0), name="in_hid")
        Connection(h, o, Dense(w_out), Exponential(5.0), name="hid_out")
    cn = EventPropCompiler(int(round(30 / dt)), loss or "sparse_categorical_crossentropy",
                           dt=dt, precision="double", backend="reference").compile(net)
    times = np.array([t for t, _ in inputs])
    ids = np.array([n for _, n in inputs])
    with cn:
        g = cn.compute_gradients({i: [preprocess_spikes(times, ids, 4)]},
                                 {o: np.array([label])})
    return np.concatenate([g["in_hid"].ravel(), g["hid_out"].ravel()])


@pytest.mark.slow
def test_discrete_gradients_converge_to_continuous_ones():
    w_in, w_out, inputs = case()
    g_in, g_out = ContinuousNet(w_in, w_out).gradients(inputs, LABEL)
    exact = np.concatenate([g_in.ravel(), g_out.ravel()])
    errors = [np.linalg.norm(irsnn_gradients(w_in, w_out, inputs, dt) - exact)
              / np.linalg.norm(exact) for dt in (1.0, 0.1, 0.01)]
    print("relative errors of the gradients at dt = 1, 0.1, 0.01 ms:", errors)
    assert errors[0] > errors[1] > errors[2]
    assert errors[1] < 0.06 and errors[2] < 0.006
    # first order: each tenfold smaller step cuts the error at least fivefold
    assert errors[1] < errors[0] / 5 and errors[2] < errors[1] / 5


# -- time-to-first-spike output with mlGeNN's relative mean-square error ---------------------
# (label, case seed): every output spikes; output 1 never spikes (a wrong neuron counted as 0)
TTFS_CASES = ((1, 2), (0, 3))
DELTA = 1.0


def ttfs_case(seed):
    rng = np.random.default_rng(seed)
    w_in = rng.normal(1.5, 0.78, (4, 8))
    w_out = rng.normal(0.9, 0.5, (8, 3))
    inputs = sorted((float(t), int(i)) for t, i in zip(rng.uniform(0, 20, 8),
                                                       rng.integers(0, 4, 8)))
    return w_in, w_out, inputs


@pytest.mark.parametrize("label, seed", TTFS_CASES)
def test_ttfs_continuous_adjoint_equals_its_finite_differences(label, seed):
    w_in, w_out, inputs = ttfs_case(seed)
    net = ContinuousTtfsNet(w_in, w_out, delta=DELTA)
    counts = [len(s) for s in net.hidden_spikes(inputs)]
    silent = [f is None for f in net.output_first_spikes(inputs)]
    assert sum(counts) >= 8 and silent == [False, seed == 3, False]
    g_in, g_out = net.gradients(inputs, label)
    assert np.abs(g_in).max() > 1.0 and np.abs(g_out).max() > 1.0
    h = 1e-6
    rng = np.random.default_rng(1)
    for which, grad, shape in (("in", g_in, w_in.shape), ("out", g_out, w_out.shape)):
        chosen = rng.choice(int(np.prod(shape)), 6, replace=False)
        for idx in (np.unravel_index(k, shape) for k in chosen):
            fd = 0.0
            for sign in (1, -1):
                wi, wo = w_in.copy(), w_out.copy()
                (wi if which == "in" else wo)[idx] += sign * h
                other = ContinuousTtfsNet(wi, wo, delta=DELTA)
                assert [len(s) for s in other.hidden_spikes(inputs)] == counts
                assert [f is None for f in other.output_first_spikes(inputs)] == silent
                fd += sign * other.loss(inputs, label) / (2 * h)
            np.testing.assert_allclose(grad[idx], fd, rtol=1e-4, atol=1e-6)


def irsnn_ttfs_gradients(w_in, w_out, inputs, label, dt):
    """:func:`irsnn_gradients` of :class:`ContinuousTtfsNet`'s output and loss."""
    return irsnn_gradients(w_in, w_out, inputs, dt, label, output=lambda: LeakyIntegrateFire(
        tau_mem=20.0, readout="first_spike_time"), loss=RelativeMeanSquareError(DELTA))


@pytest.mark.slow
@pytest.mark.parametrize("label, seed", TTFS_CASES)
def test_ttfs_discrete_gradients_converge_to_continuous_ones(label, seed):
    w_in, w_out, inputs = ttfs_case(seed)
    g_in, g_out = ContinuousTtfsNet(w_in, w_out, delta=DELTA).gradients(inputs, label)
    exact = np.concatenate([g_in.ravel(), g_out.ravel()])
    errors = [np.linalg.norm(irsnn_ttfs_gradients(w_in, w_out, inputs, label, dt) - exact)
              / np.linalg.norm(exact) for dt in (1.0, 0.1, 0.01)]
    print(f"TTFS RMSE case {seed}: relative error at dt = 1, 0.1, 0.01 ms: "
          + ", ".join(f"{e:.3g}" for e in errors))
    assert errors[0] > errors[1] > errors[2]
    assert errors[1] < 0.1 and errors[2] < 0.01
    # first order: each tenfold smaller step cuts the error at least fivefold
    assert errors[1] < errors[0] / 4 and errors[2] < errors[1] / 5
