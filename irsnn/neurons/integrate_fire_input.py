"""Integrate-and-fire input neurons: rate coding of dense data.

Requires: :class:`~.integrate_fire.IntegrateFire` and :class:`~.input.InputBase`. Provides
:class:`IntegrateFireInput` (mlGeNN's).
"""

from __future__ import annotations

from ..utils.decorators import network_default_params
from ..utils.model import NeuronModel
from ..utils.value import InitValue
from .input import InputBase
from .integrate_fire import IntegrateFire


class IntegrateFireInput(IntegrateFire, InputBase):
    """An integrate-and-fire neuron whose input current is the data (``V += Input``): a
    constant input ``x`` gives about ``x / v_thresh`` spikes per timestep.

    Parameters
    ----------
    v_thresh : float
        Firing threshold.
    v_reset : float
        ``V`` is set to this value after a spike.
    v : float
        Initial membrane voltage.
    input_frames : int
        Frames per example (the data then has shape ``(batch, frames, *shape)``).
    input_frame_timesteps : int
        Timesteps each frame is presented for.
    """

    @network_default_params
    def __init__(self, v_thresh: InitValue = 1.0, v_reset: InitValue = 0.0,
                 v: InitValue = 0.0, input_frames=1, input_frame_timesteps=1):
        super().__init__(v_thresh=v_thresh, v_reset=v_reset, v=v, input_frames=input_frames,
                         input_frame_timesteps=input_frame_timesteps)

    def get_model(self, population, dt: float, batch_size: int = 1) -> NeuronModel:
        return self.create_input_model(super().get_model(population, dt, batch_size),
                                       batch_size, population.shape, replace_input="Isyn")
