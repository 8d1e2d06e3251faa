"""Few-spike input neurons: a value encoded in K binary-weighted spikes (Stoeckl & Maass 2021).

Requires: :class:`~.neuron.Neuron`, :class:`~.input.InputBase` and
:class:`~irsnn.utils.model.NeuronModel`. Provides :class:`FewSpikeReluInput` (mlGeNN's) and
:func:`check_k` and :data:`PIPE_STEP`, shared with :class:`~.few_spike_relu.FewSpikeRelu`.

A few-spike network runs in periods of ``K`` timesteps (see
:class:`~irsnn.compilers.few_spike_compiler.FewSpikeCompiler`); :data:`PIPE_STEP` is the
timestep within the period. In step ``p`` a neuron spikes if its value is at least the
threshold ``alpha * 2**(-1 - p)`` and then subtracts it, so the ``K`` spikes are the binary
digits of ``min(max(x, 0), alpha * (1 - 2**-K))`` rounded down to a multiple of
``alpha * 2**-K``.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np

from ..errors import ModelError
from ..utils.model import NeuronModel
from .input import InputBase
from .neuron import Neuron

#: code computing ``step``, the timestep within the current period of ``K`` timesteps
PIPE_STEP = "const int step = ((int)round(t / dt)) % K;\n"

#: largest K: thresholds are ``1 << (K - 1)`` multiples of the smallest one
MAX_K = 30


def check_k(owner: str, k, alpha) -> tuple[int, float]:
    """Validate the ``k`` (spikes per value) and ``alpha`` (largest value) of a neuron."""
    if isinstance(k, bool) or not isinstance(k, Integral | np.integer) or not 1 <= k <= MAX_K:
        raise ModelError(f"{owner}: k={k!r} must be a whole number of timesteps between 1 and "
                         f"{MAX_K}")
    if isinstance(alpha, bool) or not isinstance(alpha, Real) or not np.isfinite(alpha) \
            or alpha <= 0:
        raise ModelError(f"{owner}: alpha={alpha!r} must be a positive number (the largest "
                         f"activation the neuron can represent)")
    return int(k), float(alpha)


class FewSpikeReluInput(Neuron, InputBase):
    """Encodes each input value in ``k`` spikes with binary-weighted thresholds.

    Parameters
    ----------
    k : int
        Timesteps (spikes at most) per value.
    alpha : float
        Scale: values in ``[0, alpha)`` are represented, in steps of ``alpha * 2**-k``.
    signed_input : bool
        Encode negative values too: even steps carry the positive part, odd steps the
        negative part, ``k // 2`` bits each (``k`` must then be even). A negative value is
        rounded towards zero (mlGeNN rounds it away from zero by one step).
    """

    def __init__(self, k: int = 10, alpha: float = 25, signed_input=False):
        super().__init__(var_name="V")
        self.k, self.alpha = check_k(type(self).__name__, k, alpha)
        self.signed_input = bool(signed_input)
        if self.signed_input and self.k % 2:
            raise ModelError(f"{type(self).__name__}: signed_input needs an even k (k={k}): "
                             f"half of the timesteps carry each sign")

    @property
    def scale(self) -> float:
        """The smallest threshold: ``alpha * 2**-k`` (``alpha * 2**-(k // 2)`` if signed)."""
        return self.alpha * 2.0 ** -(self.k // 2 if self.signed_input else self.k)

    def get_model(self, population, dt: float, batch_size: int = 1) -> NeuronModel:
        if self.signed_input:
            sim = PIPE_STEP + ("const bool positive = (step % 2) == 0;\n"
                               "const int bit = (K / 2) - 1 - (step / 2);\n"
                               "const scalar hT = Scale * (scalar)(1 << bit);\n")
            model = {"sim_code": sim,
                     "threshold_condition_code": "(positive && V >= hT) || (!positive && V <= -hT)",
                     "reset_code": "if (positive) {\n    V -= hT;\n}\nelse {\n    V += hT;\n}\n"}
        else:
            sim = PIPE_STEP + "const scalar hT = Scale * (scalar)(1 << (K - 1 - step));\n"
            model = {"sim_code": sim, "threshold_condition_code": "V >= hT",
                     "reset_code": "V -= hT;\n"}
        model["params"] = [("K", "int"), ("Scale", "scalar")]
        model["vars"] = [("V", "scalar")]
        return NeuronModel(model, None, {"K": self.k, "Scale": self.scale}, {"V": 0.0})
