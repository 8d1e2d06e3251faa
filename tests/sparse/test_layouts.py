"""Sparse connectivity: the choose-sparse-layout pass, ragged storage on the kernel backends,
identical results whatever the layout, and e-prop on ragged connections."""

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.backends import available_backends
from irsnn.callbacks import SpikeRecorder
from irsnn.compilers import EPropCompiler, InferenceCompiler
from irsnn.connectivity import Dense, FixedProbability
from irsnn.errors import ModelError
from irsnn.initializers import Normal
from irsnn.neurons import AdaptiveLeakyIntegrateFire, LeakyIntegrate, SpikeInput

from ..models import random_spikes

KERNEL_BACKENDS = [b for b in ("c", "opencl") if available_backends()[b][0]]


def network(layout=None, p_in=0.1, p_rec=0.2):
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=5000), 40, name="in")
        hid = Population(AdaptiveLeakyIntegrateFire(v_thresh=0.5, tau_refrac=3.0), 30,
                         name="hid")
        out = Population(LeakyIntegrate(readout="sum_var"), 4, name="out")
        Connection(inp, hid, FixedProbability(p_in, Normal(sd=1.0), layout=layout), name="ih")
        Connection(hid, hid, FixedProbability(p_rec, Normal(sd=0.3), layout=layout),
                   name="hh")
        Connection(hid, out, Dense(Normal(sd=0.4)), name="ho")
    return net, inp, hid, out


def test_pass_picks_ragged_for_sparse_connections_and_respects_overrides():
    layouts = {}
    for layout in (None, "dense", "sparse"):
        net, *_ = network(layout, p_in=0.1, p_rec=0.5)
        g = InferenceCompiler(evaluate_timesteps=5).build_ir(net)
        layouts[layout] = {s.name: s.layout for *_, s in g.synapses()}
    assert layouts[None] == {"ih": "ragged", "hh": "dense", "ho": "dense"}
    assert layouts["dense"] == {"ih": "dense", "hh": "dense", "ho": "dense"}
    assert layouts["sparse"] == {"ih": "ragged", "hh": "ragged", "ho": "dense"}
    with pytest.raises(ModelError, match="layout='csr' is not a layout"):
        FixedProbability(0.1, 1.0, layout="csr")


def test_dump_shows_the_layout():
    from irsnn.ir import to_text
    net, *_ = network()
    text = to_text(InferenceCompiler(evaluate_timesteps=5).build_ir(net))
    assert "edge syn.in->hid = Synapses fixed_probability/ragged 40x30" in text


@pytest.mark.parametrize("backend", KERNEL_BACKENDS)
def test_ragged_and_dense_storage_give_identical_results(backend):
    x = random_spikes(4, 40, 30, rate=0.2, seed=5)
    results = {}
    for name, layout, be in (("reference", None, "reference"), ("dense", "dense", backend),
                             ("ragged", "sparse", backend)):
        net, inp, hid, out = network(layout)
        c = InferenceCompiler(evaluate_timesteps=30, batch_size=2, backend=be).compile(net)
        y, cb = c.predict({inp: x}, out, callbacks=[SpikeRecorder(hid, key="h")])
        results[name] = (y[out], cb["h"])
        if name == "ragged":
            assert {s.name: s.layout for *_, s in c.ir.synapses()}["hh"] == "ragged"
            np.testing.assert_array_equal(
                c.simulation.get_weights("hh"),
                InferenceCompiler(evaluate_timesteps=30, batch_size=2, backend="reference")
                .compile(network(None)[0]).simulation.get_weights("hh"))
    for name in ("dense", "ragged"):
        np.testing.assert_array_equal(results[name][0], results["reference"][0])
        for a, b in zip(results[name][1][1], results["reference"][1][1]):
            np.testing.assert_array_equal(a, b)
    assert sum(len(i) for i in results["reference"][1][1]) > 0


