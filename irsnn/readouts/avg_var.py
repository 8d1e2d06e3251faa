"""``irsnn.readouts.avg_var``: mlGeNN's module path for :class:`~irsnn.readouts.AvgVar`.

Requires: :mod:`irsnn.readouts`, where it is defined (the package holds the readouts and their
registry). Provides :class:`~irsnn.readouts.AvgVar` under mlGeNN's module name, so ``from
irsnn.readouts.avg_var import AvgVar`` works as ``from ml_genn.readouts.avg_var import AvgVar``.
"""

from . import AvgVar  # noqa: F401

__all__ = ["AvgVar"]
