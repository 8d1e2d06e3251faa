"""The container every irsnn dataset loader returns, and event-dataset -> spikes conversion.

Requires: :mod:`irsnn.utils.data` (the spike-train format and its checks) and NumPy.
Provides :class:`SpikeDataset` and :func:`events_to_spikes`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..utils.data import (PreprocessedSpikes, calc_latest_spike_time, calc_max_spikes,
                          check_examples, preprocess_tonic_spikes)


@dataclass
class SpikeDataset:
    """A train/test split of spike-encoded examples, ready for ``SpikeInput``.

    Attributes
    ----------
    name : str
    train_x, test_x : list of PreprocessedSpikes
    train_y, test_y : numpy int64 arrays of class indices
    num_inputs : int
        Input neurons (``prod(input_shape)``).
    classes : list of str
        Class names; ``num_classes`` is their count.
    input_shape : tuple
        Shape of the input population (e.g. ``(32, 32, 2)`` for x, y, p of DVS Gesture;
        the neuron id of ``(x, y, p)`` is ``p + x*P + y*W*P``).
    ms_per_step : float
        Real milliseconds per simulation timestep (1 ms for static data; the bin width of
        binned event data).
    """

    name: str
    train_x: list
    train_y: np.ndarray
    test_x: list
    test_y: np.ndarray
    num_inputs: int
    classes: list
    input_shape: tuple
    ms_per_step: float = 1.0
    notes: dict = field(default_factory=dict)

    def __post_init__(self):
        self.train_y = np.asarray(self.train_y, dtype=np.int64)
        self.test_y = np.asarray(self.test_y, dtype=np.int64)
        check_examples(self.train_x, self.train_y, f"{self.name} training set")
        check_examples(self.test_x, self.test_y, f"{self.name} test set")
        for split, xs in (("training", self.train_x), ("test", self.test_x)):
            if not len(xs):
                raise InputError(f"{self.name}: the {split} set is empty")
            bad = [i for i, s in enumerate(xs) if not isinstance(s, PreprocessedSpikes)
                   or len(s.end_spikes) != self.num_inputs]
            if bad:
                s = xs[bad[0]]
                got = len(s.end_spikes) if isinstance(s, PreprocessedSpikes) else type(s)
                raise InputError(f"{self.name}: {split} example {bad[0]} has {got} neurons "
                                 f"but the dataset has {self.num_inputs} inputs")
        for split, ys in (("training", self.train_y), ("test", self.test_y)):
            if ys.min() < 0 or ys.max() >= self.num_classes:
                raise InputError(f"{self.name}: {split} labels span {ys.min()}..{ys.max()} "
                                 f"but there are {self.num_classes} classes")

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def max_spikes(self) -> int:
        """Most spikes in any one example (train or test)."""
        return max(calc_max_spikes(self.train_x), calc_max_spikes(self.test_x))

    @property
    def example_timesteps(self) -> int:
        """Timesteps that cover the latest spike of any example, plus one."""
        latest = max(calc_latest_spike_time(self.train_x), calc_latest_spike_time(self.test_x))
        return int(np.ceil(latest)) + 1

    def subset(self, num_train: int | None = None, num_test: int | None = None):
        """The first ``num_train``/``num_test`` examples (``None``: all)."""
        return SpikeDataset(self.name, self.train_x[:num_train], self.train_y[:num_train],
                            self.test_x[:num_test], self.test_y[:num_test], self.num_inputs,
                            self.classes, self.input_shape, self.ms_per_step, self.notes)


def events_to_spikes(dataset, shape, bin_ms: float, max_samples: int | None = None,
                     where: str = "dataset", progress: bool = False):
    """Preprocess a tonic-style dataset (``len``, ``[i] -> (events, label)``, ``ordering``)
    with :func:`preprocess_tonic_spikes`: one timestep per ``bin_ms`` of recording and at most
    one spike per neuron per timestep. Returns ``(spikes, labels)``."""
    n = len(dataset) if max_samples is None else min(max_samples, len(dataset))
    spikes, labels = [], []
    indices = range(n)
    if progress:
        from tqdm.auto import tqdm
        indices = tqdm(indices, desc=f"preparing {where}", leave=False)
    for i in indices:
        events, label = dataset[i]
        try:
            spikes.append(preprocess_tonic_spikes(events, dataset.ordering, shape,
                                                  time_scale=1.0 / (1000.0 * bin_ms), dt=1.0))
        except InputError as exc:
            raise InputError(f"{where}, recording {i}: {exc}") from None
        labels.append(int(label))
    return spikes, np.asarray(labels, dtype=np.int64)
