"""Ids of the IR: the one place that spells and parses node ids, edge ids and references.

Requires: nothing (the standard library only). Provides the builders and parsers of every id
the IR, the passes, the backends and the compilers use, so that no other module formats or
splits an id with string operations:

- population nodes ``pop.<name>`` (:func:`population_id`, :func:`population_name`);
- edges ``<key>.<source>-><target>`` with the ``pop.`` prefixes dropped (:func:`edge_id`),
  whose keys are readable roles (:data:`SYNAPSE_KEY`, :data:`RECURRENT_KEY`, the taps ...);
- auxiliary nodes, each built from its population's node id: recorders
  ``rec.<population>.spikes`` / ``rec.<population>.<var>`` (:func:`recorder_id`), readouts
  ``readout.<population>`` (:func:`readout_id`), losses
  ``loss.<population>`` (:func:`loss_id`), optimisers ``optim.<connection>`` or
  ``optim.<population>.<var>`` (:func:`optimiser_id`) and backward filters
  ``backward.<population>`` (:func:`backward_id`);
- variable references ``<owner id>/<name>``: side-table array keys, random stream names and
  optimiser targets of shared variables (:func:`var_ref`, :func:`split_var_ref`).

The spellings are part of the IR's text and JSON forms (golden dumps compare them): change
them only on purpose.
"""

from __future__ import annotations

#: prefix of population (neuron group) node ids
POPULATION_PREFIX = "pop."
#: prefix of readout node ids
READOUT_PREFIX = "readout."
#: prefix of recorder node ids
RECORDER_PREFIX = "rec."
#: prefix of loss node ids
LOSS_PREFIX = "loss."
#: prefix of optimiser node ids
OPTIMISER_PREFIX = "optim."
#: prefix of backward-filter node ids
BACKWARD_PREFIX = "backward."
#: prefix of EventProp state node ids
EVENTPROP_PREFIX = "eventprop."

#: edge key of a connection between two populations
SYNAPSE_KEY = "syn"
#: edge key of a connection from a population to itself
RECURRENT_KEY = "rec"
#: edge key of the tap from a population to its readout node
READOUT_KEY = "readout"
#: edge key of the tap from a population to a recorder node
RECORD_KEY = "record"
#: edge key of the tap from a population to its loss node
LOSS_KEY = "loss"
#: edge key of the tap from a population to an optimiser node
OPTIMISE_KEY = "optimise"
#: edge key of a feedback path from an output to a hidden population
FEEDBACK_KEY = "feedback"
#: edge key of the tap from a population to its backward filter
BACKWARD_KEY = "backward"
#: edge key of the tap from a population to its EventProp state node
EVENTPROP_KEY = "eventprop"

#: separator between an owner id and a variable or array name in a variable reference
_REF_SEP = "/"


def population_id(name: str) -> str:
    """Node id of the population called ``name``: ``pop.<name>``.

    Parameters
    ----------
    name : str
        The population's name.

    Returns
    -------
    str
        Its node id.
    """
    return f"{POPULATION_PREFIX}{name}"


def population_name(node_id: str) -> str:
    """The population name in ``node_id`` (inverse of :func:`population_id`); any other id is
    returned unchanged.

    Parameters
    ----------
    node_id : str
        A node id, normally ``pop.<name>``.

    Returns
    -------
    str
        The name without the ``pop.`` prefix.
    """
    return node_id.removeprefix(POPULATION_PREFIX)


def connection_key(source: str, target: str) -> str:
    """The edge key a connection from ``source`` to ``target`` (node ids) asks for:
    :data:`RECURRENT_KEY` for a population connected to itself, else :data:`SYNAPSE_KEY`.

    Parameters
    ----------
    source, target : str
        Node ids of the connected populations.

    Returns
    -------
    str
        The key (the graph appends ``2``, ``3``, ... for parallel connections).
    """
    return RECURRENT_KEY if source == target else SYNAPSE_KEY


def edge_id(source: str, target: str, key: str) -> str:
    """Readable id of an edge, e.g. ``syn.input->hidden`` (the ``pop.`` prefixes dropped).

    Parameters
    ----------
    source, target : str
        Node ids at either end.
    key : str
        The edge's key (its role, e.g. ``syn``, ``rec2``, ``feedback``).

    Returns
    -------
    str
        ``<key>.<source name>-><target name>``.
    """
    return f"{key}.{population_name(source)}->{population_name(target)}"


