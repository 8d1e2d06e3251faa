"""``insert-optimiser``: one optimiser node per trainable parameter.

Requires: ``insert-eprop`` or ``insert-eventprop`` (a pass that attaches learning with a
gradient variable).
Options: ``optimiser`` (an :class:`~irsnn.optimisers.Optimiser`) and ``delay_optimiser`` (for
learnable delays; default: ``optimiser``). Provides an
``optim.<connection>`` node for every synapse group with learning (target: its weights,
gradient: its learning rule's ``gradient`` variable) and ``optim.<population>.<var>`` for every
trainable shared variable with a gradient (the output bias), each tapped from the population
that holds the gradient, and ``optim.<connection>.d`` for the delays of a connection whose
learning rule trains them (``delay_var``; clamped to ``[0, max_delay_steps]``, applied on the
host). The runtime applies them once per batch to the batch-summed gradients: with the
optimiser's ``update_code`` as kernels on the device, else on the host.
"""

from __future__ import annotations

from irsnn.errors import PassError
from irsnn.ir import AuxEdge, LossNode, OptimiserNode, edge_id
from irsnn.ir.ids import OPTIMISE_KEY, optimiser_id, var_ref

from .base import Pass


class InsertOptimiser(Pass):
    """Attach an optimiser node to every parameter that has a gradient."""

    #: the passes that attach learning; one of them must have run
    LEARNING_PASSES = ("insert-eprop", "insert-eventprop")

    def requires(self):
        return ("insert-readout",)

    def run(self, graph, ctx):
        if not set(self.LEARNING_PASSES) & ctx.provided:
            raise PassError(f"pass 'insert-optimiser' requires one of {list(self.LEARNING_PASSES)}"
                            f" to run first; put a learning pass before it")
        opt = ctx.options["optimiser"]
        params = tuple(sorted(opt.params().items()))
        code = opt.update_code
        scalars = tuple(sorted(opt.scalars(1))) if code else ()
        for u, v, k, syn in list(graph.synapses()):
            if syn.learning is None:
                continue
            oid = graph.add_node(optimiser_id(syn.name), OptimiserNode(
                kind=opt.name, target=edge_id(u, v, k), gradient=syn.learning.gradient,
                params=params, state=opt.state_names, code=code, scalars=scalars))
            graph.add_edge(v, oid, OPTIMISE_KEY, AuxEdge())
            if syn.learning.delay_var:
                dopt = ctx.options.get("delay_optimiser") or opt
                oid = graph.add_node(optimiser_id(syn.name, syn.learning.delay_var),
                                     OptimiserNode(
                    kind=dopt.name, target=var_ref(edge_id(u, v, k), syn.learning.delay_var),
                    gradient=syn.learning.delay_gradient,
                    params=tuple(sorted(dopt.params().items())), state=dopt.state_names,
                    clamp=(0.0, float(syn.max_delay_steps))))
                graph.add_edge(v, oid, OPTIMISE_KEY, AuxEdge())
        for _, loss in list(graph.nodes(LossNode)):
            if loss.bias_gradient is None:
                continue
            oid = graph.add_node(optimiser_id(loss.source, "Bias"), OptimiserNode(
                kind=opt.name, target=var_ref(loss.source, "Bias"), gradient=loss.bias_gradient,
                params=params, state=opt.state_names, code=code, scalars=scalars))
            graph.add_edge(loss.source, oid, OPTIMISE_KEY, AuxEdge())
