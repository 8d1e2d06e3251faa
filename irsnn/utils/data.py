"""Data utilities (mlGeNN's ``ml_genn.utils.data``): spike trains, encoders and datasets.

Requires: NumPy only. Provides :data:`PreprocessedSpikes` and :func:`preprocess_spikes`,
:func:`batch_spikes`, :data:`SpikeSchedule` and :func:`spike_schedule`,
:func:`preprocess_tonic_spikes`, :func:`preprocess_tonic_spikes_separate`, the encoders
(:func:`linear_latency_encode_data`, :func:`log_latency_encode_data`),
:func:`generate_yin_yang_dataset` and the dataset helpers.

The compact spike-train format, event-camera (tonic) preprocessing, latency encoders, the
Yin-Yang generator and dataset helpers.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from numbers import Integral

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
    end = np.full((batch_size, num_neurons), sum(len(s.spike_times) for s in spikes),
                  dtype=np.int64)
    offset = 0
    for b, s in enumerate(spikes):
        end[b] = np.asarray(s.end_spikes, dtype=np.int64) + offset
        offset += len(s.spike_times)
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


SpikeSchedule = namedtuple("SpikeSchedule", ["spikes", "offsets", "window"])
SpikeSchedule.__doc__ = """The spikes of a batch of spike trains, step by step (what a
:class:`~irsnn.neurons.SpikeInput` population emits; see :func:`spike_schedule`).

