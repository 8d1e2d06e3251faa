"""The shared simulation state and reset rules (``backends/state.py``).

* spike lists <-> spikes in flight: round trips (signed and unsigned), stale list tails
  ignored, bad values refused;
* the reset rules name what each option resets (parameters only before initialisation);
* a simulation rebuilt mid-example from an exported state continues bit for bit like the one
  that was not rebuilt (spikes in flight through a delayed connection, signed input spikes,
  online e-prop traces).
"""

from __future__ import annotations

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.backends import available_backends, get_backend
from irsnn.backends.state import (DENDRITIC, IN_SYN, INITIAL, SPIKES, ResetEntry,
                                  SimulationState, reset_entries, spikes_from_lists,
                                  spikes_to_lists, state_variables, trace_entries)
from irsnn.compilers import EPropCompiler
from irsnn.connectivity import Dense, FixedProbability
from irsnn.errors import BackendError
from irsnn.initializers import Normal
from irsnn.ir import edge_id
from irsnn.neurons import BinarySpikeInput, LeakyIntegrate, LeakyIntegrateFire

N_IN, N_HID, N_OUT, T = 12, 10, 3, 20


# -- spikes in flight ------------------------------------------------------------------------
@pytest.mark.parametrize("signed", [False, True])
def test_spike_lists_round_trip(signed):
    rng = np.random.default_rng(1)
    h, b, n = 4, 3, 9
    values = [-1, 0, 0, 1] if signed else [0, 0, 1]
    spikes = rng.choice(values, size=(h, b, n)).astype(np.int8)
    spk, count, sign = spikes_to_lists(spikes)
    assert spk.dtype == np.int32 and count.dtype == np.int32 and sign.dtype == np.int8
    np.testing.assert_array_equal(count, (spikes != 0).sum(axis=2))
    for s in range(h):
        for r in range(b):
            ids = np.flatnonzero(spikes[s, r])
            np.testing.assert_array_equal(spk[s, r, :count[s, r]], ids)  # ascending, as kernels
            np.testing.assert_array_equal(sign[s, r, :count[s, r]], spikes[s, r, ids])
    back = spikes_from_lists(spk.reshape(-1), count.reshape(-1),
                             sign.reshape(-1) if signed else None, history=h, batch=b, neurons=n)
    assert back.dtype == np.int8
    np.testing.assert_array_equal(back, spikes)


def test_spike_lists_ignore_stale_entries_after_the_count():
    # kernels only write the first `count` entries of a slot's list: what follows is old
    spk = np.array([[[2, 5, 7, 1, 0, 0, 0, 0]], [[3, 0, 0, 0, 0, 0, 0, 0]]], np.int32)
    count = np.array([[2], [0]], np.int32)
    sign = np.array([[[1, -1, 1, 1, 0, 0, 0, 0]], [[-1, 0, 0, 0, 0, 0, 0, 0]]], np.int8)
    out = spikes_from_lists(spk, count, sign, history=2, batch=1, neurons=8)
    expected = np.zeros((2, 1, 8), np.int8)
    expected[0, 0, 2], expected[0, 0, 5] = 1, -1
    np.testing.assert_array_equal(out, expected)
    spk2, count2, sign2 = spikes_to_lists(out)
    np.testing.assert_array_equal(count2, count)
    np.testing.assert_array_equal(spk2[0, 0, :2], [2, 5])
    np.testing.assert_array_equal(sign2[0, 0, :2], [1, -1])


def test_spike_lists_refuse_bad_values():
    with pytest.raises(BackendError, match="-1, 0 or 1"):
        spikes_to_lists(np.full((1, 1, 3), 2))
    with pytest.raises(BackendError, match="history, batch, neurons"):
        spikes_to_lists(np.zeros((2, 3)))
    with pytest.raises(BackendError, match="counts"):
        spikes_from_lists(np.zeros(3), [4], history=1, batch=1, neurons=3)
    with pytest.raises(BackendError, match="neuron ids"):
        spikes_from_lists([0, 3, 0], [2], history=1, batch=1, neurons=3)


# -- reset rules ------------------------------------------------------------------------------
def network(delay=3):
    """Signed input spikes through a delayed connection into a recurrent LIF layer."""
    net = Network()
    with net:
        inp = Population(BinarySpikeInput(signed_spikes=True, input_frames=T), N_IN,
                         name="input")
        hid = Population(LeakyIntegrateFire(v_thresh=0.5, tau_refrac=2.0), N_HID, name="hidden")
        Connection(inp, hid, Dense(Normal(sd=0.8), delay=delay), name="ih")
        Connection(hid, hid, FixedProbability(0.4, Normal(sd=0.4)), name="rec")
        out = Population(LeakyIntegrate(tau_mem=10.0, readout="sum_var"), N_OUT, name="out")
        Connection(hid, out, Dense(Normal(sd=0.5)), name="ho")
    return net, inp, out


def compile_eprop(backend, net):
    return EPropCompiler(example_timesteps=T, losses="sparse_categorical_crossentropy",
                         batch_size=2, precision="double", backend=backend, rng_seed=5,
                         gradient_mode="online").compile(net)


@pytest.fixture(scope="module")
def graph():
    net, _, _ = network()
    return compile_eprop("reference", net).ir


