"""``irsnn bench``: backend-comparison benchmarks and side-by-side peers in one run (issue 8).

One run produces one table (JSON + Markdown + a PNG bar chart when matplotlib is installed):

* **inference** (``CompiledInferenceNetwork.predict`` of one batch) and **e-prop training**
  (``CompiledTrainingNetwork.train`` of one batch: forward pass, event-driven gradients, one
  Adam step; ``training-online`` entries of :func:`run_irsnn` use the per-synapse online rule)
  of the workloads below, on every requested backend;
* the same architecture, input and timesteps on the **peers** (Norse and snnTorch on PyTorch
  CPU: forward and BPTT training; Brian2: inference), each optional and skipped with a reason
  (their code lives in ``benchmarks/peers/`` of a source checkout);
* a **propagation microbenchmark** (synaptic events/s vs connection density and input rate);
* **build time** cold (fresh kernel cache) and warm (cache hit) of ALIF512R;
* a STREAM-like **triad** measured in the same run (:mod:`irsnn.bench.triad`), so the memory
  traffic of each run is given as a fraction of it.

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

Figures (every entry also records machine, backend, device and versions):

* ``timesteps_per_s`` (mean round) and ``example_timesteps_per_s`` = batch x that;
* ``synaptic_events_per_s``: spikes x fan-out (connected synapses; ``p x num_post`` expected for
  FixedProbability) per second, from firing rates measured in an extra untimed run;
* ``synapse_updates_per_s`` (training): trained synapses x example-timesteps/s (the online
  rule updates the eligibility trace of every stored synapse every step; event-driven e-prop,
  the default, computes the same gradients without doing so, so for it this is the equivalent
  rate);
* ``peak_mem_mb``: peak resident set size during the entry (build, warm-up and timed rounds)
  above the RSS at its start, from ``/proc/self/status`` ``VmHWM`` after resetting it through
  ``/proc/self/clear_refs`` (Linux); where that is not possible, the growth of
  ``resource.getrusage`` ``ru_maxrss`` (only shows growth beyond the process's earlier peak).
  Memory freed by earlier entries and reused by the allocator is not counted again;
* ``fraction_of_triad``: bytes counted per example-timestep x example-timesteps/s over the DRAM
  triad bandwidth (1-thread triad for batch 1, OpenMP triad otherwise). Counted: 4 bytes of
  weight per synaptic event, plus, when training, each per-synapse learning variable read
  (and written when read-write) once per example-timestep (online rule), or the weight and
  two Adam moments read and written once per batch (event-driven).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import importlib
import importlib.util
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DT = 1.0
INPUT_RATE_HZ = 20.0
NUM_OUTPUT = 11
NEURON = {"v_thresh": 0.6, "tau_mem": 20.0, "tau_adapt": 2000.0, "beta": 0.0174,
          "tau_refrac": 5.0, "out_tau_mem": 20.0, "dt": DT}
SPARSE_P = 0.1
PEERS = ("norse", "snntorch", "brian2")
SLOW_BACKENDS = ("reference",)


# -- workloads -----------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Workload:
    """Hidden layers ``(size, recurrent)``; ``p`` set: FixedProbability input/recurrent."""
    layers: tuple
    p: float | None = None
    num_input: int = 2048

    @property
    def dense(self) -> bool:
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
    return int(x.sum() * 1.1) + 1024


# -- measurement helpers -------------------------------------------------------------------------
def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


@contextlib.contextmanager
def peak_memory():
    """Yields a dict that gets ``peak_mem_mb`` and ``mem_method`` on exit."""
    res = {}
    method = "VmHWM after clear_refs"
    try:
        Path("/proc/self/clear_refs").write_text("5")
        base = _status_kb("VmRSS")
        if base is None:
            raise OSError
    except OSError:
        method = "ru_maxrss growth"
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        yield res
    finally:
        if method.startswith("VmHWM"):
            peak = _status_kb("VmHWM") or base
        else:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        res["peak_mem_mb"] = max(0, peak - base) / 1024.0
        res["mem_method"] = method


def timed_rounds(fn, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def throughput(times, timesteps: int, batch: int) -> dict:
    mean, best = float(np.mean(times)), float(np.min(times))
    return {"times_s": [float(t) for t in times], "timesteps_per_s": timesteps / mean,
            "example_timesteps_per_s": batch * timesteps / mean,
            "best_timesteps_per_s": timesteps / best,
            "best_example_timesteps_per_s": batch * timesteps / best}


def measure_triad(small: bool = False) -> dict:
    """``{"serial": {"dram", "cache"}, "omp": {...}, "source": ...}`` in GB/s (1e9 B/s)."""
    mib = 1 << 20
    sizes = {"dram": (16 if small else 64) * mib, "cache": 4 * mib}
    from .triad import triad_gbs
    out = {"source": "irsnn.bench.triad", "array_bytes": sizes}
    for kind, parallel in (("serial", False), ("omp", True)):
        out[kind] = {}
        for k, size in sizes.items():
            reps = 5 if small else (10 if k == "dram" else 50)
            out[kind][k] = triad_gbs(parallel, size, reps=reps)
    return out


def learning_bytes(compiled, example_timesteps_per_step: int = 1) -> tuple[int, float]:
    """``(trained synapses, bytes per example-timestep)`` of the per-synapse learning
    variables in the compiled IR (read, and written if read-write). Online e-prop moves them
    every example-timestep; event-driven e-prop touches per-synapse memory only in the
    optimiser step (weight, two Adam moments: read and written), once per
    ``example_timesteps_per_step`` example-timesteps (a batch)."""
    from irsnn.ir import SynapseGroup
    n_syn, nbytes = 0, 0.0
    for _, _, _, syn in compiled.ir.edges(SynapseGroup):
        lr = getattr(syn, "learning", None)
        if lr is None:
            continue
        n = syn.num_pre * syn.num_post
        n_syn += n
        if lr.backward:
            nbytes += n * 3 * 2 * 4 / example_timesteps_per_step
            continue
        per = 0
        for var in lr.vars:
            if var.shape != "synapse":
                continue
            size = 8 if "double" in str(var.type) else 4
            per += size * (2 if var.access == "readwrite" else 1)
        nbytes += n * per
    return n_syn, nbytes


def machine_info() -> dict:
    info = {"hostname": platform.node(), "platform": platform.platform(),
            "machine": platform.machine(), "cpus": os.cpu_count(),
            "python": platform.python_version(), "numpy": np.__version__,
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds")}
    try:
        import irsnn
        info["irsnn"] = getattr(irsnn, "__version__", "?")
    except ImportError:  # pragma: no cover
        pass
    try:
        from irsnn.backends.native import toolchain
        info["cpu"] = toolchain.cpu_name()
        cc = toolchain.find_compiler()
        info["c_compiler"] = toolchain.compiler_version(cc) if cc else None
    except Exception:  # noqa: BLE001
        info["cpu"] = platform.processor()
    try:
        root = Path(__file__).resolve().parents[1]
        rev = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "-uno"],
                               capture_output=True, text=True, timeout=10)
        if rev.returncode == 0:
            info["git"] = rev.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.TimeoutExpired):
        pass
    return info


def backend_info(name: str) -> dict:
    from irsnn.backends import load_backend
    info = {"device": "?", "version": None}
    try:
        devices = load_backend(name).devices()
        info["device"] = ", ".join(devices) if devices else "-"
    except Exception as exc:  # noqa: BLE001
        info["device"] = f"? ({exc})"
    if name == "opencl":
        with contextlib.suppress(Exception):
            import pyopencl
            info["version"] = f"pyopencl {pyopencl.VERSION_TEXT}"
    elif name == "cuda":
        with contextlib.suppress(Exception):
            import cupy
            info["version"] = f"cupy {cupy.__version__}"
    elif name == "c":
        with contextlib.suppress(Exception):
            from irsnn.backends.native import toolchain
            info["version"] = toolchain.compiler_version(toolchain.find_compiler())
    else:
        info["version"] = f"numpy {np.__version__}"
    return info


# -- irsnn entries -------------------------------------------------------------------------------
def run_irsnn(workload_name: str, backend: str, mode: str, batch: int, timesteps: int,
              rounds: int, triad: dict | None) -> dict:
    from irsnn.callbacks import SpikeRecorder
    from irsnn.compilers import EPropCompiler, InferenceCompiler

    wl = WORKLOADS[workload_name]
    spec = make_spec(wl)
    x = poisson_input(batch, timesteps, wl.num_input, seed=batch)
    xs = preprocessed(x)
    y = np.random.default_rng(batch).integers(0, NUM_OUTPUT, batch)
    entry = {"mode": mode, "workload": workload_name, "engine": backend, "kind": "irsnn",
             "batch": batch, "timesteps": timesteps, "rounds": rounds}
    with peak_memory() as mem:
        net, inp, hidden, out, conns = build_network(wl, spec, max_spikes_for(x))
        t0 = time.perf_counter()
        if mode == "inference":
            compiled = InferenceCompiler(evaluate_timesteps=timesteps, dt=DT, batch_size=batch,
                                         rng_seed=1, backend=backend).compile(net)
        else:
            # "training": event-driven e-prop (the default); "training-online": per-synapse
            # traces every step (mlGeNN's algorithm)
            compiled = EPropCompiler(example_timesteps=timesteps, dt=DT, batch_size=batch,
                                     losses="sparse_categorical_crossentropy", rng_seed=1,
                                     backend=backend, gradient_mode="online"
                                     if mode == "training-online" else "event").compile(net)
        with compiled:
            compiled.simulation  # noqa: B018 (build)
            entry["build_s"] = time.perf_counter() - t0
            if mode == "inference":
                def one():
                    return compiled.predict({inp: xs}, [out], callbacks=[])
            else:
                def one():
                    return compiled.train({inp: xs}, {out: y}, num_epochs=1, shuffle=False,
                                          callbacks=[])
            one()  # warm-up
            times = timed_rounds(one, rounds)
            recs = [SpikeRecorder(h, key=h.name, record_counts=True) for h in hidden]
            if mode == "inference":
                _, cb = compiled.predict({inp: xs}, [out], callbacks=recs)
            else:
                _, cb = compiled.train({inp: xs}, {out: y}, num_epochs=1, shuffle=False,
                                       callbacks=recs)
            n_syn, learn_bytes = (learning_bytes(compiled, timesteps * batch)
                                  if mode.startswith("training") else (0, 0))
    entry.update(mem)
    entry.update(throughput(times, timesteps, batch))
    rates = {"input": float(x.mean()) / (DT / 1000.0)}
    for h in hidden:
        counts = np.stack(cb[h.name])
        rates[h.name] = float(counts.sum() / (counts.size * timesteps * DT) * 1000.0)
    entry["rates_hz"] = rates
    events = sum(rates[pre] * DT / 1000.0 * n_pre * fan_out for pre, _, n_pre, fan_out in conns)
    entry["events_per_example_timestep"] = events
    entry["synaptic_events_per_s"] = events * entry["example_timesteps_per_s"]
    counted = 4.0 * events
    if mode.startswith("training"):
        entry["trained_synapses"] = n_syn
        entry["synapse_updates_per_s"] = n_syn * entry["example_timesteps_per_s"]
        counted += learn_bytes
    entry["bytes_per_example_timestep"] = counted
    entry["gbs"] = counted * entry["example_timesteps_per_s"] / 1e9
    if triad:
        kind = "serial" if batch == 1 else "omp"
        entry["triad_kind"] = kind
        entry["fraction_of_triad"] = entry["gbs"] / triad[kind]["dram"]
        entry["fraction_of_cache_triad"] = entry["gbs"] / triad[kind]["cache"]
    if not wl.dense:
        entry["note"] = ("FixedProbability (ragged layout at p <= 0.25); synapse counts "
                         "are num_pre x num_post")
    return entry


# -- peers ---------------------------------------------------------------------------------------
def peers_dir() -> Path | None:
    env = os.environ.get("IRSNN_BENCH_PEERS")
    for cand in ([Path(env)] if env else [
            # a source checkout: <root>/irsnn/bench/__init__.py -> <root>/benchmarks/peers
            Path(__file__).resolve().parents[2] / "benchmarks" / "peers",
            Path.cwd() / "benchmarks" / "peers"]):
        if (cand / "norse_peer.py").is_file():
            return cand
    return None


def load_peer(name: str):
    """The peer module, or ``(None, reason)``."""
    folder = peers_dir()
    if folder is None:
        return None, ("benchmarks/peers/ not found (run from a source checkout or set "
                      "IRSNN_BENCH_PEERS)")
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    try:
        module = importlib.import_module(f"{name}_peer")
    except Exception as exc:  # noqa: BLE001
        return None, f"{name}_peer failed to import: {exc}"
    ok, why = module.available()
    return (module, "") if ok else (None, why)


def run_peer(module, workload_name: str, mode: str, batch: int, timesteps: int, rounds: int,
             workdir: Path) -> dict:
    wl = WORKLOADS[workload_name]
    spec = make_spec(wl)
    x = poisson_input(batch, timesteps, wl.num_input, seed=batch)
    y = np.random.default_rng(batch).integers(0, NUM_OUTPUT, batch)
    entry = {"mode": mode, "workload": workload_name, "engine": module.NAME, "kind": "peer",
             "batch": batch, "timesteps": timesteps, "rounds": rounds}
    if module.NAME == "brian2":
        res = module.run(spec, x, y, mode, rounds, workdir)
        res["peak_mem_mb"] = None
        res["mem_method"] = "not measured (subprocess)"
    else:
        with peak_memory() as mem:
            res = module.run(spec, x.astype(np.float32), y, mode, rounds)
        res.update(mem)
    res["rates_hz"] = {"input": float(x[:, :1 if module.NAME == "brian2" else batch].mean())
                       / (DT / 1000.0), **res["rates_hz"]}
    entry.update(res)
    ets = entry["example_timesteps_per_s"]
    n_in, events, n_syn = wl.num_input, 0.0, 0
    prev_rate = entry["rates_hz"]["input"]
    for layer in spec["layers"]:
        pre_rate = prev_rate
        events += pre_rate * DT / 1000.0 * n_in * layer["size"]
        n_syn += n_in * layer["size"]
        prev_rate = entry["rates_hz"].get(layer["name"], 0.0)
        if layer["recurrent"]:
            events += prev_rate * DT / 1000.0 * layer["size"] ** 2
            n_syn += layer["size"] ** 2
        n_in = layer["size"]
    events += prev_rate * DT / 1000.0 * n_in * NUM_OUTPUT
    entry["events_per_example_timestep"] = events
    entry["synaptic_events_per_s"] = events * ets
    if mode == "training":
        entry["trained_synapses"] = n_syn + n_in * NUM_OUTPUT
        entry["synapse_updates_per_s"] = None  # BPTT: no per-step synapse update
    return entry


# -- propagation and build time ------------------------------------------------------------------
def run_propagation(backend: str, n: int, density: float, rate_hz: float, timesteps: int,
                    rounds: int) -> dict:
    """``n`` SpikeInput neurons at ``rate_hz`` -> ``n`` LeakyIntegrate neurons, Dense (density
    1) or FixedProbability(density) stored ragged (``layout="sparse"``: the pass would store
    its constant weight as a bitmask), batch 1: synaptic events/s."""
    from irsnn import Connection, Network, Population
    from irsnn.compilers import InferenceCompiler
    from irsnn.connectivity import Dense, FixedProbability
    from irsnn.neurons import LeakyIntegrate, SpikeInput

    x = poisson_input(1, timesteps, n, rate_hz, seed=7)
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=max_spikes_for(x)), n, name="input")
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"), n, name="output")
        conn = Dense(0.001) if density >= 1.0 else FixedProbability(density, 0.001,
                                                                    layout="sparse")
        Connection(inp, out, conn, name="prop")
    compiled = InferenceCompiler(evaluate_timesteps=timesteps, dt=DT, batch_size=1, rng_seed=1,
                                 backend=backend).compile(net)
    xs = preprocessed(x)
    with compiled:
        def one():
            return compiled.predict({inp: xs}, [out], callbacks=[])
        one()
        times = timed_rounds(one, rounds)
    events = float(x.sum()) * density * n
    mean, best = float(np.mean(times)), float(np.min(times))
    return {"engine": backend, "neurons": n, "density": density, "rate_hz": rate_hz,
            "measured_rate_hz": float(x.mean()) / (DT / 1000.0), "timesteps": timesteps,
            "times_s": times, "synaptic_events_per_s": events / mean,
            "best_synaptic_events_per_s": events / best,
            "ns_per_event": 1e9 * mean / events if events else None,
            "timesteps_per_s": timesteps / mean,
            "storage": "dense" if density >= 1.0 else "FixedProbability"}


def _timed_build(backend: str, workload_name: str) -> float:
    from irsnn.compilers import InferenceCompiler
    wl = WORKLOADS[workload_name]
    net = build_network(wl, make_spec(wl), 1 << 18)[0]
    t0 = time.perf_counter()
    compiled = InferenceCompiler(evaluate_timesteps=100, batch_size=1, rng_seed=1,
                                 backend=backend).compile(net)
    compiled.simulation  # noqa: B018
    return time.perf_counter() - t0


def run_build_time(backend: str, workload_name: str, repeats: int) -> dict:
    """Cold: ``XDG_CACHE_HOME`` pointed at a fresh directory; warm: a second build with it."""
    cold, warm = [], []
    old = os.environ.get("XDG_CACHE_HOME")
    try:
        for _ in range(repeats):
            with tempfile.TemporaryDirectory(prefix="irsnn-bench-cache-") as tmp:
                os.environ["XDG_CACHE_HOME"] = tmp
                cold.append(_timed_build(backend, workload_name))
                warm.append(_timed_build(backend, workload_name))
    finally:
        if old is None:
            os.environ.pop("XDG_CACHE_HOME", None)
        else:
            os.environ["XDG_CACHE_HOME"] = old
    return {"engine": backend, "workload": workload_name, "cold_s": min(cold),
            "warm_s": min(warm), "cold_s_all": cold, "warm_s_all": warm}


# -- the run -------------------------------------------------------------------------------------
def _log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f}] {msg}",
          file=sys.stderr, flush=True)


def run_bench(size: str = "small", backends=None, peers=PEERS, out: str | Path | None = None,
              propagation: bool = True, build_time: bool = True, log=_log) -> dict:
    """Run everything for ``size``; returns the result dict (also written to ``out``)."""
    from irsnn.backends import available_backends
    cfg = SIZES[size]
    avail = available_backends()
    if backends is None:
        backends = [n for n, (ok, _) in avail.items() if ok]
    unknown = [b for b in backends if b not in avail]
    if unknown:
        from irsnn.errors import ModelError
        raise ModelError(f"unknown backend(s) {unknown}; use some of {list(avail)}")
    result = {"size": size, "machine": machine_info(), "load_start": os.getloadavg(),
              "entries": [], "propagation": [], "build": [], "skipped": [], "backends": {}}
    for name, (ok, why) in avail.items():
        if name in backends and not ok:
            result["skipped"].append({"engine": name, "reason": why})
        if name == "cuda" and not ok:
            result["gpu"] = f"absent: {why}"
    if "gpu" not in result:
        result["gpu"] = ("cuda backend included" if "cuda" in backends
                         else "cuda available but not requested")
    run_backends = [b for b in backends if avail[b][0]]
    for b in run_backends:
        result["backends"][b] = backend_info(b)
    log(f"size {size}; backends {run_backends}; measuring the triad")
    result["triad"] = triad = measure_triad(small=(size == "tiny"))
    log(f"triad (GB/s): 1 thread {triad['serial']['dram']:.1f} DRAM / "
        f"{triad['serial']['cache']:.1f} cache; OpenMP {triad['omp']['dram']:.1f} / "
        f"{triad['omp']['cache']:.1f} ({triad['source']})")
    versions = {"irsnn": result["machine"].get("irsnn"), "numpy": np.__version__}
    machine_short = {k: result["machine"].get(k) for k in ("hostname", "cpu", "cpus")}

    def add(entry, engine_version, device):
        entry.update(device=device, version=engine_version, machine=machine_short,
                     versions=versions, load=os.getloadavg())
        result["entries"].append(entry)
        log(describe_entry(entry))

    def safe(what, fn, *args):
        try:
            return fn(*args)
        except Exception as exc:  # noqa: BLE001 - one failed entry must not end the run
            log(f"{what}: FAILED: {type(exc).__name__}: {exc}")
            result["skipped"].append({"engine": what, "reason": f"failed: {exc}"})
            return None

    for b in run_backends:
        info = result["backends"][b]
        slow = b in SLOW_BACKENDS
        plan = []
        if slow:
            plan += [("inference", w, bs, r) for w, bs, r in cfg.slow_inference]
            plan += [("training", w, bs, r) for w, bs, r in cfg.slow_training]
        else:
            plan += [("inference", w, bs, cfg.rounds_b1 if bs == 1 else cfg.rounds_batch)
                     for w, sizes in cfg.inference for bs in sizes]
            plan += [("training", w, bs, cfg.train_rounds)
                     for w, sizes in cfg.training for bs in sizes]
        for mode, w, bs, rounds in plan:
            e = safe(f"{b} {mode} {w} batch {bs}", run_irsnn, w, b, mode, bs, cfg.timesteps,
                     rounds, triad)
            if e is not None:
                add(e, info["version"], info["device"])

    with tempfile.TemporaryDirectory(prefix="irsnn-bench-") as workdir:
        for name in peers:
            module, why = load_peer(name)
            if module is None:
                log(f"peer {name}: skipped: {why}")
                result["skipped"].append({"engine": name, "reason": why})
                continue
            if name == "brian2":
                plan = [("inference", w, 1) for w in cfg.brian2]
            else:
                plan = ([("inference", w, bs) for w, bs in cfg.peer_inference]
                        + [("training", w, bs) for w, bs in cfg.peer_training])
            for mode, w, bs in plan:
                e = safe(f"{name} {mode} {w} batch {bs}", run_peer, module, w, mode, bs,
                         cfg.timesteps, cfg.peer_rounds, Path(workdir))
                if e is not None:
                    add(e, e.get("version"), e.get("device"))

    if propagation:
        for b in run_backends:
            combos = ([(1.0, cfg.prop_rates[len(cfg.prop_rates) // 2])] if b in SLOW_BACKENDS
                      else [(d, r) for d in cfg.prop_densities for r in cfg.prop_rates])
            for d, r in combos:
                e = safe(f"{b} propagation p={d} {r} Hz", run_propagation, b,
                         cfg.prop_neurons, d, r, cfg.prop_timesteps, cfg.prop_rounds)
                if e is not None:
                    e["device"] = result["backends"][b]["device"]
                    result["propagation"].append(e)
                    log(f"propagation {b} p={d} {r:g} Hz: {e['synaptic_events_per_s']:.3g} "
                        f"events/s")
    if build_time:
        for b in run_backends:
            e = safe(f"{b} build", run_build_time, b, cfg.build_workload, cfg.build_repeats)
            if e is not None:
                result["build"].append(e)
                log(f"build {cfg.build_workload} {b}: cold {e['cold_s']:.3f} s, warm "
                    f"{e['warm_s']:.3f} s")
    result["load_end"] = os.getloadavg()
    result["ratios"] = ratios(result)
    if out is not None:
        result["files"] = write_outputs(result, Path(out), log=log)
    return result


# -- reporting -----------------------------------------------------------------------------------


from .report import (describe_entry, markdown, plot, ratios,  # noqa: E402
                     write_outputs)

__all__ = ["run_bench", "run_irsnn", "run_peer", "run_propagation", "run_build_time",
           "measure_triad", "describe_entry", "markdown", "plot", "ratios", "write_outputs"]
