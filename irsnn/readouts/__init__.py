"""Readouts: how a population's output variable becomes a per-example prediction.

Requires: NumPy. Provides :class:`Readout` (mlGeNN's base), :class:`Var`, :class:`SumVar`,
:class:`AvgVar`, :class:`MaxVar`, :class:`SpikeCount`, :class:`FirstSpikeTime` and
:data:`default_readouts` (name -> class).

A readout adds accumulator variables and a line of code-string language to the population
and reduces the accumulators to one value per neuron and example at the end of each example
(``compute``). Lowering asks the readout object once for its accumulators and code and stores
them in the IR (:class:`~irsnn.ir.ReadoutSpec`), which the ``insert-readout`` pass applies; the
compiled network calls ``compute`` on the population's own readout object. User subclasses of
:class:`Readout` (constructor arguments included) work the same way.
"""

from abc import ABC, abstractmethod

import numpy as np

__all__ = ["Readout", "Var", "SumVar", "AvgVar", "MaxVar", "SpikeCount", "FirstSpikeTime",
           "default_readouts"]


class Readout(ABC):
    """Base class.

    Subclasses override :meth:`accumulators`, :meth:`sim_code`, :meth:`reset_code` and
    :meth:`compute`. ``output_var`` is the population's output variable (``V`` for built-ins).
    """

    #: snake_case name used in the IR and accepted as a string shortcut
    name = ""
    #: needs a spiking neuron (its code runs in the reset block)
    needs_spikes = False

    def accumulators(self, output_var: str, output_type: str) -> list[tuple[str, str, float]]:
        """``(name, type, initial value)`` of the variables to add to the population."""
        return []

    def sim_code(self, output_var: str) -> str:
        """Code appended to the neuron's sim code (runs every timestep)."""
        return ""

    def reset_code(self, output_var: str) -> str:
        """Code appended to the neuron's reset code (runs when a neuron spikes)."""
        return ""

    @abstractmethod
    def compute(self, values: dict, output_var: str, timesteps: int, dt: float) -> np.ndarray:
        """Per-example output from the pulled variables (each ``(batch, neurons)``)."""

    def __repr__(self):
        return f"{type(self).__name__}()"


class Var(Readout):
    """The output variable's value at the end of the example."""

    name = "var"

    def compute(self, values, output_var, timesteps, dt):
        return values[output_var]


class SumVar(Readout):
    """The output variable summed over the timesteps of the example."""

    name = "sum_var"

    def accumulators(self, output_var, output_type):
        return [(f"{output_var}Sum", output_type, 0.0)]

    def sim_code(self, output_var):
        return f"{output_var}Sum += {output_var};"

    def compute(self, values, output_var, timesteps, dt):
        return values[f"{output_var}Sum"]


class AvgVar(SumVar):
    """The output variable averaged over the timesteps of the example."""

    name = "avg_var"

    def compute(self, values, output_var, timesteps, dt):
        return values[f"{output_var}Sum"] / np.float32(timesteps)


class MaxVar(Readout):
    """The largest value the output variable reached during the example."""

    name = "max_var"

    def accumulators(self, output_var, output_type):
        return [(f"{output_var}Max", output_type, float("-inf"))]

    def sim_code(self, output_var):
        return f"{output_var}Max = fmax({output_var}Max, {output_var});"

    def compute(self, values, output_var, timesteps, dt):
        return values[f"{output_var}Max"]


class SpikeCount(Readout):
    """The number of spikes each neuron emitted during the example."""

    name = "spike_count"
    needs_spikes = True

    def accumulators(self, output_var, output_type):
        return [("Scount", "int", 0.0)]

    def reset_code(self, output_var):
        return "Scount++;"

    def compute(self, values, output_var, timesteps, dt):
        return values["Scount"]


class FirstSpikeTime(Readout):
    """Minus the time of each neuron's first spike (so ``argmax`` picks the earliest neuron).

    Neurons that never spiked read ``-inf``.
    """

    name = "first_spike_time"
    needs_spikes = True

    def accumulators(self, output_var, output_type):
        return [("TFirstSpike", "scalar", float("inf"))]

    def reset_code(self, output_var):
        return "if (t < TFirstSpike) { TFirstSpike = t; }"

    def compute(self, values, output_var, timesteps, dt):
        return -values["TFirstSpike"]


default_readouts = {cls.name: cls for cls in (Var, SumVar, AvgVar, MaxVar, SpikeCount,
                                              FirstSpikeTime)}
