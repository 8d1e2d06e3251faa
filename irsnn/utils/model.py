"""Model descriptions: the seam between the front end and the IR.

Requires: :mod:`irsnn.errors` (:class:`~irsnn.utils.value.ValueDescriptor` is imported when
used). Provides :class:`Model` with its subclasses :class:`NeuronModel`, :class:`SynapseModel`,
:class:`WeightUpdateModel`, :class:`CustomUpdateModel` (mlGeNN's optimisers' models and user
custom updates, see :mod:`irsnn.compilers.custom_updates`) and
:class:`CustomConnectivityUpdateModel` (accepted, not run);
:class:`CanonicalModel` (what ``Model.canonical`` gives lowering); and :data:`SCHEDULE_EGPS`.

A neuron, synapse or weight-update model is a *model dict* (the keys of GeNN 5, or the legacy
GeNN 4 keys that mlGeNN 1 used) plus the values of its parameters, variables and extra global
parameters. Built-in models and user models take the same path: ``Neuron.get_model`` returns a
:class:`NeuronModel`, lowering calls :meth:`Model.canonical` and the code strings go through
:mod:`irsnn.lang`.

Model dict keys understood (GeNN 5 name, then the GeNN 4 spelling):

``params`` / ``param_names`` / ``param_name_types``
    ``[name]`` or ``[(name, type)]``
``vars`` / ``var_name_types``
    ``[(name, type)]`` or ``[(name, type, access)]``; access ``"readwrite"`` (default) or
    ``"readonly"``
``extra_global_params``
    ``[(name, type)]``; a type ending in ``*`` is an array
``additional_input_vars``
    ``[(name, type, initial_value)]``
``sim_code``, ``threshold_condition_code``, ``reset_code``
    neuron code strings; ``negative_threshold_condition_code`` for signed spikes
``sim_code`` or (``apply_input_code`` + ``decay_code``)
    postsynaptic (synapse) model code strings
``is_auto_refractory_required``
    accepted for compatibility; irsnn never adds automatic refractoriness
``spike_schedule`` (irsnn)
    ``True`` for a neuron model without code whose spikes are given per timestep by the host
    (:class:`~irsnn.neurons.SpikeInput`): the model gets the extra global parameters of
    :data:`SCHEDULE_EGPS`, which its ``set_input`` fills (see
    :func:`irsnn.utils.data.spike_schedule`)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from inspect import getmembers, isdatadescriptor
from textwrap import dedent

from ..errors import ModelError

_ACCESS_NAMES = {
    None: "readwrite",
    "readwrite": "readwrite",
    "read_write": "readwrite",
    "readonly": "readonly",
    "read_only": "readonly",
    "readonly_duplicate": "readonly",
    "read_only_duplicate": "readonly",
    "readonly_shared_neuron": "readonly",
}


#: Extra global parameters of a ``spike_schedule`` model: the neuron ids that spike, step by
#: step and batch element by batch element (ascending ids within a step); where the spikes of
#: step ``k`` (counted from the schedule's first step) of batch element ``b`` start and end in
#: them (``ScheduleOffsets[b * steps + k]`` .. ``[b * steps + k + 1]``); and the schedule's
#: first timestep and number of steps (``ScheduleWindow = [first, steps]``).
SCHEDULE_EGPS = (("ScheduleSpikes", "unsigned int*"), ("ScheduleOffsets", "unsigned int*"),
                 ("ScheduleWindow", "unsigned int*"))


#: what model code can name: ASCII letters, digits and '_', not starting with '_' (reserved
#: for generated code) or a digit
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


def _check_declarations(owner, params, vars_, egps, extra):
    """Every declared name is a name model code can use and every type a type of the language
    (extra global parameters may be arrays, ``type*``); an additional input ``I`` and a
    variable ``add_I`` cannot both exist (their generated names would clash)."""
    from irsnn.lang.tokens import KEYWORDS, REJECTED_KEYWORDS
    from irsnn.lang.types import canonical_type_name
    fields = ([("params", n, t) for n, t in params] + [("vars", v[0], v[1]) for v in vars_]
              + [("extra_global_params", n, t) for n, t in egps]
              + [("additional_input_vars", a[0], a[1]) for a in extra])
    for field, name, typ in fields:
        if not isinstance(name, str) or not _NAME.match(name) or name in KEYWORDS \
                or name in REJECTED_KEYWORDS:
            raise ModelError(f"{owner}: {field} declares {name!r}, which is not a name model "
                             f"code can use; use ASCII letters, digits and '_', starting with "
                             f"a letter, and no keyword")
        base = typ[:-1].strip() if field == "extra_global_params" and isinstance(typ, str) \
            and typ.endswith("*") else typ
        if not isinstance(base, str) or canonical_type_name(base) is None:
            arrays = " (or an array of one, 'type*')" if field == "extra_global_params" else ""
            raise ModelError(f"{owner}: {field} declares '{name}' of type {typ!r}, which is not "
                             f"a type of model code; use scalar, float, double, int, unsigned "
                             f"int or bool{arrays}")
    declared = {n for f, n, _ in fields if f != "additional_input_vars"}
    for a in extra:
        if f"add_{a[0]}" in declared:
            raise ModelError(f"{owner}: additional input var '{a[0]}' and the declared "
                             f"'add_{a[0]}' would share a name in generated code; rename one")


def _access(value, owner, name):
    key = value if value is None else str(value).lower()
    # Accept GeNN enum-like objects and names such as "VarAccess_READ_ONLY_DUPLICATE"
    if key is not None and key not in _ACCESS_NAMES:
        key = key.split(".")[-1].replace("varaccess_", "").replace("varaccessmode_", "")
    if key not in _ACCESS_NAMES:
        raise ModelError(
            f"{owner}: variable '{name}' has access mode {value!r}; "
            f"use one of 'readwrite' or 'readonly'")
    return _ACCESS_NAMES[key]


@dataclass(frozen=True)
class CanonicalModel:
    """A model dict with the GeNN 4/5 spellings resolved to one form.

    Code strings are kept as written (legacy ``$(name)`` included); :mod:`irsnn.lang` parses both.
    """

    params: tuple[tuple[str, str], ...] = ()
    vars: tuple[tuple[str, str, str], ...] = ()          # (name, type, access)
    egps: tuple[tuple[str, str], ...] = ()
    additional_input_vars: tuple[tuple[str, str, float], ...] = ()
    sim_code: str = ""
    threshold_code: str = ""
    negative_threshold_code: str = ""
    reset_code: str = ""
    apply_input_code: str = ""
    decay_code: str = ""
    spike_schedule: bool = False


class Model:
    """A model dict plus the values of its parameters, variables and extra global parameters.

    Parameters
    ----------
    model : dict
        GeNN 5 or GeNN 4 style model dict (see the module docstring for the keys).
    param_vals, var_vals, egp_vals : dict
        Values keyed by the model's names. A value may be a number, a sequence or array, or an
        :class:`irsnn.initializers.Initializer`.
    """

    def __init__(self, model, param_vals=None, var_vals=None, egp_vals=None):
        if not isinstance(model, dict):
            raise ModelError(
                f"{type(self).__name__}: the model description must be a dict "
                f"(got {type(model).__name__})")
        self.model = model
        self.param_vals = dict(param_vals or {})
        self.var_vals = dict(var_vals or {})
        self.egp_vals = dict(egp_vals or {})

    # -- builders used by readouts and learning-rule passes -------------------------------
    def has_param(self, name) -> bool:
        return self._declares(("params", "param_names", "param_name_types"), name)

    def has_var(self, name) -> bool:
        return self._declares(("vars", "var_name_types"), name)

    def has_egp(self, name) -> bool:
        return self._declares(("extra_global_params",), name)

    def _declares(self, keys, name) -> bool:
        return any((e if isinstance(e, str) else e[0]) == name
                   for k in keys for e in self.model.get(k, ()) or ())

    def add_param(self, name, type, value):
        self._add_to_list("params", (name, type))
        self.param_vals[name] = value

    def add_var(self, name, type, value, access_mode="readwrite"):
        self._add_to_list("vars", (name, type, access_mode))
        self.var_vals[name] = value

    def add_egp(self, name, type, value):
        self._add_to_list("extra_global_params", (name, type))
        self.egp_vals[name] = value

    def _add_to_list(self, key, value):
        # Keep whichever spelling the dict already uses
        legacy = {"params": "param_name_types", "vars": "var_name_types"}
        if key in legacy and key not in self.model and legacy[key] in self.model:
            key = legacy[key]
        self.model = dict(self.model)
        self.model[key] = list(self.model.get(key, [])) + [value]

    def _append_code(self, key, code):
        code = dedent(code)
        self.model = dict(self.model)
        self.model[key] = (self.model.get(key) or "") + f"\n{code}\n"

    def _prepend_code(self, key, code):
        code = dedent(code)
        self.model = dict(self.model)
        self.model[key] = f"{code}\n" + (self.model.get(key) or "")

    def _replace_code(self, key, source, target):
        if self.model.get(key):
            self.model = dict(self.model)
            self.model[key] = self.model[key].replace(source, target)

    # -- canonical view --------------------------------------------------------------------
    def canonical(self, owner: str) -> CanonicalModel:
        """Resolve GeNN 4/5 spellings into a :class:`CanonicalModel`.

        ``owner`` names the object (e.g. ``"Population 'hidden'"``) for error messages.
        """
        m = self.model
        known = {"params", "param_names", "param_name_types", "vars", "var_name_types",
                 "extra_global_params", "additional_input_vars", "sim_code",
                 "threshold_condition_code", "negative_threshold_condition_code",
                 "reset_code", "is_auto_refractory_required", "apply_input_code", "decay_code",
                 "derived_params", "spike_schedule"}
        unknown = sorted(set(m) - known)
        if unknown:
            raise ModelError(
                f"{owner}: model dict has unknown keys {unknown}; valid keys are "
                f"{sorted(known)}")
        if m.get("derived_params"):
            raise ModelError(
                f"{owner}: 'derived_params' are not supported; compute the value in Python "
                f"and pass it as a parameter")

        params = []
        for key in ("params", "param_names", "param_name_types"):
            for p in m.get(key, ()) or ():
                params.append((p, "scalar") if isinstance(p, str) else (p[0], p[1]))
        vars_ = []
        for key in ("vars", "var_name_types"):
            for v in m.get(key, ()) or ():
                if isinstance(v, str) or len(v) < 2:
                    raise ModelError(
                        f"{owner}: variable {v!r} must be a (name, type) or "
                        f"(name, type, access) tuple")
                access = _access(v[2] if len(v) > 2 else None, owner, v[0])
                vars_.append((v[0], v[1], access))
        egps = [(e[0], e[1]) for e in m.get("extra_global_params", ()) or ()]
        schedule = m.get("spike_schedule", False)
        if not isinstance(schedule, bool):
            raise ModelError(f"{owner}: 'spike_schedule' must be True or False "
                             f"(got {schedule!r})")
        if schedule:
            coded = [k for k in ("sim_code", "threshold_condition_code",
                                 "negative_threshold_condition_code", "reset_code")
                     if (m.get(k) or "").strip()]
            if coded:
                raise ModelError(f"{owner}: a 'spike_schedule' model's spikes come from its "
                                 f"schedule, so it has no code; remove {coded}")
            egps += list(SCHEDULE_EGPS)
        extra = []
        for a in m.get("additional_input_vars", ()) or ():
            if len(a) != 3:
                raise ModelError(
                    f"{owner}: additional input var {a!r} must be (name, type, initial_value)")
            extra.append((a[0], a[1], float(a[2])))

        _check_declarations(owner, params, vars_, egps, extra)
        names = [n for n, _ in params] + [v[0] for v in vars_] + [e[0] for e in egps]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ModelError(f"{owner}: names {dup} are declared more than once in the model")
        for n, _ in params:
            if n not in self.param_vals:
                raise ModelError(
                    f"{owner}: parameter '{n}' has no value; add it to param_vals "
                    f"(known values: {sorted(self.param_vals)})")
        for v in vars_:
            if v[0] not in self.var_vals:
                raise ModelError(
                    f"{owner}: variable '{v[0]}' has no initial value; add it to var_vals "
                    f"(known values: {sorted(self.var_vals)})")
        stray = sorted(set(self.param_vals) - {n for n, _ in params})
        stray += sorted(set(self.var_vals) - {v[0] for v in vars_})
        if stray:
            raise ModelError(
                f"{owner}: values given for {stray}, which the model dict does not declare; "
                f"declare them under 'params'/'vars' or remove the values")
        return CanonicalModel(
            params=tuple(params), vars=tuple(vars_), egps=tuple(egps),
            additional_input_vars=tuple(extra),
            sim_code=m.get("sim_code") or "",
            threshold_code=m.get("threshold_condition_code") or "",
            negative_threshold_code=m.get("negative_threshold_condition_code") or "",
            reset_code=m.get("reset_code") or "",
            apply_input_code=m.get("apply_input_code") or "",
            decay_code=m.get("decay_code") or "", spike_schedule=schedule)

    # -- construction from ValueDescriptors -----------------------------------------------
    @classmethod
    def from_val_descriptors(cls, model, output_var_name_or_inst, *args, param_vals=None,
                             var_vals=None, egp_vals=None):
        """Build a model whose values come from the instance's :class:`ValueDescriptor` s.

        ``NeuronModel.from_val_descriptors(model, "V", inst, dt)`` (neurons name their output
        variable) and ``SynapseModel.from_val_descriptors(model, inst, dt)`` both work.
        """
        if cls is NeuronModel:
            output_var_name, (inst, dt) = output_var_name_or_inst, args
        else:
            output_var_name, (inst, dt) = None, (output_var_name_or_inst, *args)
        params, vars_ = dict(param_vals or {}), dict(var_vals or {})
        descriptors = _descriptors(inst)
        for key in ("params", "param_names", "param_name_types"):
            for p in model.get(key, ()) or ():
                name = p if isinstance(p, str) else p[0]
                if name in descriptors and name not in params:
                    params[name] = descriptors[name].get_transformed(inst, dt, name)
        for key in ("vars", "var_name_types"):
            for v in model.get(key, ()) or ():
                if v[0] in descriptors and v[0] not in vars_:
                    vars_[v[0]] = descriptors[v[0]].get_transformed(inst, dt, v[0])
        if cls is NeuronModel:
            return cls(model, output_var_name, params, vars_, egp_vals)
        return cls(model, params, vars_, egp_vals)


def _descriptors(inst):
    """Model name -> the ValueDescriptor of ``inst``'s class that provides it (a descriptor
    may provide several names, each with its own transform)."""
    from .value import ValueDescriptor
    return {name: d for _, d in getmembers(type(inst), isdatadescriptor)
            if isinstance(d, ValueDescriptor) for name, _ in d.genn_transforms}


class NeuronModel(Model):
    """A neuron model: sim, threshold and reset code plus the name of its output variable."""

    def __init__(self, model, output_var_name, param_vals=None, var_vals=None, egp_vals=None):
        super().__init__(model, param_vals, var_vals, egp_vals)
        self.output_var_name = output_var_name

    def add_additional_input_var(self, name, type, init_val):
        self._add_to_list("additional_input_vars", (name, type, init_val))

    def append_sim_code(self, code):
        self._append_code("sim_code", code)

    def append_reset_code(self, code):
        self._append_code("reset_code", code)

    def prepend_sim_code(self, code):
        self._prepend_code("sim_code", code)

    def prepend_reset_code(self, code):
        self._prepend_code("reset_code", code)

    def replace_sim_code(self, source, target):
        self._replace_code("sim_code", source, target)

    def replace_threshold_condition_code(self, source, target):
        self._replace_code("threshold_condition_code", source, target)

    def replace_reset_code(self, source, target):
        self._replace_code("reset_code", source, target)

    @property
    def output_var(self):
        """The declaration ``(name, type[, access])`` of the output variable."""
        for key in ("vars", "var_name_types"):
            for v in self.model.get(key, ()) or ():
                if v[0] == self.output_var_name:
                    return tuple(v)
        raise ModelError(f"NeuronModel: output variable {self.output_var_name!r} is not "
                         f"declared in the model's variables")


class SynapseModel(Model):
    """A postsynaptic model: code that turns ``inSyn`` into input current.

    GeNN 5 form: ``sim_code`` calling ``injectCurrent(x)`` and updating ``inSyn``.
    GeNN 4 form: ``apply_input_code`` (``$(Isyn) += ...``) and ``decay_code``.
    """


class WeightUpdateModel(Model):
    """A weight-update model (used by learning rules), with pre- and postsynaptic variables."""

    def __init__(self, model, param_vals=None, var_vals=None, pre_var_vals=None,
                 post_var_vals=None, egp_vals=None):
        super().__init__(model, param_vals, var_vals, egp_vals)
        self.pre_var_vals = dict(pre_var_vals or {})
        self.post_var_vals = dict(post_var_vals or {})


class CustomUpdateModel(Model):
    """A custom update (mlGeNN's, as its optimisers' ``get_model`` return): ``update_code``
    over state ``vars``, ``params`` and variable references ``var_refs`` (name -> the
    referenced variable, given in ``var_refs``); parameters can be made dynamic (set before
    each update). irsnn runs optimisers given this way (see
    :mod:`irsnn.optimisers.custom_update`)."""

    def __init__(self, model, param_vals=None, var_vals=None, var_refs=None, egp_vals=None,
                 egp_refs=None):
        super().__init__(model, param_vals, var_vals, egp_vals)
        self.var_refs = dict(var_refs or {})
        self.egp_refs = dict(egp_refs or {})
        self.dynamic_params: set[str] = set()

    def has_var_ref(self, name) -> bool:
        return any(r[0] == name for r in self.model.get("var_refs", ()) or ())

    def add_var_ref(self, name, type, value):
        if self.has_var_ref(name):
            raise ModelError(f"CustomUpdateModel: variable reference '{name}' already exists")
        self._add_to_list("var_refs", (name, type))
        self.var_refs[name] = value

    def set_var_ref_access_mode(self, name, access_mode):
        """Accepted for compatibility: irsnn derives access from the code."""
        if not self.has_var_ref(name):
            raise ModelError(f"CustomUpdateModel: no variable reference '{name}'")

    def set_param_dynamic(self, name, dynamic: bool = True):
        """Mark parameter ``name`` as set before each update (``set_dynamic_param_value``)."""
        names = [p if isinstance(p, str) else p[0] for p in self.model.get("params", ()) or ()]
        if name not in names:
            raise ModelError(f"CustomUpdateModel: no parameter '{name}' (parameters: {names})")
        (self.dynamic_params.add if dynamic else self.dynamic_params.discard)(name)

    def append_update_code(self, code):
        self._append_code("update_code", code)


class CustomConnectivityUpdateModel(Model):
    """mlGeNN's custom connectivity update model (code that adds and removes synapses), kept so
    that code constructing one imports and runs; irsnn cannot run it:
    :meth:`irsnn.compilers.Compiler.add_custom_connectivity_update` refuses it and says what
    to use instead (Deep-R rewiring, or a connection built with the wanted synapses)."""

    def __init__(self, model, param_vals=None, var_vals=None, pre_var_vals=None,
                 post_var_vals=None, var_refs=None, pre_var_refs=None, post_var_refs=None,
                 egp_vals=None, egp_refs=None):
        super().__init__(model, param_vals, var_vals, egp_vals)
        self.pre_var_vals = dict(pre_var_vals or {})
        self.post_var_vals = dict(post_var_vals or {})
        self.var_refs = dict(var_refs or {})
        self.pre_var_refs = dict(pre_var_refs or {})
        self.post_var_refs = dict(post_var_refs or {})
        self.egp_refs = dict(egp_refs or {})
