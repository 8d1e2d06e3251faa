"""Classification accuracy against integer labels.

Requires: :class:`~.metric.Metric` and NumPy. Provides
:class:`SparseCategoricalAccuracy` (mlGeNN's).
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .metric import Metric


class SparseCategoricalAccuracy(Metric):
    """Fraction of examples whose largest prediction is at the label's index.

    Attributes
    ----------
    correct, total : int
        Examples classified correctly / seen so far.
    """

    def __init__(self):
        self.reset()

    def update(self, y_true, y_pred, communicator=None):
        y_true = np.asarray(y_true)
        y_pred = np.asarray(y_pred)
        if y_pred.ndim != 2:
            raise InputError(f"SparseCategoricalAccuracy: predictions must be (batch, classes) "
                             f"but have shape {y_pred.shape}")
        n = y_pred.shape[1]
        labels = y_true.reshape(-1) if y_true.ndim <= 1 else y_true
        if labels.ndim != 1 or labels.shape[0] != y_pred.shape[0]:
            raise InputError(f"SparseCategoricalAccuracy: labels have shape {y_true.shape} but "
                             f"predictions have shape {y_pred.shape}; pass one integer label "
                             f"per example")
        if labels.size and not (np.issubdtype(labels.dtype, np.number)
                                or labels.dtype == bool):
            kinds = sorted({type(v).__name__ for v in labels.tolist()})
            raise InputError(f"SparseCategoricalAccuracy: labels must be integer class indices "
                             f"0..{n - 1}, but they are {labels.dtype} ({'/'.join(kinds)}, "
                             f"first {labels.tolist()[0]!r}); map them to indices first, e.g. "
                             f"classes, labels = np.unique(labels, return_inverse=True)")
        if labels.size and not np.issubdtype(labels.dtype, np.integer):
            integral = (np.issubdtype(labels.dtype, np.number)
                        and np.all(np.isfinite(labels)) and np.all(labels == np.round(labels)))
            if not integral:
                bad = next(i for i, v in enumerate(labels)
                           if not (np.isfinite(v) and v == np.round(v)))
                raise InputError(f"SparseCategoricalAccuracy: label {labels[bad]} at index "
                                 f"{bad} is not an integer class index")
            labels = labels.astype(np.int64)
        out = (labels < 0) | (labels >= n)
        if out.any():
            i = int(np.argmax(out))
            raise InputError(f"SparseCategoricalAccuracy: label {labels[i]} at index {i} is "
                             f"outside [0, {n}) for predictions with {n} classes")
        correct = int((y_pred.argmax(axis=1) == labels).sum())
        total = int(labels.shape[0])
        if communicator is not None:
            correct = communicator.reduce_sum(correct)
            total = communicator.reduce_sum(total)
        self.correct += correct
        self.total += total

    def reset(self):
        self.correct = 0
        self.total = 0

    @property
    def result(self):
        return None if self.total == 0 else self.correct / self.total
