"""Base class of serialisers (checkpoint storage).

Requires: nothing. Provides :class:`Serialiser` (mlGeNN's base): ``serialise``,
``deserialise`` and ``deserialise_all`` of named arrays.
"""

from __future__ import annotations

from abc import ABC, abstractmethod


class Serialiser(ABC):
    """Stores arrays under tuples of keys, e.g. ``(epoch, "Conn0", "weight")``."""

    @abstractmethod
    def serialise(self, keys, data):
        """Store array ``data`` under ``keys``."""

    @abstractmethod
    def deserialise(self, keys):
        """Return the array stored under ``keys``."""

    @abstractmethod
    def deserialise_all(self, keys) -> dict:
        """Return ``{last key: array}`` for every array stored under ``keys + (name,)``."""
