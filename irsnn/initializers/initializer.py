"""Base class of the value initializers (distributions sampled by the runtime).

Requires: :mod:`irsnn.errors` only. Provides :class:`Initializer` (mlGeNN's base): a
distribution's name and parameters, which lowering turns into a ``VarInit``.
"""

from __future__ import annotations

import math
from numbers import Number

from ..errors import ModelError


def _check_number(owner: str, name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, Number):
        raise ModelError(f"{owner}: {name} must be a number (got {value!r})")
    value = float(value)
    if not math.isfinite(value):
        raise ModelError(f"{owner}: {name} must be finite (got {value})")
    return value


class Initializer:
    """Base class of initializers.

    An initializer describes a distribution; irsnn never samples it in the front end. The
    runtime samples it with a counter-based random number generator so every backend draws the
    same values.

    Attributes
    ----------
    kind : str
        Name of the distribution (``"normal"``, ``"uniform"``), read by lowering.
    """

    kind: str = ""

    @property
    def params(self) -> dict:
        """Parameters of the distribution, keyed by name."""
        return {}

    def __eq__(self, other):
        return (type(self) is type(other) and self.kind == other.kind
                and self.params == other.params)

    def __hash__(self):
        return hash((type(self), self.kind, tuple(sorted(self.params.items()))))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"
