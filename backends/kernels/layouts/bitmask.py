"""The bitmask layout (GeNN's BITMASK): one bit per (pre, post) pair, and one weight shared by
every synapse or a weight matrix.

Requires: :mod:`.base`, :mod:`.ragged` (the weight checks of layouts that cannot add
synapses). Provides :class:`Bitmask`, the packing of masks into words, and
:func:`bit_row`, the statements adding a row 32 targets per word (shared with the procedural
layout, which draws its words instead of reading them).
"""

from __future__ import annotations

import numpy as np

from irsnn.errors import InputError
from irsnn.ir.layouts import BitmaskTraits

from .. import description as d
from .base import Layout
from .ragged import check_sparse_weights


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


def bit_row(k, syn, word: list, value: str, sign: str, lanes: bool) -> list:
    """The loop over the words of presynaptic neuron ``i``'s row: ``word`` the statements
    making ``uint32_t word`` (word ``q``), then ``insyn[j] += value`` for its set bits in
    ascending ``j`` (as a dense row); see :class:`~backends.kernels.description.AddSetBits`."""
    n_post, W = syn.num_post, bitmask_words(syn.num_post)
    extent = "32" if n_post % 32 == 0 else f"(q == {W - 1} ? {n_post % 32} : 32)"
    # word q holds targets 32q..32q+31 only: a thread per word never meets another
    return [d.ParallelFor("q", str(W), word + [d.AddSetBits(
        "word", "q * 32", extent, "insyn[j]", f"{value}{sign}", k.literal(0.0), lanes)])]


class Bitmask(BitmaskTraits, Layout):
    """GeNN's BITMASK (see the module docstring); the host structure is the packed bits."""

    description = "bitmask"

    def connectivity(self, syn, mask):
        mask = mask()
        return bitmask(np.ones((syn.num_pre, syn.num_post), bool) if mask is None else mask)

    def weight_count(self, syn, conn):
        return 1 if syn.weight.kind == "constant" else syn.num_pre * syn.num_post

    def declare(self, k, eid, syn, conn):
        super().declare(k, eid, syn, conn)
        k.buffers.add(eid, "bits", "uint32_t", conn.shape)

    def store(self, host, buffers, eid, syn, conn, weights, delays=None):
        host(buffers[eid, "bits"])[:] = conn.reshape(-1)
        host(buffers[eid, "g"])[:] = (syn.weight.value if syn.weight.kind == "constant"
                                      else weights.reshape(-1))

    def propagate(self, k, eid, syn, conn, setup, sign):
        g = k.buffers[eid, "g"]
        if syn.weight.kind == "constant":
            setup.append(f"const {k.scalar} w = {g}[0];")
            value, row = "w", []
        else:
            value = "w[j]"
            row = [f"GLOBAL const {k.scalar} *w = {g} + (size_t)i * {syn.num_post};"]
        row.append(f"GLOBAL const uint32_t *bits = {k.buffers[eid, 'bits']} + "
                   f"(size_t)i * {bitmask_words(syn.num_post)};")
        return row + bit_row(k, syn, ["uint32_t word = bits[q];"], value, sign, True)

    def mask(self, syn, conn):
        return unpack_bitmask(conn, syn.num_post)

    def check_weights(self, syn, values, mask):
        checked = check_sparse_weights(self, syn, values, mask)
        existing = np.ones(values.shape, bool) if mask is None else mask
        if syn.weight.kind == "constant" and existing.any():
            held = values[existing]
            if held.min() != held.max():
                lo, hi = float(held.min()), float(held.max())
                raise InputError(
                    f"Connection '{syn.name}' uses the bitmask layout with one weight for all "
                    f"{int(existing.sum())} synapses, but the values differ (min {lo!r}, max "
                    f"{hi!r}); give one value, or compile with an Initializer weight or "
                    f"layout='sparse' to give each synapse its own weight")
        return checked

    def dense_weights(self, syn, conn, stored, mask):
        stored = stored.reshape(-1)
        return np.where(mask, stored[0] if stored.size == 1 else
                        stored.reshape(syn.num_pre, syn.num_post), stored.dtype.type(0))

    def stored_weights(self, syn, conn, dense, mask):
        if syn.weight.kind != "constant":
            return dense.reshape(-1)
        return dense[mask][:1] if mask.any() else None   # one stored value


__all__ = ["Bitmask", "bit_row", "bitmask", "bitmask_words", "unpack_bitmask"]
