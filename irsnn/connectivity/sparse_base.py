"""Base class of sparse connectivity: synapses that may be listed explicitly by index.

Requires: :class:`~.connectivity.Connectivity`, NumPy and :mod:`irsnn.utils.value`. Provides
:class:`SparseBase` (mlGeNN's): optional explicit ``pre_ind``/``post_ind`` and their checks,
shared by :class:`~.sparse.Sparse` and :class:`~.fixed_probability.FixedProbability`.
"""

from __future__ import annotations

import weakref

import numpy as np

from ..errors import ModelError, ShapeError
from ..utils.value import InitValue, is_value_array
from .connectivity import Connectivity
from .spec import ConnectivitySpec

def _as_indices(owner: str, name: str, value):
    """``value`` as a 1-D int64 array of neuron indices (None stays None), or a clear error."""
    if value is None:
        return None
    if isinstance(value, str) or not (is_value_array(value) or isinstance(value, np.ndarray)):
        raise ModelError(f"{owner}: {name} must be a sequence or 1-D array of neuron indices "
                         f"(got {type(value).__name__})")
    arr = np.asarray(value)
    if arr.ndim != 1:
        raise ModelError(f"{owner}: {name} must be 1-D, one index per synapse (got shape "
                         f"{arr.shape}); flatten it")
    if arr.size == 0:
        return np.zeros(0, np.int64)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise ModelError(f"{owner}: {name} must hold integer neuron indices (got an array of "
                         f"{arr.dtype})")
    if not np.issubdtype(arr.dtype, np.integer):
        bad = np.flatnonzero(~np.isfinite(arr) | (arr != np.round(arr)))
        if len(bad):
            raise ModelError(f"{owner}: {name}[{bad[0]}] = {float(arr[bad[0]]):g} is not a whole "
                             f"number ({len(bad)} such entries); indices must be integers")
    arr = arr.astype(np.int64)
    neg = np.flatnonzero(arr < 0)
    if len(neg):
        raise ModelError(f"{owner}: {name}[{neg[0]}] = {arr[neg[0]]} is negative ({len(neg)} "
                         f"negative entries); indices count neurons from 0")
    return arr


