"""Serialisers store network state (checkpoints).

Requires: nothing beyond its submodules. Provides :class:`Serialiser`, :class:`Numpy` and
:data:`default_serialisers` (name -> class).
"""

from .numpy import Numpy
from .serialiser import Serialiser

default_serialisers = {"numpy": Numpy}

__all__ = ["Numpy", "Serialiser", "default_serialisers"]
