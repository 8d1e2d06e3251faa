"""Metrics computed from readouts during ``evaluate`` and ``train``.

Requires: nothing beyond its submodules. Provides :class:`Metric`, :class:`MeanSquareError`,
:class:`SparseCategoricalAccuracy` and :data:`default_metrics` (snake_case name -> class).
"""

from ..utils.module import get_module_classes
from .mean_square_error import MeanSquareError
from .metric import Metric
from .sparse_categorical_accuracy import SparseCategoricalAccuracy

default_metrics = get_module_classes(globals(), Metric)

__all__ = ["MeanSquareError", "Metric", "SparseCategoricalAccuracy", "default_metrics"]