@pytest.mark.parametrize("backend", KERNEL_BACKENDS)
def test_sparse_eprop_gradients_equal_masked_dense_gradients(backend):
    x = random_spikes(3, 40, 25, rate=0.2, seed=2)
    y = np.array([0, 3, 1])
    grads, masks = {}, {}
    for layout in ("dense", "sparse"):
        net, inp, hid, out = network(layout)
        c = EPropCompiler(example_timesteps=25, losses="sparse_categorical_crossentropy",
                          batch_size=3, backend=backend).compile(net)
        grads[layout] = c.compute_gradients({inp: x}, {out: y})
        masks[layout] = c.simulation.get_weights("ih") != 0
    np.testing.assert_array_equal(masks["dense"], masks["sparse"])
    for conn in ("ih", "hh", "ho", "out.bias"):
        np.testing.assert_array_equal(grads["sparse"][conn], grads["dense"][conn], err_msg=conn)
    # gradients exist only where synapses do
    assert np.all(grads["sparse"]["ih"][~masks["sparse"]] == 0)
    assert np.abs(grads["sparse"]["ih"][masks["sparse"]]).max() > 0


@pytest.mark.parametrize("backend", KERNEL_BACKENDS)
def test_training_keeps_ragged_connectivity(backend, tmp_path):
    from irsnn.serialisers import Numpy
    x = random_spikes(6, 40, 20, rate=0.2, seed=9)
    y = np.array([0, 1, 2, 3, 0, 1])
    net, inp, hid, out = network("sparse")
    c = EPropCompiler(example_timesteps=20, losses="sparse_categorical_crossentropy",
                      batch_size=3, backend=backend).compile(net)
    before = c.simulation.get_weights("ih") != 0
    c.train({inp: x}, {out: y}, num_epochs=2, callbacks=[])
    after = c.simulation.get_weights("ih")
    assert np.all(after[~before] == 0) and not np.array_equal(after != 0, np.zeros_like(before))
    c.save_connectivity(("c",), Numpy(tmp_path))
    pre = np.load(tmp_path / "c-ih-pre_ind.npy")
    post = np.load(tmp_path / "c-ih-post_ind.npy")
    np.testing.assert_array_equal(np.sort(pre * 30 + post), np.flatnonzero(before))


@pytest.mark.parametrize("backend", ["reference"] + KERNEL_BACKENDS)
def test_set_weights_cannot_add_synapses_to_a_ragged_connection(backend):
    """Every backend refuses the same way (the reference stores ragged connections densely and
    would otherwise quietly create synapses the kernel backends drop)."""
    from irsnn.errors import InputError
    net, inp, hid, out = network("sparse")
    c = InferenceCompiler(evaluate_timesteps=10, backend=backend).compile(net)
    sim = c.simulation
    w = sim.get_weights("hh")
    mask = w != 0  # Normal weights: every existing synapse is non-zero
    sim.set_weights("hh", 2 * w)  # existing synapses may change
    np.testing.assert_array_equal(sim.get_weights("hh"), (2 * w).astype(w.dtype))
    stray = w.copy()
    i, j = np.argwhere(~mask)[0]
    stray[i, j] = 0.5
    with pytest.raises(InputError, match=r"Connection 'hh' uses the sparse \(ragged\) layout, "
                                         r"which cannot add synapses.*1 weights"):
        sim.set_weights("hh", stray)


def test_reference_trains_a_ragged_connection_with_a_constant_initial_weight():
    """A constant initial weight is one number only for bitmask storage: a ragged connection
    that starts at 0 (as the digits test's recurrent one) takes per-synapse weights."""
    net, inp, hid, out = network("sparse")
    for conn in net.connections:
        if conn.name == "hh":
            conn.connectivity.weight = 0.0
    c = EPropCompiler(example_timesteps=20, losses="sparse_categorical_crossentropy",
                      batch_size=2, backend="reference").compile(net)
    x = random_spikes(2, 40, 20, rate=0.3, seed=1)
    with c:
        c.train({inp: x}, {out: np.array([0, 1])}, num_epochs=2, callbacks=[])
        w = c.simulation.get_weights("hh")
    assert np.unique(w[w != 0]).size > 1
