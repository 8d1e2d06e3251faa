"""Throughput of the GPU backend against C, for a machine with an NVIDIA GPU (a script, not a
pytest file: it sizes each measurement by wall time so the whole run fits a short lease).

For each workload of ``test_eprop_modes.py`` (dense and sparse ALIF512R by default), backend
(``cuda`` and ``c``) and batch size, it times ``evaluate`` (inference) and ``train`` (event-mode
e-prop, one Adam step per batch) of one batch after a warm-up that builds the kernels, repeating
until ``--seconds`` have passed, and prints example-timesteps/s (the median round). ``--json``
writes every figure.

    python benchmarks/gpu_throughput.py --batch 1 64 512 --json /tmp/gpu.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

import irsnn  # noqa: F401  (the installed package, before the checkout is put on the path)

sys.path.append(str(Path(__file__).resolve().parents[1]))

from benchmarks.conftest import NUM_OUTPUT, TIMESTEPS, poisson_examples  # noqa: E402
from benchmarks.test_eprop_modes import compiled_run  # noqa: E402


def measure(workload, backend, batch, what, seconds, examples):
    x = examples[:batch]
    y = np.random.default_rng(1).integers(0, NUM_OUTPUT, batch)
    compiled, one = compiled_run(workload, what, backend, x, y, batch_size=batch)
    with compiled:
        start = time.perf_counter()
        one()
        build_s = time.perf_counter() - start
        rounds = []
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline or len(rounds) < 3:
            start = time.perf_counter()
            one()
            rounds.append(time.perf_counter() - start)
    median = float(np.median(rounds))
    return {"workload": workload, "backend": backend, "batch_size": batch, "what": what,
            "rounds": len(rounds), "median_s": median, "first_call_s": build_s,
            "example_timesteps_per_s": batch * TIMESTEPS / median}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workloads", nargs="+", default=["ALIF512R", "ALIF512R-sparse"])
    p.add_argument("--backends", nargs="+", default=["cuda", "c"])
    p.add_argument("--batch", nargs="+", type=int, default=[1, 64, 512])
    p.add_argument("--what", nargs="+", default=["inference", "event"])
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    examples = poisson_examples(max(args.batch), seed=1)
    rows = []
    for workload in args.workloads:
        for what in args.what:
            for batch in args.batch:
                for backend in args.backends:
                    try:
                        row = measure(workload, backend, batch, what, args.seconds, examples)
                    except Exception as e:  # report and go on: one failure must not end a lease
                        row = {"workload": workload, "backend": backend, "batch_size": batch,
                               "what": what, "error": f"{type(e).__name__}: {e}"}
                    rows.append(row)
                    if "error" in row:
                        print(f"{workload:18s} {what:9s} b{batch:<4d} {backend:5s} "
                              f"ERROR {row['error'][:300]}", flush=True)
                    else:
                        print(f"{workload:18s} {what:9s} b{batch:<4d} {backend:5s} "
                              f"{row['example_timesteps_per_s']:11.4g} ex-ts/s "
                              f"(median of {row['rounds']}, first call "
                              f"{row['first_call_s']:.2f} s)", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "omp": os.environ.get(
            "OMP_NUM_THREADS"), "cpus": os.cpu_count()}, indent=1))


if __name__ == "__main__":
    main()
