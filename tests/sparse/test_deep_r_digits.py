"""Deep-R still learns a real task: scikit-learn's digits (the network and settings of
``tests/eprop/test_learning.py``: 64 inputs -> 128 ALIF with a 10% recurrent
FixedProbability connection -> 10 leaky integrators) with the recurrent connection rewired by
Deep-R, whose synapse count stays fixed while thousands of synapses are replaced.

The recurrent weights start at Normal(0, 0.05) so that every synapse takes its sign from its
initial weight. Over compiler seeds 0-3 these settings reach 96.1-96.9% test accuracy after 5
epochs (~100 rewirings per batch of ~1600 synapses); the test asks for 90%. About 6 s on C.
"""

from __future__ import annotations

import numpy as np
import pytest

from irsnn.backends import available_backends
from irsnn.callbacks import Callback, OptimiserParamSchedule
from irsnn.compilers import EPropCompiler
from irsnn.connectivity import FixedProbability
from irsnn.initializers import Normal
from irsnn.optimisers import Adam

from ..eprop.test_learning import SETTINGS, digits, digits_network

EPOCHS = 5


class _Count(Callback):
    """Synapses of the rewired connection and sign agreement after every batch."""

    def __init__(self, eid):
        self.eid = eid
        self.counts, self.signs_ok = [], True

    def set_params(self, compiled_network=None, **kwargs):
        self.net = compiled_network

    def on_batch_end(self, batch, metrics):
        sim = self.net.simulation
        mask = sim.synapse_mask(self.eid)
        self.counts.append(int(mask.sum()))
        w = sim.get_weights(self.eid)
        self.signs_ok &= bool(np.all((w * self.net.deep_r[self.eid].sign)[mask] >= 0))


def test_digits_with_deep_r_on_the_recurrent_connection():
    ok, why = available_backends()["c"]
    if not ok:
        pytest.skip(f"backend 'c' unavailable: {why}")
    s = SETTINGS
    x_train, y_train, x_test, y_test = digits()
    net, inp, out, hh = digits_network(FixedProbability(s["p_rec"], Normal(sd=0.05),
                                                        layout="sparse"))
    compiler = EPropCompiler(example_timesteps=s["example_timesteps"],
                             losses="sparse_categorical_crossentropy",
                             optimiser=Adam(alpha=s["alpha"]), batch_size=s["batch_size"],
                             reset_vars_between_examples=True, train_output_bias=False,
                             rng_seed=s["seed"], backend="c", deep_r_conns=[hh],
                             deep_r_l1_strength=0.01, deep_r_record_rewirings={hh: "hh"})
    compiled = compiler.compile(net)
    start = int(compiled.simulation.synapse_mask("rec.hidden->hidden").sum())
    count = _Count("rec.hidden->hidden")
    schedule = OptimiserParamSchedule(
        "alpha", lambda epoch, _: s["alpha"] * s["alpha_decay"] ** epoch)
    with compiled:
        train_metrics, cb = compiled.train({inp: x_train}, {out: y_train}, num_epochs=EPOCHS,
                                           callbacks=[schedule, count])
        metrics, _ = compiled.evaluate({inp: x_test}, {out: y_test}, callbacks=[])
    batches = EPOCHS * -(-len(y_train) // s["batch_size"])
    assert len(cb["hh"]) == len(count.counts) == batches
    assert set(count.counts) == {start}, "Deep-R changed the number of synapses"
    assert count.signs_ok
    rewired = [n for n, failed in cb["hh"]]   # mlGeNN's (rewirings, failed rewirings)
    assert {failed for _, failed in cb["hh"]} == {0}
    assert sum(rewired) > start, f"only {sum(rewired)} rewirings of {start} synapses"
    assert metrics[out].result >= 0.90, (
        f"test accuracy {metrics[out].result:.4f} (train {train_metrics[out].result:.4f}); "
        f"rewirings per batch (last 10): {rewired[-10:]}")
