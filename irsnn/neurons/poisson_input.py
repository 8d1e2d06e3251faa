"""Poisson spike-train input neurons.

Requires: :class:`~.neuron.Neuron`, :class:`~.input.InputBase` and
:class:`~irsnn.utils.model.NeuronModel`. Provides :class:`PoissonInput` (mlGeNN's).
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..utils.decorators import network_default_params
from ..utils.model import NeuronModel
from .input import InputBase
from .neuron import Neuron


class PoissonInput(Neuron, InputBase):
    """Emits spikes from a Poisson process whose rate is the magnitude of the input.

    Each step a neuron spikes with probability ``1 - exp(-|Input| * dt)`` (rates in
    spikes per ms, as in mlGeNN).

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
        fire = f"gennrand_uniform() >= exp(-fabs({inp}) * dt)"
        model = {"threshold_condition_code": f"{inp} > 0.0 && {fire}"}
        if self.signed_spikes:
            model["negative_threshold_condition_code"] = f"{inp} < 0.0 && {fire}"
        var_vals, egp_vals = self.add_input_storage(model, batch_size, population.num_neurons)
        return NeuronModel(model, None, {}, var_vals, egp_vals)

    def check_values(self, owner, values):
        if not self.signed_spikes and np.any(values < 0.0):
            idx = tuple(int(i) for i in np.argwhere(values < 0.0)[0])
            raise InputError(
                f"{owner}: Poisson rate {values[idx]} at index {idx} is negative; rates must "
                f"be >= 0 unless PoissonInput(signed_spikes=True)")
