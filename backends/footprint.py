"""Memory a model will need, estimated from its IR before anything is allocated.

Requires: a scheduled IR graph (after a compiler's pipeline), the layouts' traits
(:mod:`irsnn.ir.layouts`) and :mod:`irsnn.settings`. Provides :func:`estimate` (the arrays a
simulation allocates, item by item), :func:`peak_bytes`, :func:`host_limit` (the memory this
process may still use), :func:`device_limit` (with a device's memory) and :func:`check_fits`,
which compiled networks call before a backend builds a simulation (and when they compile): a
model that cannot fit raises :class:`~irsnn.errors.MemoryLimitError` with the estimated figure,
the limit and what to do, instead of a raw ``MemoryError`` or the kernel's OOM killer.

The estimate counts the arrays a simulation holds for the whole run, as the backends lay them
out: every neuron variable (per batch element where batched), the spike history (one slot per
step of the largest outgoing delay), every connection's weights in its layout (a dense matrix
on backends that keep dense weights, such as the reference), postsynaptic inputs and dendritic
delay rings, per-synapse learning variables, optimiser state and event-driven e-prop's
per-example sequences; plus the largest temporary of initialisation (every backend initialises
a connection's weights as a dense matrix, and draws FixedProbability connectivity per pair).
Recording buffers, spare room of ragged rows and smaller temporaries are left out, so the figure
is a lower bound (60-100% of the C backend's buffer table on the test models): a model refused
by it cannot fit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from irsnn import settings
from irsnn.errors import MemoryLimitError
from irsnn.ir import BackwardFilter, OptimiserNode, edge_id
from irsnn.ir.ids import ref_owner
from irsnn.ir.layouts import layout_traits

from .host_init import numpy_type

#: bytes of an index or spike entry (int32 in every backend)
_INDEX = 4


@dataclass(frozen=True)
class Item:
    """One part of the estimate: what it is (an object of the model and the array), its bytes,
    whether it grows with the batch size, whether it is a full ``(num_pre, num_post)`` matrix
    of a connection, and whether it lives only while the simulation is initialised."""

    what: str
    bytes: int
    batched: bool
    matrix: bool = False
    transient: bool = False


def _size(type_name, precision) -> int:
    return np.dtype(numpy_type(type_name, precision)).itemsize


def estimate(graph, dense_synapses: bool = False) -> list[Item]:
    """The arrays a simulation of ``graph`` holds (see the module docstring), and the largest
    temporary ones of its initialisation (marked ``transient``).

    Parameters
    ----------
    graph : IRGraph
        After the compiler's pipeline (batch size and precision in ``graph.attrs``).
    dense_synapses : bool
        The backend keeps every connection's weights as a dense ``(num_pre, num_post)``
        matrix whatever its layout (the reference backend).

    Returns
    -------
    list of Item
    """
    batch = int(graph.attrs.get("batch_size", 1))
    precision = graph.attrs.get("precision", "float")
    scalar = _size("scalar", precision)
    items = []

    def add(what, count, itemsize, batched, **kind):
        n = int(count) * int(itemsize) * (batch if batched else 1)
        if n:
            items.append(Item(what, n, batched, **kind))

    for _, pop in graph.populations():
        label = f"Population '{pop.name}' ({pop.size:,} neurons)"
        for v in pop.vars:
            add(f"{label}: variable {v.name}", pop.size, _size(v.type, precision), v.batched)
        if pop.readout is not None:
            for v in pop.readout.vars:
                add(f"{label}: readout {v.name}", pop.size, _size(v.type, precision), True)
        history = int(getattr(pop, "spike_history", 1) or 1)
        add(f"{label}: spikes of the last {history:,} step(s) (delays)",
            history * pop.size, _INDEX, True)
    for *_, syn in graph.synapses():
        _synapse_items(graph, syn, add, scalar, precision, dense_synapses)
    stored = {edge_id(u, v, k): layout_traits(syn.layout).stored_synapses(
        syn, int(graph.array(syn.pre_ind).size) if syn.pre_ind is not None else None)
        for u, v, k, syn in graph.synapses()}
    for _, node in graph.nodes(OptimiserNode):
        owner = ref_owner(node.target)     # a connection (weights, delays) or a population
        size = stored[owner] if owner in stored else graph.node(owner).size
        add(f"optimiser state {'/'.join(node.state)} of {node.target}",
            len(node.state) * size, scalar, False)
    for _, f in graph.nodes(BackwardFilter):
        size = graph.node(f.source).size
        add(f"e-prop sequences of '{graph.node(f.source).name}' ({f.timesteps} steps)",
            len(f.sequences) * f.timesteps * size, scalar, True)
    return items


def _synapse_items(graph, syn, add, scalar, precision, dense_synapses):
    label = f"Connection '{syn.name}' ({syn.num_pre:,} x {syn.num_post:,})"
    traits = layout_traits(syn.layout)
    pairs = syn.num_pre * syn.num_post
    listed = int(graph.array(syn.pre_ind).size) if syn.pre_ind is not None else None
    if dense_synapses:
        stored = syn.num_post if traits.per_neuron else pairs
        add(f"{label}: weights as a dense matrix", stored, scalar, False,
            matrix=not traits.per_neuron)
    else:
        stored = traits.stored_synapses(syn, listed)
        dense = stored == pairs and traits.stores_weights
        add(f"{label}: weights in the {syn.layout} layout", traits.stored_bytes(
            syn, scalar, listed), 1, False, matrix=dense)
    if traits.stores_weights and not traits.per_neuron:
        # every backend draws and initialises weights as a (num_pre, num_post) matrix (and
        # a drawn FixedProbability mask from two 32-bit words and a uniform per pair)
        drawn = syn.p is not None and syn.weight.kind != "array"
        add(f"{label}: initialising its weights (a dense matrix"
            + (" and the drawn connectivity)" if drawn else ")"), pairs,
            scalar + (13 if drawn else 0), False, matrix=True, transient=True)
    if syn.heterogeneous_delay is not None:
        if syn.learning is None or not syn.learning.delay_var:   # (learnt: a learning variable)
            add(f"{label}: per-synapse delays", stored, _INDEX, False)
        add(f"{label}: dendritic delay ring of {syn.max_delay_steps + 1:,} steps",
            (syn.max_delay_steps + 1) * syn.num_post, scalar, True)
    add(f"{label}: postsynaptic input", syn.num_post, scalar, True)
    for v in syn.psm_vars:
        add(f"{label}: {v.name}", syn.num_post, _size(v.type, precision), v.batched)
    if syn.learning is not None:
        for v in syn.learning.vars:
            add(f"{label}: learning variable {v.name} per synapse", stored,
                _size(v.type, precision), v.batched)


def peak_bytes(items) -> int:
    """The most memory the ``items`` of :func:`estimate` need at once: everything kept, plus
    the largest temporary of the initialisation."""
    kept = sum(i.bytes for i in items if not i.transient)
    return kept + max((i.bytes for i in items if i.transient), default=0)


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_available() -> int | None:
    """Room left under this process's cgroup (v2) memory limit, if it has one."""
    try:
        with open("/sys/fs/cgroup/memory.max") as f:
            limit = f.read().strip()
        if limit == "max":
            return None
        with open("/sys/fs/cgroup/memory.current") as f:
            return max(0, int(limit) - int(f.read().strip()))
    except (OSError, ValueError):
        return None