``spikes`` (uint32): neuron ids, batch element by batch element and step by step, ascending
within a step; ``offsets`` (uint32, ``batch * steps + 1``): step ``k`` of batch element ``b``
emits ``spikes[offsets[b * steps + k]:offsets[b * steps + k + 1]]``; ``window`` (uint32):
``[first timestep, steps]``.
"""


_UINT32_MAX = int(np.iinfo(np.uint32).max)


def check_schedule_fits(last_step: float, spikes: int) -> None:
    """A spike schedule's steps (up to ``last_step``) and spikes must fit its 32-bit
    indices."""
    if last_step > _UINT32_MAX or spikes > _UINT32_MAX:
        raise InputError(f"spike_schedule: a schedule of {spikes} spikes up to timestep "
                         f"{last_step:.0f} does not fit its 32-bit indices; reset the time "
                         f"between batches, use smaller batches or shorter spike trains")


def spike_schedule(end_spikes, spike_times, first_step: int = 0, dt: float = 1.0,
                   dtype=np.float32) -> SpikeSchedule:
    """When each spike of batched spike trains is emitted, starting at timestep
    ``first_step``: at the first step whose start time (``step * dt`` rounded to ``dtype``) is at
    least the spike time (rounded to ``dtype``), and no earlier than one step after the
    neuron's previous spike (at most one spike per neuron and step: GeNN's spike source array).

    ``end_spikes`` is ``(batch, neurons)`` with indices into ``spike_times`` (sorted by batch
    element, neuron and time: :func:`batch_spikes`). Every spike is scheduled, however late.
    """
    end = np.asarray(end_spikes, np.int64)
    batch, n = end.shape
    start = calc_start_spikes(end).reshape(-1)
    counts = end.reshape(-1) - start
    times = np.asarray(spike_times).astype(dtype, copy=False)
    if not len(times):
        return SpikeSchedule(np.zeros(1, np.uint32), np.zeros(1, np.uint32),
                             np.array([first_step, 0], np.uint32))
    owner = np.repeat(np.arange(batch * n, dtype=np.int64), counts)  # b * n + neuron
    k = np.arange(len(times), dtype=np.int64) - np.repeat(start, counts)  # index in its train
    # the first step whose clock reaches each spike: the clock as the simulation computes it
    # (step * dt in double precision, rounded to the model's precision), searched
    check_schedule_fits(max(first_step, np.ceil(float(times.max()) / dt)), len(times))
    steps = max(1, int(np.ceil(float(times.max()) / dt)) + 2 - first_step)
    while True:
        clock = (np.arange(first_step, first_step + steps, dtype=np.float64) * dt).astype(dtype)
        due = np.searchsorted(clock, times, side="left")
        if due.max() < steps:
            break
        steps *= 2
    # one spike per step: the k-th spike of a train goes out at k + max_{j <= k}(due_j - j)
    # (a running maximum within each train: trains are made disjoint by an offset per owner)
    lag = due - k
    span = int(lag.max() - lag.min()) + 1
    step = k + np.maximum.accumulate(lag - lag.min() + owner * span) - owner * span + lag.min()
    steps = int(step.max()) + 1
    check_schedule_fits(first_step + steps, len(times))
    slot = (owner // n) * steps + step
    # spikes are in (batch element, neuron) order: a stable sort by slot keeps ids ascending
    order = np.argsort(slot, kind="stable")
    offsets = np.zeros(batch * steps + 1, np.int64)
    np.cumsum(np.bincount(slot, minlength=batch * steps), out=offsets[1:])
    return SpikeSchedule((owner[order] % n).astype(np.uint32), offsets.astype(np.uint32),
                         np.array([first_step, steps], np.uint32))


def calc_max_spikes(spikes: Sequence[PreprocessedSpikes]) -> int:
    """Largest number of spikes in any one example."""
    return max(len(p.spike_times) for p in spikes)


def calc_latest_spike_time(spikes: Sequence[PreprocessedSpikes]) -> float:
    """Time of the latest spike in any example."""
    return max(np.max(p.spike_times) for p in spikes if len(p.spike_times))


def _examples(data):
    data = np.asarray(data)
    return [np.asarray(data[i]).reshape(-1) for i in range(len(data))]


#: tonic event fields irsnn understands
_EVENT_FIELDS = ("x", "y", "t", "p")


def _sensor_shape(shape) -> tuple[int, int, int]:
    try:
        shape = tuple(int(s) for s in shape)
    except TypeError:
        raise InputError(f"preprocess_tonic_spikes: shape={shape!r} is not a sensor size; pass "
                         f"tonic's (width, height, polarities), e.g. dataset.sensor_size "
                         f"(DVS Gesture: (128, 128, 2); SHD: (700, 1, 1))") from None
    if len(shape) != 3 or min(shape) < 1:
        raise InputError(f"preprocess_tonic_spikes: shape={shape!r} must be a sensor size "
                         f"(width, height, polarities) of three positive integers, e.g. "
                         f"(128, 128, 2); a 1-D sensor such as SHD's is (700, 1, 1)")
    return shape


def check_events(events, ordering: Sequence[str], shape, where: str = "events",
                 require_sorted: bool = True):
    """Check a tonic event array against its ``ordering`` and sensor ``shape``.

    Parameters
    ----------
    events : numpy structured array
        One recording, with fields among ``x``, ``y``, ``t`` (ascending, >= 0) and ``p``.
    ordering : sequence of str
        The dataset's field order (``dataset.ordering``, e.g. ``"xytp"`` or
        ``("x", "y", "p", "t")``); it must contain ``t`` and ``p``.
    shape : tuple
        The sensor size ``(width, height, polarities)`` *after* any spatial transform.
    where : str
        Names the recording in error messages.
    require_sorted : bool
        Refuse events whose times are not in ascending order (callers that sort pass False).

    Returns
    -------
    tuple
        The sensor shape as three ints.

    Raises
    ------
    InputError
        If a field is missing, the recording is empty, times are negative or not sorted,
        a coordinate lies outside the sensor, a polarity is outside ``[0, P)`` (checked when
        ``P > 1``; with one channel the polarity is ignored, as SHD's is always 1), or
        ``shape`` does not fit the ordering (e.g. a height > 1 without a ``y`` field).
    """
    shape = _sensor_shape(shape)
    ordering = tuple(ordering)
    names = getattr(getattr(events, "dtype", None), "names", None)
    if names is None:
        raise InputError(f"{where}: expected a structured numpy array with fields "
                         f"{list(ordering)} (tonic's format; build one with "
                         f"irsnn.datasets.make_events), got {type(events).__name__} "
                         f"{getattr(events, 'dtype', '')}")
    if "t" not in ordering or "p" not in ordering:
        raise InputError(f"{where}: ordering {list(ordering)} lacks "
                         f"{[f for f in ('t', 'p') if f not in ordering]}; only event data "
                         f"with time (t) and polarity (p) are supported")
    unknown = [f for f in ordering if f not in _EVENT_FIELDS]
    if unknown:
        raise InputError(f"{where}: ordering {list(ordering)} has fields {unknown} irsnn does "
                         f"not know; use tonic's x, y, t, p")
    missing = [f for f in ordering if f not in names]
    if missing:
        raise InputError(f"{where}: the event array has fields {list(names)} but the ordering "
                         f"{list(ordering)} needs {missing}; pass the dataset's own ordering "
                         f"or add the fields")
    if "x" not in ordering:
        raise InputError(f"{where}: ordering {list(ordering)} has no x; only 1-D (x) and 2-D "
                         f"(x, y) sensors are supported")
    width, height, num_pol = shape
    if height > 1 and "y" not in ordering:
        raise InputError(f"{where}: shape {shape} has height {height} but the events have no "
                         f"y field; a 1-D sensor's shape is ({width}, 1, {num_pol})")
    if len(events) == 0:
        raise InputError(f"{where}: the recording has no events; drop empty recordings "
                         f"from the dataset before preprocessing")
    t = np.asarray(events["t"])
    if t.min() < 0:
        j = int(np.argmin(t))
        raise InputError(f"{where}: event {j} has the negative time {t[j]}; times must be "
                         f">= 0 (subtract the recording's start time)")
    if require_sorted and np.any(np.diff(t) < 0):
        j = int(np.argmax(np.diff(t) < 0))
        raise InputError(f"{where}: times are not sorted (event {j + 1} at {t[j + 1]} comes "
                         f"after event {j} at {t[j]}); sort the recording with "
                         f"events[np.argsort(events['t'], kind='stable')]")
    fields = [("x", width, "width")] + ([("y", height, "height")] if "y" in ordering else [])
    for field, size, what in fields:
        v = np.asarray(events[field])
        bad = (v < 0) | (v >= size)
        if np.any(bad):
            j = int(np.argmax(bad))
            raise InputError(f"{where}: event {j} has {field}={v[j]}, outside the sensor's "
                             f"{what} [0, {size}) (shape {shape}; {field} spans "
                             f"{v.min()}..{v.max()}); pass the sensor size after any spatial "
                             f"transform, e.g. (32, 32, 2) after Downsample(spatial_factor=0.25)")
    p = np.asarray(events["p"]).astype(np.int64)
    bad = (p < 0) | (p >= num_pol)
    if num_pol > 1 and np.any(bad):  # one channel: polarity is ignored (SHD's p is 1)
        j = int(np.argmax(bad))
        raise InputError(f"{where}: event {j} has polarity {p[j]} but shape {shape} has "
                         f"{num_pol} polarit{'y' if num_pol == 1 else 'ies'} (valid: 0.."
                         f"{num_pol - 1}; the recording has {np.unique(p).tolist()}); give the "
                         f"sensor's polarity count as shape[2] or map polarities to 0/1 with "
                         f"p > 0")
    return shape


def event_ids(events, ordering: Sequence[str], shape) -> np.ndarray:
    """Input-neuron id of every event: ``p + x*P + y*W*P`` on a 2-D sensor of shape
    ``(W, H, P)``, ``p + x*P`` on a 1-D one (with ``P == 1``: ``x + y*W`` and ``x``)."""
    width, _, num_pol = shape
    ids = np.asarray(events["x"]).astype(np.int64) * num_pol
    if "y" in ordering:
        ids += np.asarray(events["y"]).astype(np.int64) * (width * num_pol)
    if num_pol > 1:
        ids += np.asarray(events["p"]).astype(np.int64)
    return ids


def preprocess_tonic_spikes(events, ordering: Sequence[str], shape,
                            time_scale: float = 1.0 / 1000.0, dt: float | None = None,
                            histogram_thresh: int | None = None) -> PreprocessedSpikes:
    """Convert one tonic event recording into :data:`PreprocessedSpikes`.

    Each ``(x, y, p)`` of a sensor of shape ``(W, H, P)`` becomes one input neuron with id
    ``p + x*P + y*W*P`` (``p + x*P`` for a 1-D sensor); spike times are ``t * time_scale``
    (tonic's microseconds -> ms by default).

    Parameters
    ----------
    events : numpy structured array
        One recording, in any order (it is sorted by time, stably, as mlGeNN accepts any
        order); see :func:`check_events` for what else is checked.
    ordering : sequence of str
        ``dataset.ordering``.
    shape : tuple
        Sensor size ``(W, H, P)`` after any spatial transform (``dataset.sensor_size`` or, after
        ``Downsample(spatial_factor=0.25)`` of DVS Gesture, ``(32, 32, 2)``).
    time_scale : float
        Factor from event time units to ms.
    dt : float, optional
        Bin width (ms). When given, events are binned per neuron into ``[k dt, (k+1) dt)`` and
        every bin holding at least ``histogram_thresh`` events becomes exactly one spike at
        ``k dt``: at most one spike per neuron per bin, so the several events that spatial
        downsampling maps onto one neuron do not become duplicate spikes.
    histogram_thresh : int, optional
        Events a bin needs to spike (mlGeNN's ``>=`` rule). Needs ``dt``; defaults to 1 when
        ``dt`` is given.

    Notes
    -----
    mlGeNN ignores ``dt`` unless ``histogram_thresh`` is given (and asserts when only the
    threshold is given); irsnn bins whenever ``dt`` is given, which is what "at most one spike
    per neuron per dt" needs, and raises a clear error for a threshold without ``dt``.
    """
    shape = check_events(events, ordering, shape, where="preprocess_tonic_spikes",
                         require_sorted=False)
    t = np.asarray(events["t"])
    if np.any(np.diff(t) < 0):
        events = events[np.argsort(t, kind="stable")]
    num_neurons = int(np.prod(shape))
    ids = event_ids(events, ordering, shape)
    times = np.asarray(events["t"], dtype=np.float64) * time_scale
    if dt is None:
        if histogram_thresh is not None:
            raise InputError(f"preprocess_tonic_spikes: histogram_thresh={histogram_thresh} "
                             f"needs the bin width dt (e.g. dt=1.0)")
        return preprocess_spikes(times, ids, num_neurons)
    if not dt > 0:
        raise InputError(f"preprocess_tonic_spikes: dt={dt!r} must be > 0 ms")
    thresh = 1 if histogram_thresh is None else histogram_thresh
    if not isinstance(thresh, Integral | np.integer) or thresh < 1:
        raise InputError(f"preprocess_tonic_spikes: histogram_thresh={histogram_thresh!r} must "
                         f"be an integer >= 1 (events per bin)")
    bins = np.floor(times / dt).astype(np.int64)
    keys = ids * (int(bins.max()) + 1) + bins
    uniq, counts = np.unique(keys, return_counts=True)
    uniq = uniq[counts >= thresh]
    num_bins = int(bins.max()) + 1
    return preprocess_spikes((uniq % num_bins) * dt, uniq // num_bins, num_neurons)


def preprocess_tonic_spikes_separate(events, ordering: Sequence[str], shape,
                                     time_scale: float = 1.0 / 1000.0, dt: float | None = None,
                                     histogram_thresh: int | None = None
                                     ) -> list[PreprocessedSpikes]:
    """Convert one tonic recording into one :data:`PreprocessedSpikes` per polarity.

    Polarity ``p`` of a ``(W, H, P)`` sensor becomes its own train over ``W * H`` neurons
    (id ``x + y*W``), e.g. to feed ON and OFF events to separate input populations.
    Arguments are as :func:`preprocess_tonic_spikes`.

    Raises
    ------
    InputError
        The sensor has one polarity (nothing to separate), a polarity has no events, or the
        events fail :func:`check_events`.
    """
    shape = check_events(events, ordering, shape, where="preprocess_tonic_spikes_separate",
                         require_sorted=False)
    if shape[2] == 1:
        raise InputError(f"preprocess_tonic_spikes_separate: shape {shape} has one polarity, "
                         f"so there is nothing to separate; use preprocess_tonic_spikes")
    p = np.asarray(events["p"]).astype(np.int64)
    out = []
    for pol in range(shape[2]):
        part = events[p == pol]
        if len(part) == 0:
            raise InputError(f"preprocess_tonic_spikes_separate: the recording has no events "
                             f"of polarity {pol} (it has {np.unique(p).tolist()}); an empty "
                             f"train cannot be built, drop such recordings")
        out.append(preprocess_tonic_spikes(part, ordering, (shape[0], shape[1], 1), time_scale,
                                           dt, histogram_thresh))
    return out


def generate_yin_yang_dataset(size: int, scale: float, offset: float = 0.0, bias: bool = True,
                              r_small: float = 0.1, r_big: float = 0.5, seed=None):
    """The Yin-Yang dataset (Kriener et al. 2021) as latency-coded spikes.

    Points ``(x, y)`` are drawn uniformly inside the big circle (radius ``r_big``, in
    ``[0, 2 r_big]^2``), a class (yin 1, yang 0, dots 2) is drawn uniformly first and points
    are rejected until they belong to it. Each example has the four features
    ``(x, y, 1 - x, 1 - y)`` as spike times ``offset + scale * feature`` of four neurons,
    plus (``bias``) a fifth neuron spiking at ``offset`` (it is neuron 0).

    Parameters
    ----------
    size : int
        Examples to generate.
    scale, offset : float
        Spike time (ms) of a feature value is ``offset + scale * value``.
    bias : bool
        Add the bias neuron.
    r_small, r_big : float
        Radii of the dots and of the big circle.
    seed : int or numpy Generator, optional
        Random source (irsnn addition; mlGeNN uses NumPy's global state).

    Returns
    -------
    (list of PreprocessedSpikes, numpy int array of labels)
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if not isinstance(size, Integral) or size < 0:
        raise InputError(f"generate_yin_yang_dataset: size={size!r} must be an integer >= 0")

    def which_class(x, y):
        d_right = np.hypot(x - 1.5 * r_big, y - r_big)
        d_left = np.hypot(x - 0.5 * r_big, y - r_big)
        yin = ((d_right <= r_small) | ((d_left > r_small) & (d_left <= 0.5 * r_big))
               | ((y > r_big) & (d_right > 0.5 * r_big)))
        dots = (d_right < r_small) | (d_left < r_small)
        return np.where(dots, 2, yin.astype(np.int64))

    labels = rng.integers(0, 3, size)
    points = np.empty((size, 2))
    todo = np.arange(size)
    while len(todo):
        xy = rng.random((max(4 * len(todo), 64), 2)) * 2.0 * r_big
        xy = xy[np.hypot(xy[:, 0] - r_big, xy[:, 1] - r_big) <= r_big]
        cls = which_class(xy[:, 0], xy[:, 1])
        left = []
        for i in todo:
            hit = np.flatnonzero(cls == labels[i])
            if len(hit):
                points[i] = xy[hit[0]]
                cls[hit[0]] = -1
            else:
                left.append(i)
        todo = np.asarray(left, dtype=np.int64)
    num = 5 if bias else 4
    ids = np.arange(num)
    spikes = []
    for x, y in points:
        feats = [x, y, 1.0 - x, 1.0 - y]
        if bias:
            feats.insert(0, 0.0)
        spikes.append(preprocess_spikes(offset + scale * np.asarray(feats), ids, num))
    return spikes, labels


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


def check_examples(inputs, labels, where: str = "dataset") -> int:
    """Number of examples after checking that ``inputs`` and ``labels`` have as many.

    Raises
    ------
    InputError
        If the counts differ.
    """
    n_x, n_y = len(inputs), len(labels)
    if n_x != n_y:
        raise InputError(f"{where}: {n_x} input examples but {n_y} labels; give exactly one "
                         f"label per example")
    return n_x


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
