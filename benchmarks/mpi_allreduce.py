"""All-reduce cost on this machine's MPI: seconds per ``reduce_sum`` of a float64 array, or per
data-parallel gradient sum of a training step.

Run under ``mpiexec -n N python benchmarks/mpi_allreduce.py --out r.json``; rank 0 writes, per
size, the median of ``--repeats`` timed sums (after a barrier each). Fitting
``t(bytes) = latency + bytes / bandwidth`` to the result gives the constants of the scaling
model in ``benchmarks/README.md``.

With ``--gradients WORKLOAD`` it instead trains one e-prop step of ``WORKLOAD`` (batch
``--batch`` of the whole job, ``--backend``) and then times ``DataParallel.reduce_gradients``,
which sums the gradients of every rank before each optimiser step, ``--repeats`` times by each
path, alternating: in place (``native_var``: C's memory, the GPU's memory on CUDA, where CuPy
arrays go to NCCL) and through host copies (``get_var``/``set_var``, the previous path). Rank 0
writes, per path, the median seconds of the whole sum (on CUDA until the GPU is done) and of
its all-reduce calls alone (on CUDA: until NCCL has queued its work).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from irsnn.communicators import MPI


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--out", required=True)
    p.add_argument("--gradients", metavar="WORKLOAD",
                   help="time the gradient sums of this workload's training instead")
    p.add_argument("--batch", type=int, default=64, help="with --gradients: the job's batch")
    p.add_argument("--mode", default="event", choices=("event", "online"))
    p.add_argument("--backend", default="c")
    a = p.parse_args()
    comm = MPI()
    if a.gradients:
        return gradient_sums(comm, a)
    rows = []
    for size in (1, 1 << 10, 1 << 14, 1 << 17, 1 << 20, 1 << 21):
        x = np.ones(size)
        times = []
        for _ in range(a.repeats):
            comm.barrier()
            t = time.perf_counter()
            comm.reduce_sum(x)
            times.append(time.perf_counter() - t)
        rows.append({"bytes": x.nbytes, "seconds": float(np.median(times))})
    b = np.array([r["bytes"] for r in rows], float)
    t = np.array([r["seconds"] for r in rows])
    slope, latency = np.polyfit(b, t, 1)
    if comm.rank == 0:
        with open(a.out, "w") as f:
            json.dump({"ranks": comm.num_ranks, "sizes": rows, "latency_s": float(latency),
                       "bandwidth_bytes_per_s": float(1.0 / slope)}, f, indent=1)
    return 0


def gradient_sums(comm, a) -> int:
    """Time the two paths of ``DataParallel.reduce_gradients`` (see the module docstring)."""
    from irsnn.bench.workloads import (NUM_OUTPUT, WORKLOADS, build_network, make_spec,
                                       max_spikes_for, poisson_input, preprocessed)
    from irsnn.compilers import EPropCompiler
    timesteps = 100
    local = a.batch // comm.num_ranks
    workload = WORKLOADS[a.gradients]
    x = poisson_input(local, timesteps, workload.num_input, seed=comm.rank)
    labels = np.random.default_rng(comm.rank).integers(0, NUM_OUTPUT, local)
    net, inp, _, out, _ = build_network(workload, make_spec(workload), max_spikes_for(x))
    compiled = EPropCompiler(example_timesteps=timesteps, batch_size=a.batch,
                             losses="sparse_categorical_crossentropy", gradient_mode=a.mode,
                             backend=a.backend, communicator=comm).compile(net, "allreduce")
    sync = _device_sync(a.backend)
    with compiled:
        compiled.train({inp: preprocessed(x)}, {out: labels}, num_epochs=1, shuffle=False,
                       callbacks=[])   # builds the kernels; its gradients are summed below
        dp = compiled._data_parallel
        times = {"in place": [], "host copies": []}
        for _ in range(a.repeats):
            for path in times:
                dp.host_copies = path == "host copies"
                comm.barrier()
                before = dp.reduce_seconds
                start = time.perf_counter()
                dp.reduce_gradients(compiled)
                sync()
                times[path].append((time.perf_counter() - start, dp.reduce_seconds - before))
        values = dp.reduce_bytes // max(1, dp.reductions) // 8
    result = {"workload": a.gradients, "backend": a.backend, "mode": a.mode,
              "ranks": comm.num_ranks, "batch": a.batch, "gradient_values": int(values),
              "repeats": a.repeats, "nccl": getattr(comm, "_nccl", None) is not None,
              "paths": {path: {"seconds": float(np.median([t[0] for t in rows])),
                               "allreduce_seconds": float(np.median([t[1] for t in rows]))}
                        for path, rows in times.items()}}
    if comm.rank == 0:
        with open(a.out, "w") as f:
            json.dump(result, f, indent=1)
        print(json.dumps(result["paths"]))
    return 0


def _device_sync(backend):
    """Wait for the GPU's queued work (NCCL returns before the sum is done) on CUDA."""
    if backend != "cuda":
        return lambda: None
    import cupy
    return cupy.cuda.Device().synchronize


if __name__ == "__main__":
    sys.exit(main())
