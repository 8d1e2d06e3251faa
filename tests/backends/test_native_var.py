"""Variables in a backend's own memory (``Simulation.native_var`` / ``native_written``).

* the host/device protocol of :class:`~backends.kernel_sim.memory.HostMemory` for a target
  that uses a buffer on the device directly (CUDA's case), with a stand-in device: host writes
  reach the device before it is used, device writes reach the host before it is read;
* on every available backend, against the reference backend: a view taken after a kernel run
  holds the kernel's values; values written through it are what ``get_var`` reads and what the
  next run continues from (OpenCL and CUDA must move them to the device); on the reference
  backend and C the view is the simulation's memory itself (no copy).
"""

from __future__ import annotations

import numpy as np
import pytest

from irsnn.backends import available_backends
from irsnn.backends.kernel_sim.memory import HostMemory
from irsnn.backends.kernels.buffers import BufferTable

from .test_state import N_IN, N_OUT, T, compile_eprop, network


# -- the memory protocol, with a stand-in device -------------------------------------------------
def _memory(host_is_device=False):
    table = BufferTable()
    table.register("pop.a", "g0")
    a = table.add("pop.a", "V", "double", (2, 3))
    b = table.add("pop.a", "U", "double", (2, 3))
    device = {buf.name: np.zeros(buf.size) for buf in table}
    moved = []

    def upload(buf, host):
        moved.append(("up", buf.name))
        device[buf.name][:] = host

    def download(buf, host):
        moved.append(("down", buf.name))
        host[:] = device[buf.name]

    memory = HostMemory(table, download, host_is_device)
    return memory, a, b, device, upload, moved


def test_host_writes_reach_the_device_before_it_is_used_directly():
    memory, a, b, device, upload, moved = _memory()
    memory.upload_dirty(upload)             # as before the first launch
    moved.clear()
    memory(a, write=True)[:] = 7.0
    memory.to_device(a, upload)
    assert moved == [("up", a.name)] and np.all(device[a.name] == 7.0)
    memory.to_device(a, upload)            # nothing newer on the host: no second upload
    memory.upload_dirty(upload)            # nor before the next launch
    assert moved == [("up", a.name)]


def test_device_writes_reach_the_host_before_it_is_read():
    memory, a, b, device, upload, moved = _memory()
    memory.upload_dirty(upload)
    moved.clear()
    memory.to_device(a, upload)
    device[a.name][:] = np.arange(6.0)     # written on the device, between launches
    memory.written(a, on_device=True)
    assert moved == []
    np.testing.assert_array_equal(memory(a), np.arange(6.0))
    assert moved == [("down", a.name)]
    np.testing.assert_array_equal(memory(b), 0.0)   # b was not touched: not downloaded
    assert moved == [("down", a.name)]


def test_a_launch_after_device_writes_downloads_only_when_read():
    memory, a, _, device, upload, moved = _memory()
    memory.upload_dirty(upload)
    moved.clear()
    memory.to_device(a, upload)
    device[a.name][:] = 3.0
    memory.written(a, on_device=True)
    memory.upload_dirty(upload)            # the next launch must not overwrite them
    assert moved == [] and np.all(device[a.name] == 3.0)


def test_where_the_device_is_host_memory_nothing_moves():
    memory, a, _, device, upload, moved = _memory(host_is_device=True)
    memory(a, write=True)[:] = 5.0
    memory.to_device(a, upload)
    memory.written(a, on_device=True)
    memory.device_wrote()
    np.testing.assert_array_equal(memory(a), 5.0)
    assert moved == []


# -- every backend against the reference ----------------------------------------------------------
def _available(name):
    ok, why = available_backends()[name]
    if not ok:
        pytest.skip(f"backend {name!r} unavailable: {why}")
    return name


def _host(array):
    """A NumPy copy of ``array`` (CuPy arrays come from the GPU)."""
    return array.get() if not isinstance(array, np.ndarray) else array.copy()


def _like(view, values):
    """``values`` where ``view`` lives (NumPy, or CuPy on the GPU)."""
    if isinstance(view, np.ndarray):
        return values
    import cupy
    return cupy.asarray(values)


def _started(backend):
    """A batch-2 online e-prop simulation run for half an example, learning on."""
    rng = np.random.default_rng(4)
    x = rng.choice([-1.0, 0.0, 0.0, 1.0], size=(2, T, N_IN)).astype(np.float32)
    y = rng.integers(0, N_OUT, 2)
    net, inp, _ = network()
    compiled = compile_eprop(backend, net)
    sim = compiled.simulation
    compiled.set_input({inp: x})
    sim.learning_enabled = True
    sim.set_labels("loss.out", y, np.ones(2, bool))
    sim.begin_batch(T)
    sim.run(T // 2)
    return compiled, sim


@pytest.mark.parametrize("backend", ["reference", "c", "opencl", "cuda"])
def test_native_views_see_kernel_values_and_carry_writes(backend):
    backend = _available(backend)
    _, sim = _started(backend)
    _, ref = _started("reference")
    ih, grad = "syn.input->hidden", "DeltaG"
    close = dict(rtol=1e-5, atol=1e-9)
    # after a run: the kernel's values (as the reference computes them), in rows of the batch
    view = sim.native_var(ih, grad)
    assert view.shape == (2, 12 * 10) and view.dtype == np.float64
    np.testing.assert_allclose(_host(view), ref.get_var(ih, grad).reshape(2, -1), **close)
    assert np.any(_host(view) != 0)
    v = sim.native_var("pop.hidden", "V")
    np.testing.assert_allclose(_host(v), ref.get_var("pop.hidden", "V"), **close)
    # written through the views: get_var reads the values, and the next run continues from them
    pattern = np.arange(view.size, dtype=np.float64).reshape(view.shape) / 8 - 30
    volts = np.linspace(-0.5, 0.375, v.size).reshape(v.shape)
    view[...] = _like(view, pattern)
    sim.native_written(ih, grad, view)
    v = sim.native_var("pop.hidden", "V")
    v[...] = _like(v, volts)
    sim.native_written("pop.hidden", "V", v)
    np.testing.assert_array_equal(sim.get_var(ih, grad).reshape(2, -1), pattern)
    np.testing.assert_array_equal(sim.get_var("pop.hidden", "V"), volts)
    ref.set_var(ih, grad, pattern.reshape(2, 12, 10))
    ref.set_var("pop.hidden", "V", volts)
    for s in (sim, ref):
        s.run(T - T // 2)
    for owner, name in ((ih, grad), ("pop.hidden", "V")):
        got = _host(sim.native_var(owner, name))
        np.testing.assert_allclose(got, ref.get_var(owner, name).reshape(got.shape), **close,
                                   err_msg=f"{owner}/{name}")
        np.testing.assert_array_equal(got, sim.get_var(owner, name).reshape(got.shape))


@pytest.mark.parametrize("backend", ["reference", "c"])
def test_reference_and_c_views_are_the_simulations_memory(backend):
    _, sim = _started(_available(backend))
    rec = "rec.hidden->hidden"
    first, second = sim.native_var(rec, "DeltaG"), sim.native_var(rec, "DeltaG")
    assert np.shares_memory(first, second)   # no copy: both are the state itself
    # a sparse connection's rows hold its storage slots; their sums are layout-free
    np.testing.assert_allclose(first.sum(axis=1),
                               sim.get_var(rec, "DeltaG").reshape(2, -1).sum(axis=1),
                               rtol=1e-12)
    first[...] = 0   # seen at once (native_written has nothing to move on these backends)
    assert not np.any(sim.get_var(rec, "DeltaG"))
