"""Deep-R with EventProp (``EventPropCompiler(deep_r_conns=...)``): the synapse count stays
fixed, sign flips are rewired, and the L1 term is added once to EventProp's batch-mean
gradient (not once per example, as on e-prop's batch sum)."""

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.compilers import EventPropCompiler
from irsnn.compilers.event_prop_compiler import default_params
from irsnn.connectivity import FixedProbability
from irsnn.errors import ModelError
from irsnn.initializers import Normal
from irsnn.ir import to_text
from irsnn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from irsnn.optimisers import Adam
from irsnn.synapses import Exponential

from ..models import random_spikes

EDGE = "syn.in->hid"


def _backends():
    """The reference backend and every available kernel backend."""
    from irsnn.backends import available_backends
    return [pytest.param(name, marks=pytest.mark.skipif(not ok, reason=why))
            for name, (ok, why) in available_backends().items()]


BACKENDS = _backends()


class SGD(Adam):
    """Plain gradient descent (the host optimiser path, which Deep-R always takes)."""

    def step(self, param, grad, state, step):
        param -= self.alpha * grad


def network():
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=4000), 16, name="in")
        hid = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0), 12, name="hid")
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"), 3, name="out")
        ih = Connection(inp, hid, FixedProbability(0.3, Normal(mean=0.8, sd=0.8),
                                                   layout="sparse"),
                        Exponential(5.0), name="ih")
        Connection(hid, out, FixedProbability(0.6, Normal(sd=0.6), layout="sparse"),
                   Exponential(5.0), name="ho")
    return net, inp, out, ih


def data(batch):
    x = random_spikes(batch, 16, 30, rate=0.2, seed=5)
    return x, np.arange(batch) % 3


def compile_(net, conns, optimiser, l1, batch=4, records=True, backend="reference", **kw):
    return EventPropCompiler(
        30, "sparse_categorical_crossentropy", optimiser=optimiser, batch_size=batch,
        rng_seed=3, backend=backend, deep_r_conns=conns, deep_r_l1_strength=l1,
        deep_r_record_rewirings={c: f"{c.name}_rewired" for c in conns} if records else None,
        **kw).compile(net)


@pytest.mark.parametrize("backend", BACKENDS)
def test_sign_flips_are_rewired_and_the_synapse_count_is_fixed(backend):
    """An overwhelming L1 term makes Adam's first step move every weight of the rewired
    connection by alpha towards zero: the weights smaller than alpha flip and are exactly the
    ones rewired; new synapses start at 0."""
    alpha = 0.3
    net, inp, out, ih = network()
    x, y = data(4)
    c = compile_(net, [ih], Adam(alpha=alpha), l1=1e4, backend=backend)
    assert "deep-r" in to_text(c.ir)
    w0 = c.simulation.get_weights("ih")
    mask0 = c.simulation.synapse_mask(EDGE)
    _, cb = c.train({inp: x}, {out: y}, num_epochs=1, shuffle=False, callbacks=[])
    w1 = c.simulation.get_weights("ih")
    mask1 = c.simulation.synapse_mask(EDGE)
    flipped = mask0 & (np.abs(w0) < alpha * 0.999)
    kept = mask0 & (np.abs(w0) > alpha * 1.001)
    assert flipped.sum() > 0 and kept.sum() > 0
    assert cb["ih_rewired"] == [(int(flipped.sum()), 0)]
    np.testing.assert_allclose(np.abs(w1[kept]), np.abs(w0[kept]) - alpha, rtol=1e-4)
    assert np.all(w1[mask1 & ~mask0] == 0)
    assert mask1.sum() == mask0.sum()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("batch", [2, 4])
def test_l1_is_added_once_to_the_batch_mean_gradient(batch, backend):
    """With a small L1 term and a tiny gradient-descent step in double precision (no sign
    flips), the step with Deep-R differs from the step without by exactly ``lr * l1 * sign``
    on existing synapses, whatever the batch size (EventProp's loss is a batch mean)."""
    l1, lr = 0.25, 1e-6
    x, y = data(batch)
    steps = {}
    for key, strength in (("plain", 0.0), ("l1", l1)):
        net, inp, out, ih = network()
        c = compile_(net, [ih], SGD(alpha=lr), l1=strength, batch=batch, records=False,
                     precision="double", backend=backend)
        mask = c.simulation.synapse_mask(EDGE)
        w0 = c.simulation.get_weights("ih")
        c.train({inp: x}, {out: y}, num_epochs=1, shuffle=False, callbacks=[])
        assert np.array_equal(c.simulation.synapse_mask(EDGE), mask)
        steps[key] = c.simulation.get_weights("ih") - w0
    assert np.abs(steps["plain"][mask]).max() > 1e-3 * lr     # the loss has a gradient here
    np.testing.assert_allclose(steps["l1"][mask] - steps["plain"][mask],
                               -lr * l1 * np.sign(w0[mask]), rtol=1e-6)
    assert np.all(steps["l1"][~mask] == 0)


def test_deep_r_refuses_dense_and_unknown_connections():
    net, inp, out, ih = network()
    other, *_ = network()
    with pytest.raises(ModelError, match="not a connection of the network"):
        compile_(net, [other.connections[0]], Adam(), l1=0.01)
    with pytest.raises(ModelError, match="deep_r_conns must be a list"):
        EventPropCompiler(30, "sparse_categorical_crossentropy", deep_r_conns=ih)
    with pytest.raises(ModelError, match="deep_r_l1_strength"):
        EventPropCompiler(30, "sparse_categorical_crossentropy", deep_r_conns=[ih],
                          deep_r_l1_strength=-1.0)


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b.values[0] != "reference"])
def test_kernel_backends_rewire_and_train_as_the_reference(backend):
    """Three epochs with rewiring after every batch (an L1 term strong enough to flip some
    signs each time): the kernel backends' gradients on the changing structure give the
    reference's weights, synapses and rewiring counts."""
    runs = {}
    for be in ("reference", backend):
        net, inp, out, ih = network()
        x, y = data(8)
        c = compile_(net, [ih], Adam(alpha=0.05), l1=5.0, precision="double", backend=be)
        _, cb = c.train({inp: x}, {out: y}, num_epochs=3, shuffle=False, callbacks=[])
        runs[be] = (c.simulation.get_weights("ih"), c.simulation.synapse_mask(EDGE),
                    cb["ih_rewired"])
    (w_ref, m_ref, r_ref), (w, m, r) = runs["reference"], runs[backend]
    assert sum(n for n, _ in r_ref) > 0         # synapses were rewired
    assert r == r_ref
    np.testing.assert_array_equal(m, m_ref)
    np.testing.assert_allclose(w, w_ref, rtol=1e-9, atol=1e-12)
