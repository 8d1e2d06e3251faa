"""Populations: groups of identical neurons.

Requires: an active :class:`~irsnn.network.Network` and a neuron model (resolved by name
through :mod:`irsnn.utils.module`). Provides :class:`Population` (mlGeNN's), the
:data:`Shape` alias and :func:`get_underlying_pop`.
"""

from __future__ import annotations

from numbers import Integral
from typing import Union
from collections.abc import Sequence

import numpy as np

from .errors import InputError, ModelError
from .network import Network
from .utils.location import user_location
from .utils.module import get_object

Shape = Union[None, int, Sequence[int]]


def _normalise_shape(shape, description):
    if shape is None:
        return None
    if isinstance(shape, (Integral, np.integer)) and not isinstance(shape, bool):
        shape = (int(shape),)
    elif isinstance(shape, (Sequence, np.ndarray)) and not isinstance(shape, str):
        if not all(isinstance(s, (Integral, np.integer)) and not isinstance(s, bool)
                   for s in shape):
            raise ModelError(f"{description}: shape must contain integers (got {shape!r})")
        shape = tuple(int(s) for s in shape)
    else:
        raise ModelError(
            f"{description}: shape must be an int or a tuple of ints (got {shape!r})")
    if len(shape) == 0 or any(s <= 0 for s in shape):
        raise ModelError(
            f"{description}: every dimension of the shape must be > 0 (got {shape})")
    return shape


class Population:
    """A group of neurons sharing one neuron model.

    Parameters
    ----------
    neuron : Neuron, type or str
        Neuron model, e.g. ``LeakyIntegrateFire(tau_mem=10.0)`` or
        ``"leaky_integrate_fire"``.
    shape : int or tuple of int, optional
        Shape of the population; may be left ``None`` when a connection can infer it.
    record_spikes : bool
        Whether spikes can be recorded (needed by ``SpikeRecorder``).
    record_spike_events : bool
        Whether spike-like events can be recorded.
    name : str, optional
        Unique name; ``"Pop0"``, ``"Pop1"``, ... by default.
    add_to_model : bool
        Register with the active network (``False`` is used by layers).

    Attributes
    ----------
    location : str
        ``"file.py:42"`` where the population was created.
    """

    def __init__(self, neuron, shape: Shape = None, record_spikes: bool = False,
                 record_spike_events: bool = False, name: str | None = None,
                 add_to_model: bool = True, readout=None):
        from .neurons import Neuron, default_neurons

        self.location = user_location()
        label = f"'{name}'" if name is not None else f"with neuron {neuron!r}"
        network = None
        if add_to_model:
            network = Network._require_context("Population", label, self.location)
        self.neuron = get_object(neuron, Neuron, "Neuron", default_neurons)
        if self.neuron is None:
            raise ModelError(f"Population {label} (created at {self.location}) needs a neuron")
        if readout is not None:
            # The mlGeNN paper's spelling: Population(neuron, shape, readout="spike_count")
            self.neuron.readout = readout
        self._shape = None
        self.shape = shape
        self.record_spikes = bool(record_spikes)
        self.record_spike_events = bool(record_spike_events)
        self._incoming_connections = []
        self._outgoing_connections = []
        self.name = name if network is None else network._population_name(name)
        if network is not None:
            network._add_population(self)

    @property
    def shape(self):
        """Shape of the population as a tuple (``None`` until known)."""
        return self._shape

    @shape.setter
    def shape(self, shape):
        self._shape = _normalise_shape(shape, f"Population {self._label()}")

    @property
    def num_neurons(self) -> int:
        """Number of neurons (product of the shape)."""
        if self._shape is None:
            raise ModelError(
                f"Population {self._label()} has no shape yet; give shape=... when creating "
                f"it or connect it with connectivity that determines it")
        return int(np.prod(self._shape))

    @property
    def incoming_connections(self) -> list:
        """Weak references to connections targeting this population (mlGeNN style)."""
        return list(self._incoming_connections)

    @property
    def outgoing_connections(self) -> list:
        """Weak references to connections leaving this population (mlGeNN style)."""
        return list(self._outgoing_connections)

    def _label(self):
        name = getattr(self, "name", None)
        return f"'{name}' ({self.location})" if name else f"({self.location})"

    def __str__(self):
        return str(self.name)

    def __repr__(self):
        return (f"Population(name={self.name!r}, neuron={type(self.neuron).__name__}, "
                f"shape={self._shape}, location={self.location!r})")


def get_underlying_pop(obj):
    """The Population behind ``obj`` (a Population, or a Layer/InputLayer via ``population()``).

    Also importable as ``irsnn.utils.network.get_underlying_pop`` (mlGeNN's module path).

    Parameters
    ----------
    obj : Population or Layer
        What the caller keyed inputs, labels, outputs or a recorder by.

    Returns
    -------
    Population
        The population itself.

    Raises
    ------
    InputError
        ``obj`` is neither a Population nor a Layer.
    """
    pop = obj
    if not isinstance(pop, Population) and callable(getattr(obj, "population", None)):
        pop = obj.population()
    if not isinstance(pop, Population):
        raise InputError(f"{obj!r} is not a Population or Layer; key inputs, labels, outputs "
                         f"and recorders by the network's populations or layers")
    return pop


def get_network_dag(inputs, outputs) -> list:
    """Populations reachable from ``inputs``, in topological order (Kahn's algorithm).

    A population is listed once all its incoming connections, other than its connections to
    itself, come from listed populations. Unlike mlGeNN's, which never lists a population with
    a self-connection (so its recurrent layers' outputs are "unreachable"), self-connections
    are ignored; a cycle through several populations still keeps them out. Also importable
    as ``irsnn.utils.network.get_network_dag`` (mlGeNN's module path).

    Parameters
    ----------
    inputs, outputs : Population, Layer or a sequence of them

    Raises
    ------
    ModelError
        An output cannot be reached from the inputs.
    """
    from .errors import ModelError

    def as_list(objs):
        return list(objs) if isinstance(objs, list | tuple) else [objs]

    order = []
    ready = [get_underlying_pop(i) for i in as_list(inputs)]
    seen = set()
    while ready:
        pop = ready.pop(0)
        if any(p is pop for p in order):
            continue
        order.append(pop)
        for conn_ref in pop.outgoing_connections:
            seen.add(conn_ref)
            target = conn_ref().target()
            if target is pop:
                continue
            if {c for c in target.incoming_connections if c().source() is not target} <= seen:
                ready.append(target)
    missing = [get_underlying_pop(o).name for o in as_list(outputs)
               if not any(p is get_underlying_pop(o) for p in order)]
    if missing:
        raise ModelError(f"get_network_dag: outputs {missing} cannot be reached from the "
                         f"inputs {[p.name for p in order[:len(as_list(inputs))]]}; connect "
                         f"them (without recurrent-only paths) or pass other inputs")
    return order
