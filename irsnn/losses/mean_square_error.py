"""``irsnn.losses.mean_square_error``: mlGeNN's module path for ``MeanSquareError``.

Requires: :mod:`irsnn.losses`, where it is defined (the package holds the losses and their
registry). Provides :class:`~irsnn.losses.MeanSquareError` under mlGeNN's module name, so ``from
irsnn.losses.mean_square_error import MeanSquareError`` works as ``from
ml_genn.losses.mean_square_error import MeanSquareError``.
"""

from . import MeanSquareError  # noqa: F401

__all__ = ["MeanSquareError"]
