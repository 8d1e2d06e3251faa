"""Random sparse connectivity with a fixed connection probability.

Requires: :class:`~.sparse_base.SparseBase` and :class:`~.spec.ConnectivitySpec`. Provides
:class:`FixedProbability` (mlGeNN's), whose synapses the backends draw from the RNG seed.
"""

from __future__ import annotations

from numbers import Number

from ..errors import ModelError
from ..utils.value import InitValue, is_value_array
from .sparse_base import SparseBase
from .spec import ConnectivitySpec


class FixedProbability(SparseBase):
    """Each (source, target) pair is connected independently with probability ``p``.

    Setting :attr:`pre_ind` and :attr:`post_ind` (as mlGeNN allows, and as ``network.load``
    does with a saved connectivity) replaces the random draw by exactly those synapses; see
    :class:`~irsnn.connectivity.sparse_base.SparseBase`.

    Parameters
    ----------
    p : float
        Connection probability in ``[0, 1]``.
    weight : number or Initializer
        Weights (arrays are not possible: the synapses are only known at run time).
    allow_self_connections : bool
        When a population connects to itself, may a neuron connect to itself?
    delay : number or Initializer
        Delays in timesteps.
    layout : {None, "dense", "sparse", "bitmask", "procedural"}
        Storage of the synapses; None lets the ``choose-sparse-layout`` pass decide.
        ``"dense"``: a matrix with zeros for absent synapses; ``"sparse"``: per presynaptic
        neuron a row of target indices and weights (GeNN's SPARSE); ``"bitmask"``: one bit per
        (source, target) pair, with one weight for all synapses (a number) or a dense weight
        matrix (an Initializer); ``"procedural"``: nothing stored, the connectivity and the
        weights are regenerated from the counter-based RNG at every spike (inference only;
        a number, Normal or Uniform weight). Every layout gives the same synapses and weights.
    """

    #: user layout names -> IR layouts
    LAYOUTS = {"dense": "dense", "sparse": "ragged", "bitmask": "bitmask",
               "procedural": "procedural"}

    def __init__(self, p: float, weight: InitValue, allow_self_connections: bool = False,
                 delay: InitValue = 0, layout: str | None = None):
        if isinstance(p, bool) or not isinstance(p, Number) or not 0.0 <= float(p) <= 1.0:
            raise ModelError(
                f"FixedProbability: p must be a probability in [0, 1] (got {p!r})")
        self.p = float(p)
        self.allow_self_connections = bool(allow_self_connections)
        super().__init__(weight, delay, layout)
        for name in ("weight", "delay"):
            if is_value_array(getattr(self, name)):
                raise ModelError(
                    f"FixedProbability: {name} cannot be an array because the synapses are "
                    f"drawn at run time; give a number or an Initializer (or list the "
                    f"synapses with pre_ind/post_ind, or use Sparse)")

    def get_spec(self, connection) -> ConnectivitySpec:
        if self.has_indices:
            return self._explicit_spec(connection)
        return ConnectivitySpec(kind="fixed_probability", weight=self.weight,
                                delay=self.delay, p=self.p,
                                allow_self_connections=self.allow_self_connections,
                                trainable=self.trainable, layout=self.layout)
