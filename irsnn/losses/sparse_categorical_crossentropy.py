"""``irsnn.losses.sparse_categorical_crossentropy``: mlGeNN's module path.

Requires: :mod:`irsnn.losses`, where it is defined (the package holds the losses and their
registry). Provides :class:`~irsnn.losses.SparseCategoricalCrossentropy` under mlGeNN's module name,
so ``from irsnn.losses.sparse_categorical_crossentropy import SparseCategoricalCrossentropy`` works
as ``from ml_genn.losses.sparse_categorical_crossentropy import SparseCategoricalCrossentropy``.
"""

from . import SparseCategoricalCrossentropy  # noqa: F401

__all__ = ["SparseCategoricalCrossentropy"]
