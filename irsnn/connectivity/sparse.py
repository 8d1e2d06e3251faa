"""Sparse connectivity listed explicitly, synapse by synapse.

Requires: :class:`~.sparse_base.SparseBase` and :class:`~.spec.ConnectivitySpec`. Provides
:class:`Sparse` (mlGeNN's): connectivity from explicit ``pre_ind``/``post_ind`` arrays.
"""

from __future__ import annotations

from ..errors import ModelError
from ..utils.value import InitValue
from .sparse_base import SparseBase
from .spec import ConnectivitySpec


class Sparse(SparseBase):
    """Exactly the synapses ``(pre_ind[k], post_ind[k])``, k = 0, 1, ...

    An irsnn addition to mlGeNN's connectivity classes: in mlGeNN the same is done by setting
    ``pre_ind``/``post_ind`` on a ``FixedProbability`` (which irsnn accepts too). The synapses
    are stored ragged (GeNN's SPARSE) unless ``layout="dense"``; duplicate pairs, indices out
    of range and lists of different lengths are errors.

    Parameters
    ----------
    pre_ind, post_ind : sequence of int
        Source and target neuron of every synapse (0-based, flat neuron indices).
    weight : number, Initializer or array
        One value for all, an Initializer (drawn per (pre, post) pair), one value per synapse
        in the order of the index lists, or a full ``(source.num_neurons,
        target.num_neurons)`` matrix read at the listed pairs.
    delay : number, Initializer or array
        Delays in timesteps, given like ``weight``.
    layout : {None, "dense", "sparse"}
        Storage; None lets the ``choose-sparse-layout`` pass decide (ragged unless the
        delays are per synapse).

    Examples
    --------
    >>> Sparse([0, 0, 3], [1, 2, 0], weight=[0.5, -0.25, 1.0])  # doctest: +ELLIPSIS
    <irsnn.connectivity.sparse.Sparse object at ...>
    """

    def __init__(self, pre_ind, post_ind, weight: InitValue, delay: InitValue = 0,
                 layout: str | None = None):
        super().__init__(weight, delay, layout)
        if pre_ind is None or post_ind is None:
            raise ModelError("Sparse: pre_ind and post_ind are required (one (pre, post) pair "
                             "per synapse); for randomly drawn synapses use FixedProbability")
        # lengths, ranges and duplicates are checked by connect(), which knows the connection
        self.pre_ind = pre_ind
        self.post_ind = post_ind

    def get_spec(self, connection) -> ConnectivitySpec:
        return self._explicit_spec(connection)
