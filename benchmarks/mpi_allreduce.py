"""All-reduce cost on this machine's MPI: seconds per ``reduce_sum`` of a float64 array.

Run under ``mpiexec -n N python benchmarks/mpi_allreduce.py --out r.json``; rank 0 writes, per
size, the median of ``--repeats`` timed sums (after a barrier each). Fitting
``t(bytes) = latency + bytes / bandwidth`` to the result gives the constants of the scaling
model in ``benchmarks/README.md``.
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
    a = p.parse_args()
    comm = MPI()
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


if __name__ == "__main__":
    sys.exit(main())
