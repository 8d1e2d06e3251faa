"""Initial values of every variable and weight, computed on the host for all backends.

Requires: the IR (its side table and layout traits) and :mod:`irsnn.rng`. Provides the dtypes
of code-string types, initial values, the synapses a connection has (drawn or listed) and its
weights and delays as dense matrices; how each layout stores them is the layout strategies'
business (:mod:`backends.kernels.layouts`).

Random initialisers draw from the counter-based generator (:mod:`irsnn.rng`) keyed on
(seed, a stream derived from the object's id, the element index), so every backend starts
from bit-identical state whatever its device.
"""

from __future__ import annotations

import numpy as np

from irsnn.errors import ModelError
from irsnn.lang.types import type_info
from irsnn.ir.layouts import layout_traits
from irsnn.ir.ids import var_ref
from irsnn.rng import CounterRNG, normal_from_bits, stream_id, uniform_from_bits


def numpy_type(type_name: str, precision: str = "float"):
    """NumPy dtype of a code-string type (``scalar`` follows ``precision``), from
    :data:`irsnn.lang.types.TYPES`; raises :class:`ModelError` for an unknown type."""
    try:
        return type_info(type_name, precision).dtype
    except ValueError as exc:
        raise ModelError(str(exc)) from None


def initial_values(graph, init, name: str, size: int, seed: int, dtype) -> np.ndarray:
    """Flat array of ``size`` initial values for ``init`` (a :class:`~irsnn.ir.VarInit`)."""
    if init.kind == "constant":
        return np.full(size, init.value, dtype=dtype)
    if init.kind == "array":
        return np.asarray(graph.array(init.key), dtype=dtype).reshape(size).copy()
    params = dict(init.params)
    x0, x1 = _words(seed, stream_id(name), size)
    if init.kind == "uniform":
        u = uniform_from_bits(x0).astype(np.float64)
        return (params["min"] + u * (params["max"] - params["min"])).astype(dtype)
    if init.kind == "normal":
        z = normal_from_bits(x0, x1).astype(np.float64)
        return (params["mean"] + z * params["sd"]).astype(dtype)
    raise ModelError(f"'{name}': unknown initializer kind {init.kind!r}; use Normal, Uniform, "
                     f"a constant or an array")


def _words(seed: int, stream: int, size: int):
    """Raw Philox words ``(x0, x1)`` of counters ``(i, 0, stream, 0)`` for ``i < size``:
    natively when a C compiler is available (exact integer arithmetic, same words), else
    with NumPy."""
    if size >= 4096:
        from .native.rng import philox_words
        words = philox_words(seed, stream, 0, size)
        if words is not None:
            return words
    x0, x1, _, _ = CounterRNG(seed).bits(stream, 0, np.arange(size, dtype=np.uint32))
    return x0, x1


def spike_schedule(end_spikes, spike_times, first_step: int, dt: float, dtype):
    """:func:`irsnn.utils.data.spike_schedule` of a batch: natively when a C compiler is
    available (the same arrays, a fraction of the time), else with NumPy."""
    from irsnn.utils.data import spike_schedule as numpy_spike_schedule

    from .native.schedule import native_spike_schedule
    out = native_spike_schedule(end_spikes, spike_times, first_step, dt, dtype)
    if out is None:
        out = numpy_spike_schedule(end_spikes, spike_times, first_step, dt, dtype)
    return out


def listed_synapses(graph, syn):
    """``(pre, post)`` int64 index arrays of a ``sparse`` (explicitly listed) synapse group,
    else None."""
    if syn.connectivity != "sparse":
        return None
    return (np.asarray(graph.array(syn.pre_ind), np.int64),
            np.asarray(graph.array(syn.post_ind), np.int64))


