"""Everything a training run continues from, besides the weights: saved with every checkpoint
of a training network and restored by ``CompiledTrainingNetwork.resume``.

Requires: a :class:`~.compiled_training_network.CompiledTrainingNetwork` (its simulation's
``export_state``/``import_state``, its optimiser and Deep-R state), a serialiser and
:mod:`irsnn.serialisers.layout`. Provides :func:`save_training_state` and
:func:`restore_training_state`.

The weights (and trained population variables such as ``Bias``) are in the files mlGeNN names
(:mod:`irsnn.serialisers.layout`), so an mlGeNN checkpoint and an irsnn one are
interchangeable. What else decides how training continues goes into one more entry,
``Serialiser.serialise_state`` (for :class:`~irsnn.serialisers.Numpy` the file
``<keys>-irsnn_state.npz``, which mlGeNN never reads):

- the optimiser: its class, hyper-parameters (a schedule may have changed them), step count
  (Adam's bias corrections) and state (Adam's moments ``m``/``v`` of every parameter, as dense
  ``(source, target)`` arrays or per-neuron arrays, from the kernels or from the host
  optimiser, whichever applies it);
- the simulation: the clock and the random stream position (``timestep``, ``rng_step``), every
  neuron, synapse, learning and readout variable (e-prop keeps them from example to example
  unless told to reset them), input not yet consumed and spikes in flight;
- Deep-R: the rewired connectivity and the fixed sign of every position.

The data order of every epoch depends only on ``(rng_seed, epoch)`` and needs no state.
Restored into a fresh compile of the same network (same compiler options, batch size and
seed) on the same backend, training continues bit for bit as if it had not stopped.
"""

from __future__ import annotations

import json

import numpy as np

from ..errors import CheckpointKeyError, CheckpointNotFoundError, InputError
from ..ir import OptimiserNode, edge_id
from ..ir.ids import is_var_ref, population_name, split_var_ref

#: version of the layout below; a state of another version is refused
FORMAT = 1


def _name(*parts) -> str:
    return json.dumps(list(parts))


def save_training_state(net, serialiser, keys) -> None:
    """Store ``net``'s training state under ``keys`` (see the module docstring)."""
    sim = net.simulation
    state = sim.export_state()
    opt = net.optimiser
    out = {_name("format"): np.array(FORMAT),
           _name("optimiser", "class"): np.array(type(opt).__name__),
           _name("optimiser", "step"): np.array(net.optimiser_step, np.int64),
           _name("timestep"): np.array(state.timestep, np.int64),
           _name("rng_step"): np.array(state.rng_step, np.int64)}
    for p, value in opt.params().items():
        out[_name("optimiser", "param", p)] = np.array(value, np.float64)
    for (owner, var), value in state.variables.items():
        out[_name("variable", owner, var)] = value
    for eid, value in state.in_syn.items():
        out[_name("in_syn", eid)] = value
    for nid, value in state.spikes.items():
        out[_name("spikes", nid)] = value
    for eid, value in state.connectivity.items():
        out[_name("connectivity", eid)] = value
    for (target, var), value in state.optimiser.items():
        out[_name("optimiser", "state", target, var)] = value
    for target, values in net._opt_state.items():
        for var, value in values.items():
            out[_name("host_optimiser", target, var)] = sim.from_parameter_layout(target, value)
    for eid, dr in net.deep_r.items():
        if dr.sign is not None:
            out[_name("deep_r_sign", eid)] = dr.sign
    serialiser.serialise_state(keys, out)


