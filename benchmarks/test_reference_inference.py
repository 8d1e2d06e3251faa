"""Inference throughput of the reference (NumPy) backend on the paper's DVS-Gesture network.

Run with ``python -m pytest benchmarks --benchmark-enable -p no:cacheprovider``; see
``benchmarks/README.md``. Nothing here asserts a timing.
"""

from __future__ import annotations

import numpy as np
import pytest

from irsnn.callbacks import SpikeRecorder
from irsnn.compilers import InferenceCompiler

from .conftest import NUM_HIDDEN, TIMESTEPS, build_network, make_examples

#: timed rounds per batch size (each round is one batch of TIMESTEPS steps)
ROUNDS = {1: 5, 32: 3}


@pytest.mark.parametrize("batch_size", [1, 32])
def test_reference_inference_throughput(benchmark, batch_size):
    net, inp, hidden, out = build_network()
    compiled = InferenceCompiler(evaluate_timesteps=TIMESTEPS, batch_size=batch_size,
                                 rng_seed=1, backend="reference").compile(net)
    x = make_examples(batch_size, seed=batch_size)
    with compiled:
        # one untimed run with a spike recorder: report the hidden layer's firing rate
        preds, cb = compiled.predict({inp: x}, [out],
                                     callbacks=[SpikeRecorder(hidden, key="h",
                                                              record_counts=True)])
        counts = np.stack(cb["h"])
        hidden_hz = counts.sum() / (counts.size * TIMESTEPS * compiled.compiler.dt) * 1000.0
        in_spikes = sum(len(e.spike_times) for e in x)
        input_hz = in_spikes / (len(x) * 2048 * TIMESTEPS) * 1000.0
        assert preds[out].shape == (batch_size, 11) and np.all(np.isfinite(preds[out]))

        def one_batch():
            return compiled.predict({inp: x}, [out], callbacks=[])

        benchmark.pedantic(one_batch, rounds=ROUNDS[batch_size], iterations=1,
                           warmup_rounds=1)

    stats = benchmark.stats.stats if benchmark.stats is not None else None
    if stats is not None:
        # mean over rounds, and from the fastest round (less sensitive to a busy machine)
        benchmark.extra_info["timesteps_per_s"] = TIMESTEPS / stats.mean
        benchmark.extra_info["example_timesteps_per_s"] = batch_size * TIMESTEPS / stats.mean
        benchmark.extra_info["best_timesteps_per_s"] = TIMESTEPS / stats.min
        benchmark.extra_info["best_example_timesteps_per_s"] = (batch_size * TIMESTEPS
                                                                / stats.min)
    benchmark.extra_info.update({"batch_size": batch_size, "timesteps": TIMESTEPS,
                                 "hidden_rate_hz": hidden_hz, "input_rate_hz": input_hz,
                                 "hidden_neurons": NUM_HIDDEN})
    print(f"\nbatch {batch_size}: input {input_hz:.1f} Hz, hidden {hidden_hz:.1f} Hz"
          + (f", {TIMESTEPS / stats.mean:.0f} timesteps/s, "
             f"{batch_size * TIMESTEPS / stats.mean:.0f} example-timesteps/s (mean); "
             f"best round {TIMESTEPS / stats.min:.0f} timesteps/s, "
             f"{batch_size * TIMESTEPS / stats.min:.0f} example-timesteps/s"
             if stats is not None else " (benchmark disabled: no timings)"))
