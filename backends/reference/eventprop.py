"""EventProp on the reference backend: spike buffers in the forward pass, the event-driven
backward pass at the end of each example.

Requires: a scheduled IR graph with :class:`~irsnn.ir.EventPropState` nodes (the
``insert-eventprop`` pass) and NumPy. Provides :class:`EventPropLearning`, which
:class:`~.learning.Learning` drives: :meth:`~EventPropLearning.record` after every step's
neuron updates, :meth:`~EventPropLearning.end_example` at the example's end.

Forward pass: every neuron of a population with an EventProp node keeps the steps of its
first ``max_spikes`` spikes of the example (hidden LIF neurons also ``I - V`` just before and
just after the reset). A spike beyond ``max_spikes`` is an :class:`~irsnn.errors.InputError`
naming the population with ``strict``, else it is left out of the backward pass and counted
(:attr:`EventPropLearning.dropped`, with a warning).

Backward pass (the equations are in :mod:`irsnn.compilers.event_prop_compiler`), in float64:
only the steps at which something happens are visited (a recorded spike at ``s``: its jump at
``s`` and its arrivals at ``s + 1 + a``, ``a`` the extra synaptic delays of its connections;
the step of an output's maximum for ``max_var``); between
them every population's ``(LambdaV, LambdaI)`` advances in closed form, except an output
whose loss drive changes every step (per-timestep losses, ``avg_var_exp_weight``), which is
stepped (``O(timesteps x its neurons)``). The losses are in :mod:`.eventprop_losses`; hidden
LIF populations with the spike-count regularisation add mlGeNN's jump at each spike. Work is
``O(event steps x neurons + spikes x fan-out)``, memory ``O(neurons x max_spikes)``: neither
grows with the number of timesteps.
"""

from __future__ import annotations

import warnings

import numpy as np

from irsnn.errors import InputError
from irsnn.ir import EventPropState
from irsnn.ir.ids import loss_id
from irsnn.passes.insert_eventprop import arrival_coefficients

from .eventprop_losses import Drive, output_drive

F64 = np.float64


class _Buffers:
    """The spike buffers and adjoint constants of one population."""

    def __init__(self, sid, node: EventPropState, pop, batch):
        self.sid, self.node, self.nid = sid, node, node.source
        self.name, self.size = pop.name, pop.size
        m = node.max_spikes
        self.steps = np.zeros((batch, pop.size, m), np.int64)
        self.count = np.zeros((batch, pop.size), np.int64)
        self.dropped = np.zeros((batch, pop.size), np.int64)
        #: LIF population: its spike jumps need ``I - V`` around the reset
        self.lif = "IMinusV" in node.buffers
        if self.lif:
            self.imv = np.zeros((batch, pop.size, m), F64)
            self.imv_reset = np.zeros((batch, pop.size, m), F64)
        self.p = {q.name: float(q.value) for q in node.params}
        #: the output variable at every step of the example (per-timestep losses)
        self.history: list = []

    def clear(self):
        self.count[:] = 0
        self.dropped[:] = 0
        self.history = []

    def regulariser(self, batch):
        """Per neuron, the spike-count regularisation's jump of ``LambdaV`` at each of its
        spikes, or None: mlGeNN's ``-RegLambda (C - nu B) / B^2`` (``C`` the neuron's spikes
        summed over the batch, ``RegLambda`` the upper strength where ``C > nu B``, else the
        lower), times ``-TauM`` (irsnn's adjoint units) and ``RegLossScale`` (irsnn's loss
        over mlGeNN's: the strengths weigh against the loss as in mlGeNN)."""
        upper, lower = self.p.get("RegLambdaUpper", 0.0), self.p.get("RegLambdaLower", 0.0)
        if upper == 0.0 and lower == 0.0:
            return None
        total = (self.count + self.dropped).sum(axis=0).astype(F64)
        excess = total - self.p["RegNuUpper"] * batch
        scale = self.p["TauM"] * self.p.get("RegLossScale", 1.0)
        return scale * np.where(excess > 0, upper, lower) * excess / batch ** 2

    def spikes(self):
        """``(steps, batch rows, neurons, slots)`` of every recorded spike."""
        b, j, k = np.nonzero(np.arange(self.node.max_spikes)[None, None, :]
                             < self.count[:, :, None])
        return self.steps[b, j, k], b, j, k


