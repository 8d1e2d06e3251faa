"""``irsnn demo``: a spiking classifier of handwritten digits, evaluated with InferenceCompiler.

Requires: scikit-learn's digits, the front end and :class:`~irsnn.compilers.InferenceCompiler`
(imported when run). Provides :func:`run_demo` (what ``irsnn demo`` runs) and its steps
:func:`load_digits_rates`, :func:`fit_readout` and :func:`build_network`.

The digits come from scikit-learn (bundled with the package: nothing is downloaded). Each
8x8 image drives a ``PoissonInput`` population (pixel intensity -> rate); a ``LeakyIntegrate``
output layer with a ``sum_var`` readout integrates the input spikes through ``Dense`` weights.
The weights are fitted in closed form (ridge regression from expected spike counts to one-hot
labels), so the spiking network's accuracy can be compared with the same linear classifier
evaluated analytically: the gap is what Poisson noise and leaky integration cost.
"""

from __future__ import annotations

import time

import numpy as np

from .errors import IrsnnError

MAX_RATE_KHZ = 0.1   # 100 Hz for a white pixel


def load_digits_rates():
    """``(rates (N, 64) in spikes/ms, labels (N,))`` from scikit-learn's digits."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise IrsnnError("the demo needs scikit-learn for its digits data; install it with "
                         "pip install \"irsnn[data]\"") from None
    x, y = load_digits(return_X_y=True)
    return (x / 16.0) * MAX_RATE_KHZ, y.astype(np.int64)


def fit_readout(rates, labels, timesteps, dt=1.0, ridge=1e-2):
    """Ridge-regression weights from expected spike counts to centred one-hot targets."""
    counts = timesteps * (1.0 - np.exp(-rates * dt))
    targets = np.eye(10)[labels] - 0.1
    a = counts.T @ counts + ridge * len(counts) * np.eye(counts.shape[1])
    return np.linalg.solve(a, counts.T @ targets), counts


def build_network(weights):
    """PoissonInput(64) -> LeakyIntegrate(10, sum_var readout) with the given weights."""
    from . import Connection, Network, Population
    from .connectivity import Dense
    from .neurons import LeakyIntegrate, PoissonInput
    network = Network()
    with network:
        inp = Population(PoissonInput(), 64, record_spikes=True, name="input")
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"), 10, name="output")
        Connection(inp, out, Dense(weights.astype(np.float32)), name="readout")
    return network, inp, out


def run_demo(examples: int | None = None, batch_size: int = 64, timesteps: int = 200,
             seed: int = 0) -> int:
    """Fit, compile, evaluate and report; returns a process exit code."""
    from .callbacks import SpikeRecorder, VarRecorder
    from .compilers import InferenceCompiler
    rates, labels = load_digits_rates()
    order = np.random.default_rng(seed).permutation(len(labels))
    rates, labels = rates[order], labels[order]
    n_train = len(labels) * 2 // 3
    weights, _ = fit_readout(rates[:n_train], labels[:n_train], timesteps)
    test_x, test_y = rates[n_train:], labels[n_train:]
    if examples:
        test_x, test_y = test_x[:examples], test_y[:examples]
    _, test_counts = fit_readout(test_x, test_y, timesteps)
    analytic = float(np.mean(np.argmax(test_counts @ weights, axis=1) == test_y))

    network, inp, out = build_network(weights)
    compiler = InferenceCompiler(evaluate_timesteps=timesteps, batch_size=batch_size,
                                 rng_seed=seed)
    start = time.perf_counter()
    with compiler.compile(network, "digits") as net:
        metrics, cb = net.evaluate({inp: test_x}, {out: test_y}, callbacks=[
            "batch_progress_bar", SpikeRecorder(inp, key="in_spikes", record_counts=True),
            VarRecorder(out, "v", key="out_v", example_filter=0)])
        elapsed = time.perf_counter() - start
        backend = net.backend.name
    counts = np.array(cb["in_spikes"])
    print(f"digits: {len(test_y)} test examples x {timesteps} timesteps, batch {batch_size}, "
          f"backend '{backend}'")
    print(f"  input rate        {counts.mean() / (timesteps * 1e-3):.1f} Hz per neuron "
          f"(max {MAX_RATE_KHZ * 1e3:.0f} Hz)")
    print(f"  output V (ex. 0)  min {cb['out_v'][0].min():.3f} max {cb['out_v'][0].max():.3f}")
    print(f"  SNN accuracy      {metrics[out].result:.4f} ({metrics[out].correct}/"
          f"{metrics[out].total})")
    print(f"  linear classifier {analytic:.4f} on expected spike counts")
    print(f"  wall time         {elapsed:.2f} s "
          f"({len(test_y) * timesteps / elapsed:,.0f} example-timesteps/s)")
    return 0
