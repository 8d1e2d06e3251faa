"""Delta (instantaneous) synapses.

Requires: :class:`~.synapse.Synapse` and :class:`~irsnn.utils.model.SynapseModel`.
Provides :class:`Delta` (mlGeNN's).
"""

from __future__ import annotations

from ..utils.model import SynapseModel
from .synapse import Synapse


class Delta(Synapse):
    """Each input spike makes an instantaneous jump of the target's input."""

    def get_model(self, connection, dt: float, batch_size: int) -> SynapseModel:
        model = {"sim_code": "injectCurrent(inSyn);\ninSyn = 0;\n"}
        return SynapseModel(model, {}, {})
