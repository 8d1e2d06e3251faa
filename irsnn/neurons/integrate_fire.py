"""Integrate-and-fire neurons.

Requires: :class:`~.neuron.Neuron`, :func:`~.neuron.spiking_model` and
:class:`~irsnn.utils.model.NeuronModel`. Provides :class:`IntegrateFire` (mlGeNN's).
"""

from __future__ import annotations

from ..utils.decorators import network_default_params
from ..utils.model import NeuronModel
from ..utils.value import InitValue, ValueDescriptor
from .neuron import Neuron, spiking_model


class IntegrateFire(Neuron):
    """A (non-leaky) integrate-and-fire neuron: ``V += Isyn``; spike when ``V >= Vthresh``.

    Parameters
    ----------
    v_thresh : float
        Firing threshold.
    v_reset : float
        With ``relative_reset``, ``Vthresh - Vreset`` is subtracted from ``V`` after a spike;
        otherwise ``V`` is set to ``v_reset``.
    v : float
        Initial membrane voltage.
    tau_refrac : float, optional
        Refractory period (ms), >= 0.
    relative_reset : bool
        Reset by subtraction (see ``v_reset``); default False: ``V = Vreset`` as mlGeNN.
    integrate_during_refrac : bool
        Keep integrating input while refractory.
    softmax, readout
        See :class:`~irsnn.neurons.neuron.Neuron`.
    """

    v_thresh = ValueDescriptor("Vthresh")
    v_reset = ValueDescriptor("Vreset")
    v = ValueDescriptor("V")
    tau_refrac = ValueDescriptor("TauRefrac", constraint="non_negative")

    @network_default_params
    def __init__(self, v_thresh: InitValue = 1.0, v_reset: InitValue = 0.0,
                 v: InitValue = 0.0, tau_refrac: InitValue = None,
                 relative_reset: bool = False, integrate_during_refrac: bool = True,
                 softmax=None, readout=None, **kwargs):
        super().__init__(softmax, readout, **kwargs)
        self.v_thresh = v_thresh
        self.v_reset = v_reset
        self.v = v
        self.tau_refrac = tau_refrac
        self.relative_reset = bool(relative_reset)
        self.integrate_during_refrac = bool(integrate_during_refrac)

    def get_model(self, population, dt: float, batch_size: int = 1) -> NeuronModel:
        reset = "V -= (Vthresh - Vreset);\n" if self.relative_reset else "V = Vreset;\n"
        model, var_vals = spiking_model(
            [("V", "scalar")], [("Vthresh", "scalar"), ("Vreset", "scalar")],
            "V += Isyn;\n", "V >= Vthresh", reset, self.tau_refrac,
            self.integrate_during_refrac)
        return NeuronModel.from_val_descriptors(model, "V", self, dt, var_vals=var_vals)
