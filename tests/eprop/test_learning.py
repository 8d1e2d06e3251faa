"""e-prop learns a real task: scikit-learn's digits, latency-coded.

64 inputs -> 128 recurrent hidden neurons -> 10 leaky integrators (``sum_var``), trained with
e-prop for a fixed number of epochs on a stratified 80/20 split and evaluated with the trained
network; it must reach at least 96% test accuracy (the issue's target).

``SETTINGS`` are the best of a small search on the reference backend (LIF/ALIF, T 20/30,
thresholds 0.5-1.0, refractory 0/5 ms, Adam alpha 0.002-0.01 with and without per-epoch decay,
batch 16/32, weight scales): they reach 93-94% test accuracy (train 99.8%), so this test does
NOT pass yet - the generalisation gap, not training, is what is missing. Training resets the
state before every batch (``reset_vars_between_examples=True``; with mlGeNN's default of
carrying state over, learning was much slower: ~75% after 5 epochs) and does not train the
output bias (see docs/eprop.md, known issues).
"""

from __future__ import annotations

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.callbacks import OptimiserParamSchedule
from irsnn.compilers import EPropCompiler
from irsnn.connectivity import Dense
from irsnn.initializers import Normal
from irsnn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from irsnn.optimisers import Adam
from irsnn.utils.data import linear_latency_encode_data

SETTINGS = dict(
    example_timesteps=20,
    tau_mem=20.0, v_thresh=0.6, tau_refrac=5.0,  # hidden LIF
    tau_out=20.0,
    alpha=0.01, alpha_decay=0.85,  # Adam learning rate, multiplied by alpha_decay every epoch
    batch_size=32, epochs=20,
)


def digits():
    sklearn = pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    assert sklearn
    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, stratify=y,
                                                        random_state=0)
    max_time = SETTINGS["example_timesteps"] - 1.0
    # pixel values are 0..16; the encoder expects the uint8 range 0..255
    return (linear_latency_encode_data(x_train * (255.0 / 16.0), max_time), y_train,
            linear_latency_encode_data(x_test * (255.0 / 16.0), max_time), y_test)


@pytest.mark.slow
def test_digits_reach_96_percent(backend, build):
    s = SETTINGS
    x_train, y_train, x_test, y_test = digits()
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=64 * s["batch_size"]), 64, name="input")
        hid = Population(LeakyIntegrateFire(v_thresh=s["v_thresh"], tau_mem=s["tau_mem"],
                                            tau_refrac=s["tau_refrac"]), 128, name="hidden")
        out = Population(LeakyIntegrate(tau_mem=s["tau_out"], readout="sum_var"), 10,
                         name="output")
        Connection(inp, hid, Dense(Normal(sd=1.0 / np.sqrt(64))), name="ih")
        Connection(hid, hid, Dense(Normal(sd=1.0 / np.sqrt(128))), name="hh")
        Connection(hid, out, Dense(Normal(sd=1.0 / np.sqrt(128))), name="ho")
    compiler = EPropCompiler(example_timesteps=s["example_timesteps"],
                             losses="sparse_categorical_crossentropy",
                             optimiser=Adam(alpha=s["alpha"]), batch_size=s["batch_size"],
                             reset_vars_between_examples=True, train_output_bias=False,
                             rng_seed=0, backend=backend)
    compiled = build(compiler, net)
    schedule = OptimiserParamSchedule(
        "alpha", lambda epoch, _: s["alpha"] * s["alpha_decay"] ** epoch)
    with compiled:
        train_metrics, _ = compiled.train({inp: x_train}, {out: y_train},
                                          num_epochs=s["epochs"], callbacks=[schedule])
        metrics, _ = compiled.evaluate({inp: x_test}, {out: y_test}, callbacks=[])
    assert train_metrics[out].total == len(y_train)
    assert metrics[out].total == len(y_test) == 360
    assert metrics[out].result >= 0.96, (
        f"test accuracy {metrics[out].result:.4f} (train {train_metrics[out].result:.4f})")
