"""Data-parallel communication over MPI (mlGeNN's ``MPI`` communicator), through mpi4py.

Requires: mpi4py and an MPI library (``pip install "irsnn[mpi]"`` brings both from pip), imported
when an :class:`MPI` is created. Provides :class:`MPI`: barrier, broadcast, sums of numbers and
arrays (NumPy arrays with MPI's buffer interface; CuPy arrays on NCCL when CuPy has it), the
local rank (which GPU a rank uses), and an abort that ends every rank when one fails; and
:func:`launched_by_mpi`.
"""

from __future__ import annotations

import sys
import time
import traceback

import numpy as np

from .. import settings
from ..errors import DistributedError
from .communicator import Communicator

def local_rank_from_environment(fallback=lambda: 0) -> int:
    """This process's rank on its node as the launcher gives it
    (:func:`irsnn.settings.mpi_local_rank`), else ``fallback()``."""
    rank = settings.mpi_local_rank()
    return fallback() if rank is None else rank


def launched_by_mpi() -> bool:
    """Whether this process was started by an MPI launcher as one of several ranks (read from
    the launcher's environment, :func:`irsnn.settings.mpi_job_size`, without initialising
    MPI)."""
    return settings.mpi_job_size() > 1


class MPI(Communicator):
    """Communicate over ``MPI.COMM_WORLD`` (or ``comm``) with mpi4py.

    Start the job with ``mpiexec -n N python script.py`` (or ``srun``); every rank runs the same
    script on its own shard of the data. When this communicator is created in a job of several
    ranks, an exception that ends a rank's script ends every rank at once (MPI_Abort) instead of
    leaving the others waiting in their next collective.

    The ranks on one node share its cores: unless ``OMP_NUM_THREADS`` is set, each rank's C
    backend is given an equal share of them (the node's cores divided by its ranks) so that
    ranks do not oversubscribe the CPU.

    Parameters
    ----------
    comm : mpi4py.MPI.Comm, optional
        The communicator to use (default ``COMM_WORLD``).
    abort_on_error : bool
        Install the exception hook that aborts the job when a rank's script raises.
    """

    reduces_device_arrays = True

    def __init__(self, comm=None, abort_on_error: bool = True):
        try:
            from mpi4py import MPI as mpi
        except ImportError as exc:
            raise DistributedError(
                "the MPI communicator needs mpi4py and an MPI library; install them with "
                "pip install 'irsnn[mpi]' (mpi4py and the mpich wheel) and start the script with "
                "'mpiexec -n <ranks> python <script>'") from exc
        self._mpi = mpi
        self.comm = mpi.COMM_WORLD if comm is None else comm
        self._rank = self.comm.Get_rank()
        self._num_ranks = self.comm.Get_size()
        self._nccl = None
        if abort_on_error and self._num_ranks > 1:
            _install_abort_hook(self)
        if self._num_ranks > 1:   # OpenMP reads it when it first starts
            settings.share_cores(self.comm.Split_type(mpi.COMM_TYPE_SHARED).Get_size())

    # -- mlGeNN's interface ------------------------------------------------------------------
    def barrier(self):
        self.comm.Barrier()

    def broadcast(self, data, root: int):
        """Rank ``root``'s ``data`` on every rank: a NumPy array is overwritten in place (and
        returned); any other picklable object is returned."""
        if isinstance(data, np.ndarray) and data.flags.c_contiguous:
            self.comm.Bcast(data, root=root)
            return data
        return self.comm.bcast(data, root=root)

    def reduce_sum(self, value):
        """The sum over ranks of a number (returned as a Python number), a NumPy array (a new
        array of the same dtype, summed by MPI's buffer interface) or a CuPy array (NCCL)."""
        if isinstance(value, np.ndarray):
            send = np.ascontiguousarray(value)
            out = np.empty_like(send)
            self.comm.Allreduce(send, out, op=self._mpi.SUM)
            return out
        if type(value).__module__.startswith("cupy"):
            return self._nccl_sum(value)
        return self.comm.allreduce(value, op=self._mpi.SUM)

    @property
    def rank(self) -> int:
        return self._rank

    @property
    def num_ranks(self) -> int:
        return self._num_ranks

    # -- beyond mlGeNN -----------------------------------------------------------------------
    @property
    def local_rank(self) -> int:
        """This rank's index among the ranks on its node (from the launcher's environment, else
        from a node-local split of the communicator)."""
        return local_rank_from_environment(
            lambda: self.comm.Split_type(self._mpi.COMM_TYPE_SHARED).Get_rank())

    def abort(self, code: int = 1):
        sys.stdout.flush()
        sys.stderr.flush()
        self.comm.Abort(code)

    def _nccl_sum(self, value):
        """All-reduce a CuPy array device to device with NCCL (CuPy's ``cupy.cuda.nccl``),
        falling back to MPI through host memory where CuPy has no NCCL."""
        import cupy
        try:
            from cupy.cuda import nccl
        except ImportError:
            nccl = None
        if nccl is None or not getattr(nccl, "available", True):
            return cupy.asarray(self.reduce_sum(cupy.asnumpy(value)))
        if self._nccl is None:
            uid = nccl.get_unique_id() if self._rank == 0 else None
            uid = self.comm.bcast(uid, root=0)
            self._nccl = nccl.NcclCommunicator(self._num_ranks, uid, self._rank)
        types = {np.dtype(np.float32): nccl.NCCL_FLOAT32, np.dtype(np.float64): nccl.NCCL_FLOAT64,
                 np.dtype(np.int32): nccl.NCCL_INT32, np.dtype(np.int64): nccl.NCCL_INT64}
        send = cupy.ascontiguousarray(value)
        out = cupy.empty_like(send)
        self._nccl.allReduce(send.data.ptr, out.data.ptr, send.size, types[send.dtype],
                             nccl.NCCL_SUM, cupy.cuda.get_current_stream().ptr)
        return out


#: seconds a rank waits before aborting the job for an error every rank already knows of, so
#: that each can print its own report first
AGREED_GRACE_S = 2.0


def _install_abort_hook(comm: MPI):
    """Make an uncaught exception print its traceback and abort the whole job (after a short
    grace period when every rank already raised it, see ``DataParallel.agree``)."""
    previous = sys.excepthook

    def hook(kind, value, tb):
        # the error itself first, in one flushed line: another rank's abort may cut the
        # traceback that follows short
        sys.stderr.write(f"irsnn: rank {comm.rank} of {comm.num_ranks} stopped with "
                         f"{kind.__name__}: {value}; ending every rank of the job\n")
        sys.stderr.flush()
        try:
            previous(kind, value, tb)
        except Exception:   # noqa: BLE001 - the traceback is what must reach the user
            traceback.print_exception(kind, value, tb)
        if getattr(value, "irsnn_all_ranks_know", False):
            sys.stderr.flush()
            time.sleep(AGREED_GRACE_S)
        comm.abort(1)

    sys.excepthook = hook
