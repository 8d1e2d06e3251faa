"""irsnn.utils.data: encoders and preprocessing against hand-computed cases, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from irsnn.errors import InputError
from irsnn.utils.data import (PreprocessedSpikes, calc_latest_spike_time, calc_max_spikes,
                              check_events, check_examples, event_ids,
                              generate_yin_yang_dataset, linear_latency_encode_data,
                              log_latency_encode_data, preprocess_spikes,
                              preprocess_tonic_spikes)

DVS = np.dtype([("x", np.int16), ("y", np.int16), ("p", bool), ("t", np.int64)])  # tonic's
ORDER = DVS.names


def events(x, y, p, t, dtype=DVS):
    ev = np.zeros(len(x), dtype=dtype)
    for name, v in zip("xypt", (x, y, p, t)):
        if name in dtype.names:
            ev[name] = v
    return ev


def trains(s: PreprocessedSpikes):
    """{neuron: [times]} of one example."""
    start = np.concatenate(([0], s.end_spikes[:-1]))
    return {i: list(s.spike_times[a:b]) for i, (a, b) in enumerate(zip(start, s.end_spikes))
            if b > a}


# -- preprocess_spikes / calc_* ---------------------------------------------------------------
def test_preprocess_spikes_hand_case():
    s = preprocess_spikes(np.array([5.0, 1.0, 3.0, 2.0]), np.array([2, 0, 2, 0]), 4)
    assert s.end_spikes.tolist() == [2, 2, 4, 4]
    assert s.spike_times.tolist() == [1.0, 2.0, 3.0, 5.0]


def test_calc_max_spikes_and_latest_time():
    a = preprocess_spikes([1.0, 7.5], [0, 1], 2)
    b = preprocess_spikes([2.0, 3.0, 4.0], [1, 1, 0], 2)
    assert calc_max_spikes([a, b]) == 3
    assert calc_latest_spike_time([a, b]) == 7.5


# -- preprocess_tonic_spikes ---------------------------------------------------------------------
def test_tonic_ids_2d_two_polarities():
    # shape (W, H, P) = (4, 3, 2): id = p + x*2 + y*4*2
    ev = events(x=[1, 3, 0], y=[0, 2, 1], p=[1, 0, 0], t=[1000, 2500, 4000])
    s = preprocess_tonic_spikes(ev, ORDER, (4, 3, 2))
    assert len(s.end_spikes) == 24
    assert trains(s) == {3: [1.0], 8: [4.0], 22: [2.5]}
    assert event_ids(ev, ORDER, (4, 3, 2)).tolist() == [3, 22, 8]


def test_tonic_ids_2d_one_polarity_and_1d():
    ev = events(x=[1, 3], y=[2, 0], p=[0, 0], t=[0, 10])
    s = preprocess_tonic_spikes(ev, ORDER, (4, 3, 1), time_scale=0.5)
    assert trains(s) == {9: [0.0], 3: [5.0]}          # x + y*W
    shd = np.dtype([("t", int), ("x", int), ("p", int)])
    ev = events(x=[699, 5, 5], y=None, p=[1, 1, 1], t=[3000, 1000, 2000], dtype=shd)
    s = preprocess_tonic_spikes(ev[np.argsort(ev["t"])], shd.names, (700, 1, 1))
    assert len(s.end_spikes) == 700                   # SHD's polarity (always 1) is ignored
    assert trains(s) == {5: [1.0, 2.0], 699: [3.0]}


def test_tonic_binning_one_spike_per_neuron_per_bin():
    # neuron 0 (x=0,p=0): t = 0.2, 0.7, 0.9 ms -> bin 0 once; 1.0 ms -> bin 1
    # neuron 1 (x=0,p=1): t = 2.5 ms -> bin 2; neuron 3 (x=1,p=1): 2 events in bin 3
    ev = events(x=[0, 0, 0, 0, 0, 1, 1], y=[0] * 7, p=[0, 0, 0, 0, 1, 1, 1],
                t=[200, 700, 900, 1000, 2500, 3100, 3900])
    s = preprocess_tonic_spikes(ev, ORDER, (2, 1, 2), dt=1.0)
    assert trains(s) == {0: [0.0, 1.0], 1: [2.0], 3: [3.0]}
    s2 = preprocess_tonic_spikes(ev, ORDER, (2, 1, 2), dt=1.0, histogram_thresh=2)
    assert trains(s2) == {0: [0.0], 3: [3.0]}         # bins with >= 2 events
    s3 = preprocess_tonic_spikes(ev, ORDER, (2, 1, 2), dt=2.0, time_scale=1 / 1000)
    assert trains(s3) == {0: [0.0], 1: [2.0], 3: [2.0]}


def test_tonic_no_duplicates_after_downsampling():
    from irsnn.datasets import downsample_numpy
    # four 128-px events that land on one 32-px pixel within one bin -> one spike
    ev = events(x=[8, 9, 10, 11], y=[4, 5, 6, 7], p=[1] * 4, t=[0, 100, 200, 300])
    small = downsample_numpy(ev, 0.25)
    assert set(small["x"]) == {2} and set(small["y"]) == {1}
    s = preprocess_tonic_spikes(small, ORDER, (32, 32, 2), dt=1.0)
    assert trains(s) == {1 + 2 * 2 + 1 * 32 * 2: [0.0]}


@pytest.mark.parametrize("case, match", [
    (lambda: (np.zeros((3, 4)), ORDER, (4, 4, 2)), "structured numpy array"),
    (lambda: (events([0], [0], [0], [0])[["x", "y", "t"]], ORDER, (4, 4, 2)), r"needs \['p'\]"),
    (lambda: (events([0], [0], [0], [0]), ("x", "y", "p"), (4, 4, 2)), "lacks"),
    (lambda: (events([0, 1], [0, 0], [0, 1], [5, -1]), ORDER, (4, 4, 2)), "negative time -1"),
    (lambda: (events([0, 4], [0, 0], [0, 1], [1, 2]), ORDER, (4, 4, 2)), r"x=4.*\[0, 4\)"),
    (lambda: (events([0, 1], [0, 9], [0, 1], [1, 2]), ORDER, (4, 4, 2)), r"y=9.*height"),
    (lambda: (events([0, 1], [0, 0], [0, 1], [1, 2]), ORDER, (4, 4, 1)), None),  # ok: P=1
    (lambda: (events([0], [0], [0], [0], dtype=np.dtype([("x", int), ("y", int), ("p", int),
                                                         ("t", int)]))[:0], ORDER, (4, 4, 2)),
     "no events"),
    (lambda: (events([0], [0], [0], [0]), ORDER, (4, 4)), "three positive integers"),
    (lambda: (events([0], [0], [0], [0]), ("x", "t", "p"), (4, 4, 2)), "height 4"),
])
def test_bad_events(case, match):
    ev, ordering, shape = case()
    if match is None:
        preprocess_tonic_spikes(ev, ordering, shape)
        return
    with pytest.raises(InputError, match=match):
        preprocess_tonic_spikes(ev, ordering, shape)


def test_check_events_refuses_unsorted_times_unless_told():
    ev = events([0, 1], [0, 0], [0, 1], [5, 3])
    with pytest.raises(InputError, match="not sorted"):
        check_events(ev, ORDER, (4, 4, 2))
    assert check_events(ev, ORDER, (4, 4, 2), require_sorted=False) == (4, 4, 2)


def test_wrong_polarity_count_names_the_numbers():
    ev = events([0, 1], [0, 0], [0, 0], [1, 2], dtype=np.dtype(
        [("x", int), ("y", int), ("p", int), ("t", int)]))
    ev["p"] = [-1, 1]
    with pytest.raises(InputError, match=r"polarity -1 .* 2 polarities .*\[-1, 1\]"):
        check_events(ev, ORDER, (2, 1, 2))


def test_shape_that_does_not_match_the_sensor():
    ev = events([127, 3], [64, 2], [1, 0], [1, 2])
    with pytest.raises(InputError, match=r"x=127.*Downsample"):
        preprocess_tonic_spikes(ev, ORDER, (32, 32, 2))


def test_binning_arguments():
    ev = events([0], [0], [0], [0])
    with pytest.raises(InputError, match="needs the bin width dt"):
        preprocess_tonic_spikes(ev, ORDER, (1, 1, 2), histogram_thresh=2)
    with pytest.raises(InputError, match="dt=0"):
        preprocess_tonic_spikes(ev, ORDER, (1, 1, 2), dt=0)


def test_check_examples():
    assert check_examples([1, 2], np.array([0, 1])) == 2
    with pytest.raises(InputError, match="3 input examples but 2 labels"):
        check_examples([1, 2, 3], [0, 1])


# -- latency encoders ---------------------------------------------------------------------------
def test_linear_latency_hand_case():
    data = np.array([[0, 255, 51, 1, 2]], dtype=np.uint8)
    (s,) = linear_latency_encode_data(data, max_time=20.0, min_time=5.0)
    # thresh 1: values > 1 spike at 5 + 15 * (255 - v) / 255
    assert s.end_spikes.tolist() == [0, 1, 2, 2, 3]
    np.testing.assert_allclose(s.spike_times, [5.0, 5.0 + 15 * 204 / 255, 5.0 + 15 * 253 / 255])


def test_log_latency_hand_case():
    (s,) = log_latency_encode_data(np.array([[2.0, 1.0, 4.0]]), tau_eff=10.0, thresh=1.0)
    assert s.end_spikes.tolist() == [1, 1, 2]
    np.testing.assert_allclose(s.spike_times, [10 * np.log(2.0), 10 * np.log(4.0 / 3.0)])


# -- Yin-Yang -----------------------------------------------------------------------------------
def _yy_class(x, y, r_small=0.1, r_big=0.5):
    d_right = np.hypot(x - 1.5 * r_big, y - r_big)
    d_left = np.hypot(x - 0.5 * r_big, y - r_big)
    if d_right < r_small or d_left < r_small:
        return 2
    return int(d_right <= r_small or r_small < d_left <= 0.5 * r_big
               or (y > r_big and d_right > 0.5 * r_big))


def test_yin_yang():
    spikes, labels = generate_yin_yang_dataset(300, scale=30.0, offset=2.0, seed=4)
    again, labels2 = generate_yin_yang_dataset(300, scale=30.0, offset=2.0, seed=4)
    assert np.array_equal(labels, labels2)
    assert all(np.array_equal(a.spike_times, b.spike_times) for a, b in zip(spikes, again))
    assert set(np.bincount(labels, minlength=3)) and min(np.bincount(labels)) > 60
    for s, lab in zip(spikes, labels):
        assert s.end_spikes.tolist() == [1, 2, 3, 4, 5]
        bias, x, y, xc, yc = (s.spike_times - 2.0) / 30.0
        assert bias == 0.0
        np.testing.assert_allclose([xc, yc], [1 - x, 1 - y], atol=1e-12)
        assert np.hypot(x - 0.5, y - 0.5) <= 0.5
        assert _yy_class(x, y) == lab
    no_bias, _ = generate_yin_yang_dataset(3, scale=1.0, bias=False, seed=0)
    assert len(no_bias[0].end_spikes) == 4
