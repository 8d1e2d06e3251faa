"""Weights, trainable parameters and connectivity of a kernel simulation, in any layout.

Requires: the layout strategies (:mod:`backends.kernels.layouts`) and the host memory of a
:class:`~.simulation.KernelSimulation`. Provides :class:`WeightsMixin`: dense views of stored
weights and per-synapse variables, parameters in the storage layout (optimisers work there),
and Deep-R's changes of connectivity, all by asking each group's layout strategy.
"""

from __future__ import annotations

import numpy as np

from irsnn.errors import BackendError, InputError
from irsnn.ir.ids import is_var_ref

from ..host_init import synapse_arrays


class WeightsMixin:
    """The weight and connectivity methods of :class:`~.simulation.KernelSimulation`."""

    # -- lookups --------------------------------------------------------------------------------
    def _edge(self, edge) -> str:
        """The edge id of a connection named by id or by name."""
        eid = self.by_name.get(edge, edge)
        if eid not in self.synapses:
            raise InputError(f"no connection '{edge}' (connections: {sorted(self.by_name)})")
        return eid

    def _layout(self, eid):
        """``(strategy, synapse group, host structure)`` of edge ``eid``."""
        syn = self.synapses[eid]
        return self.layouts[eid], syn, self.connectivity.get(eid)

    def _weights(self, eid):
        """The weight buffer of edge ``eid``."""
        return self.program.buffers[eid, "g"]

    def _current_mask(self, eid):
        """The synapses of ``eid`` that exist now where its layout stores only those (None
        otherwise)."""
        strategy, syn, conn = self._layout(eid)
        if not strategy.absent_as_zero:
            return None
        mask = strategy.mask(syn, conn)
        return mask if mask is not None else super().synapse_mask(eid)

    # -- weights ----------------------------------------------------------------------------------
    def get_weights(self, edge):
        """Dense ``(num_pre, num_post)`` weights (zero where no synapse exists) whatever the
        layout; a procedural group's are regenerated on the host from the same draws."""
        eid = self._edge(edge)
        strategy, syn, conn = self._layout(eid)
        if not strategy.stores_weights:
            return synapse_arrays(self.graph, eid, syn, self.seed, self.scalar)[0]
        return strategy.dense_weights(syn, conn, self.memory(self._weights(eid)),
                                      self._current_mask(eid))

    def set_weights(self, edge, values):
        eid = self._edge(edge)
        strategy, syn, conn = self._layout(eid)
        values = self.check_var_values(f"Connection '{syn.name}'", "weight", values,
                                       strategy.dense_shape(syn), finite=True)
        mask = self._current_mask(eid)
        values = strategy.check_weights(syn, values, mask)   # refuses what cannot be stored
        stored = strategy.stored_weights(syn, conn, values, mask)
        if stored is not None:
            self.memory(self._weights(eid), write=True)[:] = stored.reshape(-1)

    # -- trainable parameters in storage layout (no dense conversions) ----------------------------
    def _stored(self, target) -> bool:
        """Whether ``target`` is a connection stored other than as the matrix users see."""
        return target in self.layouts and not self.layouts[target].matrix_storage

    def parameter(self, target):
        if not self._stored(target):
            return super().parameter(target)
        return self.memory(self._weights(target)).copy()

    def set_parameter(self, target, values):
        if not self._stored(target):
            return super().set_parameter(target, values)
        self.memory(self._weights(target), write=True)[:] = values

    def gradient_sum(self, target, var, rows):
        if is_var_ref(target):
            return super().gradient_sum(target, var, rows)
        buf = self.program.buffers[target, var]
        if len(buf.shape) == 1:  # one gradient for the whole batch (event-driven learning)
            total = self.memory(buf).astype(np.float64)
        else:
            total = self.memory(buf).reshape(self.batch_size, -1)[:rows].sum(axis=0,
                                                                          dtype=np.float64)
        strategy, syn, conn = self._layout(target)
        if not strategy.matrix_storage:
            return total  # in storage layout: unused slots never accumulate anything
        mask = self._existing(target)
        total = strategy.to_dense(syn, conn, total)
        return total if mask is None else np.where(mask, total, 0.0)

    def zero_var(self, owner, var):
        self.memory(self._var_buffer(owner, var), write=True)[:] = 0

    # -- per-synapse variables --------------------------------------------------------------------
    def _dense_var(self, node_id, name) -> bool:
        """A per-synapse variable, seen dense through its layout."""
        return (node_id, name) in self._synapse_vars

    def get_var(self, node_id, name):
        buf = self._var_buffer(node_id, name)
        if self._dense_var(node_id, name):
            strategy, syn, conn = self._layout(node_id)
            return strategy.to_dense(syn, conn, self.memory(buf).reshape(buf.shape)).copy()
        return self.memory(buf).reshape(self._var_shape(buf)).copy()

    def set_var(self, node_id, name, values):
        buf = self._var_buffer(node_id, name)
        if self._dense_var(node_id, name):
            strategy, syn, conn = self._layout(node_id)
            shape = buf.shape[:-1] + strategy.dense_shape(syn)
            values = self.check_var_values(node_id, name, values, shape)
            self.memory(buf, write=True)[:] = strategy.from_dense(syn, conn, values).reshape(-1)
            return
        shape = self._var_shape(buf)
        values = self.check_var_values(node_id, name, values, shape)
        self.memory(buf, write=True).reshape(shape)[...] = values

    # -- connectivity (Deep-R changes it) ------------------------------------------------------
    def synapse_mask(self, target):
        if target not in self.layouts or not self.layouts[target].rewires:
            return super().synapse_mask(target)
        return self._current_mask(target)

    def row_capacity(self, target):
        if target not in self.layouts or not self.layouts[target].rewires:
            return super().row_capacity(target)
        return self.connectivity[target].capacity

    def to_parameter_layout(self, target, dense):
        if not self._stored(target):
            return super().to_parameter_layout(target, dense)
        strategy, syn, conn = self._layout(target)
        return strategy.from_dense(syn, conn, np.asarray(dense)).reshape(-1)

    def from_parameter_layout(self, target, values):
        if not self._stored(target):
            return super().from_parameter_layout(target, values)
        strategy, syn, conn = self._layout(target)
        return strategy.to_dense(syn, conn, np.asarray(values)).copy()

    def _per_synapse_buffers(self, eid):
        syn = self.synapses[eid]
        bufs = [self._weights(eid)]
        if syn.learning is not None:
            bufs += [self.program.buffers[eid, v.name] for v in syn.learning.vars]
        return bufs

    def _require_rewiring(self, target, what):
        """Connectivity changes need a layout with room in its rows: a clear error otherwise."""
        strategy, syn, _ = self._layout(target)
        if not strategy.rewires:
            raise BackendError(f"Connection '{syn.name}' is stored {syn.layout}; only ragged "
                               f"(layout='sparse') connections can {what} their synapses")

    def rewire(self, target, remove, add, carry=()):
        """Rewire a ragged group in place: only the rows that change are rebuilt (kept
        synapses move with all their per-synapse state; rows stay sorted by target)."""
        self._require_rewiring(target, "rewire")
        _, remove, add = self._check_rewire(target, self.synapse_mask(target), remove, add)
        strategy, syn, rows = self._layout(target)
        shape = (-1, syn.num_pre, rows.capacity)
        views = [self.memory(b, write=True).reshape(shape)
                 for b in self._per_synapse_buffers(target)]
        shapes = [np.shape(c) for c in carry]
        carried = [np.array(c, copy=True).reshape(shape) for c in carry]
        rows.rewire(remove, add, views + carried)
        strategy.store_rows(self.memory.writer(), self.program.buffers, target, rows)
        return [c.reshape(s) for c, s in zip(carried, shapes)]

    def set_connectivity(self, target, mask):
        self._require_rewiring(target, "change")
        strategy, syn, rows = self._layout(target)
        rows.reset(np.asarray(mask, bool).reshape(syn.num_pre, syn.num_post))
        strategy.store_rows(self.memory.writer(), self.program.buffers, target, rows)
        for b in self._per_synapse_buffers(target):
            self.memory(b, write=True)[:] = 0


__all__ = ["WeightsMixin"]
