"""Scaling model of data-parallel e-prop training: time per optimiser step on 1-64 ranks.

``T(R) = compute(B / R) + allreduce(R, S)``, with ``compute`` proportional to the examples a rank
simulates (its per-example cost measured on one rank) and a ring all-reduce of the ``S`` gradient
bytes: ``allreduce = 2 (R - 1) latency + 2 (R - 1) / R * S / bandwidth``. Reads the JSON of one
``mpi_scaling.py`` run on one rank with one thread (``--compute``) and of ``mpi_allreduce.py``
(``--allreduce``: this machine's MPI latency and bandwidth) and prints, per interconnect, the
time per step and the speed-up over one rank, for CPU ranks (the measured compute) and GPU ranks
(an assumed compute rate, :data:`GPU_RATE`). The interconnects other
than the measured one are assumptions stated in the table (vendor figures, not measured here).

Usage::

    python benchmarks/mpi_model.py --compute one_rank.json --allreduce allreduce.json
"""

from __future__ import annotations

import argparse
import json

#: (name, latency s, bandwidth bytes/s); None: this machine's measured MPI
INTERCONNECTS = [
    ("this machine's MPI (measured)", None, None),
    ("InfiniBand HDR 200 Gb/s between nodes (assumed: 2 us, 24 GB/s)", 2e-6, 24e9),
    ("NCCL over NVLink, H200 node (assumed: 10 us, 350 GB/s bus bandwidth)", 10e-6, 350e9),
]
#: GPU compute for the GPU rows: example-timesteps/s of one GPU (issue 19's target for event
#: e-prop at batch 512, NOT a measurement)
GPU_RATE = 3e6
RANKS = (1, 2, 4, 8, 16, 32, 64)


def step_time(compute_s: float, ranks: int, nbytes: float, latency: float, bandwidth: float):
    """Seconds per optimiser step on ``ranks`` ranks (see the module docstring)."""
    comm = 0.0 if ranks == 1 else (2 * (ranks - 1) * latency
                                   + 2 * (ranks - 1) / ranks * nbytes / bandwidth)
    return compute_s / ranks + comm


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--compute", required=True, help="mpi_scaling.py JSON, 1 rank, 1 thread")
    p.add_argument("--allreduce", required=True, help="mpi_allreduce.py JSON")
    p.add_argument("--gradient-bytes", type=float, default=None,
                   help="bytes summed per step (default: float64 gradients of the workload)")
    a = p.parse_args()
    with open(a.compute) as f:
        compute = json.load(f)
    with open(a.allreduce) as f:
        ar = json.load(f)
    nbytes = a.gradient_bytes or compute.get("reduce_bytes_per_step") or 8 * 1.3e6
    t1 = compute["seconds_per_step"]
    print(f"{compute['workload']}, batch {compute['batch']} per step: {t1 * 1e3:.0f} ms on one "
          f"rank with one thread; {nbytes / 1e6:.1f} MB of gradients summed per step\n")
    print("| interconnect | " + " | ".join(f"{r} ranks" for r in RANKS) + " |")
    print("|---|" + "---|" * len(RANKS))
    gpu = compute["batch"] * compute.get("timesteps", 100) / GPU_RATE
    rows = [("CPU rank (1 thread)", t1, *ic) for ic in INTERCONNECTS[:2]]
    rows += [(f"GPU rank at {GPU_RATE:.0e} ex-steps/s (assumed)", gpu, *ic)
             for ic in INTERCONNECTS[1:]]
    for who, base, name, latency, bandwidth in rows:
        if latency is None:
            latency, bandwidth = ar["latency_s"], ar["bandwidth_bytes_per_s"]
            name = (f"{name}: {latency * 1e6:.0f} us, {bandwidth / 1e9:.2f} GB/s")
        cells = []
        for r in RANKS:
            t = step_time(base, r, nbytes, latency, bandwidth)
            cells.append(f"{t * 1e3:.2f} ms ({base / t:.1f}x)")
        print(f"| {who}, {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
