"""Normal-distribution initializer.

Requires: :class:`~.initializer.Initializer`. Provides :class:`Normal` (mlGeNN's).
"""

from __future__ import annotations

from ..errors import ModelError
from .initializer import Initializer, _check_number


class Normal(Initializer):
    """Initialize by sampling from a normal distribution.

    Parameters
    ----------
    mean : float
        Mean value.
    sd : float
        Standard deviation; must be >= 0.
    """

    kind = "normal"

    def __init__(self, mean: float = 0.0, sd: float = 1.0):
        self.mean = _check_number("Normal", "mean", mean)
        self.sd = _check_number("Normal", "sd", sd)
        if self.sd < 0.0:
            raise ModelError(
                f"Normal: sd must be >= 0 (got {sd}); pass a non-negative standard deviation")

    @property
    def params(self) -> dict:
        return {"mean": self.mean, "sd": self.sd}
