"""Few-spike ReLU neurons (Stoeckl & Maass 2021): an ANN's ReLU activation in K spikes.

Requires: :mod:`.few_spike_relu_input` (the step code and the checks) and
:class:`~irsnn.utils.model.NeuronModel`. Provides :class:`FewSpikeRelu` (mlGeNN's).

Within a period of ``K`` timesteps the neuron decodes the spikes of its sources into ``Fx``:
a spike sent in step ``p`` arrives in step ``p + 1`` (wrapping to step 0 of the next period)
and is worth the sender's threshold in step ``p``, ``SrcScale * 2**(K - 1 - p)``. In step 0
the decoded input of the previous period becomes ``V`` and is encoded as the sources encode
theirs (see :mod:`.few_spike_relu_input`), so each layer is one period behind its sources.
``Fx`` is the output variable: read at the end of a period it holds the input decoded from all
but the last spike of the period (worth ``SrcScale``), as in mlGeNN.
"""

from __future__ import annotations

from ..errors import ModelError
from ..utils.model import NeuronModel
from .few_spike_relu_input import PIPE_STEP, FewSpikeReluInput, check_k
from .neuron import Neuron

_DECODE_UNSIGNED = "const scalar d = SrcScale * (scalar)(1 << ((K - step) % K));\n"
# the sender's step is step - 1: odd sender steps (even here) carried negative spikes
_DECODE_SIGNED = ("const scalar sign = ((step % 2) == 0) ? -1.0 : 1.0;\n"
                  "const scalar d = sign * SrcScale * (scalar)(1 << (((K - step) % K) / 2));\n")
_ACCUMULATE = ("Fx += Isyn * d;\n"
               "if (step == 0) {\n    V = Fx;\n    Fx = 0.0;\n}\n")


class FewSpikeRelu(Neuron):
    """A neuron emitting ``ReLU`` of its input in at most ``k`` binary-weighted spikes.

    Its sources must be :class:`FewSpikeRelu` or :class:`FewSpikeReluInput` populations with
    the same ``k``, the same ``alpha`` and (for inputs) the same signedness, connected with
    ``Delta`` synapses; compile with
    :class:`~irsnn.compilers.few_spike_compiler.FewSpikeCompiler`.

    Parameters
    ----------
    k : int
        Timesteps (spikes at most) per value.
    alpha : float
        Scale: activations in ``[0, alpha)`` are represented, in steps of ``alpha * 2**-k``.
    readout : Readout or str, optional
        ``"var"`` for an output population (reads ``Fx``).
    """

    pipelined = True

    def __init__(self, k: int = 10, alpha: float = 25, readout=None):
        super().__init__(readout)
        self.k, self.alpha = check_k(type(self).__name__, k, alpha)

    def _sources(self, population):
        """``(alpha, signed)`` shared by every source population; errors name the culprit."""
        owner = f"Population '{population.name}' (FewSpikeRelu)"
        found = set()
        for c in population.incoming_connections:
            src = c().source()
            nrn = src.neuron
            if not isinstance(nrn, FewSpikeRelu | FewSpikeReluInput):
                raise ModelError(f"{owner}: source '{src.name}' is a {type(nrn).__name__}; "
                                 f"few-spike neurons only take input from FewSpikeRelu or "
                                 f"FewSpikeReluInput populations")
            if nrn.k != self.k:
                raise ModelError(f"{owner}: source '{src.name}' has k={nrn.k} but this "
                                 f"population has k={self.k}; use one k in the whole network")
            found.add((nrn.alpha, bool(getattr(nrn, "signed_input", False))))
        if len(found) > 1:
            raise ModelError(f"{owner}: its sources differ in (alpha, signed_input): "
                             f"{sorted(found)}; give every source the same alpha and signedness")
        return found.pop() if found else (self.alpha, False)

    def get_model(self, population, dt: float, batch_size: int = 1) -> NeuronModel:
        src_alpha, signed = self._sources(population)
        src_scale = src_alpha * 2.0 ** -(self.k // 2 if signed else self.k)
        sim = (PIPE_STEP + "const scalar hT = Scale * (scalar)(1 << (K - 1 - step));\n"
               + (_DECODE_SIGNED if signed else _DECODE_UNSIGNED) + _ACCUMULATE)
        model = {"params": [("K", "int"), ("Scale", "scalar"), ("SrcScale", "scalar")],
                 "vars": [("Fx", "scalar"), ("V", "scalar")],
                 "sim_code": sim, "threshold_condition_code": "V >= hT",
                 "reset_code": "V -= hT;\n"}
        return NeuronModel(model, "Fx", {"K": self.k, "Scale": self.alpha * 2.0 ** -self.k,
                                         "SrcScale": src_scale}, {"Fx": 0.0, "V": 0.0})
