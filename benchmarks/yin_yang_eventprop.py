"""mlGeNN's ``examples/event_prop/yin_yang.py`` setup on irsnn: EventProp training of a
4-100-3 LIF network with a time-to-first-spike readout on the Yin-Yang dataset.

Requires: irsnn (the reference backend runs EventProp). Provides a command that trains and
reports test accuracy; the defaults are mlGeNN's (50 epochs of 15,360 examples x 3,000 steps
of 0.01 ms, batch 512). The NumPy reference backend (the default ``--backend``) cannot run
them in reasonable time (``--dt 0.1 --epochs 30 --num-train 5120 --batch 32 --num-test 1536``
is its row in ``docs/eventprop.md``); the C backend runs them in about 5 minutes on one core::

    OMP_NUM_THREADS=1 python benchmarks/yin_yang_eventprop.py --backend c

The setup as mlGeNN's script: spike times ``2 dt + (30 - 4 dt) * feature`` of the four
features ``(x, y, 1 - x, 1 - y)`` (no bias neuron); hidden LIF (``v_thresh=1``,
``tau_mem=20``, no refractory period) with ``Normal(1.5, 0.78)`` input weights, LIF outputs
with ``Normal(0.93, 0.1)`` weights and the ``first_spike_time`` readout, ``Exponential(5)``
synapses, ``RelativeMeanSquareError(1.0)``, ``Adam(0.003, 0.9, 0.99)`` with the learning rate
``0.003 * 0.998 ** epoch``. The test set is a second draw of the generator (another seed).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from irsnn import InputLayer, Layer, SequentialNetwork
from irsnn.callbacks import OptimiserParamSchedule, SpikeRecorder
from irsnn.compilers import EventPropCompiler, InferenceCompiler
from irsnn.compilers.event_prop_compiler import default_params
from irsnn.connectivity import Dense
from irsnn.initializers import Normal
from irsnn.losses import RelativeMeanSquareError
from irsnn.neurons import LeakyIntegrateFire, SpikeInput
from irsnn.optimisers import Adam
from irsnn.synapses import Exponential
from irsnn.utils.data import generate_yin_yang_dataset

EXAMPLE_TIME = 30.0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dt", type=float, default=0.01)
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--num-train", type=int, default=512 * 10 * 3)
    ap.add_argument("--num-test", type=int, default=512 * 2 * 3)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--lr", type=float, default=0.003)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--w-in-mean", type=float, default=1.5,
                    help="mean of the initial input weights (mlGeNN's: 1.5, with which about "
                         "two thirds of the hidden neurons never spike)")
    ap.add_argument("--backend", default="reference",
                    help="irsnn backend (reference, c, opencl, cuda); c is ~100x faster")
    ap.add_argument("--save", help="write the trained weights to this .npz file")
    ap.add_argument("--load", help="start from the weights of a --save file")
    args = ap.parse_args(argv)
    dt = args.dt
    x_train, y_train = generate_yin_yang_dataset(args.num_train, EXAMPLE_TIME - 4 * dt, 2 * dt,
                                                 bias=False, seed=[args.seed, 0])
    x_test, y_test = generate_yin_yang_dataset(args.num_test, EXAMPLE_TIME - 4 * dt, 2 * dt,
                                               bias=False, seed=[args.seed, 1])
    net = SequentialNetwork(default_params)
    with net:
        inp = InputLayer(SpikeInput(max_spikes=args.batch * 4), 4)
        hid = Layer(Dense(Normal(mean=args.w_in_mean, sd=0.78)),
                    LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0, tau_refrac=None), 100,
                    Exponential(5.0), record_spikes=True)
        out = Layer(Dense(Normal(mean=0.93, sd=0.1)),
                    LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0, tau_refrac=None,
                                       readout="first_spike_time"), 3, Exponential(5.0))
    if args.load:
        saved = np.load(args.load)
        for conn in net.connections:
            conn.connectivity.weight = saved[conn.name]
    steps = int(np.ceil(EXAMPLE_TIME / dt))
    compiler = EventPropCompiler(example_timesteps=steps, losses=RelativeMeanSquareError(1.0),
                                 optimiser=Adam(args.lr, 0.9, 0.99), batch_size=args.batch,
                                 softmax_temperature=0.5, ttfs_alpha=0.1, dt=dt,
                                 rng_seed=args.seed + 1, backend=args.backend)
    start = time.perf_counter()
    with compiler.compile(net) as cn:
        for epoch in range(args.epochs):
            schedule = OptimiserParamSchedule("alpha",
                                              lambda e, a: args.lr * (0.998 ** e))
            metrics, _ = cn.train({inp: x_train}, {out: y_train}, num_epochs=1,
                                  start_epoch=epoch, shuffle=False, callbacks=[schedule])
            print(f"epoch {epoch}: train accuracy {100 * metrics[out].result:.1f}% "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)
        weights = [cn.simulation.get_weights(c.name) for c in net.connections]
    train_time = time.perf_counter() - start
    for conn, w in zip(net.connections, weights):
        conn.connectivity.weight = w
    if args.save:
        np.savez(args.save, **{c.name: w for c, w in zip(net.connections, weights)})
    with InferenceCompiler(evaluate_timesteps=steps, batch_size=args.batch, dt=dt,
                           reset_in_syn_between_batches=True,
                           backend=args.backend).compile(net) as cn:
        metrics, cb = cn.evaluate({inp: x_test}, {out: y_test},
                                  callbacks=[SpikeRecorder(hid, key="hidden",
                                                           record_counts=True)])
        first = -cn.predict({inp: x_test}, [out], callbacks=[])[0][out]
    counts = np.concatenate([np.reshape(c, (-1, 100)) for c in cb["hidden"]])
    print(f"hidden neurons that spiked on any test example: {(counts.sum(axis=0) > 0).sum()}"
          f"/100; hidden spikes per example: {counts.sum(axis=1).mean():.1f}")
    silent = ~np.isfinite(first[np.arange(len(y_test)), y_test])
    print(f"test examples whose correct neuron did not spike: {silent.mean():.1%}; "
          f"without any output spike: {(~np.isfinite(first)).all(axis=1).mean():.1%}")
    print(f"test accuracy {100 * metrics[out].result:.2f}% ({metrics[out].correct}/"
          f"{metrics[out].total}); training {train_time:.0f} s, dt={dt}, "
          f"{args.epochs} epochs x {args.num_train} examples, batch {args.batch}")
    return metrics[out].result


if __name__ == "__main__":
    main()
