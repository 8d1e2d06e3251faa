"""Optimisers applied once per batch by training compilers (mlGeNN's ``ml_genn.optimisers``).

Requires: NumPy. Provides :class:`Optimiser` (update code, parameters, per-step scalars,
state and a NumPy ``step``), :class:`Adam` and :data:`default_optimisers`.
"""

from __future__ import annotations

import numpy as np

from ..errors import ModelError


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
    """

    name = "adam"
    state_names = ("m", "v")
    #: mlGeNN's formulation: the bias corrections are scales of the moments
    update_code = """\
m = (Beta1 * m) + ((1.0 - Beta1) * Gradient);
v = (Beta2 * v) + ((1.0 - Beta2) * (Gradient * Gradient));
Param -= (Alpha * (m * MomentScale1)) / (sqrt(v * MomentScale2) + Epsilon);
"""

    def __init__(self, alpha=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8):
        for n, v in (("beta1", beta1), ("beta2", beta2)):
            if not 0.0 <= v < 1.0:
                raise ModelError(f"Adam: {n}={v!r} must be in [0, 1)")
        if alpha <= 0 or epsilon <= 0:
            raise ModelError(f"Adam: alpha={alpha!r} and epsilon={epsilon!r} must be > 0")
        self.alpha, self.beta1, self.beta2, self.epsilon = alpha, beta1, beta2, epsilon

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
