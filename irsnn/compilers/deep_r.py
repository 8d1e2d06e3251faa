"""Deep-R rewiring, applied on the host after every optimiser step of a training network.

Requires: a simulation's weights and connectivity (``get_weights``, ``synapse_mask``,
``row_capacity``, ``rewire``), :func:`irsnn.backends.host_init.allowed_synapses` and
:func:`irsnn.rng.stream_id`. Provides :class:`DeepR` (the host-side rewiring of marked
connections) and :class:`RewiringRecord` (a callback recording how many synapses were rewired
per batch).

Deep-R is Bellec et al. 2018, *Deep Rewiring: Training very sparse deep networks*; it runs after
every optimiser step of :class:`CompiledTrainingNetwork`.

For each connection the ``insert-deep-r`` pass marked (``SynapseGroup.rewiring``):

* every position (pre, post) has a fixed sign, drawn once when training starts: the sign of
  the initial weight where a synapse exists with a non-zero weight, else +1 or -1 with equal
  probability (Bellec et al. draw the sign of every potential connection; mlGeNN draws the
  signs of absent positions at random too);
* before the optimiser step, ``l1_strength * sign`` per example of the batch is added to the
  gradient of every existing synapse (mlGeNN adds ``l1_strength`` to each batch element's
  gradient before the batch sum): the optimiser, which subtracts gradients, pulls weights
  towards zero;
* after the step, a synapse whose weight now has the opposite sign (``w * sign < 0``; a
  weight of exactly 0 is still active, as Bellec et al.'s theta >= 0) becomes dormant and is
  removed; as many new synapses are created at absent positions drawn uniformly among the
  allowed positions (no self-connection where the connection forbids them) in rows that still
  have room, with weight 0, zeroed eligibility traces and zeroed optimiser state. The number
  of synapses never changes.

Positions are drawn from ``numpy.random.default_rng([rng_seed, stream_id(edge id),
optimiser step])`` using only the weights and the connectivity, which every backend computes
identically, so runs are reproducible and backends agree. Rows have a fixed capacity (set in
the IR, see :class:`~irsnn.ir.Rewiring`): a new synapse never goes to a full row, so placement
never fails (mlGeNN, whose rows are GeNN's max row length, counts such failed attempts).
"""

from __future__ import annotations

import numpy as np

from ..callbacks import Callback
from ..errors import BackendError, ModelError
from ..ir.ids import var_ref
from ..rng import stream_id


