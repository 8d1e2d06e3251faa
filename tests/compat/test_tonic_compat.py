"""tonic preprocessing as mlGeNN accepts it: events in any order; one train per polarity."""

import numpy as np
import pytest

from irsnn.errors import InputError
from irsnn.utils.data import preprocess_tonic_spikes, preprocess_tonic_spikes_separate

DTYPE = np.dtype([("x", np.int16), ("y", np.int16), ("t", np.int64), ("p", np.int8)])
ORDER = ("x", "y", "t", "p")


def _events(n=200, seed=0, width=6, height=5):
    rng = np.random.default_rng(seed)
    ev = np.zeros(n, DTYPE)
    ev["x"], ev["y"] = rng.integers(0, width, n), rng.integers(0, height, n)
    ev["t"], ev["p"] = rng.integers(0, 50_000, n), rng.integers(0, 2, n)
    return ev


def _trains(s):
    start = np.concatenate([[0], s.end_spikes[:-1]])
    return [list(s.spike_times[a:b]) for a, b in zip(start, s.end_spikes)]


@pytest.mark.parametrize("dt", [None, 1.0])
def test_unsorted_events_give_the_sorted_result(dt):
    ev = _events()
    assert np.any(np.diff(ev["t"]) < 0)
    ordered = ev[np.argsort(ev["t"], kind="stable")]
    a = preprocess_tonic_spikes(ev, ORDER, (6, 5, 2), dt=dt)
    b = preprocess_tonic_spikes(ordered, ORDER, (6, 5, 2), dt=dt)
    assert np.array_equal(a.end_spikes, b.end_spikes)
    assert np.array_equal(a.spike_times, b.spike_times)
    assert all(t == sorted(t) for t in _trains(a))
    if dt is None:
        assert a.end_spikes[-1] == len(ev)     # every event is a spike


def test_separate_gives_one_train_per_polarity():
    ev = _events(seed=1)
    on, off = preprocess_tonic_spikes_separate(ev, ORDER, (6, 5, 2))
    assert len(on.end_spikes) == len(off.end_spikes) == 30      # W * H neurons each
    for pol, train in ((0, on), (1, off)):
        part = ev[ev["p"] == pol]
        ids = part["x"] + part["y"] * 6
        counts = np.bincount(ids, minlength=30)
        assert np.array_equal(np.diff(np.concatenate([[0], train.end_spikes])), counts)
        # neuron x + y*W spikes at its events' times (us -> ms)
        nid = int(ids[0])
        want = sorted(part["t"][ids == nid] / 1000.0)
        assert _trains(train)[nid] == pytest.approx(want)


def test_separate_refuses_one_polarity_and_a_missing_one():
    ev = _events()
    with pytest.raises(InputError, match="one polarity, so there is nothing to separate"):
        preprocess_tonic_spikes_separate(ev, ORDER, (6, 5, 1))
    ev["p"] = 1
    with pytest.raises(InputError, match=r"no events of polarity 0 \(it has \[1\]\)"):
        preprocess_tonic_spikes_separate(ev, ORDER, (6, 5, 2))
