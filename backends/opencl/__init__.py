"""The OpenCL backend (pyopencl; ``pip install irsnn[opencl]``, or ``irsnn[opencl-cpu]`` for PoCL).

Requires: an IR after a compiler's pipeline. Provides: :class:`OpenCLSimulation`, the shared
kernels rendered as OpenCL C (one fused kernel per model), programs built
once per model and cached under ``$XDG_CACHE_HOME/irsnn/opencl``. Device choice never prompts:
``$IRSNN_OPENCL_DEVICE`` (``platform:device`` indices, or part of a device name), else
``$PYOPENCL_CTX``, else the first GPU, else the first CPU device, among the devices that work.

A device works when it builds and runs a tiny kernel (:func:`probe_device`, once per device and
process): a driver can list a device that cannot compile anything (PoCL 3.0 of the pip package
``pocl-binary-distribution`` on CPUs newer than its LLVM: ``unknown target CPU 'generic'``).
Devices that fail are skipped, and their reasons are what :meth:`OpenCLBackend.availability`
(hence ``irsnn backends`` and :func:`irsnn.backends.available_backends`) reports when none works.

The plan (one work-group per example, or one work-item) is chosen by
:mod:`backends.kernels.simt`.
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


#: (platform name, device name, device pointer) -> None when the device passed the probe, else
#: why not; filled by :func:`probe_device`, once per device and process
_PROBED: dict[tuple, str | None] = {}

_PROBE_KERNEL = """
__kernel void irsnn_probe(GLOBAL float *x, GLOBAL int64_t *n) {
    int32_t i = (int32_t)get_global_id(0);
    x[i] = 2.0f * x[i] + 1.0f;
    n[i] += (int64_t)i;
}
"""


def _summary(exc: BaseException) -> str:
    """The informative part of an OpenCL error: its ``error:`` lines, else its first line."""
    text = str(exc).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    errors = list(dict.fromkeys(ln for ln in lines if "error" in ln.lower() and
                                not ln.startswith("clBuildProgram failed")))
    said = "; ".join(errors[:3]) if errors else (lines[0] if lines else type(exc).__name__)
    return said if len(said) <= 400 else said[:400] + "..."


def _run_probe(dev) -> str | None:
    import numpy as np
    import pyopencl as cl

    from .dialect import OPENCL_KERNELS
    x = np.arange(8, dtype=np.float32)
    n = np.full(8, 1 << 40, dtype=np.int64)
    try:
        ctx = cl.Context([dev])
        queue = cl.CommandQueue(ctx)
        program = cl.Program(ctx, OPENCL_KERNELS.header + _PROBE_KERNEL).build(cache_dir=False)
        mf = cl.mem_flags
        bufs = [cl.Buffer(ctx, mf.READ_WRITE | mf.COPY_HOST_PTR, hostbuf=a) for a in (x, n)]
        program.irsnn_probe(queue, (len(x),), None, *bufs)
        for host, buf in zip((x, n), bufs):
            cl.enqueue_copy(queue, host, buf)
        queue.finish()
    except Exception as exc:  # any driver fault (cl.Error or not) makes the device unusable
        return f"cannot build and run a test kernel ({_summary(exc)})"
    want_x = 2.0 * np.arange(8, dtype=np.float32) + 1.0
    want_n = (1 << 40) + np.arange(8, dtype=np.int64)
    if not (np.array_equal(x, want_x) and np.array_equal(n, want_n)):
        return f"computes a test kernel wrongly (got {x.tolist()}, expected {want_x.tolist()})"
    return None


def probe_device(dev) -> str | None:
    """Whether ``dev`` works: None when it builds and runs a tiny kernel (with the header of
    the generated kernels) and gets the right numbers, else why not. Once per device and
    process."""
    key = (dev.platform.name, dev.name, dev.int_ptr)
    if key not in _PROBED:
        _PROBED[key] = _run_probe(dev)
    return _PROBED[key]


def _describe(key, platform, dev) -> str:
    """``0:0 NAME (PLATFORM VERSION, LLVM x.y)``: the driver's version and its LLVM."""
    parts = [p.strip() for p in platform.version.split(",")]
    version = ", ".join([parts[0]] + [p for p in parts[1:] if p.startswith("LLVM")])
    return f"{key} {dev.name} ({platform.name}: {version})"


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
        for key, platform, dev in devices:
            if wanted == key or wanted.lower() in dev.name.lower():
                fault = probe_device(dev)
                if fault is not None:
                    raise BackendUnavailableError(
                        f"OpenCL device {wanted!r} = {_describe(key, platform, dev)} {fault}; "
                        f"choose another with IRSNN_OPENCL_DEVICE ({_listing(devices)}), "
                        f"install a driver that works on this machine{_HINT}")
                return dev
        raise BackendUnavailableError(f"OpenCL device {wanted!r} does not exist; devices are: "
                                      f"{_listing(devices)}")
    gpus = [d for d in devices if d[2].type & cl.device_type.GPU]
    faults = []
    for key, platform, dev in gpus + [d for d in devices if d not in gpus]:
        fault = probe_device(dev)
        if fault is None:
            return dev
        faults.append(f"{_describe(key, platform, dev)} {fault}")
    raise BackendUnavailableError(f"no OpenCL device works: {'; '.join(faults)}; install a "
                                  f"driver that works on this machine{_HINT}")


