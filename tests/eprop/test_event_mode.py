"""``gradient_mode="event"``: exact e-prop gradients from spikes and backward sequences.

* event gradients equal online gradients with eligibility traces reset per example (the
  online recursion of ``insert-eprop``), in float64 to rtol 1e-5, on every available backend,
  over LIF/ALIF, feed-forward/recurrent, dense/sparse, one or two hidden layers, both losses,
  signed input spikes and a strong firing-rate regulariser, over several batches;
* a training step of the C backend's fused optimiser (gradients summed straight from spike
  bits) equals Adam applied to ``compute_gradients`` (the materialised path);
* bad inputs: running past ``example_timesteps`` with learning on.
"""

from __future__ import annotations

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.backends import available_backends
from irsnn.compilers import EPropCompiler
from irsnn.connectivity import Dense, FixedProbability
from irsnn.errors import InputError
from irsnn.initializers import Normal
from irsnn.neurons import (AdaptiveLeakyIntegrateFire, BinarySpikeInput, LeakyIntegrate,
                           LeakyIntegrateFire, SpikeInput)
from irsnn.optimisers import Adam
from irsnn.utils.data import preprocess_spikes

N_IN, N_HID, N_OUT, T = 12, 10, 3, 25
ALL_BACKENDS = ["reference", "c", "opencl", "cuda"]


def _backend(name):
    ok, why = available_backends()[name]
    if not ok:
        pytest.skip(f"backend {name!r} unavailable: {why}")
    return name


def build(hidden="alif", recurrent=True, sparse=False, two_layers=False, signed=False,
          seed=3, delay=0):
    """A network with weights large enough that every layer spikes."""
    cell = (lambda: AdaptiveLeakyIntegrateFire(v_thresh=0.5, tau_refrac=2.0, beta=0.3,
                                               tau_adapt=50.0)) if hidden == "alif" else \
        (lambda: LeakyIntegrateFire(v_thresh=0.5, tau_refrac=2.0))
    net = Network()
    with net:
        if signed:
            inp = Population(BinarySpikeInput(signed_spikes=True, input_frames=T), N_IN,
                             name="input")
        else:
            inp = Population(SpikeInput(max_spikes=4000), N_IN, name="input")
        h = Population(cell(), N_HID, name="hidden")
        conn = (lambda p, sd, d=0: FixedProbability(p, Normal(sd=sd), delay=d)) if sparse \
            else (lambda p, sd, d=0: Dense(Normal(sd=sd), delay=d))
        Connection(inp, h, conn(0.4, 0.8, delay), name="ih")
        last = h
        if two_layers:
            h2 = Population(cell(), N_HID, name="hidden2")
            Connection(h, h2, conn(0.5, 0.9), name="h12")
            last = h2
        if recurrent:
            Connection(last, last, conn(0.3, 0.4), name="rec")
        out = Population(LeakyIntegrate(tau_mem=10.0, readout="sum_var"), N_OUT, name="out")
        Connection(last, out, Dense(Normal(sd=0.5)), name="ho")
    return net, inp, out


def inputs(rng, n, signed):
    if signed:
        return rng.choice([-1.0, 0.0, 0.0, 1.0], size=(n, T, N_IN)).astype(np.float32)
    out = []
    for _ in range(n):
        steps, ids = np.nonzero(rng.random((T - 1, N_IN)) < 0.2)
        out.append(preprocess_spikes(steps.astype(float), ids, N_IN))
    return out


def gradients(backend, mode, batches, loss, **model):
    net, inp, out = build(**model)
    compiler = EPropCompiler(example_timesteps=T, losses=loss, batch_size=2, c_reg=0.05,
                             f_target=20.0, precision="double", backend=backend, rng_seed=5,
                             gradient_mode=mode,
                             reset_traces_between_examples=mode == "online")
    compiled = compiler.compile(net)
    rng = np.random.default_rng(11)
    out_grads = []
    with compiled:
        for n in batches:
            x = inputs(rng, n, model.get("signed", False))
            y = (rng.integers(0, N_OUT, n) if loss == "sparse_categorical_crossentropy"
                 else rng.normal(0.0, 1.0, (n, N_OUT)))
            out_grads.append(compiled.compute_gradients({inp: x}, {out: y}))
    return out_grads


CASES = {
    "alif-rec": dict(hidden="alif"),
    "lif-rec": dict(hidden="lif"),
    "alif-ff": dict(hidden="alif", recurrent=False),
    "alif-sparse": dict(hidden="alif", sparse=True),
    "lif-sparse-ff": dict(hidden="lif", sparse=True, recurrent=False),
    "two-layers": dict(hidden="alif", two_layers=True),
    "two-layers-sparse-lif": dict(hidden="lif", two_layers=True, sparse=True),
    "signed-input": dict(hidden="alif", signed=True),
    "input-delay-3": dict(hidden="lif", delay=3),
    "sparse-input-delay-2": dict(hidden="alif", sparse=True, delay=2),
}


@pytest.mark.parametrize("backend", ALL_BACKENDS)
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("loss", ["sparse_categorical_crossentropy", "mean_square_error"],
                         ids=["scce", "mse"])
