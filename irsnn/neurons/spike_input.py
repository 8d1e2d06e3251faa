"""Input neurons that replay given spike trains.

Requires: :mod:`.input` (the protocol and :class:`~.input.PreparedInputs`),
:mod:`irsnn.utils.data` (spike trains and schedules) and :class:`~irsnn.utils.model.NeuronModel`.
Provides :class:`SpikeInput` (mlGeNN's) and :class:`SpikeTrains` (a dataset's spike trains,
prepared once), with :data:`CHECK_GROUP_SPIKES` and :data:`SCHEDULE_CACHE_BYTES`.
"""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np

from ..errors import InputError, ModelError
from ..utils.data import PreprocessedSpikes, SpikeSchedule, batch_spikes, check_schedule_fits
from ..utils.decorators import network_default_params
from ..utils.model import NeuronModel
from .input import Input, PreparedInputs, check_finite, state_owner
from .neuron import Neuron


#: spike times :meth:`SpikeInput.prepare_input` checks in one go (bounds its temporaries)
CHECK_GROUP_SPIKES = 1 << 20
#: bytes of spike schedules a :class:`SpikeTrains` keeps for its examples' next uses
SCHEDULE_CACHE_BYTES = 256 << 20


class SpikeInput(Neuron, Input):
    """Emits the spike trains given as :class:`~irsnn.utils.data.PreprocessedSpikes`.

    Each neuron emits its spikes of the example in its batch element, at most one per step,
    each at the first step whose start time ``t`` is >= the spike time (GeNN's spike source
    array). The steps are counted from the one at which the batch is applied
    (:func:`~irsnn.utils.data.spike_schedule`, :meth:`set_input`).

    Parameters
    ----------
    max_spikes : int
        Most spikes the population can emit in one batch (all examples and neurons together).
    """

    @network_default_params
    def __init__(self, max_spikes=1000000):
        super().__init__()
        if (isinstance(max_spikes, bool) or not isinstance(max_spikes, (Integral, np.integer))
                or max_spikes < 1):
            raise ModelError(f"SpikeInput: max_spikes must be an integer >= 1 "
                             f"(got {max_spikes!r})")
        self.max_spikes = int(max_spikes)

    def get_model(self, population, dt: float, batch_size: int = 1) -> NeuronModel:
        # GeNN's spike source array, with the emission step of every spike worked out on the
        # host when a batch is applied (:func:`~irsnn.utils.data.spike_schedule`): a step's
        # update copies its spikes' ids, with no work per neuron
        return NeuronModel({"spike_schedule": True}, None, {}, {}, {})

    def prepare_input(self, shape, data, example_timesteps, dt):
        """The examples as :class:`SpikeTrains`, all checked at once (see :meth:`_checks_pass`);
        a single :data:`PreprocessedSpikes` is left as it is."""
        if isinstance(data, PreprocessedSpikes | SpikeTrains):
            return data
        examples = list(data)
        n = math.prod(shape)
        duration = example_timesteps * dt
        return SpikeTrains(examples, n, duration, self._checks_pass(examples, n, duration))

    def set_input(self, state, batch_size: int, shape, input):
        owner = state_owner(state, self)
        n = math.prod(shape)
        examples = [input] if isinstance(input, PreprocessedSpikes) else list(input)
        if len(examples) == 0 or len(examples) > batch_size:
            raise InputError(f"{owner}: got {len(examples)} spike trains for a batch size of "
                             f"{batch_size}; pass between 1 and {batch_size}")
        duration = None
        if getattr(state, "example_timesteps", None) is not None:
            duration = state.example_timesteps * state.dt
        if not (isinstance(input, SpikeTrains) and input.checked(n, duration)):
            for i, ex in enumerate(examples):
                self._check_example(owner, i, ex, n, duration)
        total = sum(len(ex.spike_times) for ex in examples)
        if total > self.max_spikes:
            raise InputError(
                f"{owner}: the batch holds {total} spikes but max_spikes is "
                f"{self.max_spikes}; create the neuron with SpikeInput(max_spikes={total}) "
                f"or more (see irsnn.utils.data.calc_max_spikes)")
        if isinstance(input, SpikeTrains) and state.timestep == 0:
            schedule = input.schedule(batch_size, state)
        else:
            batched = batch_spikes(examples, batch_size)
            schedule = state.spike_schedule(batched.end_spikes, batched.spike_times)
        state.set_egp("ScheduleSpikes", schedule.spikes)
        state.set_egp("ScheduleOffsets", schedule.offsets)
        state.set_egp("ScheduleWindow", schedule.window)

    @staticmethod
    def _checks_pass(examples, n, duration) -> np.ndarray:
        """Per example, whether :meth:`_check_example` is sure to pass it, decided for many
        examples at once (a few NumPy operations on all their spike times instead of a dozen
        per example). False also for data in an unusual form (lists, other dtypes):
        :meth:`_check_example` then decides, and words the error, when its batch is applied."""
        good = np.zeros(len(examples), bool)
        group, spikes = [], 0
        for i, ex in enumerate(examples):
            if (isinstance(ex, PreprocessedSpikes)
                    and isinstance(ex.end_spikes, np.ndarray) and ex.end_spikes.shape == (n,)
                    and ex.end_spikes.dtype.kind in "iu"
                    and isinstance(ex.spike_times, np.ndarray) and ex.spike_times.ndim == 1
                    and ex.spike_times.dtype.kind in "fiu"):
                group.append(i)
                spikes += len(ex.spike_times)
            if group and (spikes >= CHECK_GROUP_SPIKES or i == len(examples) - 1):
                if SpikeInput._all_pass([examples[j] for j in group], n, duration):
                    good[group] = True
                else:  # some example is bad: find which (the others need no second look)
                    good[group] = [SpikeInput._all_pass([examples[j]], n, duration)
                                   for j in group]
                group, spikes = [], 0
        return good

    @staticmethod
    def _all_pass(examples, n, duration) -> bool:
        """Whether :meth:`_check_example` passes every one of ``examples`` (in the usual form:
        arrays of the right shape and kind), tested on all of them together."""
        counts = np.array([len(ex.spike_times) for ex in examples], np.int64)
        offsets = np.zeros(len(examples) + 1, np.int64)
        np.cumsum(counts, out=offsets[1:])
        if not n:
            return not offsets[-1]
        ends = np.stack([ex.end_spikes for ex in examples]).astype(np.int64, copy=False)
        if ((ends[:, 0] < 0).any() or (ends[:, -1] != counts).any()
                or (ends[:, 1:] < ends[:, :-1]).any()):
            return False
        if not offsets[-1]:
            return True
        times = np.concatenate([ex.spike_times for ex in examples], dtype=np.float64)
        # every time in [0, duration) (NaN fails both tests)
        if not (times.min() >= 0.0 and times.max() < (np.inf if duration is None
                                                       else duration)):
            return False
        # sorted within each neuron: a time may only decrease where an example's or a
        # neuron's spikes start
        descents = times[1:] < times[:-1]
        starts = np.zeros(len(times) + 1, bool)
        starts[offsets] = True
        starts[offsets[:-1, None] + ends[:, :-1]] = True
        descents &= ~starts[1:-1]
        return not descents.any()

    @staticmethod
    def _check_example(owner, i, ex, n, duration):
        if not isinstance(ex, PreprocessedSpikes):
            raise InputError(f"{owner}: example {i} is a {type(ex).__name__}, not "
                             f"PreprocessedSpikes; convert it with preprocess_spikes")
        end = np.asarray(ex.end_spikes)
        if end.dtype.kind == "f" and np.all(end == np.round(end)):
            end = end.astype(np.int64)  # whole numbers stored as floats index as they are
        elif end.dtype.kind not in "iu" and end.size:
            raise InputError(f"{owner}: example {i} has end_spikes of dtype {end.dtype}; they "
                             f"must be whole numbers (build the data with preprocess_spikes)")
        times = np.asarray(ex.spike_times, dtype=np.float64)
        if end.shape != (n,):
            raise InputError(f"{owner}: example {i} has spike data for {end.size} neurons but "
                             f"the population has {n}")
        if n and (end[0] < 0 or end[-1] != len(times) or (end[1:] < end[:-1]).any()) or \
                (not n and len(times)):
            raise InputError(f"{owner}: example {i} has inconsistent end_spikes (must be "
                             f"non-decreasing and end at {len(times)}, the number of spikes)")
        if not len(times):
            return
        # one pass for the common case (every time finite and in range; NaN fails both tests),
        # the precise diagnosis only for bad data
        lo, hi = times.min(), times.max()
        if not (lo >= 0.0 and hi < (np.inf if duration is None else duration)):
            check_finite(owner, times, f"example {i} spike times")
            if lo < 0.0:
                j = int(np.argmin(times))
                raise InputError(f"{owner}: example {i} has spike time {times[j]} (index {j}) "
                                 f"< 0; spike times must be >= 0 ms")
            j = int(np.argmax(times))
            raise InputError(
                f"{owner}: example {i} has spike time {times[j]} ms (index {j}) but examples "
                f"last {duration} ms; spike times must be < example_timesteps * dt")
        down = np.flatnonzero(times[1:] < times[:-1]) + 1
        if len(down):
            # a time may only decrease where a new neuron's spikes start
            starts = np.zeros(len(times) + 1, bool)
            starts[end[:-1]] = True
            down = down[~starts[down]]
        if len(down):
            raise InputError(f"{owner}: example {i} spike times are not sorted within each "
                             f"neuron; build the data with preprocess_spikes")


