"""Deep-R rewiring (``EPropCompiler(deep_r_conns=..., deep_r_l1_strength=...,
deep_r_record_rewirings=...)``): fixed synapse count, fixed signs, L1 towards zero, identical
results on every backend, the rewiring primitive, checkpoints, the IR, and bad inputs."""

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.backends import available_backends
from irsnn.callbacks import Callback, SpikeRecorder
from irsnn.compilers import EPropCompiler, InferenceCompiler
from irsnn.connectivity import Dense, FixedProbability, OneToOne, Sparse
from irsnn.errors import ModelError
from irsnn.initializers import Normal
from irsnn.ir import to_text
from irsnn.neurons import AdaptiveLeakyIntegrateFire, LeakyIntegrate, SpikeInput
from irsnn.optimisers import Adam
from irsnn.serialisers import Numpy

from ..models import random_spikes

KERNEL_BACKENDS = [b for b in ("c", "opencl") if available_backends()[b][0]]
EDGES = {"ih": "syn.in->hid", "hh": "rec.hid->hid", "ho": "syn.hid->out"}


def network(p=0.25):
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=4000), 16, name="in")
        hid = Population(AdaptiveLeakyIntegrateFire(v_thresh=0.5, tau_refrac=2.0, beta=0.1),
                         12, name="hid")
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"), 3, name="out")
        conns = [Connection(inp, hid, FixedProbability(p, Normal(sd=0.6), layout="sparse"),
                            name="ih"),
                 Connection(hid, hid, FixedProbability(p, Normal(sd=0.2), layout="sparse"),
                            name="hh"),
                 Connection(hid, out, FixedProbability(0.5, Normal(sd=0.4), layout="sparse"),
                            name="ho")]
    return net, inp, out, conns


def compile_(backend, net, conns, alpha=0.05, l1=0.01, records=True, **kw):
    return EPropCompiler(
        example_timesteps=20, losses="sparse_categorical_crossentropy", batch_size=4,
        optimiser=Adam(alpha=alpha), backend=backend, rng_seed=3, deep_r_conns=conns,
        deep_r_l1_strength=l1,
        deep_r_record_rewirings={c: f"{c.name}_rewired" for c in conns} if records else None,
        **kw).compile(net)


def assert_same_synapses_and_weights(test, ref, rtol):
    """Every connection of two compiled ``network()`` s has the same synapses and weights."""
    for name, e in EDGES.items():
        np.testing.assert_array_equal(test.simulation.synapse_mask(e),
                                      ref.simulation.synapse_mask(e), err_msg=name)
        np.testing.assert_allclose(test.simulation.get_weights(name),
                                   ref.simulation.get_weights(name), rtol=rtol, atol=1e-6,
                                   err_msg=name)


class _Watch(Callback):
    """After every batch: synapse counts and whether every weight agrees with its sign."""

    def __init__(self, compiled):
        self.c = compiled
        self.counts, self.sign_ok = [], []

    def on_batch_end(self, batch, metrics):
        sim = self.c.simulation
        self.counts.append({e: int(sim.synapse_mask(e).sum()) for e in EDGES.values()})
        self.sign_ok.append(all(
            np.all((sim.get_weights(e) * dr.sign)[sim.synapse_mask(e)] >= 0)
            for e, dr in self.c.deep_r.items()))


def train(backend, epochs=3):
    x = random_spikes(16, 16, 20, rate=0.15, seed=7)
    y = np.arange(16) % 3
    net, inp, out, conns = network()
    c = compile_(backend, net, conns)
    before = {e: int(c.simulation.synapse_mask(e).sum()) for e in EDGES.values()}
    watch = _Watch(c)
    _, cb = c.train({inp: x}, {out: y}, num_epochs=epochs, callbacks=[watch])
    return c, before, watch, cb, (inp, out, x, y)


