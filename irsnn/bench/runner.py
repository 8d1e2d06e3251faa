"""The ``irsnn bench`` run: irsnn's entries, the peers', propagation and build time.

Requires NumPy, irsnn's compilers and backends, :mod:`irsnn.bench.workloads` (what runs),
:mod:`irsnn.bench.measure` (how it is measured), :mod:`irsnn.bench.peers` (the peers) and
:mod:`irsnn.bench.report` (the files written).

Provides :func:`run_bench` (one whole run, as ``irsnn bench`` does it) and the entries it is
made of: :func:`run_irsnn` (one workload on one backend: inference, or e-prop training),
:func:`run_propagation` (the propagation microbenchmark) and :func:`run_build_time`.

A run measures, in this order: the triad, irsnn's inference and training entries on every
requested backend (the NumPy reference, in :data:`SLOW_BACKENDS`, gets fewer and shorter
ones), the peers, the propagation microbenchmark (synaptic events/s vs connection density
and input rate) and the build time cold (fresh kernel cache) and warm (cache hit) of
``Size.build_workload``. An entry that fails is logged and listed as skipped; the run goes on.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .environment import kernel_cache_at
from .measure import (backend_info, event_figures, learning_bytes, machine_info, measure_triad,
                      peak_memory, throughput, timed_rounds, traffic_figures)
from .peers import PEERS, load_peer, run_peer
from .report import describe_entry, ratios, write_outputs
from .workloads import (DT, NUM_OUTPUT, SIZES, WORKLOADS, Size, build_network, make_spec,
                        max_spikes_for, poisson_input, preprocessed)

SLOW_BACKENDS = ("reference",)


# -- irsnn entries -------------------------------------------------------------------------------
def _compile(net, mode: str, backend: str, timesteps: int, batch: int):
    """``net`` compiled for ``mode`` (``inference``, ``training`` or ``training-online``)."""
    from irsnn.compilers import EPropCompiler, InferenceCompiler
    if mode == "inference":
        return InferenceCompiler(evaluate_timesteps=timesteps, dt=DT, batch_size=batch,
                                 rng_seed=1, backend=backend).compile(net)
    # "training": event-driven e-prop (the default); "training-online": per-synapse
    # traces every step (mlGeNN's algorithm)
    return EPropCompiler(example_timesteps=timesteps, dt=DT, batch_size=batch,
                         losses="sparse_categorical_crossentropy", rng_seed=1,
                         backend=backend, gradient_mode="online"
                         if mode == "training-online" else "event").compile(net)


def _run_batch(compiled, mode: str, inputs: dict, out, y, callbacks: list):
    """One ``predict`` (inference) or one training epoch of the batch; ``(metrics, cb_data)``."""
    if mode == "inference":
        return compiled.predict(inputs, [out], callbacks=callbacks)
    return compiled.train(inputs, {out: y}, num_epochs=1, shuffle=False, callbacks=callbacks)


def _timed_and_recorded(compiled, mode: str, inp, xs: list, out, y, hidden: list,
                        rounds: int) -> tuple[list, dict]:
    """A warm-up, ``rounds`` timed rounds, then one untimed run that records the hidden
    layers' spike counts; ``(round times, callback data)``."""
    from irsnn.callbacks import SpikeRecorder

    def one():
        return _run_batch(compiled, mode, {inp: xs}, out, y, [])
    one()  # warm-up
    times = timed_rounds(one, rounds)
    recs = [SpikeRecorder(h, key=h.name, record_counts=True) for h in hidden]
    _, cb = _run_batch(compiled, mode, {inp: xs}, out, y, recs)
    return times, cb


def _firing_rates(x: np.ndarray, hidden: list, cb: dict, timesteps: int) -> dict:
    """Firing rates (Hz) of the input ``x`` and of each hidden population, from ``cb``."""
    rates = {"input": float(x.mean()) / (DT / 1000.0)}
    for h in hidden:
        counts = np.stack(cb[h.name])
        rates[h.name] = float(counts.sum() / (counts.size * timesteps * DT) * 1000.0)
    return rates


def _add_figures(entry: dict, rates: dict, conns: list, learning: tuple | None,
                 triad: dict | None) -> None:
    """Add firing rates, synaptic events, synapse updates and memory traffic to ``entry``;
    ``learning`` is :func:`~irsnn.bench.measure.learning_bytes`' result when training."""
    ets = entry["example_timesteps_per_s"]
    entry["rates_hz"] = rates
    events = sum(rates[pre] * DT / 1000.0 * n_pre * fan_out for pre, _, n_pre, fan_out in conns)
    entry.update(event_figures(events, ets))
    counted = 4.0 * events
    if learning is not None:
        n_syn, learn_bytes = learning
        entry["trained_synapses"] = n_syn
        entry["synapse_updates_per_s"] = n_syn * ets
        counted += learn_bytes
    entry.update(traffic_figures(counted, ets, entry["batch"], triad))


