"""Event-driven e-prop's gradient rows (the scatter kernels run at the end of every example) on
one SIMT backend and work-group size: one work-item per presynaptic row (work-group size 0, one
thread per example) or one work-group per row with its synapses across the threads (block
plans, issue 19 item 3). Trains batches of a workload of ``test_eprop_modes.py`` (default
ALIF512R: 2048 input rows and 512 recurrent rows of 512 synapses, 512 output rows of 11) and
prints the mean time of the scatter launches per batch, and of the whole batch. A script, not
a pytest file; synthetic Poisson spikes, nothing downloaded.

    python benchmarks/eprop_scatter_rows.py --backend opencl --work-group-size 0
    python benchmarks/eprop_scatter_rows.py --backend cuda --work-group-size 256 --batch 64
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

import irsnn  # noqa: F401  (the installed package, before the checkout is put on the path)

sys.path.append(str(Path(__file__).resolve().parents[1]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", default="opencl")
    ap.add_argument("--work-group-size", type=int, default=None)
    ap.add_argument("--workload", default="ALIF512R")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--batches", type=int, default=3, help="timed batches (after a warm-up)")
    args = ap.parse_args()
    if args.work_group_size is not None:    # (read when the model is compiled)
        os.environ["IRSNN_WORK_GROUP_SIZE"] = str(args.work_group_size)
    from benchmarks.conftest import NUM_OUTPUT, poisson_examples
    from benchmarks.test_eprop_modes import compiled_run

    x = poisson_examples(args.batch, seed=1)
    y = np.random.default_rng(1).integers(0, NUM_OUTPUT, args.batch)
    compiled, one = compiled_run(args.workload, "event", args.backend, x, y, args.batch)
    with compiled:
        sim = compiled.simulation
        spent, launch_rows = [0.0], sim._launch_rows

        def timed(kernels):
            if kernels is not sim.scatter_kernels:
                return launch_rows(kernels)
            start = time.perf_counter()
            out = launch_rows(kernels)
            spent[0] += time.perf_counter() - start
            return out
        sim._launch_rows = timed
        one()   # build + warm-up
        spent[0], start = 0.0, time.perf_counter()
        for _ in range(args.batches):
            one()
        batch = (time.perf_counter() - start) / args.batches
        plan = getattr(sim, "plan", None)
        # (kernel, rows, threads per row or None; before issue 19 item 3: (kernel, rows))
        rows = ", ".join(f"{k[1]} rows x {(k[2] if len(k) > 2 else None) or 1}"
                         for k in sim.scatter_kernels)
        print(f"{args.backend} {args.workload} batch {args.batch}: scatter "
              f"{spent[0] / args.batches * 1e3:.2f} ms per batch ({rows} threads per row), "
              f"batch {batch * 1e3:.1f} ms; {plan.reason if plan else 'no SIMT plan'}")


if __name__ == "__main__":
    main()
