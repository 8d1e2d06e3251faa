"""``irsnn.readouts.sum_var``: mlGeNN's module path for :class:`~irsnn.readouts.SumVar`.

Requires: :mod:`irsnn.readouts`, where it is defined (the package holds the readouts and their
registry). Provides :class:`~irsnn.readouts.SumVar` under mlGeNN's module name, so ``from
irsnn.readouts.sum_var import SumVar`` works as ``from ml_genn.readouts.sum_var import SumVar``.
"""

from . import SumVar  # noqa: F401

__all__ = ["SumVar"]
