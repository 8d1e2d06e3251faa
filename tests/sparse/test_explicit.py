"""Connectivity listed synapse by synapse (``Sparse``, or ``pre_ind``/``post_ind`` on a
``FixedProbability`` as in mlGeNN): storage, values, errors, and the save/load round trip."""

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.backends import available_backends
from irsnn.compilers import EPropCompiler, InferenceCompiler
from irsnn.connectivity import Dense, FixedProbability, Sparse
from irsnn.errors import ModelError, ShapeError
from irsnn.initializers import Normal
from irsnn.ir import to_text
from irsnn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from irsnn.serialisers import Numpy

from ..models import random_spikes

KERNEL_BACKENDS = [b for b in ("c", "opencl") if available_backends()[b][0]]
PRE = [0, 1, 2, 3, 9, 9, 4]
POST = [0, 0, 1, 4, 4, 2, 3]
W = [-0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0]   # the synapse (2, 1) exists with weight 0


def listed_network(connectivity):
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=1000), 10, name="in")
        out = Population(LeakyIntegrate(readout="var"), 5, name="out")
        Connection(inp, out, connectivity, name="c")
    return net, inp, out


def compile_(connectivity, backend="reference", **kw):
    net, inp, out = listed_network(connectivity)
    c = InferenceCompiler(evaluate_timesteps=20, backend=backend, **kw).compile(net)
    return c, inp, out


def expected_matrix():
    w = np.zeros((10, 5), np.float32)
    w[PRE, POST] = W
    return w


def test_listed_synapses_are_stored_ragged_unless_dense_is_asked_for():
    for layout, want in ((None, "ragged"), ("sparse", "ragged"), ("dense", "dense")):
        c, *_ = compile_(Sparse(PRE, POST, W, layout=layout))
        (syn,) = [s for *_, s in c.ir.synapses()]
        assert (syn.connectivity, syn.layout) == ("sparse", want)
        np.testing.assert_array_equal(c.simulation.get_weights("c"), expected_matrix())
    text = to_text(c.ir)
    assert "Synapses sparse/dense 10x5 w=array[syn.in->out/g]" in text
    from irsnn.ir import from_json, to_json
    assert from_json(to_json(c.ir), dict(c.ir.arrays)) == c.ir
    assert "pre_ind=array[syn.in->out/pre_ind] post_ind=array[syn.in->out/post_ind]" in text
    assert "array syn.in->out/pre_ind : int32[7]" in text


def test_weight_forms_per_synapse_full_matrix_and_mlgenn_style_fixed_probability():
    # one value per synapse, a full matrix read at the pairs, and mlGeNN's way of listing
    # synapses on a FixedProbability (p is then irrelevant) all give the same synapses
    full = np.full((10, 5), 7.0)
    full[PRE, POST] = W
    fp = FixedProbability(0.9, 1.0)
    fp.pre_ind, fp.post_ind, fp.weight = PRE, POST, np.asarray(W)
    for conn in (Sparse(PRE, POST, W), Sparse(PRE, POST, full), fp):
        c, *_ = compile_(conn)
        np.testing.assert_array_equal(c.simulation.get_weights("c"), expected_matrix())
    c, *_ = compile_(Sparse(PRE, POST, 0.5))
    mask = np.zeros((10, 5), bool)
    mask[PRE, POST] = True
    np.testing.assert_array_equal(c.simulation.get_weights("c"), np.where(mask, 0.5, 0.0))


def test_initializer_values_belong_to_pairs_not_to_list_positions():
    """A listed copy of a FixedProbability's drawn synapses, in shuffled order, with the same
    initializer, gets exactly the FixedProbability's weights."""
    drawn, *_ = compile_(FixedProbability(0.3, Normal(sd=1.0)), rng_seed=4)
    w = drawn.simulation.get_weights("c")
    pre, post = np.nonzero(w)
    order = np.random.default_rng(0).permutation(len(pre))
    listed, *_ = compile_(Sparse(pre[order], post[order], Normal(sd=1.0)), rng_seed=4)
    np.testing.assert_array_equal(listed.simulation.get_weights("c"), w)


