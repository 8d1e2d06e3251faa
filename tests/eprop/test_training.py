"""The training API: Adam, optimiser schedules, checkpoints, callbacks, validation,
determinism and connectivity export."""

from __future__ import annotations

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.callbacks import Callback, Checkpoint, OptimiserParamSchedule
from irsnn.compilers import EPropCompiler, InferenceCompiler
from irsnn.connectivity import Dense, FixedProbability
from irsnn.neurons import AdaptiveLeakyIntegrateFire, LeakyIntegrate, SpikeInput
from irsnn.optimisers import Adam
from irsnn.serialisers import Numpy
from irsnn.utils.data import preprocess_spikes

N_IN, N_HID, N_OUT, T = 6, 8, 3, 25


def network(seed=0, sparse=False):
    rng = np.random.default_rng(seed)
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=10000), N_IN, name="input")
        h = Population(AdaptiveLeakyIntegrateFire(v_thresh=0.6, tau_refrac=2.0, beta=0.1,
                                                  tau_adapt=50.0), N_HID, name="hidden")
        out = Population(LeakyIntegrate(tau_mem=10.0, bias=0.05, readout="sum_var"), N_OUT,
                         name="output")
        Connection(inp, h, Dense(rng.normal(0.2, 0.5, (N_IN, N_HID))), name="ih")
        if sparse:
            Connection(h, h, FixedProbability(0.3, 0.05), name="hh")
        else:
            Connection(h, h, Dense(rng.normal(0.0, 0.3, (N_HID, N_HID))), name="hh")
        Connection(h, out, Dense(rng.normal(0.0, 0.5, (N_HID, N_OUT))), name="ho")
    return net, inp, out


def dataset(n, seed=1):
    """``n`` examples whose class (0..2) sets which third of the inputs fires early."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, N_OUT, n)
    x = []
    for label in y:
        times = rng.uniform(8.0, T - 2.0, N_IN)
        times[2 * label:2 * label + 2] = rng.uniform(0.0, 3.0, 2)
        x.append(preprocess_spikes(np.round(times), np.arange(N_IN), N_IN))
    return x, y


def compiler(backend, **kw):
    kw.setdefault("batch_size", 4)
    return EPropCompiler(example_timesteps=T, losses="sparse_categorical_crossentropy",
                         backend=backend, **kw)


def params(cn):
    sim = cn.simulation
    out = {name: sim.get_weights(name).astype(np.float64) for name in ("ih", "hh", "ho")}
    if cn.compiler.train_output_bias:
        out["output.bias"] = sim.get_var("pop.output", "Bias").astype(np.float64)
    return out


def set_params(cn, values):
    sim = cn.simulation
    for name, v in values.items():
        if name == "output.bias":
            sim.set_var("pop.output", "Bias", v)
        else:
            sim.set_weights(name, v)


# -- Adam --------------------------------------------------------------------------------------
def textbook_adam(theta, grads, alphas, beta1=0.9, beta2=0.999, eps=1e-8):
    """Kingma & Ba's Algorithm 1, one step per gradient, t counted globally from 1."""
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    for t, (g, a) in enumerate(zip(grads, alphas), start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        theta = theta - a * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)
    return theta


def test_adam_step_is_textbook():
    rng = np.random.default_rng(0)
    theta0 = rng.normal(size=(4, 5))
    grads = [rng.normal(size=(4, 5)) * s for s in (1.0, 0.1, 3.0, 0.0, 1e-3)]
    opt = Adam(alpha=0.01, beta1=0.8, beta2=0.99, epsilon=1e-6)
    param = theta0.copy()
    state = opt.init_state(param.shape)
    for step, g in enumerate(grads, start=1):
        opt.step(param, g, state, step)
        want = textbook_adam(theta0, grads[:step], [0.01] * step, 0.8, 0.99, 1e-6)
        np.testing.assert_allclose(param, want, rtol=1e-12, atol=1e-15)


def test_first_adam_step_moves_each_weight_by_alpha():
    opt = Adam(alpha=0.003)
    param = np.zeros(3)
    opt.step(param, np.array([2.0, -5e-3, 0.0]), opt.init_state(3), 1)
    np.testing.assert_allclose(param, [-0.003, 0.003, 0.0], rtol=1e-5)