class EventPropLearning:
    """EventProp's per-step recording and end-of-example backward pass on one
    :class:`~.simulation.ReferenceSimulation` (see the module docstring)."""

    def __init__(self, sim, labels: dict):
        self.sim = sim
        g = sim.graph
        self.labels = labels
        B = sim.batch_size
        self.pops = {n.source: _Buffers(sid, n, g.node(n.source), B)
                     for sid, n in g.nodes(EventPropState)}
        #: trained edges: edge id -> (source node id, target node id)
        self.edges = {eid: (s.syn.source, s.syn.target) for eid, s in sim.synapses.items()
                      if s.syn.learning is not None and s.syn.learning.kind == "eventprop"}
        self.step_index = 0
        #: spikes of the last example left out of the backward pass, by population name
        self.dropped: dict[str, int] = {}
        self._vmax = {}
        self.loss = None
        #: spikes of the last example kept for its backward pass, by population name
        self.spike_counts: dict[str, int] = {}

    @property
    def buffer_bytes(self) -> int:
        """Memory of the spike buffers and of the voltages kept for per-timestep losses (the
        backward pass's per-example storage)."""
        return sum(a.nbytes for b in self.pops.values()
                   for a in (b.steps, b.count, b.dropped)
                   + ((b.imv, b.imv_reset) if b.lif else ()) + tuple(b.history))

    # -- forward -------------------------------------------------------------------------------
    def begin_example(self):
        for buf in self.pops.values():
            buf.clear()
        self.step_index = 0
        self._vmax = {}

    def record(self, spikes: dict):
        """Store this step's spikes (and ``I - V`` of LIF neurons) in the buffers."""
        t = self.step_index
        for nid, buf in self.pops.items():
            b, j = np.nonzero(spikes[nid])
            if len(b):
                slot = buf.count[b, j]
                ok = slot < buf.node.max_spikes
                if not ok.all():
                    if buf.node.strict:
                        bad = np.flatnonzero(~ok)[0]
                        raise InputError(
                            f"Population '{buf.name}': neuron {j[bad]} of batch row {b[bad]} "
                            f"spiked more than max_spikes={buf.node.max_spikes} times in one "
                            f"example (step {t}); raise max_spikes in EventPropCompiler, or "
                            f"pass strict_buffer_checking=False to leave extra spikes out of "
                            f"the backward pass")
                    buf.dropped[b[~ok], j[~ok]] += 1
                    b, j, slot = b[ok], j[ok], slot[ok]
                buf.steps[b, j, slot] = t
                if buf.lif:
                    buf.imv[b, j, slot] = self.sim.state[(nid, "IMinusV")][b, j]
                    buf.imv_reset[b, j, slot] = self.sim.state[(nid, "IMinusVReset")][b, j]
                buf.count[b, j] += 1
            if buf.node.per_timestep:
                var = self.sim.graph.node(nid).output_var
                buf.history.append(self.sim.state[(nid, var)].astype(F64))
            if buf.node.readout == "max_var":
                v = self.sim.state[(nid, self.sim.graph.node(nid).output_var)].astype(F64)
                vmax, at = self._vmax.get(nid, (np.full_like(v, -np.inf),
                                                np.zeros(v.shape, np.int64)))
                higher = v > vmax
                self._vmax[nid] = (np.where(higher, v, vmax), np.where(higher, t, at))
        self.step_index += 1

    # -- the loss --------------------------------------------------------------------------------
    def _drive(self, buf) -> Drive:
        """The loss-derived drive of output ``buf`` (see :mod:`.eventprop_losses`); sets
        :attr:`loss`."""
        sim, node = self.sim, buf.node
        var = sim.graph.node(buf.nid).output_var
        labels = self.labels.get(loss_id(buf.nid))
        if labels is None:
            raise InputError(f"Population '{buf.name}': no labels were set for this batch; "
                             f"EventProp training needs labels for every output")
        kw = {}
        if node.readout == "first_spike_time":
            t = sim.state[(buf.nid, "TFirstSpike")].astype(F64)     # inf: no spike
            kw["spiked"] = np.isfinite(t) & (buf.count > 0)
            kw["first"] = np.where(kw["spiked"], t, np.inf)
        elif node.per_timestep:
            kw["history"] = np.stack(buf.history)
        elif node.readout == "max_var":
            vmax, kw["vmax_at"] = self._vmax.get(buf.nid, (
                np.full((sim.batch_size, buf.size), -np.inf),
                np.zeros((sim.batch_size, buf.size), np.int64)))
            kw["readout"] = vmax
        else:
            acc = "Avg" if node.readout == "avg_var_exp_weight" else "Sum"
            kw["readout"] = sim.state[(buf.nid, f"{var}{acc}")].astype(F64)
            if node.readout == "avg_var":
                kw["readout"] = kw["readout"] / self.step_index
        drive, self.loss = output_drive(node, buf.p, labels, batch=sim.batch_size,
                                        steps=self.step_index, dt=float(sim.dt), **kw)
        return drive

    # -- backward --------------------------------------------------------------------------------
    def end_example(self):
        """Run the backward pass of the example and add its gradients."""
        sim = self.sim
        T = self.step_index
        self.dropped = {buf.name: int(buf.dropped.sum()) for buf in self.pops.values()
                        if buf.dropped.any()}
        self.spike_counts = {buf.name: int(buf.count.sum()) for buf in self.pops.values()}
        if self.dropped:
            warnings.warn(f"EventProp: spikes beyond max_spikes were left out of the backward "
                          f"pass: {self.dropped}; raise max_spikes", RuntimeWarning,
                          stacklevel=3)
        if T == 0:
            return
        B = sim.batch_size
        adj = {nid: b for nid, b in self.pops.items() if b.node.kind != "input"}
        lam_v = {nid: np.zeros((B, b.size), F64) for nid, b in adj.items()}
        lam_i = {nid: np.zeros((B, b.size), F64) for nid, b in adj.items()}
        drive = {nid: Drive(np.zeros((B, b.size), F64)) for nid, b in adj.items()}
        reg = {nid: b.regulariser(B) for nid, b in adj.items() if b.node.kind == "hidden"}
        for nid, b in adj.items():
            if b.node.kind == "output":
                drive[nid] = self._drive(b)
                key = (nid, "Drive")
                sim.state[key] = drive[nid].summary().astype(sim.state[key].dtype)
        # every recorded spike, grouped by step; a spike at s is visited at s (its jump) and
        # at its arrivals s + 1 + a (a: each extra delay of its outgoing synapses), whose
        # adjoints its jump and its gradient take
        spikes = {nid: b.spikes() for nid, b in self.pops.items()}
        offsets = {eid: self._arrival_offsets(eid) for eid in self.edges}
        extra = {nid: sorted({int(a) for eid, (src, _) in self.edges.items() if src == nid
                              for a in np.unique(offsets[eid])} | {0})
                 for nid in self.pops}
        events = set()
        for nid, (s, *_) in spikes.items():
            events.update(s.tolist())
            for a in extra[nid]:
                events.update((s[s + 1 + a < T] + 1 + a).tolist())
        for d in drive.values():
            for at, _ in d.impulses:
                events.update(np.unique(at).tolist())
        by_step = {nid: _group(*spk) for nid, spk in spikes.items()}
        weights = {eid: sim.synapses[eid].weights.astype(F64) for eid in self.edges}
        grads = {eid: np.zeros_like(w) for eid, w in weights.items()}
        # learnable delays: dL/dd = -dt w D_post at each arrival
        delay_grads = {eid: np.zeros_like(weights[eid]) for eid in self.edges
                       if sim.synapses[eid].syn.learning.delay_gradient}
        outgoing = {nid: [(eid, t) for eid, (s, t) in self.edges.items() if s == nid]
                    for nid in adj}
        window = 2 + max((int(np.max(o)) for o in offsets.values()), default=0)
        # adjoints at recently visited steps: after[e] = (LambdaV, LambdaI) at step e, kept
        # for ``window`` steps
        after: dict[int, tuple[dict, dict]] = {}

        def adjoint_at(step):
            """``(LambdaV, LambdaI)`` at ``step`` (None, i.e. zero, from T on)."""
            if step >= T:
                return None
            return after[step]

        cur = T
        for e in sorted(events, reverse=True):
            for nid, b in adj.items():
                lam_v[nid], lam_i[nid] = _advance(b.p, lam_v[nid], lam_i[nid], drive[nid],
                                                  e + 1, cur)
            prev_v, prev_i = dict(lam_v), dict(lam_i)
            for nid, b in adj.items():
                p, d = b.p, drive[nid]
                new_v = p["Alpha"] * prev_v[nid] + d.at(e)
                for at, value in d.impulses:
                    new_v = new_v + np.where(at == e, value, 0.0)
                if b.lif and e in by_step[nid]:
                    rows, cols, slots = by_step[nid][e]
                    imv, imvr = b.imv[rows, cols, slots], b.imv_reset[rows, cols, slots]
                    down = np.zeros(len(rows), F64)
                    if d.dldt is not None:   # -dL/dt of first spikes
                        down -= np.where(slots == 0, d.dldt[rows, cols], 0.0)
                    for eid, tgt in outgoing[nid]:
                        down += self._downstream(adj[tgt].p, tgt, weights[eid],
                                                 offsets[eid], rows, cols, e, adjoint_at,
                                                 sim.dt)
                    new_v[rows, cols] = (p["Alpha"] * prev_v[nid][rows, cols] * (imvr / imv)
                                         + p["TauM"] * down / imv)
                    if reg.get(nid) is not None:
                        new_v[rows, cols] += reg[nid][cols]
                lam_v[nid] = new_v
                lam_i[nid] = p["Beta"] * prev_i[nid] + p["K"] * new_v
            after[e] = (dict(lam_v), dict(lam_i))
            for old in [k for k in after if k >= e + window]:
                del after[old]
            for eid, (src, tgt) in self.edges.items():
                if e in by_step[src]:       # spikes at e arrive at e + 1 + offset
                    rows, cols, _ = by_step[src][e]
                    self._add_gradient(grads[eid], offsets[eid], tgt, rows, cols, e,
                                       adjoint_at)
                    if eid in delay_grads:
                        self._add_delay_gradient(delay_grads[eid], weights[eid], adj[tgt].p,
                                                 offsets[eid], tgt, rows, cols, e,
                                                 adjoint_at, sim.dt)
            cur = e
        for nid, b in adj.items():
            v, i = _advance(b.p, lam_v[nid], lam_i[nid], drive[nid], 0, cur)
            for name, value in (("LambdaV", v), ("LambdaI", i)):
                sim.state[(nid, name)] = value.astype(sim.state[(nid, name)].dtype)
        for eid, gr in grads.items():
            key = (eid, "Gradient")
            sim.state[key] = (sim.state[key].astype(F64) + gr).astype(sim.state[key].dtype)
        for eid, gr in delay_grads.items():
            key = (eid, sim.synapses[eid].syn.learning.delay_gradient)
            sim.state[key] = (sim.state[key].astype(F64) + gr).astype(sim.state[key].dtype)

    def _arrival_offsets(self, eid):
        """Extra steps between a spike and its arrival, beyond the one step of every
        connection: an int, or per synapse ``(pre, post)`` ints (heterogeneous delays)."""
        s = self.sim.synapses[eid]
        base = s.syn.delay_steps - 1
        return base if s.delays is None else base + s.delays.astype(np.int64)

    @staticmethod
    def _downstream(q, tgt, w, off, rows, cols, e, at, dt):
        """``sum_m W_jm D_m(e + 1 + a_jm)`` for the spikes ``(rows, cols)`` at step ``e``:
        ``D`` (:func:`arrival_rate`) of the targets where each spike arrives."""
        wk = w[cols]
        total = np.zeros(len(rows), F64)
        offs = np.broadcast_to(off, w.shape)[cols] if np.ndim(off) else None
        for a in (np.unique(offs) if offs is not None else [off]):
            lam = at(e + 1 + int(a))
            if lam is None:
                continue
            d = arrival_rate(q, lam[0][tgt], lam[1][tgt], dt)
            part = wk if offs is None else np.where(offs == a, wk, 0.0)
            total += np.einsum("kn,kn->k", part, d[rows])
        return total

    @staticmethod
    def _add_gradient(grad, off, tgt, rows, cols, e, at):
        """Add ``LambdaI`` of each target at the spike's arrival ``e + 1 + a`` to ``dL/dW``."""
        offs = np.broadcast_to(off, grad.shape)[cols] if np.ndim(off) else None
        for a in (np.unique(offs) if offs is not None else [off]):
            lam = at(e + 1 + int(a))
            if lam is None:
                continue
            li = lam[1][tgt][rows]
            np.add.at(grad, cols, li if offs is None else np.where(offs == a, li, 0.0))

    @staticmethod
    def _add_delay_gradient(grad, w, q, off, tgt, rows, cols, e, at, dt):
        """Add ``-dt W_jm D_m(e + 1 + a_jm)`` (the derivative of the loss by the delay, in
        steps, of each synapse the spikes at ``e`` arrive over) to the delay gradient."""
        offs = np.broadcast_to(off, grad.shape)[cols] if np.ndim(off) else None
        for a in (np.unique(offs) if offs is not None else [off]):
            lam = at(e + 1 + int(a))
            if lam is None:
                continue
            d = arrival_rate(q, lam[0][tgt], lam[1][tgt], dt)[rows]
            part = -dt * w[cols] * d
            np.add.at(grad, cols, part if offs is None else np.where(offs == a, part, 0.0))


