"""Ragged propagation on the SIMT block plan: pull (by postsynaptic neuron over columns) against
push (rows split across the block, a barrier per spike), on OpenCL or CUDA (a script, not a
pytest file). For each work-group size and connection probability it builds a sparse recurrent
inference model (``--neurons`` ALIF neurons, ``FixedProbability(p, layout="sparse")`` input and
recurrent groups, 64 Poisson inputs), forces each propagation in turn, and prints the best of
``--rounds`` batch times, the hidden activity, and what :func:`backends.kernels.simt.
pull_reason` would choose: the figures to calibrate its ``ACTIVITY`` and ``BARRIER`` with.
Both propagations give the same bits (``tests/sparse/test_simt_pull.py``).

    POCL_KERNEL_CACHE=0 python benchmarks/simt_pull.py --backend opencl --threads 32 256
    python benchmarks/simt_pull.py --backend cuda --threads 32 128 256 512 --p 0.05 0.1
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def poisson_inputs(batch, timesteps, neurons=64, rate=0.05):
    """``batch`` examples of ``neurons`` Poisson inputs (``rate`` spikes per neuron and step),
    preprocessed for a ``SpikeInput`` (seed 0: the same inputs in every run)."""
    from irsnn.utils.data import preprocess_spikes
    rng = np.random.default_rng(0)
    out = []
    for _ in range(batch):
        t, i = np.nonzero(rng.random((timesteps, neurons)) < rate)
        out.append(preprocess_spikes(t.astype(float), i, neurons))
    return out


def run(backend, threads, neurons, p, mode, timesteps, batch, rounds):
    """``(best seconds per batch, hidden spikes per neuron and step, source)``."""
    from irsnn import Connection, Network, Population
    from irsnn.backends.kernels import simt
    from irsnn.callbacks import SpikeRecorder
    from irsnn.compilers import InferenceCompiler
    from irsnn.connectivity import Dense, FixedProbability
    from irsnn.initializers import Normal
    from irsnn.neurons import AdaptiveLeakyIntegrateFire, LeakyIntegrate, SpikeInput

    os.environ["IRSNN_WORK_GROUP_SIZE"] = str(threads)
    chosen = simt.pull_reason
    simt.pull_reason = ((lambda *args: None) if mode == "push" else
                        (lambda *args: "forced by benchmarks/simt_pull.py"))
    try:
        net = Network()
        with net:
            inp = Population(SpikeInput(max_spikes=10 ** 6), 64, name="inp")
            hid = Population(AdaptiveLeakyIntegrateFire(v_thresh=0.6, tau_refrac=2.0),
                             neurons, name="hid")
            out = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"), 10, name="out")
            Connection(inp, hid, FixedProbability(p, Normal(0.3, 0.3), layout="sparse"),
                       name="ih")
            Connection(hid, hid, FixedProbability(p, Normal(0.0, 0.2), layout="sparse"),
                       name="hh")
            Connection(hid, out, Dense(Normal(0.0, 0.1)), name="ho")
        x = poisson_inputs(batch, timesteps)
        c = InferenceCompiler(evaluate_timesteps=timesteps, batch_size=batch,
                              backend=backend).compile(net)
        c.predict({inp: x}, [out])      # builds the kernel
        source = c.simulation.source
        best, spikes = float("inf"), 0
        for _ in range(rounds):
            start = time.perf_counter()
            _, cb = c.predict({inp: x}, [out], callbacks=[SpikeRecorder(hid, key="s")])
            best = min(best, time.perf_counter() - start)
            spikes = sum(len(ids) for ids in cb["s"][1])
    finally:
        simt.pull_reason = chosen
    return best, spikes / (batch * timesteps * neurons), source


def main(argv=None):
    from irsnn.backends.kernels.simt import pull_reason
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", default="opencl", choices=("opencl", "cuda"))
    ap.add_argument("--threads", type=int, nargs="+", default=[32, 256])
    ap.add_argument("--neurons", type=int, default=512)
    ap.add_argument("--p", type=float, nargs="+", default=[0.05])
    ap.add_argument("--timesteps", type=int, default=200)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    for p in args.p:
        for threads in args.threads:
            times = {}
            for mode in ("push", "pull"):
                times[mode], activity, source = run(args.backend, threads, args.neurons, p,
                                                    mode, args.timesteps, args.batch,
                                                    args.rounds)
                assert ("forced by" in source) == (mode == "pull")
            n = args.neurons
            choice = "pull" if pull_reason(n, n, p * n * n, threads) else "push"
            print(f"{args.backend} threads {threads} neurons {n} p {p:g}: push "
                  f"{times['push'] * 1e3:.1f} ms, pull {times['pull'] * 1e3:.1f} ms per batch "
                  f"of {args.batch}x{args.timesteps} steps; hidden activity {activity:.3f} "
                  f"spikes/neuron/step; pull_reason chooses {choice} for the recurrent group",
                  flush=True)


if __name__ == "__main__":
    main()