@pytest.mark.parametrize("schedule", [None, "alpha"])
def test_training_applies_textbook_adam_per_batch(backend, build, schedule):
    """Train 2 epochs of 3 batches (the last partial) and replay the same batches on a twin
    network with ``compute_gradients`` plus a textbook Adam step: the parameters must agree
    after every epoch, so Adam runs once per batch with bias correction by the *global*
    batch count (not restarting each epoch), and an OptimiserParamSchedule's new alpha is used
    from the epoch it is set (without recompiling)."""
    x, y = dataset(10)
    alphas = {0: 0.01, 1: 0.002}
    callbacks = []
    if schedule:
        callbacks.append(OptimiserParamSchedule("alpha", lambda epoch, a: alphas[epoch]))
    net, inp, out = network()
    trained = build(compiler(backend, precision="double", optimiser=Adam(alpha=0.01)), net)
    net2, inp2, out2 = network()
    twin = build(compiler(backend, precision="double"), net2)
    theta = params(twin)
    grads = {k: [] for k in theta}
    steps_alpha = []
    sim = trained.simulation
    for epoch in range(2):
        trained.train({inp: x}, {out: y}, num_epochs=1, start_epoch=epoch, shuffle=False,
                      callbacks=list(callbacks))
        for start in range(0, len(y), 4):
            g = twin.compute_gradients({inp2: x[start:start + 4]}, {out2: y[start:start + 4]})
            for k in grads:
                grads[k].append(g[k])
            steps_alpha.append(alphas[epoch] if schedule else 0.01)
            new = {k: textbook_adam(theta[k], grads[k], steps_alpha) for k in theta}
            set_params(twin, new)
        got = params(trained)
        for k in theta:
            np.testing.assert_allclose(got[k], new[k], rtol=1e-9, atol=1e-12, err_msg=k)
    assert trained.optimiser_step == 6
    assert trained.simulation is sim  # no rebuild
    if schedule:
        assert trained.optimiser.alpha == alphas[1]


def test_schedule_changes_update_size(backend, build):
    """A learning rate 100x smaller in the second epoch gives ~100x smaller weight changes."""
    x, y = dataset(8)
    net, inp, out = network()
    cn = build(compiler(backend, optimiser=Adam(alpha=1e-2)), net)
    sched = OptimiserParamSchedule("alpha", lambda epoch, a: a if epoch == 0 else a / 100)
    before = params(cn)
    cn.train({inp: x}, {out: y}, 1, callbacks=[sched], shuffle=False)
    mid = params(cn)
    cn.train({inp: x}, {out: y}, 1, start_epoch=1, callbacks=[sched], shuffle=False)
    after = params(cn)
    d0 = max(np.abs(mid[k] - before[k]).max() for k in before)
    d1 = max(np.abs(after[k] - mid[k]).max() for k in before)
    assert cn.optimiser.alpha == pytest.approx(1e-4)
    assert 0 < d1 < d0 / 20


def test_schedule_rejects_unknown_parameter(backend, build):
    from irsnn.errors import ModelError
    x, y = dataset(4)
    net, inp, out = network()
    cn = build(compiler(backend), net)
    with pytest.raises(ModelError, match=r"Adam has no parameter 'lr'.*alpha"):
        cn.train({inp: x}, {out: y}, 1, callbacks=[OptimiserParamSchedule("lr", min)])


