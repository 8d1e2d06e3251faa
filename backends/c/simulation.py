"""The C backend's simulation: NumPy-owned state, a compiled library, one native call per run.

Requires: the kernel program (:data:`~backends.kernels.C_KERNELS` dialect),
:mod:`.source`, the native toolchain (:func:`~backends.native.toolchain.load_library`) and
:class:`~backends.kernel_sim.KernelSimulation`. Provides :class:`CSimulation`: the C dialect,
the build and binding of the library, and the native launches (steps, example ends, optimiser).

Every buffer is a NumPy array; the library receives their addresses (``irsnn_bind``) and runs
whole multi-timestep loops (``irsnn_run``) without calling back into Python, so the host copies
of :class:`~backends.kernel_sim.KernelSimulation` *are* the state and nothing is transferred.
Recordings go into per-batch buffers (spikes bit-packed, 32 neurons per word) filled natively.
"""

from __future__ import annotations

import ctypes
import sys

from irsnn import settings
from irsnn.errors import BackendError

from ..kernels import C_KERNELS
from ..kernels.render import file_stem
from ..native.toolchain import load_library
from ..kernel_sim import KernelSimulation
from .source import API_VERSION, c_source

#: loaded library (its ``dlopen`` handle) -> the ``_binding`` token (see
#: :meth:`~backends.kernel_sim.KernelSimulation._bindings_changed`) of the simulation whose
#: addresses its globals hold. Every simulation of one model shares one loaded library (one set
#: of globals), so a simulation binds everything again only when another one bound since or
#: when its own recorders, learning switch or all its extra global parameters changed.
_BOUND: dict[int, object] = {}


class CSimulation(KernelSimulation):
    """A model compiled to C and loaded with ctypes (see the module docstring)."""

    host_is_device = True

    def kernel_dialect(self):
        return C_KERNELS

    def _prepare(self, profiling):
        graph = self.graph
        self.source = c_source(self.program, graph.name, profiling)
        if settings.debug_level() >= 4:
            sys.stderr.write(f"// ----- generated C for '{graph.name}' -----\n{self.source}")
        lib, self.library_path, self.cache_hit = load_library(self.source,
                                                              file_stem(graph.name))
        self.lib = lib
        vp, i32, i64, u32 = ctypes.c_void_p, ctypes.c_int32, ctypes.c_int64, ctypes.c_uint32
        lib.irsnn_bind.argtypes = [ctypes.POINTER(vp), ctypes.c_uint64]
        lib.irsnn_bind_egp.argtypes = [i32, vp]
        lib.irsnn_bind_recorder.argtypes = [i32, vp, vp, i32, i64]
        lib.irsnn_run.argtypes = [i64, i64, u32, i64]
        lib.irsnn_run.restype = ctypes.c_int
        lib.irsnn_kernel_times.argtypes = [ctypes.POINTER(ctypes.c_double)]
        lib.irsnn_set_learning.argtypes = [ctypes.c_int]
        lib.irsnn_end_example.argtypes = [ctypes.c_int]
        lib.irsnn_end_example.restype = ctypes.c_int
        lib.irsnn_optimise.argtypes = [ctypes.c_int]
        lib.irsnn_optimise.restype = ctypes.c_int
        lib.irsnn_api_version.restype = ctypes.c_int
        if lib.irsnn_api_version() != API_VERSION:
            raise BackendError(f"cached library {self.library_path} has API "
                               f"{lib.irsnn_api_version()}, expected {API_VERSION}; delete it "
                               f"and compile again")
        self._pointers = (vp * max(1, len(self.program.buffers)))(
            *[self.memory.array(b).ctypes.data for b in self.program.buffers])

    def _bind(self):
        """Give the library this simulation's addresses before a native call: all of them,
        or where it holds this simulation's already (see :data:`_BOUND`), the arrays of the
        extra global parameters set since (new inputs every batch)."""
        lib, handle = self.lib, self.lib._handle
        if _BOUND.get(handle) is self._binding:
            for k in sorted(self._egps_changed):
                lib.irsnn_bind_egp(k, self.egp_array(self.program.egps[k]).ctypes.data)
            self._egps_changed.clear()
            return
        # forget the previous owner first: a bind that fails half-way must not let it skip its
        # own next time
        _BOUND.pop(handle, None)
        lib.irsnn_bind(self._pointers, ctypes.c_uint64(self.seed))
        lib.irsnn_set_learning(1 if self._learning_on else 0)
        for k, b in enumerate(self.program.egps):
            lib.irsnn_bind_egp(k, self.egp_array(b).ctypes.data)
        for rid, k in self._recorder_index.items():
            if rid in self._recording:
                rows, buf, _ = self._recording[rid]
                lib.irsnn_bind_recorder(k, buf.ctypes.data, rows.ctypes.data, len(rows),
                                        buf.shape[1])
            else:
                lib.irsnn_bind_recorder(k, None, None, 0, 0)
        self._egps_changed.clear()
        _BOUND[handle] = self._binding

    def _launch(self, steps):
        self._bind()
        self.lib.irsnn_run(steps, self.timestep, self.rng_step & 0xFFFFFFFF,
                           self.recorded_timesteps)

    @property
    def fuses_event_gradients(self):
        return bool(self.program.fused_optimiser_kernels)

    def _launch_end(self, materialise=True):
        self._bind()
        self.lib.irsnn_end_example(1 if materialise else 0)

    def _launch_optimise(self, fused=False):
        self._bind()
        self.lib.irsnn_optimise(1 if fused else 0)

    def _times(self):
        out = (ctypes.c_double * (len(self.kernel_names) + 1))()
        self.lib.irsnn_kernel_times(out)
        return list(out)[:len(self.kernel_names)]
