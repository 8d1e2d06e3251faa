"""OneToOne as sparse connectivity: its own ``one_to_one`` layout for inference, ragged with
one synapse per row for e-prop, which then trains it like any sparse connection."""

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.compilers import EPropCompiler, InferenceCompiler
from irsnn.connectivity import Dense, OneToOne
from irsnn.initializers import Normal
from irsnn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from irsnn.serialisers import Numpy

from ..models import random_spikes

DIAG = np.array([0.5, -0.25, 0.75, 1.0, 0.375, -0.5, 0.625, 0.25])


def network(one_to_one=True):
    """in (8) -> hid (8 LIF, OneToOne or the same weights as a Dense diagonal) -> out (3)."""
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=4000), 8, name="in")
        hid = Population(LeakyIntegrateFire(v_thresh=0.5, tau_refrac=2.0), 8, name="hid")
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"), 3, name="out")
        conn = OneToOne(DIAG) if one_to_one else Dense(np.diag(DIAG))
        Connection(inp, hid, conn, name="ih")
        Connection(hid, out, Dense(Normal(sd=0.5)), name="ho")
    return net, inp, out


def eprop(backend, net, **kw):
    return EPropCompiler(example_timesteps=25, losses="sparse_categorical_crossentropy",
                         batch_size=3, backend=backend, **kw).compile(net)


def test_layout_is_one_to_one_for_inference_and_ragged_for_eprop():
    net, *_ = network()
    ir = InferenceCompiler(evaluate_timesteps=5).build_ir(net)
    assert {s.name: s.layout for *_, s in ir.synapses()}["ih"] == "one_to_one"
    c = eprop("reference", network()[0])
    syn = {s.name: s for *_, s in c.ir.synapses()}["ih"]
    assert (syn.connectivity, syn.layout) == ("one_to_one", "ragged")
    assert syn.learning is not None and syn.learning.kind in ("eprop-lif", "eprop-event")


@pytest.mark.parametrize("backend", ["reference", "c"])
def test_one_to_one_gradients_equal_dense_diagonal_gradients(backend):
    """OneToOne trains exactly like a Dense connection with the same (diagonal) weights,
    restricted to the synapses that exist."""
    x = random_spikes(3, 8, 25, rate=0.25, seed=4)
    y = np.array([0, 2, 1])
    net1, i1, o1 = network(True)
    net2, i2, o2 = network(False)
    g_sparse = eprop(backend, net1, rng_seed=2).compute_gradients({i1: x}, {o1: y})
    g_dense = eprop(backend, net2, rng_seed=2).compute_gradients({i2: x}, {o2: y})
    diag = np.eye(8, dtype=bool)
    np.testing.assert_array_equal(g_sparse["ih"], np.where(diag, g_dense["ih"], 0.0))
    for k in ("ho", "out.bias"):
        np.testing.assert_array_equal(g_sparse[k], g_dense[k], err_msg=k)
    assert np.count_nonzero(g_sparse["ih"]) > 2


def test_trained_one_to_one_identical_on_c_and_reference_and_saves_per_neuron(tmp_path):
    x = random_spikes(6, 8, 25, rate=0.25, seed=5)
    y = np.array([0, 1, 2, 2, 1, 0])
    weights = {}
    for backend in ("reference", "c"):
        net, inp, out = network()
        c = eprop(backend, net)
        c.train({inp: x}, {out: y}, num_epochs=2, shuffle=False, callbacks=[])
        w = c.simulation.get_weights("ih")
        assert np.all(w[~np.eye(8, dtype=bool)] == 0)          # still one-to-one
        assert not np.array_equal(np.diagonal(w), DIAG)        # but trained
        weights[backend] = w
        c.save(("e",), Numpy(tmp_path / backend))
    np.testing.assert_allclose(weights["c"], weights["reference"], rtol=1e-5, atol=1e-6)
    # saved as one weight per neuron, as OneToOne takes it back
    saved = np.load(tmp_path / "c" / "e-ih-g.npy")
    np.testing.assert_array_equal(saved, np.diagonal(weights["c"]))
    net, inp, out = network()
    net.load(("e",), Numpy(tmp_path / "c"))
    ic = InferenceCompiler(evaluate_timesteps=25, backend="c").compile(net)
    np.testing.assert_array_equal(ic.simulation.get_weights("ih"), saved)
