"""Base class of serialisers (checkpoint storage).

Requires: nothing. Provides :class:`Serialiser` (mlGeNN's base): ``serialise``,
``deserialise`` and ``deserialise_all`` of named arrays, plus irsnn's hooks with defaults that
work for any subclass: :meth:`Serialiser.location` (where an array is looked for, for error
messages), :meth:`Serialiser.check_keys` (does a checkpoint exist at all) and
:meth:`Serialiser.serialise_state` / :meth:`Serialiser.deserialise_state` (irsnn's training
state, stored apart from the arrays mlGeNN reads).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

#: key under which the default :meth:`Serialiser.serialise_state` stores irsnn's training
#: state; it holds a character that escaped file keys never contain, so it cannot collide
#: with a population or connection name
STATE_KEY = "irsnn%state"


class Serialiser(ABC):
    """Stores arrays under tuples of keys, e.g. ``(epoch, "Conn0", "g")``."""

    @abstractmethod
    def serialise(self, keys, data):
        """Store array ``data`` under ``keys``."""

    @abstractmethod
    def deserialise(self, keys):
        """Return the array stored under ``keys``; a missing one raises ``KeyError`` (or
        ``FileNotFoundError``)."""

    @abstractmethod
    def deserialise_all(self, keys) -> dict:
        """Return ``{last key: array}`` for every array stored under ``keys + (name,)``."""

    # -- irsnn's additions (defaults valid for every serialiser) ---------------------------------
    def location(self, keys) -> str:
        """Where the array ``keys`` is (or would be) stored, for messages."""
        return f"keys {tuple(keys)!r}"

    def check_keys(self, keys) -> None:
        """Raise a clear error when nothing at all is stored under ``keys`` (a missing folder or
        epoch); the default checks nothing (a serialiser cannot list its keys in general)."""

    def serialise_state(self, keys, arrays: dict) -> None:
        """Store ``{name: array}`` (irsnn's training state) under ``keys`` as one unit, where
        mlGeNN's ``Network.load`` does not look; the default stores each array under
        ``keys + (STATE_KEY, name)``."""
        for name, value in arrays.items():
            self.serialise(tuple(keys) + (STATE_KEY, name), value)

    def state_location(self, keys) -> str:
        """Where :meth:`serialise_state` stores the state of ``keys``, for messages."""
        return self.location(tuple(keys) + (STATE_KEY,)) + " (and the arrays under it)"

    def deserialise_state(self, keys) -> dict:
        """The ``{name: array}`` :meth:`serialise_state` stored under ``keys`` (empty when
        there is none)."""
        return self.deserialise_all(tuple(keys) + (STATE_KEY,))
