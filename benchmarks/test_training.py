"""Online e-prop training throughput (``gradient_mode="online"``: per-synapse traces every step,
mlGeNN's algorithm) of ALIF512R and ALIF256F-ALIF256R on every available backend, at batch sizes
1 and 64, and the memory bandwidth of the per-synapse learning update as a fraction of a
STREAM-like triad measured in the same run (issue 4, "Performance"). The default event-driven
mode is benchmarked by ``test_eprop_modes.py``.

Run with ``python -m pytest benchmarks/test_training.py --benchmark-enable -p no:cacheprovider
-q -s``; see ``benchmarks/README.md``. Nothing here asserts a timing.

One round = ``CompiledTrainingNetwork.train`` of one batch of TIMESTEPS steps (forward pass,
e-prop traces and gradient accumulation every step, then one Adam step), after an untimed
warm-up batch that also builds the kernels. Labels are random class indices in [0, 11).

Memory traffic of the learning update: every trained synapse reads and writes each of its
per-synapse learning variables once per example-timestep (ALIF: EBar, Eps, DeltaG = 24 bytes
in float32; the output connection: DeltaG = 8 bytes); it is derived from the compiled IR, so
other neuron models are counted correctly. Weights, presynaptic traces and postsynaptic state
are not counted (they are reused across the batch or are O(neurons)).

The reference backend at batch 64 is skipped (one round takes about 2.5 minutes on the 2-core
reference machine); at batch 1 it runs a few rounds (about 0.7-2 s each).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from irsnn.compilers import EPropCompiler
from irsnn.ir import SynapseGroup

from irsnn.bench import triad
from irsnn.bench.measure import synapse_bytes
from .conftest import (BACKENDS, BATCH_SIZES, DT, NUM_OUTPUT, TIMESTEPS, WORKLOADS,
                       max_spikes_for, poisson_examples)


def rounds_for(backend, batch_size):
    """Timed rounds (one round = one training batch of TIMESTEPS steps)."""
    if backend == "reference":
        return {1: 3, 64: 0}[batch_size]
    return {1: 20, 64: 3}[batch_size]


@pytest.fixture(scope="module")
def bandwidth():
    """The triad bandwidths of this run (GB/s), measured once, before the training runs."""
    res = triad.measure()
    print("\n" + triad.describe(res))
    return res


def learning_traffic(compiled):
    """``(trained synapses, bytes moved per example-timestep, per-group detail)`` from the
    compiled IR: each per-synapse learning variable is read, and written if readwrite."""
    total_syn, total_bytes, detail = 0, 0, {}
    for u, v, _k, syn in compiled.ir.edges(SynapseGroup):
        lr = syn.learning
        if lr is None:
            continue
        n = syn.num_pre * syn.num_post
        per_syn = synapse_bytes(lr)
        total_syn += n
        total_bytes += n * per_syn
        detail[f"{u}->{v}"] = (lr.kind, n, per_syn)
    return total_syn, total_bytes, detail


@pytest.mark.parametrize("batch_size", BATCH_SIZES)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_training_throughput(benchmark, bandwidth, workload, backend, batch_size):
    rounds = rounds_for(backend, batch_size)
    if rounds == 0:
        msg = (f"{workload} {backend} batch {batch_size}: skipped (one training round of "
               f"{TIMESTEPS} steps takes minutes on the reference backend)")
        print("\n" + msg)
        pytest.skip(msg)
    x = poisson_examples(batch_size, seed=batch_size)
    y = np.random.default_rng(batch_size).integers(0, NUM_OUTPUT, batch_size)
    net, inp, hidden, out = WORKLOADS[workload](max_spikes_for(x))
    compiled = EPropCompiler(example_timesteps=TIMESTEPS, dt=DT,
                             losses="sparse_categorical_crossentropy", batch_size=batch_size,
                             rng_seed=1, backend=backend, gradient_mode="online").compile(net)
    benchmark.group = f"train {workload} batch {batch_size}"
    n_syn, bytes_per_step, detail = learning_traffic(compiled)
    with compiled:
        def one_batch():
            return compiled.train({inp: x}, {out: y}, num_epochs=1, shuffle=False,
                                  callbacks=[])

        metrics, _ = one_batch()  # build + warm-up, untimed
        benchmark.pedantic(one_batch, rounds=rounds, iterations=1, warmup_rounds=0)

    # batch-1 runs are single-threaded (the C backend parallelises over the batch only)
    kind = "serial" if batch_size == 1 else "omp"
    bw_dram, bw_cache = bandwidth[kind]["dram"], bandwidth[kind]["cache"]
    info = benchmark.extra_info
    info.update({"workload": workload, "backend": backend, "batch_size": batch_size,
                 "timesteps": TIMESTEPS, "trained_synapses": n_syn,
                 "learning_bytes_per_example_timestep": bytes_per_step,
                 "learning_state_bytes": bytes_per_step // 2 * batch_size,
                 "learning_groups": {k: list(v) for k, v in detail.items()},
                 "triad_kind": kind, "triad_threads": 1 if kind == "serial"
                 else bandwidth["omp_threads"],
                 "triad_dram_gbs": bw_dram, "triad_cache_gbs": bw_cache,
                 "triad_all": {k: bandwidth[k] for k in ("serial", "omp")},
                 "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
                 "load_average": os.getloadavg()})
    state_mb = bytes_per_step / 2 * batch_size / 1e6
    line = (f"\n{workload} {backend} batch {batch_size}: {n_syn} trained synapses, "
            f"{bytes_per_step / n_syn:.1f} B/synapse/step, learning state {state_mb:.1f} MB")
    stats = benchmark.stats.stats if benchmark.stats is not None else None
    if stats is not None:
        for tag, t in (("", stats.mean), ("best_", stats.min)):
            ets = batch_size * TIMESTEPS / t
            gbs = bytes_per_step * ets / 1e9
            info[f"{tag}timesteps_per_s"] = TIMESTEPS / t
            info[f"{tag}example_timesteps_per_s"] = ets
            info[f"{tag}synapse_updates_per_s"] = n_syn * ets
            info[f"{tag}learning_gbs"] = gbs
            info[f"{tag}fraction_of_triad_dram"] = gbs / bw_dram
            info[f"{tag}fraction_of_triad_cache"] = gbs / bw_cache
        line += (f"; {info['timesteps_per_s']:.4g} timesteps/s, "
                 f"{info['example_timesteps_per_s']:.4g} example-timesteps/s, "
                 f"{info['synapse_updates_per_s']:.3g} synapse updates/s (mean; best "
                 f"{info['best_timesteps_per_s']:.4g} timesteps/s); learning update "
                 f"{info['learning_gbs']:.1f} GB/s = {100 * info['fraction_of_triad_dram']:.0f}%"
                 f" of the {kind} DRAM triad ({bw_dram:.1f} GB/s), "
                 f"{100 * info['fraction_of_triad_cache']:.0f}% of the cache-resident triad "
                 f"({bw_cache:.1f} GB/s); load average {os.getloadavg()[0]:.1f}")
    else:
        line += " (benchmark disabled: no timings)"
    print(line)
    assert len(metrics) == 1
