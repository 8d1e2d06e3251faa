"""The C backend: C99 + OpenMP compiled by the system C compiler, loaded with ctypes.

Requires: an IR after the inference pipeline. Provides: :class:`CSimulation`, which runs whole
multi-timestep loops natively (parallel over batch elements), with event-driven spike
propagation and bit-packed spike recording. Available wherever a C compiler is (``$CC``, cc,
gcc or clang); artifacts are cached under ``$XDG_CACHE_HOME/irsnn/c``.
"""

from ..base import Backend
from ..native import toolchain
from .simulation import CSimulation


class CBackend(Backend):
    """Compile the model to a shared library and run it natively."""

    name = "c"

    def availability(self):
        return toolchain.availability()

    def devices(self):
        cc = toolchain.find_compiler()
        if cc is None:
            return []
        omp = "OpenMP" if toolchain.openmp_flags(cc) else "no OpenMP"
        return [f"{toolchain.cpu_name()} ({toolchain.compiler_version(cc)}, {omp})"]

    def kernel_source(self, graph):
        """The C source this backend would compile for ``graph`` (``{file name: text}``)."""
        from ..kernels import KernelBuilder
        from ..kernels.render import file_stem
        from .source import c_source
        source = c_source(KernelBuilder(graph).build(), graph.name, False)
        return {f"{file_stem(graph.name, '.-')}.c": source}

    def build(self, graph, *, rng_seed=0, kernel_profiling=False):
        return CSimulation(graph, rng_seed=rng_seed, kernel_profiling=kernel_profiling)


__all__ = ["CBackend", "CSimulation"]
