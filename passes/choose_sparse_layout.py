"""``choose-sparse-layout``: how each connection's synapses are stored.

Requires: ``infer-shapes``. Options: ``sparse_threshold`` (default 0.25) and ``layouts``, the
layouts the compiler supports (default ``("dense", "ragged", "one_to_one")``; e-prop supports
``("dense", "ragged")``, as mlGeNN's e-prop compiler supports GeNN's DENSE and SPARSE only).

Provides ``SynapseGroup.layout``:

* ``"ragged"`` (GeNN's SPARSE: a row of postsynaptic indices and weights per presynaptic
  neuron, as long as the longest row) for ``FixedProbability`` connections with
  ``layout="sparse"``, or with no preference and ``p <= sparse_threshold``, and for listed
  synapses (``Sparse``, or ``pre_ind``/``post_ind`` set) unless ``layout="dense"``;
* ``OneToOne`` keeps its own ``"one_to_one"`` layout where the compiler supports it, and is
  otherwise stored ``"ragged"`` with one synapse per row (so e-prop trains it like any sparse
  connection);
* everything else stays dense.

Ragged propagation does work in proportion to the synapses that exist, and e-prop keeps
traces only for them. Per-synapse delays keep the dense layout. Every backend gives identical
results whatever the layout (the reference backend computes ragged connections as dense
matrices with zeros).
"""

from __future__ import annotations

from .base import Pass

ALL_LAYOUTS = ("dense", "ragged", "one_to_one")


class ChooseSparseLayout(Pass):
    """Pick dense, ragged or one-to-one storage per connection."""

    def requires(self):
        return ("infer-shapes",)

    def run(self, graph, ctx):
        threshold = float(ctx.options.get("sparse_threshold", 0.25))
        supported = tuple(ctx.options.get("layouts", ALL_LAYOUTS))
        for u, v, k, syn in list(graph.synapses()):
            layout = self._choose(syn, threshold, supported)
            if layout != syn.layout:
                graph.set_edge(u, v, k, syn.replace(layout=layout))

    @staticmethod
    def _choose(syn, threshold, supported):
        hetero = syn.heterogeneous_delay is not None
        if syn.connectivity == "one_to_one":
            if "one_to_one" in supported:
                return "one_to_one"
            return "dense" if hetero else "ragged"
        if syn.connectivity == "sparse":
            return "dense" if hetero or syn.layout_hint == "dense" else "ragged"
        if syn.connectivity != "fixed_probability" or hetero:
            return syn.layout
        hint = syn.layout_hint
        if hint == "dense" or (hint is None and syn.p > threshold):
            return syn.layout
        return "ragged"


__all__ = ["ChooseSparseLayout"]
