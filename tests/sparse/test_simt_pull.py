"""Ragged propagation on the SIMT block plan pulls by postsynaptic neuron over the column order
(``backends.kernels.simt``): it is chosen there (and only there: C and one thread per example
render as before), and it adds the same weights in the same order as rows pushed spike by
spike, so every plan gives the same bits, with weights whose sums depend on the order
(Normal draws) and against the reference with dyadic ones. The model has every kind of
presynaptic spike list: a spike schedule (SpikeInput), signed spikes (flags of -1), a delay
of several steps (spike history slots) and a recurrent group."""

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.backends import available_backends
from irsnn.callbacks import SpikeRecorder, VarRecorder
from irsnn.compilers import InferenceCompiler
from irsnn.connectivity import Dense, FixedProbability
from irsnn.initializers import Normal
from irsnn.neurons import (AdaptiveLeakyIntegrateFire, BinarySpikeInput, LeakyIntegrate,
                           SpikeInput)
from irsnn.synapses import Exponential

from ..conformance.conftest import check, spikes, total_spikes, var
from ..conformance.test_neurons import dyadic
from ..models import random_spikes

OPENCL = available_backends()["opencl"]
needs_opencl = pytest.mark.skipif(not OPENCL[0], reason=f"OpenCL unavailable: {OPENCL[1]}")
T = 30
PULLED = "pulled by postsynaptic neuron over columns"


def _weights(value, exact):
    """A dyadic constant (exact sums), or Normal draws (sums that depend on the order of the
    additions)."""
    return value if exact else Normal(0.1, 0.4)


def build(exact=True):
    def make():
        net = Network()
        with net:
            inp = Population(SpikeInput(max_spikes=40000), 240, name="inp")
            sgn = Population(BinarySpikeInput(signed_spikes=True), 160, name="sgn")
            hid = Population(AdaptiveLeakyIntegrateFire(v_thresh=0.75, beta=0.125,
                                                        tau_adapt=40.0, tau_refrac=2.0),
                             64, name="hid")
            out = Population(LeakyIntegrate(tau_mem=10.0, readout="sum_var"), 3, name="out")
            Connection(inp, hid, FixedProbability(0.05, _weights(0.25, exact),
                                                  layout="sparse"), name="in_hid")
            Connection(sgn, hid, FixedProbability(0.05, _weights(0.375, exact),
                                                  delay=3, layout="sparse"), name="sgn_hid")
            Connection(hid, hid, FixedProbability(0.1, _weights(-0.125, exact),
                                                  layout="sparse"),
                       Exponential(2.0), name="rec")
            Connection(hid, out, Dense(dyadic((64, 3), 0.5, 7)), name="hid_out")
        return net, {"inp": inp, "sgn": sgn, "hid": hid, "out": out}
    return make


def _inputs():
    rng = np.random.default_rng(5)
    return {"inp": random_spikes(3, 240, T, rate=0.2, seed=4),
            "sgn": rng.choice([-1.0, 0.0, 0.5], size=(3, 160))}


def _run(backend, exact):
    """Readouts, hidden spikes and V (per example) and the generated source of a run."""
    net, pops = build(exact)()
    compiled = InferenceCompiler(evaluate_timesteps=T, batch_size=2,
                                 backend=backend).compile(net)
    callbacks = [SpikeRecorder(pops["hid"], key="spikes"), VarRecorder(pops["hid"], "V",
                                                                      key="V")]
    x = {pops[k]: v for k, v in _inputs().items()}
    preds, cb = compiled.predict(x, [pops["out"]], callbacks=callbacks)
    arrays = [np.asarray(preds[pops["out"]])] + [np.asarray(a) for a in cb["spikes"][1]]
    arrays += [np.asarray(a) for a in cb["V"]]
    return arrays, getattr(compiled.simulation, "source", "")


#: PoCL builds this model at 32 threads several times slower than at 256: 32 runs under slow
SLOW_32 = pytest.param(32, marks=pytest.mark.slow)


