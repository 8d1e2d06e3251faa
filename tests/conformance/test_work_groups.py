"""The SIMT plan (one work-group per example, :mod:`backends.kernels.simt`) with work-group
sizes 1, 32 and 256 on OpenCL: bit-identical to the reference wherever the default plan is.

A work-group of 1 runs every phase on one thread; 32 splits a population of 20 over most of
a group; 256 leaves most threads idle, so barriers and races that a size hides show up as
differences. A representative subset (ragged recurrent propagation with spike lists by prefix
sum with every size, signed input spikes (flags of -1) in a population smaller than most
sizes with every size, event-driven e-prop gradients and EventProp's backward pass (recurrent,
ragged, batch lanes) with 32) runs in every run; the other sizes of e-prop and EventProp and
more cases under ``slow``;
``IRSNN_CONFORMANCE_WORK_GROUPS=1,32,256`` runs the whole suite with these sizes.

Several work-groups per example (:mod:`backends.kernels.grid`, one launch per phase of a step)
run the same cases with grids of :data:`GRIDS`: 3 groups of 1 thread (every population and
spike list spread over all three groups, the lists' chunks crossing them) and 2 of 8 (threads of
both groups in every parallel loop, some with a second round).

Event-driven e-prop's gradient rows (one work-group per presynaptic row, its synapses across
the threads) are compared bit for bit with the one-thread-per-example plan of the same
OpenCL device (the reference differs from every kernel backend in the last bits of its math
functions, so it is the tolerance check), dense and ragged, with signed input spikes: ragged
signed and dense with 32 in every run, the rest under ``slow`` (and on CUDA where a GPU is).
"""

from __future__ import annotations

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.backends import available_backends
from irsnn.compilers import EPropCompiler
from irsnn.connectivity import Dense, FixedProbability
from irsnn.initializers import Normal
from irsnn.neurons import AdaptiveLeakyIntegrateFire, BinarySpikeInput, LeakyIntegrate, SpikeInput
from irsnn.utils.data import preprocess_spikes

from ..eprop import test_event_mode as eprop
from ..eprop import test_gradients as gradients
from ..eprop.conftest import _build
from ..event_prop import test_delays
from ..sparse import test_learning_by_columns as columns
from . import (test_connectivity, test_eventprop, test_inputs_recording, test_spike_schedule,
               test_training)

OPENCL = available_backends()["opencl"]
CUDA = available_backends()["cuda"]
needs_opencl = pytest.mark.skipif(not OPENCL[0], reason=f"OpenCL unavailable: {OPENCL[1]}")

SIZES = [1, 32, 256]

#: (case function, its arguments but the backend); the default run's
DEFAULT = {
    "recurrent-ragged": (test_connectivity.test_recurrent_exact,
                         {"kind": "fixed_probability_self"}),
    "signed-input": (test_inputs_recording.test_binary_spike_input_exact,
                     {"signed": True, "frames": 2}),
    # one-to-one rows from a LIF population's spike list (PoCL dropped them when one thread
    # of the block propagated the list)
    "one-to-one-from-lif": (test_connectivity.test_constant_delay_exact,
                            {"delay": 3, "synapse": "exp"}),
    "eprop-event-sparse": (eprop.test_event_equals_online_with_reset_traces,
                           {"case": "alif-sparse", "loss": "sparse_categorical_crossentropy"}),
    # EventProp's backward pass: a recurrent ragged hidden layer, lanes of 2, 2 and 1 batch
    # elements, a partial batch, Adam steps
    "eventprop-recurrent-ragged": (test_eventprop.test_gradients_and_training_match_reference,
                                   {"readout": "max_var", "recurrent": True, "sparse": True}),
}

