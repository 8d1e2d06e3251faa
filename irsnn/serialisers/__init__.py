"""Serialisers store network state (checkpoints)."""

from .numpy import Numpy
from .serialiser import Serialiser

default_serialisers = {"numpy": Numpy}

__all__ = ["Numpy", "Serialiser", "default_serialisers"]
