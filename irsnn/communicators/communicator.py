"""The communicator interface of data-parallel training (mlGeNN's ``Communicator``).

Requires: NumPy. Provides :class:`Communicator`: the five operations mlGeNN defines
(``barrier``, ``broadcast``, ``reduce_sum``, ``rank``, ``num_ranks``) and what irsnn builds on
them (``gather``, ``first_failure``, ``is_root``), written in terms of those five, so a user's own
communicator that implements only mlGeNN's interface works with every irsnn compiler.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

#: bytes of an error message shared with the other ranks when one rank fails
MESSAGE_BYTES = 4096


class Communicator(ABC):
    """Base class of communicators: how the processes (ranks) of one data-parallel job talk.

    Each rank trains on its own shard of the data; compilers use the communicator to start
    every rank from rank 0's parameters, to sum gradients and metrics across ranks, and to stop
    every rank when one fails. Implement the five abstract members (as for mlGeNN); the rest
    has working defaults built on them.
    """

    @abstractmethod
    def barrier(self):
        """Wait until every rank has reached this point."""

    @abstractmethod
    def broadcast(self, data, root: int):
        """Make ``data`` (a NumPy array, overwritten in place) equal to rank ``root``'s.

        Returns the array, so that ``x = comm.broadcast(x, 0)`` also works.
        """

    @abstractmethod
    def reduce_sum(self, value):
        """The sum of ``value`` (a number or a NumPy array) over every rank, on every rank."""

    @property
    @abstractmethod
    def rank(self) -> int:
        """Index of this process, from 0."""

    @property
    @abstractmethod
    def num_ranks(self) -> int:
        """Number of processes in the job."""

    #: ``reduce_sum`` also sums CuPy arrays in GPU memory (irsnn's :class:`~.mpi.MPI`, with
    #: NCCL); otherwise gradients on a GPU are copied to the host for it
    reduces_device_arrays = False

    # -- built on the five above ---------------------------------------------------------------
    @property
    def is_root(self) -> bool:
        """Whether this is rank 0, the rank that writes checkpoints and logs."""
        return self.rank == 0

    def gather(self, row) -> np.ndarray:
        """Every rank's ``row`` (a 1-D array of the same length and dtype on each rank), stacked
        in rank order: ``(num_ranks, len(row))``, on every rank."""
        row = np.asarray(row)
        table = np.zeros((self.num_ranks,) + row.shape, np.float64 if row.dtype.kind == "f"
                         else np.int64)
        table[self.rank] = row
        return np.asarray(self.reduce_sum(table)).astype(row.dtype)

    def first_failure(self, message: str | None) -> tuple[int, str] | None:
        """Agree on failures: every rank passes ``None`` (all is well) or the message of the
        error it met; returns ``None`` on every rank when no rank failed, else the lowest failing
        rank and its message (at most :data:`MESSAGE_BYTES` bytes), on every rank."""
        failed = np.zeros(self.num_ranks, np.int64)
        failed[self.rank] = message is not None
        failed = np.asarray(self.reduce_sum(failed))
        if not failed.any():
            return None
        root = int(np.flatnonzero(failed)[0])
        buf = np.zeros(MESSAGE_BYTES, np.uint8)
        if self.rank == root:
            raw = message.encode("utf-8", "replace")[:MESSAGE_BYTES]
            buf[:len(raw)] = np.frombuffer(raw, np.uint8)
        buf = self.broadcast(buf, root)
        text = bytes(buf[buf != 0]).decode("utf-8", "replace")
        return root, text

    def abort(self, code: int = 1):
        """End every rank of the job now (used when a rank fails outside a point where the
        ranks agree on failures). The default cannot reach the other ranks: it exits this one."""
        raise SystemExit(code)

    def __repr__(self):
        return f"{type(self).__name__}(rank={self.rank}, num_ranks={self.num_ranks})"
