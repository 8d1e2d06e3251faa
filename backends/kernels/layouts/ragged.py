"""The ragged layout (GeNN's SPARSE): per presynaptic neuron, its targets and values.

Requires: :mod:`.base`. Provides :class:`Ragged` and its host structure :class:`Rows`
(``row_length`` and the ``(num_pre, capacity)`` target indices, ascending per row), which
Deep-R rewires in place; the conversions between row order, column order (synapses by
postsynaptic neuron, for learning and for propagation by pulling on blocks of threads,
:mod:`backends.kernels.simt`) and dense matrices.
"""

from __future__ import annotations

import numpy as np

from irsnn.errors import InputError, ModelError
from irsnn.ir.layouts import RaggedTraits

from ...host_init import allowed_synapses

from .. import description as d
from .base import Layout

#: buffers of a group learning by columns, in the order of :meth:`Rows.columns`
COLUMN_BUFFERS = ("colstart", "colpre", "colslot", "colpos")


def declare_columns(k, eid: str, conn) -> None:
    """Declare the column order (:data:`COLUMN_BUFFERS`, from :meth:`Rows.columns`) of ragged
    group ``eid`` in the buffer table of ``k`` (the kernel builder), with its initial
    contents, unless declared already. The columns follow rewiring:
    :meth:`Ragged.store_rows` rewrites them with the rows."""
    if (eid, COLUMN_BUFFERS[0]) in k.buffers:
        return
    for name, values in zip(COLUMN_BUFFERS, conn.columns()):
        k.host_arrays[k.buffers.add(eid, name, "int32_t", values.shape)] = values


def row_capacity(syn, mask: np.ndarray | None) -> int:
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


