"""The OpenCL backend's simulation: device buffers, one fused kernel, transfers at batch ends.

Requires: pyopencl (imported when the simulation is prepared),
:class:`~backends.kernels.KernelRenderer`, :data:`.dialect.OPENCL_KERNELS` and
:class:`~backends.kernel_sim.KernelSimulation`. Provides :class:`OpenCLSimulation` (build,
launch, buffer transfers) and :func:`cache_dir`.

The program is the same :class:`~backends.kernels.Program` as C's, rendered as one OpenCL
kernel in which each work-group (the SIMT plan of :mod:`backends.kernels.simt`), or each
work-item, runs every timestep of one batch element. State lives in device buffers; the host
copies of
:class:`~backends.kernel_sim.KernelSimulation` are synchronised lazily.
"""

from __future__ import annotations

import sys
import time


from irsnn import settings

from ..kernels.grid import renderer_for, source_for
from ..kernels.simt import choose_plan
from ..kernel_sim import KernelSimulation
from ..native.toolchain import usable_cache_dir
from .dialect import OPENCL_KERNELS


def cache_dir():
    """Where pyopencl caches the built programs: ``$XDG_CACHE_HOME/irsnn/opencl``."""
    return settings.cache_root() / "opencl"


class OpenCLSimulation(KernelSimulation):
    """A model compiled to one OpenCL kernel (see the module docstring)."""

    def __init__(self, graph, device, work_group_size=None, blocks_per_example=None, **kwargs):
        self.device = device
        self.work_group_size = work_group_size
        self.blocks_per_example = blocks_per_example
        super().__init__(graph, **kwargs)

    def kernel_dialect(self):
        return OPENCL_KERNELS

    def _choose_plan(self, program):
        from . import is_cpu
        return choose_plan(program, self.work_group_size, self.device.max_work_group_size,
                           self.device.name, is_cpu(self.device), blocks=self.blocks_per_example,
                           units=self.device.max_compute_units)

    def _prepare(self, profiling):
        import pyopencl as cl
        self.cl = cl
        self.ctx = cl.Context([self.device])
        self.queue = cl.CommandQueue(self.ctx)
        renderer = renderer_for(OPENCL_KERNELS, self.plan)
        self.source = source_for(OPENCL_KERNELS, self.plan, self.program, self.graph.name)
        if settings.debug_level() >= 4:
            sys.stderr.write(f"// ----- generated OpenCL for '{self.graph.name}' -----\n"
                             f"{self.source}")
        folder = usable_cache_dir(cache_dir())  # a private temporary one if unusable
        built = cl.Program(self.ctx, self.source).build(cache_dir=str(folder))
        if self.plan.blocks <= 1:
            self.kernel = built.irsnn_run
            self.infer_kernel = (built.irsnn_run_infer if renderer.learning_variants(
                self.program) else None)
        else:
            self._grid_kernels(renderer, lambda name: getattr(built, name))
        self.end_kernels = ((built.irsnn_end_example, built.irsnn_restart)
                            if self.program.end_kernels else ())
        by_name = lambda name: getattr(built, name)  # noqa: E731
        self.scatter_kernels = self._row_kernels(by_name, self.program.scatter_kernels)
        self.optimiser_kernels = self._row_kernels(by_name, self.program.optimiser_kernels)
        mf = cl.mem_flags
        self.dev = {b.name: cl.Buffer(self.ctx, mf.READ_WRITE, max(4, self.memory.array(b).nbytes))
                    for b in self.program.buffers}
        self._egp_dev: dict[str, tuple] = {}
        self._rec_dev: dict[str, tuple] = {}
        self._dummy = cl.Buffer(self.ctx, mf.READ_WRITE, 4)
        if self.grid is not None:
            self._blocksums = cl.Buffer(self.ctx, mf.READ_WRITE, max(4, 4 * self.grid.sums))
        self.local_size = self.plan.threads or min(64, self.device.max_work_group_size)
        if profiling:
            self.kernel_names = ["run"]
            self.kernel_times = {"run": 0.0}
        self._elapsed = 0.0

    def _upload(self, buf, host):
        self.cl.enqueue_copy(self.queue, self.dev[buf.name], host)

    def _download(self, buf, host):
        self.cl.enqueue_copy(self.queue, host, self.dev[buf.name])

    def _download_recording(self, rec_id, host):
        if rec_id in self._rec_dev:
            self.cl.enqueue_copy(self.queue, host, self._rec_dev[rec_id][1])

    def _device_array(self, host):
        mf = self.cl.mem_flags
        if host.nbytes == 0:
            return self._dummy
        return self.cl.Buffer(self.ctx, mf.READ_WRITE | mf.COPY_HOST_PTR, hostbuf=host)

    def _launch(self, steps, kernel=None):
        args = self.fused_arguments(self._device_array, self._dummy, steps)
        if kernel is None and self.grid is not None:
            return self._launch_grid(args, steps)
        local = self.local_size
        glob = (self.batch_size * local if self.plan.threads
                else -(-self.batch_size // local) * local)
        start = time.perf_counter()
        (kernel or self._run_kernel())(self.queue, (glob,), (local,), *args)
        self.queue.finish()
        self._elapsed += time.perf_counter() - start

    def _launch_grid(self, args, steps):
        """``steps`` timesteps of the grid plan: each phase's kernel over ``batch * blocks``
        work-groups, step after step (the step's scalars set on the kernels in place)."""
        cl, local, grid = self.cl, self.local_size, self.grid
        args = args + [self._blocksums]
        start = time.perf_counter()
        one = (self.batch_size * local,)
        if grid.prologue is not None:
            grid.prologue(self.queue, one, (local,), *args[:-1])
        phases = grid.phases(self._learning_on)
        for kernel in phases:
            kernel.set_args(*args)
        size = (self.batch_size * self.plan.blocks * local,)
        for k in range(steps):
            scalars = self.step_scalars(k)
            for kernel in phases:
                for at, value in scalars:
                    kernel.set_arg(len(args) - 1 + at, value)
                cl.enqueue_nd_range_kernel(self.queue, kernel, size, (local,))
        if grid.epilogue is not None:
            grid.epilogue(self.queue, one, (local,), *args[:-1])
        self.queue.finish()
        self._elapsed += time.perf_counter() - start

    def _launch_rows(self, kernels):
        args = [self.dev[b.name] for b in self.program.buffers]
        for kernel, extent, threads in kernels:
            if threads:   # one work-group per row
                kernel(self.queue, (extent * threads,), (threads,), *args)
            else:
                local = self.local_size
                kernel(self.queue, (-(-extent // local) * local,), (local,), *args)
        self.queue.finish()

    def _times(self):
        return [self._elapsed]
