"""irsnn.datasets: event arrays, the Downsample twin, synthetic gestures and the loaders."""

from __future__ import annotations

import numpy as np
import pytest

from irsnn.datasets import (EVENT_DTYPE, DatasetUnavailableError, SpikeDataset,
                            SyntheticGesture, downsample_numpy, downsampled_shape,
                            load_digits, load_dvs_gesture, load_shd, load_synthetic_gesture,
                            make_events, tonic_available)
from irsnn.errors import InputError
from irsnn.utils.data import check_events, preprocess_spikes


def test_make_events_is_tonic_format():
    ev = make_events([1, 2], [3, 4], [10, 20], [True, False])
    assert ev.dtype == EVENT_DTYPE and ev.dtype.names == ("x", "y", "t", "p")
    assert ev["y"].tolist() == [3, 4] and ev["p"].tolist() == [True, False]
    if tonic_available():
        from tonic.io import events_struct, make_structured_array
        assert ev.dtype == events_struct
        ref = make_structured_array([1, 2], [3, 4], [10, 20], [True, False])
        assert np.array_equal(ev, ref)


def test_downsample_numpy_hand_case():
    ev = make_events([0, 3, 4, 127], [127, 5, 8, 1], [1000, 2000, 3000, 4000], [1, 0, 1, 0])
    small = downsample_numpy(ev, spatial_factor=0.25)
    assert small["x"].tolist() == [0, 0, 1, 31] and small["y"].tolist() == [31, 1, 2, 0]
    assert small["t"].tolist() == [1000, 2000, 3000, 4000] and len(small) == 4
    assert ev["x"].tolist() == [0, 3, 4, 127]          # input untouched
    assert downsampled_shape((128, 128, 2), 0.25) == (32, 32, 2)
    assert downsampled_shape((700, 1, 1), 1.0) == (700, 1, 1)


@pytest.mark.skipif(not tonic_available(), reason="tonic not installed")
def test_downsample_agrees_with_tonic():
    from tonic.transforms import Downsample
    ev, _ = SyntheticGesture(num_samples=3, seed=1)[2]
    ours = downsample_numpy(ev, spatial_factor=0.25)
    theirs = Downsample(spatial_factor=0.25)(ev)
    assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs)
    dvs = np.dtype([("x", np.int16), ("y", np.int16), ("p", bool), ("t", np.int64)])
    ev2 = np.zeros(len(ev), dvs)
    for f in dvs.names:
        ev2[f] = ev[f]
    assert np.array_equal(downsample_numpy(ev2, 0.25), Downsample(spatial_factor=0.25)(ev2))


def test_synthetic_gesture_recordings():
    ds = SyntheticGesture(num_samples=11, seed=5)
    assert len(ds) == 11 and ds.sensor_size == (128, 128, 2) and len(ds.classes) == 11
    for i in range(11):
        ev, label = ds[i]
        assert label == i
        check_events(ev, ds.ordering, ds.sensor_size)          # sorted, in range, non-empty
        assert 0.9e6 < ev["t"].max() <= 1.5e6                  # microseconds
        assert 0.3 < ev["p"].mean() < 0.7 and len(ev) > 2000
    a, _ = SyntheticGesture(num_samples=2, seed=5)[1]
    b, _ = SyntheticGesture(num_samples=2, seed=6)[1]
    c, _ = SyntheticGesture(num_samples=2, seed=5, train=False)[1]
    assert np.array_equal(a, ds[1][0])                        # deterministic from the seed
    assert not np.array_equal(a, b) and not np.array_equal(a, c)


def test_synthetic_gesture_directions_differ():
    """cw and ccw circles on the same side differ only in the direction of motion: the
    hand's mean angular velocity about the circle centre has opposite signs."""
    def angular_velocity(label):
        ds = SyntheticGesture(num_samples=11, seed=2)
        ev, _ = ds[label]
        on = ev[ev["p"]]
        t = on["t"] // 20000
        cx, cy = np.bincount(t, on["x"]) / np.maximum(np.bincount(t), 1), \
            np.bincount(t, on["y"]) / np.maximum(np.bincount(t), 1)
        ok = np.bincount(t) > 50
        ang = np.unwrap(np.arctan2(cy[ok] - cy[ok].mean(), cx[ok] - cx[ok].mean()))
        return ang[-1] - ang[0]
    assert angular_velocity(3) > 0 > angular_velocity(4)       # y down: + is clockwise
    assert angular_velocity(5) > 0 > angular_velocity(6)


def test_load_synthetic_gesture_spikes():
    data = load_synthetic_gesture(num_train=11, num_test=4, seed=0)
    assert data.num_inputs == 2048 and data.input_shape == (32, 32, 2)
    assert data.num_classes == 11 and len(data.train_x) == 11 and len(data.test_y) == 4
    assert data.example_timesteps <= 101
    for s in data.train_x:
        start = np.concatenate(([0], s.end_spikes[:-1]))
        for a, b in zip(start, s.end_spikes):
            times = s.spike_times[a:b]
            assert np.all(np.diff(times) >= 1.0)                # one spike per neuron per step
            assert np.all(times == np.round(times))


def test_load_digits():
    pytest.importorskip("sklearn")
    data = load_digits()
    assert (len(data.train_y), len(data.test_y), data.num_inputs) == (1437, 360, 64)
    assert max(s.spike_times.max() for s in data.train_x) < 19.0


def test_spike_dataset_inconsistent_counts():
    x = [preprocess_spikes([1.0], [0], 3)] * 3
    with pytest.raises(InputError, match="3 input examples but 2 labels"):
        SpikeDataset("toy", x, [0, 1], x, [0, 1, 0], 3, ["a", "b"], (3,))
    with pytest.raises(InputError, match="has 3 neurons but the dataset has 4 inputs"):
        SpikeDataset("toy", x, [0, 1, 1], x, [0, 1, 0], 4, ["a", "b"], (4,))
    with pytest.raises(InputError, match="labels span 0..2 but there are 2 classes"):
        SpikeDataset("toy", x, [0, 1, 2], x, [0, 1, 0], 3, ["a", "b"], (3,))


@pytest.mark.parametrize("loader, folder, files", [
    (load_dvs_gesture, "DVSGesture", ["ibmGestureTrain.tar.gz", "ibmGestureTrain/"]),
    (load_shd, "SHD", ["shd_train.h5.zip", "shd_train.h5"]),
])
def test_missing_real_data_says_where_and_leaves_no_folders(tmp_path, loader, folder, files):
    root = tmp_path / "data"
    with pytest.raises(DatasetUnavailableError) as info:
        loader(root)
    msg = str(info.value)
    if tonic_available():
        for f in files:
            assert str(root / folder / f) in msg
        assert "download" in msg
    else:
        assert "pip install" in msg
    assert not root.exists()                                   # nothing created
    root.mkdir()
    with pytest.raises(DatasetUnavailableError):
        loader(root)
    assert list(root.iterdir()) == []
