"""Throughput of the GPU backend against C, for a machine with an NVIDIA GPU (a script, not a
pytest file: it sizes each measurement by wall time so the whole run fits a short lease).

For each workload of ``test_eprop_modes.py`` (ALIF512R and ALIF256F-ALIF256R, dense and sparse:
5%/10% and 10%/1%), mode (inference, event-mode e-prop, online e-prop; one Adam step per batch
when training), batch size (1, 64, 512) and backend (``cuda`` and ``c``), it times one batch
after a warm-up that builds the kernels, repeating until ``--seconds`` have passed (at least
once), and prints example-timesteps/s (the median round). For online e-prop on CUDA it also
prints the bandwidth the per-synapse learning state alone needs (each value read and written
once per step) against the device's measured copy bandwidth. ``--budget`` bounds the whole run
(rows left are reported as skipped); ``--json`` writes every figure. On a machine without a
usable CUDA backend the ``cuda`` rows are skipped with the reason, and C runs alone.

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
from benchmarks.test_eprop_modes import WORKLOADS, compiled_run  # noqa: E402


def device_bandwidth_gbs() -> float | None:
    """The GPU's device-to-device copy bandwidth (GB/s, read + write), measured with CuPy;
    None without CuPy or a GPU."""
    try:
        import cupy
        a = cupy.ones(256 * 2**20 // 4, cupy.float32)
        b = cupy.empty_like(a)
        cupy.copyto(b, a)
        cupy.cuda.Device().synchronize()
        start, n = time.perf_counter(), 20
        for _ in range(n):
            cupy.copyto(b, a)
        cupy.cuda.Device().synchronize()
        return 2 * a.nbytes * n / (time.perf_counter() - start) / 1e9
    except Exception:  # no CuPy, no GPU, no driver
        return None


def learning_state_bytes(compiled) -> int:
    """Bytes of per-synapse learning state (all batch elements) of a compiled network: what
    online e-prop reads and writes every step."""
    sim = compiled.simulation
    total = 0
    for eid, syn in getattr(sim, "synapses", {}).items():
        if syn.learning is None:
            continue
        for v in syn.learning.vars:
            total += sim.memory.array(sim.program.buffers[eid, v.name]).nbytes
    return total


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
        while time.perf_counter() < deadline or not rounds:
            start = time.perf_counter()
            one()
            rounds.append(time.perf_counter() - start)
        state = learning_state_bytes(compiled) if what == "online" else 0
        plan = getattr(getattr(compiled.simulation, "plan", None), "reason", "")
    median = float(np.median(rounds))
    row = {"workload": workload, "backend": backend, "batch_size": batch, "what": what,
           "rounds": len(rounds), "median_s": median, "first_call_s": build_s,
           "example_timesteps_per_s": batch * TIMESTEPS / median, "plan": plan}
    if state:
        row["learning_state_gbs"] = 2 * state * TIMESTEPS / median / 1e9
    return row


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workloads", nargs="+", default=WORKLOADS)
    p.add_argument("--backends", nargs="+", default=["cuda", "c"])
    p.add_argument("--batch", nargs="+", type=int, default=[1, 64, 512])
    p.add_argument("--what", nargs="+", default=["inference", "event", "online"])
    p.add_argument("--seconds", type=float, default=0.5)
    p.add_argument("--budget", type=float, default=240.0,
                   help="seconds for the whole run; rows left are skipped")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    from irsnn.backends import available_backends
    avail = available_backends()
    backends = []
    for name in args.backends:
        ok, why = avail.get(name, (False, "unknown backend"))
        if ok:
            backends.append(name)
        else:
            print(f"SKIPPING backend {name}: {why}", flush=True)
    peak = device_bandwidth_gbs() if "cuda" in backends else None
    if peak:
        print(f"device copy bandwidth {peak:.0f} GB/s (read + write)", flush=True)
    examples = poisson_examples(max(args.batch), seed=1)
    rows = []
    end = time.perf_counter() + args.budget
    for workload in args.workloads:
        for what in args.what:
            for batch in args.batch:
                for backend in backends:
                    if time.perf_counter() > end:
                        rows.append({"workload": workload, "backend": backend,
                                     "batch_size": batch, "what": what,
                                     "skipped": "over the time budget"})
                        continue
                    try:
                        row = measure(workload, backend, batch, what, args.seconds, examples)
                    except Exception as e:  # report and go on: one failure must not end a lease
                        row = {"workload": workload, "backend": backend, "batch_size": batch,
                               "what": what, "error": f"{type(e).__name__}: {e}"}
                    rows.append(row)
                    head = f"{workload:24s} {what:9s} b{batch:<4d} {backend:5s}"
                    if "error" in row:
                        print(f"{head} ERROR {row['error'][:300]}", flush=True)
                        continue
                    extra = ""
                    if "learning_state_gbs" in row and backend == "cuda" and peak:
                        extra = (f"; learning state {row['learning_state_gbs']:.0f} GB/s = "
                                 f"{100 * row['learning_state_gbs'] / peak:.0f}% of the copy "
                                 f"bandwidth")
                    print(f"{head} {row['example_timesteps_per_s']:11.4g} ex-ts/s (median of "
                          f"{row['rounds']}, first call {row['first_call_s']:.2f} s{extra})",
                          flush=True)
    skipped = sum("skipped" in r for r in rows)
    if skipped:
        print(f"{skipped} rows skipped: over the --budget of {args.budget:.0f} s", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "omp": os.environ.get(
            "OMP_NUM_THREADS"), "cpus": os.cpu_count(), "copy_bandwidth_gbs": peak},
            indent=1))


if __name__ == "__main__":
    main()
