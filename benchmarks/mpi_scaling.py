"""One process of the data-parallel benchmark: e-prop training steps of a paper workload.

Run alone (``python benchmarks/mpi_scaling.py --out r.json``) or under ``mpiexec -n N``: every
rank trains on its own Poisson examples with ``--batch / N`` examples per step (the gradients
are summed over ranks before each Adam step). After ``--warmup`` untimed steps (which also
build the kernels) it times ``--steps`` steps; rank 0 writes JSON with the seconds per step,
example-timesteps per second for the whole job and, under MPI, the seconds per step spent
summing gradients (communication plus waiting for the slowest rank) and the bytes summed.
``benchmarks/test_data_parallel.py`` runs it in the configurations of issue 21.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from irsnn.bench.workloads import (NUM_OUTPUT, WORKLOADS, build_network, make_spec,
                                   max_spikes_for, poisson_input, preprocessed)
from irsnn.compilers import EPropCompiler

TIMESTEPS = 100


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--workload", default="ALIF512R", choices=sorted(WORKLOADS))
    p.add_argument("--batch", type=int, default=64, help="batch of the whole job")
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--mode", default="event", choices=("event", "online"))
    p.add_argument("--out", required=True)
    a = p.parse_args()
    comm = None
    from irsnn.communicators import launched_by_mpi
    if launched_by_mpi():
        from irsnn.communicators import MPI
        comm = MPI()
    rank, ranks = (0, 1) if comm is None else (comm.rank, comm.num_ranks)
    local = a.batch // ranks
    workload = WORKLOADS[a.workload]
    x = poisson_input(local * (a.steps + a.warmup), TIMESTEPS, workload.num_input, seed=rank)
    spikes = preprocessed(x)
    labels = np.random.default_rng(rank).integers(0, NUM_OUTPUT, len(spikes))
    net, inp, _, out, _ = build_network(workload, make_spec(workload),
                                        max_spikes_for(x[:, :local]))
    compiled = EPropCompiler(example_timesteps=TIMESTEPS, losses="sparse_categorical_crossentropy",
                             batch_size=a.batch, gradient_mode=a.mode,
                             communicator=comm).compile(net, "mpi_scaling")
    warm = a.warmup * local
    with compiled:
        compiled.train({inp: spikes[:warm]}, {out: labels[:warm]}, num_epochs=1,
                       shuffle=False, callbacks=[])
        dp = compiled._data_parallel
        before = (0, 0.0) if dp is None else (dp.reductions, dp.reduce_seconds)
        if comm is not None:
            comm.barrier()
        start = time.perf_counter()
        compiled.train({inp: spikes[warm:]}, {out: labels[warm:]}, num_epochs=1,
                       shuffle=False, callbacks=[])
        if comm is not None:
            comm.barrier()
        seconds = time.perf_counter() - start
    result = {"workload": a.workload, "mode": a.mode, "ranks": ranks, "batch": a.batch,
              "threads_per_rank": os.environ.get("OMP_NUM_THREADS", "default"),
              "steps": a.steps, "seconds_per_step": seconds / a.steps,
              "example_timesteps_per_s": a.batch * TIMESTEPS * a.steps / seconds}
    if dp is not None:
        result["reduce_seconds_per_step"] = (dp.reduce_seconds - before[1]) / a.steps
        result["reduce_bytes_per_step"] = dp.reduce_bytes // max(1, dp.reductions)
    if rank == 0:
        with open(a.out, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
