"""Uniform-distribution initializer.

Requires: :class:`~.initializer.Initializer`. Provides :class:`Uniform` (mlGeNN's).
"""

from __future__ import annotations

from ..errors import ModelError
from .initializer import Initializer, _check_number


class Uniform(Initializer):
    """Initialize by sampling uniformly from ``[min, max)``.

    Parameters
    ----------
    min : float
        Lower bound.
    max : float
        Upper bound; must be >= ``min``.
    """

    kind = "uniform"

    def __init__(self, min: float = 0.0, max: float = 1.0):  # noqa: A002 (mlGeNN names)
        self.min = _check_number("Uniform", "min", min)
        self.max = _check_number("Uniform", "max", max)
        if self.min > self.max:
            raise ModelError(
                f"Uniform: min ({min}) must be <= max ({max}); swap the bounds")

    @property
    def params(self) -> dict:
        return {"min": self.min, "max": self.max}
