"""Resets and state export/import of a kernel simulation, by the rules every backend shares.

Requires: :mod:`backends.state` (the reset rules and :class:`~backends.state.SimulationState`)
and the host memory and layouts of a :class:`~.simulation.KernelSimulation`. Provides
:class:`StateMixin`: the reset rules turned into whole-buffer writes (worked out once per set
of options), and the conversions between the kernel buffers (spike lists, stored layouts) and
the backend-neutral state, so a simulation continues on any backend.
"""

from __future__ import annotations

import numpy as np

from ..state import (DENDRITIC, IN_SYN, INITIAL, SPIKES, SimulationState, reset_entries,
                     spikes_from_lists, spikes_to_lists, trace_entries)

#: reset pseudo-variables -> the kernel buffer that realises them (zeroed)
_RESET_BUFFERS = {SPIKES: "spkcnt", IN_SYN: "insyn", DENDRITIC: "den"}


class StateMixin:
    """The reset and state methods of :class:`~.simulation.KernelSimulation`."""

    _initialised = False

    # -- resets ---------------------------------------------------------------------------------
    def reset(self, *, vars=True, time=True, in_syn=False, readouts=True):
        key = ("reset", bool(vars), bool(in_syn), bool(readouts), self._initialised)
        self.memory.overwrite(key, lambda: self._writes(reset_entries(
            self.graph, vars=key[1], in_syn=key[2], readouts=key[3], initialised=key[4])))
        if vars:
            self.begin_example()
        if time:
            self.timestep = 0
        self._initialised = True

    def reset_traces(self):
        self.memory.overwrite(("reset_traces",), lambda: self._writes(trace_entries(self.graph)))

    def _writes(self, entries) -> list:
        """``[(buffer, value)]`` of :class:`~backends.state.ResetEntry` items: a variable's
        initial values, or 0 (spikes in flight are cleared through their counts)."""
        table, out = self.program.buffers, []
        for owner, variable, value in entries:
            buf = table[owner, _RESET_BUFFERS.get(variable, variable)]
            out.append((buf, self.initial[buf] if value == INITIAL else value))
        return out

    # -- export and import ------------------------------------------------------------------------
    def export_state(self) -> SimulationState:
        table, batch = self.program.buffers, self.batch_size
        spikes = {}
        for nid, pop in self.graph.populations():
            sign = table.get(nid, "spksign")
            spikes[nid] = spikes_from_lists(
                self.memory(table[nid, "spk"]), self.memory(table[nid, "spkcnt"]),
                None if sign is None else self.memory(sign), history=pop.spike_history,
                batch=batch, neurons=pop.size)
        return SimulationState(
            timestep=self.timestep, rng_step=self.rng_step,
            variables={k: self.get_var(*k) for k in self.variables},
            egps=dict(self.egps),
            weights={e: self.get_weights(e) for e in self.synapses
                     if self.layouts[e].stores_weights},
            in_syn={e: self.memory(table[e, "insyn"]).reshape(batch, -1).copy()
                    for e in self.synapses},
            optimiser={k: self._optimiser_view(k[0], self.memory(b))
                       for k, b in self._optimiser_buffers.items()},
            spikes=spikes,
            connectivity={e: self.synapse_mask(e) for e, syn in self.synapses.items()
                          if syn.rewiring is not None})

    def import_state(self, state: SimulationState) -> None:
        table = self.program.buffers
        for e, mask in state.connectivity.items():
            if e in self.layouts and self.layouts[e].rewires:
                self.set_connectivity(e, mask)
        for k, v in state.variables.items():
            if k in self.variables and self._state_shape(k) == v.shape:
                self.set_var(*k, v)
        self.egps.update(state.egps)
        self._bindings_changed()
        self.timestep, self.rng_step = state.timestep, state.rng_step
        for e, w in state.weights.items():
            if e in self.synapses and self.layouts[e].stores_weights:
                self.set_weights(e, w)
        for e, in_syn in state.in_syn.items():
            buf = table.get(e, "insyn")
            if buf is not None and buf.size == in_syn.size:
                self.memory(buf, write=True)[:] = in_syn.reshape(-1)
        # spikes in flight (emitted, not yet delivered) and the optimiser's moments survive a
        # rebuild (e.g. when a callback adds a recorder)
        for nid, spikes in state.spikes.items():
            spk = table.get(nid, "spk")
            if spk is None or spk.shape != spikes.shape:
                continue
            ids, count, sign = spikes_to_lists(spikes)
            self.memory(spk, write=True)[:] = ids.reshape(-1)
            self.memory(table[nid, "spkcnt"], write=True)[:] = count.reshape(-1)
            if (nid, "spksign") in table:
                self.memory(table[nid, "spksign"], write=True)[:] = sign.reshape(-1)
        for k, values in state.optimiser.items():
            buf = self._optimiser_buffers.get(k)
            if buf is not None:
                stored = self._optimiser_stored(k[0], values)
                if stored is not None and stored.size == buf.size:
                    self.memory(buf, write=True)[:] = stored.reshape(-1)

    def _state_shape(self, key):
        """The shape :meth:`get_var` gives variable ``key = (owner, name)``."""
        buf = self.program.buffers[key]
        if key in self._synapse_vars:
            return buf.shape[:-1] + self.layouts[key[0]].dense_shape(self.synapses[key[0]])
        return buf.shape

    def _optimiser_view(self, target, stored: np.ndarray) -> np.ndarray:
        """An optimiser state of ``target`` in the shape of its parameter as users see it."""
        if target not in self.synapses:
            return stored.copy()
        strategy, syn, conn = self._layout(target)
        return strategy.to_dense(syn, conn, stored).copy()

    def _optimiser_stored(self, target, values) -> np.ndarray | None:
        """Inverse of :meth:`_optimiser_view` (None when ``values`` has another shape)."""
        values = np.asarray(values)
        if target not in self.synapses:
            return values
        strategy, syn, conn = self._layout(target)
        if values.shape != strategy.dense_shape(syn):
            return None
        return strategy.from_dense(syn, conn, values)


__all__ = ["StateMixin"]