class SpikeTrains(PreparedInputs):
    """A dataset of :data:`PreprocessedSpikes` examples for one :class:`SpikeInput`
    population, with the result of checking them all at once (its
    :meth:`~SpikeInput.prepare_input`), and the spike schedules of the examples applied so far
    (up to :data:`SCHEDULE_CACHE_BYTES`), so later epochs do not work them out again.

    Indexing with an integer gives an example; with a slice or an integer array, the selected
    examples as ``SpikeTrains`` sharing the checks and the schedules (no data are copied).

    Parameters
    ----------
    examples : list of PreprocessedSpikes
    num_neurons : int
        Neurons of the population the examples were checked for.
    duration : float
        Example duration (ms) the spike times were checked against.
    good : numpy.ndarray of bool
        Per example, whether it passed the checks.
    """

    def __init__(self, examples, num_neurons, duration, good, index=None, schedules=None):
        self.examples = examples
        self.num_neurons = num_neurons
        self.duration = duration
        self.good = good
        self.index = np.arange(len(examples)) if index is None else index
        #: shared by every selection: ``{"key": (dt, dtype), "bytes": n, example: (ids,
        #: ends)}`` with ``ends[k]`` the end of step ``k``'s spikes in ``ids``
        self._schedules = {"key": None, "bytes": 0} if schedules is None else schedules

    def checked(self, num_neurons, duration) -> bool:
        """Every selected example passed the checks for this population and duration."""
        return (num_neurons == self.num_neurons and duration == self.duration
                and bool(self.good[self.index].all()))

    def schedule(self, batch_size, state):
        """The :class:`~irsnn.utils.data.SpikeSchedule` of the selected examples as one batch
        starting at step 0 (``state.timestep`` must be 0), joined from the examples' kept
        schedules. An example not kept yet is worked out (``state.spike_schedule``) with the
        next ones of the data set that are not either, up to :data:`CHECK_GROUP_SPIKES` spikes
        in one go, and they are kept while :data:`SCHEDULE_CACHE_BYTES` allows."""
        cache = self._schedules
        key = (float(state.dt), np.dtype(state.scalar))
        if cache["key"] != key:
            cache.clear()
            cache.update(key=key, bytes=0)
        index = [int(i) for i in self.index]
        parts = {i: cache[i] for i in index if i in cache}
        missing = [i for i in dict.fromkeys(index) if i not in parts]
        if missing:
            # the batch's own examples first, then the data set's next unkept ones that
            # passed the checks (for this many neurons)
            group, spikes, wanted = [], 0, set(missing)
            same = len(self.examples[missing[0]].end_spikes) == self.num_neurons
            for i in missing + [j for j in range(len(self.examples)) if same and self.good[j]
                                and j not in cache and j not in wanted]:
                if group and i not in wanted and (
                        spikes + len(self.examples[i].spike_times) > CHECK_GROUP_SPIKES
                        or cache["bytes"] + 8 * spikes > SCHEDULE_CACHE_BYTES):
                    break
                group.append(i)
                spikes += len(self.examples[i].spike_times)
            batched = batch_spikes([self.examples[i] for i in group], len(group))
            fresh = state.spike_schedule(batched.end_spikes, batched.spike_times)
            steps = int(fresh.window[1])
            for b, i in enumerate(group):
                first, last = int(fresh.offsets[b * steps]), int(fresh.offsets[b * steps + steps])
                ends = fresh.offsets[b * steps + 1:b * steps + steps + 1] - np.uint32(first)
                # steps after the example's last spike are left out (a batch pads them)
                ends = ends[:int(np.searchsorted(ends, last - first)) + 1 if last > first else 0]
                part = (fresh.spikes[first:last].copy(), ends)
                if i in wanted:
                    parts[i] = part
                size = part[0].nbytes + ends.nbytes
                if cache["bytes"] + size <= SCHEDULE_CACHE_BYTES:
                    cache[i] = part
                    cache["bytes"] += size
        return _join_schedules([parts[i] for i in index], batch_size)

    def __len__(self):
        return len(self.index)

    def __getitem__(self, key):
        if isinstance(key, Integral):
            return self.examples[self.index[key]]
        return SpikeTrains(self.examples, self.num_neurons, self.duration, self.good,
                           self.index[key], self._schedules)

    def __iter__(self):
        return (self.examples[i] for i in self.index)


def _join_schedules(parts, batch_size) -> SpikeSchedule:
    """One batch's schedule (from step 0) from its examples' ``(ids, ends)``; batch elements
    beyond them are idle."""
    steps = max((len(ends) for _, ends in parts), default=0)
    offsets = np.zeros(batch_size * steps + 1, np.uint32)
    rows = offsets[1:].reshape(batch_size, steps)
    base = 0
    for b in range(batch_size):
        filled = 0
        if b < len(parts):
            ids, ends = parts[b]
            rows[b, :len(ends)] = ends + np.uint32(base)
            base += len(ids)
            filled = len(ends)
        rows[b, filled:] = base  # after the example's last spike, and idle elements
    check_schedule_fits(steps, base)
    spikes = np.concatenate([ids for ids, _ in parts]) if base else np.zeros(1, np.uint32)
    return SpikeSchedule(spikes, offsets, np.array([0, steps], np.uint32))
