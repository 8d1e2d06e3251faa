"""Leaky integrators (non-spiking), typically used as output neurons.

Requires: :class:`~.neuron.Neuron`, :func:`.leaky_integrate_fire.decay` and
:class:`~irsnn.utils.model.NeuronModel`. Provides :class:`LeakyIntegrate` (mlGeNN's).
"""

from __future__ import annotations

from ..utils.decorators import network_default_params
from ..utils.model import NeuronModel
from ..utils.value import InitValue, ValueDescriptor
from .leaky_integrate_fire import decay
from .neuron import Neuron


class LeakyIntegrate(Neuron):
    """A leaky integrator: ``V = (Alpha * V) + Isyn + Bias`` with ``Alpha = exp(-dt/tau_mem)``.

    Parameters
    ----------
    v : float
        Initial membrane voltage.
    bias : float
        Bias current added every step.
    tau_mem : float
        Membrane time constant (ms), > 0.
    scale_i : bool
        Scale the input (not the bias) by ``1 - Alpha``.
    softmax, readout
        See :class:`~irsnn.neurons.neuron.Neuron`.
    """

    v = ValueDescriptor("V")
    bias = ValueDescriptor("Bias")
    tau_mem = ValueDescriptor(("Alpha", decay), constraint="positive")

    @network_default_params
    def __init__(self, v: InitValue = 0.0, bias: InitValue = 0.0, tau_mem: InitValue = 20.0,
                 scale_i: bool = False, softmax=False, readout=None, **kwargs):
        super().__init__(softmax, readout, **kwargs)
        self.v = v
        self.bias = bias
        self.tau_mem = tau_mem
        self.scale_i = bool(scale_i)

    def get_model(self, population, dt: float, batch_size: int = 1) -> NeuronModel:
        if self.scale_i:
            code = "V = (Alpha * V) + ((1.0 - Alpha) * Isyn) + Bias;\n"
        else:
            code = "V = (Alpha * V) + Isyn + Bias;\n"
        model = {"vars": [("V", "scalar")],
                 "params": [("Alpha", "scalar"), ("Bias", "scalar")],
                 "sim_code": code}
        return NeuronModel.from_val_descriptors(model, "V", self, dt)
