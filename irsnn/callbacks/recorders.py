"""Recording callbacks: spikes and state variables, filtered by example and by neuron.

Requires: a compiled network's recordings, :mod:`irsnn.utils.filter` and
:func:`~irsnn.population.get_underlying_pop`. Provides :class:`SpikeRecorder` and
:class:`VarRecorder` (mlGeNN's), which also tell the compiled network what to record.

Recording happens in the backend (every timestep, into per-batch buffers, requested through
the ``insert-recording`` pass); these callbacks read the buffers at the end of each batch and
keep the examples and neurons selected by their filters.
"""

from __future__ import annotations

import numpy as np

from ..errors import ModelError
from ..utils.filter import ExampleFilter, get_neuron_filter_mask
from ..population import get_underlying_pop
from .callback import Callback


class _Recorder(Callback):
    def __init__(self, pop, key, example_filter, neuron_filter):
        self._pop = get_underlying_pop(pop)
        self.key = key if key is not None else pop
        self._example_filter = ExampleFilter(example_filter)
        self._neuron_mask = get_neuron_filter_mask(neuron_filter, self._pop.shape)
        self._net = None
        self._batch_size = 1

    def set_params(self, compiled_network=None, batch_size=1, **kwargs):
        self._net = compiled_network
        self._batch_size = batch_size

    def _selected_examples(self, batch, num_examples=None):
        n = self._net.current_batch_examples if num_examples is None else num_examples
        mask = np.asarray(self._example_filter.get_batch_mask(batch, self._batch_size))
        return np.flatnonzero(mask[:n])

    def batch_recordings(self, batch, num_examples):
        rows = self._selected_examples(batch, num_examples)
        return [(r, rows) for r in self.recording_requests()] if len(rows) else []

    def _rows(self, rows, examples):
        """Positions of ``examples`` in the recorded ``rows``."""
        return np.searchsorted(rows, examples)


class SpikeRecorder(_Recorder):
    """Record the spikes of a population.

    Parameters
    ----------
    pop : Population or Layer
    key : hashable, optional
        Key of the data in ``cb_data`` (default: ``pop``).
    example_filter : None, int, sequence, slice or callable
        Which examples (global indices) to record.
    neuron_filter : None, slice, ``np.s_[...]``, index sequence or boolean mask
        Which neurons to record.
    record_counts : bool
        Keep only per-neuron spike counts per example instead of spike times and ids.

    ``cb_data[key]`` is ``(times, ids)`` (one array per recorded example, times in ms, ids
    the flat indices of the population's neurons), or with ``record_counts`` a list of count
    arrays over the selected neurons.
    """

    def __init__(self, pop, key=None, example_filter=None, neuron_filter=None,
                 record_counts=False):
        super().__init__(pop, key, example_filter, neuron_filter)
        self.record_counts = bool(record_counts)
        self._times, self._ids, self._counts = [], [], []

    def recording_requests(self):
        return (("spikes", self._pop),)

    def on_test_begin(self):
        self._times, self._ids, self._counts = [], [], []

    def on_batch_end(self, batch, metrics):
        examples = self._selected_examples(batch)
        if len(examples) == 0:
            return
        rows, spikes = self._net.get_recording(self._pop, "spikes")  # (rows, T, n) bool
        selected = np.flatnonzero(self._neuron_mask)
        for b in self._rows(rows, examples):
            s = spikes[b][:, selected]
            if self.record_counts:
                self._counts.append(s.sum(axis=0).astype(np.int64))
            else:
                steps, cols = np.nonzero(s)
                self._times.append(self._net.recording_times()[steps])
                self._ids.append(selected[cols])

    def get_data(self):
        return self.key, (self._counts if self.record_counts else (self._times, self._ids))


class VarRecorder(_Recorder):
    """Record a state variable of a population every timestep.

    ``cb_data[key]`` is a list with one ``(timesteps, selected neurons)`` array per recorded
    example (so ``cb_data["b_v"][0]`` is the first example's trace).

    Parameters
    ----------
    pop : Population or Layer
    var : str, optional
        Variable name in the neuron model (``"V"``) or the mlGeNN attribute name (``"v"``).
    key, example_filter, neuron_filter
        As :class:`SpikeRecorder`.
    genn_var : str, optional
        The model's own name of the variable (mlGeNN's ``genn_var``: ``"V"``, ``"Vthresh"``,
        ``"Input"``); give either ``var`` or ``genn_var``.
    """

    def __init__(self, pop, var=None, key=None, example_filter=None, neuron_filter=None,
                 genn_var=None):
        if (var is None) == (genn_var is None):
            raise ModelError(
                f"VarRecorder: give exactly one of var= (attribute name such as 'v') and "
                f"genn_var= (model name such as 'V'); got var={var!r}, genn_var={genn_var!r}")
        super().__init__(pop, key, example_filter, neuron_filter)
        self.var = var if var is not None else genn_var
        self._genn_var = genn_var
        self._data = []

    def _resolve_var(self):
        if self._genn_var is not None:
            return self._genn_var
        from ..utils.value import ValueDescriptor
        d = getattr(type(self._pop.neuron), self.var, None)
        if isinstance(d, ValueDescriptor):
            return d.genn_name
        return self.var

    def recording_requests(self):
        return (("var", self._pop, self._resolve_var()),)

    def set_params(self, compiled_network=None, batch_size=1, **kwargs):
        super().set_params(compiled_network=compiled_network, batch_size=batch_size)
        if compiled_network is not None and not compiled_network.has_var(
                self._pop, self._resolve_var()):
            raise ModelError(
                f"VarRecorder: population '{self._pop.name}' has no variable "
                f"'{self.var}'; it has {compiled_network.var_names(self._pop)}")

    def on_test_begin(self):
        self._data = []

    def on_batch_end(self, batch, metrics):
        examples = self._selected_examples(batch)
        if len(examples) == 0:
            return
        rows, values = self._net.get_recording(self._pop, "var", self._resolve_var())
        selected = np.flatnonzero(self._neuron_mask)
        for b in self._rows(rows, examples):
            self._data.append(values[b][:, selected])

    def get_data(self):
        return self.key, self._data
