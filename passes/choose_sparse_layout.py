"""``choose-sparse-layout``: how each connection's synapses are stored.

Requires: ``infer-shapes``. Options: ``sparse_threshold`` (default 0.25). Provides
``SynapseGroup.layout`` = ``"ragged"`` (GeNN's SPARSE: a row of postsynaptic indices and weights
per presynaptic neuron, as long as the longest row the backend draws) for
``FixedProbability`` connections with ``layout="sparse"``, or with no preference and
``p <= sparse_threshold``; everything else stays dense. Ragged propagation does work in
proportion to the synapses that exist, and e-prop keeps traces only for them. Per-synapse
delays keep the dense layout. Every backend gives identical results whatever the layout (the
reference backend computes ragged connections as dense matrices with zeros).
"""

from __future__ import annotations

from .base import Pass


class ChooseSparseLayout(Pass):
    """Pick dense or ragged storage per connection."""

    def requires(self):
        return ("infer-shapes",)

    def run(self, graph, ctx):
        threshold = float(ctx.options.get("sparse_threshold", 0.25))
        for u, v, k, syn in list(graph.synapses()):
            if syn.connectivity != "fixed_probability" or syn.heterogeneous_delay is not None:
                continue
            hint = syn.layout_hint
            if hint == "dense" or (hint is None and syn.p > threshold):
                continue
            graph.set_edge(u, v, k, syn.replace(layout="ragged"))


__all__ = ["ChooseSparseLayout"]