#: more cases, under ``slow``
SLOW = {
    "recurrent-bitmask": (test_connectivity.test_recurrent_exact, {"kind": "bitmask"}),
    "procedural": (test_connectivity.test_connectivity_exact, {"kind": "procedural"}),
    "one-to-one": (test_connectivity.test_connectivity_exact, {"kind": "one_to_one"}),
    "delays": (test_connectivity.test_per_synapse_delay_arrays_exact, {"max_delay_steps": 12}),
    "eprop-event-signed": (eprop.test_event_equals_online_with_reset_traces,
                           {"case": "signed-input", "loss": "mean_square_error"}),
    "schedule": (test_spike_schedule.test_schedule_matches_spike_source_array,
                 {"dt": 1.0, "batch_size": 2, "reset_time": False}),
    "partial-batch": (test_inputs_recording.test_batches_with_partial_last_batch_exact,
                      {"reset_vars": False, "reset_in_syn": True}),
    "eprop-online-columns": (columns.test_traces_and_weights_equal_reference,
                             {"per_step": False}),
    "eprop-gradients-event": (gradients.test_gradients_match_reference,
                              {"build": _build, "hidden_kind": "alif", "recurrent": True,
                               "loss": "sparse_categorical_crossentropy", "mode": "event"}),
    "eprop-gradients-online": (gradients.test_gradients_match_reference,
                               {"build": _build, "hidden_kind": "lif", "recurrent": True,
                                "loss": "mean_square_error", "mode": "online"}),
    "eprop-event-two-layers": (eprop.test_event_equals_online_with_reset_traces,
                               {"case": "two-layers-sparse-lif",
                                "loss": "sparse_categorical_crossentropy"}),
    "training": (test_training.test_training_matches_reference,
                 {"model": "alif", "loss": "sparse_categorical_crossentropy",
                  "feedback": "symmetric"}),
    # EventProp: first spikes and the regulariser, a per-step softmax (one thread's phase in
    # the step loop), per-step targets, silent outputs, per-synapse delays (the rings of D and
    # LambdaI; learnt: their gradients and training), float32 bit for bit with C
    "eventprop-ttfs-regularised": (
        test_eventprop.test_spike_count_regularisation_matches_reference,
        {"readout": "first_spike_time"}),
    "eventprop-per-step-softmax": (
        test_eventprop.test_per_timestep_cross_entropy_matches_reference, {"readout": "avg_var"}),
    "eventprop-step-targets": (
        test_eventprop.test_mean_square_error_of_var_readout_matches_reference,
        {"per_step": True}),
    "eventprop-ttfs-silent": (
        test_eventprop.test_time_to_first_spike_with_silent_outputs_matches_reference,
        {"loss": "cross_entropy"}),
    "eventprop-delays": (test_delays.test_gradients_with_delays_equal_the_dense_reference,
                         {"kind": "per-synapse"}),
    "eventprop-learnt-delays": (
        test_delays.test_learnt_delays_on_kernel_backends_match_the_reference, {"batch": 5}),
    "eventprop-float-as-c": (test_eventprop.test_kernel_backends_agree_bit_for_bit, {}),
}


#: (threads, work-groups per example) of the grid plan's cases
GRIDS = [(1, 3), (8, 2)]


def _run(monkeypatch, size, case, blocks=None):
    monkeypatch.setenv("IRSNN_WORK_GROUP_SIZE", str(size))
    if blocks is not None:
        monkeypatch.setenv("IRSNN_BLOCKS_PER_EXAMPLE", str(blocks))
    fn, kwargs = case
    fn(backend="opencl", **kwargs)


def _cases():
    """Every size for inference; e-prop and EventProp (two double-precision builds a size)
    run 32 in the default run and 1 and 256 under ``slow`` (test time budget)."""
    learning = ("eprop", "eventprop")
    return [pytest.param(name, n, id=f"{name}-{n}",
                         marks=[pytest.mark.slow] if name.startswith(learning) and n != 32
                         else []) for name in DEFAULT for n in SIZES]


@needs_opencl
@pytest.mark.parametrize("name,size", _cases())
def test_work_group_sizes(monkeypatch, name, size):
    _run(monkeypatch, size, DEFAULT[name])


@needs_opencl
@pytest.mark.slow
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", list(SLOW))
def test_work_group_sizes_more(monkeypatch, name, size):
    _run(monkeypatch, size, SLOW[name])


def _grid_cases():
    """The default cases on both grids; learning on the grid of 1 thread under ``slow``."""
    return [pytest.param(name, threads, blocks, id=f"{name}-{blocks}x{threads}",
                         marks=[pytest.mark.slow] if name.startswith(("eprop", "eventprop"))
                         and threads == 1 else [])
            for name in DEFAULT for threads, blocks in GRIDS]


@needs_opencl
@pytest.mark.parametrize("name,threads,blocks", _grid_cases())
def test_several_blocks_per_example(monkeypatch, name, threads, blocks):
    _run(monkeypatch, threads, DEFAULT[name], blocks)


@needs_opencl
@pytest.mark.slow
@pytest.mark.parametrize("threads,blocks", GRIDS, ids=[f"{b}x{t}" for t, b in GRIDS])
@pytest.mark.parametrize("name", list(SLOW))
def test_several_blocks_per_example_more(monkeypatch, name, threads, blocks):
    _run(monkeypatch, threads, SLOW[name], blocks)


# -- event-driven e-prop's gradient rows ------------------------------------------------------
#: (input, hidden, output) neurons and timesteps: rows of 72 synapses (dense) and ~43 (ragged
#: input rows) take several rounds of a work-group of 32; the output rows of 3 leave most
#: threads idle
N_IN, N_HID, N_OUT, T_EX = 12, 72, 3, 20
#: case -> (ragged hidden connections, signed input spikes)
SCATTER = {"dense": (False, False), "ragged": (True, False), "ragged-signed": (True, True)}