# -- checkpoints ---------------------------------------------------------------------------------
def test_checkpoint_files_and_reload_for_inference(backend, build, tmp_path):
    x, y = dataset(12)
    net, inp, out = network()
    cn = build(compiler(backend, train_output_bias=False, optimiser=Adam(alpha=0.01)), net)
    snapshots = {}

    class Snapshot(Callback):
        def on_epoch_end(self, epoch, metrics):
            snapshots[epoch] = params(cn)

    cn.train({inp: x}, {out: y}, 5, callbacks=[Checkpoint(Numpy(tmp_path), 2), Snapshot()])
    files = sorted(p.name for p in tmp_path.iterdir())
    # mlGeNN's names (GeNN's weight variable g, flattened) + irsnn's training state
    assert files == sorted([f"{e}-{c}-g.npy" for e in (0, 2, 4) for c in ("ih", "hh", "ho")]
                           + [f"{e}-irsnn_state.npz" for e in (0, 2, 4)])
    for c in ("ih", "hh", "ho"):
        np.testing.assert_array_equal(np.load(tmp_path / f"2-{c}-g.npy"),
                                      snapshots[2][c].astype(np.float32).reshape(-1))
    want, _ = cn.predict({inp: x}, out, callbacks=[])
    assert net.load((4,), Numpy(tmp_path)) == {"ih": ["g"], "hh": ["g"], "ho": ["g"],
                                               "input": [], "hidden": [], "output": []}
    inference = InferenceCompiler(evaluate_timesteps=T, batch_size=4, backend=backend)
    got, _ = inference.compile(net).predict({inp: x}, out, callbacks=[])
    np.testing.assert_array_equal(got[out], want[out])
    assert not np.array_equal(snapshots[0]["ho"], snapshots[4]["ho"])


def test_checkpoint_saves_trained_bias(backend, build, tmp_path):
    x, y = dataset(8)
    net, inp, out = network()
    cn = build(compiler(backend, optimiser=Adam(alpha=0.01)), net)
    cn.train({inp: x}, {out: y}, 1, callbacks=[Checkpoint(Numpy(tmp_path))])
    bias = np.load(tmp_path / "0-output-Bias.npy")
    np.testing.assert_array_equal(bias, cn.simulation.get_var("pop.output", "Bias"))
    assert not np.allclose(bias, 0.05)
    assert net.load((0,), Numpy(tmp_path))["output"] == ["Bias"]
    np.testing.assert_allclose(out.neuron.bias, bias)


def test_evaluate_keeps_trained_bias(backend, build):
    x, y = dataset(8)
    net, inp, out = network()
    cn = build(compiler(backend, optimiser=Adam(alpha=0.01)), net)
    cn.train({inp: x}, {out: y}, 1, callbacks=[])
    trained = cn.simulation.get_var("pop.output", "Bias")
    cn.evaluate({inp: x}, {out: y}, callbacks=[])
    np.testing.assert_array_equal(cn.simulation.get_var("pop.output", "Bias"), trained)


def test_reset_vars_between_examples_keeps_trained_bias(backend, build):
    """A bias set (or learnt) before a batch must survive the batch's state reset."""
    x, y = dataset(4)
    net, inp, out = network()
    cn = build(compiler(backend, reset_vars_between_examples=True,
                        optimiser=Adam(alpha=1e-6)), net)
    cn.simulation.set_var("pop.output", "Bias", np.full(N_OUT, 0.7))
    cn.train({inp: x}, {out: y}, 1, callbacks=[])
    np.testing.assert_allclose(cn.simulation.get_var("pop.output", "Bias"), 0.7, atol=1e-4)


# -- the training API ----------------------------------------------------------------------------
class Recorder(Callback):
    """Records its hooks into containers created here: compiled networks use a shallow copy
    of each callback object (as mlGeNN does), which shares them."""

    def __init__(self):
        self.params = {}
        self.epochs = []
        self.batches = []

    def set_params(self, **kwargs):
        self.params.update(kwargs)

    def on_batch_end(self, batch, metrics):
        self.batches.append(batch)

    def on_epoch_end(self, epoch, metrics):
        (m,) = metrics.values()
        self.epochs.append((epoch, m.correct, m.total, m.result))

    def get_data(self):
        return "recorder", list(self.epochs)


def test_train_returns_metrics_and_callback_data(backend, build):
    x, y = dataset(10)
    net, inp, out = network()
    cn = build(compiler(backend), net)
    rec = Recorder()
    result = cn.train({inp: x}, {out: y}, 3, start_epoch=5, callbacks=[rec])
    assert len(result) == 2
    metrics, cb_data = result
    assert rec.params["compiled_network"] is cn
    assert [e[0] for e in rec.epochs] == [5, 6, 7]
    assert rec.batches == [0, 1, 2] * 3
    for _, correct, total, res in rec.epochs:
        assert total == 10 and 0 <= correct <= 10 and res == pytest.approx(correct / total)
    assert metrics[out].total == 10
    assert metrics[out].correct == rec.epochs[-1][1]
    assert cb_data["recorder"] == rec.epochs


