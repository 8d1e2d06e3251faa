"""InferenceCompiler end to end on the reference backend: the mlGeNN paper's section-2 examples,
evaluate/predict/evaluate_batch_iter, callbacks, resets and bad inputs."""

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.callbacks import Callback, SpikeRecorder, VarRecorder
from irsnn.compilers import InferenceCompiler
from irsnn.connectivity import Dense
from irsnn.errors import InputError, UnknownNameError
from irsnn.neurons import IntegrateFire, LeakyIntegrate, Neuron, PoissonInput
from irsnn.synapses import Exponential
from irsnn.utils.model import NeuronModel
from irsnn.utils.value import ValueDescriptor

from ..models import random_spikes, recurrent_alif


def paper_network(neuron=None):
    """The paper's first example, as printed (readout given to the Population)."""
    network = Network()
    with network:
        a = Population(
            PoissonInput(signed_spikes=True), 100)
        b = Population(
            neuron or IntegrateFire(v_thresh=2.0), 100,
            readout="spike_count")
        Connection(a, b, Dense(1.0), Exponential(2.0))
    return network, a, b


# The paper's custom neuron, as printed (GeNN 4 model dict with $(...) syntax)
genn_model = {
    "var_name_types": [("V", "scalar")],
    "sim_code": "$(V) += $(Isyn);",
    "threshold_condition_code": "$(V) >= 1.0",
    "reset_code": "$(V) = 0.0;",
    "is_auto_refractory_required": False}


class PaperIntegrateFire(Neuron):
    v = ValueDescriptor("V")

    def __init__(self, v=0.0, softmax=False, readout=None):
        super().__init__(softmax, readout)
        self.v = v

    def get_model(self, population, dt):
        return NeuronModel.from_val_descriptors(genn_model, "V", self, dt)


def _rates(n, seed=0, signed=True):
    rng = np.random.default_rng(seed)
    return rng.uniform(-0.2 if signed else 0.0, 0.2, (n, 100)).astype(np.float32)


def test_paper_example_records_filtered_spikes_and_voltages():
    network, a, b = paper_network()
    compiler = InferenceCompiler(evaluate_timesteps=60, batch_size=8)
    compiled_net = compiler.compile(network)
    x, y = _rates(12), np.arange(12) % 100
    with compiled_net:
        metrics, cb_data = compiled_net.evaluate(
            {a: x}, {b: y}, callbacks=[SpikeRecorder(a, key="a_spikes",
                                                     neuron_filter=np.s_[0::2]),
                                       SpikeRecorder(a, key="ex3", example_filter=3),
                                       VarRecorder(b, "v", key="b_v")])
    times, ids = cb_data["a_spikes"]
    assert len(times) == len(ids) == 12
    assert all(len(i) > 0 and np.all(i % 2 == 0) for i in ids)
    assert all(np.all((t >= 0) & (t < 60)) for t in times)
    assert len(cb_data["ex3"][0]) == 1 and len(cb_data["ex3"][1][0]) > len(ids[3])
    assert len(cb_data["b_v"]) == 12 and cb_data["b_v"][0].shape == (60, 100)
    assert metrics[b].total == 12
    assert 0 <= metrics[b].correct <= 12
    # Signed spikes: examples whose net drive is negative push V below 0
    net_drive = x.sum(axis=1)
    v_min = np.array([v.min() for v in cb_data["b_v"]])
    assert np.all(v_min[net_drive < -1.0] < 0) and np.any(net_drive < -1.0)


def test_paper_custom_genn4_neuron_matches_builtin_integrate_fire():
    results = []
    for neuron in (PaperIntegrateFire(), IntegrateFire(v_thresh=1.0)):
        network, a, b = paper_network(neuron)
        net = InferenceCompiler(evaluate_timesteps=40, batch_size=4, rng_seed=7).compile(network)
        y_pred, cb = net.predict({a: _rates(8, seed=3, signed=False)}, [b], callbacks=[
            VarRecorder(b, "V", key="v")])
        results.append((y_pred[b], np.stack(cb["v"])))
    assert results[0][0].sum() > 0
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


@pytest.mark.slow
def test_paper_example_at_paper_size():
    """``InferenceCompiler(evaluate_timesteps=1500, batch_size=512)`` as printed."""
    network, a, b = paper_network()
    compiler = InferenceCompiler(evaluate_timesteps=1500, batch_size=512)
    compiled_net = compiler.compile(network)
    with compiled_net:
        metrics, cb_data = compiled_net.evaluate(
            {a: _rates(512)}, {b: np.arange(512) % 100},
            callbacks=[SpikeRecorder(a, key="a", neuron_filter=np.s_[0::2], example_filter=0),
                       VarRecorder(b, "v", key="b_v", example_filter=[0, 511])])
    assert cb_data["b_v"][0].shape == (1500, 100)
    assert len(cb_data["b_v"]) == 2
    assert metrics[b].total == 512


