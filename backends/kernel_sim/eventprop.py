"""EventProp on the kernel backends: the host's side of the spike buffers.

Requires: a :class:`~.simulation.KernelSimulation` whose program has EventProp buffers
(:mod:`backends.kernels.eventprop`). Provides :class:`EventPropBuffers`, which the simulation
asks, at the end of every example and before its backward pass, whether a neuron spiked more
than ``max_spikes`` times: with ``strict_buffer_checking`` that is an
:class:`~irsnn.errors.InputError` naming the population (as the reference backend raises), else
the extra spikes, left out of the backward pass, are counted in :attr:`dropped` with a warning.
The same attributes as the reference backend's ``EventPropLearning``: :attr:`dropped`,
:attr:`spike_counts`, :attr:`buffer_bytes`.
"""

from __future__ import annotations

import warnings

import numpy as np

from irsnn.errors import InputError


class EventPropBuffers:
    """The host's view of a kernel program's EventProp spike buffers (see the module
    docstring)."""

    def __init__(self, sim, pops: dict):
        self.sim = sim
        #: population id -> the builder's description (name, size, max_spikes, node, buffers)
        self.pops = dict(pops)
        #: spikes of the last example left out of the backward pass, by population name
        self.dropped: dict[str, int] = {}
        #: spikes of the last example kept for its backward pass, by population name
        self.spike_counts: dict[str, int] = {}

    @property
    def buffer_bytes(self) -> int:
        """Memory of the spike buffers and backward-pass scratch (per batch, fixed: it does
        not grow with the number of timesteps)."""
        mem, owners = self.sim.memory, {p.sid for p in self.pops.values()}
        return sum(mem.array(b).nbytes for b in self.sim.program.buffers if b.owner in owners)

    def check(self):
        """Before the backward pass: raise or count spikes beyond ``max_spikes``."""
        mem, table = self.sim.memory, self.sim.program.buffers
        self.dropped, self.spike_counts = {}, {}
        for p in self.pops.values():
            dropped = np.asarray(mem(table[p.sid, "dropped"])).reshape(-1, p.n)
            self.spike_counts[p.pop.name] = int(mem(table[p.sid, "count"]).sum())
            if not dropped.any():
                continue
            if p.node.strict:
                b, j = np.argwhere(dropped > 0)[0]
                raise InputError(
                    f"Population '{p.pop.name}': neuron {j} of batch row {b} spiked more than "
                    f"max_spikes={p.m} times in one example ({int(dropped[b, j])} spikes "
                    f"beyond it); raise max_spikes in EventPropCompiler, or pass "
                    f"strict_buffer_checking=False to leave extra spikes out of the backward "
                    f"pass")
            self.dropped[p.pop.name] = int(dropped.sum())
        if self.dropped:
            warnings.warn(f"EventProp: spikes beyond max_spikes were left out of the backward "
                          f"pass: {self.dropped}; raise max_spikes", RuntimeWarning,
                          stacklevel=4)


__all__ = ["EventPropBuffers"]
