"""Few-spike conversion (FewSpikeRelu, FewSpikeReluInput, FewSpikeCompiler) against closed
forms of the quantised ReLU network (Stoeckl & Maass 2021), and a ReLU MLP trained on
scikit-learn's digits converted to few-spike neurons."""

from __future__ import annotations

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.callbacks import SpikeRecorder
from irsnn.compilers import FewSpikeCompiler
from irsnn.connectivity import Dense
from irsnn.errors import ModelError, PassError
from irsnn.neurons import FewSpikeRelu, FewSpikeReluInput, LeakyIntegrate

K, ALPHA = 8, 4.0
STEP = ALPHA * 2.0 ** -K


def quantise(v, alpha=ALPHA, k=K):
    """The value K binary-weighted spikes carry: ReLU, rounded down, saturating."""
    step = alpha * 2.0 ** -k
    return np.clip(np.floor(np.maximum(v, 0.0) / step), 0, 2 ** k - 1) * step


def without_last_bit(q, step=STEP):
    """Fx at the end of a period lacks the source's last spike (it arrives one step later)."""
    return q - (np.round(q / step) % 2) * step


def dyadic(shape, seed, grid=16.0, sd=0.5):
    return np.round(np.random.default_rng(seed).normal(0.0, sd, shape) * grid) / grid


def mlp(w1, w2, signed=False, k=K, alpha=ALPHA):
    net = Network()
    with net:
        i = Population(FewSpikeReluInput(k=k, alpha=alpha, signed_input=signed),
                       w1.shape[0], name="inp")
        h = Population(FewSpikeRelu(k=k, alpha=alpha), w1.shape[1], name="hid")
        o = Population(FewSpikeRelu(k=k, alpha=alpha, readout="var"), w2.shape[1], name="out")
        Connection(i, h, Dense(w1), name="i_h")
        Connection(h, o, Dense(w2), name="h_o")
    return net, i, h, o


def test_few_spike_mlp_matches_the_quantised_relu_network():
    w1, w2 = dyadic((5, 6), 0), dyadic((6, 3), 1)
    x = np.random.default_rng(2).uniform(-1.0, 5.0, (7, 5))
    net, i, h, o = mlp(w1, w2)
    compiled = FewSpikeCompiler(k=K, batch_size=3, backend="reference").compile(net)
    assert compiled.pop_pipeline_depth[o] == 1 and compiled.pop_pipeline_depth[h] == 0
    preds, cb = compiled.predict({i: x}, [o], callbacks=[SpikeRecorder(h, key="h")])
    hidden = quantise(quantise(x) @ w1)
    np.testing.assert_array_equal(preds[o], without_last_bit(hidden) @ w2)
    # the hidden spikes are the binary digits of the quantised activations, one period late:
    # the recording of batch 1 (examples 3-5) holds the hidden spikes of batch 0 (0-2)
    times, ids = cb["h"]
    assert len(times) == 10   # batches of 3, 3 and 1 rows, then a period flushing the pipeline
    for row in range(3):
        decoded = np.zeros(6)
        for t, n in zip(np.asarray(times[3 + row]), np.asarray(ids[3 + row])):
            decoded[n] += ALPHA * 2.0 ** (-1 - (int(round(t)) - K))
        np.testing.assert_array_equal(decoded, hidden[row])
    assert hidden[:3].sum() > 0


def test_signed_inputs_encode_both_signs():
    w1, w2 = dyadic((4, 5), 3), dyadic((5, 2), 4)
    x = np.random.default_rng(5).uniform(-4.0, 4.0, (4, 4))
    net, i, _, o = mlp(w1, w2, signed=True)
    preds, _ = FewSpikeCompiler(k=K, batch_size=2, backend="reference").compile(net).predict(
        {i: x}, [o], callbacks=[])
    half = K // 2
    step_in = ALPHA * 2.0 ** -half
    # each sign in K/2 bits, rounded towards zero
    xq = np.sign(x) * np.clip(np.floor(np.abs(x) / step_in), 0, 2 ** half - 1) * step_in
    hidden = quantise(xq @ w1)
    np.testing.assert_array_equal(preds[o], without_last_bit(hidden) @ w2)


def test_skip_connection_is_delayed_to_the_same_example():
    w_ih, w_ho, w_io = dyadic((3, 4), 6), dyadic((4, 2), 7), dyadic((3, 2), 8)
    net = Network()
    with net:
        i = Population(FewSpikeReluInput(k=K, alpha=ALPHA), 3, name="inp")
        h = Population(FewSpikeRelu(k=K, alpha=ALPHA), 4, name="hid")
        o = Population(FewSpikeRelu(k=K, alpha=ALPHA, readout="var"), 2, name="out")
        Connection(i, h, Dense(w_ih), name="i_h")
        Connection(h, o, Dense(w_ho), name="h_o")
        Connection(i, o, Dense(w_io), name="i_o")
    compiler = FewSpikeCompiler(k=K, batch_size=2, backend="reference")
    ir = compiler.build_ir(net)
    assert {s.name: s.delay_steps for *_, s in ir.synapses()} == {"i_h": 1, "h_o": 1,
                                                                  "i_o": 1 + K}
    x = np.random.default_rng(9).uniform(0.0, 4.0, (5, 3))
    preds, _ = compiler.compile(net).predict({i: x}, [o], callbacks=[])
    expect = without_last_bit(quantise(quantise(x) @ w_ih)) @ w_ho
    expect += without_last_bit(quantise(x)) @ w_io
    np.testing.assert_array_equal(preds[o], expect)