@pytest.mark.parametrize("backend", KERNEL_BACKENDS)
def test_count_constant_signs_kept_and_identical_to_reference(backend):
    ref, before, watch, cb_ref, _ = train("reference")
    assert all(counts == before for counts in watch.counts), "synapse counts changed"
    assert all(watch.sign_ok), "a weight disagrees with its synapse's sign"
    # rewiring happened, recorded once per batch per connection
    assert set(cb_ref) == {"ih_rewired", "hh_rewired", "ho_rewired"}
    assert all(len(v) == 12 for v in cb_ref.values())
    # mlGeNN's format: one (rewirings, failed rewirings) per batch; placement never fails
    assert {failed for v in cb_ref.values() for _, failed in v} == {0}
    rewired = {k: [n for n, _ in v] for k, v in cb_ref.items()}
    assert sum(map(sum, rewired.values())) > 20
    assert min(sum(v) for v in rewired.values()) > 0
    # a rewired synapse moved: the connectivity differs from the initial one
    net0, *_ = network()
    first = InferenceCompiler(evaluate_timesteps=5, rng_seed=3).compile(net0)
    assert not np.array_equal(first.simulation.get_weights("hh") != 0,
                              ref.simulation.synapse_mask(EDGES["hh"]))

    test, _, twatch, cb, _ = train(backend)
    assert cb == cb_ref
    assert_same_synapses_and_weights(test, ref, rtol=1e-5)
    assert twatch.counts == watch.counts


def test_l1_pulls_weights_to_zero_and_sign_flips_are_rewired():
    """With an overwhelming L1 term, Adam's first step moves every weight by alpha towards
    zero: weights smaller than alpha flip sign and are exactly the ones rewired."""
    alpha = 0.05
    x = random_spikes(4, 16, 20, rate=0.15, seed=1)
    y = np.array([0, 1, 2, 0])
    net, inp, out, conns = network()
    c = compile_("reference", net, conns[:1], alpha=alpha, l1=1e4)
    w0 = c.simulation.get_weights("ih")
    mask0 = c.simulation.synapse_mask(EDGES["ih"])
    _, cb = c.train({inp: x}, {out: y}, num_epochs=1, shuffle=False, callbacks=[])
    w1 = c.simulation.get_weights("ih")
    mask1 = c.simulation.synapse_mask(EDGES["ih"])
    flipped = mask0 & (np.abs(w0) < alpha * 0.999)
    kept = mask0 & (np.abs(w0) > alpha * 1.001)
    assert flipped.sum() > 0 and kept.sum() > 0
    assert cb["ih_rewired"] == [(int(flipped.sum()), 0)]   # mlGeNN's (rewired, failed)
    np.testing.assert_allclose(np.abs(w1[kept]), np.abs(w0[kept]) - alpha, rtol=1e-4)
    assert np.all(np.sign(w1[kept]) == np.sign(w0[kept]))
    # the flipped synapses are gone unless re-drawn (then with weight 0); new ones have 0
    assert np.all(w1[flipped & mask1] == 0)
    assert np.all(w1[mask1 & ~mask0] == 0)
    assert mask1.sum() == mask0.sum()


@pytest.mark.parametrize("backend", ["reference"] + KERNEL_BACKENDS[:1])
def test_rewire_moves_state_with_synapses_and_zeroes_new_ones(backend):
    """The backend primitive: kept synapses keep weight, traces and optimiser state; new
    ones start at 0; rows stay sorted (online e-prop: per-synapse traces to move)."""
    net, inp, out, conns = network()
    c = compile_(backend, net, conns, records=False, gradient_mode="online")
    sim = c.simulation
    e = EDGES["hh"]
    mask = sim.synapse_mask(e)
    rng = np.random.default_rng(0)
    w = np.where(mask, rng.normal(size=mask.shape), 0).astype(np.float32)
    sim.set_weights(e, w)
    ebar = np.where(mask, rng.normal(size=(4,) + mask.shape), 0).astype(np.float32)
    sim.set_var(e, "EBar", ebar)
    carry = sim.to_parameter_layout(e, np.where(mask, 1.0 + np.arange(mask.size).reshape(
        mask.shape), 0.0))
    existing = np.argwhere(mask)
    absent = np.argwhere(~mask & ~np.eye(12, dtype=bool))
    remove = existing[[0, 3, 5]]
    add = absent[[1, 2, 7]]
    (moved,) = sim.rewire(e, tuple(remove.T), tuple(add.T), [carry])
    new_mask = sim.synapse_mask(e)
    assert new_mask.sum() == mask.sum()
    assert not new_mask[tuple(remove.T)].any() and new_mask[tuple(add.T)].all()
    kept = mask & new_mask
    np.testing.assert_array_equal(sim.get_weights(e)[kept], w[kept])
    assert np.all(sim.get_weights(e)[tuple(add.T)] == 0)
    got = sim.get_var(e, "EBar")
    np.testing.assert_array_equal(got[:, kept], ebar[:, kept])
    assert np.all(got[:, add[:, 0], add[:, 1]] == 0)
    if backend == "reference":
        dense = moved
    else:
        rows = sim.connectivity[e]
        dense = rows.to_dense(moved.reshape(12, -1))
        row_length, ind = rows.row_length, rows.ind
        for i in range(12):
            assert np.all(np.diff(ind[i, :row_length[i]]) > 0)
    np.testing.assert_array_equal(dense[kept], (1.0 + np.arange(mask.size).reshape(
        mask.shape))[kept])
    assert np.all(dense[~kept] == 0)


