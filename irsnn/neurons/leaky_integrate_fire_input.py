"""Leaky integrate-and-fire input neurons: rate coding of dense data.

Requires: :class:`~.leaky_integrate_fire.LeakyIntegrateFire` and :class:`~.input.InputBase`.
Provides :class:`LeakyIntegrateFireInput` (mlGeNN's).
"""

from __future__ import annotations

from ..utils.decorators import network_default_params
from ..utils.model import NeuronModel
from ..utils.value import InitValue
from .input import InputBase
from .leaky_integrate_fire import LeakyIntegrateFire


class LeakyIntegrateFireInput(LeakyIntegrateFire, InputBase):
    """A leaky integrate-and-fire neuron whose input current is the data
    (``V = Alpha * V + Input``).

    Parameters
    ----------
    v_thresh, v_reset, v, tau_mem, tau_refrac, relative_reset, integrate_during_refrac, scale_i
        As :class:`~irsnn.neurons.LeakyIntegrateFire`.
    input_frames : int
        Frames per example (the data then has shape ``(batch, frames, *shape)``).
    input_frame_timesteps : int
        Timesteps each frame is presented for.
    """

    @network_default_params
    def __init__(self, v_thresh: InitValue = 1.0, v_reset: InitValue = 0.0,
                 v: InitValue = 0.0, tau_mem: InitValue = 20.0,
                 tau_refrac: InitValue = None, relative_reset: bool = True,
                 integrate_during_refrac: bool = True, scale_i: bool = False,
                 input_frames=1, input_frame_timesteps=1):
        super().__init__(v_thresh=v_thresh, v_reset=v_reset, v=v, tau_mem=tau_mem,
                         tau_refrac=tau_refrac, relative_reset=relative_reset,
                         integrate_during_refrac=integrate_during_refrac, scale_i=scale_i,
                         input_frames=input_frames,
                         input_frame_timesteps=input_frame_timesteps)

    def get_model(self, population, dt: float, batch_size: int = 1) -> NeuronModel:
        return self.create_input_model(super().get_model(population, dt, batch_size),
                                       batch_size, population.shape, replace_input="Isyn")
