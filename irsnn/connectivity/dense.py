"""All-to-all connectivity.

Requires: :class:`~.connectivity.Connectivity` and :class:`~.spec.ConnectivitySpec`.
Provides :class:`Dense` (mlGeNN's ``Dense``).
"""

from __future__ import annotations

from ..errors import ShapeError
from ..utils.value import InitValue, is_value_array
from .connectivity import Connectivity
from .spec import ConnectivitySpec


class Dense(Connectivity):
    """Dense (all-to-all) connectivity.

    Parameters
    ----------
    weight : number, Initializer or array
        An array must have shape ``(source.num_neurons, target.num_neurons)`` or be flat with
        that many elements (row-major: source index first).
    delay : number, Initializer or array
        Delays in timesteps.
    """

    def __init__(self, weight: InitValue, delay: InitValue = 0):
        super().__init__(weight, delay)

    def connect(self, source, target, connection=None):
        w = self.weight
        if is_value_array(w) and w.ndim == 2:
            if source.shape is None:
                source.shape = (w.shape[0],)
            if target.shape is None:
                target.shape = (w.shape[1],)
        if source.shape is None or target.shape is None:
            missing = "source" if source.shape is None else "target"
            raise ShapeError(
                f"{self._owner(connection)}: the {missing} population has no shape and Dense "
                f"cannot infer it; give the population a shape or a 2D weight array")
        expected = (source.num_neurons, target.num_neurons)
        self._check_array_size("weight", w, [expected], connection)
        self._check_array_size("delay", self.delay, [expected], connection)

    def get_spec(self, connection) -> ConnectivitySpec:
        shape = (connection.source().num_neurons, connection.target().num_neurons)
        return ConnectivitySpec(kind="dense", weight=self._reshape(self.weight, shape),
                                delay=self._reshape(self.delay, shape), p=None,
                                allow_self_connections=True, trainable=self.trainable)