def test_batches_are_independent_of_batch_size():
    network, inp, hidden, out = recurrent_alif()
    x = random_spikes(6, 20, 30, rate=0.1)
    preds = []
    for batch_size in (1, 4):
        net = InferenceCompiler(evaluate_timesteps=30, batch_size=batch_size).compile(network)
        preds.append(net.predict({inp: x}, out, callbacks=[])[0][out])
    assert preds[0].shape == (6, 3)
    np.testing.assert_array_equal(preds[0], preds[1])


def test_evaluate_batch_iter_and_evaluate_batch_agree_with_evaluate():
    network, inp, hidden, out = recurrent_alif()
    x = random_spikes(8, 20, 25, rate=0.1)
    y = np.arange(8) % 3
    net = InferenceCompiler(evaluate_timesteps=25, batch_size=4).compile(network)
    m1, _ = net.evaluate({inp: x}, {out: y}, callbacks=[])
    batches = iter([(x[:4], y[:4]), (x[4:], y[4:])])
    m2, _ = net.evaluate_batch_iter(inp, out, batches, num_batches=2, callbacks=[])
    assert (m1[out].correct, m1[out].total) == (m2[out].correct, m2[out].total)
    m3, _ = net.evaluate_batch({inp: x[:4]}, {out: y[:4]})
    assert m3[out].total == 4


def test_reset_vars_between_batches_false_carries_state():
    network, inp, hidden, out = recurrent_alif()
    x = random_spikes(2, 20, 20, rate=0.2)
    outs = {}
    for reset in (True, False):
        net = InferenceCompiler(evaluate_timesteps=20, reset_vars_between_batches=reset)\
            .compile(network)
        outs[reset] = net.predict({inp: [x[0], x[0]]}, out, callbacks=[])[0][out]
    np.testing.assert_array_equal(outs[True][0], outs[True][1])
    assert not np.array_equal(outs[False][0], outs[False][1])
    np.testing.assert_array_equal(outs[True][0], outs[False][0])


class _StepCounter(Callback):
    def __init__(self):
        self.steps, self.batches = [], []

    def on_timestep_end(self, timestep):
        self.steps.append(timestep)

    def on_batch_begin(self, batch):
        self.batches.append(batch)


def test_per_timestep_callbacks_and_kernel_profiling():
    network, inp, hidden, out = recurrent_alif()
    counter = _StepCounter()
    net = InferenceCompiler(evaluate_timesteps=10, batch_size=2,
                            kernel_profiling=True).compile(network)
    net.evaluate({inp: random_spikes(3, 20, 10)}, {out: [0, 1, 2]}, callbacks=[counter])
    assert counter.steps == list(range(10)) * 2 and counter.batches == [0, 1]
    assert {"neuron:pop.hidden", "propagate:rec.hidden->hidden"} <= set(net.kernel_times)
    assert all(v >= 0 for v in net.kernel_times.values())


def test_softmax_output_sums_to_one():
    network = Network()
    with network:
        a = Population(PoissonInput(), 10)
        b = Population(LeakyIntegrate(softmax=True, readout="sum_var"), 4)
        Connection(a, b, Dense(np.random.default_rng(0).normal(size=(10, 4))))
    net = InferenceCompiler(evaluate_timesteps=20, batch_size=2).compile(network)
    y, _ = net.predict({a: np.full((3, 10), 0.3)}, b, callbacks=[])
    np.testing.assert_allclose(y[b].sum(axis=1), 1.0, rtol=1e-5)


# -- bad inputs -------------------------------------------------------------------------------
@pytest.fixture
def small():
    network, a, b = paper_network()
    return InferenceCompiler(evaluate_timesteps=5, batch_size=4).compile(network), a, b


def test_labels_out_of_range(small):
    net, a, b = small
    with pytest.raises(InputError, match="100"):
        net.evaluate({a: _rates(2)}, {b: [3, 100]}, callbacks=[])


def test_wrong_input_shape_and_nan(small):
    net, a, b = small
    with pytest.raises(InputError, match="100"):
        net.evaluate({a: np.zeros((2, 99))}, {b: [0, 1]}, callbacks=[])
    bad = _rates(2)
    bad[1, 5] = np.nan
    with pytest.raises(InputError, match="(?i)nan"):
        net.evaluate({a: bad}, {b: [0, 1]}, callbacks=[])


def test_mismatched_examples_and_labels(small):
    net, a, b = small
    with pytest.raises(InputError, match="3 input examples but 2 labels"):
        net.evaluate({a: _rates(3)}, {b: [0, 1]}, callbacks=[])