def test_event_equals_online_with_reset_traces(backend, case, loss):
    backend = _backend(backend)
    # three batches, the last partial: neuron state carries over, traces restart
    event = gradients(backend, "event", (2, 2, 1), loss, **CASES[case])
    online = gradients(backend, "online", (2, 2, 1), loss, **CASES[case])
    active = set()
    for ge, go in zip(event, online):
        assert set(ge) == set(go)
        for k in ge:
            scale = max(np.abs(go[k]).max(), 1e-12)
            np.testing.assert_allclose(ge[k], go[k], rtol=1e-5, atol=1e-9 * scale,
                                       err_msg=f"{case} {k}")
            if np.abs(go[k]).max() > 0:
                active.add(k)
    # every trained connection got a gradient somewhere (the case exercises everything)
    assert active == set(event[0]), sorted(set(event[0]) - active)


@pytest.mark.parametrize("backend", ["reference", "c"])
@pytest.mark.parametrize("case", ["alif-rec", "alif-sparse", "dense-mask"])
@pytest.mark.parametrize("batch", [1, 3])
def test_training_step_is_adam_on_the_gradients(backend, case, batch):
    """One ``train`` batch (C: gradients summed by the fused optimiser kernels from spike
    bits, never materialised) moves every weight exactly as Adam applied to the gradients of
    ``compute_gradients`` on a twin network (materialised), within float64 rounding."""
    backend = _backend(backend)
    model = {"alif-rec": dict(), "alif-sparse": dict(sparse=True),
             "dense-mask": dict(sparse=True)}[case]
    rng = np.random.default_rng(2)
    n = 2 if batch == 3 else 1  # a partial batch for batch 3
    x = inputs(rng, n, False)
    y = rng.integers(0, N_OUT, n)
    adam = dict(alpha=0.01, beta1=0.8, beta2=0.95, epsilon=1e-6)
    nets = []
    for _ in range(2):
        net, inp, out = build(**model)
        if case == "dense-mask":  # FixedProbability stored dense: absent synapses stay zero
            for c in net.connections:
                if c.connectivity.__class__.__name__ == "FixedProbability":
                    c.connectivity.layout = "dense"
        compiled = EPropCompiler(example_timesteps=T, losses="sparse_categorical_crossentropy",
                                 batch_size=batch, precision="double", backend=backend,
                                 optimiser=Adam(**adam), rng_seed=5).compile(net)
        nets.append((compiled, inp, out))
    (trained, inp_a, out_a), (twin, inp_b, out_b) = nets
    with twin:
        before = {c: twin.simulation.get_weights(c) for c in ("ih", "rec", "ho")}
        grads = twin.compute_gradients({inp_b: x}, {out_b: y})
    with trained:
        trained.train({inp_a: x}, {out_a: y}, num_epochs=1, shuffle=False, callbacks=[])
        after = {c: trained.simulation.get_weights(c) for c in ("ih", "rec", "ho")}
    scale1, scale2 = 1 / (1 - adam["beta1"]), 1 / (1 - adam["beta2"])
    moved = False
    for name in ("ih", "rec", "ho"):
        g = grads[name]
        m, v = (1 - adam["beta1"]) * g, (1 - adam["beta2"]) * g * g
        want = before[name] - adam["alpha"] * m * scale1 / (np.sqrt(v * scale2)
                                                            + adam["epsilon"])
        exists = before[name] != 0
        want = np.where(exists, want, 0.0)
        np.testing.assert_allclose(after[name], want, rtol=1e-9, atol=1e-12, err_msg=name)
        assert np.all(after[name][~exists] == 0), f"{name}: an absent synapse was trained"
        moved |= bool(np.any(after[name] != before[name]))
    assert moved


@pytest.mark.parametrize("backend", ["reference", "c"])
def test_running_past_example_timesteps_with_learning_is_an_error(backend):
    backend = _backend(backend)
    net, inp, out = build()
    compiled = EPropCompiler(example_timesteps=5, losses="sparse_categorical_crossentropy",
                             backend=backend).compile(net)
    with compiled:
        sim = compiled.simulation
        compiled.set_input({inp: [preprocess_spikes(np.array([0.0, 2.0]), np.array([1, 3]),
                                                     N_IN)]})
        compiled._set_labels({out: np.array([1])}, 1)
        sim.learning_enabled = True
        sim.run(5)
        with pytest.raises(InputError, match="5 timesteps per example"):
            sim.run(1)
        sim.end_example()
        sim.run(3)  # a new example has room again


# -- memory budget: batches simulated in chunks ----------------------------------------------
def _chunk_pair(backend, batch, chunk, **kw):
    """Two compiled twins (float64): the whole batch at once, and chunks of ``chunk``
    examples forced by ``event_memory_budget_mb``."""
    out = []
    for budget_chunk in (None, chunk):
        net, inp, out_pop = build()
        compiler = EPropCompiler(example_timesteps=T, losses="sparse_categorical_crossentropy",
                                 batch_size=batch, precision="double", backend=backend,
                                 rng_seed=5, reset_vars_between_examples=True, c_reg=0.05, **kw)
        if budget_chunk is not None:
            per_example = compiler.event_bytes_per_example(compiler.build_ir(net))
            compiler.event_memory_budget_mb = per_example * (budget_chunk + 0.5) / 1e6
        out.append((compiler.compile(net), inp, out_pop))
    return out


