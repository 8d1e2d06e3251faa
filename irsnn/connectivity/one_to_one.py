"""One-to-one connectivity.

Requires: :class:`~.connectivity.Connectivity` and :class:`~.spec.ConnectivitySpec`.
Provides :class:`OneToOne` (mlGeNN's).
"""

from __future__ import annotations

from ..errors import ShapeError
from ..utils.value import InitValue
from .connectivity import Connectivity
from .spec import ConnectivitySpec


class OneToOne(Connectivity):
    """Neuron ``i`` of the source connects to neuron ``i`` of the target.

    Inference stores it as one weight per neuron (layout ``one_to_one``); e-prop stores it
    ragged with one synapse per row (GeNN's SPARSE, as mlGeNN) and trains it.

    Parameters
    ----------
    weight : number, Initializer or array
        An array must hold one weight per neuron.
    delay : number, Initializer or array
        Delays in timesteps.
    """

    def __init__(self, weight: InitValue, delay: InitValue = 0):
        super().__init__(weight, delay)

    def connect(self, source, target, connection=None):
        if source.shape is None:
            if target.shape is None:
                raise ShapeError(f"{self._owner(connection)}: OneToOne needs the source or the "
                                 f"target population to have a shape")
            source.shape = target.shape
        if target.shape is None:
            target.shape = source.shape
        if source.num_neurons != target.num_neurons:
            raise ShapeError(
                f"{self._owner(connection)}: OneToOne needs populations of equal size but the "
                f"source has {source.num_neurons} neurons and the target "
                f"{target.num_neurons}; make the sizes equal or use Dense")
        n = source.num_neurons
        self._check_array_size("weight", self.weight, [(n,)], connection)
        self._check_array_size("delay", self.delay, [(n,)], connection)

    def get_spec(self, connection) -> ConnectivitySpec:
        n = connection.source().num_neurons
        return ConnectivitySpec(kind="one_to_one", weight=self._reshape(self.weight, (n,)),
                                delay=self._reshape(self.delay, (n,)), p=None,
                                allow_self_connections=True, trainable=self.trainable)
