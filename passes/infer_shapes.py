"""``infer-shapes``: buffer sizes that follow from the connectivity.

Requires: lowered IR. Provides: ``NeuronGroup.spike_history`` (how many timesteps of spikes a
population keeps: the largest ``delay_steps`` of its outgoing synapses, at least 1) and checks
that every side-table array matches the shape of the object that uses it.
"""

from __future__ import annotations

from irsnn.errors import ShapeError
from irsnn.ir import SynapseGroup
from irsnn.ir.layouts import layout_traits

from .base import Pass


class InferShapes(Pass):
    """Set spike-history depths and check array shapes against population sizes."""

    def requires(self):
        return ("validate",)

    def run(self, graph, ctx):
        for nid, pop in list(graph.populations()):
            depth = max([p.delay_steps for _, _, _, p in graph.out_edges(nid, SynapseGroup)],
                        default=1)
            if depth != pop.spike_history:
                graph.set_node(nid, pop.replace(spike_history=max(1, depth)))
            for v in pop.vars:
                if v.init.kind == "array":
                    arr = graph.array(v.init.key)
                    if arr.size != pop.size:
                        raise ShapeError(
                            f"Population '{pop.name}': variable '{v.name}' has {arr.size} "
                            f"initial values but the population has {pop.size} neurons")
        for _u, _v, _k, syn in graph.synapses():
            for init in (syn.weight, syn.heterogeneous_delay):
                if init is not None and init.kind == "array":
                    arr = graph.array(init.key)
                    if syn.connectivity == "sparse":
                        want = graph.array(syn.pre_ind).size
                        what = f"one per listed synapse ({want} synapses)"
                    elif layout_traits(syn.layout).weight_shape(syn) == (syn.num_post,):
                        want, what = syn.num_post, "one per neuron"
                    else:
                        want = syn.num_pre * syn.num_post
                        what = f"dense connectivity between {syn.num_pre} and {syn.num_post} " \
                               f"neurons"
                    if arr.size != want:
                        raise ShapeError(
                            f"Connection '{syn.name}': array '{init.key}' has {arr.size} "
                            f"values but {what} needs {want}")