def test_rewired_connectivity_survives_rebuilds_checkpoints_and_load(tmp_path):
    c, _, _, _, (inp, out, x, y) = train("c", epochs=2)
    masks = {e: c.simulation.synapse_mask(e).copy() for e in EDGES.values()}
    weights = {n: c.simulation.get_weights(n) for n in EDGES}
    # a recorder forces a new build of the simulation: the rewired state must come along
    c.evaluate({inp: x}, {out: y}, callbacks=[SpikeRecorder(inp, key="s")])
    for n, e in EDGES.items():
        np.testing.assert_array_equal(c.simulation.synapse_mask(e), masks[e], err_msg=n)
        np.testing.assert_array_equal(c.simulation.get_weights(n), weights[n], err_msg=n)
    # save() writes the rewired connectivity of Deep-R connections with the weights
    c.save(("ck",), Numpy(tmp_path))
    assert (tmp_path / "ck-hh-pre_ind.npy").exists()
    expected = c.predict({inp: x}, out, callbacks=[])[0][out]
    for backend in ("reference", "c"):
        fresh, finp, fout, _ = network(p=0.6)
        fresh.load(("ck",), Numpy(tmp_path))
        ic = InferenceCompiler(evaluate_timesteps=20, batch_size=4, backend=backend,
                               rng_seed=11).compile(fresh)
        for n, e in EDGES.items():
            np.testing.assert_array_equal(ic.simulation.synapse_mask(e), masks[e],
                                          err_msg=n)
        np.testing.assert_array_equal(ic.predict({finp: x}, fout, callbacks=[])[0][fout],
                                      expected, err_msg=backend)


def test_ir_shows_deep_r_and_cli_dump(tmp_path, capsys):
    net, inp, out, conns = network()
    c = compile_("reference", net, conns[1:2], l1=0.5)
    text = to_text(c.ir)
    hh = next(line for line in text.splitlines() if "edge rec.hid->hid" in line)
    assert "fixed_probability/ragged" in hh and "rewiring=deep-r(l1=0.5, rows=2.0x longest)" \
        in hh
    assert "rewiring" not in next(line for line in text.splitlines()
                                  if "edge syn.in->hid" in line)
    # the annotation and listed index arrays survive the JSON round trip
    from irsnn.ir import load, save
    save(c.ir, tmp_path / "ir.json")
    assert load(tmp_path / "ir.json") == c.ir
    # the capacity is allocated: twice the longest initial row (at most 11 allowed targets)
    longest = int((InferenceCompiler(evaluate_timesteps=5, rng_seed=3).compile(network()[0])
                   .simulation.get_weights("hh") != 0).sum(axis=1).max())
    assert c.simulation.row_capacity(EDGES["hh"]) == min(11, 2 * longest)
    model = tmp_path / "model.py"
    model.write_text(
        "from irsnn import Connection, Network, Population\n"
        "from irsnn.connectivity import Dense, FixedProbability\n"
        "from irsnn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput\n"
        "def build():\n"
        "    net = Network()\n"
        "    with net:\n"
        "        i = Population(SpikeInput(max_spikes=10), 8, name='in')\n"
        "        h = Population(LeakyIntegrateFire(), 8, name='hid')\n"
        "        o = Population(LeakyIntegrate(readout='sum_var'), 2, name='out')\n"
        "        Connection(i, h, Dense(0.1), name='ih')\n"
        "        Connection(h, h, FixedProbability(0.2, 0.1, layout='sparse'), name='hh')\n"
        "        Connection(h, o, Dense(0.1), name='ho')\n"
        "    return net\n")
    from irsnn.cli import main
    assert main(["dump", f"{model}:build", "--compiler", "eprop", "--deep-r", "hh",
                 "--print-after", "insert-deep-r"]) == 0
    out_text = capsys.readouterr().out
    assert "// ----- IR after insert-deep-r -----" in out_text
    assert "rewiring=deep-r(l1=0.01, rows=2.0x longest)" in out_text
    assert main(["dump", f"{model}:build", "--compiler", "eprop", "--deep-r", "nope"]) == 2
    assert "--deep-r names ['nope'], which are not connections of the network (connections: " \
           "['hh', 'ho', 'ih'])" in capsys.readouterr().err
    assert main(["dump", f"{model}:build", "--deep-r", "hh"]) == 2
    assert "add --compiler eprop" in capsys.readouterr().err


