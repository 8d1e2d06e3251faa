"""Leaky integrate-and-fire neurons.

Requires: :class:`~.neuron.Neuron`, :func:`~.neuron.spiking_model` and
:class:`~irsnn.utils.model.NeuronModel`. Provides :class:`LeakyIntegrateFire` (mlGeNN's LIF)
and the helpers :func:`decay` and :func:`membrane_update`, shared with the other leaky models.
"""

from __future__ import annotations

import numpy as np

from ..utils.decorators import network_default_params
from ..utils.model import NeuronModel
from ..utils.value import InitValue, ValueDescriptor
from .neuron import Neuron, spiking_model


def decay(tau, dt):
    """Exact per-step decay factor ``exp(-dt / tau)`` (float64)."""
    return np.exp(-dt / tau)


def membrane_update(scale_i: bool) -> str:
    """The leaky membrane update; with ``scale_i`` the input is scaled by ``1 - Alpha``."""
    if scale_i:
        return "V = (Alpha * V) + ((1.0 - Alpha) * Isyn);\n"
    return "V = (Alpha * V) + Isyn;\n"


class LeakyIntegrateFire(Neuron):
    """A leaky integrate-and-fire neuron: ``V = Alpha * V + Isyn`` with
    ``Alpha = exp(-dt / tau_mem)``; spike when ``V >= Vthresh``.

    Parameters
    ----------
    v_thresh : float
        Firing threshold.
    v_reset : float
        With ``relative_reset``, ``Vthresh - Vreset`` is subtracted from ``V`` after a spike;
        otherwise ``V`` is set to ``v_reset``.
    v : float
        Initial membrane voltage.
    tau_mem : float
        Membrane time constant (ms), > 0.
    tau_refrac : float, optional
        Refractory period (ms), >= 0.
    relative_reset : bool
        Reset by subtraction (see ``v_reset``).
    integrate_during_refrac : bool
        Keep integrating input while refractory.
    scale_i : bool
        Scale the input by ``1 - Alpha``.
    softmax, readout
        See :class:`~irsnn.neurons.neuron.Neuron`.
    """

    v_thresh = ValueDescriptor("Vthresh")
    v_reset = ValueDescriptor("Vreset")
    v = ValueDescriptor("V")
    tau_mem = ValueDescriptor(("Alpha", decay), constraint="positive")
    tau_refrac = ValueDescriptor("TauRefrac", constraint="non_negative")

    @network_default_params
    def __init__(self, v_thresh: InitValue = 1.0, v_reset: InitValue = 0.0,
                 v: InitValue = 0.0, tau_mem: InitValue = 20.0,
                 tau_refrac: InitValue = None, relative_reset: bool = True,
                 integrate_during_refrac: bool = True, scale_i: bool = False,
                 softmax=None, readout=None, **kwargs):
        super().__init__(softmax, readout, **kwargs)
        self.v_thresh = v_thresh
        self.v_reset = v_reset
        self.v = v
        self.tau_mem = tau_mem
        self.tau_refrac = tau_refrac
        self.relative_reset = bool(relative_reset)
        self.integrate_during_refrac = bool(integrate_during_refrac)
        self.scale_i = bool(scale_i)

    def get_model(self, population, dt: float, batch_size: int = 1) -> NeuronModel:
        reset = "V -= (Vthresh - Vreset);\n" if self.relative_reset else "V = Vreset;\n"
        model, var_vals = spiking_model(
            [("V", "scalar")],
            [("Vthresh", "scalar"), ("Vreset", "scalar"), ("Alpha", "scalar")],
            membrane_update(self.scale_i), "V >= Vthresh", reset, self.tau_refrac,
            self.integrate_during_refrac)
        return NeuronModel.from_val_descriptors(model, "V", self, dt, var_vals=var_vals)
