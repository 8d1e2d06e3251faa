"""Mean squared error between targets and predictions.

Requires: :class:`~.metric.Metric` and NumPy. Provides :class:`MeanSquareError` (mlGeNN's).
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .metric import Metric


class MeanSquareError(Metric):
    """Mean over examples of each example's mean squared error.

    Notes
    -----
    mlGeNN adds each batch's mean to a sum that it divides by the number of examples, so its
    result shrinks with the batch size; irsnn sums per-example means instead, so the result
    is the true mean squared error.
    """

    def __init__(self):
        self.reset()

    def update(self, y_true, y_pred, communicator=None):
        y_true = np.asarray(y_true)
        if y_true.size and not (np.issubdtype(y_true.dtype, np.number) or y_true.dtype == bool):
            first = y_true.reshape(-1).tolist()[0]
            raise InputError(f"MeanSquareError: targets must be numbers, but they are "
                             f"{y_true.dtype} (first {first!r}); give numeric target values")
        y_true = y_true.astype(np.float64)
        y_pred = np.asarray(y_pred, dtype=np.float64)
        if y_true.shape != y_pred.shape:
            raise InputError(f"MeanSquareError: targets have shape {y_true.shape} but "
                             f"predictions have shape {y_pred.shape}")
        sq = np.square(y_true - y_pred)
        per_example = sq.reshape(sq.shape[0], -1).mean(axis=1) if sq.ndim else sq.reshape(1)
        batch_sum, batch_total = float(per_example.sum()), int(per_example.shape[0])
        if communicator is not None:
            batch_sum = communicator.reduce_sum(batch_sum)
            batch_total = communicator.reduce_sum(batch_total)
        self.sum_mse += batch_sum
        self.total += batch_total

    def reset(self):
        self.sum_mse = 0.0
        self.total = 0

    @property
    def result(self):
        return None if self.total == 0 else self.sum_mse / self.total