@pytest.mark.parametrize("backend", KERNEL_BACKENDS)
def test_listed_synapses_identical_on_every_backend_and_layout(backend):
    x = random_spikes(3, 10, 20, rate=0.3, seed=1)
    preds = {}
    for be, layout in (("reference", None), (backend, None), (backend, "dense")):
        c, inp, out = compile_(Sparse(PRE, POST, W, delay=2, layout=layout), backend=be,
                               batch_size=2)
        preds[(be, layout)] = c.predict({inp: x}, out, callbacks=[])[0][out]
    for k, v in preds.items():
        np.testing.assert_array_equal(v, preds[("reference", None)], err_msg=str(k))
    assert np.abs(preds[("reference", None)]).max() > 0


# -- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("pre,post,weight,error,match", [
    ([0, 1], [0], 1.0, ModelError, r"pre_ind has 2 entries but post_ind has 1"),
    ([0, 10], [0, 1], 1.0, ModelError,
     r"Connection 'c'.*pre_ind\[1\] = 10 is out of range: the source population has 10 "
     r"neurons \(valid indices 0..9\)"),
    ([0, 1], [0, 5], 1.0, ModelError,
     r"Connection 'c'.*post_ind\[1\] = 5 is out of range: the target population has 5 "
     r"neurons \(valid indices 0..4\)"),
    ([0, 3, 0, 3], [1, 2, 1, 2], 1.0, ModelError,
     r"Connection 'c'.*synapse \(pre=0, post=1\) is listed twice \(positions 0 and 2\); 2 "
     r"duplicate pairs"),
    ([0, -1], [0, 1], 1.0, ModelError, r"pre_ind\[1\] = -1 is negative"),
    ([0, 1.5], [0, 1], 1.0, ModelError, r"pre_ind\[1\] = 1.5 is not a whole number"),
    ([[0, 1]], [[0, 1]], 1.0, ModelError, r"pre_ind must be 1-D.*shape \(1, 2\)"),
    ([0, 1], [0, 1], [1.0, 2.0, 3.0], ShapeError,
     r"Connection 'c'.*weight array has shape \(3,\) but the connection lists 2 synapses; "
     r"give one value per synapse \(2,\).*or a full \(10, 5\) matrix"),
])
def test_bad_index_lists(pre, post, weight, error, match):
    with pytest.raises(error, match=match):
        compile_(Sparse(pre, post, weight))


def test_only_one_index_list_set_on_fixed_probability():
    fp = FixedProbability(0.5, 1.0)
    fp.pre_ind = [0, 1]
    with pytest.raises(ModelError, match=r"Connection 'c'.*pre_ind is set but post_ind is not; "
                                         r"give both"):
        compile_(fp)


def test_bad_layout_and_missing_lists():
    with pytest.raises(ModelError, match=r"Sparse: layout='bitmask'"):
        Sparse([0], [0], 1.0, layout="bitmask")
    with pytest.raises(ModelError, match=r"Sparse: pre_ind and post_ind are required"):
        Sparse(None, [0], 1.0)


