"""Optimisers written mlGeNN's way: ``get_model`` returning a custom update model and
``set_step`` setting its dynamic parameters.

Requires: :mod:`irsnn.errors`, :mod:`irsnn.utils.model` and, when the update runs on the host,
:mod:`irsnn.lang`. Provides :func:`uses_custom_update` and :class:`CustomUpdateOptimiser`, the
irsnn :class:`~irsnn.optimisers.Optimiser` that runs such an optimiser.

An mlGeNN optimiser's ``get_model(gradient_ref, var_ref, zero_gradient, clamp_var)`` gives a
:class:`~irsnn.utils.model.CustomUpdateModel`: ``update_code`` over variable references (one
bound to the gradient, one to the parameter), state ``vars`` and ``params``, some of them made
dynamic; ``set_step(genn_cu, step)`` (``step`` from 0) sets the dynamic ones through
``genn_cu.set_dynamic_param_value(name, value)`` before each update. irsnn runs the same code
as its optimiser kernels (the references renamed to ``Param`` and ``Gradient``, the parameters
as per-step scalars), and on the host with NumPy where the update cannot run in kernels.
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import ModelError
from . import Optimiser

_GRADIENT, _PARAM = object(), object()


def uses_custom_update(optimiser) -> bool:
    """Whether ``optimiser`` is written mlGeNN's way (defines ``get_model``)."""
    return callable(getattr(type(optimiser), "get_model", None))


class _DynamicParams:
    """What ``set_step`` receives as ``genn_cu``: records the dynamic parameter values."""

    def __init__(self, owner, dynamic):
        self.owner, self.dynamic, self.values = owner, dynamic, {}

    def set_dynamic_param_value(self, name, value):
        if name not in self.dynamic:
            raise ModelError(f"{self.owner}: set_step sets '{name}', which get_model did not "
                             f"make dynamic (dynamic: {sorted(self.dynamic)})")
        self.values[name] = float(value)


class CustomUpdateOptimiser(Optimiser):
    """Runs an mlGeNN-style optimiser ``inner`` (see the module docstring). Attributes not
    found here are read from and written to ``inner`` (so schedules that change e.g.
    ``alpha`` reach it)."""

    def __init__(self, inner):
        owner = type(inner).__name__
        object.__setattr__(self, "inner", inner)
        object.__setattr__(self, "owner", owner)
        model = inner.get_model(_GRADIENT, _PARAM, False, None)
        code = (model.model.get("update_code") or "") if hasattr(model, "model") else ""
        if not code.strip():
            raise ModelError(f"{owner}.get_model must return a CustomUpdateModel with "
                             f"'update_code'")
        refs = dict(getattr(model, "var_refs", {}))
        grad = [n for n, r in refs.items() if r is _GRADIENT]
        param = [n for n, r in refs.items() if r is _PARAM]
        if len(grad) != 1 or len(param) != 1:
            raise ModelError(f"{owner}.get_model must bind one variable reference to the "
                             f"gradient_ref and one to the var_ref it is given (got "
                             f"{sorted(refs)})")
        vars_ = [v[0] for v in model.model.get("vars", ()) or ()]
        params = [p if isinstance(p, str) else p[0] for p in model.model.get("params", ()) or ()]
        clash = sorted({"Param", "Gradient"} & (set(vars_) | set(params)))
        if clash:
            raise ModelError(f"{owner}: the names {clash} are reserved for the references; "
                             f"rename those variables/parameters")
        for v in vars_:
            if float(np.asarray(model.var_vals.get(v, 0.0))) != 0.0:
                raise ModelError(f"{owner}: state variable '{v}' starts at "
                                 f"{model.var_vals.get(v)}; irsnn starts optimiser state at 0")
        for old, new in ((grad[0], "Gradient"), (param[0], "Param")):
            code = re.sub(rf"\b{re.escape(old)}\b", new, code)
        object.__setattr__(self, "update_code", code)
        object.__setattr__(self, "state_names", tuple(vars_))
        object.__setattr__(self, "_static", {p: float(model.param_vals[p]) for p in params})
        object.__setattr__(self, "_dynamic", set(getattr(model, "dynamic_params", ())))
        object.__setattr__(self, "name", getattr(inner, "name", "") or owner.lower())
        object.__setattr__(self, "_host", None)

    def __getattr__(self, name):
        return getattr(object.__getattribute__(self, "inner"), name)

    def __setattr__(self, name, value):
        setattr(self.inner, name, value)

    def params(self):
        return dict(self._static)

    def scalars(self, step):
        """The parameters, the dynamic ones as ``inner.set_step(.., step - 1)`` sets them."""
        cu = _DynamicParams(self.owner, self._dynamic)
        if hasattr(self.inner, "set_step"):
            self.inner.set_step(cu, step - 1)
        return {**self._static, **cu.values}

    def step(self, param, grad, state, step):
        """The update on the host: the same code, run with NumPy (:mod:`irsnn.lang`)."""
        from irsnn.lang import Scope, Symbol, Where, check, compile_numpy, parse_statements
        if self._host is None:
            scope = Scope().with_math()
            scope.add(Symbol("Param", "scalar", "var", writable=True),
                      Symbol("Gradient", "scalar", "var"))
            for n in self.state_names:
                scope.add(Symbol(n, "scalar", "var", writable=True))
            for n in self._static:
                scope.add(Symbol(n, "scalar", "param"))
            where = Where(f"Optimiser {self.owner}", "update code")
            object.__setattr__(self, "_host", compile_numpy(
                check(parse_statements(self.update_code, where), scope, where)))
        f32 = np.float32
        env = {"Param": param.astype(f32), "Gradient": np.asarray(grad, f32)}
        env.update({n: np.asarray(state[n], f32) for n in self.state_names})
        env.update({k: f32(v) for k, v in self.scalars(step).items()})
        self._host.run(env)
        param[...] = env["Param"]
        for n in self.state_names:
            state[n][...] = env[n]

    def __repr__(self):
        return f"CustomUpdateOptimiser({self.inner!r})"
