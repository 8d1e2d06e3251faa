"""Learning in the reference backend: presynaptic traces, losses, feedback and synapse code.

Requires: a scheduled IR graph with learning and optimiser payloads,
:mod:`irsnn.ir.scopes` (checked learning and optimiser code), :mod:`.codegen` and NumPy.
Provides :class:`Learning`, which :class:`~.simulation.ReferenceSimulation` drives.

Runs after the neuron updates of every timestep (see :mod:`passes.insert_eprop` for the
equations): output errors from the loss nodes (softmax over the output neurons), learning
signals along feedback paths, then every synapse group's learning code, vectorised over
``(batch, pre, post)``. Presynaptic traces are updated where spikes are delivered
(:meth:`Learning.trace`).

Event-driven learning (``passes.event_eprop``): the delivered spikes of each such synapse group
and the sequences of each :class:`~irsnn.ir.BackwardFilter` are kept per step; at the example's
end (:meth:`Learning.end_example`) the sequences are filtered backward and every delivered spike
adds its step's ``HHat`` row to its synapses' gradients, in ascending step order (the order of
the kernel backends, so float32 results agree bit for bit).
"""

from __future__ import annotations

import numpy as np

from irsnn.errors import InputError
from irsnn.ir import BackwardFilter, EventPropState, FeedbackPath, LossNode, OptimiserNode
from irsnn.ir.ids import ref_owner
from irsnn.ir.scopes import check_learning, check_optimiser

from ..host_init import numpy_type
from .codegen import compile_block
from .eventprop import EventPropLearning


