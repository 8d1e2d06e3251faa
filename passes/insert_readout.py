"""``insert-readout``: accumulate each output population's readout and add its reduction node.

Requires: ``validate``. Provides: readout accumulator variables (role ``"readout"``) and code
on every population with a readout, and a ``readout.<name>`` node (a :class:`ReadoutNode`)
joined to it by a zero-delay ``readout`` tap. The readout's logic comes from its class in
:mod:`irsnn.readouts` (or a user subclass named ``module:qualname``).
"""

from __future__ import annotations

import importlib

from irsnn.errors import ModelError
from irsnn.ir import AuxEdge, ReadoutNode, Var, VarInit
from irsnn.readouts import Readout, default_readouts

from .base import Pass


def resolve_readout(kind: str) -> Readout:
    """Instantiate the readout class named by a :class:`~irsnn.ir.ReadoutSpec` kind."""
    if kind in default_readouts:
        return default_readouts[kind]()
    module, _, qualname = kind.partition(":")
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj()


class InsertReadout(Pass):
    """Add accumulators, code and a reduction node for every population with a readout."""

    def requires(self):
        return ("validate",)

    def run(self, graph, ctx):
        for nid, pop in list(graph.populations()):
            if pop.readout is None:
                continue
            readout = resolve_readout(pop.readout.kind)
            if readout.needs_spikes and not pop.spiking:
                raise ModelError(
                    f"Population '{pop.name}' ({pop.model_name}) uses readout "
                    f"'{pop.readout.kind}', which counts spikes, but its neuron never spikes; "
                    f"use a spiking neuron or a var-based readout such as 'sum_var'")
            out = pop.var(pop.output_var)
            acc = readout.accumulators(pop.output_var, out.type)
            existing = {v.name for v in pop.vars}
            clash = sorted(existing & {a[0] for a in acc})
            if clash:
                raise ModelError(f"Population '{pop.name}': readout '{pop.readout.kind}' "
                                 f"needs variables {clash}, which the neuron model already "
                                 f"declares; rename them in the model")
            new_vars = tuple(Var(name, typ, "readwrite", VarInit("constant", init),
                                 role="readout") for name, typ, init in acc)
            sim = readout.sim_code(pop.output_var)
            reset = readout.reset_code(pop.output_var)
            graph.set_node(nid, pop.replace(
                vars=pop.vars + new_vars,
                sim_code=pop.sim_code + (f"\n{sim}\n" if sim else ""),
                reset_code=pop.reset_code + (f"\n{reset}\n" if reset else "")))
            rid = graph.add_node(f"readout.{pop.name}", ReadoutNode(
                kind=pop.readout.kind, source=nid, var=pop.output_var,
                accumulators=tuple(a[0] for a in acc), softmax=pop.softmax,
                params=pop.readout.params))
            graph.add_edge(nid, rid, "readout", AuxEdge())
