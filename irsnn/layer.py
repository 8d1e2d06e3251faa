"""Layers of a :class:`~irsnn.sequential_network.SequentialNetwork`.

Requires: an active :class:`~irsnn.sequential_network.SequentialNetwork`,
:class:`~irsnn.population.Population` and :class:`~irsnn.connection.Connection`. Provides
:class:`InputLayer` and :class:`Layer` (mlGeNN's): a population, connected to the previous layer.
"""

from __future__ import annotations

from weakref import ref

from .connection import Connection
from .errors import ModelError
from .population import Population
from .sequential_network import SequentialNetwork
from .utils.location import user_location


class InputLayer:
    """The input layer of a sequential network.

    Parameters
    ----------
    neuron : Neuron or str
        Input neuron model (e.g. ``SpikeInput`` or ``"poisson_input"``).
    shape : int or tuple
        Shape of the layer.
    record_spikes, record_spike_events : bool
        As :class:`~irsnn.population.Population`.
    name : str, optional
        Name of the underlying population.

    Attributes
    ----------
    population : weakref.ref
        Call it to get the underlying population: ``layer.population()``.
    connection : None
        Input layers have no incoming connection.
    """

    def __init__(self, neuron, shape=None, record_spikes: bool = False,
                 record_spike_events: bool = False, name: str | None = None):
        self.location = user_location()
        network = SequentialNetwork.current_sequential("InputLayer", self.location)
        if shape is None:
            raise ModelError(f"InputLayer (created at {self.location}) needs a shape")
        pop = Population(neuron, shape, record_spikes, record_spike_events,
                         name=name, add_to_model=False)
        self.population = ref(pop)
        self.connection = None
        network._add_layer(self, pop, None)


class Layer:
    """A layer connected to the previous layer of a sequential network.

    Parameters
    ----------
    connectivity : Connectivity
        Connectivity from the previous layer (e.g. ``Dense(Normal(sd=0.1))``).
    neuron : Neuron or str
        Neuron model of this layer.
    shape : int or tuple, optional
        Shape of this layer; inferred from the connectivity when possible.
    synapse : Synapse or str
        Postsynaptic dynamics, ``"delta"`` by default.
    record_spikes, record_spike_events : bool
        As :class:`~irsnn.population.Population`.
    max_delay_steps : int, optional
        As :class:`~irsnn.connection.Connection`.
    name : str, optional
        Name of the underlying population.

    Attributes
    ----------
    population, connection : weakref.ref
        Call them to get the underlying population / connection from the previous layer.
    """

    def __init__(self, connectivity, neuron, shape=None, synapse="delta",
                 record_spikes: bool = False, record_spike_events: bool = False,
                 max_delay_steps: int | None = None, name: str | None = None):
        self.location = user_location()
        network = SequentialNetwork.current_sequential("Layer", self.location)
        pop = Population(neuron, shape, record_spikes, record_spike_events,
                         name=name, add_to_model=False)
        prev = network.get_prev_layer()
        conn = None
        if prev is not None:
            conn = Connection(prev.population(), pop, connectivity, synapse,
                              max_delay_steps=max_delay_steps, add_to_model=False)
        if pop.shape is None:
            raise ModelError(
                f"Layer{'' if name is None else f' {name!r}'} (created at {self.location}): "
                f"the shape cannot be inferred from {type(connectivity).__name__}; "
                f"pass shape=...")
        self.population = ref(pop)
        self.connection = None if conn is None else ref(conn)
        network._add_layer(self, pop, conn)
