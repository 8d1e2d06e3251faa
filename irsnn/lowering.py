"""Lowering: a :class:`~irsnn.network.Network` becomes an :class:`~irsnn.ir.IRGraph`.

Requires: the front-end objects (populations, connections, neurons, readouts, initializers)
and :mod:`irsnn.ir` (payloads, ids). Provides :func:`lower_network` (the one lowering),
:func:`node_id` (a front-end object's IR id), :func:`value_to_init` and :func:`deref`.

Each population becomes a ``pop.<name>`` node carrying its neuron model (code strings,
variables, parameters) and each connection a ``syn`` edge (``rec`` for a population connected
to itself) carrying its connectivity, weights, delay and postsynaptic model. Values that need
arrays go to the side table under ``<node or edge id>/<name>`` (:func:`irsnn.ir.ids.var_ref`).
A neuron's readout object is lowered here, once, into a :class:`~irsnn.ir.ReadoutSpec` (its
accumulators and code), so no pass needs the front end. Nothing here runs code: the code strings
are checked by the ``validate`` pass.
"""

from __future__ import annotations

import inspect
from numbers import Number

import numpy as np

from .errors import ModelError
from .ir import EGP, IRGraph, NeuronGroup, Param, ReadoutSpec, SynapseGroup, Var, VarInit
from .ir.ids import connection_key, edge_id, population_id, ref_name, var_ref
from .utils.value import check_finite


def deref(obj):
    """mlGeNN stores population references as weakrefs; accept either."""
    return obj() if callable(obj) and not hasattr(obj, "neuron") else obj


def node_id(population) -> str:
    """The IR node id of ``population`` (see :func:`irsnn.ir.ids.population_id`)."""
    return population_id(population.name)


def _call_get_model(model_obj, owner, dt, batch_size):
    """``get_model(owner, dt, batch_size)`` (mlGeNN 2) or ``get_model(owner, dt)`` (paper)."""
    params = inspect.signature(model_obj.get_model).parameters
    positional = [p for p in params.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) >= 3 or any(p.kind == p.VAR_POSITIONAL for p in params.values()):
        return model_obj.get_model(owner, dt, batch_size)
    return model_obj.get_model(owner, dt)


def value_to_init(g: IRGraph, value, key: str, size: int, owner: str,
                  shape: tuple[int, ...] | None = None) -> VarInit:
    """Turn a number, array or Initializer into a :class:`VarInit` (arrays into ``g``)."""
    from .initializers import Initializer
    if isinstance(value, VarInit):
        return value
    if isinstance(value, bool | Number | np.number):
        check_finite(owner, ref_name(key), value)
        return VarInit("constant", float(value))
    if isinstance(value, Initializer):
        return VarInit(value.kind, params=tuple(sorted((k, float(v))
                                                       for k, v in value.params.items())))
    if isinstance(value, list | tuple | np.ndarray):
        arr = np.asarray(value)
        if arr.size != size:
            want = f"{shape} or {size} values" if shape else f"{size} values"
            raise ModelError(f"{owner}: '{ref_name(key)}' has {arr.size} values "
                             f"(shape {arr.shape}) but needs {want}; pass an array of that "
                             f"size or a scalar")
        check_finite(owner, ref_name(key), arr.astype(np.float64))
        g.set_array(key, arr.reshape(shape or (size,)))
        return VarInit("array", key=key)
    raise ModelError(f"{owner}: value for '{ref_name(key)}' is a "
                     f"{type(value).__name__}; use a number, a sequence/array or an Initializer")


def lower_network(network, *, name: str = "model", dt: float = 1.0, batch_size: int = 1,
                  precision: str = "float", example_timesteps: int | None = None) -> IRGraph:
    """Lower ``network`` into a fresh IR graph (no passes applied); ``example_timesteps`` is
    given to readouts that need the example length."""
    g = IRGraph(name, {"dt": float(dt), "batch_size": int(batch_size), "precision": precision})
    for pop in network.populations:
        _lower_population(g, pop, dt, batch_size, example_timesteps)
    for conn in network.connections:
        _lower_connection(g, conn, dt, batch_size)
    return g


def _owner(obj, kind):
    loc = getattr(obj, "location", "")
    return f"{kind} '{obj.name}'" + (f" (created at {loc})" if loc else "")


