"""The simulation of kernel backends (C, OpenCL, CUDA), split by concept.

Requires: :mod:`backends.kernels` (the program), :mod:`backends.base` (the interface).
Provides :class:`KernelSimulation` (:mod:`.simulation`: the run/launch core, state, learning and
recording), built on :class:`~.memory.HostMemory` (host copies of buffers and their lazy
synchronisation with the device) and :class:`~.weights.WeightsMixin` (weights, parameters and
connectivity through the layout strategies).
"""

from .memory import HostMemory
from .simulation import KernelSimulation

__all__ = ["HostMemory", "KernelSimulation"]
