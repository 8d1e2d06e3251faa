"""``irsnn.readouts.first_spike_time``: mlGeNN's module path for ``FirstSpikeTime``.

Requires: :mod:`irsnn.readouts`, where it is defined (the package holds the readouts and their
registry). Provides :class:`~irsnn.readouts.FirstSpikeTime` under mlGeNN's module name, so ``from
irsnn.readouts.first_spike_time import FirstSpikeTime`` works as ``from
ml_genn.readouts.first_spike_time import FirstSpikeTime``.
"""

from . import FirstSpikeTime  # noqa: F401

__all__ = ["FirstSpikeTime"]
