"""The CUDA backend (CuPy + NVRTC; ``pip install irsnn[cuda]``).

Requires: an IR after a compiler's pipeline and an NVIDIA GPU. Provides: :class:`CudaSimulation`
(one fused kernel per model, one block per batch element (:mod:`backends.kernels.simt`), a batch
per launch) and :func:`plan_of`. CuPy is imported
lazily; without it or without a GPU the backend reports itself unavailable with the reason.
:func:`compile_with_nvrtc` compiles the generated source without a GPU (through
``cuda-bindings`` + ``nvidia-cuda-nvrtc``), which is how CI checks it.
"""

from __future__ import annotations

from ..base import Backend


#: threads a CUDA block holds at most (every architecture irsnn compiles for)
MAX_BLOCK_THREADS = 1024


def plan_of(program, work_group_size=None, blocks_per_example=None, units=None):
    """The :class:`~backends.kernels.simt.Plan` of ``program`` for CUDA (``work_group_size``:
    threads per block asked for, 0 for one thread per example; None:
    ``$IRSNN_WORK_GROUP_SIZE``, else automatic; ``blocks_per_example``: blocks per example
    asked for, None: ``$IRSNN_BLOCKS_PER_EXAMPLE``, else automatic on ``units``
    multiprocessors, where known)."""
    from ..kernels.simt import blocks_request, choose_plan, work_group_request
    return choose_plan(program, work_group_request(work_group_size), MAX_BLOCK_THREADS,
                       "CUDA blocks", blocks=blocks_request(blocks_per_example), units=units)


def multiprocessors() -> int | None:
    """The current GPU's multiprocessors (the automatic plan's compute units), or None where
    CuPy or a GPU is missing (kernel source written without a device)."""
    try:
        import cupy
        return int(cupy.cuda.Device().attributes["MultiProcessorCount"])
    except Exception:   # no CuPy, no driver, no device: the plan is chosen without it
        return None


def _source(graph, work_group_size=None, blocks_per_example=None) -> str:
    from irsnn.lang.render_c import CStyleRenderer

    from ..kernels import KernelBuilder
    from ..kernels.grid import source_for
    from .dialect import CUDA_KERNELS
    builder = KernelBuilder(graph, CStyleRenderer(CUDA_KERNELS.lang),
                            plan=lambda program: plan_of(program, work_group_size,
                                                         blocks_per_example, multiprocessors()))
    program = builder.build()
    return source_for(CUDA_KERNELS, builder.plan, program, graph.name)


def compile_with_nvrtc(source: str, arch: str = "sm_80") -> tuple[bool, str]:
    """Compile ``source`` to PTX with NVRTC (no GPU needed): ``(ok, compiler log)``.

    Raises ImportError when ``cuda-bindings``/``nvidia-cuda-nvrtc`` are not installed.
    """
    from cuda.bindings import nvrtc

    from .simulation import NVRTC_OPTIONS
    err, prog = nvrtc.nvrtcCreateProgram(source.encode(), b"irsnn.cu", 0, [], [])
    opts = [o.encode() for o in NVRTC_OPTIONS + (f"--gpu-architecture={arch}",)]
    try:
        (result,) = nvrtc.nvrtcCompileProgram(prog, len(opts), opts)
        _, size = nvrtc.nvrtcGetProgramLogSize(prog)
        log = b" " * size
        nvrtc.nvrtcGetProgramLog(prog, log)
    finally:
        nvrtc.nvrtcDestroyProgram(prog)
    return result == nvrtc.nvrtcResult.NVRTC_SUCCESS, log.decode(errors="replace").strip("\x00 \n")


class CudaBackend(Backend):
    """Render the kernels as CUDA C++ and run them through CuPy.

    Parameters
    ----------
    work_group_size : int or None
        Threads per block, one block per batch element (0: one thread per batch element);
        None: ``$IRSNN_WORK_GROUP_SIZE``, else automatic (:mod:`backends.kernels.simt`).
    blocks_per_example : int or None
        Blocks per batch element (above 1: :mod:`backends.kernels.grid`); None:
        ``$IRSNN_BLOCKS_PER_EXAMPLE``, else automatic.
    """

    name = "cuda"

    def __init__(self, work_group_size: int | None = None,
                 blocks_per_example: int | None = None):
        from ..kernels.simt import blocks_request, work_group_request
        self.work_group_size = work_group_request(work_group_size)
        self.blocks_per_example = blocks_request(blocks_per_example)

    def availability(self):
        try:
            import cupy
        except ImportError:
            return False, ("CuPy is not installed; pip install 'irsnn[cuda]' on a machine with "
                           "an NVIDIA GPU")
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:  # CUDA driver missing or broken
            return False, f"no usable CUDA driver/GPU ({exc})"
        if count == 0:
            return False, "no NVIDIA GPU found"
        return True, ""

    def devices(self):
        import cupy
        out = []
        for i in range(cupy.cuda.runtime.getDeviceCount()):
            props = cupy.cuda.runtime.getDeviceProperties(i)
            out.append(f"{i} {props['name'].decode()}")
        return out

    def use_local_device(self, local_rank):
        """Make GPU ``local_rank`` modulo the GPUs present current (one GPU per rank of a
        data-parallel job on a node; mpiexec/srun give the local rank)."""
        import cupy
        count = cupy.cuda.runtime.getDeviceCount()
        index = local_rank % count
        cupy.cuda.Device(index).use()
        return self.devices()[index]

    def kernel_source(self, graph):
        from ..kernels.render import file_stem
        return {f"{file_stem(graph.name, '.-')}.cu": _source(graph, self.work_group_size,
                                                                self.blocks_per_example)}

    def memory_limit(self):
        """The smaller of the current GPU's free memory and the host's (host copies)."""
        from ..footprint import device_limit
        try:
            import cupy
            free = int(cupy.cuda.Device().mem_info[0])
        except Exception:  # no device to ask: only the host's figure
            free = None
        return device_limit(free, "free memory of the CUDA device", super().memory_limit())

    def build(self, graph, *, rng_seed=0, kernel_profiling=False):
        from .simulation import CudaSimulation
        return CudaSimulation(graph, rng_seed=rng_seed, kernel_profiling=kernel_profiling,
                              work_group_size=self.work_group_size,
                              blocks_per_example=self.blocks_per_example)


__all__ = ["CudaBackend", "multiprocessors", "compile_with_nvrtc"]
