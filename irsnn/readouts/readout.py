"""``irsnn.readouts.readout``: mlGeNN's module path for :class:`~irsnn.readouts.Readout`.

Requires: :mod:`irsnn.readouts`, where it is defined (the package holds the readouts and their
registry). Provides :class:`~irsnn.readouts.Readout` under mlGeNN's module name, so ``from
irsnn.readouts.readout import Readout`` works as ``from ml_genn.readouts.readout import Readout``.
"""

from . import Readout  # noqa: F401

__all__ = ["Readout"]