def arrival_rate(q, lam_v, lam_i, dt):
    """``D`` of a target at the arrival step ``m`` of a spike: ``-dL/dt`` of the arrival per
    unit weight, the discrete derivative ``(LambdaI(m) - LambdaI(m+1)) / dt`` written with
    ``LambdaI(m+1) = (LambdaI(m) - K LambdaV(m)) / Beta`` as ``(K LambdaV(m) - (1 - Beta)
    LambdaI(m)) / (Beta dt)``. It is 0 where the adjoint is in its steady state under a
    constant loss drive, as the continuous-time ``c LambdaV / TauM - LambdaI / TauSyn`` (its
    limit as ``dt -> 0``), which at finite ``dt`` is not: that difference of two nearly
    equal terms is ``O(dt)`` of ``LambdaV / TauM`` and biased with the drive's sign."""
    kv, ki = arrival_coefficients(q, dt)
    return kv * lam_v - ki * lam_i


def _group(steps, rows, cols, slots):
    """``{step: (rows, cols, slots)}`` of the spikes at each step."""
    order = np.argsort(steps, kind="stable")
    steps, rows, cols, slots = steps[order], rows[order], cols[order], slots[order]
    out = {}
    if not len(steps):
        return out
    cuts = np.flatnonzero(np.diff(steps)) + 1
    for part in np.split(np.arange(len(steps)), cuts):
        out[int(steps[part[0]])] = (rows[part], cols[part], slots[part])
    return out


