"""Base class of connectivity descriptions.

Requires: :mod:`irsnn.utils.value` (weights and delays as numbers, arrays or initializers).
Provides :class:`Connectivity` (mlGeNN's base): weight and delay values, ``connect`` (shape
checks when a connection is made) and the abstract ``get_spec``, a :class:`~.spec.ConnectivitySpec`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from ..errors import ModelError, ShapeError
from ..utils.value import (InitValue, ValueDescriptor, is_value_array, is_value_constant)


def _check_delay(owner, name, value):
    arr = np.asarray(value, dtype=float)
    bad = ~np.isfinite(arr) | (arr < 0) | (arr != np.round(arr))
    if np.any(bad):
        shown = float(arr[bad].flat[0])
        raise ModelError(
            f"{owner}: {name} must be a non-negative whole number of timesteps "
            f"(got {shown:g}); delays are given in timesteps, not ms - "
            f"use round(delay_ms / dt)")


class Connectivity(ABC):
    """Base class for all connectivity.

    Parameters
    ----------
    weight : number, array or Initializer
        Connection weights.
    delay : number, array or Initializer
        Delays in timesteps.
    """

    weight = ValueDescriptor("g")
    delay = ValueDescriptor("d", constraint=_check_delay)

    #: whether learning rules may update the weights
    trainable = True

    def __init__(self, weight: InitValue, delay: InitValue = 0):
        self.weight = weight
        self.delay = delay
        if (is_value_array(self.weight) and is_value_array(self.delay)
                and self.weight.size != self.delay.size):
            raise ShapeError(
                f"{type(self).__name__}: weight array has shape {self.weight.shape} but delay "
                f"array has shape {self.delay.shape}; give arrays of the same size")

    def connect(self, source, target, connection=None):
        """Validate the population shapes and infer a missing one.

        Called when a :class:`~irsnn.connection.Connection` is created.
        """

    @abstractmethod
    def get_spec(self, connection):
        """Return the :class:`~irsnn.connectivity.spec.ConnectivitySpec` of this connectivity."""

    # helpers -------------------------------------------------------------------------------
    def _owner(self, connection):
        return connection.describe() if connection is not None else type(self).__name__

    def _check_array_size(self, name, value, sizes, connection):
        """Check an array value has one of ``sizes`` (shape tuples); returns it unchanged."""
        if not is_value_array(value):
            return
        if (any(value.shape == s for s in sizes)
                or (value.ndim == 1 and value.size == int(np.prod(sizes[0])))):
            return
        raise ShapeError(
            f"{self._owner(connection)}: {type(self).__name__} {name} array has shape "
            f"{value.shape} ({value.size} elements) but must be {sizes[0]} or flat "
            f"({int(np.prod(sizes[0]))},); check the source and target sizes")

    @staticmethod
    def _reshape(value, shape):
        return np.reshape(value, shape) if is_value_array(value) else value

    @staticmethod
    def _is_constant_or_array(value):
        return is_value_constant(value) or is_value_array(value)