def _lower_population(g, pop, dt, batch_size, example_timesteps=None):
    from .neurons import Input
    neuron = pop.neuron
    owner = f"{_owner(pop, 'Population')} [{type(neuron).__name__}]"
    nid = node_id(pop)
    model = _call_get_model(neuron, pop, dt, batch_size)
    canon = model.canonical(owner)
    size = int(np.prod(pop.shape))

    params, vars_ = [], []
    for pname, ptype in canon.params:
        val = model.param_vals[pname]
        if isinstance(val, bool | Number | np.number):
            check_finite(owner, pname, val)
            params.append(Param(pname, ptype, float(val)))
        else:
            # A parameter given per neuron (array or initializer) becomes a read-only variable
            init = value_to_init(g, val, var_ref(nid, pname), size, owner)
            vars_.append(Var(pname, ptype, "readonly", init, batched=False, role="param"))
    for vname, vtype, access in canon.vars:
        init = value_to_init(g, model.var_vals[vname], var_ref(nid, vname), size, owner)
        vars_.append(Var(vname, vtype, access, init))

    output_var = getattr(model, "output_var_name", None)
    readout = None
    if getattr(neuron, "readout", None) is not None:
        readout = _lower_readout(neuron.readout, output_var, vars_, owner, model,
                                 example_timesteps, dt)

    g.add_node(nid, NeuronGroup(
        name=pop.name, shape=tuple(int(s) for s in pop.shape),
        model_name=type(neuron).__name__, vars=tuple(vars_), params=tuple(params),
        egps=tuple(EGP(n, t) for n, t in canon.egps),
        additional_input_vars=canon.additional_input_vars,
        sim_code=canon.sim_code, threshold_code=canon.threshold_code,
        negative_threshold_code=canon.negative_threshold_code, reset_code=canon.reset_code,
        output_var=output_var, is_input=isinstance(neuron, Input),
        softmax=bool(getattr(neuron, "softmax", False)),
        record_spikes=bool(getattr(pop, "record_spikes", False)), readout=readout,
        location=getattr(pop, "location", ""), spike_schedule=canon.spike_schedule))


def _lower_readout(readout, output_var, vars_, owner, model=None, example_timesteps=None,
                   dt=1.0) -> ReadoutSpec:
    """The :class:`ReadoutSpec` of ``readout`` (a :class:`~irsnn.readouts.Readout`) reading
    ``output_var``: its accumulators and code, so that no later stage needs the object. A
    readout written with mlGeNN's ``add_readout_logic`` is lowered from what it adds to
    ``model``; readouts whose ``sim_code`` takes ``example_timesteps``/``dt`` get them."""
    from .readouts import default_readouts
    from .readouts.model_readout import lower_model_readout, overrides_model_hook
    kind = readout.name if default_readouts.get(readout.name) is type(readout) else \
        f"{type(readout).__module__}:{type(readout).__qualname__}"
    out = next((v for v in vars_ if v.name == output_var), None)
    if out is None:
        raise ModelError(f"{owner}: readout {kind!r} needs the output variable "
                         f"{output_var!r}, which the model does not declare as a variable")
    if model is not None and overrides_model_hook(readout, "add_readout_logic"):
        accs, sim, reset = lower_model_readout(readout, model, example_timesteps, dt, owner)
    else:
        timing = {}
        if "example_timesteps" in inspect.signature(readout.sim_code).parameters:
            if example_timesteps is None:
                raise ModelError(f"{owner}: readout {kind!r} needs the example length; "
                                 f"compile with a compiler that has one")
            timing = {"example_timesteps": int(example_timesteps), "dt": float(dt)}
        accs = readout.accumulators(output_var, out.type)
        sim, reset = readout.sim_code(output_var, **timing), readout.reset_code(output_var)
    acc = tuple(Var(name, typ, "readwrite", VarInit("constant", init), role="readout")
                for name, typ, init in accs)
    return ReadoutSpec(kind, vars=acc, sim_code=sim or "", reset_code=reset or "",
                       needs_spikes=bool(readout.needs_spikes))


