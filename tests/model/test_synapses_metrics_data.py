import numpy as np
import pytest

from irsnn.connection import Connection
from irsnn.connectivity import Dense
from irsnn.errors import InputError, ModelError
from irsnn.metrics import MeanSquareError, Metric, SparseCategoricalAccuracy, default_metrics
from irsnn.network import Network
from irsnn.population import Population
from irsnn.serialisers import Numpy, Serialiser, default_serialisers
from irsnn.synapses import Delta, Exponential, default_synapses
from irsnn.utils.data import (PreprocessedSpikes, batch_spikes, calc_latest_spike_time,
                              calc_max_spikes, linear_latency_encode_data,
                              log_latency_encode_data, preprocess_spikes)
from irsnn.utils.filter import ExampleFilter, get_neuron_filter_mask


def _conn(synapse):
    with Network():
        a = Population("poisson_input", 2)
        b = Population("leaky_integrate_fire", 2)
        return Connection(a, b, Dense(1.0), synapse)


def test_delta():
    assert set(default_synapses) == {"delta", "exponential"}
    c = _conn("delta")
    m = c.synapse.get_model(c, 1.0, 1).canonical("x")
    assert m.sim_code.split() == ["injectCurrent(inSyn);", "inSyn", "=", "0;"]
    assert m.params == () and isinstance(c.synapse, Delta)


def test_exponential():
    s = Exponential()
    assert (s.tau, s.scale_i) == (5.0, False)
    c = _conn(Exponential(tau=4.0))
    model = c.synapse.get_model(c, 0.5, 1)
    m = model.canonical("x")
    assert m.params == (("ExpDecay", "scalar"),)
    assert model.param_vals["ExpDecay"] == pytest.approx(np.exp(-0.5 / 4.0), rel=1e-15)
    assert "injectCurrent(inSyn);" in m.sim_code and "inSyn *= ExpDecay;" in m.sim_code
    c = _conn(Exponential(tau=4.0, scale_i=True))
    model = c.synapse.get_model(c, 0.5, 1)
    assert "injectCurrent(inSyn * IScale);" in model.canonical("x").sim_code
    assert model.param_vals["IScale"] == pytest.approx((4.0 / 0.5) * (1 - np.exp(-0.5 / 4.0)))
    with pytest.raises(ModelError, match=r"Exponential: tau must be > 0 \(got -1"):
        Exponential(tau=-1.0)
    with pytest.raises(ModelError, match="initializer"):
        Exponential(tau="normal")


def test_sparse_categorical_accuracy():
    assert set(default_metrics) == {"sparse_categorical_accuracy", "mean_square_error"}
    m = SparseCategoricalAccuracy()
    assert m.result is None
    m.update([0, 1, 2], np.array([[1, 0, 0], [0, 0, 1], [0, 0, 1.0]]))
    assert (m.correct, m.total) == (2, 3) and m.result == pytest.approx(2 / 3)
    m.update(np.array([1.0]), np.array([[0, 1, 0.0]]))
    assert m.result == pytest.approx(3 / 4)
    with pytest.raises(InputError, match=r"label 3 at index 1 is outside \[0, 3\)"):
        m.update([0, 3], np.zeros((2, 3)))
    with pytest.raises(InputError, match=r"label -1 at index 0"):
        m.update([-1], np.zeros((1, 3)))
    with pytest.raises(InputError, match=r"label 0.5 at index 0 is not an integer"):
        m.update([0.5], np.zeros((1, 3)))
    with pytest.raises(InputError, match="shape"):
        m.update([0, 1], np.zeros((3, 3)))
    m.reset()
    assert m.total == 0 and m.result is None


def test_mean_square_error():
    m = MeanSquareError()
    m.update(np.zeros((2, 2)), np.array([[1.0, 1.0], [2.0, 0.0]]))
    assert m.result == pytest.approx((1.0 + 2.0) / 2)
    m.update(np.zeros((1, 2)), np.zeros((1, 2)))
    assert m.result == pytest.approx(3.0 / 3)
    with pytest.raises(InputError, match="shape"):
        m.update(np.zeros((1, 2)), np.zeros((1, 3)))


def test_user_metric_subclass():
    class Count(Metric):
        def __init__(self):
            self.reset()

        def update(self, y_true, y_pred, communicator=None):
            self.n += len(y_true)

        def reset(self):
            self.n = 0

        @property
        def result(self):
            return self.n

    c = Count()
    c.update([1, 2], None)
    assert c.result == 2