class Rows:
    """The synapses of a ragged group: ``row_length`` (``(num_pre,)`` int32) and ``ind``
    (``(num_pre, capacity)`` int32 targets, ascending within each row's first
    ``row_length[i]`` slots; the rest unused)."""

    def __init__(self, row_length: np.ndarray, ind: np.ndarray, num_post: int):
        self.row_length, self.ind, self.num_post = row_length, ind, int(num_post)

    @classmethod
    def of(cls, mask: np.ndarray, capacity: int, num_post: int) -> Rows:
        """The rows of the synapses in boolean ``mask``, ``capacity`` slots per row."""
        row_length, ind, _ = ragged(np.zeros(mask.shape, np.float32), mask, capacity=capacity)
        return cls(row_length, ind, num_post)

    @property
    def capacity(self) -> int:
        """Slots per row."""
        return int(self.ind.shape[1])

    def positions(self):
        """``(valid (num_pre, capacity) bool, pre, post)`` of the existing synapses in row
        order."""
        valid = np.arange(self.capacity)[None, :] < self.row_length[:, None]
        return valid, np.nonzero(valid)[0], self.ind[valid]

    def mask(self) -> np.ndarray:
        """Boolean ``(num_pre, num_post)`` of the existing synapses."""
        _, pre, post = self.positions()
        out = np.zeros((len(self.row_length), self.num_post), bool)
        out[pre, post] = True
        return out

    def to_dense(self, values: np.ndarray) -> np.ndarray:
        """``(..., num_pre, capacity)`` values -> ``(..., num_pre, num_post)`` (absent: 0)."""
        valid, pre, post = self.positions()
        out = np.zeros(values.shape[:-2] + (len(self.row_length), self.num_post), values.dtype)
        out[..., pre, post] = values[..., valid]
        return out

    def from_dense(self, dense: np.ndarray) -> np.ndarray:
        """``(..., num_pre, num_post)`` -> ``(..., num_pre, capacity)`` (unused slots: 0)."""
        valid, pre, post = self.positions()
        out = np.zeros(dense.shape[:-2] + valid.shape, dense.dtype)
        out[..., valid] = dense[..., pre, post]
        return out

    def columns(self):
        """The synapses by postsynaptic neuron: ``(start (num_post + 1,), pre (capacity,), slot
        (capacity,), position (capacity,))`` int32, the synapses of neuron ``j`` at positions
        ``start[j] .. start[j + 1]`` (presynaptic indices ascending), ``pre`` their presynaptic
        neuron and ``slot`` their position ``i * capacity + r`` in row order; ``position`` the
        inverse (by row slot: the synapse's position by column). Entries past ``start[-1]``
        (positions) or outside the rows (slots) are unused (0); capacity: ``num_pre *
        capacity``."""
        num_pre, max_row = self.ind.shape
        valid = np.arange(max_row)[None, :] < self.row_length[:, None]
        pre, r = np.nonzero(valid)
        post = self.ind[pre, r]
        order = np.lexsort((pre, post))
        counts = np.bincount(post, minlength=self.num_post)
        start = np.zeros(self.num_post + 1, np.int32)
        np.cumsum(counts, out=start[1:])
        total = num_pre * max_row
        pre_out = np.zeros(total, np.int32)
        slot_out = np.zeros(total, np.int32)
        pre_out[:post.size] = pre[order]
        slot_out[:post.size] = (pre * max_row + r)[order]
        position = np.zeros(total, np.int32)
        position[slot_out[:post.size]] = np.arange(post.size, dtype=np.int32)
        return start, pre_out, slot_out, position

    def rewire(self, remove, add, arrays) -> None:
        """Remove synapses ``remove = (pre, post)`` and add ``add = (pre, post)`` (checked by
        the caller), in place: only the rows that change are rebuilt; kept synapses move with
        their values in every array of ``arrays`` (each ``(..., num_pre, capacity)``, written
        in place; new and removed synapses' values 0); rows stay sorted by target."""
        row_length, ind, n_post, M = self.row_length, self.ind, self.num_post, self.capacity
        rows = np.union1d(remove[0], add[0])
        cols = ind[rows]
        valid = np.arange(M)[None, :] < row_length[rows][:, None]
        gone = np.isin(rows[:, None] * n_post + cols, remove[0] * n_post + remove[1])
        kr, ks = np.nonzero(valid & ~gone)          # kept: row (into rows), old slot
        new_r = np.concatenate([kr, np.searchsorted(rows, add[0])])
        new_c = np.concatenate([cols[kr, ks], add[1]])
        src = np.concatenate([ks, np.full(len(add[0]), -1)])
        order = np.lexsort((new_c, new_r))          # by row, then ascending target
        new_r, new_c, src = new_r[order], new_c[order], src[order]
        slot = np.arange(len(new_r)) - np.searchsorted(new_r, new_r, side="left")
        ind[rows] = 0
        ind[rows[new_r], slot] = new_c
        row_length[rows] = np.bincount(new_r, minlength=len(rows))
        kept = src >= 0
        for arr in arrays:
            old = arr[..., rows, :]
            arr[..., rows, :] = 0
            arr[..., rows[new_r[kept]], slot[kept]] = old[..., new_r[kept], src[kept]]

    def reset(self, mask: np.ndarray) -> None:
        """Make exactly the synapses in ``mask`` exist, in place (same capacity)."""
        new = Rows.of(mask, self.capacity, self.num_post)
        self.row_length[:] = new.row_length
        self.ind[:] = new.ind


def check_sparse_weights(layout, syn, values: np.ndarray, mask) -> np.ndarray:
    """``values`` with absent synapses zeroed, or an :class:`InputError` when a non-zero
    weight falls where a layout that stores existing synapses only has none."""
    existing = np.ones(values.shape, bool) if mask is None else mask
    stray = (values != 0) & ~existing
    if stray.any():
        i, j = (int(x[0]) for x in np.nonzero(stray))
        shown = float(values[i, j])
        raise InputError(f"Connection '{syn.name}' uses the {layout.description} layout, which "
                         f"cannot add synapses, but {int(stray.sum())} weights where no synapse "
                         f"exists are non-zero (e.g. {i} -> {j}: {shown!r}); give 0 there, or "
                         f"compile with layout='dense' to change the connectivity")
    return np.where(existing, values, values.dtype.type(0))


