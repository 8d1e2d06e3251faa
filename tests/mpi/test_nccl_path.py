"""Without a GPU: gradients in GPU memory are summed with NCCL, never through the host.

CuPy is not installed here, so a stand-in ``cupy`` module provides what the CUDA path touches:
device arrays (data in a private NumPy array; converting one to a host array fails the test),
``cupy.cuda.nccl`` whose all-reduce adds the values of a simulated second rank. The
:class:`~irsnn.communicators.MPI` communicator runs on a stand-in MPI communicator of two ranks
that adds the same second rank's values. What is checked is irsnn's own behaviour: CuPy arrays
go to NCCL with their device pointers, the right count, type and operation, and come back
summed; data-parallel training sums gradients held as device arrays (what the CUDA backend's
``native_var`` returns) to exactly the values the MPI path gives for the same arrays in host
memory, without a host copy (and a communicator with only mlGeNN's interface, which sums NumPy
arrays, gets host copies). ``benchmarks/gpu_check.sh`` runs the real CUDA + NCCL check.
"""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from irsnn import settings
from irsnn.communicators import Communicator

pytest.importorskip("mpi4py.MPI", reason="pip install 'irsnn[mpi]'")


def partner(values: np.ndarray) -> np.ndarray:
    """What the simulated second rank contributes to a sum of ``values``."""
    return values[::-1] * 0.25 + 1


class DeviceArray:
    """A stand-in CuPy array: the operations data-parallel code uses, no host conversion."""

    __module__ = "cupy._core.core"
    pointers: dict = {}

    def __init__(self, a):
        self._a = a

    def __array__(self, *args, **kwargs):
        raise AssertionError("a device array was copied to the host")

    def get(self):
        raise AssertionError("a device array was copied to the host")

    shape = property(lambda self: self._a.shape)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    dtype = property(lambda self: self._a.dtype)
    nbytes = property(lambda self: self._a.nbytes)

    @property
    def data(self):
        ptr = self._a.ctypes.data
        DeviceArray.pointers[ptr] = self._a
        return types.SimpleNamespace(ptr=ptr)

    def astype(self, dtype):
        return DeviceArray(self._a.astype(dtype))

    def sum(self, axis=None, dtype=None):
        return DeviceArray(self._a.sum(axis=axis, dtype=dtype))

    def __getitem__(self, key):
        return DeviceArray(self._a[key])

    def __setitem__(self, key, value):
        if isinstance(value, np.ndarray):
            raise AssertionError("host values were written into a device array")
        self._a[key] = value._a if isinstance(value, DeviceArray) else value

    def __mul__(self, other):
        return DeviceArray(self._a * other)


def fake_cupy(calls: list):
    """``cupy`` with ``cuda.nccl``; NCCL calls are appended to ``calls``."""
    nccl = types.ModuleType("cupy.cuda.nccl")
    nccl.NCCL_FLOAT32, nccl.NCCL_FLOAT64, nccl.NCCL_INT32, nccl.NCCL_INT64 = 7, 8, 2, 4
    nccl.NCCL_SUM = 0
    nccl.get_unique_id = lambda: (1, 2, 3)
    codes = {7: np.float32, 8: np.float64, 2: np.int32, 4: np.int64}

    class NcclCommunicator:
        def __init__(self, ranks, uid, rank):
            assert (ranks, uid, rank) == (2, (1, 2, 3), 0)

        def allReduce(self, send, recv, count, dtype, op, stream):  # noqa: N802 - NCCL's name
            calls.append((count, dtype, op, stream))
            src, dst = DeviceArray.pointers[send], DeviceArray.pointers[recv]
            assert src.size == dst.size == count and src.dtype == codes[dtype] and op == 0
            dst[...] = src + partner(src)

    nccl.NcclCommunicator = NcclCommunicator
    cuda = types.ModuleType("cupy.cuda")
    cuda.nccl = nccl
    cuda.get_current_stream = lambda: types.SimpleNamespace(ptr=99)
    cupy = types.ModuleType("cupy")
    cupy.cuda = cuda
    cupy.ascontiguousarray = lambda a: DeviceArray(np.ascontiguousarray(a._a))
    cupy.empty_like = lambda a: DeviceArray(np.empty_like(a._a))
    return {"cupy": cupy, "cupy.cuda": cuda, "cupy.cuda.nccl": nccl}


class TwoRanks:
    """A stand-in ``mpi4py`` communicator: rank 0 of two, the other rank adds ``partner``."""

    Get_rank = staticmethod(lambda: 0)
    Get_size = staticmethod(lambda: 2)

    def Split_type(self, *args):  # noqa: N802 - mpi4py's names
        return self

    def bcast(self, data, root=0):
        return data

    def Allreduce(self, send, out, op=None):  # noqa: N802
        out[...] = send + partner(send)

    def allreduce(self, value, op=None):
        return value + value


@pytest.fixture
def comm(monkeypatch):
    calls = []
    for name, module in fake_cupy(calls).items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(settings, "share_cores", lambda ranks: None)
    from irsnn.communicators import MPI
    mpi = MPI(comm=TwoRanks(), abort_on_error=False)
    mpi.nccl_calls = calls
    return mpi


