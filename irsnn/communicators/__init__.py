"""Communicators: how the ranks of a data-parallel job exchange parameters, gradients and
metrics (mlGeNN's ``ml_genn.communicators``).

Requires: nothing at import time (mpi4py when :class:`MPI` is created). Provides
:class:`Communicator` (the interface), :class:`MPI` (mpi4py) and :func:`launched_by_mpi`.
"""

from .communicator import Communicator
from .mpi import MPI, launched_by_mpi

__all__ = ["Communicator", "MPI", "launched_by_mpi"]
