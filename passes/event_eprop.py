"""``event-eprop``: exact e-prop gradients from spikes and per-neuron sequences.

Requires: ``insert-eprop``. Options: ``gradient_mode`` (``"event"`` rewrites, ``"online"``
leaves the graph alone), ``example_timesteps``.

When weights change only at batch ends (the EPropCompiler's schedule) and eligibility traces
start from zero at each example, the gradient that the online rules of ``insert-eprop``
accumulate is a linear function of each presynaptic spike train whose coefficients depend only
on the postsynaptic neuron. With ``alpha`` the target's membrane decay, for a hidden synapse
``j <- i`` (LIF: ``beta = 0``)::

    sum_t EBar_ji(t) L_j(t) + c_j(t) e_ji(t)  =  sum_s z_i(s) HHat_j(s)

where ``z_i(s)`` are the spikes delivered to the synapse at step ``s`` (those that enter
``ZBar_i(s)``) and ``HHat`` is computed backward in time from the per-step ``Psi``, ``L`` and
``c = CReg (FAvg - FTarget)`` of the target (see :class:`~irsnn.ir.BackwardFilter`). For the
output synapses ``k <- j`` (``DeltaG += ZBar_j E_k``) ``HHat_k(s) = sum_{t>=s} alpha^(t-s)
E_k(t)``.

Provides, per trained target population, a ``backward.<name>`` :class:`BackwardFilter` node
(tapped from the population) and, on every trained connection, event-driven learning:
``SynapseDynamics(kind="eprop-event", vars=(DeltaG,), backward="backward.<name>")`` without
per-synapse eligibility state or presynaptic trace, and with one gradient for the batch (not
one per example): the delivered spikes of every active example of the batch add to it. The
per-step cost of learning drops from ``O(synapses)`` to ``O(neurons + delivered spikes)``; at the
example's end the backward sweep costs ``O(T * neurons)`` and the gradient scatter
``O(delivered spikes * fan-out)``.
"""

from __future__ import annotations

import dataclasses

from irsnn.errors import ModelError
from irsnn.ir import AuxEdge, BackwardFilter, Param, SynapseDynamics
from irsnn.ir.ids import BACKWARD_KEY, backward_id

from .base import Pass

GRADIENT_MODES = ("online", "event")

#: online learning kind -> what the backward filter records every step
_SEQUENCES = {"eprop-lif": ("Psi", "L", "C"), "eprop-alif": ("Psi", "L", "C"),
              "eprop-output": ("E",)}
#: online learning parameters the filter needs
_PARAMS = {"eprop-lif": ("Alpha", "CReg", "FTarget"),
           "eprop-alif": ("Alpha", "CReg", "FTarget", "Beta", "Rho"),
           "eprop-output": ()}


class EventEprop(Pass):
    """Replace per-synapse e-prop traces by spike-driven accumulation of backward sequences."""

    def requires(self):
        return ("insert-eprop",)

    def run(self, graph, ctx):
        mode = ctx.options.get("gradient_mode", "online")
        if mode not in GRADIENT_MODES:
            raise ModelError(f"EPropCompiler: gradient_mode={mode!r}; use 'event' or 'online'")
        if mode != "event":
            return
        steps = int(ctx.options["example_timesteps"])
        filters: dict[str, str] = {}
        for u, v, k, syn in list(graph.synapses()):
            lr = syn.learning
            if lr is None:
                continue
            if lr.kind not in _SEQUENCES:
                raise ModelError(f"Connection '{syn.name}': gradient_mode='event' knows the "
                                 f"e-prop rules {sorted(_SEQUENCES)}, not {lr.kind!r}; use "
                                 f"gradient_mode='online'")
            if v not in filters:
                filters[v] = self._filter(graph, v, syn, lr, steps)
            elif graph.node(filters[v]).kind != lr.kind:
                raise ModelError(f"Connection '{syn.name}' learns with {lr.kind} but another "
                                 f"connection into '{graph.node(v).name}' with "
                                 f"{graph.node(filters[v]).kind}")
            # one gradient for the whole batch: the spikes of every example add to it
            grad = dataclasses.replace(next(x for x in lr.vars if x.name == lr.gradient),
                                       batched=False)
            graph.set_edge(u, v, k, syn.replace(learning=SynapseDynamics(
                kind="eprop-event", vars=(grad,), params=(), code="", pre_trace="",
                pre_trace_decay=0.0, gradient=lr.gradient, backward=filters[v])))

    @staticmethod
    def _filter(graph, nid, syn, lr, steps):
        params = {p.name: p for p in lr.params}
        if lr.kind == "eprop-output":
            # the output rule has no parameters: its trace decays by the target's Alpha
            chosen = (Param("Alpha", "scalar", lr.pre_trace_decay),)
        else:
            chosen = tuple(params[name] for name in _PARAMS[lr.kind])
        fid = graph.add_node(backward_id(nid), BackwardFilter(
            kind=lr.kind, source=nid, timesteps=steps, params=chosen,
            sequences=_SEQUENCES[lr.kind]))
        graph.add_edge(nid, fid, BACKWARD_KEY, AuxEdge())
        return fid


__all__ = ["EventEprop", "GRADIENT_MODES"]
