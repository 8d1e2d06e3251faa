"""The relative mean-square-error loss on first-spike times (mlGeNN's
``RelativeMeanSquareError``, used by EventProp with a ``first_spike_time`` readout).

Requires: NumPy and :mod:`irsnn.errors`. Provides :class:`RelativeMeanSquareError`.
"""

from __future__ import annotations

from numbers import Real

import numpy as np

from ..errors import InputError, ModelError
from . import Loss


class RelativeMeanSquareError(Loss):
    """The correct output neuron should fire ``delta`` ms before every other one.

    For an example with label ``y`` and first-spike times ``T`` (ms) of the output neurons,
    ``L = 1/2 * sum_{n != y} (T_y + delta - T_n)**2``; its gradient is
    ``dL/dT_y = sum_{n != y} (T_y + delta - T_n)`` and ``dL/dT_n = -(T_y + delta - T_n)``
    (the terms mlGeNN's EventProp compiler adds to the adjoint at each first spike). A neuron
    that did not spike counts as ``T = 0`` in these sums and carries no gradient itself (as
    mlGeNN's). Labels are integer class indices, one per example.

    Parameters
    ----------
    delta : float
        The wanted lead (ms) of the correct neuron's first spike; >= 0.
    """

    name = "relative_mean_square_error"

    def __init__(self, delta: float):
        if isinstance(delta, bool) or not isinstance(delta, Real) or not np.isfinite(delta) \
                or delta < 0:
            raise ModelError(f"RelativeMeanSquareError: delta={delta!r} must be a finite "
                             f"number of ms >= 0 (the correct neuron's wanted lead)")
        self.delta = float(delta)

    def _check(self, spike_times, labels):
        t = np.asarray(spike_times, dtype=np.float64)
        y = np.asarray(labels)
        if t.ndim != 2 or y.shape != (t.shape[0],) or not np.issubdtype(y.dtype, np.integer):
            raise InputError(f"RelativeMeanSquareError: spike times must be (examples, "
                             f"neurons) and labels one integer per example; got "
                             f"{t.shape} and {y.shape} ({y.dtype})")
        bad = np.flatnonzero((y < 0) | (y >= t.shape[1]))
        if len(bad):
            raise InputError(f"RelativeMeanSquareError: label {y[bad[0]]} of example "
                             f"{bad[0]} is outside [0, {t.shape[1]})")
        return t, y

    def residuals(self, spike_times, labels) -> np.ndarray:
        """``T_y + delta - T_n`` per example and neuron (0 for ``n == y``)."""
        t, y = self._check(spike_times, labels)
        rows = np.arange(len(y))
        r = t[rows, y][:, None] + self.delta - t
        r[rows, y] = 0.0
        return r

    def loss(self, spike_times, labels) -> np.ndarray:
        """The loss of each example."""
        return 0.5 * np.sum(self.residuals(spike_times, labels) ** 2, axis=1)

    def gradient(self, spike_times, labels) -> np.ndarray:
        """``dL/dT`` per example and neuron."""
        r = self.residuals(spike_times, labels)
        g = -r
        rows = np.arange(len(r))
        g[rows, np.asarray(labels)] = r.sum(axis=1)
        return g

    def __repr__(self):
        return f"RelativeMeanSquareError(delta={self.delta})"
