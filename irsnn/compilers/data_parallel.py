"""Data-parallel training and evaluation across ranks (mlGeNN's ``communicator=``).

Requires: a :class:`~irsnn.communicators.Communicator`, the compiled network's IR and simulation
(:meth:`~irsnn.backends.Simulation.parameter`, ``set_parameter``, ``native_var``/
``native_written``) and :func:`irsnn.ir.printers.to_json`. Provides :class:`DataParallel`,
which the compiled networks call at the points where ranks must agree, and
:func:`rank_batch_size`.

The semantics are mlGeNN's: the compiler's ``batch_size`` is the batch of the whole job, each of
the ``num_ranks`` ranks simulates ``batch_size / num_ranks`` examples of its own shard of the data,
and before every optimiser step the gradients are summed over ranks, so every rank applies the
same step and keeps identical parameters. Beyond mlGeNN:

* the ranks check at compile time that they built the same model (IR, arrays, compiler options,
  backend and seed) and say which rank differs;
* rank 0's parameters are broadcast before the first batch, so ranks start identical even when
  scripts set weights differently;
* shards of different sizes are fine: a rank whose shard has run out takes part in the remaining
  steps with no examples (and simulates nothing: its batch rows keep their state, where one
  process would have run them as padding), instead of the job hanging in the next collective;
* a rank that fails during a batch makes every rank raise :class:`~irsnn.errors.DistributedError`
  naming it, at the next step, instead of the others waiting for it forever;
* gradients are summed where the backend keeps them: on a GPU device to device (NCCL, when
  CuPy has it), elsewhere through MPI from host memory without copies; they cross the ranks in
  their own precision (a float32 model's as float32: half the bytes of float64, and for two
  ranks the same correctly rounded sum), after a gradient kept per batch row is summed over
  the rank's rows in float64 and rounded once.
"""

from __future__ import annotations

import hashlib
import time

import numpy as np

from ..backends.base import HostCopies
from ..errors import DistributedError, ModelError
from ..ir import OptimiserNode, edge_id
from ..ir.ids import is_var_ref, ref_owner
from ..ir.layouts import layout_traits


def rank_batch_size(owner: str, batch_size: int, communicator) -> int:
    """The batch each rank simulates: ``batch_size`` split evenly over the ranks."""
    if communicator is None:
        return batch_size
    n = communicator.num_ranks
    if batch_size % n:
        raise ModelError(f"{owner}: batch_size={batch_size} cannot be split evenly over "
                         f"{n} ranks (it is the batch of the whole job, as in mlGeNN); give a "
                         f"multiple of {n}, e.g. {n * max(1, round(batch_size / n))}")
    return batch_size // n