def host_limit() -> tuple[int, str] | None:
    """``(bytes, where the figure comes from)``: the memory this process may still allocate,
    or None when nothing says. ``$IRSNN_MEMORY_LIMIT_MB`` wins; else the smaller of the
    system's available memory (``MemAvailable`` in ``/proc/meminfo``, or ``sysconf``) and the
    room under a cgroup memory limit."""
    limit = settings.memory_limit_mb()
    if limit is not None:
        return int(limit * 2**20), "IRSNN_MEMORY_LIMIT_MB"
    found = []
    mem = _meminfo_available()
    if mem is not None:
        found.append((mem, "available memory (MemAvailable in /proc/meminfo)"))
    else:
        try:
            found.append((os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"),
                          "available memory (sysconf)"))
        except (OSError, ValueError, AttributeError):
            pass
    cgroup = _cgroup_available()
    if cgroup is not None:
        found.append((cgroup, "room under this container's memory limit (cgroup memory.max)"))
    return min(found) if found else None


def device_limit(device_bytes, what, host) -> tuple[int, str] | None:
    """The smaller of a device's memory (``device_bytes``, None when unknown) described by
    ``what`` and the host's limit ``host`` (device backends keep host copies of every
    buffer)."""
    found = [x for x in (host, (device_bytes, what) if device_bytes else None) if x]
    if settings.memory_limit_mb() is not None:
        return host
    return min(found) if found else None


def _gib(n: int) -> str:
    return f"{n / 2**30:,.2f} GiB" if n >= 2**28 else f"{n / 2**20:,.1f} MiB"


def check_fits(graph, backend, limit=None) -> int:
    """Raise :class:`~irsnn.errors.MemoryLimitError` when the state of ``graph`` on
    ``backend`` cannot fit in ``limit`` (default: ``backend.memory_limit()``); return the
    estimated bytes otherwise.

    Parameters
    ----------
    graph : IRGraph
        After the compiler's pipeline.
    backend : Backend
        The chosen backend (its ``dense_synapses`` and ``memory_limit``).
    limit : tuple of (int, str), optional
        ``(bytes, where the figure comes from)``.
    """
    dense = getattr(backend, "dense_synapses", False)
    items = estimate(graph, dense_synapses=dense)
    total = peak_bytes(items)
    if limit is None:
        limit = backend.memory_limit()
    if limit is None or total <= limit[0]:
        return total
    room, source = limit
    batch = int(graph.attrs.get("batch_size", 1))
    # the parts that matter: the three largest, each at least a tenth of the total
    top = [i for i in sorted(items, key=lambda i: -i.bytes)[:3] if i.bytes * 10 >= total]
    parts = "; ".join(f"{i.what}: {_gib(i.bytes)}" for i in top)
    batched = sum(i.bytes for i in items if i.batched)
    advice = []
    if batch > 1 and batched > total / 2:
        advice.append(f"a smaller batch_size (now {batch}; {_gib(batched)} grows with it)")
    if any(i.matrix for i in top):
        advice.append("sparse connectivity (FixedProbability or Sparse with a sparse layout, "
                      "or the procedural layout, which stores nothing)"
                      + (" on a backend storing sparse synapses (c, opencl, cuda)"
                         if dense else ""))
    if any("delay" in i.what for i in top):
        advice.append("shorter delays")
    advice.append("fewer neurons or synapses")
    raise MemoryLimitError(
        f"model '{graph.name}' needs about {_gib(total)} of memory on the "
        f"'{backend.name}' backend (at least; largest parts: {parts}), but only "
        f"{_gib(room)} is available ({source}); it would fail to allocate or be killed. "
        "Use " + ", or ".join(advice) + "; or set IRSNN_MEMORY_LIMIT_MB if the limit is "
        "wrong")


__all__ = ["Item", "check_fits", "device_limit", "estimate", "host_limit", "peak_bytes"]
