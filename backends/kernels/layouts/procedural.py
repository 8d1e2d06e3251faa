"""The procedural layout (GeNN's PROCEDURAL): nothing stored; every spike regenerates its row.

Requires: :mod:`.bitmask` (the row of set bits), :mod:`irsnn.rng` (stream ids). Provides
:class:`Procedural`: each row's synapses are drawn 32 targets per word from the counter-based
RNG exactly as :func:`~backends.host_init.connectivity_mask` draws them on the host, and its
weights as :func:`~backends.host_init.initial_values` does, so every layout and backend holds
the same synapses and weights.
"""

from __future__ import annotations

import numpy as np

from irsnn.errors import InputError
from irsnn.ir.layouts import ProceduralTraits
from irsnn.rng import stream_id

from .. import description as d
from .base import Layout
from .bitmask import bit_row, bitmask_words


class Procedural(ProceduralTraits, Layout):
    """GeNN's PROCEDURAL (see the module docstring)."""

    def synapse_count(self, syn, conn):
        return 0

    def store(self, host, buffers, eid, syn, conn, weights, delays=None):
        pass   # nothing is stored

    def propagate(self, k, eid, syn, conn, setup, sign):
        n_post, W = syn.num_post, bitmask_words(syn.num_post)
        value = self._weight(k, eid, syn, "base + (uint32_t)j")
        row = [f"const uint32_t base = (uint32_t)i * {n_post}u;"]
        # Draws of one word are independent (a loop the compiler can vectorise)
        word = ["uint32_t word = 0u;",
                d.For("k", "32", [
                    f"word |= (uint32_t)(irsnn_uniform(irsnn_seed, "
                    f"{stream_id(f'{eid}/connectivity')}u, 0u, "
                    f"base + (uint32_t)(q * 32 + k), 0u) < "
                    f"{k.literal(np.float32(syn.p), 'float')}) << k;"])]
        if n_post % 32:
            word.append(d.If(f"q == {W - 1}", [f"word &= {(1 << (n_post % 32)) - 1}u;"]))
        if syn.source == syn.target and not syn.allow_self_connections:
            word.append(d.If("q == (i >> 5)", ["word &= ~(1u << (i & 31));"]))
        return row + bit_row(k, syn, word, value, sign, syn.weight.kind == "constant")

    @staticmethod
    def _weight(k, eid, syn, flat) -> str:
        """The weight of synapse ``(i, j)`` (flat index ``flat``): its constant, or its draw of
        ``initial_values`` (stream ``<edge id>/g``, counter ``(i * num_post + j, 0)``,
        arithmetic in double then rounded, as NumPy does)."""
        init = syn.weight
        if init.kind == "constant":
            return k.literal(init.value)
        params = dict(init.params)
        call = f"irsnn_{init.kind}(irsnn_seed, {stream_id(f'{eid}/g')}u, 0u, {flat}, 0u)"
        if init.kind == "normal":
            offset, scale = float(params["mean"]), float(params["sd"])
        else:
            offset, scale = float(params["min"]), float(params["max"]) - float(params["min"])
        return f"({k.scalar})({offset!r} + (double){call} * ({scale!r}))"

    def check_weights(self, syn, values, mask):
        raise InputError(f"Connection '{syn.name}' uses the procedural layout: its weights are "
                         f"regenerated from the RNG at every spike and cannot be set; compile "
                         f"it with FixedProbability(..., layout='sparse') (or 'dense') to set "
                         f"weights")


__all__ = ["Procedural"]