def recorder_id(population: str, var: str | None = None) -> str:
    """Node id of the recorder of a population's spikes (``var`` None) or of its variable
    ``var``: ``rec.<population>.spikes`` or ``rec.<population>.<var>``.

    Parameters
    ----------
    population : str
        The population's node id (``pop.<name>``).
    var : str, optional
        The recorded variable; None records spikes.

    Returns
    -------
    str
        The recorder's node id.
    """
    return f"{RECORDER_PREFIX}{population_name(population)}.{'spikes' if var is None else var}"


def readout_id(population: str) -> str:
    """Node id of the readout of the population with node id ``population``:
    ``readout.<name>``."""
    return f"{READOUT_PREFIX}{population_name(population)}"


def loss_id(population: str) -> str:
    """Node id of the loss of the population with node id ``population``: ``loss.<name>``."""
    return f"{LOSS_PREFIX}{population_name(population)}"


def backward_id(population: str) -> str:
    """Node id of the backward filter of the population with node id ``population``:
    ``backward.<name>``."""
    return f"{BACKWARD_PREFIX}{population_name(population)}"


def eventprop_id(population: str) -> str:
    """Node id of the EventProp state of the population with node id ``population``:
    ``eventprop.<name>``."""
    return f"{EVENTPROP_PREFIX}{population_name(population)}"


def optimiser_id(owner: str, var: str | None = None) -> str:
    """Node id of an optimiser: ``optim.<connection name>`` for a connection's weights, or
    ``optim.<population>.<var>`` for a population's shared variable (e.g. an output bias).

    Parameters
    ----------
    owner : str
        The connection's name, or (with ``var``) the population's node id.
    var : str, optional
        The population variable it trains.

    Returns
    -------
    str
        The optimiser's node id.
    """
    if var is None:
        return f"{OPTIMISER_PREFIX}{owner}"
    return f"{OPTIMISER_PREFIX}{population_name(owner)}.{var}"


def var_ref(owner: str, name: str) -> str:
    """Reference ``<owner>/<name>`` to a variable or array of a node or edge: the key of its
    side-table array and random stream, and the optimiser target of a shared variable.

    Parameters
    ----------
    owner : str
        A node id or edge id.
    name : str
        A variable or array name (``g``, ``d``, ``pre_ind``, ``Bias``, ...).

    Returns
    -------
    str
        The reference.
    """
    return f"{owner}{_REF_SEP}{name}"


def is_var_ref(ref: str) -> bool:
    """Whether ``ref`` is a :func:`var_ref` (and not a plain node or edge id)."""
    return _REF_SEP in ref


def split_var_ref(ref: str) -> tuple[str, str]:
    """``(owner, name)`` of a :func:`var_ref` (inverse of it).

    Parameters
    ----------
    ref : str
        ``<owner>/<name>``.

    Returns
    -------
    tuple of str
        The owner id and the name.

    Raises
    ------
    ValueError
        ``ref`` is not a variable reference.
    """
    owner, sep, name = ref.rpartition(_REF_SEP)
    if not sep:
        raise ValueError(f"'{ref}' is not a variable reference '<owner>/<name>'")
    return owner, name


def ref_owner(ref: str) -> str:
    """The owner id of a :func:`var_ref`, or ``ref`` itself when it is a plain id (an
    optimiser target is either an edge id or a variable reference)."""
    return split_var_ref(ref)[0] if is_var_ref(ref) else ref


def ref_name(ref: str) -> str:
    """The variable or array name of a :func:`var_ref` (the part after its last ``/``), or
    ``ref`` itself when it is not a reference."""
    return ref.rpartition(_REF_SEP)[2]


__all__ = ["POPULATION_PREFIX", "READOUT_PREFIX", "RECORDER_PREFIX", "LOSS_PREFIX",
           "OPTIMISER_PREFIX", "BACKWARD_PREFIX", "SYNAPSE_KEY", "RECURRENT_KEY", "READOUT_KEY",
           "RECORD_KEY", "LOSS_KEY", "OPTIMISE_KEY", "FEEDBACK_KEY", "BACKWARD_KEY",
           "population_id", "population_name", "connection_key", "edge_id", "recorder_id",
           "readout_id", "loss_id", "backward_id", "optimiser_id", "var_ref", "is_var_ref",
           "split_var_ref", "ref_owner", "ref_name",
           "EVENTPROP_PREFIX", "EVENTPROP_KEY", "eventprop_id"]
