"""Learning in the reference backend: presynaptic traces, losses, feedback and synapse code.

Runs after the neuron updates of every timestep (see :mod:`passes.insert_eprop` for the
equations): output errors from the loss nodes (softmax over the output neurons), learning
signals along feedback paths, then every synapse group's learning code, vectorised over
``(batch, pre, post)``. Presynaptic traces are updated where spikes are delivered
(:meth:`Learning.trace`).
"""

from __future__ import annotations

import numpy as np

from irsnn.errors import InputError
from irsnn.ir import FeedbackPath, LossNode
from irsnn.ir.scopes import check_learning

from ..host_init import numpy_type
from .codegen import compile_block


class Learning:
    """The learning state and per-step work of one :class:`ReferenceSimulation`."""

    def __init__(self, sim):
        self.sim = sim
        g, B = sim.graph, sim.batch_size
        self.codes = {}
        for eid, s in sim.synapses.items():
            lr = s.syn.learning
            if lr is None:
                continue
            self.codes[eid] = compile_block(check_learning(s.syn, g.node(s.syn.target),
                                                           sim.precision))
            shape = (B, s.syn.num_pre, s.syn.num_post)
            for v in lr.vars:
                sim.initial[(eid, v.name)] = np.zeros(shape[1:], numpy_type(v.type,
                                                                             sim.precision))
            sim.initial[(eid, lr.pre_trace)] = np.zeros(s.syn.num_pre, sim.scalar)
        self.losses = dict(g.nodes(LossNode))
        self.labels = {lid: None for lid in self.losses}
        self.feedback = [(u, v, p) for u, v, _, p in g.edges(FeedbackPath)]
        self.enabled = bool(self.codes)

    def state_keys(self):
        for eid in self.codes:
            lr = self.sim.synapses[eid].syn.learning
            yield from ((eid, v.name) for v in lr.vars)
            yield (eid, lr.pre_trace)

    # -- per step ------------------------------------------------------------------------------
    def trace(self, s, spk):
        """``ZBar = decay * ZBar + z`` with the spikes ``spk`` delivered to ``s`` this step."""
        lr = s.syn.learning
        if lr is None or not self.enabled:
            return
        key = (s.eid, lr.pre_trace)
        self.sim.state[key] = (self.sim.scalar(lr.pre_trace_decay) * self.sim.state[key]
                               + spk.astype(self.sim.scalar))

    def step(self):
        if not self.enabled:
            return
        sim = self.sim
        for lid, loss in self.losses.items():
            self._loss(lid, loss)
        for src, dst, fb in self.feedback:
            error = sim.state[(src, fb.error_var)]
            w = (sim.synapses[fb.weights].w if fb.mode == "symmetric"
                 else sim.graph.array(fb.weights)).astype(sim.scalar)
            sim.state[(dst, fb.signal_var)] = (error @ w.T).astype(sim.scalar)
        for eid, code in self.codes.items():
            self._synapses(eid, code)

    def _loss(self, lid, loss):
        sim = self.sim
        labels = self.labels[lid]
        if labels is None:
            raise InputError(f"'{lid}': no labels were set for this batch; training needs "
                             f"labels for every output")
        v = sim.state[(loss.source, loss.var)].astype(sim.scalar)
        active = labels["active"][:, None]
        if loss.kind == "sparse_categorical_crossentropy":
            z = v - v.max(axis=1, keepdims=True)
            p = np.exp(z)
            p = p / p.sum(axis=1, keepdims=True)
            onehot = np.zeros_like(p)
            rows = np.flatnonzero(labels["active"])
            onehot[rows, labels["y"][rows]] = 1
            error = p - onehot
        else:
            error = v - labels["y"].astype(sim.scalar)
        error = np.where(active, error, sim.scalar(0)).astype(sim.scalar)
        sim.state[(loss.source, loss.error_var)] = error
        if loss.bias_gradient:
            key = (loss.source, loss.bias_gradient)
            sim.state[key] = sim.state[key] + error

    def _synapses(self, eid, code):
        sim = self.sim
        s = sim.synapses[eid]
        lr, target = s.syn.learning, sim.neurons[s.syn.target]
        env = {p.name: numpy_type(p.type, sim.precision)(p.value) for p in lr.params}
        env["t"] = sim.scalar(sim.timestep * sim.dt)
        env["dt"] = sim.scalar(sim.dt)
        env[f"{lr.pre_trace}_pre"] = sim.state[(eid, lr.pre_trace)][:, :, None]
        for v in target.pop.vars:
            value = sim.state[(s.syn.target, v.name)]
            env[f"{v.name}_post"] = value[:, None, :] if value.ndim == 2 else value[None, None]
        for v in lr.vars:
            env[v.name] = sim.state[(eid, v.name)]
        code.run(env)
        shape = (sim.batch_size, s.syn.num_pre, s.syn.num_post)
        for v in lr.vars:
            if v.access == "readwrite":
                sim.state[(eid, v.name)] = np.broadcast_to(env[v.name], shape).astype(
                    sim.state[(eid, v.name)].dtype, copy=True)

    def set_labels(self, loss_id, labels, active):
        if loss_id not in self.labels:
            raise InputError(f"no loss node '{loss_id}' (losses: {sorted(self.labels)})")
        self.labels[loss_id] = {"y": np.asarray(labels), "active": np.asarray(active, bool)}


__all__ = ["Learning"]
