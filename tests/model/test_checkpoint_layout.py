"""Checkpoints in mlGeNN's file layout (issue 18, item 6) and strict loads (issue 17).

A folder written the way mlGeNN writes it (``<epoch>-<name>-g.npy`` 1-D weights,
``pre_ind``/``post_ind`` from ``save_connectivity``, population variables such as ``Bias``)
loads into irsnn; what irsnn writes has exactly those names and shapes, and reads back through
a reader that follows mlGeNN's ``Network.load`` rules. Nothing is silently kept: a missing
folder, epoch or file is an error naming it, and any population or connection name
round-trips (``-`` and ``/`` are escaped) or is refused when compiling.
"""

from __future__ import annotations

import glob
import os

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.callbacks import Checkpoint
from irsnn.compilers import EPropCompiler, InferenceCompiler
from irsnn.connectivity import Dense, FixedProbability, OneToOne, Sparse
from irsnn.errors import CheckpointNotFoundError, InputError, IrsnnError, ModelError
from irsnn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from irsnn.serialisers import Numpy
from irsnn.serialisers.numpy import file_key, key_from_file

from ..models import random_spikes

N_IN, N_HID, N_OUT, T = 4, 5, 5, 10


def network(names=("in", "hid", "out", "ih", "hh", "ho"), listed=None):
    """Input -> LIF with sparse recurrence -> LI one-to-one."""
    pi, ph, po, ih, hh, ho = names
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=500), N_IN, name=pi)
        hid = Population(LeakyIntegrateFire(v_thresh=0.5, tau_mem=8.0), N_HID, name=ph)
        out = Population(LeakyIntegrate(tau_mem=8.0, readout="sum_var"), N_OUT, name=po)
        Connection(inp, hid, Dense(0.25), name=ih)
        rec = listed if listed is not None else FixedProbability(0.4, 0.125)
        Connection(hid, hid, rec, name=hh)
        Connection(hid, out, OneToOne(0.5), name=ho)
    return net, inp, out


def mlgenn_checkpoint(folder, epoch, rng):
    """Files as mlGeNN's ``save`` + ``save_connectivity`` write them, generated here: GeNN's
    weight variable ``g`` 1-D float32 (dense row-major, sparse in row order), int indices."""
    os.makedirs(folder, exist_ok=True)
    w_ih = rng.normal(size=(N_IN, N_HID)).astype(np.float32)
    mask = rng.random((N_HID, N_HID)) < 0.5
    pre, post = np.nonzero(mask)                 # GeNN's rows: pre ascending, post ascending
    g_hh = rng.normal(size=len(pre)).astype(np.float32)
    g_ho = rng.normal(size=N_OUT).astype(np.float32)
    bias = rng.normal(size=N_OUT).astype(np.float32)
    for name, value in (("ih-g", w_ih.reshape(-1)), ("hh-g", g_hh),
                        ("hh-pre_ind", pre.astype(np.int64)),
                        ("hh-post_ind", post.astype(np.uint32)),
                        ("ho-g", g_ho), ("out-Bias", bias)):
        np.save(os.path.join(folder, f"{epoch}-{name}.npy"), value)
    w_hh = np.zeros((N_HID, N_HID), np.float32)
    w_hh[pre, post] = g_hh
    return {"ih": w_ih, "hh": w_hh, "ho": g_ho, "bias": bias, "mask": mask}


def mlgenn_load(folder, keys, name):
    """What mlGeNN's ``Network.load`` reads for one object: every ``<keys>-<name>-*.npy``,
    whose name split on ``-`` must leave exactly one key (mlGeNN asserts it)."""
    prefix = "-".join(str(k) for k in keys) + "-" + name
    data = {}
    for f in glob.glob(os.path.join(glob.escape(folder), glob.escape(prefix) + "-*.npy")):
        rest = os.path.basename(f)[:-4].split("-")[len(keys) + 1:]
        assert len(rest) == 1, f
        data[rest[0]] = np.load(f)
    return data


