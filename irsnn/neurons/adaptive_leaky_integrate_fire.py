"""Leaky integrate-and-fire neurons with an adaptive threshold (Bellec et al. 2018).

Requires: :class:`~.neuron.Neuron`, :func:`~.neuron.spiking_model`, the LIF helpers of
:mod:`.leaky_integrate_fire` and :class:`~irsnn.utils.model.NeuronModel`. Provides
:class:`AdaptiveLeakyIntegrateFire` (mlGeNN's ALIF).
"""

from __future__ import annotations

from ..utils.decorators import network_default_params
from ..utils.model import NeuronModel
from ..utils.value import InitValue, ValueDescriptor
from .leaky_integrate_fire import decay, membrane_update
from .neuron import Neuron, spiking_model


class AdaptiveLeakyIntegrateFire(Neuron):
    """An adaptive LIF neuron: spikes when ``V >= (Vthresh + (Beta * A))``; each spike adds 1
    to the adaptation ``A``, which decays by ``Rho = exp(-dt / tau_adapt)`` per step.

    Parameters
    ----------
    v_thresh, v_reset, v, tau_mem, tau_refrac, relative_reset, integrate_during_refrac
        As :class:`~irsnn.neurons.LeakyIntegrateFire`.
    a : float
        Initial adaptation.
    beta : float
        Strength of adaptation.
    tau_adapt : float
        Adaptation time constant (ms), > 0.
    scale_i : bool
        Scale the input by ``1 - Alpha`` (irsnn extension; mlGeNN's ALIF has no scaling).
    softmax, readout
        See :class:`~irsnn.neurons.neuron.Neuron`.
    """

    v_thresh = ValueDescriptor("Vthresh")
    v_reset = ValueDescriptor("Vreset")
    v = ValueDescriptor("V")
    a = ValueDescriptor("A")
    beta = ValueDescriptor("Beta")
    tau_mem = ValueDescriptor(("Alpha", decay), constraint="positive")
    tau_refrac = ValueDescriptor("TauRefrac", constraint="non_negative")
    tau_adapt = ValueDescriptor(("Rho", decay), constraint="positive")

    @network_default_params
    def __init__(self, v_thresh: InitValue = 1.0, v_reset: InitValue = 0.0,
                 v: InitValue = 0.0, a: InitValue = 0.0, beta: InitValue = 0.0174,
                 tau_mem: InitValue = 20.0, tau_refrac: InitValue = None,
                 tau_adapt: InitValue = 2000.0, relative_reset: bool = True,
                 integrate_during_refrac: bool = True, scale_i: bool = False,
                 softmax=None, readout=None, **kwargs):
        super().__init__(softmax, readout, **kwargs)
        self.v_thresh = v_thresh
        self.v_reset = v_reset
        self.v = v
        self.a = a
        self.beta = beta
        self.tau_mem = tau_mem
        self.tau_refrac = tau_refrac
        self.tau_adapt = tau_adapt
        self.relative_reset = bool(relative_reset)
        self.integrate_during_refrac = bool(integrate_during_refrac)
        self.scale_i = bool(scale_i)

    def get_model(self, population, dt: float, batch_size: int = 1) -> NeuronModel:
        reset = ("V -= (Vthresh - Vreset);\n" if self.relative_reset else "V = Vreset;\n")
        reset += "A += 1.0;\n"
        model, var_vals = spiking_model(
            [("V", "scalar"), ("A", "scalar")],
            [("Vthresh", "scalar"), ("Vreset", "scalar"), ("Alpha", "scalar"),
             ("Beta", "scalar"), ("Rho", "scalar")],
            membrane_update(self.scale_i), "V >= (Vthresh + (Beta * A))", reset,
            self.tau_refrac, self.integrate_during_refrac, always="A *= Rho;\n")
        return NeuronModel.from_val_descriptors(model, "V", self, dt, var_vals=var_vals)
