"""``insert-deep-r``: mark the connections that Deep-R rewires (Bellec et al. 2018, *Deep
Rewiring: Training very sparse deep networks*), as mlGeNN's ``deep_r_conns``.

Requires: ``insert-optimiser`` (Deep-R acts on trained weights and their optimiser step).
Options: ``deep_r`` (names of the connections to rewire), ``deep_r_l1_strength`` (>= 0) and
``deep_r_row_capacity`` (default 2.0). Provides ``SynapseGroup.rewiring`` =
:class:`~irsnn.ir.Rewiring` on each of them, shown by ``irsnn dump``; the backends then allocate
ragged rows with room for ``deep_r_row_capacity`` times the longest initial row, and the
runtime (:mod:`irsnn.compilers.deep_r`) applies the L1 term and the rewiring after every
optimiser step.

Each connection must be trained (have learning) and be stored ragged: rewiring changes which
synapses exist, which only the ragged layout represents. ``OneToOne`` connectivity is fixed by
definition and cannot be rewired.
"""

from __future__ import annotations

from irsnn.errors import ModelError
from irsnn.ir import Rewiring
from irsnn.ir.layouts import layout_traits

from .base import Pass


class InsertDeepR(Pass):
    """Attach Deep-R rewiring to the listed (trained, ragged) connections."""

    def requires(self):
        return ("insert-optimiser",)

    def run(self, graph, ctx):
        names = tuple(ctx.options.get("deep_r", ()))
        l1 = float(ctx.options.get("deep_r_l1_strength", 0.0))
        capacity = float(ctx.options.get("deep_r_row_capacity", 2.0))
        if l1 < 0:
            raise ModelError(f"Deep-R: l1 strength {l1!r} must be >= 0")
        if capacity < 1:
            raise ModelError(f"Deep-R: row capacity {capacity!r} must be >= 1 (a multiple of "
                             f"the longest initial row)")
        by_name = {syn.name: (u, v, k, syn) for u, v, k, syn in graph.synapses()}
        for name in names:
            if name not in by_name:
                raise ModelError(f"Deep-R: no connection named {name!r} in the network "
                                 f"(connections: {sorted(by_name)})")
            u, v, k, syn = by_name[name]
            self._check(syn)
            graph.set_edge(u, v, k, syn.replace(rewiring=Rewiring(
                kind="deep-r", l1_strength=l1, row_capacity=capacity)))

    @staticmethod
    def _check(syn):
        where = f"Connection '{syn.name}'" + (f" (created at {syn.location})"
                                              if syn.location else "")
        if syn.learning is None:
            raise ModelError(f"{where}: Deep-R rewires trained connections but this one is not "
                             f"trained; remove it from deep_r_conns")
        if syn.connectivity == "one_to_one":
            raise ModelError(f"{where}: OneToOne connectivity is fixed and cannot be rewired; "
                             f"use FixedProbability or Sparse for Deep-R")
        if layout_traits(syn.layout).rewires:
            return
        if syn.connectivity == "dense":
            how = ("Dense connectivity has every synapse; use FixedProbability(p, ...) or "
                   "Sparse(pre_ind, post_ind, ...)")
        elif syn.heterogeneous_delay is not None:
            how = "its per-synapse delays keep it dense; use a constant delay"
        elif syn.connectivity == "fixed_probability":
            how = (f"FixedProbability with p={syn.p!r} is stored dense unless it is given "
                   f"layout='sparse' (or p <= the sparse threshold); pass layout='sparse'")
        else:
            how = "it was given layout='dense'; use layout='sparse' or None"
        raise ModelError(f"{where}: Deep-R rewires sparse (ragged) connections but this "
                         f"{syn.connectivity} connection is stored {syn.layout}; {how}")


__all__ = ["InsertDeepR"]
