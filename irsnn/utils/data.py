"""Data utilities: the compact spike-train format and simple encoders."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence

import numpy as np

from ..errors import InputError

PreprocessedSpikes = namedtuple("PreprocessedSpikes", ["end_spikes", "spike_times"])
PreprocessedSpikes.__doc__ = """Spike trains of one example.

``spike_times`` holds every spike, sorted by neuron and then by time; ``end_spikes[i]`` is the
index one past the last spike of neuron ``i`` (a cumulative count).
"""


def preprocess_spikes(times, ids, num_neurons: int) -> PreprocessedSpikes:
    """Convert parallel arrays of spike times (ms) and neuron ids to :data:`PreprocessedSpikes`.

    Raises
    ------
    InputError
        If the arrays differ in length or an id is outside ``[0, num_neurons)``.
    """
    times = np.asarray(times, dtype=np.float64).reshape(-1)
    ids = np.asarray(ids).reshape(-1)
    if times.shape != ids.shape:
        raise InputError(f"preprocess_spikes: {times.size} spike times but {ids.size} ids; "
                         f"pass one id per spike")
    if ids.size and not np.issubdtype(ids.dtype, np.integer):
        if not np.all(ids == np.round(ids)):
            raise InputError("preprocess_spikes: neuron ids must be integers")
        ids = ids.astype(np.int64)
    ids = ids.astype(np.int64)
    bad = (ids < 0) | (ids >= num_neurons)
    if np.any(bad):
        j = int(np.argmax(bad))
        raise InputError(f"preprocess_spikes: neuron id {ids[j]} (spike {j}) is outside "
                         f"[0, {num_neurons})")
    end_spikes = np.cumsum(np.bincount(ids, minlength=num_neurons))
    order = np.lexsort((times, ids))
    return PreprocessedSpikes(end_spikes, times[order])


def batch_spikes(spikes: Sequence[PreprocessedSpikes], batch_size: int) -> PreprocessedSpikes:
    """Concatenate up to ``batch_size`` examples into one batch.

    Returns ``PreprocessedSpikes`` whose ``end_spikes`` is ``(batch_size, num_neurons)``
    (indices into the concatenated ``spike_times``); missing examples have no spikes.
    """
    spikes = list(spikes)
    if len(spikes) > batch_size:
        raise InputError(f"cannot batch {len(spikes)} examples with a batch size of "
                         f"{batch_size}")
    num_neurons = len(spikes[0].end_spikes)
    if any(len(s.end_spikes) != num_neurons for s in spikes):
        raise InputError("cannot batch PreprocessedSpikes with different numbers of neurons")
    counts = [len(s.spike_times) for s in spikes]
    offsets = np.concatenate(([0], np.cumsum(counts)))
    end = np.full((batch_size, num_neurons), offsets[-1], dtype=np.int64)
    for b, s in enumerate(spikes):
        end[b] = np.asarray(s.end_spikes, dtype=np.int64) + offsets[b]
    times = (np.concatenate([np.asarray(s.spike_times, dtype=np.float64) for s in spikes])
             if spikes else np.zeros(0))
    return PreprocessedSpikes(end, times)


def calc_start_spikes(end_spikes: np.ndarray) -> np.ndarray:
    """Start index of every neuron's spikes, from (batched) ``end_spikes``."""
    end_spikes = np.asarray(end_spikes)
    flat = end_spikes.reshape(-1)
    start = np.empty_like(flat)
    if flat.size:
        start[0] = 0
        start[1:] = flat[:-1]
    return start.reshape(end_spikes.shape)


def calc_max_spikes(spikes: Sequence[PreprocessedSpikes]) -> int:
    """Largest number of spikes in any one example."""
    return max(len(p.spike_times) for p in spikes)


def calc_latest_spike_time(spikes: Sequence[PreprocessedSpikes]) -> float:
    """Time of the latest spike in any example."""
    return max(np.max(p.spike_times) for p in spikes if len(p.spike_times))


def _examples(data):
    data = np.asarray(data)
    return [np.asarray(data[i]).reshape(-1) for i in range(len(data))]


def linear_latency_encode_data(data, max_time: float, min_time: float = 0.0,
                               thresh: int = 1) -> list[PreprocessedSpikes]:
    """Latency-encode uint8-range data linearly: value 255 spikes at ``min_time``, 0 at
    ``max_time``; values not greater than ``thresh`` do not spike.

    Each example is flattened (row-major) to one spike train per element.
    """
    time_range = max_time - min_time
    out = []
    for x in _examples(data):
        mask = x > thresh
        vals = x[mask].astype(np.float64)
        times = (((255.0 - vals) / 255.0) * time_range) + min_time
        out.append(PreprocessedSpikes(np.cumsum(mask), times))
    return out


def log_latency_encode_data(data, tau_eff: float, thresh: float) -> list[PreprocessedSpikes]:
    """Latency-encode data logarithmically: ``T(x) = tau_eff * log(x / (x - thresh))`` for
    ``x > thresh``; smaller values do not spike. Each example is flattened (row-major).
    """
    out = []
    for x in _examples(data):
        mask = x > thresh
        vals = x[mask].astype(np.float64)
        out.append(PreprocessedSpikes(np.cumsum(mask), tau_eff * np.log(vals / (vals - thresh))))
    return out


def get_dataset_size(data) -> int | None:
    """Number of examples in a ``{key: data}`` dict, or ``None`` if the lengths differ."""
    sizes = {len(d) for d in data.values()}
    return sizes.pop() if len(sizes) == 1 else None


def batch_dataset(data, batch_size: int, size: int) -> list:
    """Split a ``{key: data}`` dict into a list of per-batch dicts."""
    return [{k: v[s:s + batch_size] for k, v in data.items()}
            for s in range(0, size, batch_size)]


def permute_dataset(data, indices) -> dict:
    """Reorder every value of a ``{key: data}`` dict by ``indices``."""
    return {k: (v[indices] if isinstance(v, np.ndarray) else [v[i] for i in indices])
            for k, v in data.items()}


def split_dataset(data, split: float):
    """Split a ``{key: data}`` dict into the first ``1 - split`` and the last ``split``."""
    if not 0.0 <= split <= 1.0:
        raise InputError(f"split must be in [0, 1] (got {split})")
    point = int(round((1.0 - split) * get_dataset_size(data)))
    return ({k: v[:point] for k, v in data.items()}, {k: v[point:] for k, v in data.items()})