def _advance(p, lam_v, lam_i, drive, start, stop):
    """``(LambdaV, LambdaI)`` at step ``start`` from their values at ``stop``, through the
    spike-free steps ``stop - 1 .. start`` of ``LambdaV = Alpha LambdaV + g(t)``, ``LambdaI =
    Beta LambdaI + K LambdaV``: in closed form for a constant drive, step by step where the
    drive varies with time (per-timestep losses, ``avg_var_exp_weight``)."""
    n = stop - start
    if n <= 0:
        return lam_v, lam_i
    a, b, k = p["Alpha"], p["Beta"], p["K"]
    if drive.steps is not None:
        for t in range(stop - 1, start - 1, -1):
            lam_v = a * lam_v + drive.at(t)
            lam_i = b * lam_i + k * lam_v
        return lam_v, lam_i
    g = drive.const
    an, bn = a ** n, b ** n
    s1 = n * an if abs(a - b) <= 1e-12 * max(a, b) else a * (an - bn) / (a - b)
    s0 = (1.0 - bn) / (1.0 - b)
    new_v = an * lam_v + g * (1.0 - an) / (1.0 - a)
    new_i = bn * lam_i + k * (lam_v * s1 + g / (1.0 - a) * (s0 - s1))
    return new_v, new_i


__all__ = ["EventPropLearning"]
