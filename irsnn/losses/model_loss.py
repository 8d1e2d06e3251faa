"""mlGeNN's loss extension hooks on irsnn's training compilers.

Requires: NumPy, :mod:`irsnn.errors`, :mod:`irsnn.utils.model` and the IR payloads
(:class:`~irsnn.ir.ModelLoss`, :class:`~irsnn.ir.Var`, :class:`~irsnn.ir.EGP`). Provides
:func:`uses_model_hooks` (is a loss written mlGeNN's way?) and :func:`lower_model_loss` (what
its ``add_to_neuron`` added to the output neuron model, as a :class:`~irsnn.ir.ModelLoss`);
:class:`irsnn.compilers.loss_targets.TargetWriter` calls its ``set_target``.

An mlGeNN loss subclasses ``Loss`` and implements two hooks:

``add_to_neuron(model, shape, batch_size, example_timesteps)``
    adds variables (``model.add_var``) and extra global parameters (``model.add_egp``) to the
    output neuron model and appends sim code (``model.append_sim_code``) that declares the local
    ``yTrue``, this neuron's target at this timestep (it may use ``t``, ``dt``, ``id``,
    ``batch``, ``num_neurons`` and the model's names);
``set_target(genn_pop, y_true, shape, batch_size, example_timesteps)``
    writes a batch's labels into those variables (``genn_pop.vars[name].view``) or extra global
    parameters (``genn_pop.extra_global_params[name].view``), then ``push_to_device()``.

The e-prop error is then ``output - yTrue`` (``softmax(output) - yTrue`` for a subclass of
:class:`~irsnn.losses.SparseCategoricalCrossentropy`, as mlGeNN decides), on every backend: the
code goes through :mod:`irsnn.lang` like any model code. Differences from GeNN: narrow integer
types (``uint8_t``, ``int16_t``, ...) are stored as ``unsigned int``/``int`` (same values); a
variable declared ``READ_ONLY_SHARED_NEURON`` is stored per neuron, and its view in
``set_target`` has GeNN's shape ``(batch_size, 1)`` (``(1,)`` for batch size 1), broadcast to
every neuron on ``push_to_device``.
"""

from __future__ import annotations

import re
from copy import deepcopy

import numpy as np

from ..errors import ModelError
from ..utils.model import Model

#: narrow C integer types a loss may declare -> the language type that stores them
_WIDENED = {"uint8_t": "unsigned int", "uint16_t": "unsigned int", "int8_t": "int",
            "int16_t": "int", "unsigned char": "unsigned int", "unsigned short": "unsigned int",
            "char": "int", "short": "int"}
_DECLARES_YTRUE = re.compile(r"\byTrue\s*=")


def uses_model_hooks(loss) -> bool:
    """Whether ``type(loss)`` implements mlGeNN's ``add_to_neuron`` itself (not irsnn's)."""
    from . import Loss
    return getattr(type(loss), "add_to_neuron", None) is not Loss.add_to_neuron


def _label(loss) -> str:
    return f"{type(loss).__module__}:{type(loss).__qualname__}"


def _entries(model, *keys):
    for key in keys:
        if key in model.model:
            return list(model.model[key] or ())
    return []


def _is_shared(access) -> bool:
    return access is not None and "shared_neuron" in str(access).lower().replace(".", "_")


def _type(typ, where, what):
    from irsnn.lang.types import canonical_type_name
    array = isinstance(typ, str) and typ.strip().endswith("*")
    base = typ.strip()[:-1].strip() if array else typ
    base = _WIDENED.get(" ".join(str(base).split()), base)
    if canonical_type_name(base) is None:
        raise ModelError(f"{where}: {what} has type {typ!r}, which irsnn's model code cannot "
                         f"hold; use scalar, float, double, int, unsigned int (or a narrower "
                         f"integer such as uint8_t) or bool")
    return base + ("*" if array else "")


