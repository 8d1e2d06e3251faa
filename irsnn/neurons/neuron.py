"""Base class of neuron models.

Requires: :mod:`irsnn.errors`; readouts are resolved when one is set. Provides
:class:`Neuron` (mlGeNN's base: ``get_model``, ``readout``, ``softmax``) and
:func:`spiking_model`, the model dict builder of the spiking neurons.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from inspect import signature

import numpy as np

from ..errors import ModelError


class Neuron(ABC):
    """Base class for all neuron models.

    Parameters
    ----------
    softmax : bool, optional
        Whether a softmax is applied to the readout (kept for the mlGeNN paper's API).
    readout : Readout or str, optional
        How to read this neuron's output variable (``"sum_var"``, ``"spike_count"``, ...).

    Notes
    -----
    Both ``super().__init__(softmax, readout)`` (mlGeNN paper examples) and
    ``super().__init__(readout)`` (mlGeNN 2.x) work: a first argument that is a readout
    object or name is taken as the readout.
    Subclasses implement ``get_model(population, dt, batch_size)``; the older two-argument
    ``get_model(population, dt)`` is also accepted by lowering.
    """

    def __init__(self, softmax=None, readout=None, **kwargs):
        try:
            super().__init__(**kwargs)
        except TypeError as exc:
            if not kwargs:
                raise
            valid = [p for p in signature(type(self).__init__).parameters
                     if p not in ("self", "kwargs")]
            raise ModelError(f"{type(self).__name__}: unknown argument(s) {sorted(kwargs)}; "
                             f"valid arguments are {valid}") from exc
        if (readout is None and softmax is not None
                and not isinstance(softmax, (bool, np.bool_))):
            softmax, readout = None, softmax
        self.softmax = softmax
        self.readout = readout

    @abstractmethod
    def get_model(self, population, dt: float, batch_size: int):
        """Return the :class:`~irsnn.utils.model.NeuronModel` of this neuron.

        Parameters
        ----------
        population : Population
            Population the neuron model is used for.
        dt : float
            Simulation timestep (ms).
        batch_size : int
            Batch size of the compiled model.
        """

    @property
    def readout(self):
        """The readout attached to this neuron's output variable, or ``None``."""
        return self._readout

    @readout.setter
    def readout(self, r):
        if r is None:
            self._readout = None
            return
        try:
            from ..readouts import Readout, default_readouts
        except ImportError as exc:
            raise ModelError(f"{type(self).__name__}: readouts are unavailable ({exc})") from exc
        from ..utils.module import get_object
        self._readout = get_object(r, Readout, "Readout", default_readouts)


def spiking_model(vars_, params, update, threshold, reset, tau_refrac, integrate_during_refrac,
                  always=""):
    """Assemble an integrate-and-fire style model dict, with optional refractoriness.

    ``update`` integrates the membrane, ``always`` runs every step regardless of
    refractoriness. With a refractory period a ``RefracTime`` variable counts down by ``dt``,
    spikes need ``RefracTime <= 0.0`` and the reset sets ``RefracTime = TauRefrac``.
    Returns ``(model_dict, extra_var_vals)``.
    """
    model = {"vars": list(vars_), "params": list(params)}
    var_vals = {}
    if tau_refrac is None:
        sim = update + always
    else:
        model["vars"].append(("RefracTime", "scalar"))
        model["params"].append(("TauRefrac", "scalar"))
        var_vals["RefracTime"] = 0.0
        count_down = "if (RefracTime > 0.0) {\n    RefracTime -= dt;\n}\n"
        if integrate_during_refrac:
            sim = update + always + count_down
        else:
            sim = (always + "if (RefracTime > 0.0) {\n    RefracTime -= dt;\n}\nelse {\n    "
                   + update + "}\n")
        threshold += " && RefracTime <= 0.0"
        reset += "RefracTime = TauRefrac;\n"
    model["sim_code"] = sim
    model["threshold_condition_code"] = threshold
    model["reset_code"] = reset
    return model, var_vals