# -- mlGeNN -> irsnn ------------------------------------------------------------------------------
def test_an_mlgenn_checkpoint_loads(tmp_path):
    want = mlgenn_checkpoint(tmp_path, 3, np.random.default_rng(0))
    net, inp, out = network()
    loaded = net.load((3,), Numpy(str(tmp_path)))
    assert loaded == {"ih": ["g"], "hh": ["g", "post_ind", "pre_ind"], "ho": ["g"],
                      "in": [], "hid": [], "out": ["Bias"]}
    np.testing.assert_array_equal(out.neuron.bias, want["bias"])
    sim = InferenceCompiler(evaluate_timesteps=T, backend="reference").compile(net).simulation
    np.testing.assert_array_equal(sim.get_weights("ih"), want["ih"])
    np.testing.assert_array_equal(sim.get_weights("hh"), want["hh"])
    np.testing.assert_array_equal(sim.synapse_mask(next(
        e for e in sim.synapses if "hid->hid" in e)), want["mask"])
    w_ho = sim.get_weights("ho")
    np.testing.assert_array_equal(np.diagonal(w_ho) if w_ho.ndim == 2 else w_ho, want["ho"])


def test_sparse_weights_follow_genns_order_for_listed_synapses(tmp_path):
    """Without saved index lists, mlGeNN's sparse ``g`` is in GeNN's (sorted) row order: it is
    put back in the order of the connectivity's own (unsorted) lists."""
    pre, post = np.array([3, 0, 2, 0]), np.array([1, 4, 2, 0])
    sorted_g = np.array([1.0, 2.0, 3.0, 4.0], np.float32)   # (0,0) (0,4) (2,2) (3,1)
    np.save(tmp_path / "0-ih-g.npy", np.zeros(N_IN * N_HID, np.float32))
    np.save(tmp_path / "0-hh-g.npy", sorted_g)
    np.save(tmp_path / "0-ho-g.npy", np.zeros(N_OUT, np.float32))
    net, *_ = network(listed=Sparse(pre, post, 0.0))
    net.load((0,), Numpy(tmp_path))
    w = InferenceCompiler(evaluate_timesteps=T).compile(net).simulation.get_weights("hh")
    assert (w[0, 0], w[0, 4], w[2, 2], w[3, 1]) == (1.0, 2.0, 3.0, 4.0)
    assert np.count_nonzero(w) == 4


# -- irsnn -> mlGeNN ------------------------------------------------------------------------------
def test_irsnn_writes_mlgenns_names_and_shapes(tmp_path):
    net, inp, out = network()
    cn = EPropCompiler(example_timesteps=T, losses="sparse_categorical_crossentropy",
                       batch_size=2, backend="reference").compile(net)
    x = random_spikes(2, N_IN, T, rate=0.3, seed=1)
    cn.train({inp: x}, {out: np.array([0, 1])}, 1, callbacks=[Checkpoint(Numpy(tmp_path))])
    sim = cn.simulation
    files = {f: np.load(tmp_path / f) for f in os.listdir(tmp_path) if f.endswith(".npy")}
    assert sorted(files) == ["0-hh-g.npy", "0-hh-post_ind.npy", "0-hh-pre_ind.npy",
                             "0-ho-g.npy", "0-ih-g.npy", "0-out-Bias.npy"]
    assert sorted(set(os.listdir(tmp_path)) - set(files)) == ["0-irsnn_state.npz"]
    scalar = np.float32
    mask = sim.get_weights("hh") != 0
    assert files["0-ih-g.npy"].shape == (N_IN * N_HID,) and files["0-ih-g.npy"].dtype == scalar
    np.testing.assert_array_equal(files["0-ih-g.npy"], sim.get_weights("ih").reshape(-1))
    pre, post = files["0-hh-pre_ind.npy"], files["0-hh-post_ind.npy"]
    assert files["0-hh-g.npy"].shape == pre.shape == post.shape == (mask.sum(),)
    np.testing.assert_array_equal(files["0-hh-g.npy"], sim.get_weights("hh")[pre, post])
    assert np.all(np.diff(pre * N_HID + post) > 0)     # GeNN's order: rows, then targets
    assert files["0-ho-g.npy"].shape == (N_OUT,) and files["0-out-Bias.npy"].shape == (N_OUT,)
    np.testing.assert_array_equal(files["0-out-Bias.npy"], sim.get_var("pop.out", "Bias"))
    # read as mlGeNN reads it: one key after each object's name, its variables by GeNN name
    for name, want in (("ih", {"g"}), ("hh", {"g", "pre_ind", "post_ind"}), ("ho", {"g"}),
                       ("out", {"Bias"}), ("in", set()), ("hid", set())):
        assert set(mlgenn_load(str(tmp_path), (0,), name)) == want, name
    # and it loads back into irsnn: the same weights
    fresh, *_ = network()
    fresh.load((0,), Numpy(tmp_path))
    again = InferenceCompiler(evaluate_timesteps=T, rng_seed=5).compile(fresh).simulation
    for name in ("ih", "hh"):
        np.testing.assert_array_equal(again.get_weights(name), sim.get_weights(name))


