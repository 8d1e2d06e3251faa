"""User custom updates written as mlGeNN writes them (a :class:`~irsnn.utils.model.
CustomUpdateModel`), run on the host by name.

Requires: NumPy, :mod:`irsnn.lang` (the update code is parsed, checked and run with NumPy like
any model code), the compiled network's variable views (:mod:`.genn_model`) and
:mod:`irsnn.errors`. Provides :class:`HostCustomUpdate` and :func:`resolve_var_ref`.

In mlGeNN a compiler adds a custom update with ``add_custom_update(genn_model, model, group,
name)`` and a ``CustomUpdateOn...`` callback runs its group by name. irsnn has no GeNN model: a
custom update is added to a compiled network (``compiled_net.add_custom_update(model, group)``,
or the compiler's ``add_custom_update(compiled_net.genn_model, model, group, name)``), and
``compiled_net.genn_model.custom_update(group)`` (so the ``CustomUpdateOn...`` callbacks) runs
every update of the group, in the order added, between timesteps on the host: it reads the
referenced variables, runs ``update_code`` element by element and writes back the references the
code assigns, on every backend.

``var_refs`` map each reference name to a variable of this network: a view
(``compiled_net.neuron_populations[pop].vars["V"]``,
``compiled_net.connection_populations[conn].vars["g"]``) or a ``(population or connection
or its name, variable)`` pair. Every reference of one update must have the same shape
(``(batch, neurons)`` of populations, ``(pre, post)`` dense weights of a connection). The code
can name the references, the update's ``vars`` (state of the same shape kept between runs,
starting from their numbers) and ``params`` (numbers; dynamic ones set with
``set_dynamic_param_value``), ``id`` (neuron) and ``batch`` for population variables, ``id_pre``
and ``id_post`` for weights, and the math functions. What GeNN offers beyond this is refused
with a message: batch or neuron reductions (``REDUCE_*`` access), extra global parameter
references, initialisers as initial values.
"""

from __future__ import annotations

import numpy as np

from ..errors import ModelError


def _entries(model, key):
    return list(model.model.get(key, ()) or ())


def _refuse_reduction(owner, what, name, access):
    if access is not None and "reduce" in str(access).lower():
        raise ModelError(f"{owner}: {what} '{name}' has access {access!r}, a reduction over "
                         f"the batch or the neurons; irsnn runs custom updates element by "
                         f"element on the host and has no reductions in them: reduce with "
                         f"NumPy in a callback (compiled_net.neuron_populations[...].vars)")


def resolve_var_ref(net, owner, name, ref):
    """The :class:`~.genn_model.VarView` that reference ``name`` (``ref``) points to, and
    whether it is a population variable (else weights)."""
    from ..connection import Connection
    if hasattr(ref, "pull_from_device") and hasattr(ref, "owner"):   # a VarView
        is_pop = ref.owner.startswith("Population")
        group = net.neuron_populations if is_pop else net.connection_populations
        target = ref.owner.split("'")[1] if "'" in ref.owner else ref.owner
        return group[target].vars[ref.name], is_pop
    if isinstance(ref, tuple) and len(ref) == 2 and isinstance(ref[1], str):
        target, var = ref
        conn_names = {c.name for c in net.network.connections}
        if isinstance(target, Connection) or (isinstance(target, str) and target in conn_names):
            return net.connection_populations[target].vars[var], False
        pop = net.neuron_populations[target]
        if var not in pop and getattr(target, "connection", None) is not None:
            # a Layer: its population's variables, else its incoming connection's weights
            conn = target.connection
            return net.connection_populations[conn() if callable(conn) else conn].vars[var], \
                False
        return pop.vars[var], True
    raise ModelError(f"{owner}: variable reference '{name}' is {ref!r}; give a variable view "
                     f"(compiled_net.neuron_populations[pop].vars['V']) or a (population or "
                     f"connection, variable name) pair")


