"""mlGeNN's checkpoint layout: which arrays a checkpoint holds and in what shape.

Requires: NumPy, :mod:`irsnn.errors` and the connectivity classes.
Provides :func:`weight_kind`, :func:`saved_weights` (user weights -> the array mlGeNN saves),
:func:`saved_indices` (``pre_ind``/``post_ind`` as ``save_connectivity`` writes them) and
:func:`load_connection` (a connection's saved arrays -> its connectivity), shared by
``compiled_network.save`` and ``network.load``.

mlGeNN saves, under ``keys`` (``(epoch,)`` for the ``Checkpoint`` callback):

- ``<keys>-<connection>-g``: the weights (GeNN's variable ``g``), float32 (the model's
  ``scalar``), always 1-D: ``Dense`` ``(source * target,)`` row-major (``[i * target + j]`` is
  the synapse from ``i`` to ``j``); ``OneToOne`` ``(n,)``; sparse connectivity
  (``FixedProbability``, ``Sparse``) ``(synapses,)``, ordered as the index lists below (rows
  in order, targets ascending within a row);
- ``<keys>-<connection>-pre_ind`` / ``post_ind`` (``save_connectivity``, sparse and one-to-one
  connectivity only): the source and target neuron of every synapse;
- ``<keys>-<connection>-d``: learnt delays (mlGeNN's EventProp; irsnn reads them);
- ``<keys>-<population>-<variable>``: trained population variables, e.g. ``Bias`` of an
  e-prop output, ``(n,)``.

irsnn writes the same files (plus ``pre_ind``/``post_ind`` of every sparse connection with its
weights, so a checkpoint says which synapses its weights belong to) and its training state in
one more file that mlGeNN never reads (see :mod:`irsnn.compilers.training_state`).
"""

from __future__ import annotations

import numpy as np

from ..connectivity import OneToOne, SparseBase
from ..errors import CheckpointNotFoundError, ShapeError

#: mlGeNN's (GeNN's) array names of a connection's weights and delays, and irsnn's earlier ones
WEIGHT, DELAY, LEGACY_WEIGHT, LEGACY_DELAY = "g", "d", "weight", "delay"


def weight_kind(connectivity) -> str:
    """``"sparse"`` (synapses listed by index), ``"one_to_one"`` or ``"dense"`` (a full
    matrix; also any other connectivity), as mlGeNN's matrix types store them."""
    if isinstance(connectivity, SparseBase):
        return "sparse"
    if isinstance(connectivity, OneToOne):
        return "one_to_one"
    return "dense"


