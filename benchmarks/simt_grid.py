"""Several work-groups per example (the grid plan, :mod:`backends.kernels.grid`) against one, on
OpenCL or CUDA (a script, not a pytest file). For each work-group size it builds an inference
model with one large recurrent ALIF population (``--neurons``; 64 Poisson inputs, input and
recurrent groups ``FixedProbability(--p, layout="sparse")``, which the grid plan pulls by
column, dense readout of 10), runs it with each count of ``--blocks`` work-groups per example
(``IRSNN_BLOCKS_PER_EXAMPLE``) and prints the best of ``--rounds`` batch times as
example-timesteps per second, the launches per step, and the plan the automatic choice makes on
this device: the figures to calibrate :data:`~backends.kernels.simt.GRID_NEURONS_PER_THREAD`
and :data:`~backends.kernels.simt.GRID_TARGET_PER_THREAD` with. The readouts of every count of
blocks must equal those of the first bit for bit; the script stops if they do not.

    POCL_KERNEL_CACHE=0 python benchmarks/simt_grid.py --backend opencl --threads 32 \\
        --neurons 2048 --blocks 1 2 4 --batch 1 --timesteps 100
    python benchmarks/simt_grid.py --backend cuda --threads 256 --neurons 16384 \\
        --blocks 1 4 16 64 --batch 1 8
"""

from __future__ import annotations

import argparse
import os
import re
import time

import numpy as np


def _network(neurons, p):
    from irsnn import Connection, Network, Population
    from irsnn.connectivity import Dense, FixedProbability
    from irsnn.initializers import Normal
    from irsnn.neurons import AdaptiveLeakyIntegrateFire, LeakyIntegrate, SpikeInput

    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=10 ** 7), 64, name="inp")
        hid = Population(AdaptiveLeakyIntegrateFire(v_thresh=0.6, tau_refrac=2.0), neurons,
                         name="hid")
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"), 10, name="out")
        Connection(inp, hid, FixedProbability(min(1.0, 64 * p), Normal(0.3, 0.3),
                                              layout="sparse"), name="ih")
        Connection(hid, hid, FixedProbability(p, Normal(0.0, 0.2), layout="sparse"), name="hh")
        Connection(hid, out, Dense(Normal(0.0, 0.1)), name="ho")
    return net, inp, out


def run(backend, threads, blocks, neurons, p, timesteps, batch, rounds):
    """``(best seconds per batch, readouts, plan line of the source)`` with ``blocks``
    work-groups per example (None: the automatic choice)."""
    from irsnn.compilers import InferenceCompiler
    from simt_pull import poisson_inputs     # (beside this script)

    os.environ["IRSNN_WORK_GROUP_SIZE"] = str(threads)
    if blocks is None:
        os.environ.pop("IRSNN_BLOCKS_PER_EXAMPLE", None)
    else:
        os.environ["IRSNN_BLOCKS_PER_EXAMPLE"] = str(blocks)
    net, inp, out = _network(neurons, p)
    x = poisson_inputs(batch, timesteps)
    c = InferenceCompiler(evaluate_timesteps=timesteps, batch_size=batch,
                          backend=backend).compile(net)
    best, readout = float("inf"), None
    for _ in range(rounds):
        start = time.perf_counter()
        readout = c.predict({inp: x}, [out])[0][out]
        best = min(best, time.perf_counter() - start)
    plan = next((line for line in c.simulation.source.splitlines()
                 if line.startswith("/* plan: ")), "")
    return best, np.asarray(readout), plan


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", default="opencl", choices=("opencl", "cuda"))
    ap.add_argument("--threads", type=int, nargs="+", default=[32])
    ap.add_argument("--blocks", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--neurons", type=int, default=2048)
    ap.add_argument("--p", type=float, default=0.02)
    ap.add_argument("--timesteps", type=int, default=100)
    ap.add_argument("--batch", type=int, nargs="+", default=[1])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    for batch in args.batch:
        for threads in args.threads:
            first = None
            for blocks in args.blocks:
                best, readout, plan = run(args.backend, threads, blocks, args.neurons, args.p,
                                          args.timesteps, batch, args.rounds)
                if first is None:
                    first = readout
                elif not np.array_equal(readout, first):
                    raise SystemExit(f"{blocks} work-groups per example: readouts differ from "
                                     f"{args.blocks[0]}'s")
                launches = re.search(r"\((\d+) a step\)", plan)
                print(f"{args.backend} batch {batch} threads {threads} blocks {blocks}: "
                      f"{batch * args.timesteps / best:.3g} example-timesteps/s "
                      f"({best * 1e3:.1f} ms per batch of {args.timesteps} steps"
                      + (f", {launches.group(1)} launches a step" if launches else "") + ")",
                      flush=True)
            _, _, plan = run(args.backend, threads, None, args.neurons, args.p,
                             args.timesteps, batch, 1)
            print(f"  automatic: {plan[3:-3]}", flush=True)


if __name__ == "__main__":
    main()