def lower_model_loss(loss, model, shape, batch_size, example_timesteps, owner):
    """The :class:`~irsnn.ir.ModelLoss` of ``loss.add_to_neuron`` on a copy of ``model`` (the
    output population's :class:`~irsnn.utils.model.NeuronModel`).

    Raises :class:`~irsnn.errors.ModelError`, naming the loss and what it added, where the hook
    does what irsnn cannot express: changing or removing what the model had, code outside
    ``sim_code``, parameters, variables that do not start from a number, extra global
    parameters without a value, or code that does not declare ``yTrue``.
    """
    from irsnn.ir import EGP, ModelLoss, Var, VarInit
    from . import SparseCategoricalCrossentropy
    name = type(loss).__name__
    where = f"{owner}: loss {name}"
    if not _has_own(loss, "set_target"):
        raise ModelError(f"{where} implements add_to_neuron but not set_target; an mlGeNN "
                         f"loss needs both (set_target writes each batch's labels)")
    before = deepcopy(model)
    after = deepcopy(model)
    result = loss.add_to_neuron(after, tuple(shape), int(batch_size), int(example_timesteps))
    if isinstance(result, Model) and result is not after:
        after = result   # a hook that returns a new model instead of changing it in place
    for key in ("threshold_condition_code", "negative_threshold_condition_code", "reset_code",
                "additional_input_vars"):
        if (before.model.get(key) or None) != (after.model.get(key) or None):
            raise ModelError(f"{where}.add_to_neuron changed the neuron's {key}; irsnn runs a "
                             f"loss's code in the neuron's sim code only: compute yTrue there "
                             f"(model.append_sim_code)")
    was, now = before.model.get("sim_code") or "", after.model.get("sim_code") or ""
    if not now.startswith(was):
        raise ModelError(f"{where}.add_to_neuron changed the neuron's existing sim code (e.g. "
                         f"prepended or replaced code); irsnn takes a loss's code appended "
                         f"only: use model.append_sim_code")
    code = now[len(was):]
    if not _DECLARES_YTRUE.search(code):
        raise ModelError(f"{where}.add_to_neuron appended no code that sets yTrue (the "
                         f"target of each output neuron at each timestep, from which e-prop's "
                         f"error output - yTrue is formed); append e.g. 'const scalar yTrue = "
                         f"YTrue[...];' with model.append_sim_code")
    old_params = {p if isinstance(p, str) else p[0]
                  for p in _entries(before, "params", "param_names", "param_name_types")}
    new_params = [p if isinstance(p, str) else p[0]
                  for p in _entries(after, "params", "param_names", "param_name_types")
                  if (p if isinstance(p, str) else p[0]) not in old_params]
    removed = sorted(old_params - {p if isinstance(p, str) else p[0] for p in _entries(
        after, "params", "param_names", "param_name_types")})
    if removed:
        raise ModelError(f"{where}.add_to_neuron removed parameters {removed} of the neuron "
                         f"model (e.g. make_param_var); a loss may only add variables, extra "
                         f"global parameters and code")
    if new_params:
        raise ModelError(f"{where}.add_to_neuron adds parameters {new_params}; irsnn's loss "
                         f"hook takes variables and extra global parameters: write the value "
                         f"into the code (an f-string constant) or add it with model.add_var")
    old_vars = {v[0]: tuple(v) for v in _entries(before, "vars", "var_name_types")}
    new_vars = _entries(after, "vars", "var_name_types")
    if any(old_vars.get(v[0], tuple(v)) != tuple(v) for v in new_vars) \
            or set(old_vars) - {v[0] for v in new_vars}:
        raise ModelError(f"{where}.add_to_neuron changed or removed variables of the neuron "
                         f"model; a loss may only add variables")
    vars_, shared = [], []
    for v in new_vars:
        if v[0] in old_vars:
            continue
        init = after.var_vals.get(v[0], 0.0)
        if isinstance(init, bool | int | float | np.number) and np.isfinite(init):
            init = float(init)
        else:
            raise ModelError(f"{where}.add_to_neuron: variable '{v[0]}' starts from {init!r}; "
                             f"irsnn's loss variables start from one number (set_target "
                             f"writes their values)")
        access = v[2] if len(v) > 2 else None
        if _is_shared(access):
            shared.append(v[0])
        vars_.append(Var(v[0], _type(v[1], where, f"variable '{v[0]}'"), "readonly",
                         VarInit("constant", init), role="loss"))
    old_egps = {e[0] for e in _entries(before, "extra_global_params")}
    egps, egp_init = [], {}
    for e in _entries(after, "extra_global_params"):
        if e[0] in old_egps:
            continue
        value = after.egp_vals.get(e[0])
        if value is None or np.size(value) == 0:
            raise ModelError(f"{where}.add_to_neuron: extra global parameter '{e[0]}' has no "
                             f"value; give add_egp an array of the size set_target fills (its "
                             f"contents are not used)")
        egps.append(EGP(e[0], _type(e[1], where, f"extra global parameter '{e[0]}'")))
        egp_init[e[0]] = int(np.size(value))
    spec = ModelLoss(kind=_label(loss), softmax=isinstance(loss, SparseCategoricalCrossentropy),
                     vars=tuple(vars_), egps=tuple(egps), sim_code=code)
    return spec, {"shared": tuple(shared), "egp_sizes": egp_init}


def _has_own(loss, hook) -> bool:
    from . import Loss
    return getattr(type(loss), hook, None) is not getattr(Loss, hook, None)
