"""The NumPy reference backend: the oracle every other backend is checked against.

Requires: an IR that went through ``validate``, ``infer-shapes``, ``insert-readout``,
``batch-state`` and ``insert-recording``. Provides: :class:`ReferenceSimulation`. Always
available (NumPy only).
"""

import numpy as np

from ..base import Backend
from .simulation import ReferenceSimulation


class ReferenceBackend(Backend):
    """Execute the IR with NumPy, vectorised over batch and neurons."""

    name = "reference"

    def availability(self):
        return True, ""

    def devices(self):
        return [f"CPU (NumPy {np.__version__})"]

    def build(self, graph, *, rng_seed=0, kernel_profiling=False):
        return ReferenceSimulation(graph, rng_seed=rng_seed, kernel_profiling=kernel_profiling)


__all__ = ["ReferenceBackend", "ReferenceSimulation"]