def connectivity_mask(graph, eid: str, syn, seed: int) -> np.ndarray | None:
    """Boolean ``(num_pre, num_post)`` mask of existing synapses, or None when all exist.

    A ``FixedProbability`` connection draws its synapses from the counter-based RNG, unless its
    weight is an explicit ``(num_pre, num_post)`` array: that array is then the whole matrix
    (zeros mark absent synapses), which is how a saved checkpoint of it loads back. A
    ``sparse`` connection has exactly its listed synapses; ``one_to_one`` stored as a matrix
    has the diagonal (stored ``one_to_one``, every stored weight is a synapse: None).
    """
    listed = listed_synapses(graph, syn)
    if listed is not None:
        mask = np.zeros((syn.num_pre, syn.num_post), bool)
        mask[listed] = True
        return mask
    if syn.connectivity == "one_to_one":
        return None if layout_traits(syn.layout).per_neuron else np.eye(syn.num_pre, dtype=bool)
    if syn.connectivity != "fixed_probability" or syn.weight.kind == "array":
        return None
    u = uniform_from_bits(_words(seed, stream_id(var_ref(eid, "connectivity")),
                                 syn.num_pre * syn.num_post)[0])
    mask = (u < np.float32(syn.p)).reshape(syn.num_pre, syn.num_post)
    if syn.source == syn.target and not syn.allow_self_connections:
        np.fill_diagonal(mask, False)
    return mask


def allowed_synapses(syn) -> np.ndarray:
    """Boolean ``(num_pre, num_post)``: where a synapse of ``syn`` may exist (everywhere but
    the diagonal of a recurrent connection without self-connections)."""
    allowed = np.ones((syn.num_pre, syn.num_post), bool)
    if syn.source == syn.target and not syn.allow_self_connections:
        np.fill_diagonal(allowed, False)
    return allowed


def synapse_mask(graph, eid: str, syn, seed: int) -> np.ndarray | None:
    """The existing synapses of a dense, ragged, bitmask or procedural group (None: all), as
    the backends see them: the drawn FixedProbability mask, or an explicit weight array's
    non-zeros for ragged and bitmask."""
    mask = connectivity_mask(graph, eid, syn, seed)
    if mask is None and layout_traits(syn.layout).absent_as_zero:
        w, _ = synapse_arrays(graph, eid, syn, seed)
        mask = w != 0
    return mask


def synapse_arrays(graph, eid: str, syn, seed: int, dtype=np.float32):
    """``(weights, delays or None)`` in the synapse group's layout, absent synapses zeroed:
    ``(num_post,)`` for the ``one_to_one`` layout, else ``(num_pre, num_post)`` matrices.

    Listed (``sparse``) synapses take array values one per synapse; numbers and initializers
    are drawn per (pre, post) pair as for a dense matrix, so a pair's value does not depend on
    the order of the lists. One-to-one values (one per neuron) go on the diagonal when the
    group is stored as a matrix.
    """
    n_pre, n_post = syn.num_pre, syn.num_post

    def values(init, name, value_dtype):
        if layout_traits(syn.layout).per_neuron:
            return initial_values(graph, init, name, n_post, seed, value_dtype)
        out = np.zeros((n_pre, n_post), value_dtype)
        if syn.connectivity == "one_to_one":
            diag = np.arange(n_post)
            out[diag, diag] = initial_values(graph, init, name, n_post, seed, value_dtype)
            return out
        listed = listed_synapses(graph, syn)
        if listed is not None and init.kind == "array":
            out[listed] = initial_values(graph, init, name, len(listed[0]), seed, value_dtype)
            return out
        out[...] = initial_values(graph, init, name, n_pre * n_post, seed,
                                  value_dtype).reshape(n_pre, n_post)
        mask = connectivity_mask(graph, eid, syn, seed)
        if mask is not None:
            out[~mask] = 0
        return out

    w = values(syn.weight, var_ref(eid, "g"), dtype)
    d = None
    if syn.heterogeneous_delay is not None:
        d = values(syn.heterogeneous_delay, var_ref(eid, "d"), np.float64)
        d = np.clip(np.rint(d), 0, syn.max_delay_steps).astype(np.int32)
    return w, d
