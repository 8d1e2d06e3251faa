"""Binary spike input neurons.

Requires: :class:`~.neuron.Neuron`, :class:`~.input.InputBase` and
:class:`~irsnn.utils.model.NeuronModel`. Provides :class:`BinarySpikeInput` (mlGeNN's): a
neuron spikes in every timestep its input is positive (negative spikes optional).
"""

from __future__ import annotations

from ..utils.decorators import network_default_params
from ..utils.model import NeuronModel
from .input import InputBase
from .neuron import Neuron


class BinarySpikeInput(Neuron, InputBase):
    """Spikes every step its input is greater than zero (and, with ``signed_spikes``, emits a
    negative spike every step it is less than zero).

    Parameters
    ----------
    signed_spikes : bool
        Emit negative spikes (weight -1) for negative inputs.
    input_frames : int
        Frames per example.
    input_frame_timesteps : int
        Timesteps each frame is presented for.
    """

    @network_default_params
    def __init__(self, signed_spikes=False, input_frames=1, input_frame_timesteps=1):
        super().__init__(input_frames=input_frames,
                         input_frame_timesteps=input_frame_timesteps)
        self.signed_spikes = bool(signed_spikes)

    def get_model(self, population, dt: float, batch_size: int = 1) -> NeuronModel:
        inp = self.input_expression()
        model = {"threshold_condition_code": f"{inp} > 0.0"}
        if self.signed_spikes:
            model["negative_threshold_condition_code"] = f"{inp} < 0.0"
        var_vals, egp_vals = self.add_input_storage(model, batch_size, population.num_neurons)
        return NeuronModel(model, None, {}, var_vals, egp_vals)
