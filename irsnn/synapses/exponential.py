"""Exponentially decaying current synapses.

Requires: :class:`~.synapse.Synapse`, :class:`~irsnn.utils.model.SynapseModel` and
:mod:`irsnn.utils.value`. Provides :class:`Exponential` (mlGeNN's).
"""

from __future__ import annotations

import numpy as np

from ..utils.decorators import network_default_params
from ..utils.model import SynapseModel
from ..utils.value import InitValue, ValueDescriptor, get_values
from .synapse import Synapse


def _exp_decay(tau, dt):
    return np.exp(-dt / tau)


def _i_scale(tau, dt):
    return (tau / dt) * (1.0 - np.exp(-dt / tau))


class Exponential(Synapse):
    """Inputs produce exponentially decaying currents in the target neurons.

    The code is ``injectCurrent(inSyn)`` (``injectCurrent(inSyn * IScale)`` with ``scale_i``)
    followed by ``inSyn *= ExpDecay``, with ``ExpDecay = exp(-dt / tau)`` and
    ``IScale = (tau / dt) * (1 - exp(-dt / tau))`` computed in float64, as in mlGeNN.

    Parameters
    ----------
    tau : float or array
        Time constant of the current (ms), > 0.
    scale_i : bool
        Scale the injected current by ``IScale = (tau / dt) * (1 - exp(-dt / tau))`` so that
        each step's current is the step average of the continuous kernel
        ``w * exp(-t / tau)`` (as GeNN's ExpCurr).
    """

    tau = ValueDescriptor(("ExpDecay", _exp_decay), ("IScale", _i_scale),
                          constraint="positive")

    @network_default_params
    def __init__(self, tau: InitValue = 5.0, scale_i: bool = False):
        super().__init__()
        self.tau = tau
        self.scale_i = bool(scale_i)

    def get_model(self, connection, dt: float, batch_size: int) -> SynapseModel:
        params = [("ExpDecay", "scalar")]
        if self.scale_i:
            params.append(("IScale", "scalar"))
            code = "injectCurrent(inSyn * IScale);\n"
        else:
            code = "injectCurrent(inSyn);\n"
        code += "inSyn *= ExpDecay;\n"
        model = {"params": params, "sim_code": code}
        return SynapseModel(model, get_values(self, params, dt), {})
