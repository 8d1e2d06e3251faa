"""Initial values of every variable and weight, computed on the host for all backends.

Random initialisers draw from the counter-based generator (:mod:`irsnn.rng`) keyed on
(seed, a stream derived from the object's id, the element index), so every backend starts
from bit-identical state whatever its device.
"""

from __future__ import annotations

import numpy as np

from irsnn.errors import ModelError
from irsnn.ir.ids import var_ref
from irsnn.rng import CounterRNG, normal_from_bits, stream_id, uniform_from_bits

_NP_TYPES = {"scalar": np.float32, "float": np.float32, "double": np.float64,
             "int": np.int32, "unsigned int": np.uint32, "unsigned": np.uint32,
             "uint32_t": np.uint32, "bool": np.bool_}


def numpy_type(type_name: str, precision: str = "float"):
    """NumPy dtype of a code-string type (``scalar`` follows ``precision``)."""
    if type_name == "scalar":
        type_name = precision
    try:
        return _NP_TYPES[type_name]
    except KeyError:
        raise ModelError(f"unknown variable type {type_name!r}; use one of "
                         f"{sorted(_NP_TYPES)}") from None


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
        from .c.native_rng import philox_words
        words = philox_words(seed, stream, 0, size)
        if words is not None:
            return words
    x0, x1, _, _ = CounterRNG(seed).bits(stream, 0, np.arange(size, dtype=np.uint32))
    return x0, x1


def spike_schedule(end_spikes, spike_times, first_step: int, dt: float, dtype):
    """:func:`irsnn.utils.data.spike_schedule` of a batch: natively when a C compiler is
    available (the same arrays, a fraction of the time), else with NumPy."""
    from irsnn.utils.data import spike_schedule as numpy_spike_schedule

    from .c.native_schedule import native_spike_schedule
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
        return None if syn.layout == "one_to_one" else np.eye(syn.num_pre, dtype=bool)
    if syn.connectivity != "fixed_probability" or syn.weight.kind == "array":
        return None
    u = uniform_from_bits(_words(seed, stream_id(var_ref(eid, "connectivity")),
                                 syn.num_pre * syn.num_post)[0])
    mask = (u < np.float32(syn.p)).reshape(syn.num_pre, syn.num_post)
    if syn.source == syn.target and not syn.allow_self_connections:
        np.fill_diagonal(mask, False)
    return mask


def ragged(dense: np.ndarray, mask: np.ndarray | None, capacity: int | None = None):
    """Dense ``(num_pre, num_post)`` values -> GeNN's ragged layout: ``(row_length (num_pre,),
    indices (num_pre, max_row), values (num_pre, max_row))``, indices ascending per row.
    ``max_row`` is the longest row, or ``capacity`` when given (room for more synapses)."""
    if mask is None:
        mask = np.ones(dense.shape, bool)
    row_length = mask.sum(axis=1).astype(np.int32)
    max_row = int(row_length.max()) if row_length.size else 0
    if capacity is not None:
        if capacity < max_row:
            raise ModelError(f"ragged capacity {capacity} is below the longest row ({max_row})")
        max_row = int(capacity)
    ind = np.zeros((dense.shape[0], max(max_row, 1)), np.int32)
    values = np.zeros((dense.shape[0], max(max_row, 1)), dense.dtype)
    for i in range(dense.shape[0]):
        cols = np.flatnonzero(mask[i])
        ind[i, :len(cols)] = cols
        values[i, :len(cols)] = dense[i, cols]
    return row_length, ind, values


def ragged_columns(row_length: np.ndarray, ind: np.ndarray, num_post: int):
    """The synapses of a ragged group by postsynaptic neuron: ``(start (num_post + 1,),
    pre (capacity,), slot (capacity,), position (capacity,))`` int32, the synapses of neuron
    ``j`` at positions ``start[j] .. start[j + 1]`` (presynaptic indices ascending), ``pre``
    their presynaptic neuron and ``slot`` their position ``i * max_row + r`` in the row
    layout; ``position`` the inverse (by row slot: the synapse's position by column). Entries
    past ``start[-1]`` (positions) or outside the rows (slots) are unused (0); capacity:
    ``num_pre * max_row``."""
    num_pre, max_row = ind.shape
    valid = np.arange(max_row)[None, :] < row_length[:, None]
    pre, r = np.nonzero(valid)
    post = ind[pre, r]
    order = np.lexsort((pre, post))
    counts = np.bincount(post, minlength=num_post)
    start = np.zeros(num_post + 1, np.int32)
    np.cumsum(counts, out=start[1:])
    capacity = num_pre * max_row
    pre_out = np.zeros(capacity, np.int32)
    slot_out = np.zeros(capacity, np.int32)
    pre_out[:post.size] = pre[order]
    slot_out[:post.size] = (pre * max_row + r)[order]
    position = np.zeros(capacity, np.int32)
    position[slot_out[:post.size]] = np.arange(post.size, dtype=np.int32)
    return start, pre_out, slot_out, position