class Ragged(RaggedTraits, Layout):
    """GeNN's SPARSE (see the module docstring); the host structure is :class:`Rows`."""

    gathers = True
    matrix_storage = False
    description = "sparse (ragged)"

    def connectivity(self, syn, mask):
        mask = mask()
        if mask is None:
            mask = np.ones((syn.num_pre, syn.num_post), bool)
        return Rows.of(mask, row_capacity(syn, mask), syn.num_post)

    def synapse_count(self, syn, conn):
        return syn.num_pre * conn.capacity

    def declare(self, k, eid, syn, conn):
        super().declare(k, eid, syn, conn)
        k.buffers.add(eid, "rowlen", "int32_t", (syn.num_pre,))
        k.buffers.add(eid, "ind", "int32_t", (syn.num_pre, conn.capacity))

    def store(self, host, buffers, eid, syn, conn, weights, delays=None):
        self.store_rows(host, buffers, eid, conn)
        super().store(host, buffers, eid, syn, conn, weights)

    def store_rows(self, host, buffers, eid, conn) -> None:
        """Write the rows (and the columns, where learning walks those) to their buffers."""
        host(buffers[eid, "rowlen"])[:] = conn.row_length
        host(buffers[eid, "ind"])[:] = conn.ind.reshape(-1)
        if (eid, COLUMN_BUFFERS[0]) in buffers:
            for name, values in zip(COLUMN_BUFFERS, conn.columns()):
                host(buffers[eid, name])[:] = values

    def propagate(self, k, eid, syn, conn, setup, sign):
        M, w, ind = conn.capacity, k.buffers[eid, "g"], k.buffers[eid, "ind"]
        return [f"GLOBAL const {k.scalar} *w = {w} + (size_t)i * {M};",
                f"GLOBAL const int32_t *ind = {ind} + (size_t)i * {M};",
                d.If("s + 1 < cnt", [d.Prefetch(f"{w} + (size_t)spk[s + 1] * {M}", M),
                                     d.Prefetch(f"{ind} + (size_t)spk[s + 1] * {M}", M)]),
                d.ParallelFor("r", f"{k.buffers[eid, 'rowlen']}[i]",
                              [f"insyn[ind[r]] += w[r]{sign};"]),
                # threads of the block meet at a target only across rows: one row at a time
                d.Barrier()]

    def pull(self, k, eid, syn, conn, marks, signed):
        # Column j's synapses in ascending presynaptic order, each weight read through its
        # slot in the row-major weights (which training and rewiring keep in row order); the
        # sum in a register, stored once: the same additions, in the same order, as rows
        declare_columns(k, eid, conn)
        start, pre, slot = (k.buffers[eid, name] for name in COLUMN_BUFFERS[:3])
        sign = " * (float)_m" if signed else ""
        return [d.ParallelFor("j", str(syn.num_post), [
            f"const int32_t _end = {start}[j + 1];",
            f"{k.scalar} _acc = insyn[j];",
            d.For("c", "_end", [f"const int8_t _m = {marks}[{pre}[c]];",
                                d.If("_m != 0", [f"_acc += {k.buffers[eid, 'g']}"
                                                 f"[{slot}[c]]{sign};"])],
                  start=f"{start}[j]"),
            "insyn[j] = _acc;"])]

    def mean_row(self, syn, conn):
        return float(conn.row_length.mean()) if len(conn.row_length) else 0.0

    def row_extent(self, buffers, eid, syn, conn):
        return f"{buffers[eid, 'rowlen']}[i]", conn.capacity

    def target(self, buffers, eid, syn, conn):
        return f"{buffers[eid, 'ind']}[(size_t)i * {conn.capacity} + r]"

    def learns_by_columns(self, syn):
        # online learning: see backends.kernels.learning.by_columns for why and what it costs
        return syn.learning is not None and not syn.learning.backward

    def to_dense(self, syn, conn, stored):
        return conn.to_dense(stored.reshape(stored.shape[:-1] + conn.ind.shape))

    def from_dense(self, syn, conn, dense):
        dense = np.asarray(dense)
        out = conn.from_dense(dense)
        return out.reshape(out.shape[:-2] + (-1,))

    def mask(self, syn, conn):
        return conn.mask()

    def check_weights(self, syn, values, mask):
        return check_sparse_weights(self, syn, values, mask)


__all__ = ["COLUMN_BUFFERS", "Ragged", "Rows", "declare_columns", "ragged", "row_capacity"]