@needs_opencl
@pytest.mark.parametrize("threads", [SLOW_32, 256])
def test_pull_and_push_and_c_agree_bit_for_bit_with_order_dependent_sums(monkeypatch, threads):
    from irsnn.backends.kernels import simt
    monkeypatch.setenv("IRSNN_WORK_GROUP_SIZE", str(threads))
    pulled, source = _run("opencl", exact=False)
    # (simt.pull_reason) on 32 threads the inputs pull (2 columns of ~10 synapses a step
    # against ~10 spikes and barriers), the recurrent group pushes (64 neurons: ~3 spikes
    # expected); on 256 every group pulls
    assert source.count(PULLED) == (2 if threads == 32 else 3) and "pullmarks" in source
    assert (f"propagate:rec.hid->hid {PULLED}" in source) == (threads == 256)
    monkeypatch.setattr(simt, "pull_reason", lambda *args: None)
    pushed, source = _run("opencl", exact=False)
    assert PULLED not in source and "pullmarks" not in source
    monkeypatch.delenv("IRSNN_WORK_GROUP_SIZE")
    c, _ = _run("c", exact=False)
    assert sum(len(s) for s in c[1:4]) > 50          # hidden neurons spiked
    for k, (a, b, r) in enumerate(zip(pulled, pushed, c)):
        np.testing.assert_array_equal(a, b, err_msg=f"pull vs push, array {k}")
        np.testing.assert_array_equal(a, r, err_msg=f"pull vs C, array {k}")


@needs_opencl
@pytest.mark.parametrize("threads", [1, SLOW_32, 256])
def test_pull_equals_reference_exactly(monkeypatch, threads):
    monkeypatch.setenv("IRSNN_WORK_GROUP_SIZE", str(threads))
    ref = check(build(), "opencl", _inputs(), T, outputs=["out"], batch_size=2,
                record=[spikes("hid"), var("hid", "V"), spikes("sgn")])
    assert total_spikes(ref, 0) > 50


def test_pull_chosen_by_its_cost_on_blocks_only_and_compiles_with_nvrtc():
    from irsnn.backends.c import CBackend
    from irsnn.backends.cuda import CudaBackend
    from irsnn.backends.kernels.simt import pull_reason

    for threads in (None, 1):
        assert pull_reason(512, 512, 512 * 25.6, threads) is None
    # 512 neurons, rows of 25.6: a pull walks 16 columns a step on 32 threads, 2 on 256
    assert pull_reason(512, 512, 512 * 25.6, 32) is None
    assert pull_reason(512, 512, 512 * 25.6, 256) == (
        "rows of 25.6 synapses on blocks of 256 threads: about 59.2 rounds a step pulling, "
        "128 pushing at 0.05 spikes per neuron and step")
    assert pull_reason(512, 512, 0, 256) is None
    net, _ = build()()
    graph = InferenceCompiler(evaluate_timesteps=T, batch_size=2).build_ir(net, "m")
    (text,) = CudaBackend(work_group_size=64).kernel_source(graph).values()
    assert text.count(PULLED) == 3 and "on blocks of 64 threads: about" in text
    try:
        from irsnn.backends.cuda import compile_with_nvrtc
        ok, log = compile_with_nvrtc(text, "sm_80")
        assert ok and not log, log
    except ImportError:         # cuda-bindings/nvidia-cuda-nvrtc not installed
        pass
    for threads in (0, 1):
        (text,) = CudaBackend(work_group_size=threads).kernel_source(graph).values()
        assert PULLED not in text and "colstart" not in text
    (text,) = CBackend().kernel_source(graph).values()
    assert "colstart" not in text and "pullmarks" not in text


@needs_opencl
def test_deep_r_rewiring_reaches_the_columns_the_pull_reads(monkeypatch):
    """Rewiring rewrites the rows and their column order on the host (``store_rows``): e-prop
    training with Deep-R pulling on blocks of 32 stays with the reference."""
    from irsnn.backends.kernels import simt

    from .test_deep_r import assert_same_synapses_and_weights, train
    monkeypatch.setenv("IRSNN_WORK_GROUP_SIZE", "32")
    # (its groups are small enough for pushes: pull whatever simt.pull_reason says)
    monkeypatch.setattr(simt, "pull_reason", lambda *args: "asked for by the test")
    ref, _, _, cb_ref, _ = train("reference")
    test, _, _, cb, _ = train("opencl")
    assert test.simulation.source.count(PULLED) == 3
    assert cb == cb_ref and sum(n for v in cb.values() for n, _ in v) > 20   # rewired
    assert_same_synapses_and_weights(test, ref, rtol=1e-5)