def saved_weights(kind: str, weights: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """The 1-D array mlGeNN saves as ``g`` from ``weights`` as ``get_weights`` returns them
    (``(source, target)``, or ``(n,)`` for a one-to-one layout) and the synapse ``mask``."""
    weights = np.asarray(weights)
    if kind == "one_to_one":
        return np.ascontiguousarray(np.diagonal(weights) if weights.ndim == 2 else weights)
    if kind == "sparse":
        return np.ascontiguousarray(weights[mask] if mask is not None else weights.reshape(-1))
    return np.ascontiguousarray(weights.reshape(-1))


def saved_indices(kind: str, shape, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """``(pre_ind, post_ind)`` of every synapse, in the order of :func:`saved_weights`."""
    if kind == "one_to_one":
        n = shape[-1]
        return np.arange(n, dtype=np.int64), np.arange(n, dtype=np.int64)
    if mask is None:
        mask = np.ones(shape, bool)
    pre, post = np.nonzero(mask)
    return pre.astype(np.int64), post.astype(np.int64)


def delivered_steps(delays: np.ndarray) -> np.ndarray:
    """Saved delays as the whole steps a network delivers after: learnt delays (EventProp's
    ``delay_learn_conns``) are real numbers of steps, which training delivered after the
    nearest step (halves up), so a network loading them runs as the trained one did; whole
    steps stay as they are (and negative or non-finite values stay too, for the connection
    to refuse with the reason)."""
    if delays.dtype.kind != "f":
        return delays
    with np.errstate(invalid="ignore"):
        rounded = np.floor(delays + 0.5)
    return np.where(np.isfinite(delays) & (delays >= 0), rounded, delays)


def load_connection(conn, state: dict, where) -> list[str]:
    """Set ``conn``'s connectivity from its saved arrays ``state`` (``{name: array}``).

    Parameters
    ----------
    conn : Connection
        The connection (its source and target have their shapes).
    state : dict
        Its arrays in the checkpoint (``g``, ``pre_ind``, ...).
    where : callable
        ``where(name)`` -> where the array ``name`` is looked for (for messages).

    Returns
    -------
    list of str
        The names used, sorted.

    Raises
    ------
    CheckpointNotFoundError
        No weights for the connection, or sparse weights without the synapses they belong to.
    ShapeError
        An array of the wrong size for the connection.
    """
    c = conn.connectivity
    kind = weight_kind(c)
    wname = WEIGHT if WEIGHT in state else LEGACY_WEIGHT if LEGACY_WEIGHT in state else None
    if wname is None:
        raise CheckpointNotFoundError(
            f"{conn.describe()}: the checkpoint has no weights for it (looked for "
            f"{where(WEIGHT)}); every connection of the network needs its saved weights, so "
            f"the connection would silently keep its initial ones. Load a checkpoint saved "
            f"from this network (same connection names), or restore the missing file")
    dname = DELAY if DELAY in state else LEGACY_DELAY if LEGACY_DELAY in state else None
    used = [wname] + ([dname] if dname else [])
    n_pre, n_post = conn.source().num_neurons, conn.target().num_neurons
    arrays = {"weight": np.asarray(state[wname])}
    files = {"weight": where(wname)}
    if dname:
        arrays["delay"] = delivered_steps(np.asarray(state[dname]))
        files["delay"] = where(dname)
    if kind == "sparse":
        has_pre, has_post = "pre_ind" in state, "post_ind" in state
        if has_pre != has_post:
            given, missing = ("pre_ind", "post_ind") if has_pre else ("post_ind", "pre_ind")
            raise CheckpointNotFoundError(
                f"{conn.describe()}: the checkpoint has {given} but not {missing} (looked for "
                f"{where(missing)}); save_connectivity writes both: restore the file or save "
                f"the connectivity again")
        if has_pre:
            c.pre_ind, c.post_ind = state["pre_ind"], state["post_ind"]
            used += ["pre_ind", "post_ind"]
            for name, value in arrays.items():
                _check_size(conn, name, value, len(c.pre_ind), files[name])
        elif c.has_indices:
            # mlGeNN (GeNN) saves sparse values sorted by (pre, post); put them in the order
            # of this connectivity's own index lists
            order = np.lexsort((c.post_ind, c.pre_ind))
            for name, value in arrays.items():
                if value.ndim == 1:
                    _check_size(conn, name, value, len(order), files[name])
                    arrays[name] = np.empty_like(value)
                    arrays[name][order] = value
        elif arrays["weight"].shape != (n_pre, n_post):
            raise CheckpointNotFoundError(
                f"{conn.describe()}: the checkpoint holds {arrays['weight'].size} weights "
                f"({where(wname)}) but not which synapses they belong to (no {where('pre_ind')} "
                f"/ post_ind), and this {type(c).__name__} draws its synapses at random. Save "
                f"them with compiled_network.save_connectivity(keys, serialiser) (mlGeNN's "
                f"save() does not), or set connectivity.pre_ind/post_ind before loading")
    else:
        size = n_post if kind == "one_to_one" else n_pre * n_post
        for name, value in arrays.items():
            _check_size(conn, name, value, size, files[name])
    for name, value in arrays.items():
        setattr(c, name, value)
    c.connect(conn.source(), conn.target(), conn)
    conn._validate_delay()
    return sorted(used)


def _check_size(conn, name, value, size, file):
    """A ShapeError naming ``file`` unless ``value`` holds ``size`` values (1-D) or is the full
    ``(source, target)`` matrix (irsnn's earlier layout)."""
    full = (conn.source().num_neurons, conn.target().num_neurons)
    if value.shape == full and not isinstance(conn.connectivity, OneToOne):
        return
    if value.size != size or value.ndim != 1:
        raise ShapeError(
            f"{conn.describe()}: the saved {name} ({file}) has shape {value.shape} but the "
            f"connection has {size} synapses ({conn.source().num_neurons} x "
            f"{conn.target().num_neurons} neurons, {type(conn.connectivity).__name__}); the "
            f"checkpoint belongs to another network: load one saved from this network")
