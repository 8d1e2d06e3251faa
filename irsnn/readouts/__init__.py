"""Readouts: how a population's output variable becomes a per-example prediction.

Requires: NumPy. Provides :class:`Readout` (mlGeNN's base), :class:`Var`, :class:`SumVar`,
:class:`AvgVar`, :class:`AvgVarExpWeight`, :class:`MaxVar`, :class:`SpikeCount`,
:class:`FirstSpikeTime` and :data:`default_readouts` (name -> class). mlGeNN's extension hooks
(``add_readout_logic``, ``get_readout``, ``reset_vars``) work on every readout, and a subclass
may implement those instead of irsnn's (see :mod:`.model_readout`).

A readout adds accumulator variables and a line of code-string language to the population
and reduces the accumulators to one value per neuron and example at the end of each example
(``compute``). Lowering asks the readout object once for its accumulators and code and stores
them in the IR (:class:`~irsnn.ir.ReadoutSpec`), which the ``insert-readout`` pass applies; the
compiled network calls ``compute`` on the population's own readout object. User subclasses of
:class:`Readout` (constructor arguments included) work the same way.
"""


import numpy as np

__all__ = ["Readout", "Var", "SumVar", "AvgVar", "AvgVarExpWeight", "MaxVar", "SpikeCount",
           "FirstSpikeTime", "default_readouts"]


class Readout:
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

    def compute(self, values: dict, output_var: str, timesteps: int, dt: float) -> np.ndarray:
        """Per-example output from the pulled variables (each ``(batch, neurons)``).

        The default answers with mlGeNN's ``get_readout(genn_pop, batch_size, shape)`` where
        a subclass defines that instead."""
        from .model_readout import overrides_model_hook, read_through_get_readout
        if overrides_model_hook(self, "get_readout"):
            return read_through_get_readout(self, values)
        raise NotImplementedError(f"{type(self).__name__} defines neither compute() nor "
                                  f"mlGeNN's get_readout(); define one of them")

    # -- mlGeNN's extension hooks ---------------------------------------------------------
    def add_readout_logic(self, model, **kwargs):
        """mlGeNN's hook: a copy of the neuron ``model`` with this readout's variables and
        code added (``kwargs``: ``example_timesteps``, ``dt``). A subclass may override it
        (with :meth:`get_readout`) instead of :meth:`accumulators`/:meth:`sim_code`."""
        from copy import deepcopy
        model = deepcopy(model)
        out = model.output_var_name
        types = {v[0]: v[1] for v in model.model.get("vars", ()) or ()}
        for name, typ, init in self.accumulators(out, types.get(out, "scalar")):
            model.add_var(name, typ, init)
        if self.sim_code(out):
            model.append_sim_code(self.sim_code(out))
        if self.reset_code(out):
            model.append_reset_code(self.reset_code(out))
        return model

    def get_readout(self, genn_pop, batch_size: int, shape) -> np.ndarray:
        """mlGeNN's hook: the per-example output read from ``genn_pop.vars[name].view``."""
        raise NotImplementedError(f"{type(self).__name__} does not define get_readout")

    @property
    def reset_vars(self) -> list:
        """mlGeNN's list of ``(name, type, value)`` the readout resets between examples."""
        return []

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


from .avg_var_exp_weight import AvgVarExpWeight  # noqa: E402  (needs Readout above)

default_readouts = {cls.name: cls for cls in (Var, SumVar, AvgVar, MaxVar, SpikeCount,
                                              FirstSpikeTime, AvgVarExpWeight)}