def restore_training_state(net, serialiser, keys) -> None:
    """Put the weights, population variables and training state saved under ``keys`` into
    ``net`` (a fresh compile of the network that saved them); every array must be there."""
    sim = net.simulation
    serialiser.check_keys(keys)
    saved = serialiser.deserialise_state(keys)
    where = serialiser.state_location(keys)
    if not saved:
        raise CheckpointNotFoundError(
            f"checkpoint {keys} has no irsnn training state (looked for {where}): it was "
            f"written by mlGeNN, or by compiled_network.save of a network that does not train. "
            f"To continue from its weights with a fresh optimiser, call network.load({keys!r}) "
            f"before compiling instead")

    def take(*parts, required=True):
        name = _name(*parts)
        if name not in saved:
            if not required:
                return None
            raise CheckpointKeyError(
                f"the training state {where} has no entry {list(parts)}: it was saved from "
                f"another network or with other compiler options (batch size, learning rule, "
                f"optimiser); resume with the network and compiler that saved it")
        return saved[name]

    version = int(take("format"))
    if version != FORMAT:
        raise InputError(f"the training state {where} has format {version}; this irsnn reads "
                         f"format {FORMAT}")
    kind = str(take("optimiser", "class"))
    if kind != type(net.optimiser).__name__:
        raise InputError(f"the training state {where} was saved with a {kind} optimiser; this "
                         f"network trains with {type(net.optimiser).__name__}: compile it with "
                         f"the optimiser it was saved with")
    state = sim.export_state()
    _fill(state.variables, "variable", take, where)
    _fill(state.in_syn, "in_syn", take, where)
    _fill(state.spikes, "spikes", take, where)
    _fill(state.connectivity, "connectivity", take, where)
    _fill(state.optimiser, "optimiser", take, where, prefix=("state",))
    step = int(take("optimiser", "step"))
    if net._optimiser_in_kernels:
        # a backend may create its optimiser state at the first step (the reference does)
        for _, node in net.ir.nodes(OptimiserNode):
            for var in node.state:
                value = take("optimiser", "state", node.target, var, required=step > 0)
                if value is not None:
                    state.optimiser.setdefault((node.target, var), np.asarray(value))
    state.timestep = int(take("timestep"))
    state.rng_step = int(take("rng_step"))
    _weights_into(net, serialiser, keys, state)
    sim.import_state(state)
    net.optimiser_step = step
    net._opt_state.clear()
    for _, node in ([] if net._optimiser_in_kernels else net.ir.nodes(OptimiserNode)):
        # the host optimiser's state exists from its first step on
        shape = sim.parameter(node.target).shape
        values = net.optimiser.init_state(shape)
        for var in values:
            dense = take("host_optimiser", node.target, var, required=net.optimiser_step > 0)
            if dense is not None:
                values[var] = np.asarray(sim.to_parameter_layout(node.target, dense),
                                         np.float64).reshape(shape)
        if net.optimiser_step > 0:
            net._opt_state[node.target] = values
    for p in net.optimiser.params():
        setattr(net.optimiser, p, float(take("optimiser", "param", p)))
    for eid, dr in net.deep_r.items():
        sign = take("deep_r_sign", eid, required=net.optimiser_step > 0)
        dr.sign = None if sign is None else np.asarray(sign, np.int8)


def _fill(entries: dict, kind: str, take, where, prefix=()):
    """Replace every entry of ``entries`` (keys: ids or tuples of ids) by the saved one, of
    the same shape."""
    for key in list(entries):
        parts = key if isinstance(key, tuple) else (key,)
        value = np.asarray(take(kind, *prefix, *parts))
        fresh = np.asarray(entries[key])
        if value.shape != fresh.shape:
            raise InputError(
                f"the training state {where} holds {kind} {list(parts)} of shape {value.shape} "
                f"but this network's is {fresh.shape}: it was saved with another batch size "
                f"or network; resume with the compiler options that saved it")
        entries[key] = value.astype(fresh.dtype, copy=False)


