"""Base class of metrics.

Requires: nothing. Provides :class:`Metric` (mlGeNN's base): ``update`` per batch, ``reset`` and
``result``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod


class Metric(ABC):
    """Base class for all metrics.

    A metric accumulates over batches through :meth:`update` and reports :attr:`result`.
    """

    @abstractmethod
    def update(self, y_true, y_pred, communicator=None):
        """Accumulate one batch.

        Parameters
        ----------
        y_true : array_like
            Labels or target values passed to ``evaluate``/``train``.
        y_pred : numpy.ndarray
            Values produced by the population's readout, ``(batch, ...)``.
        communicator : optional
            Object with ``reduce_sum`` to combine counts across processes.
        """

    @abstractmethod
    def reset(self):
        """Forget everything accumulated."""

    @property
    @abstractmethod
    def result(self):
        """The metric's value, or ``None`` before any update."""
