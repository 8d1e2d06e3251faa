"""``irsnn.readouts.var``: mlGeNN's module path for :class:`~irsnn.readouts.Var`.

Requires: :mod:`irsnn.readouts`, where it is defined (the package holds the readouts and their
registry). Provides :class:`~irsnn.readouts.Var` under mlGeNN's module name, so ``from
irsnn.readouts.var import Var`` works as ``from ml_genn.readouts.var import Var``.
"""

from . import Var  # noqa: F401

__all__ = ["Var"]
