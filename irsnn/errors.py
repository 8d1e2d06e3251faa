"""The error hierarchy of irsnn.

Requires: nothing (every layer imports it). Provides :class:`IrsnnError` and its subclasses
(:class:`ModelError`, :class:`ShapeError`, :class:`UnknownNameError`, :class:`ContextError`,
:class:`InputError`, :class:`IRError`, :class:`PassError`, :class:`BackendError`,
:class:`BackendUnavailableError`, :class:`MemoryLimitError`, :class:`SettingsError`).

Every error raised for a user mistake derives from :class:`IrsnnError` and from the matching
builtin (``ValueError``, ``TypeError``, ...), so ``except ValueError`` keeps working. Messages
name the object (and where it was created), state what is wrong with the numbers, and say what
to do about it.
"""


class IrsnnError(Exception):
    """Root of every error irsnn raises on purpose."""


class ModelError(IrsnnError, ValueError):
    """A network, population, connection or model description is invalid."""


class ShapeError(ModelError):
    """Array or population shapes do not agree."""


class UnknownNameError(IrsnnError, KeyError):
    """A string shortcut or a name that irsnn does not know.

    ``KeyError`` quotes its message when printed; this class prints it verbatim.
    """

    def __str__(self):
        return str(self.args[0]) if self.args else ""


class ContextError(IrsnnError, RuntimeError):
    """An object was created outside the context it needs (e.g. ``with network:``)."""


class InputError(IrsnnError, ValueError):
    """Data passed to ``evaluate``/``train``/``predict`` is invalid."""


class IRError(IrsnnError, ValueError):
    """The IR violates an invariant (raised by ``IRGraph.verify``)."""


class PassError(IrsnnError, RuntimeError):
    """A pass failed; the message names the pass and the passes that ran before it."""


class BackendError(IrsnnError, RuntimeError):
    """A backend cannot build or run a model."""


class BackendUnavailableError(BackendError):
    """A backend is not usable on this machine; the message says why and how to fix it."""


class MemoryLimitError(IrsnnError, MemoryError):
    """A model needs more memory than is available (estimated before anything is allocated);
    the message gives the estimate, the limit and what to change."""


class SettingsError(IrsnnError, ValueError):
    """An environment variable read by :mod:`irsnn.settings` has a value irsnn cannot use."""
