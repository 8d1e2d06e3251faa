"""Unstructured networks: the context in which populations and connections are created.

Requires: :mod:`irsnn.errors`; connectivity, serialisers and value helpers are imported by
``load``. Provides :class:`Network` (mlGeNN's): the ``with`` context, default parameters,
unique names, the lists of populations and connections, and ``load`` from a checkpoint.
"""

from __future__ import annotations


from .errors import ContextError, InputError, ModelError


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

        Each connection reads ``keys + (connection.name, "weight")`` (and ``"delay"`` if
        saved); sparse connectivity (``FixedProbability``, ``Sparse``) also reads
        ``"pre_ind"``/``"post_ind"`` (written by ``save_connectivity``), which then define
        exactly which synapses exist, with the saved weights at those pairs. Each population
        reads every saved array under ``keys + (population.name,)`` whose name matches a value
        of its neuron (attribute name such as ``"bias"`` or model name such as ``"Bias"``).
        Other saved arrays are ignored (the index lists of ``Dense`` and ``OneToOne``
        connections, whose synapses are fixed, among them).

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
        """
        from .connectivity import SparseBase
        from .serialisers import Serialiser, default_serialisers
        from .utils.module import get_object
        from .utils.value import set_values

        serialiser = get_object(serialiser, Serialiser, "Serialiser", default_serialisers)
        keys = tuple(keys)
        loaded = {}
        for c in self.connections:
            state = serialiser.deserialise_all(keys + (c.name,))
            used = []
            if ("pre_ind" in state or "post_ind" in state) and isinstance(c.connectivity,
                                                                          SparseBase):
                if "pre_ind" not in state or "post_ind" not in state:
                    missing = "post_ind" if "pre_ind" in state else "pre_ind"
                    raise InputError(f"{c.describe()}: the checkpoint under {keys} has "
                                     f"{'pre_ind' if missing == 'post_ind' else 'post_ind'} "
                                     f"but no {missing}; save both with save_connectivity")
                c.connectivity.pre_ind = state["pre_ind"]
                c.connectivity.post_ind = state["post_ind"]
                used += ["post_ind", "pre_ind"]
            for key in ("weight", "delay"):
                if key in state:
                    setattr(c.connectivity, key, state[key])
                    used.append(key)
            if used:
                c.connectivity.connect(c.source(), c.target(), c)
                c._validate_delay()
            loaded[c.name] = sorted(used)
        for p in self.populations:
            state = serialiser.deserialise_all(keys + (p.name,))
            loaded[p.name] = sorted(set_values(p.neuron, state))
        return loaded