# -- strict loads -----------------------------------------------------------------------------
def test_a_missing_folder_epoch_or_file_is_an_error_naming_it(tmp_path):
    mlgenn_checkpoint(tmp_path, 2, np.random.default_rng(1))
    net, *_ = network()
    with pytest.raises(CheckpointNotFoundError, match=r"folder '.*nothere' does not exist"):
        net.load((2,), Numpy(tmp_path / "nothere"))
    with pytest.raises(FileNotFoundError, match=r"no checkpoint 7 .*checkpoints there: 2\. "
                                                r"Give one of those"):
        net.load((7,), Numpy(tmp_path))
    (tmp_path / "2-hh-g.npy").unlink()
    with pytest.raises(IrsnnError, match=r"Connection 'hh' .*no weights for it \(looked for "
                                         r".*2-hh-g\.npy\).*keep its initial ones"):
        net.load((2,), Numpy(tmp_path))
    with pytest.raises(FileNotFoundError):
        net.load((2,), Numpy(tmp_path))
    np.save(tmp_path / "2-hh-g.npy", np.zeros(3, np.float32))     # not one per synapse
    with pytest.raises(ModelError, match=r"Connection 'hh'.*2-hh-g\.npy\) has shape \(3,\)"):
        net.load((2,), Numpy(tmp_path))
    (tmp_path / "2-hh-g.npy").write_bytes(b"\x93NUMPY cut")
    with pytest.raises(InputError, match=r"2-hh-g\.npy cannot be read"):
        net.load((2,), Numpy(tmp_path))
    # nothing was half loaded: the connection still has its own weight
    assert net.connections[0].connectivity.weight == 0.25


def test_random_sparse_weights_without_their_synapses_are_refused(tmp_path):
    mlgenn_checkpoint(tmp_path, 0, np.random.default_rng(2))
    for f in ("0-hh-pre_ind.npy", "0-hh-post_ind.npy"):
        (tmp_path / f).unlink()     # mlGeNN's save() alone: no index lists
    net, *_ = network()
    with pytest.raises(CheckpointNotFoundError, match=r"Connection 'hh'.*not which synapses "
                                                      r"they belong to.*save_connectivity"):
        net.load((0,), Numpy(tmp_path))


@pytest.mark.parametrize("names", [
    ("in-put", "hid-den", "out/put", "i-h", "h-h", "h/o"),
    ("%2D", "-", "a%b", "ctl\x00x", "../..", "é")])
def test_any_name_round_trips_through_files(tmp_path, names):
    net, inp, out = network(names)
    cn = InferenceCompiler(evaluate_timesteps=T).compile(net)
    cn.save((1,), Numpy(tmp_path))
    assert all(os.path.dirname(os.path.relpath(p, tmp_path)) == ""
               for p in glob.glob(str(tmp_path / "**"), recursive=True) if os.path.isfile(p))
    fresh, *_ = network(names)
    fresh.load((1,), Numpy(tmp_path))
    again = InferenceCompiler(evaluate_timesteps=T, rng_seed=9).compile(fresh).simulation
    for c in names[3:]:
        np.testing.assert_array_equal(again.get_weights(c), cn.simulation.get_weights(c))


def test_file_keys_escape_only_what_breaks_mlgenns_scheme():
    for plain in ("Conn0", "hidden_output", "Pop 1", "é中"):
        assert file_key(plain) == plain
    assert file_key("a-b/c%d\\e") == "a%2Db%2Fc%25d%5Ce"
    for name in ("a-b", "%2D", "x\x00\udc80", "-/-"):
        assert key_from_file(file_key(name)) == name
        assert "-" not in file_key(name) and "/" not in file_key(name)


def test_a_name_too_long_for_a_file_is_refused_at_compile():
    net, *_ = network(("in", "hid", "out", "ih", "x" * 201, "ho"))
    with pytest.raises(ModelError, match=r"Connection name 'x+'\.\.\. is 201 bytes .*at most "
                                         r"200.*shorter name"):
        EPropCompiler(example_timesteps=T, losses="sparse_categorical_crossentropy").compile(net)