class Learning:
    """The learning state and per-step work of one :class:`ReferenceSimulation`."""

    def __init__(self, sim):
        self.sim = sim
        g = sim.graph
        self.codes = {}
        #: event-driven groups: edge id -> delivered spikes of each step of the example
        self.events: dict[str, list] = {}
        for eid, s in sim.synapses.items():
            lr = s.syn.learning
            if lr is None:
                continue
            for v in lr.vars:
                sim.initial[(eid, v.name)] = np.zeros((s.syn.num_pre, s.syn.num_post),
                                                      numpy_type(v.type, sim.precision))
            if lr.delay_var:    # learnable delays start from the connection's delays
                sim.initial[(eid, lr.delay_var)][:] = s.delays
            if lr.kind == "eventprop":  # eventprop.py computes these gradients
                continue
            if lr.backward:
                self.events[eid] = []
                continue
            self.codes[eid] = compile_block(check_learning(s.syn, g.node(s.syn.target),
                                                           sim.precision))
            sim.initial[(eid, lr.pre_trace)] = np.zeros(s.syn.num_pre, sim.scalar)
        self.losses = dict(g.nodes(LossNode))
        self.labels = {lid: None for lid in self.losses}
        ep_sources = {n.source for _, n in g.nodes(EventPropState)}
        #: EventProp's recording and backward pass (None without EventProp nodes)
        self.eventprop = EventPropLearning(sim, self.labels) if ep_sources else None
        # EventProp's losses act once per example, in its backward pass
        self.losses = {lid: n for lid, n in self.losses.items() if n.source not in ep_sources}
        self.feedback = [(u, v, p) for u, v, _, p in g.edges(FeedbackPath)]
        self.filters = dict(g.nodes(BackwardFilter))
        #: filter id -> {sequence name: list of (batch, neurons) arrays, one per step}
        self.sequences = {fid: {name: [] for name in f.sequences}
                          for fid, f in self.filters.items()}
        self.enabled = self.available = bool(self.codes or self.events or self.eventprop)
        self.optimiser = self._optimiser_blocks(g, sim)

    # -- per step ------------------------------------------------------------------------------
    def trace(self, s, spk):
        """``ZBar = decay * ZBar + z`` with the spikes ``spk`` delivered to ``s`` this step."""
        lr = s.syn.learning
        if lr is None or not self.enabled:
            return
        if lr.kind == "eventprop":
            return
        if lr.backward:
            self.events[s.eid].append(np.asarray(spk, self.sim.scalar).copy())
            return
        key = (s.eid, lr.pre_trace)
        self.sim.state[key] = (self.sim.scalar(lr.pre_trace_decay) * self.sim.state[key]
                               + spk.astype(self.sim.scalar))

    def step(self, spikes=None):
        """This step's learning work; ``spikes`` (node id -> this step's spikes) feed
        EventProp's buffers."""
        if not self.enabled:
            return
        sim = self.sim
        if self.eventprop is not None:
            self.eventprop.record(spikes)
        for lid, loss in self.losses.items():
            self._loss(lid, loss)
        for src, dst, fb in self.feedback:
            error = sim.state[(src, fb.error_var)]
            w = (sim.synapses[fb.weights].weights if fb.mode == "symmetric"
                 else sim.graph.array(fb.weights)).astype(sim.scalar)
            sim.state[(dst, fb.signal_var)] = (error @ w.T).astype(sim.scalar)
        for eid, code in self.codes.items():
            self._synapses(eid, code)
        for fid, f in self.filters.items():
            self._record(fid, f)

    # -- optimiser -----------------------------------------------------------------------------
    @staticmethod
    def _optimiser_blocks(g, sim):
        """``{node id: (node, compiled update, state arrays)}`` when every optimiser node has
        update code (as the kernel backends), else None (the host applies the optimiser)."""
        nodes = list(g.nodes(OptimiserNode))
        if not nodes or not all(n.code.strip() for _, n in nodes):
            return None
        return {nid: (node, compile_block(check_optimiser(nid, node, precision=sim.precision)),
                      {}) for nid, node in nodes}

    def optimiser_state(self) -> dict:
        """``{(parameter target, state name): array}`` of the optimiser kernels' state."""
        return {(node.target, name): value.copy()
                for node, _, state in (self.optimiser or {}).values()
                for name, value in state.items()}

    def set_optimiser_state(self, values: dict):
        for node, _, state in (self.optimiser or {}).values():
            for name in node.state:
                if (node.target, name) in values:
                    state[name] = values[(node.target, name)].copy()

    def optimise(self, scalars, rows):
        """Sum each gradient over the first ``rows`` rows (ascending, in the model's precision),
        zero every row, and run the update code where synapses exist."""
        sim = self.sim
        sc = sim.scalar
        values = {k: sc(v) for k, v in scalars.items()}
        fused = self.pending is not None and self.events
        for node, block, state in self.optimiser.values():
            owner = ref_owner(node.target)
            grad = sim.state[(owner, node.gradient)]
            if fused and node.target in self.events:
                total = self._event_gradient(node.target)
            elif node.target in self.events or grad.ndim == 2 and \
                    not sim.variables[(owner, node.gradient)].batched:  # one for the batch
                total = grad.copy()
            else:
                total = np.zeros(grad.shape[1:], sc)
                for b in range(rows):
                    total = (total + grad[b]).astype(sc)
            sim.state[(owner, node.gradient)] = np.zeros_like(grad)
            param = sim.parameter(node.target).astype(sc)
            for name in node.state:
                state.setdefault(name, np.zeros(param.shape, sc))
            env = dict(values, Param=param, Gradient=total, **state)
            block.run(env)
            mask = sim._existing(node.target)

            def keep(new, old, mask=mask):
                new = np.asarray(new, sc)
                return new if mask is None else np.where(mask, new, old).astype(sc)
            for name in node.state:
                state[name] = keep(env[name], state[name])
            sim.set_parameter(node.target, keep(env["Param"], param))
        if self.pending is not None:
            self.begin_example()

    # -- event-driven learning -----------------------------------------------------------------
    def check_capacity(self, timesteps):
        """Event-driven learning stores at most ``example_timesteps`` steps per example:
        refuse to run past it (the message matches the kernel backends')."""
        if not (self.enabled and self.filters):
            return
        capacity = min(f.timesteps for f in self.filters.values())
        fid, f = next(iter(self.filters.items()))
        done = len(self.sequences[fid][f.sequences[0]])  # steps recorded in this example
        if done + timesteps > capacity:
            raise InputError(f"event-driven e-prop stores {capacity} timesteps per example "
                             f"(example_timesteps) but {done + timesteps} were run with "
                             f"learning on; end the example (end_example) first, or compile "
                             f"with gradient_mode='online'")

    def _record(self, fid, f):
        sim = self.sim
        seq = self.sequences[fid]
        p = {q.name: sim.scalar(q.value) for q in f.params}
        for name in f.sequences:
            if name == "C":
                value = p["CReg"] * (sim.state[(f.source, "FAvg")] - p["FTarget"])
            else:
                value = sim.state[(f.source, name)]
            seq[name].append(np.asarray(value, sim.scalar).copy())

    #: backward sequences of an ended example whose gradients the optimiser will sum
    pending = None

    def begin_example(self):
        self.pending = None
        if self.eventprop is not None:
            self.eventprop.begin_example()
        for seq in self.sequences.values():
            for steps in seq.values():
                steps.clear()
        for steps in self.events.values():
            steps.clear()

    def end_example(self, defer=False):
        """Backward sweep of every filter, then the spike-driven gradient scatter into each
        row's gradient; with ``defer``, the next :meth:`optimise` sums the gradients itself
        (as the C backend's fused optimiser kernels)."""
        sim = self.sim
        if self.eventprop is not None and self.enabled:
            self.eventprop.end_example()
        self.pending = {fid: self._backward(f, self.sequences[fid])
                        for fid, f in self.filters.items()}
        if defer:
            return
        for eid in self.events:
            lr = sim.synapses[eid].syn.learning
            key = (eid, lr.gradient)
            sim.state[key] = self._event_gradient(eid, sim.state[key])
        self.begin_example()

    def _event_gradient(self, eid, total=None):
        """``total`` plus the batch's gradient of an event-driven group, from the example's
        spikes and ``HHat``: active batch elements, then steps, in ascending order (the
        kernels' order)."""
        s = self.sim.synapses[eid]
        h = self.pending[s.syn.learning.backward]
        total = np.zeros((s.syn.num_pre, s.syn.num_post), self.sim.scalar) if total is None \
            else total.copy()
        (labels,) = self.labels.values()
        for b in np.flatnonzero(labels["active"]):
            for t, spk in enumerate(self.events[eid]):
                idx = np.flatnonzero(spk[b])
                total[idx] += spk[b, idx, None] * h[t][b][None, :]
        return total

    def _backward(self, f, seq):
        """``HHat`` of every recorded step (see :class:`~irsnn.ir.BackwardFilter`), computed in
        the simulation's precision in the kernels' order."""
        sc = self.sim.scalar
        p = {q.name: sc(q.value) for q in f.params}
        alpha = p["Alpha"]
        steps = len(seq[f.sequences[0]])
        out = [None] * steps
        hh = None
        if f.kind == "eprop-output":
            for t in range(steps - 1, -1, -1):
                e = seq["E"][t]
                hh = e if hh is None else (e + alpha * hh).astype(sc)
                out[t] = hh
            return out
        alif = f.kind == "eprop-alif"
        a = bb = None
        for t in range(steps - 1, -1, -1):
            psi, L, c = seq["Psi"][t], seq["L"][t], seq["C"][t]
            a = L if a is None else (L + alpha * a).astype(sc)
            g = (a + c).astype(sc)
            if alif:
                beta, rho = p["Beta"], p["Rho"]
                if bb is None:
                    bb = np.zeros_like(g)
                h = (psi * (g + bb)).astype(sc)
                bb = ((-(psi * beta)) * g + (rho - psi * beta) * bb).astype(sc)
            else:
                h = (psi * g).astype(sc)
            hh = h if hh is None else (h + alpha * hh).astype(sc)
            out[t] = hh
        return out

    def _loss(self, lid, loss):
        sim = self.sim
        labels = self.labels[lid]
        if labels is None:
            raise InputError(f"'{lid}': no labels were set for this batch; training needs "
                             f"labels for every output")
        v = sim.state[(loss.source, loss.var)].astype(sim.scalar)
        active = labels["active"][:, None]
        if loss.target_var:   # the target the model's code stored this step
            target = sim.state[(loss.source, loss.target_var)].astype(sim.scalar)
        elif loss.softmax:
            target = np.zeros_like(v)
            rows = np.flatnonzero(labels["active"])
            target[rows, labels["y"][rows]] = 1
        if loss.softmax:
            z = v - v.max(axis=1, keepdims=True)
            p = np.exp(z)
            p = p / p.sum(axis=1, keepdims=True)
            error = p - target
        elif loss.target_var:
            error = v - target
        elif loss.timesteps:
            error = v - labels["y"][:, sim.timestep % loss.timesteps].astype(sim.scalar)
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
