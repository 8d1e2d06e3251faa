"""Connections: synapses from one population to another.

Requires: an active :class:`~irsnn.network.Network`, two populations, and the connectivity
and synapse models (resolved by name through :mod:`irsnn.utils.module`). Provides
:class:`Connection` (mlGeNN's), which lowering turns into a ``syn`` (or ``rec``) edge.
"""

from __future__ import annotations

from numbers import Integral
from weakref import ref

import numpy as np

from .errors import ModelError
from .network import Network
from .population import Population
from .utils.location import user_location
from .utils.module import get_object
from .utils.value import is_value_array, is_value_constant, is_value_initializer


def _as_population(obj, role, label):
    # Accept layers (anything with a ``population`` weak reference) as well as populations
    pop = obj
    if not isinstance(pop, Population) and callable(getattr(obj, "population", None)):
        pop = obj.population()
    if not isinstance(pop, Population):
        raise ModelError(
            f"Connection {label}: {role} must be a Population or a layer "
            f"(got {type(obj).__name__})")
    return pop


class Connection:
    """A connection between two populations.

    Parameters
    ----------
    source, target : Population
        Populations to connect (layers are accepted too).
    connectivity : Connectivity
        E.g. ``Dense(weight)``, ``OneToOne(weight)``, ``FixedProbability(p, weight)``.
    synapse : Synapse or str
        Postsynaptic dynamics, ``"delta"`` by default.
    name : str, optional
        Unique name; ``"Conn0"``, ``"Conn1"``, ... by default.
    max_delay_steps : int, optional
        Largest delay (in timesteps) this connection supports. Required when delays are an
        initializer; inferred from constant and array delays otherwise.
    add_to_model : bool
        Register with the active network (``False`` is used by layers).

    Attributes
    ----------
    source, target : weakref.ref
        Weak references to the populations, as in mlGeNN (call them: ``conn.source()``).
    location : str
        ``"file.py:42"`` where the connection was created.
    """

    def __init__(self, source, target, connectivity, synapse="delta",
                 name: str | None = None, max_delay_steps: int | None = None,
                 add_to_model: bool = True):
        from .connectivity import Connectivity, default_connectivity
        from .synapses import Synapse, default_synapses

        self.location = user_location()
        label = f"'{name}' ({self.location})" if name is not None else f"({self.location})"
        network = None
        if add_to_model:
            what = (f"'{name}'" if name is not None else
                    f"from {getattr(source, 'name', source)!r} to "
                    f"{getattr(target, 'name', target)!r}")
            network = Network._require_context("Connection", what, self.location)
        source = _as_population(source, "source", label)
        target = _as_population(target, "target", label)
        if network is not None:
            for role, pop in (("source", source), ("target", target)):
                if not any(p is pop for p in network.populations):
                    raise ModelError(
                        f"Connection {label}: its {role}, Population {pop._label()}, is not "
                        f"a population of the network this connection is created in (it "
                        f"belongs to another network, or to none); a connection joins two "
                        f"populations of one network: create both populations and the "
                        f"connection inside the same `with network:` block")
        if max_delay_steps is not None:
            if (isinstance(max_delay_steps, bool)
                    or not isinstance(max_delay_steps, (Integral, np.integer))
                    or max_delay_steps < 0):
                raise ModelError(
                    f"Connection {label}: max_delay_steps must be a non-negative integer "
                    f"number of timesteps (got {max_delay_steps!r})")
            max_delay_steps = int(max_delay_steps)
        self.max_delay_steps = max_delay_steps
        self.name = name if network is None else network._connection_name(name)
        self._source = ref(source)
        self._target = ref(target)
        self.connectivity = get_object(connectivity, Connectivity, "Connectivity",
                                       default_connectivity)
        if self.connectivity is None:
            raise ModelError(f"Connection {label}: connectivity is required (e.g. Dense(1.0))")
        self.synapse = get_object(synapse, Synapse, "Synapse", default_synapses)
        if self.synapse is None:
            raise ModelError(f"Connection {label}: synapse is required (e.g. 'delta')")

        # Validate shapes (and infer missing ones) before touching the populations
        self.connectivity.connect(source, target, self)
        self._validate_delay()

        source._outgoing_connections.append(ref(self))
        target._incoming_connections.append(ref(self))
        if network is not None:
            network._add_connection(self)

    @property
    def source(self):
        """Weak reference to the source population."""
        return self._source

    @property
    def target(self):
        """Weak reference to the target population."""
        return self._target

    def describe(self) -> str:
        """``"Connection 'name' (file.py:42)"`` for error messages."""
        if self.name:
            return f"Connection '{self.name}' ({self.location})"
        src, tgt = self._source(), self._target()
        return (f"Connection from '{getattr(src, 'name', None)}' to "
                f"'{getattr(tgt, 'name', None)}' ({self.location})")

    def _validate_delay(self):
        delay = self.connectivity.delay
        if is_value_initializer(delay):
            if self.max_delay_steps is None:
                raise ModelError(
                    f"{self.describe()}: delays are given by an initializer ({delay!r}), so "
                    f"the largest delay cannot be inferred; pass max_delay_steps=N")
            return
        if is_value_constant(delay) or is_value_array(delay):
            biggest = float(np.max(delay)) if np.size(delay) else 0.0
            if self.max_delay_steps is not None and biggest > self.max_delay_steps:
                raise ModelError(
                    f"{self.describe()}: delay of {biggest:g} steps exceeds "
                    f"max_delay_steps={self.max_delay_steps}; raise max_delay_steps or "
                    f"reduce the delay")

    def get_max_delay_steps(self) -> int:
        """The largest delay in steps: ``max_delay_steps`` if given, else the largest delay."""
        if self.max_delay_steps is not None:
            return self.max_delay_steps
        delay = self.connectivity.delay
        return int(round(float(np.max(delay)))) if np.size(delay) else 0

    def __str__(self):
        return str(self.name)

    def __repr__(self):
        src, tgt = self._source(), self._target()
        return (f"Connection(name={self.name!r}, source={getattr(src, 'name', None)!r}, "
                f"target={getattr(tgt, 'name', None)!r}, "
                f"connectivity={type(self.connectivity).__name__}, "
                f"synapse={type(self.synapse).__name__}, location={self.location!r})")


def get_underlying_conn(obj) -> Connection:
    """The Connection behind ``obj``: a Connection, or a Layer's incoming connection.

    Also importable as ``irsnn.utils.network.get_underlying_conn`` (mlGeNN's module path).

    Raises
    ------
    ModelError
        ``obj`` is neither a Connection nor a Layer with an incoming connection (an
        ``InputLayer`` has none).
    """
    if isinstance(obj, Connection):
        return obj
    conn = getattr(obj, "connection", None)
    conn = conn() if callable(conn) else None
    if isinstance(conn, Connection):
        return conn
    raise ModelError(f"{obj!r} is not a Connection or a Layer with an incoming connection "
                     f"(an InputLayer has none); pass the connection, or the layer it feeds")