def test_train_with_validation_split(backend, build):
    x, y = dataset(12)
    net, inp, out = network()
    cn = build(compiler(backend), net)
    result = cn.train({inp: x}, {out: y}, 2, callbacks=[], validation_callbacks=[],
                      validation_split=0.25)
    assert len(result) == 4
    train_m, valid_m, train_cb, valid_cb = result
    assert train_m[out].total == 9 and valid_m[out].total == 3
    assert isinstance(train_cb, dict) and isinstance(valid_cb, dict)


def test_train_with_validation_data(backend, build):
    x, y = dataset(12)
    vx, vy = dataset(5, seed=7)
    net, inp, out = network()
    cn = build(compiler(backend), net)
    rec = Recorder()
    train_m, valid_m, train_cb, valid_cb = cn.train(
        {inp: x}, {out: y}, 1, callbacks=[], validation_callbacks=[rec],
        validation_x={inp: vx}, validation_y={out: vy})
    assert train_m[out].total == 12 and valid_m[out].total == 5
    assert "recorder" in valid_cb and "recorder" not in train_cb


@pytest.mark.parametrize("shuffle", [False, True])
def test_training_is_deterministic(backend, build, shuffle):
    x, y = dataset(10)
    results = []
    for _ in range(2):
        net, inp, out = network()
        cn = build(compiler(backend, optimiser=Adam(alpha=0.01)), net)
        m, _ = cn.train({inp: x}, {out: y}, 2, shuffle=shuffle, callbacks=[])
        results.append((params(cn), m[out].correct))
    (p0, c0), (p1, c1) = results
    assert c0 == c1
    for k in p0:
        np.testing.assert_array_equal(p0[k], p1[k])


def test_save_connectivity_matches_fixed_probability_mask(backend, build, tmp_path):
    x, y = dataset(8)
    net, inp, out = network(sparse=True)
    cn = build(compiler(backend, optimiser=Adam(alpha=0.01)), net)
    initial = cn.simulation.get_weights("hh")
    present = initial != 0  # weight 0.05 everywhere a synapse exists
    assert 0 < present.sum() < present.size and not present.diagonal().any()
    cn.train({inp: x}, {out: y}, 2, callbacks=[])
    cn.save_connectivity(("conn",), Numpy(tmp_path))
    pre = np.load(tmp_path / "conn-hh-pre_ind.npy")
    post = np.load(tmp_path / "conn-hh-post_ind.npy")
    want_pre, want_post = np.nonzero(present)
    np.testing.assert_array_equal(pre, want_pre)
    np.testing.assert_array_equal(post, want_post)
    # as mlGeNN, dense connections (whose synapses are fixed) have no index lists
    assert not (tmp_path / "conn-ih-pre_ind.npy").exists()
    # training never creates synapses outside the mask, and moves the existing ones
    trained = cn.simulation.get_weights("hh")
    assert np.all(trained[~present] == 0)
    assert not np.allclose(trained[present], 0.05)


def test_training_resumes_from_a_checkpoint_with_a_trained_bias(backend, build, tmp_path):
    """A loaded checkpoint holds a per-neuron output bias: e-prop trains it as it is."""
    x, y = dataset(8)
    net, inp, out = network()
    cn = build(compiler(backend, optimiser=Adam(alpha=0.01)), net)
    cn.train({inp: x}, {out: y}, 1, callbacks=[Checkpoint(Numpy(tmp_path))])
    trained = cn.simulation.get_var("pop.output", "Bias")
    net2, inp2, out2 = network()
    net2.load((0,), Numpy(tmp_path))
    cn2 = build(compiler(backend, optimiser=Adam(alpha=0.01)), net2)
    np.testing.assert_array_equal(cn2.simulation.get_var("pop.output", "Bias"), trained)
    cn2.train({inp2: x}, {out2: y}, 1, start_epoch=1, callbacks=[])
    assert not np.array_equal(cn2.simulation.get_var("pop.output", "Bias"), trained)
