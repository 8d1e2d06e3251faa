"""``irsnn.readouts.max_var``: mlGeNN's module path for :class:`~irsnn.readouts.MaxVar`.

Requires: :mod:`irsnn.readouts`, where it is defined (the package holds the readouts and their
registry). Provides :class:`~irsnn.readouts.MaxVar` under mlGeNN's module name, so ``from
irsnn.readouts.max_var import MaxVar`` works as ``from ml_genn.readouts.max_var import MaxVar``.
"""

from . import MaxVar  # noqa: F401

__all__ = ["MaxVar"]
