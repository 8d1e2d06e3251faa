"""OpenCL devices are probed before use: one that cannot build a kernel is skipped, with why.

A fake ``pyopencl`` module (devices that build, fail to build as PoCL 3.0 does on CPUs newer
than its LLVM, or compute wrongly) runs these tests on any machine, with or without OpenCL.
"""

import sys
import types

import numpy as np
import pytest

from irsnn.backends import available_backends, get_backend, load_backend
from irsnn.backends.native import toolchain
from irsnn.cli import main
from irsnn.errors import BackendUnavailableError

ZEN5 = ("clBuildProgram failed: BUILD_PROGRAM_FAILURE - clBuildProgram failed: "
        "BUILD_PROGRAM_FAILURE\n\nBuild on <pyopencl.Device 'pthread-AMD Ryzen 9 9950X'>:\n\n"
        "error: unknown target CPU 'generic'\nnote: valid target CPU values are: nocona, ...\n"
        "(options: -I /site-packages/pyopencl/cl)")


class FakeDevice:
    def __init__(self, platform, name, kind, behaviour):
        self.platform, self.name, self.type, self.behaviour = platform, name, kind, behaviour
        self.int_ptr = id(self)
        self.builds = 0


class FakePlatform:
    def __init__(self, name, version, devices):
        self.name, self.version = name, version
        self.devices = [FakeDevice(self, *d) for d in devices]

    def get_devices(self):
        return self.devices


def fake_pyopencl(platforms):
    """A module with the part of pyopencl's API the backend's device choice uses."""
    cl = types.ModuleType("pyopencl")
    cl.Error = type("Error", (Exception,), {})
    cl.RuntimeError = type("RuntimeError", (cl.Error,), {})
    cl.device_type = types.SimpleNamespace(CPU=2, GPU=4)
    cl.mem_flags = types.SimpleNamespace(READ_WRITE=1, COPY_HOST_PTR=32)
    cl.get_platforms = lambda: platforms

    class Context:
        def __init__(self, devices):
            (self.device,) = devices

    class Buffer:
        def __init__(self, ctx, flags, hostbuf):
            self.data = hostbuf.copy()

    class Program:
        def __init__(self, ctx, source):
            assert "__kernel void irsnn_probe(" in source and "int64_t" in source
            self.device = ctx.device

        def build(self, cache_dir=None):
            self.device.builds += 1
            if self.device.behaviour == "no-build":
                raise cl.RuntimeError(ZEN5)
            return self

        def irsnn_probe(self, queue, size, local, x, n):
            x.data[:] = 2 * x.data + (1 if self.device.behaviour == "ok" else 2)
            n.data[:] += np.arange(size[0])

    cl.Context, cl.Buffer, cl.Program = Context, Buffer, Program
    cl.CommandQueue = lambda ctx: types.SimpleNamespace(finish=lambda: None)
    cl.enqueue_copy = lambda queue, host, buf: host.__setitem__(Ellipsis, buf.data)
    return cl


@pytest.fixture
def devices(monkeypatch):
    """Install a fake pyopencl with the devices given: ``devices([(name, kind, behaviour)])``
    (one platform); no C compiler, so the default backend is chosen among the others."""
    from irsnn.backends import opencl
    monkeypatch.setattr(opencl, "_PROBED", {}, raising=False)
    monkeypatch.delenv("IRSNN_OPENCL_DEVICE", raising=False)
    monkeypatch.delenv("PYOPENCL_CTX", raising=False)
    monkeypatch.delenv("IRSNN_BACKEND", raising=False)
    monkeypatch.setattr(toolchain, "find_compiler", lambda: None)

    def install(specs):
        platform = FakePlatform("Portable Computing Language",
                                "OpenCL 3.0 PoCL 3.0-rc2  Linux, Release, RELOC, LLVM 14.0.6",
                                specs)
        monkeypatch.setitem(sys.modules, "pyopencl", fake_pyopencl([platform]))
        return platform.devices
    return install


def test_a_device_that_cannot_build_makes_opencl_unavailable(devices, capsys):
    (cpu,) = devices([("pthread-AMD Ryzen 9 9950X", 2, "no-build")])
    ok, why = available_backends()["opencl"]
    assert not ok
    assert "0:0 pthread-AMD Ryzen 9 9950X" in why and "LLVM 14.0.6" in why
    assert "unknown target CPU 'generic'" in why and "pocl-opencl-icd" in why
    # never the default backend, and asking for it says why
    if not available_backends()["cuda"][0]:
        assert get_backend().name == "reference"
    with pytest.raises(BackendUnavailableError, match="unknown target CPU 'generic'"):
        get_backend("opencl")
    assert main(["backends"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("opencl"))
    assert "unavailable" in line and "unknown target CPU 'generic'" in line
    assert cpu.builds == 1  # probed once per process, however often the backends are listed


def test_a_failing_device_is_skipped_for_one_that_works(devices, capsys):
    gpu, cpu = devices([("Broken GPU", 4, "no-build"), ("pthread-AMD EPYC", 2, "ok")])
    assert available_backends()["opencl"] == (True, "")
    backend = get_backend()
    assert backend.name == "opencl"
    listing = backend.devices()
    assert listing[0].startswith("0:0 Broken GPU") and "[skipped: it cannot build" in listing[0]
    assert "unknown target CPU 'generic'" in listing[0]
    assert listing[1].startswith("0:1 pthread-AMD EPYC") and listing[1].endswith(" *")
    assert main(["backends"]) == 0
    assert "[skipped: it cannot build and run a test kernel" in capsys.readouterr().out
    assert (gpu.builds, cpu.builds) == (1, 1)


def test_a_chosen_device_that_cannot_build_is_refused(devices, monkeypatch):
    devices([("pthread-AMD Ryzen 9 9950X", 2, "no-build"), ("Good GPU", 4, "ok")])
    monkeypatch.setenv("IRSNN_OPENCL_DEVICE", "0:0")
    with pytest.raises(BackendUnavailableError,
                       match=r"OpenCL device '0:0' = 0:0 pthread-AMD Ryzen 9 9950X .*unknown "
                             r"target CPU 'generic'.*IRSNN_OPENCL_DEVICE \(0:0 = .*; 0:1 = "):
        get_backend("opencl")
    monkeypatch.setenv("IRSNN_OPENCL_DEVICE", "good")
    assert available_backends()["opencl"] == (True, "")


def test_a_device_that_computes_wrongly_is_skipped(devices):
    devices([("Wrong CPU", 2, "wrong")])
    ok, why = available_backends()["opencl"]
    assert not ok and "0:0 Wrong CPU (" in why
    assert "computes a test kernel wrongly (got [2.0, 4.0, 6.0" in why


def test_the_probe_passes_on_a_working_device():
    """On a machine with a working OpenCL device, the real probe accepts it."""
    ok, _ = available_backends()["opencl"]
    if not ok:
        pytest.skip("no working OpenCL device here")
    from irsnn.backends.opencl import choose_device, probe_device
    assert probe_device(choose_device()) is None
    assert any(d.endswith(" *") for d in load_backend("opencl").devices())
