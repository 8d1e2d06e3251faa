"""One EventProp training batch of an SHD-shaped model (700 inputs -> 256 recurrent LIF -> 20
``avg_var_exp_weight`` outputs, dense, ~8,000 input and ~6,700 hidden spikes per example) on
one backend and work-group size: the plan, the build with the first batch, the best of three
batches and the mean time of their backward passes (the end-of-example kernels). A script, not
a pytest file; synthetic spikes, nothing downloaded.

    python benchmarks/eventprop_work_groups.py --backend opencl --work-group-size 32
    python benchmarks/eventprop_work_groups.py --backend cuda --work-group-size 256 --batch 32

Work-group size 0 is one thread per example (the automatic plan on CPU devices).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", default="opencl")
    ap.add_argument("--work-group-size", type=int, default=None)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=1)
    args = ap.parse_args()
    if args.work_group_size is not None:    # (read when the model is compiled)
        os.environ["IRSNN_WORK_GROUP_SIZE"] = str(args.work_group_size)
    from irsnn import Connection, Network, Population
    from irsnn.compilers import EventPropCompiler
    from irsnn.compilers.event_prop_compiler import default_params
    from irsnn.connectivity import Dense
    from irsnn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
    from irsnn.synapses import Exponential
    from irsnn.utils.data import preprocess_spikes

    rng = np.random.default_rng(0)
    net = Network(default_params)
    with net:
        i = Population(SpikeInput(max_spikes=20000), 700, name="input")
        h = Population(LeakyIntegrateFire(tau_mem=20.0), 256, name="hidden")
        o = Population(LeakyIntegrate(readout="avg_var_exp_weight", tau_mem=20.0), 20,
                       name="output")
        Connection(i, h, Dense(rng.normal(0.03, 0.01, (700, 256))), Exponential(5.0))
        Connection(h, h, Dense(rng.normal(0.0, 0.02, (256, 256))), Exponential(5.0))
        Connection(h, o, Dense(rng.normal(0.0, 0.03, (256, 20))), Exponential(5.0))
    xs = []
    for _ in range(args.batch):
        t = np.sort(rng.uniform(0, args.steps - 1, 8000))
        xs.append(preprocess_spikes(t, rng.integers(0, 700, 8000), 700))
    x, y = {i: xs}, {o: rng.integers(0, 20, args.batch)}
    c = EventPropCompiler(args.steps, "sparse_categorical_crossentropy", backend=args.backend,
                          batch_size=args.batch, max_spikes=200)
    start = time.perf_counter()
    with c.compile(net) as cn:
        sim = cn.simulation
        spent, launch_end = [0.0], sim._launch_end

        def timed(*a, **k):
            s = time.perf_counter()
            out = launch_end(*a, **k)
            spent[0] += time.perf_counter() - s
            return out
        sim._launch_end = timed
        cn.train(x, y, num_epochs=1, shuffle=False, callbacks=[])
        first = time.perf_counter() - start
        best, spent[0] = float("inf"), 0.0
        for _ in range(3):
            s = time.perf_counter()
            cn.train(x, y, num_epochs=1, shuffle=False, callbacks=[])
            best = min(best, time.perf_counter() - s)
        plan = getattr(sim, "plan", None)
        print(f"{args.backend} batch {args.batch}, {args.steps} steps: build + first batch "
              f"{first:.2f} s, batch {best * 1e3:.1f} ms, backward passes "
              f"{spent[0] / 3 * 1e3:.1f} ms (mean); spikes {sim.eventprop.spike_counts}; "
              f"{plan.reason if plan else 'no SIMT plan'}")


if __name__ == "__main__":
    main()
