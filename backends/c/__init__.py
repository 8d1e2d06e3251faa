"""The C backend: C99 + OpenMP compiled by the system C compiler, loaded with ctypes.

Requires: an IR after the inference pipeline. Provides: :class:`CSimulation`, which runs whole
multi-timestep loops natively (parallel over batch elements), with event-driven spike
propagation and bit-packed spike recording. Available wherever a C compiler is (``$CC``, cc,
gcc or clang); artifacts are cached under ``$XDG_CACHE_HOME/irsnn/c``.
"""

from ..base import Backend
from . import toolchain
from .simulation import CSimulation


class CBackend(Backend):
    """Compile the model to a shared library and run it natively."""

    name = "c"

    def availability(self):
        return toolchain.availability()

    def devices(self):
        cc = toolchain.find_compiler()
        omp = "OpenMP" if cc and toolchain.openmp_flags(cc) else "no OpenMP"
        return [f"CPU {toolchain.cpu_model().split(' ', 1)[1].split(' ')[0:1] and ''}"
                f"({toolchain.compiler_version(cc) if cc else 'no compiler'}, {omp})"]

    def build(self, graph, *, rng_seed=0, kernel_profiling=False):
        return CSimulation(graph, rng_seed=rng_seed, kernel_profiling=kernel_profiling)


__all__ = ["CBackend", "CSimulation"]
