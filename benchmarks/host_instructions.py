"""Instructions per ``predict``/``train`` call of a workload on the C backend, counted by
valgrind's callgrind: a deterministic figure for A/B comparisons of host-side changes, which
wall-clock timings on a shared machine cannot resolve (see ``benchmarks/README.md``, "A/B").

Usage (from any checkout, with that checkout's Python)::

    python benchmarks/host_instructions.py [--workload ALIF512R] [--mode inference|train]
                                           [--batch 1] [--calls 40]

It runs the workload under ``valgrind --tool=callgrind`` twice, with 5 and ``5 + calls``
calls after the build, and prints the difference divided by ``calls``: the instructions of one
call (Python, NumPy and the kernels; build and start-up cancel out). ``OMP_NUM_THREADS=1`` and
``PYTHONHASHSEED=0`` make the count repeatable (OpenMP threads spinning while they wait would
add instructions that depend on timing). The inputs come from :mod:`irsnn.bench.workloads`
(fixed seeds), so two checkouts run exactly the same work.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

#: calls every count makes before the counted ones (kernel cache, first-batch work)
WARM = 5


def _run_calls(workload: str, mode: str, batch: int, calls: int) -> None:
    """The counted program: build the workload and make ``WARM + calls`` calls."""
    import numpy as np

    from irsnn.bench import (WORKLOADS, build_network, make_spec, max_spikes_for,
                             poisson_input, preprocessed)
    from irsnn.compilers import EPropCompiler, InferenceCompiler
    w = WORKLOADS[workload]
    x = poisson_input(batch, 100, 2048)
    net, inp, _, out, _ = build_network(w, make_spec(w), max_spikes_for(x))
    data = preprocessed(x)
    if mode == "inference":
        compiled = InferenceCompiler(evaluate_timesteps=100, batch_size=batch,
                                     backend="c").compile(net)

        def call():
            compiled.predict({inp: data}, out, callbacks=[])
    else:
        compiled = EPropCompiler(example_timesteps=100, batch_size=batch, backend="c",
                                 losses="sparse_categorical_crossentropy").compile(net)
        labels = np.zeros(batch, int)

        def call():
            compiled.train({inp: data}, {out: labels}, num_epochs=1, callbacks=[])
    with compiled:
        for _ in range(WARM + calls):
            call()


def _count(args, calls: int) -> int:
    """Instructions callgrind counts for a run of ``calls`` counted calls."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONHASHSEED="0")
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
           __file__, "--workload", args.workload, "--mode", args.mode, "--batch",
           str(args.batch), "--run", str(calls)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    found = re.search(r"Collected\s*:\s*(\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"callgrind run failed ({' '.join(cmd)}):\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workload", default="ALIF512R")
    parser.add_argument("--mode", choices=("inference", "train"), default="inference")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--run", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run is not None:   # the program callgrind counts
        _run_calls(args.workload, args.mode, args.batch, args.run)
        return
    if args.calls < 1:
        raise SystemExit(f"--calls must be at least 1 (got {args.calls})")
    per_call = (_count(args, args.calls) - _count(args, 0)) / args.calls
    print(f"{args.workload} {args.mode} batch {args.batch}: {per_call:,.0f} instructions "
          f"per call")


if __name__ == "__main__":
    main()
