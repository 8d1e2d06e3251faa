"""The exponentially weighted average readout (mlGeNN's ``AvgVarExpWeight``, Nowotny et al.
2024).

Requires: :class:`~irsnn.readouts.Readout`. Provides :class:`AvgVarExpWeight`.
"""

from __future__ import annotations

import numpy as np

from . import Readout


class AvgVarExpWeight(Readout):
    """The output variable averaged over the example with weights ``exp(-t / T)``, where
    ``t`` is the time since the example began and ``T = example_timesteps * dt`` its length:
    ``sum_s exp(-s dt / T) V(s) / example_timesteps``, so early timesteps count more.

    The time within the example is ``fmod(t, T)``, which is the time since the example
    began whether or not the clock is reset between batches.
    """

    name = "avg_var_exp_weight"

    def accumulators(self, output_var, output_type):
        return [(f"{output_var}Avg", output_type, 0.0)]

    def sim_code(self, output_var, example_timesteps=1, dt=1.0):
        length = float(example_timesteps) * float(dt)
        return (f"{output_var}Avg += exp(-fmod(t, {length!r}) / {length!r}) * "
                f"{1.0 / example_timesteps!r} * {output_var};")

    def compute(self, values, output_var, timesteps, dt):
        return np.asarray(values[f"{output_var}Avg"])