def run_irsnn(workload_name: str, backend: str, mode: str, batch: int, timesteps: int,
              rounds: int, triad: dict | None) -> dict:
    """Run workload ``workload_name`` on irsnn's ``backend``.

    ``mode`` is ``"inference"`` (``predict`` of one batch), ``"training"`` (one epoch of
    event-driven e-prop) or ``"training-online"`` (the per-synapse online rule). ``triad`` (of
    :func:`~irsnn.bench.measure.measure_triad`) adds the fractions of the triad bandwidth.

    Returns
    -------
    dict
        The result entry (``kind`` ``"irsnn"``): build time, peak memory, throughput, firing
        rates, synaptic events, synapse updates (training) and memory traffic.
    """
    wl = WORKLOADS[workload_name]
    x = poisson_input(batch, timesteps, wl.num_input, seed=batch)
    xs = preprocessed(x)
    y = np.random.default_rng(batch).integers(0, NUM_OUTPUT, batch)
    entry = {"mode": mode, "workload": workload_name, "engine": backend, "kind": "irsnn",
             "batch": batch, "timesteps": timesteps, "rounds": rounds}
    training = mode.startswith("training")
    with peak_memory() as mem:
        net, inp, hidden, out, conns = build_network(wl, make_spec(wl), max_spikes_for(x))
        t0 = time.perf_counter()
        compiled = _compile(net, mode, backend, timesteps, batch)
        with compiled:
            compiled.simulation  # noqa: B018 (build)
            entry["build_s"] = time.perf_counter() - t0
            times, cb = _timed_and_recorded(compiled, mode, inp, xs, out, y, hidden, rounds)
            learning = learning_bytes(compiled, timesteps * batch) if training else None
    entry.update(mem)
    entry.update(throughput(times, timesteps, batch))
    _add_figures(entry, _firing_rates(x, hidden, cb, timesteps), conns, learning, triad)
    if not wl.dense:
        entry["note"] = ("FixedProbability (ragged layout at p <= 0.25); synapse counts "
                         "are num_pre x num_post")
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
    """Seconds to compile and build ``workload_name`` for inference on ``backend``."""
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
    for _ in range(repeats):
        with (tempfile.TemporaryDirectory(prefix="irsnn-bench-cache-") as tmp,
              kernel_cache_at(tmp)):
            cold.append(_timed_build(backend, workload_name))
            warm.append(_timed_build(backend, workload_name))
    return {"engine": backend, "workload": workload_name, "cold_s": min(cold),
            "warm_s": min(warm), "cold_s_all": cold, "warm_s_all": warm}



# -- the run -------------------------------------------------------------------------------------
def _log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f}] {msg}",
          file=sys.stderr, flush=True)


@dataclasses.dataclass
class _Run:
    """The result dict of a run being filled, and the log it reports to."""
    result: dict
    log: Callable[[str], None]

    def __post_init__(self):
        machine = self.result["machine"]
        self.versions = {"irsnn": machine.get("irsnn"), "numpy": np.__version__}
        self.machine_short = {k: machine.get(k) for k in ("hostname", "cpu", "cpus")}

    def add(self, entry: dict, engine_version, device) -> None:
        """Stamp ``entry`` with device, versions, machine and load; append and log it."""
        entry.update(device=device, version=engine_version, machine=self.machine_short,
                     versions=self.versions, load=os.getloadavg())
        self.result["entries"].append(entry)
        self.log(describe_entry(entry))

    def attempt(self, what: str, fn, *args):
        """``fn(*args)``, or None after logging a failure and listing ``what`` as skipped."""
        try:
            return fn(*args)
        except Exception as exc:  # noqa: BLE001 - one failed entry must not end the run
            self.log(f"{what}: FAILED: {type(exc).__name__}: {exc}")
            self.result["skipped"].append({"engine": what, "reason": f"failed: {exc}"})
            return None


def _chosen_backends(backends, avail: dict) -> list:
    """``backends``, or every available one when None; unknown names raise ModelError."""
    if backends is None:
        backends = [n for n, (ok, _) in avail.items() if ok]
    unknown = [b for b in backends if b not in avail]
    if unknown:
        from irsnn.errors import ModelError
        raise ModelError(f"unknown backend(s) {unknown}; use some of {list(avail)}")
    return backends


def _new_result(size: str, backends: list, avail: dict) -> dict:
    """The result dict before anything runs: the machine, unavailable backends as skipped,
    and what became of the GPU."""
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
    return result


def _logged_triad(size: str, log) -> dict:
    """:func:`~irsnn.bench.measure.measure_triad` (smaller for ``tiny``), logged."""
    triad = measure_triad(small=(size == "tiny"))
    log(f"triad (GB/s): 1 thread {triad['serial']['dram']:.1f} DRAM / "
        f"{triad['serial']['cache']:.1f} cache; OpenMP {triad['omp']['dram']:.1f} / "
        f"{triad['omp']['cache']:.1f} ({triad['source']})")
    return triad