class DeepR:
    """Host-side Deep-R state of one connection: its fixed signs and the rewiring step.

    Parameters
    ----------
    eid : str
        Edge id of the synapse group.
    syn : SynapseGroup
        Its IR payload (with ``rewiring`` set).
    seed : int
        The compiler's ``rng_seed``.
    """

    def __init__(self, eid: str, syn, seed: int):
        from irsnn.backends.host_init import allowed_synapses
        self.eid, self.syn, self.seed = eid, syn, int(seed)
        self.l1_strength = float(syn.rewiring.l1_strength)
        self.allowed = allowed_synapses(syn)
        self.sign: np.ndarray | None = None
        #: rewirings of the latest step
        self.last = 0

    def init_signs(self, sim) -> None:
        """Fix every position's sign from the current (initial) weights."""
        w, mask = sim.get_weights(self.eid), sim.synapse_mask(self.eid)
        rng = np.random.default_rng([self.seed, stream_id(var_ref(self.eid, "deep-r-sign"))])
        sign = np.where(rng.random(w.shape) < 0.5, -1, 1).astype(np.int8)
        sign[mask & (w > 0)] = 1
        sign[mask & (w < 0)] = -1
        self.sign = sign

    def l1_term(self, sim, num_examples: int) -> np.ndarray:
        """``l1_strength * sign * num_examples`` on existing synapses, in the layout of
        ``sim.parameter``."""
        mask = sim.synapse_mask(self.eid)
        dense = np.where(mask, self.l1_strength * float(num_examples) * self.sign, 0.0)
        return sim.to_parameter_layout(self.eid, dense)

    def step(self, sim, step: int, carry: list) -> list:
        """Remove sign-flipped synapses and add as many new ones; returns ``carry`` (optimiser
        state in the parameter layout) rearranged to the new connectivity."""
        w, mask = sim.get_weights(self.eid), sim.synapse_mask(self.eid)
        dormant = mask & (w * self.sign < 0)
        n = int(dormant.sum())
        self.last = n
        if n == 0:
            return carry
        kept = mask & ~dormant
        n_post = self.syn.num_post
        room = sim.row_capacity(self.eid) - kept.sum(axis=1)
        candidates = np.flatnonzero((self.allowed & ~kept).ravel())
        rng = np.random.default_rng([self.seed, stream_id(self.eid), int(step)])
        perm = rng.permutation(candidates)
        rows = perm // n_post
        # a candidate is taken if its row still has room when its turn comes in the random
        # order: its rank among the earlier candidates of the same row is below the room
        order = np.argsort(rows, kind="stable")
        ranked = rows[order]
        rank = np.empty(len(perm), np.int64)
        rank[order] = np.arange(len(perm)) - np.searchsorted(ranked, ranked, side="left")
        chosen = perm[rank < room[rows]][:n]
        if len(chosen) < n:
            raise BackendError(f"Deep-R on '{self.eid}': only {len(chosen)} free positions for "
                               f"{n} rewirings")
        return sim.rewire(self.eid, np.nonzero(dormant), (chosen // n_post, chosen % n_post),
                          carry)



class DeepROptions:
    """A training compiler's Deep-R options (mlGeNN's ``deep_r_conns``,
    ``deep_r_l1_strength`` and ``deep_r_record_rewirings``), validated when the compiler is
    made; :meth:`resolve` names them for the network being compiled.

    Parameters
    ----------
    compiler : str
        The compiler's class name (for messages).
    conns : list or tuple of Connection (or layers)
    l1 : float
        L1 strength, >= 0.
    records : dict or None
        ``{connection: cb_data key}``; each must be in ``conns``.
    """

    def __init__(self, compiler: str, conns, l1, records):
        self.compiler = compiler
        self.conns, self.l1_strength, self._records = _deep_r_options(compiler, conns, l1,
                                                                     records)

    def resolve(self, network) -> tuple[tuple[str, ...], dict[str, str]]:
        """``(names of the rewired connections, {connection name: cb_data key})``."""
        names = tuple(_connection_in(self.compiler, network, c).name for c in self.conns)
        records = {_connection_in(self.compiler, network, c).name: key
                   for c, key in self._records}
        return names, records


def _connection_of(obj, compiler: str):
    """The Connection behind ``obj`` (a Connection, or a Layer via ``connection()``)."""
    from ..connection import get_underlying_conn
    try:
        return get_underlying_conn(obj)
    except ModelError:
        raise ModelError(f"{compiler}: deep_r_conns and deep_r_record_rewirings take "
                         f"Connections (or layers); got {type(obj).__name__} {obj!r}") from None


def _connection_in(compiler: str, network, conn):
    """``conn``, after checking that it belongs to ``network``."""
    if not any(c is conn for c in network.connections):
        raise ModelError(f"{compiler}: deep_r_conns names {conn.describe()}, which is not a "
                         f"connection of the network being compiled; list connections of this "
                         f"network")
    return conn


def _deep_r_options(compiler: str, conns, l1, records):
    """Validated ``(connections, l1 strength, [(connection, key)])`` of the Deep-R options."""
    from ..connection import Connection
    if isinstance(conns, Connection) or not isinstance(conns, list | tuple | set):
        raise ModelError(f"{compiler}: deep_r_conns must be a list of connections (got "
                         f"{type(conns).__name__}); write deep_r_conns=[conn]")
    unique = []
    for c in conns:
        c = _connection_of(c, compiler)
        if not any(c is u for u in unique):
            unique.append(c)
    if isinstance(l1, bool) or not isinstance(l1, int | float) or not l1 >= 0:
        raise ModelError(f"{compiler}: deep_r_l1_strength={l1!r} must be a number >= 0 "
                         f"(0 turns the L1 term off)")
    if records is None:
        records = {}
    if not isinstance(records, dict):
        raise ModelError(f"{compiler}: deep_r_record_rewirings must be a dict "
                         f"{{connection: key}} (got {type(records).__name__})")
    pairs = []
    for c, key in records.items():
        c = _connection_of(c, compiler)
        if not any(c is u for u in unique):
            raise ModelError(f"{compiler}: deep_r_record_rewirings asks for "
                             f"{c.describe()}, which is not in deep_r_conns; add it there")
        pairs.append((c, key))
    return tuple(unique), float(l1), tuple(pairs)


class RewiringRecord(Callback):
    """Records, after every training batch, how many synapses of one connection Deep-R
    rewired, in mlGeNN's format (``deep_r_record_rewirings``): ``cb_data[key]`` is a list with
    one ``(rewirings, failed rewirings)`` tuple of ints per batch. Placement never fails in
    irsnn (a new synapse only goes to a row with room, see the module notes), so the second
    number is always 0; mlGeNN counts attempts that found a full row there."""

    def __init__(self, eid: str, key):
        self.eid, self.key = eid, key
        self._data: list = []
        self._net = None

    def set_params(self, compiled_network=None, **kwargs):
        self._net = compiled_network
        self._data = []

    def on_batch_end(self, batch, metrics):
        self._data.append((int(self._net.deep_r[self.eid].last), 0))

    def get_data(self):
        return self.key, self._data


__all__ = ["DeepR", "DeepROptions", "RewiringRecord"]
