"""The dense layout: a ``(num_pre, num_post)`` matrix, zeros where no synapse exists.

Requires: :mod:`.base`. Provides :class:`Dense`, also the only layout with per-synapse delays
(a matrix of delay steps and a dendritic ring buffer per postsynaptic neuron, as GeNN's).
"""

from __future__ import annotations

from irsnn.ir.layouts import DenseTraits

from .. import description as d
from .base import Layout


class Dense(DenseTraits, Layout):
    """GeNN's DENSE (see the module docstring)."""

    def declare(self, k, eid, syn, conn):
        super().declare(k, eid, syn, conn)
        if syn.heterogeneous_delay is not None:
            k.buffers.add(eid, "d", "int32_t", (syn.num_pre, syn.num_post))
            # the dendritic ring buffer: one slot per delay step and batch element
            k.buffers.add(eid, "den", k.scalar, (syn.max_delay_steps + 1, k.batch_size,
                                                 syn.num_post))

    def store(self, host, buffers, eid, syn, conn, weights, delays=None):
        super().store(host, buffers, eid, syn, conn, weights)
        if delays is not None:
            host(buffers[eid, "d"])[:] = delays.reshape(-1)

    def propagate(self, k, eid, syn, conn, setup, sign):
        if syn.heterogeneous_delay is None:
            return super().propagate(k, eid, syn, conn, setup, sign)
        n_post, B = syn.num_post, k.batch_size
        w, dl, den = k.buffers[eid, "g"], k.buffers[eid, "d"], k.buffers[eid, "den"]
        L = syn.max_delay_steps + 1
        setup.append(f"const int32_t here = (int32_t)(ts % {L});")
        return [f"GLOBAL const {k.scalar} *w = {w} + (size_t)i * {n_post};",
                f"GLOBAL const int32_t *d = {dl} + (size_t)i * {n_post};",
                d.ParallelFor("j", str(n_post), [
                    f"{den}[((size_t)((here + d[j]) % {L}) * {B} + b) * {n_post} + j] "
                    f"+= w[j]{sign};"])]

    def deliver(self, k, eid, syn) -> list:
        """Statements after the spike loop: this step's slot of the dendritic ring buffer
        added to ``insyn`` and cleared (per-synapse delays only)."""
        if syn.heterogeneous_delay is None:
            return []
        n_post, B = syn.num_post, k.batch_size
        cell = f"{k.buffers[eid, 'den']}[((size_t)here * {B} + b) * {n_post} + j]"
        return [d.ParallelFor("j", str(n_post), [f"insyn[j] += {cell};", f"{cell} = 0;"])]


__all__ = ["Dense"]