def _lower_connection(g, conn, dt, batch_size):
    source, target = deref(conn.source), deref(conn.target)
    owner = _owner(conn, "Connection")
    src, dst = node_id(source), node_id(target)
    # parallel connections get keys syn, syn2, ...: arrays and random streams are keyed on the
    # final edge id, so two connections between the same populations never share them
    key = g.free_key(src, dst, connection_key(src, dst))
    eid = edge_id(src, dst, key)
    num_pre, num_post = int(np.prod(source.shape)), int(np.prod(target.shape))
    spec = conn.connectivity.get_spec(conn)

    if spec.kind == "one_to_one":
        if num_pre != num_post:
            raise ModelError(f"{owner}: OneToOne needs equal sizes but connects {num_pre} "
                             f"neurons to {num_post}; use Dense or FixedProbability")
        layout, wsize, wshape = "one_to_one", num_post, (num_post,)
    elif spec.kind in ("dense", "fixed_probability"):
        layout, wsize, wshape = "dense", num_pre * num_post, (num_pre, num_post)
    elif spec.kind == "sparse":
        # explicit synapses: the index lists go to the side table; arrays hold one value per
        # listed synapse (the choose-sparse-layout pass picks the storage)
        nnz = len(spec.pre_ind)
        layout, wsize, wshape = "dense", nnz, (nnz,)
        g.set_array(var_ref(eid, "pre_ind"), np.asarray(spec.pre_ind, np.int32))
        g.set_array(var_ref(eid, "post_ind"), np.asarray(spec.post_ind, np.int32))
    else:
        raise ModelError(f"{owner}: connectivity {spec.kind!r} is not supported yet; use "
                         f"Dense, OneToOne, FixedProbability or Sparse")
    weight = value_to_init(g, spec.weight, var_ref(eid, "g"), wsize, owner, wshape)

    delay_steps, het, max_delay = 1, None, 0
    if isinstance(spec.delay, bool | Number | np.number):
        d = spec.delay
        if d < 0 or int(d) != d:
            raise ModelError(f"{owner}: delay {d!r} must be a non-negative whole number of "
                             f"timesteps")
        delay_steps = 1 + int(d)
    else:
        # Per-synapse delays: max_delay_steps, or the largest delay of an explicit array
        max_delay = int(conn.get_max_delay_steps())
        het = value_to_init(g, spec.delay, var_ref(eid, "d"), wsize, owner, wshape)
        if het.kind == "array":
            d = g.array(het.key)
            if d.min() < 0 or d.max() > max_delay or np.any(d != np.round(d)):
                raise ModelError(f"{owner}: delays must be whole numbers in [0, "
                                 f"max_delay_steps={max_delay}] (got min {d.min()}, max "
                                 f"{d.max()}); raise max_delay_steps or fix the delays")

    psm = _call_get_model(conn.synapse, conn, dt, batch_size)
    pcanon = psm.canonical(f"{owner} [{type(conn.synapse).__name__}]")
    psm_params, psm_vars = [], []
    for pname, ptype in pcanon.params:
        val = psm.param_vals[pname]
        if not isinstance(val, bool | Number | np.number):
            raise ModelError(f"{owner}: postsynaptic parameter '{pname}' must be a number")
        check_finite(owner, pname, val)
        psm_params.append(Param(pname, ptype, float(val)))
    for vname, vtype, access in pcanon.vars:
        init = value_to_init(g, psm.var_vals[vname], var_ref(eid, vname), num_post, owner)
        psm_vars.append(Var(vname, vtype, access, init, role="psm"))
    code = pcanon.sim_code or (pcanon.apply_input_code + "\n" + pcanon.decay_code)

    g.add_edge(src, dst, key, SynapseGroup(
        name=conn.name, source=src, target=dst, connectivity=spec.kind, layout=layout,
        num_pre=num_pre, num_post=num_post, weight=weight, delay_steps=delay_steps,
        heterogeneous_delay=het, max_delay_steps=max_delay, p=spec.p,
        allow_self_connections=bool(spec.allow_self_connections),
        trainable=bool(spec.trainable), layout_hint=getattr(spec, "layout", None),
        pre_ind=var_ref(eid, "pre_ind") if spec.kind == "sparse" else None,
        post_ind=var_ref(eid, "post_ind") if spec.kind == "sparse" else None,
        psm_name=type(conn.synapse).__name__,
        psm_vars=tuple(psm_vars), psm_params=tuple(psm_params), psm_code=code.strip(),
        location=getattr(conn, "location", "")))