def test_inputs_to_non_input_population_and_outputs_without_readout(small):
    net, a, b = small
    with pytest.raises(InputError, match="not an input population"):
        net.evaluate({b: _rates(2)}, {b: [0, 1]}, callbacks=[])
    with pytest.raises(InputError, match="has no readout"):
        net.predict({a: _rates(2)}, a, callbacks=[])
    with pytest.raises(InputError, match="batch of 4"):
        net.evaluate_batch({a: _rates(5)}, {b: [0] * 5})
    # looked up once per key and kept: the same errors every time, also for unhashable keys
    for _ in range(2):
        with pytest.raises(InputError, match="not an input population"):
            net.predict({b: _rates(2)}, b, callbacks=[])
        with pytest.raises(InputError, match="has no readout"):
            net.get_readout([a])
        with pytest.raises(InputError, match="is not a Population or Layer"):
            net.get_readout([[b]])
    assert net.get_readout([b])[0].shape == (4, 100)


def test_unknown_shortcuts(small):
    net, a, b = small
    with pytest.raises(UnknownNameError, match="sparse_categorical_accuracy"):
        net.evaluate({a: _rates(2)}, {b: [0, 1]}, metrics="accuracy", callbacks=[])
    with pytest.raises(UnknownNameError, match="batch_progress_bar"):
        net.evaluate({a: _rates(2)}, {b: [0, 1]}, callbacks=["progress"])


def test_bad_compiler_arguments():
    with pytest.raises(ValueError, match="evaluate_timesteps=0"):
        InferenceCompiler(evaluate_timesteps=0)
    with pytest.raises(ValueError, match="batch_size=-1"):
        InferenceCompiler(evaluate_timesteps=5, batch_size=-1)
    with pytest.raises(ValueError, match="dt=0"):
        InferenceCompiler(evaluate_timesteps=5, dt=0)
    with pytest.raises(UnknownNameError, match="reference"):
        InferenceCompiler(evaluate_timesteps=5, backend="tpu").compile(paper_network()[0])
    with pytest.warns(UserWarning, match="selected_gpu"):
        InferenceCompiler(evaluate_timesteps=5, selected_gpu=0)


def test_poisson_noise_is_fresh_in_every_batch_and_reproducible():
    def run(seed):
        network = Network()
        with network:
            a = Population(PoissonInput(), 50)
            b = Population(LeakyIntegrate(readout="sum_var"), 1)
            Connection(a, b, Dense(1.0))
        net = InferenceCompiler(evaluate_timesteps=20, batch_size=1, rng_seed=seed)\
            .compile(network)
        _, cb = net.predict({a: np.full((2, 50), 0.2)}, b, callbacks=[SpikeRecorder(a, key="s")])
        return cb["s"]
    times, ids = run(0)
    assert not (np.array_equal(times[0], times[1]) and np.array_equal(ids[0], ids[1]))
    again = run(0)
    assert all(np.array_equal(x, y) for x, y in zip(times + ids, again[0] + again[1]))
    other = run(1)
    assert not np.array_equal(ids[0], other[1][0])


@pytest.mark.parametrize("how", ["evaluate", "predict", "train"])
def test_bad_spike_train_is_reported_when_its_batch_runs(how):
    """Spike trains are checked for the whole dataset at once, but a bad one is still reported
    when its batch is applied (earlier batches run), by its place in that batch, with the
    message a batch of it alone gives."""
    from irsnn.compilers import EPropCompiler
    network, inp, hidden, out = recurrent_alif()
    x = random_spikes(7, 20, 20, rate=0.2)
    x[3] = x[3]._replace(spike_times=x[3].spike_times + 20.0)   # examples last 20 ms
    y = np.zeros(7, np.int64)
    ended = []

    class Batches(Callback):
        def on_batch_end(self, batch, metrics):
            ended.append(batch)

    net = (EPropCompiler(example_timesteps=20, batch_size=2, backend="reference",
                         losses="sparse_categorical_crossentropy") if how == "train" else
           InferenceCompiler(evaluate_timesteps=20, batch_size=2, backend="reference")
           ).compile(network)

    def run(data):
        if how == "train":
            net.train({inp: data}, {out: y[:len(data)]}, num_epochs=1, shuffle=False,
                      callbacks=[Batches()])
        elif how == "evaluate":
            net.evaluate({inp: data}, {out: y[:len(data)]}, callbacks=[Batches()])
        else:
            net.predict({inp: data}, out, callbacks=[Batches()])

    with pytest.raises(InputError) as alone:
        run(x[2:4])
    ended.clear()
    with pytest.raises(InputError) as whole:
        run(x)
    assert ended == [0]
    assert str(whole.value) == str(alone.value)
    assert "example 1 has spike time" in str(whole.value)
