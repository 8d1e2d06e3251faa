"""mlGeNN's readout extension hooks on irsnn's readouts.

Requires: NumPy and :mod:`irsnn.errors`. Provides :func:`overrides_model_hook` (does a readout
class implement mlGeNN's ``add_readout_logic``?), :func:`lower_model_readout` (what such a
readout added to a neuron model: accumulators and code) and :func:`read_through_get_readout`
(a readout's ``get_readout(genn_pop, batch_size, shape)`` called on the pulled values).

An mlGeNN readout modifies a copy of the neuron model in ``add_readout_logic(model,
example_timesteps=..., dt=...)`` (adding variables, appending sim and reset code) and reads the
compiled population in ``get_readout(genn_pop, batch_size, shape)`` through
``genn_pop.vars[name].view`` (after ``pull_from_device()``). irsnn lowers the first into the
IR as the variables and code it added, and answers the second with the values of those
variables at the end of the example.
"""

from __future__ import annotations

from copy import deepcopy

import numpy as np

from ..errors import ModelError

_CODE_KEYS = (("sim_code",), ("reset_code",))


def overrides_model_hook(readout, hook: str) -> bool:
    """Whether ``type(readout)`` defines ``hook`` itself rather than inheriting irsnn's."""
    from . import Readout
    return getattr(type(readout), hook, None) is not getattr(Readout, hook, None)


def _var_list(model):
    for key in ("vars", "var_name_types"):
        if key in model.model:
            return list(model.model[key] or ())
    return []


def lower_model_readout(readout, model, example_timesteps, dt, owner):
    """``(accumulators, sim_code, reset_code)`` that ``readout.add_readout_logic`` added to a
    copy of the neuron model ``model``; accumulators as ``(name, type, initial value)``."""
    name = type(readout).__name__
    if example_timesteps is None:
        raise ModelError(f"{owner}: readout {name} needs the example length; compile with a "
                         f"compiler that has one (example_timesteps/evaluate_timesteps)")
    before = deepcopy(model)
    after = readout.add_readout_logic(deepcopy(model), example_timesteps=example_timesteps,
                                      dt=dt)
    if after is None:
        raise ModelError(f"{owner}: {name}.add_readout_logic returned None; it must return "
                         f"the (copied and) modified neuron model")
    old = {v[0] for v in _var_list(before)}
    added = [v for v in _var_list(after) if v[0] not in old]
    if {v[0] for v in _var_list(after)} < old:
        raise ModelError(f"{owner}: {name}.add_readout_logic removed variables of the neuron "
                         f"model; a readout may only add variables and append code")
    accumulators = []
    for v in added:
        init = after.var_vals.get(v[0], 0.0)
        try:
            init = float(init)
        except (TypeError, ValueError) as exc:
            raise ModelError(f"{owner}: readout variable '{v[0]}' of {name} must start from a "
                             f"number (got {init!r})") from exc
        accumulators.append((v[0], v[1], init))
    code = []
    for key in ("sim_code", "reset_code"):
        was, now = before.model.get(key) or "", after.model.get(key) or ""
        if not now.startswith(was):
            raise ModelError(f"{owner}: {name}.add_readout_logic changed the neuron's {key}; "
                             f"a readout may only append code to it")
        code.append(now[len(was):])
    return accumulators, code[0], code[1]


class _View:
    """What ``genn_pop.vars[name]`` offers a readout: ``view`` and ``pull_from_device``."""

    def __init__(self, values):
        self.view = values

    def pull_from_device(self):
        """The values were pulled when the example ended: nothing to do."""


class _Population:
    """The part of GeNN's ``NeuronGroup`` an mlGeNN readout reads."""

    def __init__(self, values):
        self.vars = {k: _View(np.asarray(v)) for k, v in values.items()}


def read_through_get_readout(readout, values):
    """``readout.get_readout`` on the end-of-example ``values`` (name -> (batch, neurons))."""
    first = np.asarray(next(iter(values.values())))
    batch, n = first.shape[0], int(np.prod(first.shape[1:]))
    return np.asarray(readout.get_readout(_Population(values), batch, (n,)))
