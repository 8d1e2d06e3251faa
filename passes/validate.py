"""``validate``: the lowering checks every later pass and backend may rely on.

Requires: a lowered IR. Provides: every code block parses and type-checks against its scope
(errors name the population or connection, the block, line and column), input populations
receive no connections, readouts have an output variable, and ``dt``/``batch_size`` are sane.
"""

from __future__ import annotations

from irsnn.errors import ModelError
from irsnn.ir.scopes import check_neuron, check_psm

from .base import Pass


class Validate(Pass):
    """Check the lowered model before anything is built from it."""

    def run(self, graph, ctx):
        precision = graph.attrs.get("precision", "float")
        for nid, pop in graph.populations():
            check_neuron(nid, pop, precision)
            if pop.negative_threshold_code.strip() and not pop.threshold_code.strip():
                raise ModelError(f"Population '{pop.name}' ({pop.model_name}) has a negative "
                                 f"threshold but no threshold condition; add one")
            if pop.spike_schedule:
                _check_schedule(pop)
        for _u, v, _k, syn in graph.synapses():
            target = graph.node(v)
            if target.is_input:
                raise ModelError(
                    f"Connection '{syn.name}'" + (f" created at {syn.location}"
                                                  if syn.location else "") +
                    f" targets '{target.name}', an input population ({target.model_name}) "
                    f"that ignores synaptic input; connect to a non-input population")
            check_psm(syn, target, precision)


def _check_schedule(pop):
    """A spike-schedule group has no code and the schedule's extra global parameters."""
    from irsnn.utils.model import SCHEDULE_EGPS
    coded = [k for k in ("sim_code", "threshold_code", "negative_threshold_code", "reset_code")
             if getattr(pop, k).strip()]
    if coded:
        raise ModelError(f"Population '{pop.name}' ({pop.model_name}) has a spike schedule and "
                         f"code {coded}; a scheduled population's spikes come from its schedule "
                         f"only, so remove the code")
    have = {e.name: e.type for e in pop.egps}
    wrong = [(n, t) for n, t in SCHEDULE_EGPS if have.get(n) != t]
    if wrong:
        raise ModelError(f"Population '{pop.name}' ({pop.model_name}) has a spike schedule but "
                         f"not its extra global parameters {wrong} (it has {have}); declare "
                         f"the model with 'spike_schedule': True and no schedule parameters of "
                         f"its own")