class SparseBase(Connectivity):
    """Base class of sparse connectivity (mlGeNN's ``SparseBase``).

    The synapses are drawn by the subclass (e.g. :class:`FixedProbability`) unless
    :attr:`pre_ind` and :attr:`post_ind` are set: then exactly the synapses
    ``(pre_ind[k], post_ind[k])`` exist. That is how ``network.load`` restores the connectivity
    that ``save_connectivity`` wrote, and how mlGeNN scripts define connectivity by hand
    (``conn.connectivity.pre_ind = ...``).

    With explicit indices, ``weight`` and ``delay`` may be a number, an Initializer (drawn per
    (pre, post) pair, so a pair gets the same value whatever the order of the lists), an array
    with one value per synapse (in the order of the index lists) or a full
    ``(source.num_neurons, target.num_neurons)`` matrix read at the listed pairs (what
    ``save`` writes).

    Parameters
    ----------
    weight, delay : number, Initializer or array
        See above.
    layout : {None, "dense", "sparse"}
        Storage of the synapses; None lets the ``choose-sparse-layout`` pass decide.
    """

    #: user layout names -> IR layouts (subclasses may store more)
    LAYOUTS = {"dense": "dense", "sparse": "ragged"}

    def __init__(self, weight: InitValue, delay: InitValue = 0, layout: str | None = None):
        if layout is not None and layout not in self.LAYOUTS:
            names = ", ".join(repr(k) for k in self.LAYOUTS)
            raise ModelError(f"{type(self).__name__}: layout={layout!r} is not a layout; use "
                             f"{names} or None (chosen by the compiler)")
        self.layout = layout
        self._pre_ind = None
        self._post_ind = None
        self._connection = None
        super().__init__(weight, delay)

    def _describe(self) -> str:
        conn = self._connection() if self._connection is not None else None
        name = type(self).__name__
        return f"{conn.describe()} [{name}]" if conn is not None else name

    @property
    def pre_ind(self):
        """Presynaptic neuron index of every synapse (None: the subclass draws the synapses)."""
        return self._pre_ind

    @pre_ind.setter
    def pre_ind(self, value):
        self._pre_ind = _as_indices(self._describe(), "pre_ind", value)

    @property
    def post_ind(self):
        """Postsynaptic neuron index of every synapse (None: the subclass draws the synapses)."""
        return self._post_ind

    @post_ind.setter
    def post_ind(self, value):
        self._post_ind = _as_indices(self._describe(), "post_ind", value)

    @property
    def has_indices(self) -> bool:
        """True when the synapses are given explicitly (either index list set)."""
        return self._pre_ind is not None or self._post_ind is not None

    def _check_shapes(self, source, target, connection):
        if source.shape is None or target.shape is None:
            missing = "source" if source.shape is None else "target"
            raise ShapeError(
                f"{self._owner(connection)}: the {missing} population has no shape and "
                f"{type(self).__name__} cannot infer it; give the population a shape")

    def connect(self, source, target, connection=None):
        if connection is not None:
            self._connection = weakref.ref(connection)
        self._check_shapes(source, target, connection)
        if self.has_indices:
            self._explicit(source.num_neurons, target.num_neurons, connection)

    # -- explicit synapses --------------------------------------------------------------------
    def _explicit(self, num_pre, num_post, connection):
        """Validated ``(pre, post, weight, delay)`` of explicit synapses (per-synapse arrays)."""
        owner = f"{self._owner(connection)} [{type(self).__name__}]"
        pre, post = self._pre_ind, self._post_ind
        if pre is None or post is None:
            given, missing = ("pre_ind", "post_ind") if post is None else ("post_ind", "pre_ind")
            raise ModelError(f"{owner}: {given} is set but {missing} is not; give both index "
                             f"lists (one (pre, post) pair per synapse) or neither")
        if len(pre) != len(post):
            raise ShapeError(f"{owner}: pre_ind has {len(pre)} entries but post_ind has "
                             f"{len(post)}; give one (pre, post) pair per synapse")
        for name, ind, n, role in (("pre_ind", pre, num_pre, "source"),
                                   ("post_ind", post, num_post, "target")):
            bad = np.flatnonzero(ind >= n)
            if len(bad):
                raise ModelError(
                    f"{owner}: {name}[{bad[0]}] = {ind[bad[0]]} is out of range: the {role} "
                    f"population has {n} neurons (valid indices 0..{n - 1}); {len(bad)} "
                    f"{name} entries are out of range")
        flat = pre * num_post + post
        order = np.argsort(flat, kind="stable")
        same = np.flatnonzero(flat[order][1:] == flat[order][:-1])
        if len(same):
            first, second = sorted((int(order[same[0]]), int(order[same[0] + 1])))
            raise ModelError(
                f"{owner}: the synapse (pre={pre[first]}, post={post[first]}) is listed twice "
                f"(positions {first} and {second}); {len(same)} duplicate pairs in total - "
                f"each synapse may be listed once")
        values = [self._per_synapse(owner, name, getattr(self, name), pre, post,
                                    (num_pre, num_post)) for name in ("weight", "delay")]
        return pre, post, values[0], values[1]

    @staticmethod
    def _per_synapse(owner, name, value, pre, post, full):
        if not is_value_array(value):
            return value
        arr = np.asarray(value)
        if arr.ndim == 2 and arr.shape == full:
            return arr[pre, post]
        if arr.ndim == 1 and arr.size == len(pre):
            return arr
        raise ShapeError(
            f"{owner}: {name} array has shape {arr.shape} but the connection lists "
            f"{len(pre)} synapses; give one value per synapse ({len(pre)},) in the order of "
            f"pre_ind/post_ind, or a full {full} matrix")

    def _explicit_spec(self, connection) -> ConnectivitySpec:
        source, target = connection.source(), connection.target()
        pre, post, weight, delay = self._explicit(source.num_neurons, target.num_neurons,
                                                  connection)
        return ConnectivitySpec(kind="sparse", weight=weight, delay=delay, p=None,
                                allow_self_connections=True, trainable=self.trainable,
                                layout=self.layout, pre_ind=pre, post_ind=post)
