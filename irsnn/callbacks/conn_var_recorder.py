"""Recording a connection variable (the weights) every timestep.

Requires: a compiled network's simulation (``get_weights``), :mod:`irsnn.utils.filter` and
:func:`irsnn.utils.network.get_underlying_conn`. Provides :class:`ConnVarRecorder` (mlGeNN's).

The weights are read on the host at the end of every timestep of the examples the example
filter selects (the model then advances one timestep per call, as with any per-timestep
callback), so the recording shows them changing within a batch when they do.
"""

from __future__ import annotations

import numpy as np

from ..errors import ModelError
from ..utils.filter import ExampleFilter, get_neuron_filter_mask
from .callback import Callback

#: names of the weight, as mlGeNN's attribute name (``var``) and GeNN's (``genn_var``)
_WEIGHT_NAMES = ("weight", "g")


class ConnVarRecorder(Callback):
    """Record a connection's weights at every timestep.

    ``cb_data[key]`` is a list with one ``(timesteps, selected sources, selected targets)``
    array per recorded example. Absent synapses of sparse connectivity read as 0. Weights are
    shared by the examples of a batch, so the examples of one batch get the same matrices.

    Parameters
    ----------
    conn : Connection or Layer
        The connection (or the layer whose incoming connection) to record.
    var : str, optional
        ``"weight"`` (mlGeNN's attribute name).
    key : hashable, optional
        Key of the data in ``cb_data`` (default: ``conn``).
    example_filter : None, int, sequence, slice or callable
        Which examples (global indices) to record.
    src_neuron_filter, trg_neuron_filter : neuron filter, optional
        Which source (rows) and target (columns) neurons to keep.
    genn_var : str, optional
        GeNN's name of the variable: ``"g"`` (the weight). Give ``var`` or ``genn_var``.
    """

    def __init__(self, conn, var=None, key=None, example_filter=None,
                 src_neuron_filter=None, trg_neuron_filter=None, genn_var=None):
        from ..utils.network import get_underlying_conn
        if (var is None) == (genn_var is None):
            raise ModelError(
                f"ConnVarRecorder: give exactly one of var='weight' and genn_var='g'; got "
                f"var={var!r}, genn_var={genn_var!r}")
        name = var if var is not None else genn_var
        if name not in _WEIGHT_NAMES:
            raise ModelError(
                f"ConnVarRecorder: cannot record '{name}'; irsnn records the weight of a "
                f"connection (var='weight' or genn_var='g')")
        self._conn = get_underlying_conn(conn)
        self.var = name
        self.key = key if key is not None else conn
        self._example_filter = ExampleFilter(example_filter)
        self._src_mask = get_neuron_filter_mask(src_neuron_filter, self._conn.source().shape)
        self._trg_mask = get_neuron_filter_mask(trg_neuron_filter, self._conn.target().shape)
        self._net = None
        self._batch_size = 1
        self._count = 0
        self._steps: list = []
        self._data: list = []

    def set_params(self, compiled_network=None, batch_size=None, **kwargs):
        self._net = compiled_network
        self._batch_size = int(batch_size or getattr(compiled_network, "batch_size", 1) or 1)
        conns = compiled_network.network.connections
        names = [c.name for c in conns]
        if not any(c is self._conn for c in conns):
            raise ModelError(f"ConnVarRecorder: connection '{self._conn.name}' is not part of "
                             f"the compiled network (its connections: {names})")

    def on_test_begin(self):
        self._data = []

    def on_batch_begin(self, batch):
        mask = np.asarray(self._example_filter.get_batch_mask(batch, self._batch_size))
        self._count = int(np.count_nonzero(mask[:self._net.current_batch_examples or None]))
        self._steps = []

    def on_timestep_end(self, timestep):
        if self._count == 0:
            return
        w = np.asarray(self._net.simulation.get_weights(self._conn.name))
        w = w.reshape(int(self._src_mask.size), int(self._trg_mask.size))
        self._steps.append(w[self._src_mask][:, self._trg_mask].copy())

    def on_batch_end(self, batch, metrics):
        if self._count and self._steps:
            trace = np.stack(self._steps)
            self._data.extend(trace.copy() for _ in range(self._count))
        self._steps = []

    def get_data(self):
        return self.key, self._data
