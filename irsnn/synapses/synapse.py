"""Base class of postsynaptic (synapse) models.

Requires: nothing. Provides :class:`Synapse` (mlGeNN's base), whose ``get_model`` returns a
:class:`~irsnn.utils.model.SynapseModel`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod


class Synapse(ABC):
    """Base class for all synapse models.

    A synapse model turns the summed weighted input ``inSyn`` of a connection into current
    injected into the target neurons (``injectCurrent(x)``), and updates ``inSyn``.
    """

    @abstractmethod
    def get_model(self, connection, dt: float, batch_size: int):
        """Return the :class:`~irsnn.utils.model.SynapseModel` of this synapse.

        Parameters
        ----------
        connection : Connection
            Connection the synapse belongs to.
        dt : float
            Simulation timestep (ms).
        batch_size : int
            Batch size of the compiled model.
        """
