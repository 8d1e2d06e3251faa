"""``irsnn.callbacks.checkpoint``: mlGeNN's module path for ``Checkpoint``.

Requires: :mod:`irsnn.callbacks.training`, where it is defined with the other training callback.
Provides :class:`~irsnn.callbacks.training.Checkpoint` under mlGeNN's module name, so ``from
irsnn.callbacks.checkpoint import Checkpoint`` works as ``from ml_genn.callbacks.checkpoint import
Checkpoint``.
"""

from .training import Checkpoint  # noqa: F401

__all__ = ["Checkpoint"]
