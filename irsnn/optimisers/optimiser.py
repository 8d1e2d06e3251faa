"""``irsnn.optimisers.optimiser``: mlGeNN's module path for :class:`~irsnn.optimisers.Optimiser`.

Requires: :mod:`irsnn.optimisers`, where it is defined (the package holds the optimisers and their
registry). Provides :class:`~irsnn.optimisers.Optimiser` under mlGeNN's module name, so ``from
irsnn.optimisers.optimiser import Optimiser`` works as ``from ml_genn.optimisers.optimiser import
Optimiser``.
"""

from . import Optimiser  # noqa: F401

__all__ = ["Optimiser"]