class HostCustomUpdate:
    """One custom update of a compiled network, run on the host (see the module docstring).

    Parameters
    ----------
    net : CompiledNetwork
        The network whose variables it references.
    model : CustomUpdateModel
        ``update_code``, ``vars``, ``params`` and ``var_refs``.
    group, name : str
        The group that runs it (``custom_update(group)``) and its own name (messages).
    """

    def __init__(self, net, model, group: str, name: str):
        from ..utils.model import CustomUpdateModel
        owner = f"custom update '{name}' (group '{group}')"
        self.owner, self.group, self.name = owner, group, name
        if not isinstance(model, CustomUpdateModel):
            raise ModelError(f"{owner}: the model is a {type(model).__name__}; give an "
                             f"irsnn.utils.model.CustomUpdateModel")
        code = model.model.get("update_code") or ""
        if not code.strip():
            raise ModelError(f"{owner}: the model has no 'update_code'")
        if _entries(model, "egp_refs") or getattr(model, "egp_refs", None):
            raise ModelError(f"{owner}: extra global parameter references are not supported "
                             f"by irsnn's custom updates; pass the values as parameters")
        if _entries(model, "extra_global_params"):
            raise ModelError(f"{owner}: extra global parameters are not supported by irsnn's "
                             f"custom updates; use parameters or variables")
        refs = {}
        for r in _entries(model, "var_refs"):
            _refuse_reduction(owner, "variable reference", r[0], r[2] if len(r) > 2 else None)
            if r[0] not in model.var_refs:
                raise ModelError(f"{owner}: variable reference '{r[0]}' has no target in "
                                 f"var_refs")
            refs[r[0]] = resolve_var_ref(net, owner, r[0], model.var_refs[r[0]])
        if not refs:
            raise ModelError(f"{owner}: the model references no variables (var_refs); a "
                             f"custom update must update some")
        shapes = {n: v.view.shape for n, (v, _) in refs.items()}
        if len(set(shapes.values())) != 1:
            raise ModelError(f"{owner}: its variable references have different shapes "
                             f"{shapes}; irsnn runs a custom update element by element over "
                             f"variables of one shape: split it into one update per shape")
        self._refs = refs
        self._shape = next(iter(shapes.values()))
        self._is_pop = next(iter(refs.values()))[1]
        state = {}
        for v in _entries(model, "vars"):
            _refuse_reduction(owner, "variable", v[0], v[2] if len(v) > 2 else None)
            init = model.var_vals.get(v[0], 0.0)
            if not isinstance(init, int | float | np.number):
                raise ModelError(f"{owner}: variable '{v[0]}' starts from {init!r}; irsnn's "
                                 f"custom update variables start from one number")
            state[v[0]] = np.full(self._shape, float(init), np.float32)
        self.vars = state
        params = [p if isinstance(p, str) else p[0] for p in _entries(model, "params")]
        missing = [p for p in params if p not in model.param_vals]
        if missing:
            raise ModelError(f"{owner}: parameters {missing} have no value in param_vals")
        self.params = {p: float(model.param_vals[p]) for p in params}
        self._dynamic = set(getattr(model, "dynamic_params", ()))
        self._code = self._compile(code, params)

    def _compile(self, code, params):
        from irsnn.lang import Scope, Symbol, Where, check, compile_numpy, parse_statements
        scope = Scope().with_math()
        for n in self._refs:
            scope.add(Symbol(n, "scalar", "var", writable=True))
        for n in self.vars:
            scope.add(Symbol(n, "scalar", "var", writable=True))
        for n in params:
            scope.add(Symbol(n, "scalar", "param"))
        builtins = ("id", "batch") if self._is_pop else ("id_pre", "id_post")
        for n in builtins:
            scope.add(Symbol(n, "unsigned int", "builtin"))
        where = Where(self.owner, "update_code")
        checked = check(parse_statements(code, where), scope, where)
        self._writes = set(checked.writes)
        return compile_numpy(checked)

    def set_dynamic_param_value(self, name: str, value) -> None:
        """Set dynamic parameter ``name`` (one made dynamic with ``set_param_dynamic``)."""
        if name not in self._dynamic:
            raise ModelError(f"{self.owner}: parameter '{name}' is not dynamic (dynamic: "
                             f"{sorted(self._dynamic)}); call set_param_dynamic on the model")
        self.params[name] = float(value)

    def _builtins(self):
        shape = self._shape
        if self._is_pop:
            idx = np.arange(shape[-1], dtype=np.uint32)
            batch = (np.arange(shape[0], dtype=np.uint32)[:, None] if len(shape) == 2
                     else np.uint32(0))
            return {"id": idx, "batch": batch}
        return {"id_pre": np.arange(shape[0], dtype=np.uint32)[:, None],
                "id_post": np.arange(shape[1], dtype=np.uint32)[None, :]}

    def run(self) -> None:
        """Read the references, run the code, write back what it assigned."""
        env = {n: np.asarray(v.values, np.float32) for n, (v, _) in self._refs.items()}
        env.update(self.vars)
        env.update({k: np.float32(v) for k, v in self.params.items()})
        env.update(self._builtins())
        env["__shape__"] = self._shape
        self._code.run(env)
        for n in self.vars:
            self.vars[n] = np.broadcast_to(env[n], self._shape).astype(np.float32)
        for n, (view, _) in self._refs.items():
            if n in self._writes:
                view.values = np.broadcast_to(env[n], self._shape)