def allowed_synapses(syn) -> np.ndarray:
    """Boolean ``(num_pre, num_post)``: where a synapse of ``syn`` may exist (everywhere but
    the diagonal of a recurrent connection without self-connections)."""
    allowed = np.ones((syn.num_pre, syn.num_post), bool)
    if syn.source == syn.target and not syn.allow_self_connections:
        np.fill_diagonal(allowed, False)
    return allowed


def ragged_capacity(syn, mask: np.ndarray | None) -> int:
    """Row capacity of a ragged group: its longest row; for a rewired group (Deep-R),
    ``syn.rewiring.row_capacity`` times that, at most the number of allowed targets per row
    (rows keep room for new synapses). At least 1."""
    if mask is None:
        mask = np.ones((syn.num_pre, syn.num_post), bool)
    longest = int(mask.sum(axis=1).max()) if syn.num_pre else 0
    if syn.rewiring is None:
        return max(longest, 1)
    per_row = int(allowed_synapses(syn).sum(axis=1).max()) if syn.num_pre else 0
    room = int(np.ceil(syn.rewiring.row_capacity * longest))
    return max(longest, min(per_row, room), 1)


def synapse_mask(graph, eid: str, syn, seed: int) -> np.ndarray | None:
    """The existing synapses of a dense, ragged, bitmask or procedural group (None: all), as
    the backends see them: the drawn FixedProbability mask, or an explicit weight array's
    non-zeros for ragged and bitmask."""
    mask = connectivity_mask(graph, eid, syn, seed)
    if mask is None and syn.layout in ("ragged", "bitmask"):
        w, _ = synapse_arrays(graph, eid, syn, seed)
        mask = w != 0
    return mask


def bitmask_words(num_post: int) -> int:
    """32-bit words per presynaptic row of a bitmask group."""
    return max(1, -(-num_post // 32))


def bitmask(mask: np.ndarray) -> np.ndarray:
    """Boolean ``(num_pre, num_post)`` mask -> GeNN's bitmask: ``(num_pre, words)`` uint32,
    synapse ``(i, j)`` is bit ``j % 32`` of word ``j // 32`` of row ``i``."""
    num_pre, num_post = mask.shape
    words = bitmask_words(num_post)
    padded = np.zeros((num_pre, words * 32), bool)
    padded[:, :num_post] = mask
    return np.packbits(padded, axis=1, bitorder="little").view("<u4").astype(np.uint32)


def unpack_bitmask(bits: np.ndarray, num_post: int) -> np.ndarray:
    """Inverse of :func:`bitmask`: ``(num_pre, words)`` uint32 -> boolean mask."""
    as_bytes = np.ascontiguousarray(bits, "<u4").view(np.uint8)
    return np.unpackbits(as_bytes, axis=1, bitorder="little")[:, :num_post].astype(bool)


def check_layout_weights(name: str, syn, values: np.ndarray, mask) -> np.ndarray:
    """Check dense ``values`` that :meth:`set_weights` gives a ragged, bitmask or procedural
    group, where not every matrix can be stored; returns them with absent synapses zeroed.

    A procedural group stores nothing; ragged and bitmask groups cannot add synapses, and a
    bitmask with a constant weight stores a single value for all of them. Raises
    :class:`InputError` naming the connection, what is wrong and what to use instead.
    """
    from irsnn.errors import InputError
    where = f"Connection '{syn.name}'"
    if syn.layout == "procedural":
        raise InputError(f"{where} uses the procedural layout: its weights are regenerated "
                         f"from the RNG at every spike and cannot be set; compile it with "
                         f"FixedProbability(..., layout='sparse') (or 'dense') to set weights")
    if syn.layout not in ("bitmask", "ragged"):
        return values
    existing = np.ones(values.shape, bool) if mask is None else mask
    stray = (values != 0) & ~existing
    if stray.any():
        i, j = (int(x[0]) for x in np.nonzero(stray))
        shown = float(values[i, j])
        name = "sparse (ragged)" if syn.layout == "ragged" else "bitmask"
        raise InputError(f"{where} uses the {name} layout, which cannot add synapses, but "
                         f"{int(stray.sum())} weights where no synapse exists are non-zero "
                         f"(e.g. {i} -> {j}: {shown!r}); give 0 there, or compile with "
                         f"layout='dense' to change the connectivity")
    if syn.layout == "bitmask" and syn.weight.kind == "constant" and existing.any():
        held = values[existing]
        if held.min() != held.max():
            lo, hi = float(held.min()), float(held.max())
            raise InputError(f"{where} uses the bitmask layout with one weight for all "
                             f"{int(existing.sum())} synapses, but the values differ (min "
                             f"{lo!r}, max {hi!r}); give one value, or compile with an "
                             f"Initializer weight or layout='sparse' to give each synapse its "
                             f"own weight")
    return np.where(existing, values, values.dtype.type(0))


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
        if syn.layout == "one_to_one":
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