def _listing(devices) -> str:
    return "; ".join(f"{k} = {d.name}" for k, _, d in devices)


_HINT = (" (PoCL of the pip package pocl-binary-distribution cannot compile for CPUs newer than "
         "its LLVM: on Debian/Ubuntu install pocl-opencl-icd and set "
         "OCL_ICD_VENDORS=/etc/OpenCL/vendors/pocl.icd), or use backend='c' or 'reference'")


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
    blocks_per_example : int or None
        Work-groups per batch element (above 1: :mod:`backends.kernels.grid`); None:
        ``$IRSNN_BLOCKS_PER_EXAMPLE``, else automatic.
    """

    name = "opencl"

    def __init__(self, work_group_size: int | None = None,
                 blocks_per_example: int | None = None):
        from ..kernels.simt import blocks_request, work_group_request
        self.work_group_size = work_group_request(work_group_size)
        self.blocks_per_example = blocks_request(blocks_per_example)

    def availability(self):
        try:
            choose_device()
        except BackendUnavailableError as exc:
            return False, str(exc)
        return True, ""

    def devices(self):
        """Every device (``*`` marks the one used); those that fail :func:`probe_device` say
        why they are skipped."""
        import pyopencl as cl
        chosen = choose_device()
        out = []
        for k, p, d in _all_devices(cl):
            fault = probe_device(d)
            note = " *" if d == chosen else "" if fault is None else f" [skipped: it {fault}]"
            out.append(f"{k} {d.name} ({p.name}){note}")
        return out

    def plan(self, program, device_limit=None, device="the OpenCL device"):
        """The :class:`~backends.kernels.simt.Plan` of ``program`` (``device_limit``: the
        device's largest work-group; None: the chosen device's, else 256)."""
        from ..kernels.simt import choose_plan
        cpu, units = False, None
        if device_limit is None:
            try:
                dev = choose_device()
                device_limit, device = dev.max_work_group_size, dev.name
                cpu, units = is_cpu(dev), dev.max_compute_units
            except BackendUnavailableError:
                device_limit = 256
        return choose_plan(program, self.work_group_size, device_limit, device, cpu,
                           blocks=self.blocks_per_example, units=units)

    def kernel_source(self, graph):
        from irsnn.lang.render_c import CStyleRenderer

        from ..kernels import KernelBuilder
        from ..kernels.grid import source_for
        from ..kernels.render import file_stem
        from .dialect import OPENCL_KERNELS
        builder = KernelBuilder(graph, CStyleRenderer(OPENCL_KERNELS.lang), plan=self.plan)
        program = builder.build()
        source = source_for(OPENCL_KERNELS, builder.plan, program, graph.name)
        return {f"{file_stem(graph.name, '.-')}.cl": source}

    def memory_limit(self):
        """The smaller of the chosen device's global memory and the host's (host copies)."""
        from ..footprint import device_limit
        try:
            dev = choose_device()
            size, what = int(dev.global_mem_size), f"global memory of OpenCL device {dev.name}"
        except Exception:  # no device to ask: only the host's figure
            size, what = None, ""
        return device_limit(size, what, super().memory_limit())

    def build(self, graph, *, rng_seed=0, kernel_profiling=False):
        from .simulation import OpenCLSimulation
        return OpenCLSimulation(graph, choose_device(), rng_seed=rng_seed,
                                kernel_profiling=kernel_profiling,
                                work_group_size=self.work_group_size,
                                blocks_per_example=self.blocks_per_example)


__all__ = ["OpenCLBackend", "choose_device", "is_cpu", "probe_device"]
