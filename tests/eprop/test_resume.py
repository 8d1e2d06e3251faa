"""Resuming from a checkpoint continues training exactly (issue 17): train N epochs in one go,
or k epochs, checkpoint, a fresh network and compile (as a new process would), ``resume`` and
N - k more epochs: the final weights and bias are bit-identical on the same backend. The
checkpoint must hold Adam's moments and step count, the simulation state e-prop carries from
example to example, the schedule's learning rate and Deep-R's state."""

from __future__ import annotations

import numpy as np
import pytest

from irsnn.callbacks import Checkpoint, OptimiserParamSchedule
from irsnn.errors import CheckpointKeyError, CheckpointNotFoundError, IrsnnError
from irsnn.optimisers import Adam
from irsnn.serialisers import Numpy

from .test_training import compiler, dataset, network

N, K = 3, 1


def _params(cn):
    sim = cn.simulation
    out = {name: sim.get_weights(name) for name in ("ih", "hh", "ho")}
    out["bias"] = sim.get_var("pop.output", "Bias")
    return out


def _schedule():
    # depends on the current value: only a restored learning rate continues the same way
    return OptimiserParamSchedule("alpha", lambda epoch, alpha: alpha * 0.5)


def _train(backend, build, x, y, epochs, start=0, path=None, resume=None, **kw):
    net, inp, out = network(sparse=True)
    cn = build(compiler(backend, batch_size=2, optimiser=Adam(alpha=0.02), **kw), net)
    if resume is not None:
        cn.resume((resume,), Numpy(path))
    callbacks = [_schedule()] + ([Checkpoint(Numpy(path))] if path and resume is None else [])
    cn.train({inp: x}, {out: y}, epochs, start_epoch=start, callbacks=callbacks)
    return cn


@pytest.mark.parametrize("mode", ["event", pytest.param("online", marks=pytest.mark.slow)])
def test_a_resumed_run_equals_an_uninterrupted_one(backend, build, tmp_path, mode):
    x, y = dataset(6)
    whole = _params(_train(backend, build, x, y, N, gradient_mode=mode))
    _train(backend, build, x, y, K, path=tmp_path, gradient_mode=mode)
    resumed = _train(backend, build, x, y, N - K, start=K, path=tmp_path, resume=K - 1,
                     gradient_mode=mode)
    for name, value in whole.items():
        np.testing.assert_array_equal(_params(resumed)[name], value, err_msg=name)
    assert resumed.optimiser_step == N * 3 and resumed.optimiser.alpha == 0.02 * 0.5 ** N

    # loading the weights only (mlGeNN's way) starts Adam afresh: the runs differ
    net, inp, out = network(sparse=True)
    net.load((K - 1,), Numpy(tmp_path))
    cn = build(compiler(backend, batch_size=2, optimiser=Adam(alpha=0.02 * 0.5 ** K),
                        gradient_mode=mode), net)
    cn.train({inp: x}, {out: y}, N - K, start_epoch=K, callbacks=[_schedule()])
    assert np.abs(_params(cn)["ho"] - whole["ho"]).max() > 1e-4


@pytest.mark.parametrize("backend", ["reference", pytest.param("c", marks=pytest.mark.slow)])
def test_resume_with_deep_r_continues_the_rewiring(tmp_path, build, backend):
    """Deep-R: the host optimiser's state (saved in the user's layout, restored into the
    backend's ragged one), the fixed signs and the rewired synapses."""
    x, y = dataset(6)

    def run(epochs, start=0, resume=None, save=False):
        net, inp, out = network(sparse=True)
        hh = next(c for c in net.connections if c.name == "hh")
        hh.connectivity.layout = "sparse"
        cn = build(compiler(backend, batch_size=2, optimiser=Adam(alpha=0.05),
                            deep_r_conns=[hh], deep_r_l1_strength=0.5), net)
        if resume is not None:
            cn.resume((resume,), Numpy(tmp_path))
        cn.train({inp: x}, {out: y}, epochs, start_epoch=start,
                 callbacks=[Checkpoint(Numpy(tmp_path))] if save else [])
        return cn

    whole = run(3)
    (eid,) = whole.deep_r
    initial = run(0 + 1, save=True)      # also writes the checkpoint of epoch 0
    resumed = run(2, start=1, resume=0)
    # synapses were rewired after the checkpoint: the continuation depends on Deep-R's state
    assert not np.array_equal(whole.simulation.synapse_mask(eid),
                              initial.simulation.synapse_mask(eid))
    np.testing.assert_array_equal(resumed.simulation.synapse_mask(eid),
                                  whole.simulation.synapse_mask(eid))
    for name, value in _params(whole).items():
        np.testing.assert_array_equal(_params(resumed)[name], value, err_msg=name)


def test_resume_refuses_what_it_cannot_restore(tmp_path, build):
    x, y = dataset(4)
    _train("reference", build, x, y, 1, path=tmp_path)
    net, inp, out = network(sparse=True)
    cn = build(compiler("reference", batch_size=2, optimiser=Adam(alpha=0.02)), net)
    with pytest.raises(CheckpointNotFoundError, match=r"no checkpoint 5 .*checkpoints there: 0"):
        cn.resume((5,), Numpy(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"folder .*nowhere' does not exist"):
        cn.resume((0,), Numpy(tmp_path / "nowhere"))
    # another batch size: the simulation state does not fit
    net4, *_ = network(sparse=True)
    cn4 = build(compiler("reference", batch_size=4, optimiser=Adam(alpha=0.02)), net4)
    with pytest.raises(IrsnnError, match=r"batch size"):
        cn4.resume((0,), Numpy(tmp_path))
    # a weight file missing: named, never silently initial weights
    (tmp_path / "0-hh-g.npy").unlink()
    with pytest.raises(CheckpointNotFoundError, match=r"Connection 'hh'.*0-hh-g\.npy"):
        cn.resume((0,), Numpy(tmp_path))
    # an mlGeNN checkpoint has weights but no training state
    (tmp_path / "0-irsnn_state.npz").unlink()
    with pytest.raises(CheckpointNotFoundError, match=r"no irsnn training state.*network\.load"):
        cn.resume((0,), Numpy(tmp_path))


def test_resume_needs_every_entry_of_the_training_state(tmp_path, build):
    x, y = dataset(4)
    _train("reference", build, x, y, 1, path=tmp_path)
    state = dict(np.load(tmp_path / "0-irsnn_state.npz"))
    names = [str(n) for n in state["names"]]
    drop = next(i for i, n in enumerate(names) if '"optimiser", "state"' in n)
    keep = [i for i in range(len(names)) if i != drop]
    np.savez(tmp_path / "0-irsnn_state.npz", names=np.array([names[i] for i in keep]),
             **{f"a{j}": state[f"a{i}"] for j, i in enumerate(keep)})
    net, *_ = network(sparse=True)
    cn = build(compiler("reference", batch_size=2, optimiser=Adam(alpha=0.02)), net)
    with pytest.raises(CheckpointKeyError, match=r"has no entry \['optimiser', 'state'"):
        cn.resume((0,), Numpy(tmp_path))
