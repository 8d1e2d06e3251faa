"""The state every backend exports and imports, and the rules that reset it.

Requires: an :class:`~irsnn.ir.IRGraph` (populations, synapse groups and their learning rules)
and NumPy. Provides:

* :class:`SimulationState`, one typed snapshot of a simulation (what
  :meth:`~backends.base.Simulation.export_state` returns and
  :meth:`~backends.base.Simulation.import_state` takes), the same for every backend, so the
  state of one backend can continue on another;
* :func:`spikes_from_lists` / :func:`spikes_to_lists`, between the kernel backends' spike
  lists (``spk``, ``spkcnt``, ``spksign`` per history slot and batch row) and the one shape of
  spikes in flight that :class:`SimulationState` holds;
* :func:`state_variables`, every variable ``get_var`` knows, with its shape;
* :func:`reset_entries` / :func:`trace_entries`, the reset rules both the reference and the
  kernel backends apply: *what* to reset *to what*, as :class:`ResetEntry` items; each backend
  only says how to write them.

Spikes in flight use the slot convention of every backend: the spikes a population emits at
timestep ``ts`` are kept in history slot ``ts % spike_history`` until they are overwritten
``spike_history`` steps later; a synapse group with delay ``d`` reads slot
``(ts - d) % spike_history``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from irsnn.errors import BackendError
from irsnn.ir import edge_id

#: A reset value: the variable's initial values (per neuron or synapse, repeated over the batch)
INITIAL = "initial"
#: Pseudo-variables of :class:`ResetEntry` (``@`` keeps them apart from model variables)
SPIKES = "@spikes"          #: a population's spikes in flight (every history slot)
IN_SYN = "@in_syn"          #: a synapse group's accumulated input, ``(batch, num_post)``
DENDRITIC = "@dendritic"    #: a synapse group's dendritic delay ring buffer


@dataclass
class SimulationState:
    """One simulation's state, in backend-neutral shapes (dense, per batch row).

    Attributes
    ----------
    timestep : int
        The clock (steps since the last reset of time).
    rng_step : int
        The step count random streams are keyed on (never reset).
    variables : dict
        ``(owner id, variable) -> array`` of every variable, in the shape
        :meth:`~backends.base.Simulation.get_var` returns: neuron and postsynaptic-model
        variables ``(batch, neurons)`` or ``(neurons,)``; per-synapse (learning) variables
        ``([batch,] num_pre, num_post)``, zero where no synapse exists; presynaptic traces
        ``(batch, num_pre)``.
    egps : dict
        ``(node id, parameter) -> 1-D array`` of the extra global parameters set.
    weights : dict
        ``edge id -> array`` of weights as :meth:`~backends.base.Simulation.get_weights`
        returns them (dense ``(num_pre, num_post)``, zero where no synapse exists;
        ``(num_post,)`` for the ``one_to_one`` layout).
    in_syn : dict
        ``edge id -> (batch, num_post)`` input accumulated and not yet consumed.
    optimiser : dict
        ``(parameter target, state name) -> array`` of an optimiser that runs in the backend
        (:attr:`~backends.base.Simulation.optimiser_in_kernels`), in the shape of
        ``weights[target]`` for an edge target and of ``variables[target]`` for
        ``pop.<name>/<var>``.
    spikes : dict
        ``node id -> (spike_history, batch, neurons)`` int8 array of spikes in flight: 1 for a
        spike, -1 for a negative (signed) spike, 0 for none, slot ``ts % spike_history`` for
        the spikes of timestep ``ts`` (see the module docstring).
    connectivity : dict
        ``edge id -> (num_pre, num_post)`` boolean mask of the synapses that exist, for the
        groups whose synapses are rewired at run time.
    """

    timestep: int = 0
    rng_step: int = 0
    variables: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    egps: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    in_syn: dict[str, np.ndarray] = field(default_factory=dict)
    optimiser: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    spikes: dict[str, np.ndarray] = field(default_factory=dict)
    connectivity: dict[str, np.ndarray] = field(default_factory=dict)


# -- spikes in flight ------------------------------------------------------------------------
def spikes_from_lists(spk, count, sign=None, *, history: int, batch: int,
                      neurons: int) -> np.ndarray:
    """The kernel backends' spike lists -> spikes in flight of :class:`SimulationState`.

    Parameters
    ----------
    spk : array_like of int
        ``history * batch * neurons`` neuron ids (any shape of that size): in slot ``s`` and
        batch row ``b``, the first ``count[s, b]`` entries of
        ``spk[(s * batch + b) * neurons:]`` are the ids of the neurons that spiked; the rest
        is ignored.
    count : array_like of int
        ``history * batch`` spike counts.
    sign : array_like of int8, optional
        Signs (1 or -1) aligned with ``spk``; None for a population without negative spikes.
    history, batch, neurons : int
        The population's spike history, the batch size and the population's size.

    Returns
    -------
    numpy.ndarray
        ``(history, batch, neurons)`` int8: 1 (or the spike's sign) where a neuron spiked.

    Raises
    ------
    BackendError
        When a count or a neuron id is out of range.
    """
    spk = np.asarray(spk).reshape(history, batch, neurons)
    count = np.asarray(count, np.int64).reshape(history, batch)
    if count.size and (count.min() < 0 or count.max() > neurons):
        raise BackendError(f"spike counts must lie in [0, {neurons}] (got {count.min()} to "
                           f"{count.max()})")
    slot, row, k = np.nonzero(np.arange(neurons)[None, None, :] < count[..., None])
    ids = spk[slot, row, k].astype(np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= neurons):
        raise BackendError(f"spike lists hold neuron ids outside [0, {neurons})")
    out = np.zeros((history, batch, neurons), np.int8)
    if sign is None:
        out[slot, row, ids] = 1
    else:
        out[slot, row, ids] = np.asarray(sign).reshape(history, batch, neurons)[slot, row, k]
    return out


def spikes_to_lists(spikes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Spikes in flight of :class:`SimulationState` -> the kernel backends' spike lists.

    Parameters
    ----------
    spikes : array_like
        ``(history, batch, neurons)`` values in {-1, 0, 1}.

    Returns
    -------
    spk : numpy.ndarray
        ``(history, batch, neurons)`` int32: per slot and row, the ids of the neurons that
        spiked in ascending order (the order the kernels write them), then zeros.
    count : numpy.ndarray
        ``(history, batch)`` int32 spike counts.
    sign : numpy.ndarray
        ``(history, batch, neurons)`` int8 signs aligned with ``spk`` (zeros after the
        count); a population without negative spikes has only 1s there.

    Raises
    ------
    BackendError
        When a value is not -1, 0 or 1.
    """
    spikes = np.asarray(spikes)
    if spikes.ndim != 3:
        raise BackendError(f"spikes in flight must be (history, batch, neurons) "
                           f"(got shape {spikes.shape})")
    if not np.isin(spikes, (-1, 0, 1)).all():
        raise BackendError("spikes in flight must be -1, 0 or 1")
    fired = spikes != 0
    count = fired.sum(axis=2, dtype=np.int32)
    slot, row, ids = np.nonzero(fired)   # row-major: ids ascend within each (slot, row)
    flat = count.reshape(-1).astype(np.int64)
    position = np.arange(len(ids)) - np.repeat(np.cumsum(flat) - flat, flat)
    spk = np.zeros(spikes.shape, np.int32)
    sign = np.zeros(spikes.shape, np.int8)
    spk[slot, row, position] = ids
    sign[slot, row, position] = spikes[slot, row, ids]
    return spk, count, sign


# -- variables and reset rules -----------------------------------------------------------------
class StateVariable(NamedTuple):
    """A variable of a simulation, as ``get_var`` knows it.

    Attributes
    ----------
    owner : str
        Node id (neuron variables) or edge id (the others).
    name : str
        The variable's name.
    kind : str
        ``"neuron"``, ``"psm"`` (postsynaptic model), ``"learning"`` (per synapse) or
        ``"pre_trace"`` (a learning rule's presynaptic trace).
    batched : bool
        One value per batch row (else shared by the batch).
    shape : tuple
        The shape ``get_var`` returns.
    """

    owner: str
    name: str
    kind: str
    batched: bool
    shape: tuple


def state_variables(graph) -> list[StateVariable]:
    """Every variable of ``graph``'s simulation, in the order the backends store them.

    Parameters
    ----------
    graph : IRGraph
        A scheduled graph (``attrs["batch_size"]`` set).

    Returns
    -------
    list of StateVariable
    """
    batch = int(graph.attrs["batch_size"])
    out = []
    for nid, pop in graph.populations():
        for v in pop.vars:
            out.append(StateVariable(nid, v.name, "neuron", v.batched,
                                     ((batch,) if v.batched else ()) + (pop.size,)))
    for u, v, k, syn in graph.synapses():
        eid = edge_id(u, v, k)
        for var in syn.psm_vars:
            out.append(StateVariable(eid, var.name, "psm", True, (batch, syn.num_post)))
        lr = syn.learning
        if lr is None:
            continue
        for var in lr.vars:
            out.append(StateVariable(eid, var.name, "learning", var.batched,
                                     ((batch,) if var.batched else ())
                                     + (syn.num_pre, syn.num_post)))
        if not lr.backward:
            out.append(StateVariable(eid, lr.pre_trace, "pre_trace", True,
                                     (batch, syn.num_pre)))
    return out


class ResetEntry(NamedTuple):
    """One thing a reset writes.

    Attributes
    ----------
    owner : str
        Node id or edge id.
    variable : str
        A variable's name, or :data:`SPIKES`, :data:`IN_SYN` or :data:`DENDRITIC`.
    value : str or int
        :data:`INITIAL` (the variable's initial values) or ``0``.
    """

    owner: str
    variable: str
    value: str | int


def reset_entries(graph, *, vars: bool, in_syn: bool, readouts: bool,
                  initialised: bool) -> list[ResetEntry]:
    """What a :meth:`~backends.base.Simulation.reset` with these options writes.

    Parameters
    ----------
    graph : IRGraph
        The simulated graph.
    vars : bool
        Reset the state: every neuron variable but parameters, spikes in flight,
        postsynaptic-model variables, learning variables and presynaptic traces.
    in_syn : bool
        Zero every synapse group's accumulated input and dendritic delay buffer.
    readouts : bool
        Reset the variables with role ``"readout"`` (even without ``vars``).
    initialised : bool
        Whether the simulation was reset before. Parameters (role ``"param"``: per-neuron
        values, trained biases, learned delays) are not state and are never reset once
        initialised; before that, everything is (the first reset initialises the simulation).

    Returns
    -------
    list of ResetEntry
        Populations then synapse groups, in graph order.
    """
    everything = vars or not initialised
    out = []
    for nid, pop in graph.populations():
        for v in pop.vars:
            if v.role == "param" and initialised:
                continue
            if everything or (readouts and v.role == "readout"):
                out.append(ResetEntry(nid, v.name, INITIAL))
        if everything:
            out.append(ResetEntry(nid, SPIKES, 0))
    for u, v, k, syn in graph.synapses():
        eid = edge_id(u, v, k)
        if everything:
            out += [ResetEntry(eid, var.name, INITIAL) for var in syn.psm_vars]
            lr = syn.learning
            if lr is not None:
                out += [ResetEntry(eid, var.name, INITIAL) for var in lr.vars
                        if not (var.role == "param" and initialised)]
                if not lr.backward:
                    out.append(ResetEntry(eid, lr.pre_trace, INITIAL))
        if in_syn or not initialised:
            out.append(ResetEntry(eid, IN_SYN, 0))
            if syn.heterogeneous_delay is not None:
                out.append(ResetEntry(eid, DENDRITIC, 0))
    return out


def trace_entries(graph) -> list[ResetEntry]:
    """What :meth:`~backends.base.Simulation.reset_traces` writes: the eligibility traces and
    presynaptic traces of online (forward) learning rules, not their gradients.

    Parameters
    ----------
    graph : IRGraph
        The simulated graph.

    Returns
    -------
    list of ResetEntry
        In graph order; every value is :data:`INITIAL`.
    """
    out = []
    for u, v, k, syn in graph.synapses():
        lr = syn.learning
        if lr is None or lr.backward:
            continue
        eid = edge_id(u, v, k)
        out += [ResetEntry(eid, var.name, INITIAL) for var in lr.vars if var.name != lr.gradient]
        out.append(ResetEntry(eid, lr.pre_trace, INITIAL))
    return out


__all__ = ["DENDRITIC", "INITIAL", "IN_SYN", "SPIKES", "ResetEntry", "SimulationState",
           "StateVariable", "reset_entries", "spikes_from_lists", "spikes_to_lists",
           "state_variables", "trace_entries"]
