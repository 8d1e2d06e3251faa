"""``insert-readout``: accumulate each output population's readout and add its reduction node.

Requires: ``validate``. Provides: readout accumulator variables (role ``"readout"``) and code
on every population with a readout, and a ``readout.<name>`` node (a :class:`ReadoutNode`)
joined to it by a zero-delay ``readout`` tap. Everything comes from the population's
:class:`~irsnn.ir.ReadoutSpec`, which lowering filled from the readout object (built-in or a
user subclass): this pass imports nothing from the front end.
"""

from __future__ import annotations

from irsnn.errors import ModelError
from irsnn.ir import AuxEdge, ReadoutNode
from irsnn.ir.ids import READOUT_KEY, readout_id

from .base import Pass


class InsertReadout(Pass):
    """Add accumulators, code and a reduction node for every population with a readout."""

    def requires(self):
        return ("validate",)

    def run(self, graph, ctx):
        for nid, pop in list(graph.populations()):
            spec = pop.readout
            if spec is None:
                continue
            if spec.needs_spikes and not pop.spiking:
                raise ModelError(
                    f"Population '{pop.name}' ({pop.model_name}) uses readout "
                    f"'{spec.kind}', which counts spikes, but its neuron never spikes; "
                    f"use a spiking neuron or a var-based readout such as 'sum_var'")
            existing = {v.name for v in pop.vars}
            clash = sorted(existing & {v.name for v in spec.vars})
            if clash:
                raise ModelError(f"Population '{pop.name}': readout '{spec.kind}' "
                                 f"needs variables {clash}, which the neuron model already "
                                 f"declares; rename them in the model")
            sim, reset = spec.sim_code, spec.reset_code
            graph.set_node(nid, pop.replace(
                vars=pop.vars + spec.vars,
                sim_code=pop.sim_code + (f"\n{sim}\n" if sim else ""),
                reset_code=pop.reset_code + (f"\n{reset}\n" if reset else "")))
            rid = graph.add_node(readout_id(nid), ReadoutNode(
                kind=spec.kind, source=nid, var=pop.output_var,
                accumulators=tuple(v.name for v in spec.vars), softmax=pop.softmax,
                params=spec.params))
            graph.add_edge(nid, rid, READOUT_KEY, AuxEdge())
