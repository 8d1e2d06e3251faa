"""The networks, inputs and run sizes that ``irsnn bench`` measures.

Requires NumPy; :func:`build_network` and :func:`preprocessed` import the irsnn front end
(``Network``, neurons, connectivity, ``irsnn.utils.data``) when called.

Provides the workload table (:data:`WORKLOADS` of :class:`Workload`), the run sizes
(:data:`SIZES` of :class:`Size`), the shared constants (:data:`DT`, :data:`INPUT_RATE_HZ`,
:data:`NUM_OUTPUT`, :data:`NEURON`, :data:`SPARSE_P`) and the helpers that turn a workload
into weights (:func:`make_spec`), an irsnn network (:func:`build_network`) and input spikes
(:func:`poisson_input`, :func:`preprocessed`, :func:`max_spikes_for`). The same weights and
spikes go to irsnn and to the peers (:mod:`irsnn.bench.peers`).

Workloads (issue 3's, comparable with mlGeNN): ``2048`` inputs (32 x 32 x 2, as DVS-Gesture
after 4x4 pooling) with Poisson spike trains at 20 Hz preprocessed with NumPy from a fixed seed,
100 timesteps of 1 ms per example, hidden ``AdaptiveLeakyIntegrateFire(v_thresh=0.6,
tau_refrac=5)`` layers (``F`` feed-forward, ``R`` recurrent), 11 ``LeakyIntegrate(tau_mem=20,
readout="sum_var")`` outputs, weights ``Normal(0, 1/sqrt(fan_in))`` drawn with NumPy (the same
arrays go to the peers). ``-sparse`` variants use ``FixedProbability(p=0.1)`` for the input and
recurrent connections (weights ``Normal(0, 1/sqrt(p fan_in))``), which the
``choose-sparse-layout`` pass stores ragged (GeNN's SPARSE) at ``p <= 0.25`` (the reference
backend computes them densely). Trained-synapse and learning-byte counts are taken from the IR
as ``num_pre x num_post`` and so overstate the work of ragged connections.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

DT = 1.0
INPUT_RATE_HZ = 20.0
NUM_OUTPUT = 11
NEURON = {"v_thresh": 0.6, "tau_mem": 20.0, "tau_adapt": 2000.0, "beta": 0.0174,
          "tau_refrac": 5.0, "out_tau_mem": 20.0, "dt": DT}
SPARSE_P = 0.1


@dataclasses.dataclass(frozen=True)
class Workload:
    """Hidden layers ``(size, recurrent)``; ``p`` set: FixedProbability input/recurrent."""
    layers: tuple
    p: float | None = None
    num_input: int = 2048

    @property
    def dense(self) -> bool:
        """True when every connection is Dense (``p`` is None)."""
        return self.p is None


WORKLOADS = {
    "ALIF512R": Workload(((512, True),)),
    "ALIF256F-ALIF256R": Workload(((256, False), (256, True))),
    "ALIF1024F512R": Workload(((1024, False), (512, True))),
    "ALIF512R-sparse": Workload(((512, True),), p=SPARSE_P),
    "ALIF256F-ALIF256R-sparse": Workload(((256, False), (256, True)), p=SPARSE_P),
    # the smoke test's size
    "ALIF32R": Workload(((32, True),), num_input=64),
    "ALIF32R-sparse": Workload(((32, True),), p=0.5, num_input=64),
}


@dataclasses.dataclass
class Size:
    """What one ``--size`` runs: workloads, batch sizes, rounds, and the propagation and
    build-time settings."""
    timesteps: int
    #: (workload, batch sizes) for inference and for training on fast backends
    inference: list
    training: list
    #: the same on slow backends (the NumPy reference): (workload, batch, rounds)
    slow_inference: list
    slow_training: list
    rounds_b1: int
    rounds_batch: int
    train_rounds: int
    #: peers: (workload, batch) for torch inference/training, Brian2 workloads (batch 1)
    peer_inference: list
    peer_training: list
    brian2: list
    peer_rounds: int
    #: propagation microbenchmark
    prop_neurons: int
    prop_densities: tuple
    prop_rates: tuple
    prop_timesteps: int
    prop_rounds: int
    build_repeats: int
    build_workload: str = "ALIF512R"


SIZES = {
    "tiny": Size(timesteps=20, inference=[("ALIF32R", (1, 4)), ("ALIF32R-sparse", (4,))],
                 training=[("ALIF32R", (4,))],
                 slow_inference=[("ALIF32R", 4, 1)], slow_training=[("ALIF32R", 4, 1)],
                 rounds_b1=2, rounds_batch=2, train_rounds=1,
                 peer_inference=[("ALIF32R", 4)], peer_training=[("ALIF32R", 4)],
                 brian2=["ALIF32R"],
                 peer_rounds=1, prop_neurons=64, prop_densities=(1.0, 0.1), prop_rates=(50.0,),
                 prop_timesteps=50, prop_rounds=1, build_repeats=1, build_workload="ALIF32R"),
    "small": Size(timesteps=100,
                  inference=[("ALIF512R", (1, 64)), ("ALIF256F-ALIF256R", (64,)),
                             ("ALIF1024F512R", (64,)), ("ALIF512R-sparse", (64,)),
                             ("ALIF256F-ALIF256R-sparse", (64,))],
                  training=[("ALIF512R", (64,)), ("ALIF256F-ALIF256R", (8,)),
                            ("ALIF1024F512R", (8,)), ("ALIF512R-sparse", (8,))],
                  slow_inference=[("ALIF512R", 1, 2), ("ALIF512R", 64, 1)],
                  slow_training=[("ALIF512R", 1, 1)],
                  rounds_b1=20, rounds_batch=5, train_rounds=1,
                  peer_inference=[("ALIF512R", 1), ("ALIF512R", 64)],
                  peer_training=[("ALIF512R", 64)], brian2=["ALIF512R"], peer_rounds=2,
                  prop_neurons=1024, prop_densities=(1.0, 0.1, 0.01),
                  prop_rates=(10.0, 50.0, 200.0), prop_timesteps=500, prop_rounds=3,
                  build_repeats=1),
    "paper": Size(timesteps=100,
                  inference=[(w, (1, 64)) for w in ("ALIF512R", "ALIF256F-ALIF256R",
                                                     "ALIF1024F512R", "ALIF512R-sparse",
                                                     "ALIF256F-ALIF256R-sparse")],
                  training=[(w, (1, 64)) for w in ("ALIF512R", "ALIF256F-ALIF256R",
                                                    "ALIF1024F512R", "ALIF512R-sparse",
                                                    "ALIF256F-ALIF256R-sparse")],
                  slow_inference=[(w, 1, 3) for w in ("ALIF512R", "ALIF256F-ALIF256R",
                                                      "ALIF1024F512R")] + [("ALIF512R", 64, 1)],
                  slow_training=[(w, 1, 1) for w in ("ALIF512R", "ALIF256F-ALIF256R")],
                  rounds_b1=50, rounds_batch=10, train_rounds=5,
                  peer_inference=[(w, b) for w in ("ALIF512R", "ALIF256F-ALIF256R",
                                                   "ALIF1024F512R") for b in (1, 64)],
                  peer_training=[(w, 64) for w in ("ALIF512R", "ALIF256F-ALIF256R",
                                                   "ALIF1024F512R")],
                  brian2=["ALIF512R", "ALIF256F-ALIF256R", "ALIF1024F512R"], peer_rounds=5,
                  prop_neurons=4096, prop_densities=(1.0, 0.3, 0.1, 0.03, 0.01),
                  prop_rates=(5.0, 20.0, 50.0, 100.0, 200.0), prop_timesteps=1000,
                  prop_rounds=5, build_repeats=3),
}


def layer_names(workload: Workload) -> list[str]:
    """Names of the hidden populations of ``workload``.

    Returns
    -------
    list of str
        ``["hidden"]`` for one layer, else ``hidden{k}_rec`` / ``hidden{k}_ff`` per layer.
    """
    if len(workload.layers) == 1:
        return ["hidden"]
    return [f"hidden{k}_{'rec' if rec else 'ff'}" for k, (_, rec) in enumerate(workload.layers)]


def make_spec(workload: Workload, seed: int = 1) -> dict:
    """Weights (NumPy, irsnn's ``(pre, post)`` orientation; None for FixedProbability ones,
    which irsnn draws itself) and neuron parameters, shared by irsnn and the peers."""
    rng = np.random.default_rng(seed)
    layers, n_in = [], workload.num_input
    for name, (n, rec) in zip(layer_names(workload), workload.layers):
        layer = {"name": name, "size": n, "recurrent": rec, "fan_in": n_in}
        if workload.dense:
            layer["w_in"] = rng.normal(0.0, 1.0 / math.sqrt(n_in), (n_in, n)).astype(np.float32)
            if rec:
                layer["w_rec"] = rng.normal(0.0, 1.0 / math.sqrt(n), (n, n)).astype(np.float32)
        layers.append(layer)
        n_in = n
    w_out = rng.normal(0.0, 1.0 / math.sqrt(n_in), (n_in, NUM_OUTPUT)).astype(np.float32)
    return {**NEURON, "num_input": workload.num_input, "layers": layers, "w_out": w_out,
            "p": workload.p}


def build_network(workload: Workload, spec: dict, max_spikes: int):
    """The irsnn Network of ``spec``: ``(net, input, [hidden...], output, connections)``;
    ``connections`` lists ``(pre name, post name, num_pre, fan-out)`` for event counting."""
    from irsnn import Connection, Network, Population
    from irsnn.connectivity import Dense, FixedProbability
    from irsnn.initializers import Normal
    from irsnn.neurons import AdaptiveLeakyIntegrateFire, LeakyIntegrate, SpikeInput

    net = Network()
    conns = []
    with net:
        inp = Population(SpikeInput(max_spikes=max_spikes), workload.num_input, name="input")
        prev, hidden = inp, []
        for layer in spec["layers"]:
            hid = Population(AdaptiveLeakyIntegrateFire(v_thresh=spec["v_thresh"],
                                                        tau_refrac=spec["tau_refrac"]),
                             layer["size"], name=layer["name"])
            pairs = [(prev, "w_in", layer["fan_in"])]
            if layer["recurrent"]:
                pairs.append((hid, "w_rec", layer["size"]))
            for src, key, fan_in in pairs:
                if workload.dense:
                    conn, fan_out = Dense(layer[key]), layer["size"]
                else:
                    sd = 1.0 / math.sqrt(workload.p * fan_in)
                    conn = FixedProbability(workload.p, Normal(mean=0.0, sd=sd))
                    fan_out = workload.p * layer["size"]
                Connection(src, hid, conn, name=f"{src.name}_{hid.name}")
                conns.append((src.name, hid.name, int(np.prod(src.shape)), fan_out))
            hidden.append(hid)
            prev = hid
        out = Population(LeakyIntegrate(tau_mem=spec["out_tau_mem"], readout="sum_var"),
                         NUM_OUTPUT, name="output")
        Connection(prev, out, Dense(spec["w_out"]), name=f"{prev.name}_output")
        conns.append((prev.name, "output", spec["layers"][-1]["size"], NUM_OUTPUT))
    return net, inp, hidden, out, conns


def poisson_input(batch: int, timesteps: int, num_input: int, rate_hz: float = INPUT_RATE_HZ,
                  seed: int = 0) -> np.ndarray:
    """Dense 0/1 spikes ``(timesteps, batch, num_input)`` (uint8), Poisson at ``rate_hz``."""
    rng = np.random.default_rng(seed)
    p = 1.0 - math.exp(-rate_hz * DT / 1000.0)
    return (rng.random((timesteps, batch, num_input)) < p).astype(np.uint8)


def preprocessed(x: np.ndarray) -> list:
    """``(timesteps, batch, n)`` 0/1 spikes -> one PreprocessedSpikes per example."""
    from irsnn.utils.data import preprocess_spikes
    out = []
    for b in range(x.shape[1]):
        steps, ids = np.nonzero(x[:, b, :])
        out.append(preprocess_spikes(steps * DT, ids, x.shape[2]))
    return out


def max_spikes_for(x: np.ndarray) -> int:
    """``SpikeInput(max_spikes=...)`` for the 0/1 spikes ``x``: their count plus 10% and 1024."""
    return int(x.sum() * 1.1) + 1024
