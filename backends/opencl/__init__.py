"""The OpenCL backend (pyopencl; ``pip install irsnn[opencl]``, or ``irsnn[opencl-cpu]`` for PoCL).

Requires: an IR after a compiler's pipeline. Provides: :class:`OpenCLSimulation`, the shared
kernels rendered as OpenCL C (one fused kernel, one work-item per batch element), programs built
once per model and cached under ``$XDG_CACHE_HOME/irsnn/opencl``. Device choice never prompts:
``$IRSNN_OPENCL_DEVICE`` (``platform:device`` indices, or part of a device name), else
``$PYOPENCL_CTX``, else the first GPU, else the first CPU device. The plan (one work-group per
example, or one work-item) is chosen by :mod:`backends.kernels.simt`.
"""

from __future__ import annotations

from irsnn import settings
from irsnn.errors import BackendUnavailableError

from ..base import Backend

_INSTALL = ("pyopencl is not installed; pip install 'irsnn[opencl]' (or 'irsnn[opencl-cpu]' "
            "for the PoCL CPU device)")


def _all_devices(cl):
    out = []
    for pi, platform in enumerate(cl.get_platforms()):
        for di, dev in enumerate(platform.get_devices()):
            out.append((f"{pi}:{di}", platform, dev))
    return out


def choose_device():
    """The OpenCL device to use (see the module docstring)."""
    try:
        import pyopencl as cl
    except ImportError:
        raise BackendUnavailableError(_INSTALL) from None
    try:
        devices = _all_devices(cl)
    except cl.Error as exc:
        raise BackendUnavailableError(f"no OpenCL platform is usable ({exc}); install a driver "
                                      f"or 'irsnn[opencl-cpu]'") from None
    if not devices:
        raise BackendUnavailableError("no OpenCL device found; install a driver or "
                                      "'irsnn[opencl-cpu]'")
    wanted = settings.opencl_device()
    if wanted:
        for key, _, dev in devices:
            if wanted == key or wanted.lower() in dev.name.lower():
                return dev
        listing = "; ".join(f"{k} = {d.name}" for k, _, d in devices)
        raise BackendUnavailableError(f"OpenCL device {wanted!r} does not exist; devices are: "
                                      f"{listing}")
    gpus = [d for _, _, d in devices if d.type & cl.device_type.GPU]
    return (gpus or [d for _, _, d in devices])[0]


def is_cpu(device) -> bool:
    """Whether an OpenCL device is a CPU (PoCL's, say)."""
    import pyopencl as cl
    return bool(device.type & cl.device_type.CPU)


class OpenCLBackend(Backend):
    """Render the kernels as OpenCL C and run them through pyopencl.

    Parameters
    ----------
    work_group_size : int or None
        Threads per batch element (one work-group per example; 0: one work-item per example);
        None: ``$IRSNN_WORK_GROUP_SIZE``, else automatic (:mod:`backends.kernels.simt`).
    """

    name = "opencl"

    def __init__(self, work_group_size: int | None = None):
        from ..kernels.simt import work_group_request
        self.work_group_size = work_group_request(work_group_size)

    def availability(self):
        try:
            choose_device()
        except BackendUnavailableError as exc:
            return False, str(exc)
        return True, ""

    def devices(self):
        import pyopencl as cl
        chosen = choose_device()
        return [f"{k} {d.name} ({p.name}){' *' if d == chosen else ''}"
                for k, p, d in _all_devices(cl)]

    def plan(self, program, device_limit=None, device="the OpenCL device"):
        """The :class:`~backends.kernels.simt.Plan` of ``program`` (``device_limit``: the
        device's largest work-group; None: the chosen device's, else 256)."""
        from ..kernels.simt import choose_plan
        cpu = False
        if device_limit is None:
            try:
                dev = choose_device()
                device_limit, device = dev.max_work_group_size, dev.name
                cpu = is_cpu(dev)
            except BackendUnavailableError:
                device_limit = 256
        return choose_plan(program, self.work_group_size, device_limit, device, cpu)

    def kernel_source(self, graph):
        from irsnn.lang.render_c import CStyleRenderer

        from ..kernels import KernelBuilder, KernelRenderer
        from ..kernels.render import file_stem
        from .dialect import OPENCL_KERNELS
        program = KernelBuilder(graph, CStyleRenderer(OPENCL_KERNELS.lang)).build()
        plan = self.plan(program)
        source = KernelRenderer(OPENCL_KERNELS, threads=plan.threads).fused_source(
            program, graph.name, plan.reason)
        return {f"{file_stem(graph.name, '.-')}.cl": source}

    def build(self, graph, *, rng_seed=0, kernel_profiling=False):
        from .simulation import OpenCLSimulation
        return OpenCLSimulation(graph, choose_device(), rng_seed=rng_seed,
                                kernel_profiling=kernel_profiling,
                                work_group_size=self.work_group_size)


__all__ = ["OpenCLBackend", "choose_device", "is_cpu"]
