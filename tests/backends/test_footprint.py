"""Models too large for memory are refused when compiled, with the estimated figure, the limit
and what to do, before anything big is allocated (backends/footprint.py); the estimate is a
lower bound of what the C backend's buffer table holds."""

from __future__ import annotations

import re
import tracemalloc

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.backends import available_backends
from irsnn.backends.footprint import check_fits, estimate, host_limit, peak_bytes
from irsnn.backends.kernels import KernelBuilder
from irsnn.compilers import EPropCompiler, InferenceCompiler
from irsnn.connectivity import Dense, FixedProbability
from irsnn.errors import IrsnnError, MemoryLimitError, SettingsError
from irsnn.lang.types import C_DTYPES
from irsnn.neurons import AdaptiveLeakyIntegrateFire, LeakyIntegrate, LeakyIntegrateFire, SpikeInput

from ..models import random_spikes

LIMIT_MB = 4096


@pytest.fixture(params=["reference", "c"])
def backend(request):
    ok, why = available_backends()[request.param]
    if not ok:
        pytest.skip(f"backend {request.param!r} unavailable: {why}")
    return request.param


def _huge(case):
    net = Network()
    with net:
        if case == "neurons":
            Population(LeakyIntegrateFire(), 10**9, name="big")
        elif case == "dense":
            a = Population(SpikeInput(max_spikes=4), 10**5, name="a")
            b = Population(LeakyIntegrateFire(), 10**5, name="b")
            Connection(a, b, Dense(1.0), name="matrix")
        else:
            a = Population(SpikeInput(max_spikes=4), 10, name="a")
            b = Population(LeakyIntegrateFire(), 100, name="b")
            Connection(a, b, Dense(1.0, delay=10**9), name="slow")
    return net


@pytest.mark.parametrize("case, part, advice", [
    ("neurons", r"Population 'big' \(1,000,000,000 neurons\): variable V: 3\.73 GiB",
     "fewer neurons"),
    ("dense", r"Connection 'matrix' \(100,000 x 100,000\): weights .*: 37\.25 GiB",
     "sparse connectivity"),
    ("delays", r"spikes of the last 1,000,000,001 step\(s\) \(delays\): 37\.25 GiB",
     "shorter delays"),
])
def test_models_that_cannot_fit_are_refused_before_allocation(backend, monkeypatch, case, part,
                                                              advice):
    monkeypatch.setenv("IRSNN_MEMORY_LIMIT_MB", str(LIMIT_MB))
    net = _huge(case)
    tracemalloc.start()
    try:
        with pytest.raises(MemoryLimitError) as info:
            InferenceCompiler(evaluate_timesteps=2, backend=backend).compile(net)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20, f"{peak / 2**20:.0f} MiB allocated before refusing"
    msg = str(info.value)
    assert isinstance(info.value, IrsnnError) and isinstance(info.value, MemoryError)
    assert f"on the '{backend}' backend" in msg and "needs about" in msg
    assert "but only 4.00 GiB is available (IRSNN_MEMORY_LIMIT_MB)" in msg
    assert advice in msg and re.search(part, msg), msg


def test_batch_size_is_counted_and_suggested(monkeypatch):
    net = Network()
    with net:
        a = Population(SpikeInput(max_spikes=4), 10, name="a")
        b = Population(LeakyIntegrateFire(), 10**6, name="wide")
        Connection(a, b, FixedProbability(0.001, 1.0, layout="procedural"))
    one = InferenceCompiler(evaluate_timesteps=2, backend="reference", batch_size=1)
    many = InferenceCompiler(evaluate_timesteps=2, backend="reference", batch_size=512)
    small, big = (peak_bytes(estimate(c.build_ir(net))) for c in (one, many))
    assert big == 512 * small   # a procedural connection stores nothing: all is per example
    small, big = (peak_bytes(estimate(c.build_ir(net), dense_synapses=True))
                  for c in (one, many))
    assert small + 40e6 < big < 512 * small   # the reference's dense weights: not per example
    monkeypatch.setenv("IRSNN_MEMORY_LIMIT_MB", "1024")
    with pytest.raises(MemoryLimitError, match=r"a smaller batch_size \(now 512;"):
        many.compile(net)


def test_the_check_runs_again_before_every_build(monkeypatch):
    """A limit that shrank after compiling (memory taken by others) is seen at the build."""
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=64), 4, name="inp")
        out = Population(LeakyIntegrate(readout="sum_var"), 3, name="out")
        Connection(inp, out, Dense(0.5))
    cn = InferenceCompiler(evaluate_timesteps=3, backend="reference").compile(net)
    monkeypatch.setenv("IRSNN_MEMORY_LIMIT_MB", "0.0001")
    with pytest.raises(MemoryLimitError, match="needs about"):
        cn.predict({inp: random_spikes(1, 4, 3)}, out, callbacks=[])
    monkeypatch.delenv("IRSNN_MEMORY_LIMIT_MB")
    preds, _ = cn.predict({inp: random_spikes(1, 4, 3)}, out, callbacks=[])
    assert preds[out].shape == (1, 3)


def test_host_limit_and_its_setting(monkeypatch):
    monkeypatch.delenv("IRSNN_MEMORY_LIMIT_MB", raising=False)
    found = host_limit()
    assert found is None or (found[0] > 0 and "memory" in found[1])
    monkeypatch.setenv("IRSNN_MEMORY_LIMIT_MB", "1.5")
    assert host_limit() == (int(1.5 * 2**20), "IRSNN_MEMORY_LIMIT_MB")
    for bad in ("lots", "-1", "0", "inf", "nan"):
        monkeypatch.setenv("IRSNN_MEMORY_LIMIT_MB", bad)
        with pytest.raises(SettingsError, match="IRSNN_MEMORY_LIMIT_MB"):
            host_limit()


def _digits_like(delay):
    net = Network()
    with net:
        a = Population(SpikeInput(max_spikes=1000), 64, name="a")
        h = Population(AdaptiveLeakyIntegrateFire(), 300, name="h")
        o = Population(LeakyIntegrate(readout="sum_var"), 10, name="o")
        Connection(a, h, Dense(0.1, delay=delay))
        Connection(h, h, FixedProbability(0.1, 0.1))
        Connection(h, o, Dense(0.1))
    return net


@pytest.mark.parametrize("compiler", [
    InferenceCompiler(evaluate_timesteps=20, batch_size=16),
    EPropCompiler(example_timesteps=20, losses="sparse_categorical_crossentropy", batch_size=16),
    EPropCompiler(example_timesteps=20, losses="sparse_categorical_crossentropy", batch_size=16,
                  gradient_mode="online"),
], ids=["inference", "eprop-event", "eprop-online"])
@pytest.mark.parametrize("delay", [0, 5])
def test_estimate_is_a_close_lower_bound_of_the_buffer_table(compiler, delay):
    ir = compiler.build_ir(_digits_like(delay))
    kept = sum(i.bytes for i in estimate(ir) if not i.transient)
    table = sum(int(np.prod(b.shape)) * np.dtype(C_DTYPES[b.ctype]).itemsize
                for b in KernelBuilder(ir).build().buffers)
    assert 0.55 * table <= kept <= table
    peak = peak_bytes(estimate(ir))
    c_backend = type("B", (), {"name": "c"})()
    assert check_fits(ir, c_backend, limit=(peak, "test")) == peak > kept
    with pytest.raises(MemoryLimitError, match=r"but only .* is available \(test\)"):
        check_fits(ir, c_backend, limit=(peak - 1, "test"))
