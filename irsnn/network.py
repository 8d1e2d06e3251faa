"""Unstructured networks: the context in which populations and connections are created.

Requires: :mod:`irsnn.errors`; connectivity, serialisers and value helpers are imported by
``load``. Provides :class:`Network` (mlGeNN's): the ``with`` context, default parameters,
unique names, the lists of populations and connections, and ``load`` from a checkpoint.
"""

from __future__ import annotations


from .errors import ContextError, ModelError


class Network:
    """An unstructured network of populations and connections.

    Use it as a context manager; every :class:`~irsnn.population.Population` and
    :class:`~irsnn.connection.Connection` created inside ``with network:`` belongs to it.
    Networks may be nested; objects go to the innermost one.

    Parameters
    ----------
    default_params : dict, optional
        ``{class: {argument: value}}`` defaults for neuron and synapse constructors used
        inside this network (see :func:`irsnn.utils.decorators.network_default_params`).

    Attributes
    ----------
    populations : list
        Every population, in creation order.
    connections : list
        Every connection, in creation order.
    """

    _stack: list = []

    def __init__(self, default_params: dict | None = None):
        self.default_params = dict(default_params or {})
        self.populations = []
        self.connections = []

    # -- context -----------------------------------------------------------------------
    @staticmethod
    def current():
        """The innermost active network, or ``None``."""
        return Network._stack[-1] if Network._stack else None

    @staticmethod
    def get_default_params(cls) -> dict:
        """Default constructor arguments for ``cls`` in the innermost active network."""
        net = Network.current()
        return {} if net is None else dict(net.default_params.get(cls, {}))

    def __enter__(self):
        Network._stack.append(self)
        return self

    def __exit__(self, exc_type, exc_value, tb):
        if Network._stack and Network._stack[-1] is self:
            Network._stack.pop()
        elif self in Network._stack:
            Network._stack.remove(self)
        return False

    # -- registration ----------------------------------------------------------------------
    @staticmethod
    def _require_context(kind: str, description: str, location: str):
        net = Network.current()
        if net is None:
            raise ContextError(
                f"{kind} {description} (created at {location}) was created outside a "
                f"`with network:` block; create it inside one, e.g. "
                f"`network = Network()` then `with network: ...`")
        return net

    def _unique_name(self, name, prefix, existing, kind):
        names = {o.name for o in existing}
        if name is not None:
            if not isinstance(name, str) or not name:
                raise ModelError(f"{kind} name must be a non-empty string (got {name!r})")
            if name in names:
                raise ModelError(
                    f"{kind} name '{name}' is already used in this network; names must be "
                    f"unique (used: {sorted(names)})")
            return name
        i = len(existing)
        while f"{prefix}{i}" in names:
            i += 1
        return f"{prefix}{i}"

    def _add_population(self, pop):
        if pop.name is None or any(p.name == pop.name for p in self.populations):
            pop.name = self._population_name(pop.name)
        self.populations.append(pop)

    def _add_connection(self, conn):
        if conn.name is None or any(c.name == conn.name for c in self.connections):
            conn.name = self._connection_name(conn.name)
        self.connections.append(conn)

    def _population_name(self, name):
        return self._unique_name(name, "Pop", self.populations, "Population")

    def _connection_name(self, name):
        return self._unique_name(name, "Conn", self.connections, "Connection")

    # -- checkpoints -----------------------------------------------------------------------
    def load(self, keys: tuple = (), serialiser="numpy") -> dict:
        """Load connection weights/delays and population values saved by a checkpoint.

        Reads mlGeNN's layout (see :mod:`irsnn.serialisers.layout`): each connection needs
        its weights ``keys + (connection.name, "g")`` (irsnn's earlier name ``"weight"`` is
        read too) and takes its delays ``"d"`` if saved (learnt delays, real numbers of
        steps, as the whole steps training delivered after: rounded, halves up); sparse
        connectivity
        (``FixedProbability``, ``Sparse``) also reads ``"pre_ind"``/``"post_ind"`` (written by
        ``save`` and ``save_connectivity``), which then define exactly which synapses exist,
        with the saved weights in the same order. Each population reads every saved array
        under ``keys + (population.name,)`` whose name matches a value of its neuron
        (attribute name such as ``"bias"`` or model name such as ``"Bias"``). Other saved
        arrays are ignored (the index lists of ``Dense`` and ``OneToOne`` connections, whose
        synapses are fixed, among them).

        Nothing is kept silently: a missing folder or checkpoint (e.g. an epoch never saved),
        a connection without saved weights, or an array that cannot be read or does not fit
        is an error naming it, before anything is changed.

        Parameters
        ----------
        keys : tuple
            Prefix of the checkpoint keys, typically ``(epoch,)``.
        serialiser : str or Serialiser
            ``"numpy"`` or a :class:`~irsnn.serialisers.Serialiser`.

        Returns
        -------
        dict
            ``{object name: sorted list of loaded names}``.

        Raises
        ------
        CheckpointNotFoundError
            The folder, the checkpoint or a connection's weights are missing.
        InputError, ShapeError
            A saved array cannot be read, or has the wrong size.
        """
        import copy

        from .serialisers import Serialiser, default_serialisers
        from .serialisers.layout import load_connection
        from .utils.module import get_object
        from .utils.value import set_values

        serialiser = get_object(serialiser, Serialiser, "Serialiser", default_serialisers)
        keys = tuple(keys) if isinstance(keys, list | tuple) else (keys,)
        serialiser.check_keys(keys)
        conns = {c.name: serialiser.deserialise_all(keys + (c.name,)) for c in self.connections}
        pops = {p.name: serialiser.deserialise_all(keys + (p.name,)) for p in self.populations}
        # everything is checked on copies first: a failing load leaves the network as it was
        for c in self.connections:
            trial = copy.copy(c)
            trial.connectivity = copy.deepcopy(c.connectivity)
            load_connection(trial, conns[c.name],
                            lambda n, c=c: serialiser.location(keys + (c.name, n)))
        loaded = {}
        for c in self.connections:
            loaded[c.name] = load_connection(
                c, conns[c.name], lambda n, c=c: serialiser.location(keys + (c.name, n)))
        for p in self.populations:
            loaded[p.name] = sorted(set_values(p.neuron, pops[p.name]))
        return loaded