def _irsnn_plan(cfg: Size, backend: str) -> list[tuple]:
    """``(mode, workload, batch, rounds)`` of irsnn's entries on ``backend``."""
    if backend in SLOW_BACKENDS:
        return ([("inference", w, bs, r) for w, bs, r in cfg.slow_inference]
                + [("training", w, bs, r) for w, bs, r in cfg.slow_training])
    return ([("inference", w, bs, cfg.rounds_b1 if bs == 1 else cfg.rounds_batch)
             for w, sizes in cfg.inference for bs in sizes]
            + [("training", w, bs, cfg.train_rounds)
               for w, sizes in cfg.training for bs in sizes])


def _run_irsnn_entries(run: _Run, cfg: Size, backends: list, triad: dict) -> None:
    for b in backends:
        info = run.result["backends"][b]
        for mode, w, bs, rounds in _irsnn_plan(cfg, b):
            e = run.attempt(f"{b} {mode} {w} batch {bs}", run_irsnn, w, b, mode, bs,
                            cfg.timesteps, rounds, triad)
            if e is not None:
                run.add(e, info["version"], info["device"])


def _peer_plan(cfg: Size, name: str) -> list[tuple]:
    """``(mode, workload, batch)`` of peer ``name``'s entries."""
    if name == "brian2":
        return [("inference", w, 1) for w in cfg.brian2]
    return ([("inference", w, bs) for w, bs in cfg.peer_inference]
            + [("training", w, bs) for w, bs in cfg.peer_training])


def _run_peer_entries(run: _Run, cfg: Size, peers) -> None:
    with tempfile.TemporaryDirectory(prefix="irsnn-bench-") as workdir:
        for name in peers:
            module, why = load_peer(name)
            if module is None:
                run.log(f"peer {name}: skipped: {why}")
                run.result["skipped"].append({"engine": name, "reason": why})
                continue
            for mode, w, bs in _peer_plan(cfg, name):
                e = run.attempt(f"{name} {mode} {w} batch {bs}", run_peer, module, w, mode, bs,
                                cfg.timesteps, cfg.peer_rounds, Path(workdir))
                if e is not None:
                    run.add(e, e.get("version"), e.get("device"))


def _run_propagation_entries(run: _Run, cfg: Size, backends: list) -> None:
    for b in backends:
        combos = ([(1.0, cfg.prop_rates[len(cfg.prop_rates) // 2])] if b in SLOW_BACKENDS
                  else [(d, r) for d in cfg.prop_densities for r in cfg.prop_rates])
        for d, r in combos:
            e = run.attempt(f"{b} propagation p={d} {r} Hz", run_propagation, b,
                            cfg.prop_neurons, d, r, cfg.prop_timesteps, cfg.prop_rounds)
            if e is not None:
                e["device"] = run.result["backends"][b]["device"]
                run.result["propagation"].append(e)
                run.log(f"propagation {b} p={d} {r:g} Hz: {e['synaptic_events_per_s']:.3g} "
                        f"events/s")


def _run_build_entries(run: _Run, cfg: Size, backends: list) -> None:
    for b in backends:
        e = run.attempt(f"{b} build", run_build_time, b, cfg.build_workload, cfg.build_repeats)
        if e is not None:
            run.result["build"].append(e)
            run.log(f"build {cfg.build_workload} {b}: cold {e['cold_s']:.3f} s, warm "
                    f"{e['warm_s']:.3f} s")


def run_bench(size: str = "small", backends=None, peers=PEERS, out: str | Path | None = None,
              propagation: bool = True, build_time: bool = True, log=_log) -> dict:
    """Run everything for ``size``; returns the result dict (also written to ``out``).

    Parameters
    ----------
    size
        A key of :data:`irsnn.bench.workloads.SIZES` (``tiny``, ``small``, ``paper``).
    backends
        irsnn backends to measure; None: every available one. Requested but unavailable
        ones are listed as skipped; unknown names raise ``ModelError``.
    peers
        Names of the peers to run (each skipped with its reason when it cannot run).
    out
        Folder for ``bench.json``, ``bench.md`` and ``bench.png``; None writes nothing.
    propagation, build_time
        Whether to run the propagation microbenchmark and the build-time measurement.
    log
        Called with one line of progress at a time.
    """
    from irsnn.backends import available_backends
    cfg = SIZES[size]
    avail = available_backends()
    backends = _chosen_backends(backends, avail)
    result = _new_result(size, backends, avail)
    run_backends = [b for b in backends if avail[b][0]]
    for b in run_backends:
        result["backends"][b] = backend_info(b)
    log(f"size {size}; backends {run_backends}; measuring the triad")
    result["triad"] = triad = _logged_triad(size, log)
    run = _Run(result, log)
    _run_irsnn_entries(run, cfg, run_backends, triad)
    _run_peer_entries(run, cfg, peers)
    if propagation:
        _run_propagation_entries(run, cfg, run_backends)
    if build_time:
        _run_build_entries(run, cfg, run_backends)
    result["load_end"] = os.getloadavg()
    result["ratios"] = ratios(result)
    if out is not None:
        result["files"] = write_outputs(result, Path(out), log=log)
    return result