def test_cupy_arrays_are_summed_by_nccl_on_the_device(comm):
    x = np.linspace(-1, 1, 10)
    out = comm.reduce_sum(DeviceArray(x.copy()))
    assert isinstance(out, DeviceArray)
    np.testing.assert_array_equal(out._a, x + partner(x))
    assert comm.nccl_calls == [(10, 8, 0, 99)]
    host = comm.reduce_sum(x.copy())       # NumPy arrays: MPI, the same sum
    np.testing.assert_array_equal(host, out._a)
    assert len(comm.nccl_calls) == 1


def test_without_nccl_cupy_arrays_cross_the_host(comm, monkeypatch):
    """CuPy without NCCL: MPI through host copies (cupy.asnumpy / cupy.asarray)."""
    monkeypatch.setattr(sys.modules["cupy.cuda.nccl"], "available", False, raising=False)
    cupy = sys.modules["cupy"]
    moved = []
    cupy.asnumpy = lambda a: moved.append("down") or a._a.copy()
    cupy.asarray = lambda a: moved.append("up") or DeviceArray(np.asarray(a))
    x = np.arange(4.0)
    out = comm.reduce_sum(DeviceArray(x.copy()))
    np.testing.assert_array_equal(out._a, x + partner(x))
    assert moved == ["down", "up"] and comm.nccl_calls == []


class DeviceSimulation:
    """The reference simulation's gradients seen as device arrays (as CUDA's native_var)."""

    def __init__(self, sim):
        self.sim, self.written = sim, []

    def native_var(self, node_id, name):
        return DeviceArray(self.sim.native_var(node_id, name))

    def native_written(self, node_id, name, array):
        assert isinstance(array, DeviceArray)
        self.written.append((node_id, name))

    def __getattr__(self, name):   # get_var, set_var, ... of the simulation itself
        return getattr(self.sim, name)


class HostOnly(Communicator):
    """mlGeNN's interface only: sums NumPy arrays (adding ``partner``) and numbers."""

    barrier = broadcast = None
    rank, num_ranks = 0, 2

    def reduce_sum(self, value):
        if isinstance(value, int):
            return 2 * value
        assert isinstance(value, np.ndarray), "a device array reached a host-only communicator"
        return value + partner(value)


@pytest.mark.parametrize("means, host_only", [(False, False), (True, False), (False, True)])
def test_data_parallel_sums_device_gradients_as_the_mpi_path_sums_host_ones(comm, means,
                                                                            host_only):
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    try:
        from worker import TIMESTEPS, data, network
    finally:
        sys.path.pop(0)
    from irsnn.backends.state import state_variables
    from irsnn.compilers import EPropCompiler
    from irsnn.compilers.data_parallel import DataParallel
    from irsnn.ir import OptimiserNode
    from irsnn.ir.ids import ref_owner

    spikes, labels = data(4)
    results = []
    for on_device in (False, True):
        net, inp, out = network()
        compiled = EPropCompiler(example_timesteps=TIMESTEPS, batch_size=4, backend="reference",
                                 losses="sparse_categorical_crossentropy").compile(net)
        with compiled:
            compiled._learn(0, {inp: spikes[:3]}, {out: labels[:3]}, compiled._callbacks([], 1),
                            defer=False)
            sim = compiled.simulation
            grads = {(ref_owner(n.target), n.gradient): sim.get_var(ref_owner(n.target),
                                                                    n.gradient)
                     for _, n in compiled.ir.nodes(OptimiserNode)}
            step = types.SimpleNamespace(   # what reduce_gradients reads of a network
                simulation=DeviceSimulation(sim) if on_device else sim, ir=compiled.ir,
                compiler=types.SimpleNamespace(gradients_are_batch_means=means),
                _gradient_rows=compiled._gradient_rows, _step_examples=3)
            rows, examples = DataParallel(HostOnly() if host_only else comm,
                                          "test").reduce_gradients(step)
            if on_device:   # (gradients copied to the host for a host-only communicator)
                assert len(step.simulation.written) == (0 if host_only else len(grads))
            results.append({k: sim.get_var(*k) for k in grads})
        assert (rows, examples) == (1, 6)
    host, device = results
    batched = {(v.owner, v.name): v.batched for v in state_variables(compiled.ir)}
    assert {batched[k] for k in grads} == {True, False}   # per row (Bias), whole batch (event)
    for key, before in grads.items():
        # rows beyond the 3 examples are padding
        # summed over the rank's rows in float64, then across ranks in the gradient's dtype
        total = (before[:3].sum(axis=0, dtype=np.float64).astype(before.dtype)
                 if batched[key] else before).reshape(-1)
        total = (total + partner(total)) * (0.5 if means else 1.0)
        assert total.dtype == before.dtype
        got = device[key][0] if batched[key] else device[key]
        np.testing.assert_array_equal(got.reshape(-1), total.astype(before.dtype),
                                      err_msg=str(key))
        if batched[key]:
            assert not np.any(device[key][1:])
        np.testing.assert_array_equal(device[key], host[key], err_msg=str(key))
    assert len(comm.nccl_calls) == (0 if host_only else len(grads))