@pytest.mark.parametrize("backend", ["reference", "c"])
def test_chunked_batches_train_as_whole_batches(backend):
    """A batch of 5 simulated 2 examples at a time (the last chunk partial) takes the same
    optimiser steps as the whole batch at once: state reset per batch, so only rounding of
    the summation order differs."""
    backend = _backend(backend)
    (whole, inp_w, out_w), (chunked, inp_c, out_c) = _chunk_pair(backend, 5, 2)
    assert whole.batch_size == 5 and chunked.batch_size == 2
    assert chunked.training_batch_size == 5
    rng = np.random.default_rng(4)
    x = inputs(rng, 10, False)
    y = rng.integers(0, N_OUT, 10)
    with whole, chunked:
        m_w, _ = whole.train({inp_w: x}, {out_w: y}, num_epochs=2, shuffle=False, callbacks=[])
        m_c, _ = chunked.train({inp_c: x}, {out_c: y}, num_epochs=2, shuffle=False,
                               callbacks=[])
        assert m_w[out_w].total == m_c[out_c].total == 10
        assert m_w[out_w].correct == m_c[out_c].correct
        assert whole.optimiser_step == chunked.optimiser_step == 4
        for name in ("ih", "rec", "ho"):
            w0 = whole.simulation.get_weights(name)
            np.testing.assert_allclose(chunked.simulation.get_weights(name), w0, rtol=1e-9,
                                       atol=1e-12, err_msg=name)


def test_chunked_compute_gradients_match():
    (whole, inp_w, out_w), (chunked, inp_c, out_c) = _chunk_pair("reference", 4, 3)
    rng = np.random.default_rng(8)
    x = inputs(rng, 4, False)
    y = rng.integers(0, N_OUT, 4)
    with whole, chunked:
        g_w = whole.compute_gradients({inp_w: x}, {out_w: y})
        g_c = chunked.compute_gradients({inp_c: x}, {out_c: y})
    for k in g_w:
        np.testing.assert_allclose(g_c[k], g_w[k], rtol=1e-9, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("kwargs, match", [
    (dict(gradient_mode="online", event_memory_budget_mb=10.0), "applies to gradient_mode"),
    (dict(event_memory_budget_mb=0.0), "must be > 0"),
    (dict(event_memory_budget_mb=-1.0), "must be > 0"),
])
def test_bad_memory_budgets(kwargs, match):
    from irsnn.errors import ModelError
    with pytest.raises(ModelError, match=match):
        EPropCompiler(example_timesteps=T, losses="sparse_categorical_crossentropy", **kwargs)


@pytest.mark.parametrize("backend", ["reference", "c"])
def test_optimiser_state_survives_a_rebuild(backend):
    """A callback that adds a recorder rebuilds the simulation between two ``train`` calls;
    the device optimiser's moments carry over, so the weights equal those of a twin that had
    the recorder from the start."""
    from irsnn.callbacks import SpikeRecorder
    backend = _backend(backend)
    rng = np.random.default_rng(6)
    x = inputs(rng, 4, False)
    y = rng.integers(0, N_OUT, 4)
    weights = []
    for rebuild in (True, False):
        net, inp, out = build()
        hidden = next(p for p in net.populations if p.name == "hidden")
        compiled = EPropCompiler(example_timesteps=T, losses="sparse_categorical_crossentropy",
                                 batch_size=2, precision="double", backend=backend,
                                 rng_seed=5, optimiser=Adam(alpha=0.01)).compile(net)
        with compiled:
            first = [] if rebuild else [SpikeRecorder(hidden, key="s")]
            compiled.train({inp: x}, {out: y}, num_epochs=1, shuffle=False, callbacks=first)
            compiled.train({inp: x}, {out: y}, num_epochs=1, shuffle=False,
                           callbacks=[SpikeRecorder(hidden, key="s")])
            weights.append({c: compiled.simulation.get_weights(c) for c in ("ih", "rec", "ho")})
    for c in weights[0]:
        np.testing.assert_array_equal(weights[0][c], weights[1][c], err_msg=c)


@pytest.mark.parametrize("backend", ["reference", "c"])
def test_kernel_profiling_times_the_end_of_example_and_the_optimiser(backend):
    backend = _backend(backend)
    net, inp, out = build()
    compiled = EPropCompiler(example_timesteps=T, losses="sparse_categorical_crossentropy",
                             backend=backend, kernel_profiling=True).compile(net)
    rng = np.random.default_rng(0)
    with compiled:
        compiled.train({inp: inputs(rng, 2, False)}, {out: np.array([0, 2])}, num_epochs=1,
                       callbacks=[])
        times = compiled.kernel_times
    assert times["end-of-example"] > 0 and times["optimiser"] > 0
