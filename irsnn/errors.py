"""The error hierarchy of irsnn.

Requires: nothing (every layer imports it). Provides :class:`IrsnnError` and its subclasses
(:class:`ModelError`, :class:`ShapeError`, :class:`UnknownNameError`, :class:`ContextError`,
:class:`InputError`, :class:`IRError`, :class:`PassError`, :class:`BackendError`,
:class:`BackendUnavailableError`, :class:`MemoryLimitError`, :class:`SettingsError`,
:class:`IndexRangeError`, :class:`DuplicateKeyError`, :class:`UnknownAttributeError`,
:class:`DistributedError`, :class:`CheckpointNotFoundError`, :class:`CheckpointKeyError`) and
the warning category :class:`IrsnnWarning`.

Every error raised for a user mistake derives from :class:`IrsnnError` and from the matching
builtin (``ValueError``, ``TypeError``, ...), so ``except ValueError`` keeps working. Messages
name the object (and where it was created), state what is wrong with the numbers, and say what
to do about it.

mlGeNN compatibility: mlGeNN reports nearly every mistake as ``RuntimeError`` (or its subclass
``NotImplementedError``), an out-of-range index as ``IndexError`` and a clashing callback data key
as ``KeyError``, a missing model attribute as ``AttributeError``, and warns with ``UserWarning``. So
:class:`IrsnnError` itself derives from ``RuntimeError``, :class:`IndexRangeError` also from
``IndexError``, :class:`DuplicateKeyError` from ``KeyError``, :class:`UnknownAttributeError` from
``AttributeError`` and :class:`IrsnnWarning` from ``UserWarning``: code written against mlGeNN that
catches those builtins keeps working, with irsnn's messages.
"""


class IrsnnError(RuntimeError):
    """Root of every error irsnn raises on purpose (a ``RuntimeError``, as mlGeNN's errors)."""


class ModelError(IrsnnError, ValueError):
    """A network, population, connection or model description is invalid."""


class ShapeError(ModelError):
    """Array or population shapes do not agree."""


class _VerbatimKeyError(KeyError):
    """``KeyError`` quotes its message when printed; subclasses print it verbatim."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


class UnknownNameError(IrsnnError, _VerbatimKeyError):
    """A string shortcut or a name that irsnn does not know."""


class DuplicateKeyError(IrsnnError, _VerbatimKeyError):
    """Two objects claim the same key (e.g. two callbacks returning the same data key)."""


class IndexRangeError(ModelError, IndexError):
    """An index (a neuron filter, an example index) lies outside the object it indexes."""


class UnknownAttributeError(ModelError, AttributeError):
    """An object has no attribute of the name asked for (e.g. a model value attribute)."""


class IrsnnWarning(UserWarning):
    """Category of the warnings irsnn emits (a ``UserWarning``, as mlGeNN's warnings)."""


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


class DistributedError(IrsnnError, RuntimeError):
    """A data-parallel job cannot go on: a rank failed, or the ranks disagree (model, options)."""


class CheckpointNotFoundError(IrsnnError, FileNotFoundError):
    """A checkpoint folder, a checkpoint (e.g. an epoch) or one of its array files is missing;
    the message names the array, the file looked for and what to do."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


class CheckpointKeyError(IrsnnError, KeyError):
    """A checkpoint lacks an entry that is expected (an array of irsnn's training state, an
    array a serialiser has no file for); printed verbatim."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""
