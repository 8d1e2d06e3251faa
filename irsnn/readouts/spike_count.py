"""``irsnn.readouts.spike_count``: mlGeNN's module path for :class:`~irsnn.readouts.SpikeCount`.

Requires: :mod:`irsnn.readouts`, where it is defined (the package holds the readouts and their
registry). Provides :class:`~irsnn.readouts.SpikeCount` under mlGeNN's module name, so ``from
irsnn.readouts.spike_count import SpikeCount`` works as ``from ml_genn.readouts.spike_count import
SpikeCount``.
"""

from . import SpikeCount  # noqa: F401

__all__ = ["SpikeCount"]
