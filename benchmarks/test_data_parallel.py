"""Data-parallel e-prop training over MPI on this machine (issue 21, "Performance").

Batch-64 event e-prop training of ALIF512R (2048 -> 512 recurrent ALIF -> 11 LI; 100 steps per
example) as one process with every core, as one process with one thread, and as two MPI ranks
with one thread each, the job's batch split between them; plus the cost of MPI's all-reduce by
message size (the constants of the scaling model in ``benchmarks/README.md``).

Run with ``python -m pytest benchmarks/test_data_parallel.py --benchmark-enable -q -s``
(needs ``pip install 'irsnn[mpi]'``). Each configuration runs ``mpi_scaling.py`` (``mpiexec``
for two ranks), which times 30 training steps after a warm-up step (4 were too few to compare
on a shared machine), excluding start-up and kernel builds; the figures are printed and stored
in the benchmark's ``extra_info``. Nothing
here asserts a timing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
MPIEXEC = Path(sys.executable).parent / "mpiexec"

pytestmark = pytest.mark.skipif(not MPIEXEC.exists(),
                                reason="pip install 'irsnn[mpi]' (mpi4py and mpiexec)")

CONFIGS = {  # name: (ranks, OpenMP threads per rank or None for the default: every core)
    "1 rank, all cores": (1, None),
    "1 rank, 1 thread": (1, 1),
    "2 ranks, 1 thread each": (2, 1),
}
RESULTS: dict = {}


def _run(script, ranks, threads, out, *args):
    env = dict(os.environ)
    env.pop("OMP_NUM_THREADS", None)
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    cmd = [sys.executable, str(HERE / script), "--out", str(out), *args]
    if ranks > 1:
        cmd = [str(MPIEXEC), "-n", str(ranks)] + cmd
    subprocess.run(cmd, check=True, env=env, timeout=900)
    return json.loads(Path(out).read_text())


@pytest.mark.parametrize("config", list(CONFIGS))
def test_alif512r_batch64_training(benchmark, tmp_path, config):
    ranks, threads = CONFIGS[config]
    result = benchmark.pedantic(_run, args=("mpi_scaling.py", ranks, threads,
                                            tmp_path / "r.json", "--steps", "30"),
                                rounds=1, iterations=1)
    benchmark.extra_info.update(result)
    RESULTS[config] = result
    base = RESULTS.get("1 rank, all cores")
    speedup = "" if base is None else \
        f"  ({base['seconds_per_step'] / result['seconds_per_step']:.2f}x one rank, all cores)"
    reduce = result.get("reduce_seconds_per_step")
    print(f"\n{config:>24}: {result['seconds_per_step'] * 1e3:7.1f} ms per step, "
          f"{result['example_timesteps_per_s']:9.0f} example-timesteps/s{speedup}"
          + ("" if reduce is None else f"; gradient sums {reduce * 1e3:.1f} ms/step of "
             f"{result['reduce_bytes_per_step'] / 1e6:.1f} MB"))


def test_allreduce_cost(benchmark, tmp_path):
    result = benchmark.pedantic(_run, args=("mpi_allreduce.py", 2, 1, tmp_path / "a.json"),
                                rounds=1, iterations=1)
    benchmark.extra_info.update(result)
    print(f"\nMPI all-reduce, 2 ranks: latency {result['latency_s'] * 1e6:.1f} us, bandwidth "
          f"{result['bandwidth_bytes_per_s'] / 1e9:.2f} GB/s")
    for row in result["sizes"]:
        print(f"  {row['bytes']:>9} B: {row['seconds'] * 1e6:9.1f} us")
