"""``irsnn.callbacks.spike_recorder``: mlGeNN's module path for ``SpikeRecorder``.

Requires: :mod:`irsnn.callbacks.recorders`, where it is defined with the other recorder and their
shared base. Provides :class:`~irsnn.callbacks.recorders.SpikeRecorder` under mlGeNN's module name,
so ``from irsnn.callbacks.spike_recorder import SpikeRecorder`` works as ``from
ml_genn.callbacks.spike_recorder import SpikeRecorder``.
"""

from .recorders import SpikeRecorder  # noqa: F401

__all__ = ["SpikeRecorder"]