class DataParallel:
    """What one rank of a data-parallel job does at the points where the ranks meet.

    Parameters
    ----------
    communicator : Communicator
        The job's communicator.
    name : str
        The compiled model's name (in messages).
    """

    def __init__(self, communicator, name: str):
        self.comm = communicator
        self.name = name
        self._synced = False
        #: optimiser steps whose gradients were summed, the seconds spent in those sums
        #: (communication and waiting for the slowest rank) and the bytes each rank sent
        self.reductions = 0
        self.reduce_seconds = 0.0
        self.reduce_bytes = 0
        #: seconds spent in :meth:`reduce_gradients` in all (the sums over batch rows, the
        #: all-reduce, and any copies)
        self.gradient_seconds = 0.0
        #: sum the gradients through host copies (``get_var``/``set_var``) instead of where
        #: the backend keeps them (for comparison)
        self.host_copies = False

    @property
    def is_root(self) -> bool:
        return self.comm.rank == 0

    # -- compile time ----------------------------------------------------------------------
    def check_same_model(self, ir, compiler, backend) -> None:
        """Raise on every rank unless every rank compiled the same model with the same options:
        a rank with other shapes, seeds or options would train something else."""
        digest = hashlib.sha256()
        from ..ir.printers import to_json
        digest.update(to_json(ir).encode())
        for key in sorted(ir.arrays):
            a = np.ascontiguousarray(ir.arrays[key])
            digest.update(f"{key}:{a.dtype}:{a.shape}".encode())
            digest.update(a.tobytes())
        options = {k: v for k, v in sorted(vars(compiler).items())
                   if k != "communicator" and isinstance(v, int | float | str | bool | None)}
        digest.update(repr((options, getattr(backend, "name", type(backend).__name__))).encode())
        mine = np.frombuffer(digest.digest(), np.uint8).astype(np.int64)
        table = self.comm.gather(mine)
        differ = [r for r in range(self.comm.num_ranks) if not np.array_equal(table[r], table[0])]
        if differ:
            raise DistributedError(
                f"{self.name}: rank(s) {differ} compiled a different model from rank 0 (its IR, "
                f"initial arrays, compiler options, backend or rng_seed differ); every rank must "
                f"build the same network with the same compiler arguments, and only the data may "
                f"differ between ranks")

    def use_local_device(self, backend) -> str | None:
        """Let ``backend`` pick this rank's device by its rank on the node (one GPU per rank)."""
        local_rank = getattr(self.comm, "local_rank", None)
        return None if local_rank is None else backend.use_local_device(local_rank)

    # -- before the first batch --------------------------------------------------------------
    def start(self, net, training: bool) -> None:
        """Once, before the first batch: start every rank from rank 0's parameters."""
        if self._synced:
            return
        sim = net.simulation
        for target in _parameters(net.ir, training):
            value = np.ascontiguousarray(sim.parameter(target))
            sim.set_parameter(target, self.comm.broadcast(value, 0))
        self._synced = True

    def num_batches(self, local: int) -> int:
        """The number of batches every rank runs: the most any rank's shard needs."""
        return int(np.max(self.comm.gather(np.array([local], np.int64))))

    # -- every step --------------------------------------------------------------------------
    def agree(self, failure: BaseException | None) -> None:
        """Raise on every rank if any rank failed during this step (the failing rank re-raises
        its own error)."""
        message = None if failure is None else f"{type(failure).__name__}: {failure}"
        found = self.comm.first_failure(message)
        if failure is not None:
            failure.irsnn_all_ranks_know = True   # the MPI abort hook lets the others report
            raise failure
        if found is not None:
            rank, text = found
            error = DistributedError(f"{self.name}: rank {rank} of {self.comm.num_ranks} "
                                     f"failed ({text}); every rank stops")
            error.irsnn_all_ranks_know = True
            raise error

    def reduce_gradients(self, net) -> tuple[int, int]:
        """Replace each gradient by its sum over the examples of every rank (in the gradient's
        precision, see the module docstring), in the first batch row; returns the batch rows
        now holding gradients and the examples of the whole step.

        The gradients are summed where the backend keeps them
        (:meth:`~irsnn.backends.Simulation.native_var`): on the host for the reference and C
        backends (no copy) and OpenCL, and on the GPU for CUDA, where the communicator sums
        CuPy arrays device to device (NCCL; a communicator without
        ``reduces_device_arrays`` gets host copies). With :attr:`host_copies` they cross to the
        host and back through ``get_var``/``set_var`` instead (the baseline benchmarks compare
        with).
        """
        sim = net.simulation
        memory = HostCopies(sim) if self.host_copies else sim
        rows = net._gradient_rows
        self.reductions += 1
        # gradients that are means over a rank's batch (EventProp's loss) become means over
        # the job's batch; sums (e-prop) stay sums
        scale = 1.0 / self.comm.num_ranks if getattr(net.compiler, "gradients_are_batch_means",
                                                     False) else 1.0
        begin = time.perf_counter()
        for _, node in net.ir.nodes(OptimiserNode):
            owner = ref_owner(node.target)
            grad = memory.native_var(owner, node.gradient)
            if not (isinstance(grad, np.ndarray) or self.comm.reduces_device_arrays):
                # GPU memory, but a communicator that sums host arrays only (mlGeNN's interface)
                memory = HostCopies(sim)
                grad = memory.native_var(owner, node.gradient)
            # one gradient for the whole batch, or one per batch row
            total = (grad if grad.ndim == 1
                     else grad[:rows].sum(axis=0, dtype=np.float64).astype(grad.dtype))
            start = time.perf_counter()
            total = self.comm.reduce_sum(total) * scale
            self.reduce_seconds += time.perf_counter() - start
            self.reduce_bytes += total.nbytes
            if grad.ndim == 1:
                grad[...] = total
            else:
                grad[0] = total
                grad[1:] = 0
            memory.native_written(owner, node.gradient, grad)
        self.gradient_seconds += time.perf_counter() - begin
        return 1, int(self.comm.reduce_sum(int(net._step_examples)))

    def local_callbacks(self, callback_list) -> None:
        """Keep on ranks other than 0 only the callbacks that do not write (checkpoints, logs,
        progress bars act on rank 0 unless created with ``all_ranks=True``)."""
        if self.is_root:
            return
        callback_list.keep(lambda c: not getattr(c, "root_only", False)
                           or getattr(c, "all_ranks", False))


def _parameters(ir, training: bool) -> list[str]:
    """Targets whose values rank 0 broadcasts: every stored weight matrix, and in training
    every other trained parameter (biases)."""
    out = [edge_id(u, v, k) for u, v, k, syn in ir.synapses()
           if layout_traits(syn.layout).stores_weights]
    if training:
        out += [node.target for _, node in ir.nodes(OptimiserNode)
                if is_var_ref(node.target)]
    return out
