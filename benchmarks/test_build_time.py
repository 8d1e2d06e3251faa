"""Build time of ALIF512R on every available backend: cold (fresh kernel cache) and warm
(second compile of the same model with the same cache).

Each measurement is ``time.perf_counter`` around ``compiler.compile(network)`` plus the first
access of ``compiled_net.simulation`` (which builds the backend's simulation: for the C
backend, code generation and the C compile or the cache hit). The cold build points
``XDG_CACHE_HOME`` at a fresh temporary directory; the warm build reuses it. The pytest-benchmark
statistics are those of the warm build; ``extra_info`` holds ``cold_s`` / ``warm_s`` (min over
``REPEATS`` fresh caches) and the per-repeat lists.
"""

from __future__ import annotations

import time

import pytest

from irsnn.compilers import InferenceCompiler

from .conftest import BACKENDS, TIMESTEPS, build_alif512r

REPEATS = 3


def timed_build(backend):
    net = build_alif512r(max_spikes=1 << 18)[0]
    compiler = InferenceCompiler(evaluate_timesteps=TIMESTEPS, batch_size=1, rng_seed=1,
                                 backend=backend)
    start = time.perf_counter()
    compiled = compiler.compile(net)
    compiled.simulation  # noqa: B018  (builds the backend simulation)
    return time.perf_counter() - start


@pytest.mark.parametrize("backend", BACKENDS)
def test_build_time_alif512r(benchmark, backend, tmp_path, monkeypatch):
    cold, warm = [], []
    for r in range(REPEATS):
        cache = tmp_path / f"cache{r}"
        cache.mkdir()
        monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
        cold.append(timed_build(backend))
        warm.append(timed_build(backend))
    benchmark.group = "build ALIF512R"
    # pytest-benchmark's own statistics: warm builds (the cache dir of the last repeat)
    benchmark.pedantic(timed_build, args=(backend,), rounds=REPEATS, iterations=1)
    benchmark.extra_info.update({"backend": backend, "cold_s": min(cold), "warm_s": min(warm),
                                 "cold_s_all": cold, "warm_s_all": warm})
    print(f"\nbuild ALIF512R {backend}: cold {min(cold):.3f} s (all {cold}), "
          f"warm {min(warm):.3f} s (all {warm})")
