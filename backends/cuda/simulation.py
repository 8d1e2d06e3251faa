"""The CUDA backend's simulation (CuPy): device arrays, one fused kernel compiled by NVRTC.

Requires: CuPy (imported when the simulation is prepared),
:class:`~backends.kernels.KernelRenderer`, :data:`.dialect.CUDA_KERNELS` and
:class:`~backends.kernel_sim.KernelSimulation`. Provides :class:`CudaSimulation` (compile,
launch, buffer transfers, device arrays for :meth:`~CudaSimulation.native_var`) and
:data:`NVRTC_OPTIONS`.

Structure as OpenCL's: the shared program rendered as one CUDA kernel in which each block (the
SIMT plan of :mod:`backends.kernels.simt`), or each thread, runs all timesteps of one batch
element, so a whole batch is one launch (launch overhead is amortised over every timestep of
the example).
"""

from __future__ import annotations

import sys
import time

import numpy as np

from irsnn import settings

from ..kernels.grid import renderer_for, source_for
from ..kernel_sim import KernelSimulation
from .dialect import CUDA_KERNELS

#: NVRTC options: no fused multiply-add (results match the other backends), C++17
NVRTC_OPTIONS = ("--fmad=false", "--std=c++17")


class CudaSimulation(KernelSimulation):
    """A model compiled to one CUDA kernel (see the module docstring)."""

    def __init__(self, graph, work_group_size=None, blocks_per_example=None, **kwargs):
        self.work_group_size = work_group_size
        self.blocks_per_example = blocks_per_example
        super().__init__(graph, **kwargs)

    def kernel_dialect(self):
        return CUDA_KERNELS

    def _choose_plan(self, program):
        from . import multiprocessors, plan_of
        return plan_of(program, self.work_group_size, self.blocks_per_example,
                       multiprocessors())

    def _prepare(self, profiling):
        import cupy
        self.cp = cupy
        renderer = renderer_for(CUDA_KERNELS, self.plan)
        self.source = source_for(CUDA_KERNELS, self.plan, self.program, self.graph.name)
        if settings.debug_level() >= 4:
            sys.stderr.write(f"// ----- generated CUDA for '{self.graph.name}' -----\n"
                             f"{self.source}")
        major, minor = cupy.cuda.Device().compute_capability[:2] if isinstance(
            cupy.cuda.Device().compute_capability, tuple) else \
            divmod(int(cupy.cuda.Device().compute_capability), 10)
        module = cupy.RawModule(code=self.source, backend="nvrtc",
                                options=NVRTC_OPTIONS + (f"-arch=sm_{major}{minor}",))
        if self.plan.blocks <= 1:
            self.kernel = module.get_function("irsnn_run")
            self.infer_kernel = (module.get_function("irsnn_run_infer")
                                 if renderer.learning_variants(self.program) else None)
        else:
            self._grid_kernels(renderer, module.get_function)
        self.end_kernels = ((module.get_function("irsnn_end_example"),
                             module.get_function("irsnn_restart"))
                            if self.program.end_kernels else ())
        self.scatter_kernels = self._row_kernels(module.get_function,
                                                 self.program.scatter_kernels)
        self.optimiser_kernels = self._row_kernels(module.get_function,
                                                   self.program.optimiser_kernels)
        self.dev = {b.name: cupy.zeros(max(1, self.memory.array(b).size),
                                       self.memory.array(b).dtype)
                    for b in self.program.buffers}
        self._egp_dev: dict[str, tuple] = {}
        self._rec_dev: dict[str, tuple] = {}
        self._dummy = cupy.zeros(1, np.uint32)
        if self.grid is not None:
            self._blocksums = cupy.zeros(max(1, self.grid.sums), np.int32)
        if profiling:
            self.kernel_names = ["run"]
            self.kernel_times = {"run": 0.0}
        self._elapsed = 0.0

    def _upload(self, buf, host):
        if host.size:
            self.dev[buf.name][:host.size].set(host)

    def _download(self, buf, host):
        if host.size:
            host[...] = self.dev[buf.name][:host.size].get()

    def _native(self, buf):
        """The device array of ``buf`` (a CuPy view, no transfer), after any host writes."""
        self.memory.to_device(buf, self._upload)
        return self.dev[buf.name][:buf.size]

    def _native_written(self, buf):
        self.memory.written(buf, on_device=True)

    def _download_recording(self, rec_id, host):
        if rec_id in self._rec_dev and host.size:
            host[...] = self._rec_dev[rec_id][1].get().reshape(host.shape)

    def _launch(self, steps, kernel=None):
        cp = self.cp
        args = self.fused_arguments(cp.asarray, self._dummy, steps)
        if kernel is None and self.grid is not None:
            return self._launch_grid(args, steps)
        if self.plan.threads:
            threads, blocks = self.plan.threads, self.batch_size
        else:
            threads = min(128, max(32, self.batch_size))
            blocks = -(-self.batch_size // threads)
        start = time.perf_counter()
        (kernel or self._run_kernel())((blocks,), (threads,), tuple(args))
        cp.cuda.Device().synchronize()
        self._elapsed += time.perf_counter() - start

    def _launch_grid(self, args, steps):
        """``steps`` timesteps of the grid plan: each phase's kernel over ``batch * blocks``
        blocks, step after step (queued on the stream; one synchronisation at the end)."""
        grid, threads, one = self.grid, self.plan.threads, (self.batch_size,)
        start = time.perf_counter()
        if grid.prologue is not None:
            grid.prologue(one, (threads,), tuple(args))
        phases = grid.phases(self._learning_on)
        args = args + [self._blocksums]
        blocks = (self.batch_size * self.plan.blocks,)
        for k in range(steps):
            for at, value in self.step_scalars(k):
                args[len(args) - 1 + at] = value
            for kernel in phases:
                kernel(blocks, (threads,), tuple(args))
        if grid.epilogue is not None:
            grid.epilogue(one, (threads,), tuple(args[:-1]))
        self.cp.cuda.Device().synchronize()
        self._elapsed += time.perf_counter() - start

    def _launch_rows(self, kernels):
        args = tuple(self.dev[b.name] for b in self.program.buffers)
        for kernel, extent, threads in kernels:
            if threads:   # one block per row
                kernel((extent,), (threads,), args)
            else:
                kernel((-(-extent // 256),), (256,), args)
        self.cp.cuda.Device().synchronize()

    def _times(self):
        return [self._elapsed]