def _weights_into(net, serialiser, keys, state) -> None:
    """The weights in mlGeNN's files (and trained population variables and learnt delays)
    into ``state``, strictly: each one is required and must fit the compiled connectivity."""
    from ..serialisers.layout import WEIGHT
    conns = {c.name: c for c in net.network.connections}
    edges = {}
    for u, v, k, syn in net.ir.synapses():
        eid = edge_id(u, v, k)
        edges[eid] = syn.name
        if eid not in state.weights:
            continue
        conn = conns[syn.name]
        arrays = serialiser.deserialise_all(keys + (syn.name,))
        file = serialiser.location(keys + (syn.name, WEIGHT))
        if WEIGHT not in arrays:
            raise CheckpointNotFoundError(
                f"{conn.describe()}: the checkpoint has no weights for it (looked for {file}); "
                f"resuming would keep its initial weights. Restore the file or resume from "
                f"another epoch")
        state.weights[eid] = _dense(net, state, eid, conn, arrays, WEIGHT, file,
                                    state.weights[eid])
    for _, node in net.ir.nodes(OptimiserNode):
        if not is_var_ref(node.target):
            continue
        owner, var = split_var_ref(node.target)
        fresh = state.variables[(owner, var)]
        if owner in edges:      # a per-synapse parameter of a connection (learnt delays)
            conn = conns[edges[owner]]
            arrays = serialiser.deserialise_all(keys + (conn.name,))
            file = serialiser.location(keys + (conn.name, var))
            if var not in arrays:
                raise CheckpointNotFoundError(
                    f"{conn.describe()}: the checkpoint has no learnt {var} for it (looked for "
                    f"{file}); restore the file or resume from another epoch")
            state.variables[(owner, var)] = _dense(net, state, owner, conn, arrays, var, file,
                                                   fresh)
            continue
        name = population_name(owner)
        arrays = serialiser.deserialise_all(keys + (name,))
        if var not in arrays:
            raise CheckpointNotFoundError(
                f"Population '{name}': the checkpoint has no trained {var} for it (looked for "
                f"{serialiser.location(keys + (name, var))}); restore the file or resume from "
                f"another epoch")
        value = np.asarray(arrays[var])
        if value.size != fresh.size:
            raise InputError(f"Population '{name}': the saved {var} "
                             f"({serialiser.location(keys + (name, var))}) has {value.size} "
                             f"values but the population has {fresh.size}")
        state.variables[(owner, var)] = value.reshape(fresh.shape).astype(fresh.dtype)


def _dense(net, state, eid, conn, arrays, name, file, fresh):
    """Array ``name`` of a connection, saved 1-D in mlGeNN's layout, as the compiled
    simulation holds it (``fresh``'s shape and type)."""
    from ..serialisers.layout import weight_kind
    g = np.asarray(arrays[name])
    kind = weight_kind(conn.connectivity)
    if kind == "sparse":
        mask = state.connectivity.get(eid)
        if mask is None:
            mask = net.simulation.synapse_mask(eid)
        if mask is None:
            mask = np.ones(fresh.shape, bool)
        pre, post = np.nonzero(mask)
        if "pre_ind" in arrays and "post_ind" in arrays and not (
                np.array_equal(arrays["pre_ind"], pre)
                and np.array_equal(arrays["post_ind"], post)):
            raise InputError(
                f"{conn.describe()}: the synapses saved with the checkpoint (beside {file}) "
                f"are not the ones this compiled network has; resume with the rng_seed that "
                f"saved it")
        dense = np.zeros(mask.shape, fresh.dtype)
        if g.size != len(pre):
            _size_error(conn, file, g, len(pre))
        dense[pre, post] = g.reshape(-1)
    elif kind == "one_to_one":
        n = fresh.shape[-1]
        if g.size != n:
            _size_error(conn, file, g, n)
        dense = g.reshape(-1) if fresh.ndim == 1 else np.diag(g.reshape(-1))
    else:
        if g.size != fresh.size:
            _size_error(conn, file, g, fresh.size)
        dense = g.reshape(fresh.shape)
    return dense.astype(fresh.dtype, copy=False)


def _size_error(conn, file, g, n):
    raise InputError(f"{conn.describe()}: the saved array ({file}) holds {g.size} values but "
                     f"the compiled connection has {n} synapses; the checkpoint belongs to "
                     f"another network")


__all__ = ["save_training_state", "restore_training_state"]