def _train_relu_mlp(x, y, hidden=32, epochs=100, seed=0):
    """A bias-free two-layer ReLU network trained with full-batch Adam on softmax
    cross-entropy (NumPy only)."""
    rng = np.random.default_rng(seed)
    w = [rng.normal(0, 1 / np.sqrt(x.shape[1]), (x.shape[1], hidden)),
         rng.normal(0, 1 / np.sqrt(hidden), (hidden, 10))]
    m = [np.zeros_like(a) for a in w]
    v = [np.zeros_like(a) for a in w]
    onehot = np.eye(10)[y]
    for step in range(1, epochs + 1):
        a = x @ w[0]
        h = np.maximum(a, 0)
        z = h @ w[1]
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        dz = (p - onehot) / len(x)
        grads = [x.T @ ((dz @ w[1].T) * (a > 0)), h.T @ dz]
        for j in range(2):
            m[j] = 0.9 * m[j] + 0.1 * grads[j]
            v[j] = 0.999 * v[j] + 0.001 * grads[j] ** 2
            w[j] -= 0.01 * (m[j] / (1 - 0.9 ** step)) / (np.sqrt(v[j] / (1 - 0.999 ** step))
                                                          + 1e-8)
    return w


@pytest.mark.slow
def test_converted_digits_mlp_reaches_the_ann_accuracy():
    from sklearn.datasets import load_digits
    digits = load_digits()
    x = digits.data / 16.0
    y = digits.target
    w1, w2 = _train_relu_mlp(x[:1400], y[:1400])
    x_test, y_test = x[1400:], y[1400:]
    ann = np.mean(np.argmax(np.maximum(x_test @ w1, 0) @ w2, 1) == y_test)
    # alpha: the largest activation of the layer feeding each population (data-based norm)
    net = Network()
    with net:
        i = Population(FewSpikeReluInput(k=10, alpha=1.0), 64, name="inp")
        h = Population(FewSpikeRelu(k=10, alpha=float(np.max(x[:1400] @ w1))), 32,
                       name="hid")
        o = Population(FewSpikeRelu(k=10, alpha=1.0, readout="var"), 10, name="out")
        Connection(i, h, Dense(w1), name="i_h")
        Connection(h, o, Dense(w2), name="h_o")
    compiled = FewSpikeCompiler(k=10, batch_size=64, backend="reference").compile(net)
    metrics, _ = compiled.evaluate({i: x_test}, {o: y_test}, callbacks=[])
    assert ann > 0.85
    assert metrics[o].total == len(y_test)
    assert metrics[o].result >= ann - 0.02, (metrics[o].result, ann)
    print(f"digits: ANN {ann:.4f}, few-spike {metrics[o].result:.4f}")


def test_few_spike_compiler_rejects_what_it_cannot_run():
    w1, w2 = dyadic((3, 3), 0), dyadic((3, 2), 1)
    net, *_ = mlp(w1, w2)
    with pytest.raises(ModelError, match="k=8 but FewSpikeCompiler\\(k=4\\)"):
        FewSpikeCompiler(k=4).compile(net)
    net = Network()
    with net:
        i = Population(FewSpikeReluInput(k=4), 3, name="inp")
        o = Population(LeakyIntegrate(readout="sum_var"), 2, name="out")
        Connection(i, o, Dense(dyadic((3, 2), 2)))
    with pytest.raises(ModelError, match="FewSpikeRelu and FewSpikeReluInput neurons only"):
        FewSpikeCompiler(k=4).compile(net)
    net = Network()
    with net:
        i = Population(FewSpikeReluInput(k=4), 3, name="inp")
        o = Population(FewSpikeRelu(k=4, readout="sum_var"), 2, name="out")
        Connection(i, o, Dense(dyadic((3, 2), 2)))
    with pytest.raises(ModelError, match="'var' readout only"):
        FewSpikeCompiler(k=4).compile(net)
    net = Network()
    with net:
        i = Population(FewSpikeReluInput(k=4), 3, name="inp")
        o = Population(FewSpikeRelu(k=4, readout="var"), 2, name="out")
        Connection(i, o, Dense(dyadic((3, 2), 2)), "exponential")
    with pytest.raises(ModelError, match="Delta synapses"):
        FewSpikeCompiler(k=4).compile(net)
    net = Network()
    with net:
        i = Population(FewSpikeReluInput(k=4), 3, name="inp")
        a = Population(FewSpikeRelu(k=4), 3, name="a")
        b = Population(FewSpikeRelu(k=4, readout="var"), 3, name="b")
        Connection(i, a, Dense(dyadic((3, 3), 2)))
        Connection(a, b, Dense(dyadic((3, 3), 3)))
        Connection(b, a, Dense(dyadic((3, 3), 4)))
    with pytest.raises(PassError, match="feed-forward"):
        FewSpikeCompiler(k=4).compile(net)


def test_few_spike_neurons_check_their_arguments_and_sources():
    for bad in (dict(k=0), dict(k=31), dict(k=2.5), dict(alpha=0.0), dict(alpha=np.inf)):
        with pytest.raises(ModelError):
            FewSpikeRelu(**bad)
        with pytest.raises(ModelError):
            FewSpikeReluInput(**bad)
    with pytest.raises(ModelError, match="even k"):
        FewSpikeReluInput(k=5, signed_input=True)
    net = Network()
    with net:
        a = Population(FewSpikeReluInput(k=4, alpha=1.0), 2, name="a")
        b = Population(FewSpikeReluInput(k=4, alpha=2.0), 2, name="b")
        o = Population(FewSpikeRelu(k=4, readout="var"), 2, name="o")
        Connection(a, o, Dense(dyadic((2, 2), 0)))
        Connection(b, o, Dense(dyadic((2, 2), 1)))
    with pytest.raises(ModelError, match="same alpha"):
        FewSpikeCompiler(k=4).compile(net)
