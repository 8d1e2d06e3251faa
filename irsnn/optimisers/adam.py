"""``irsnn.optimisers.adam``: mlGeNN's module path for :class:`~irsnn.optimisers.Adam`.

Requires: :mod:`irsnn.optimisers`, where it is defined (the package holds the optimisers and their
registry). Provides :class:`~irsnn.optimisers.Adam` under mlGeNN's module name, so ``from
irsnn.optimisers.adam import Adam`` works as ``from ml_genn.optimisers.adam import Adam``.
"""

from . import Adam  # noqa: F401

__all__ = ["Adam"]
