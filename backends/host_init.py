"""Initial values of every variable and weight, computed on the host for all backends.

Random initialisers draw from the counter-based generator (:mod:`irsnn.rng`) keyed on
(seed, a stream derived from the object's id, the element index), so every backend starts
from bit-identical state whatever its device.
"""

from __future__ import annotations

import numpy as np

from irsnn.errors import ModelError
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


def connectivity_mask(graph, eid: str, syn, seed: int) -> np.ndarray | None:
    """Boolean ``(num_pre, num_post)`` mask of existing synapses, or None when all exist.

    A ``FixedProbability`` connection draws its synapses from the counter-based RNG, unless its
    weight is an explicit ``(num_pre, num_post)`` array: that array is then the whole matrix
    (zeros mark absent synapses), which is how a saved checkpoint of it loads back.
    """
    if syn.connectivity != "fixed_probability" or syn.weight.kind == "array":
        return None
    u = uniform_from_bits(_words(seed, stream_id(f"{eid}/connectivity"),
                                 syn.num_pre * syn.num_post)[0])
    mask = (u < np.float32(syn.p)).reshape(syn.num_pre, syn.num_post)
    if syn.source == syn.target and not syn.allow_self_connections:
        np.fill_diagonal(mask, False)
    return mask


def ragged(dense: np.ndarray, mask: np.ndarray | None):
    """Dense ``(num_pre, num_post)`` values -> GeNN's ragged layout: ``(row_length (num_pre,),
    indices (num_pre, max_row), values (num_pre, max_row))``, indices ascending per row."""
    if mask is None:
        mask = np.ones(dense.shape, bool)
    row_length = mask.sum(axis=1).astype(np.int32)
    max_row = int(row_length.max()) if row_length.size else 0
    ind = np.zeros((dense.shape[0], max(max_row, 1)), np.int32)
    values = np.zeros((dense.shape[0], max(max_row, 1)), dense.dtype)
    for i in range(dense.shape[0]):
        cols = np.flatnonzero(mask[i])
        ind[i, :len(cols)] = cols
        values[i, :len(cols)] = dense[i, cols]
    return row_length, ind, values


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
    """Check dense ``values`` that :meth:`set_weights` gives a bitmask or procedural group,
    where not every matrix can be stored; returns them with absent synapses zeroed.

    A procedural group stores nothing; a bitmask group cannot add synapses, and one with a
    constant weight stores a single value for all of them. Raises :class:`InputError` naming
    the connection, what is wrong and what to use instead.
    """
    from irsnn.errors import InputError
    where = f"Connection '{syn.name}'"
    if syn.layout == "procedural":
        raise InputError(f"{where} uses the procedural layout: its weights are regenerated "
                         f"from the RNG at every spike and cannot be set; compile it with "
                         f"FixedProbability(..., layout='sparse') (or 'dense') to set weights")
    if syn.layout != "bitmask":
        return values
    existing = np.ones(values.shape, bool) if mask is None else mask
    stray = (values != 0) & ~existing
    if stray.any():
        i, j = (int(x[0]) for x in np.nonzero(stray))
        shown = float(values[i, j])
        raise InputError(f"{where} uses the bitmask layout, which cannot add synapses, but "
                         f"{int(stray.sum())} weights where no synapse exists are non-zero "
                         f"(e.g. {i} -> {j}: {shown!r}); give 0 there, or compile with "
                         f"layout='dense' to change the connectivity")
    if syn.weight.kind == "constant" and existing.any():
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
    """``(weights, delays or None)``: flat ``(num_post,)`` for one-to-one groups, else the
    dense ``(num_pre, num_post)`` matrix with absent synapses zeroed (whatever the layout
    stores: the kernel backends convert it)."""
    size = syn.num_post if syn.layout == "one_to_one" else syn.num_pre * syn.num_post
    w = initial_values(graph, syn.weight, f"{eid}/g", size, seed, dtype)
    d = None
    if syn.heterogeneous_delay is not None:
        d = initial_values(graph, syn.heterogeneous_delay, f"{eid}/d", size, seed, np.float64)
        d = np.clip(np.rint(d), 0, syn.max_delay_steps).astype(np.int32)
    if syn.layout != "one_to_one":
        w = w.reshape(syn.num_pre, syn.num_post)
        d = None if d is None else d.reshape(syn.num_pre, syn.num_post)
        mask = connectivity_mask(graph, eid, syn, seed)
        if mask is not None:
            w = np.where(mask, w, dtype(0))
            d = None if d is None else np.where(mask, d, 0)
    return w, d
