"""The one-to-one layout: synapse ``i -> i`` of every neuron, one stored value each.

Requires: :mod:`.base`. Provides :class:`OneToOne` (weights are ``(num_post,)`` vectors on the
host too).
"""

from __future__ import annotations

from irsnn.ir.layouts import OneToOneTraits

from .base import Layout


class OneToOne(OneToOneTraits, Layout):
    """One synapse per neuron (see the module docstring)."""

    def synapse_count(self, syn, conn):
        return syn.num_post

    #: a row is one synapse, and the spikes of a step are distinct neurons, so distinct
    #: targets: the spike list itself is split across a block's threads (no two threads meet)
    distinct_targets = True

    def propagate(self, k, eid, syn, conn, setup, sign):
        return [f"insyn[i] += {k.buffers[eid, 'g']}[i]{sign};"]


__all__ = ["OneToOne"]
