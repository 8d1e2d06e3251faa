"""``batch-state``: decide which state is duplicated per batch element.

Requires: ``insert-readout`` (its accumulators are state too). Provides: ``Var.batched`` for
every neuron and postsynaptic variable. Model and readout variables and postsynaptic state are
per batch element; parameters that vary per neuron (role ``"param"``) are shared, as are
weights and delays (they are not variables of the neuron groups). Records the batch size in
``graph.attrs["batch_size"]``.
"""

from __future__ import annotations

import dataclasses

from .base import Pass


class BatchState(Pass):
    """Mark each variable as batched (one copy per batch element) or shared."""

    def requires(self):
        return ("insert-readout",)

    def run(self, graph, ctx):
        if "batch_size" in ctx.options:
            graph.attrs["batch_size"] = int(ctx.options["batch_size"])
        for nid, pop in list(graph.populations()):
            vars_ = tuple(_with(v, batched=v.role != "param") for v in pop.vars)
            if vars_ != pop.vars:
                graph.set_node(nid, pop.replace(vars=vars_))
        for u, v, k, syn in list(graph.synapses()):
            vars_ = tuple(_with(x, batched=True) for x in syn.psm_vars)
            if vars_ != syn.psm_vars:
                graph.set_edge(u, v, k, syn.replace(psm_vars=vars_))


def _with(var, **changes):
    return dataclasses.replace(var, **changes)
