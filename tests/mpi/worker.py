"""One process of the data-parallel tests: trains or evaluates a small recurrent network.

Run alone (``python worker.py ...``) it uses every example; under ``mpiexec -n N`` each rank takes
the strided shard ``rank::N`` and passes an :class:`irsnn.communicators.MPI` to the compiler, as
mlGeNN's MPI examples do. Rank 0 (or the single process) writes the weights, the training metric
and the evaluation metric to ``--out`` (an ``.npz``). ``--fail-at-batch K`` makes rank 1 raise in
its K-th batch (the fault test).
"""

import argparse
import os
import sys

import numpy as np

from irsnn import Connection, Network, Population
from irsnn.callbacks import Callback
from irsnn.compilers import EPropCompiler, EventPropCompiler, InferenceCompiler
from irsnn.connectivity import Dense, FixedProbability
from irsnn.initializers import Normal
from irsnn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from irsnn.synapses import Exponential
from irsnn.utils.data import preprocess_spikes

NUM_INPUT, NUM_HIDDEN, NUM_OUTPUT, TIMESTEPS = 12, 10, 3, 30


def data(num_examples, seed=3):
    """Spike trains whose class sets which third of the inputs fires more."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, NUM_OUTPUT, num_examples)
    spikes = []
    for label in labels:
        rate = np.full(NUM_INPUT, 0.04)
        rate[label * 4:(label + 1) * 4] = 0.3
        t, i = np.nonzero(rng.random((TIMESTEPS, NUM_INPUT)) < rate)
        spikes.append(preprocess_spikes(t.astype(float), i, NUM_INPUT))
    return spikes, labels


def network(num_hidden=NUM_HIDDEN, synapse=None):
    """Input -> LIF (sparse recurrent) -> LI; ``synapse`` on every connection (EventProp
    needs exponential ones)."""
    kw = {} if synapse is None else {"synapse": synapse}
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=1000), NUM_INPUT, name="input")
        hid = Population(LeakyIntegrateFire(v_thresh=0.6), num_hidden, name="hidden")
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"), NUM_OUTPUT,
                         name="output")
        Connection(inp, hid, Dense(Normal(mean=0.0, sd=1.0)), name="in_hid", **kw)
        Connection(hid, hid, FixedProbability(0.3, Normal(mean=0.0, sd=0.3), layout="sparse"),
                   name="recurrent", **kw)
        Connection(hid, out, Dense(Normal(mean=0.0, sd=0.5)), name="hid_out", **kw)
    return net, inp, out


class FailAt(Callback):
    """Raise in batch ``batch`` (on the rank that has this callback)."""

    def __init__(self, batch):
        self.batch = batch

    def on_batch_begin(self, batch):
        if batch == self.batch:
            raise RuntimeError(f"injected failure in batch {batch}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=["event", "online", "eventprop", "inference"],
                   default="event")
    p.add_argument("--examples", type=int, default=16)
    p.add_argument("--batch", type=int, default=8, help="batch of the whole job")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--backend", default="c")
    p.add_argument("--fail-at-batch", type=int, default=-1)
    p.add_argument("--mismatch", action="store_true", help="rank 1 builds a larger model")
    p.add_argument("--host-copies", action="store_true",
                   help="sum gradients through get_var/set_var copies (the baseline)")
    p.add_argument("--mpi", action="store_true", help="use MPI even as a single rank")
    p.add_argument("--out", required=True)
    a = p.parse_args()

    comm = None
    if a.mpi or int(os.environ.get("PMI_SIZE", os.environ.get("OMPI_COMM_WORLD_SIZE", "1"))) > 1:
        from irsnn.communicators import MPI
        comm = MPI()
    rank, ranks = (0, 1) if comm is None else (comm.rank, comm.num_ranks)
    spikes, labels = data(a.examples)
    spikes, labels = spikes[rank::ranks], labels[rank::ranks]
    net, inp, out = network(NUM_HIDDEN + (rank == 1 and a.mismatch),
                            Exponential(5.0) if a.mode == "eventprop" else None)
    callbacks = [FailAt(a.fail_at_batch)] if rank == 1 and a.fail_at_batch >= 0 else []
    result = {}
    if a.mode == "inference":
        compiled = InferenceCompiler(evaluate_timesteps=TIMESTEPS, batch_size=a.batch,
                                     backend=a.backend, communicator=comm).compile(net)
        with compiled:
            metrics, _ = compiled.evaluate({inp: spikes}, {out: labels}, callbacks=callbacks)
        result["accuracy"] = metrics[out].result
        result["total"] = metrics[out].total
    else:
        if a.mode == "eventprop":   # (reference backend only, for now)
            compiler = EventPropCompiler(example_timesteps=TIMESTEPS,
                                         losses="sparse_categorical_crossentropy",
                                         batch_size=a.batch, backend="reference",
                                         communicator=comm)
        else:
            compiler = EPropCompiler(example_timesteps=TIMESTEPS,
                                     losses="sparse_categorical_crossentropy", optimiser="adam",
                                     batch_size=a.batch, backend=a.backend, gradient_mode=a.mode,
                                     communicator=comm)
        compiled = compiler.compile(net)
        if compiled._data_parallel is not None:
            compiled._data_parallel.host_copies = a.host_copies
        with compiled:
            metrics, _ = compiled.train({inp: spikes}, {out: labels}, num_epochs=a.epochs,
                                        shuffle=False, callbacks=callbacks)
            result["train_accuracy"] = metrics[out].result
            result["train_total"] = metrics[out].total
            for conn in net.connections:
                result[conn.name] = compiled.simulation.get_weights(conn.name)
            if "Bias" in compiled.var_names(out):   # (EventProp trains no output bias)
                result["bias"] = compiled.simulation.get_var("pop.output", "Bias")
            # gradients went through NCCL (CuPy arrays: the CUDA backend with CuPy's NCCL)
            result["nccl"] = getattr(comm, "_nccl", None) is not None
            evaluated, _ = compiled.evaluate({inp: spikes}, {out: labels}, callbacks=[])
            result["accuracy"] = evaluated[out].result
    if rank == 0:
        np.savez(a.out, **{k: np.asarray(v) for k, v in result.items()})
    else:
        np.savez(a.out + f".rank{rank}.npz", **{k: np.asarray(v) for k, v in result.items()
                                                  if not k.endswith("accuracy")})
    return 0


if __name__ == "__main__":
    sys.exit(main())
