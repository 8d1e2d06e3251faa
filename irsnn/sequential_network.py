"""Sequential networks: a stack of layers, each connected to the previous one.

Requires: :class:`~irsnn.network.Network`. Provides :class:`SequentialNetwork` (mlGeNN's),
which keeps its layers in order so that each :class:`~irsnn.layer.Layer` connects to the last.
"""

from __future__ import annotations

from .errors import ContextError
from .network import Network


class SequentialNetwork(Network):
    """A network built from :class:`~irsnn.layer.InputLayer` and :class:`~irsnn.layer.Layer`
    objects created inside ``with network:``; each layer connects to the previous one.

    Parameters
    ----------
    default_params : dict, optional
        As :class:`~irsnn.network.Network`.

    Attributes
    ----------
    layers : list
        Layers in creation order.
    """

    def __init__(self, default_params: dict | None = None):
        super().__init__(default_params)
        self.layers = []

    @staticmethod
    def current_sequential(kind: str, location: str) -> SequentialNetwork:
        """The innermost active network, which must be a :class:`SequentialNetwork`."""
        net = Network.current()
        if not isinstance(net, SequentialNetwork):
            where = ("outside any network" if net is None
                     else "inside a plain Network")
            raise ContextError(
                f"{kind} (created at {location}) was created {where}; layers must be created "
                f"inside `with network:` where network = SequentialNetwork()")
        return net

    def get_prev_layer(self):
        """The most recently added layer, or ``None``."""
        return self.layers[-1] if self.layers else None

    def _add_layer(self, layer, population, connection):
        self.layers.append(layer)
        self._add_population(population)
        if connection is not None:
            self._add_connection(connection)