def test_first_reset_initialises_everything(graph):
    first = reset_entries(graph, vars=False, in_syn=False, readouts=False, initialised=False)
    full = reset_entries(graph, vars=True, in_syn=True, readouts=True, initialised=False)
    assert first == full
    names = {(e.owner, e.variable) for e in first}
    for v in state_variables(graph):
        assert (v.owner, v.name) in names
    for nid, _ in graph.populations():
        assert ResetEntry(nid, SPIKES, 0) in first
    for u, v, k, _ in graph.synapses():
        assert ResetEntry(edge_id(u, v, k), IN_SYN, 0) in first
    assert not any(e.variable == DENDRITIC for e in first)  # no per-synapse delays here


def test_parameters_are_never_reset_once_initialised(graph):
    params = {(nid, v.name) for nid, p in graph.populations() for v in p.vars
              if v.role == "param"}
    readouts = {(nid, v.name) for nid, p in graph.populations() for v in p.vars
                if v.role == "readout"}
    assert params and readouts
    later = reset_entries(graph, vars=True, in_syn=False, readouts=True, initialised=True)
    assert not params & {(e.owner, e.variable) for e in later}
    assert not any(e.variable == IN_SYN for e in later)
    only = reset_entries(graph, vars=False, in_syn=False, readouts=True, initialised=True)
    assert {(e.owner, e.variable) for e in only} == readouts
    assert all(e.value == INITIAL for e in only)
    assert reset_entries(graph, vars=False, in_syn=False, readouts=False, initialised=True) == []
    in_syn = reset_entries(graph, vars=False, in_syn=True, readouts=False, initialised=True)
    assert {e.variable for e in in_syn} == {IN_SYN}


def test_trace_entries_are_the_online_traces_but_not_the_gradients(graph):
    entries = trace_entries(graph)
    assert entries
    for _, _, _, syn in graph.synapses():
        lr = syn.learning
        if lr is not None:
            names = {e.variable for e in entries}
            assert lr.gradient not in names and lr.pre_trace in names


# -- export, rebuild, import ------------------------------------------------------------------
def _backend(name):
    ok, why = available_backends()[name]
    if not ok:
        pytest.skip(f"backend {name!r} unavailable: {why}")
    return name


@pytest.mark.parametrize("source, target", [("reference", "reference"), ("c", "c"),
                                            ("reference", "c"), ("c", "reference"),
                                            ("c", "opencl"), ("opencl", "reference")])
def test_rebuilt_simulation_continues_identically(source, target):
    """Half an example, export, build a fresh simulation (as when a callback adds a
    recorder), import, and run the rest: every variable and weight equals those of the
    simulation that ran the whole example."""
    source, target = _backend(source), _backend(target)
    rng = np.random.default_rng(4)
    x = rng.choice([-1.0, 0.0, 0.0, 1.0], size=(2, T, N_IN)).astype(np.float32)
    y = rng.integers(0, N_OUT, 2)
    net, inp, _ = network()
    compiled = compile_eprop(source, net)
    sim = compiled.simulation
    compiled.set_input({inp: x})
    sim.learning_enabled = True
    sim.set_labels("loss.out", y, np.ones(len(y), bool))
    sim.begin_batch(T)
    sim.run(T // 2)
    state = sim.export_state()
    assert isinstance(state, SimulationState)
    spikes = state.spikes["pop.input"]
    assert spikes.dtype == np.int8 and (spikes == -1).any() and (spikes == 1).any()
    assert spikes.shape[0] > 1   # the delayed connection keeps spikes in flight
    twin = get_backend(target).build(compiled.ir, rng_seed=5)
    twin.import_state(state)
    _assert_same_state(twin.export_state(), state)   # the transfer itself is exact
    twin.learning_enabled = True
    twin.begin_batch(T)
    for s in (sim, twin):
        s.set_labels("loss.out", y, np.ones(len(y), bool))   # labels are inputs, not state
        s.run(T - T // 2)
    assert twin.timestep == sim.timestep == T
    # the same backend continues bit for bit; another one within its libm's last bits (exp)
    same = (lambda a, b, err_msg: np.testing.assert_array_equal(a, b, err_msg=err_msg)) \
        if source == target else \
        (lambda a, b, err_msg: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6,
                                                          err_msg=err_msg))
    for v in state_variables(compiled.ir):
        same(twin.get_var(v.owner, v.name), sim.get_var(v.owner, v.name),
             err_msg=f"{v.owner}/{v.name}")
    for *_, syn in compiled.ir.synapses():
        same(twin.get_weights(syn.name), sim.get_weights(syn.name), err_msg=syn.name)


def _assert_same_state(got, want):
    """The state a simulation exports after importing ``want`` equals it: the same variables,
    spikes in flight and inputs, and equal values wherever both hold an entry (the reference
    backend holds optimiser moments only once it has taken a step; kernel backends hold
    zeros from the start)."""
    assert (got.timestep, got.rng_step) == (want.timestep, want.rng_step)
    for field in ("variables", "egps", "weights", "in_syn", "optimiser", "spikes",
                  "connectivity"):
        mine, theirs = getattr(got, field), getattr(want, field)
        if field != "optimiser":
            assert set(mine) == set(theirs), field
        for key in set(mine) & set(theirs):
            np.testing.assert_array_equal(mine[key], theirs[key], err_msg=f"{field} {key}")
