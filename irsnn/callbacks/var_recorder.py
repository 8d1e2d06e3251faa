"""``irsnn.callbacks.var_recorder``: mlGeNN's module path for ``VarRecorder``.

Requires: :mod:`irsnn.callbacks.recorders`, where it is defined with the other recorder and their
shared base. Provides :class:`~irsnn.callbacks.recorders.VarRecorder` under mlGeNN's module name, so
``from irsnn.callbacks.var_recorder import VarRecorder`` works as ``from
ml_genn.callbacks.var_recorder import VarRecorder``.
"""

from .recorders import VarRecorder  # noqa: F401

__all__ = ["VarRecorder"]