# -- bad inputs -----------------------------------------------------------------------------------
def _simple(connectivity):
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=10), 4, name="in")
        hid = Population(AdaptiveLeakyIntegrateFire(), 4, name="hid")
        out = Population(LeakyIntegrate(readout="sum_var"), 2, name="out")
        c = Connection(inp, hid, connectivity, name="ih")
        Connection(hid, out, Dense(0.1), name="ho")
    return net, c


def _eprop(**kw):
    return EPropCompiler(example_timesteps=5, losses="sparse_categorical_crossentropy",
                         backend="reference", **kw)


@pytest.mark.parametrize("connectivity,match", [
    (Dense(0.1), r"Connection 'ih'.*Deep-R rewires sparse \(ragged\) connections but this "
                 r"dense connection is stored dense; Dense connectivity has every synapse; use "
                 r"FixedProbability"),
    (FixedProbability(0.9, 0.1), r"Connection 'ih'.*fixed_probability connection is stored "
                                 r"dense; FixedProbability with p=0.9 is stored dense unless "
                                 r"it is given layout='sparse'"),
    (Sparse([0, 1], [1, 2], 0.1, layout="dense"), r"Connection 'ih'.*sparse connection is "
                                                  r"stored dense; it was given layout='dense'"),
    (OneToOne(0.1), r"Connection 'ih'.*OneToOne connectivity is fixed and cannot be rewired"),
])
def test_connection_that_cannot_be_rewired(connectivity, match):
    net, conn = _simple(connectivity)
    with pytest.raises(ModelError, match=match):
        _eprop(deep_r_conns=[conn]).compile(net)


def test_bad_deep_r_arguments():
    net, conn = _simple(FixedProbability(0.5, 0.1, layout="sparse"))
    other, stranger = _simple(FixedProbability(0.5, 0.1, layout="sparse"))
    with pytest.raises(ModelError, match=r"deep_r_conns names Connection 'ih'.*not a "
                                         r"connection of the network being compiled"):
        _eprop(deep_r_conns=[stranger]).compile(net)
    with pytest.raises(ModelError, match=r"deep_r_l1_strength=-0.1 must be a number >= 0"):
        _eprop(deep_r_conns=[conn], deep_r_l1_strength=-0.1)
    with pytest.raises(ModelError, match=r"deep_r_conns must be a list of connections \(got "
                                         r"Connection\); write deep_r_conns=\[conn\]"):
        _eprop(deep_r_conns=conn)
    with pytest.raises(ModelError, match=r"deep_r_conns and deep_r_record_rewirings take "
                                         r"Connections.*got str 'ih'"):
        _eprop(deep_r_conns=["ih"])
    ho = next(c for c in net.connections if c.name == "ho")
    with pytest.raises(ModelError, match=r"deep_r_record_rewirings asks for Connection 'ho'"
                                         r".*not in deep_r_conns; add it there"):
        _eprop(deep_r_conns=[conn], deep_r_record_rewirings={ho: "k"})
    with pytest.raises(ModelError, match=r"deep_r_record_rewirings must be a dict"):
        _eprop(deep_r_conns=[conn], deep_r_record_rewirings=[conn])


@pytest.mark.parametrize("backend", KERNEL_BACKENDS)
def test_kernel_backends_refuse_to_rewire_a_dense_connection(backend):
    """The rewiring primitive needs rows with room: a dense-stored connection is a clear
    error naming it (the Deep-R pass already refuses to mark one)."""
    from irsnn.errors import BackendError
    net, inp, out, conns = network()
    conns[2].connectivity.layout = "dense"  # 'ho', not rewired
    c = compile_(backend, net, conns[:2], records=False)
    sim = c.simulation
    with pytest.raises(BackendError, match=r"Connection 'ho' is stored dense; only ragged"):
        sim.rewire(EDGES["ho"], ([0], [0]), ([], []))
    with pytest.raises(BackendError, match=r"Connection 'ho' is stored dense.*change"):
        sim.set_connectivity(EDGES["ho"], np.ones((8, 3), bool))
