"""``irsnn.losses.loss``: mlGeNN's module path for :class:`~irsnn.losses.Loss`.

Requires: :mod:`irsnn.losses`, where it is defined (the package holds the losses and their
registry). Provides :class:`~irsnn.losses.Loss` under mlGeNN's module name, so ``from
irsnn.losses.loss import Loss`` works as ``from ml_genn.losses.loss import Loss``.
"""

from . import Loss  # noqa: F401

__all__ = ["Loss"]