def test_numpy_serialiser(tmp_path):
    assert default_serialisers == {"numpy": Numpy}
    s = Numpy(str(tmp_path / "ckpt"))
    assert isinstance(s, Serialiser)
    s.serialise((3, "Conn0", "weight"), np.arange(4.0))
    s.serialise((3, "Conn0", "delay"), np.ones(4))
    s.serialise((3, "Conn01", "weight"), np.zeros(1))
    assert (tmp_path / "ckpt" / "3-Conn0-weight.npy").exists()
    np.testing.assert_array_equal(s.deserialise((3, "Conn0", "weight")), np.arange(4.0))
    all_ = s.deserialise_all((3, "Conn0"))
    assert set(all_) == {"weight", "delay"}
    assert Numpy(path=str(tmp_path / "ckpt")).path == str(tmp_path / "ckpt")
    with pytest.raises(FileNotFoundError, match=r"no checkpoint 4 .*checkpoints there: 3"):
        s.deserialise((4, "Conn0", "weight"))
    with pytest.raises(FileNotFoundError, match=r"no array saved under \(3, 'Conn0', 'g'\)"):
        s.deserialise((3, "Conn0", "g"))


def test_preprocess_spikes():
    s = preprocess_spikes(np.array([3.0, 1.0, 2.0, 0.5]), np.array([1, 1, 0, 2]), 4)
    assert isinstance(s, PreprocessedSpikes)
    np.testing.assert_array_equal(s.end_spikes, [1, 3, 4, 4])
    np.testing.assert_array_equal(s.spike_times, [2.0, 1.0, 3.0, 0.5])
    with pytest.raises(InputError, match=r"neuron id 4 .*\[0, 4\)"):
        preprocess_spikes([1.0], [4], 4)
    with pytest.raises(InputError, match="2 spike times but 1 ids"):
        preprocess_spikes([1.0, 2.0], [0], 4)
    t = preprocess_spikes([7.0], [0], 4)
    assert calc_max_spikes([s, t]) == 4
    assert calc_latest_spike_time([s, t]) == 7.0
    b = batch_spikes([s, t], 3)
    assert b.end_spikes.shape == (3, 4)
    np.testing.assert_array_equal(b.end_spikes[1], [5, 5, 5, 5])
    np.testing.assert_array_equal(b.end_spikes[2], [5, 5, 5, 5])


def test_latency_encoders():
    data = np.array([[0, 255, 128, 1], [2, 2, 2, 2]], dtype=np.uint8)
    lin = linear_latency_encode_data(data, max_time=20.0, min_time=2.0)
    np.testing.assert_array_equal(lin[0].end_spikes, [0, 1, 2, 2])
    np.testing.assert_allclose(lin[0].spike_times, [2.0, ((255 - 128) / 255) * 18 + 2.0])
    np.testing.assert_array_equal(lin[1].end_spikes, [1, 2, 3, 4])
    img = linear_latency_encode_data(np.full((1, 2, 2), 255), 10.0)
    np.testing.assert_array_equal(img[0].end_spikes, [1, 2, 3, 4])
    log = log_latency_encode_data(np.array([[10.0, 5.0, 20.0]]), tau_eff=2.0, thresh=5.0)
    np.testing.assert_array_equal(log[0].end_spikes, [1, 1, 2])
    np.testing.assert_allclose(log[0].spike_times, 2.0 * np.log([10 / 5, 20 / 15]))


def test_example_filter():
    assert ExampleFilter(None).get_batch_mask(3, 4).all()
    f = ExampleFilter(5)
    np.testing.assert_array_equal(f.get_batch_mask(1, 4), [False, True, False, False])
    assert not f.get_batch_mask(2, 4).any()
    f = ExampleFilter([0, 3, 4])
    np.testing.assert_array_equal(f.get_batch_mask(0, 4), [True, False, False, True])
    np.testing.assert_array_equal(f.get_batch_mask(1, 4), [True, False, False, False])
    f = ExampleFilter(slice(2, None, 3))
    np.testing.assert_array_equal(f.get_batch_mask(1, 4), [False, True, False, False])
    f = ExampleFilter(lambda i: i % 2 == 1)
    np.testing.assert_array_equal(f.get_batch_mask(0, 3), [False, True, False])
    np.testing.assert_array_equal(ExampleFilter([True, False]).get_batch_mask(0, 3),
                                  [True, False, False])
    with pytest.raises(ModelError):
        ExampleFilter("all")


def test_neuron_filter():
    assert get_neuron_filter_mask(None, 3).tolist() == [True] * 3
    assert get_neuron_filter_mask(slice(1, 3), (4,)).tolist() == [False, True, True, False]
    assert get_neuron_filter_mask([0, 3], 4).tolist() == [True, False, False, True]
    m = get_neuron_filter_mask(np.s_[0, 1:], (2, 3))
    assert m.tolist() == [False, True, True, False, False, False]
    m = get_neuron_filter_mask(np.array([[True, False], [False, True]]), (2, 2))
    assert m.tolist() == [True, False, False, True]
    with pytest.raises(ModelError, match="shape"):
        get_neuron_filter_mask(np.array([True, False]), (2, 2))
    with pytest.raises(ModelError, match="does not fit"):
        get_neuron_filter_mask([7], 4)
