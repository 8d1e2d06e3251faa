"""The dense layout: a ``(num_pre, num_post)`` matrix, zeros where no synapse exists.

Requires: :mod:`.base`. Provides :class:`Dense`, also the only layout with per-synapse delays
(a matrix of delay steps and a dendritic ring buffer per postsynaptic neuron, as GeNN's). Fixed
delays are whole steps (``int32``); learnable ones (EventProp's ``delay_learn_conns``) are the
learning rule's real-valued variable ``d``, which the optimiser moves and every reader rounds
(:meth:`Dense.delay`).
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
            if not learnt_delays(syn):   # (learnt ones: the learning rule's variable)
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
                f"GLOBAL const {dl.ctype} *d = {dl} + (size_t)i * {n_post};",
                d.ParallelFor("j", str(n_post), [
                    f"{den}[((size_t)((here + {self.delay(k, syn, 'd[j]')}) % {L}) * {B} + b) "
                    f"* {n_post} + j] += w[j]{sign};"])]

    @staticmethod
    def delay(k, syn, element: str) -> str:
        """The delay in whole steps of the per-synapse delay ``element`` (an expression reading
        the connection's ``d``): itself when delays are fixed steps; a learnt real-valued delay
        rounded to the nearest step (halves up, as the reference and mlGeNN) and kept in ``[0,
        max_delay_steps]``, whatever was written to it (``fmax`` also maps NaN to 0), so that a
        ring index never leaves the ring."""
        if not learnt_delays(syn):
            return element
        zero, top, half = (k.literal(v) for v in (0.0, syn.max_delay_steps, 0.5))
        return (f"((int32_t){k.fn('floor')}({k.fn('fmin')}({k.fn('fmax')}({element}, {zero}), "
                f"{top}) + {half}))")

    def deliver(self, k, eid, syn) -> list:
        """Statements after the spike loop: this step's slot of the dendritic ring buffer
        added to ``insyn`` and cleared (per-synapse delays only)."""
        if syn.heterogeneous_delay is None:
            return []
        n_post, B = syn.num_post, k.batch_size
        cell = f"{k.buffers[eid, 'den']}[((size_t)here * {B} + b) * {n_post} + j]"
        return [d.ParallelFor("j", str(n_post), [f"insyn[j] += {cell};", f"{cell} = 0;"])]


def learnt_delays(syn) -> bool:
    """Whether ``syn``'s per-synapse delays are trained (its learning rule's ``d``)."""
    return syn.learning is not None and bool(syn.learning.delay_var)


__all__ = ["Dense", "learnt_delays"]