def _event_gradients(case, backend):
    """Event-driven e-prop gradients of two batches (the second partial) of ``case``."""
    ragged, signed = SCATTER[case]
    conn = ((lambda p, sd: FixedProbability(p, Normal(sd=sd), layout="sparse")) if ragged
            else (lambda p, sd: Dense(Normal(sd=sd))))
    net = Network()
    with net:
        inp = (Population(BinarySpikeInput(signed_spikes=True, input_frames=T_EX), N_IN)
               if signed else Population(SpikeInput(max_spikes=4000), N_IN))
        hid = Population(AdaptiveLeakyIntegrateFire(v_thresh=0.5, tau_refrac=2.0, beta=0.3,
                                                    tau_adapt=50.0), N_HID)
        out = Population(LeakyIntegrate(tau_mem=10.0, readout="sum_var"), N_OUT, name="out")
        Connection(inp, hid, conn(0.6, 0.8), name="ih")
        Connection(hid, hid, conn(0.1, 0.4), name="rec")
        Connection(hid, out, Dense(Normal(sd=0.5)), name="ho")
    compiled = EPropCompiler(example_timesteps=T_EX, losses="sparse_categorical_crossentropy",
                             batch_size=2, precision="double", backend=backend, rng_seed=5,
                             c_reg=0.05, f_target=20.0).compile(net)
    rng = np.random.default_rng(11)
    grads = []
    with compiled:
        for n in (2, 1):
            if signed:
                x = rng.choice([-1.0, 0.0, 0.0, 1.0], size=(n, T_EX, N_IN))
            else:
                x = [preprocess_spikes(*np.nonzero(rng.random((T_EX - 1, N_IN)) < 0.2), N_IN)
                     for _ in range(n)]
            grads.append(compiled.compute_gradients({inp: x}, {out: rng.integers(0, N_OUT, n)}))
        source = getattr(compiled.simulation, "source", "")
    return grads, source


_ONE_THREAD: dict = {}


def _one_thread(monkeypatch, case, backend):
    """``case``'s gradients on one thread per example (computed once per case and backend)."""
    if (case, backend) not in _ONE_THREAD:
        monkeypatch.setenv("IRSNN_WORK_GROUP_SIZE", "0")
        _ONE_THREAD[case, backend] = _event_gradients(case, backend)[0]
    return _ONE_THREAD[case, backend]


def _gradient_cases():
    """OpenCL: dense and ragged-signed with 32 in every run, the rest under ``slow``; CUDA
    (``benchmarks/gpu_check.sh``), where a GPU is present, every case and size."""
    out = [pytest.param("opencl", case, n, id=f"opencl-{case}-{n}",
                        marks=[needs_opencl] + ([] if n == 32 and case != "ragged"
                                                else [pytest.mark.slow]))
           for case in SCATTER for n in SIZES]
    return out + [pytest.param("cuda", case, n, id=f"cuda-{case}-{n}", marks=[
        pytest.mark.slow, pytest.mark.skipif(not CUDA[0], reason=f"CUDA unavailable: {CUDA[1]}")])
        for case in SCATTER for n in SIZES]


@pytest.mark.parametrize("backend,case,size", _gradient_cases())
def test_event_eprop_gradient_rows_across_the_work_group(monkeypatch, backend, case, size):
    want = _one_thread(monkeypatch, case, backend)
    monkeypatch.setenv("IRSNN_WORK_GROUP_SIZE", str(size))
    got, source = _event_gradients(case, backend)
    # the block form ran (one work-group per presynaptic row), ragged rows as long as stored
    assert "threads per presynaptic row" in source
    assert ("_rowlen[i];" in source) == SCATTER[case][0]
    ref, _ = _event_gradients(case, "reference")
    for batch, (g, w, r) in enumerate(zip(got, want, ref)):
        assert set(g) == set(w) == set(r) == {"ih", "rec", "ho", "out.bias"}
        for k in r:
            np.testing.assert_array_equal(g[k], w[k], err_msg=f"{case}, batch {batch}, {k}")
            scale = np.abs(r[k]).max()
            np.testing.assert_allclose(g[k], r[k], rtol=1e-9, atol=1e-12 * scale,
                                       err_msg=f"{case}, batch {batch}, {k}")
    # every trained connection has gradients (spiking hidden neurons, active rows)
    assert all(np.count_nonzero(got[0][k]) > 0 for k in ("ih", "rec", "ho"))