# -- save / load ----------------------------------------------------------------------------------
def trainable_network(seed_p):
    """Input -> hidden (FixedProbability) -> hidden (listed) -> output. Input neuron 0 never
    spikes, so its listed synapses keep their initial weight of exactly 0 through training."""
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=4000), 12, name="in")
        hid = Population(LeakyIntegrateFire(v_thresh=0.5, tau_refrac=2.0), 10, name="hid")
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"), 3, name="out")
        Connection(inp, hid, FixedProbability(seed_p, Normal(sd=0.8), layout="sparse"),
                   name="ih")
        pre = [0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
        post = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
        w = np.where(np.asarray(pre) == 0, 0.0, 0.3)
        Connection(inp, hid, Sparse(pre, post, w), name="ih2")
        Connection(hid, out, Dense(Normal(sd=0.5)), name="ho")
    return net, inp, out


def spikes_without_neuron_0(n, timesteps, rate, seed):
    from irsnn.utils.data import preprocess_spikes
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        t, i = np.nonzero(rng.random((timesteps, 12)) < rate)
        keep = i != 0
        out.append(preprocess_spikes(t[keep].astype(float), i[keep], 12))
    return out


@pytest.mark.parametrize("backend", KERNEL_BACKENDS[:1])
def test_trained_sparse_connectivity_round_trips_through_save_and_load(backend, tmp_path):
    x = spikes_without_neuron_0(6, 20, rate=0.2, seed=3)
    y = np.array([0, 1, 2, 0, 1, 2])
    net, inp, out = trainable_network(0.3)
    trained = EPropCompiler(example_timesteps=20, losses="sparse_categorical_crossentropy",
                            batch_size=3, backend=backend).compile(net)
    trained.train({inp: x}, {out: y}, num_epochs=2, callbacks=[])
    ser = Numpy(tmp_path)
    trained.save(("ckpt",), ser)
    trained.save_connectivity(("ckpt",), ser)
    expected = trained.predict({inp: x}, out, callbacks=[])[0][out]
    masks = {name: trained.simulation.get_weights(name) != 0 for name in ("ih", "ih2")}
    # the listed synapses from the silent neuron exist with weight exactly 0
    assert np.all(trained.simulation.get_weights("ih2")[0, :3] == 0)

    for be in ("reference", backend):
        # a fresh network with a different probability and seed: the connectivity must come
        # from the checkpoint, not from a new draw
        fresh, finp, fout = trainable_network(0.9)
        loaded = fresh.load(("ckpt",), ser)
        assert loaded["ih"] == ["g", "post_ind", "pre_ind"]
        assert loaded["ho"] == ["g"]
        c = InferenceCompiler(evaluate_timesteps=20, batch_size=3, backend=be,
                              rng_seed=7).compile(fresh)
        layouts = {s.name: (s.connectivity, s.layout) for *_, s in c.ir.synapses()}
        assert layouts["ih"] == layouts["ih2"] == ("sparse", "ragged")
        got = c.predict({finp: x}, fout, callbacks=[])[0][fout]
        np.testing.assert_array_equal(got, expected, err_msg=be)
        for name in ("ih", "ih2"):
            np.testing.assert_array_equal(c.simulation.get_weights(name),
                                          trained.simulation.get_weights(name))
        # zero-weight synapses survive the round trip (a weights-only load would drop them)
        syn = next(s for *_, s in c.ir.synapses() if s.name == "ih2")
        assert c.ir.array(syn.pre_ind).size == 12
        assert np.array_equal(c.simulation.get_weights("ih") != 0, masks["ih"])


def test_load_with_only_one_index_list_is_an_error(tmp_path):
    ser = Numpy(tmp_path)
    ser.serialise(("k", "c", "pre_ind"), np.array([0, 1]))
    ser.serialise(("k", "c", "g"), np.array([0.5, 1.0]))
    net, *_ = listed_network(FixedProbability(0.5, 1.0))
    with pytest.raises(FileNotFoundError, match=r"Connection 'c'.*has pre_ind but not "
                                                r"post_ind \(looked for .*k-c-post_ind\.npy"):
        net.load(("k",), ser)


def test_parallel_connections_keep_their_own_arrays_and_streams():
    """Two connections between the same populations are edges syn and syn2, each with its
    own side-table arrays (a regression: both used to write ``syn.in->out/g``)."""
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=10), 3, name="in")
        out = Population(LeakyIntegrate(readout="var"), 2, name="out")
        Connection(inp, out, Sparse([0, 1], [1, 0], [0.5, 0.25]), name="a")
        Connection(inp, out, Dense(np.full((3, 2), 2.0)), name="b")
        Connection(inp, out, FixedProbability(1.0, Normal()), name="c")
        Connection(inp, out, FixedProbability(1.0, Normal()), name="d")
    c = InferenceCompiler(evaluate_timesteps=2, backend="reference").compile(net)
    ids = sorted(f"{k}" for _, _, k, _ in c.ir.synapses())
    assert ids == ["syn", "syn2", "syn3", "syn4"]
    sim = c.simulation
    np.testing.assert_array_equal(sim.get_weights("a"), [[0, 0.5], [0.25, 0], [0, 0]])
    np.testing.assert_array_equal(sim.get_weights("b"), np.full((3, 2), 2.0))
    assert not np.array_equal(sim.get_weights("c"), sim.get_weights("d"))
