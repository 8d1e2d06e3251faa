"""Optimisers applied once per batch by training compilers (mlGeNN's ``ml_genn.optimisers``).

Requires: NumPy. Provides :class:`Optimiser` (update code, parameters, per-step scalars,
state and a NumPy ``step``), :class:`Adam` and :data:`default_optimisers`.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

from ..errors import ModelError
from ..utils.location import user_location


class Optimiser:
    """Base class: ``name`` (snake_case, used in the IR), hyper-parameters as attributes
    (changeable between batches, e.g. by :class:`~irsnn.callbacks.OptimiserParamSchedule`),
    and :meth:`step` updating a parameter in place from its batch-summed gradient.

    An optimiser that also gives ``update_code`` (code-string language, one element of one
    parameter: ``Param`` (writable), ``Gradient``, its state variables ``state_names``
    (writable) and the runtime scalars :meth:`scalars`) runs as a generated kernel on the
    device, where the gradients are: nothing crosses to the host per batch. Without it,
    :meth:`step` runs on the host.
    """

    name = ""
    state_names: tuple[str, ...] = ()
    update_code: str = ""

    def params(self) -> dict:
        return {}

    def scalars(self, step: int) -> dict:
        """Runtime scalars of :attr:`update_code` for optimiser step ``step`` (from 1)."""
        return {}

    def init_state(self, shape) -> dict:
        return {n: np.zeros(shape, np.float64) for n in self.state_names}

    def step(self, param: np.ndarray, grad: np.ndarray, state: dict, step: int) -> None:
        """Update ``param`` in place; ``step`` counts batches from 1."""


class Adam(Optimiser):
    """Adam (Kingma & Ba 2015) with bias correction by the global batch count.

    Parameters
    ----------
    alpha : float
        Learning rate.
    beta1, beta2 : float
        Decay of the first and second moment estimates, in [0, 1).
    epsilon : float
        Added to the square root of the second moment.

    Every assignment (here and later, e.g. by an
    :class:`~irsnn.callbacks.OptimiserParamSchedule`) is checked: ``alpha`` and ``epsilon``
    must be finite and > 0, the betas in [0, 1); a :class:`~irsnn.errors.ModelError` names
    the optimiser, where it was created, the parameter and the value.
    """

    name = "adam"
    state_names = ("m", "v")
    #: mlGeNN's formulation: the bias corrections are scales of the moments
    update_code = """\
m = (Beta1 * m) + ((1.0 - Beta1) * Gradient);
v = (Beta2 * v) + ((1.0 - Beta2) * (Gradient * Gradient));
Param -= (Alpha * (m * MomentScale1)) / (sqrt(v * MomentScale2) + Epsilon);
"""

    #: the hyper-parameters checked on every assignment, and what each is
    _MEANING = {"alpha": "the learning rate", "beta1": "the first moment's decay",
                "beta2": "the second moment's decay",
                "epsilon": "added to the root of the second moment"}

    def __init__(self, alpha=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8):
        self.location = user_location()
        self.alpha, self.beta1, self.beta2, self.epsilon = alpha, beta1, beta2, epsilon

    def __setattr__(self, name, value):
        # every assignment is checked: at construction and when a schedule changes a value
        if name in self._MEANING:
            value = self._check(name, value)
        super().__setattr__(name, value)

    def _check(self, name, value):
        what = self._MEANING[name]
        where = f"Adam (created at {getattr(self, 'location', '<unknown>')})"
        if isinstance(value, bool) or not isinstance(value, Real):
            raise ModelError(f"{where}: {name} ({what}) must be a number (got "
                             f"{type(value).__name__} {value!r})")
        value = float(value)
        if name in ("alpha", "epsilon"):
            ok, need = math.isfinite(value) and value > 0.0, "a finite number > 0"
        else:
            ok, need = 0.0 <= value < 1.0, "in [0, 1)"
        if not ok:
            advice = {"alpha": "pass a small positive learning rate such as 0.001",
                      "epsilon": "pass a small positive value such as 1e-8"}.get(
                name, "pass a value in [0, 1) such as 0.9 (beta1) or 0.999 (beta2)")
            raise ModelError(f"{where}: {name}={value!r} ({what}) must be {need}; {advice}")
        return value

    def params(self):
        return {"alpha": self.alpha, "beta1": self.beta1, "beta2": self.beta2,
                "epsilon": self.epsilon}

    def scalars(self, step):
        return {"Alpha": self.alpha, "Beta1": self.beta1, "Beta2": self.beta2,
                "Epsilon": self.epsilon, "MomentScale1": 1.0 / (1.0 - self.beta1 ** step),
                "MomentScale2": 1.0 / (1.0 - self.beta2 ** step)}

    def step(self, param, grad, state, step):
        m, v = state["m"], state["v"]
        m *= self.beta1
        m += (1.0 - self.beta1) * grad
        v *= self.beta2
        v += (1.0 - self.beta2) * grad * grad
        m_hat = m / (1.0 - self.beta1 ** step)
        v_hat = v / (1.0 - self.beta2 ** step)
        param -= (self.alpha * m_hat / (np.sqrt(v_hat) + self.epsilon)).astype(param.dtype)

    def __repr__(self):
        return (f"Adam(alpha={self.alpha}, beta1={self.beta1}, beta2={self.beta2}, "
                f"epsilon={self.epsilon})")


default_optimisers = {"adam": Adam}

__all__ = ["Optimiser", "Adam", "default_optimisers"]
