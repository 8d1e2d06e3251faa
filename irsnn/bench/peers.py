"""The peers: the same workloads on Norse, snnTorch and Brian2, side by side with irsnn.

Requires NumPy, :mod:`irsnn.bench.workloads` (weights and input spikes, shared with irsnn's
entries) and :mod:`irsnn.bench.measure`; the peers' own code lives in ``benchmarks/peers/`` of
a source checkout (or the folder named by ``IRSNN_BENCH_PEERS``, see
:mod:`irsnn.bench.environment`), one ``<name>_peer.py`` module each.

Provides :data:`PEERS`, :func:`peers_dir`, :func:`load_peer` and :func:`run_peer`, which gives
one result entry in the same form as irsnn's (:func:`irsnn.bench.runner.run_irsnn`).

The same architecture, input and timesteps run on the peers (Norse and snnTorch on PyTorch
CPU: forward and BPTT training; Brian2: inference), each optional and skipped with a reason
when its package or the peers' folder is missing. A peer module provides ``NAME``,
``available() -> (ok, reason)`` and ``run(spec, x, y, mode, rounds[, workdir])``, which returns
at least ``example_timesteps_per_s`` and the hidden layers' ``rates_hz``. Its synaptic events
and trained synapses are counted for dense connections (every peer runs them densely).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np

from .environment import peers_folder_setting
from .measure import event_figures, peak_memory
from .workloads import DT, NUM_OUTPUT, WORKLOADS, make_spec, poisson_input

PEERS = ("norse", "snntorch", "brian2")


def peers_dir() -> Path | None:
    """The folder holding the peers' modules (``norse_peer.py`` and the others), or None.

    Looks in ``IRSNN_BENCH_PEERS`` when set, else in ``benchmarks/peers`` of the source
    checkout irsnn runs from and of the current directory.
    """
    env = peers_folder_setting()
    for cand in ([Path(env)] if env else [
            # a source checkout: <root>/irsnn/bench/peers.py -> <root>/benchmarks/peers
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


def _run_module(module, spec: dict, x: np.ndarray, y: np.ndarray, mode: str, rounds: int,
                workdir: Path) -> dict:
    """The peer's own result, with its peak memory (not measured for Brian2, which runs in a
    subprocess)."""
    if module.NAME == "brian2":
        res = module.run(spec, x, y, mode, rounds, workdir)
        res["peak_mem_mb"] = None
        res["mem_method"] = "not measured (subprocess)"
    else:
        with peak_memory() as mem:
            res = module.run(spec, x.astype(np.float32), y, mode, rounds)
        res.update(mem)
    return res


def _dense_counts(spec: dict, rates_hz: dict) -> tuple[float, int]:
    """``(synaptic events per example-timestep, trained synapses)`` of ``spec`` run densely,
    from the firing rates ``rates_hz`` (``input`` and one per hidden layer)."""
    n_in, events, n_syn = spec["num_input"], 0.0, 0
    prev_rate = rates_hz["input"]
    for layer in spec["layers"]:
        pre_rate = prev_rate
        events += pre_rate * DT / 1000.0 * n_in * layer["size"]
        n_syn += n_in * layer["size"]
        prev_rate = rates_hz.get(layer["name"], 0.0)
        if layer["recurrent"]:
            events += prev_rate * DT / 1000.0 * layer["size"] ** 2
            n_syn += layer["size"] ** 2
        n_in = layer["size"]
    events += prev_rate * DT / 1000.0 * n_in * NUM_OUTPUT
    return events, n_syn + n_in * NUM_OUTPUT


def run_peer(module, workload_name: str, mode: str, batch: int, timesteps: int, rounds: int,
             workdir: Path) -> dict:
    """Run workload ``workload_name`` on the peer ``module`` (of :func:`load_peer`).

    Parameters
    ----------
    module
        The peer module.
    workload_name
        A key of :data:`irsnn.bench.workloads.WORKLOADS`.
    mode
        ``"inference"`` or ``"training"``.
    batch, timesteps, rounds
        Batch size, timesteps per example and timed rounds.
    workdir
        A scratch folder (Brian2 writes its inputs and runs there).

    Returns
    -------
    dict
        The result entry (``kind`` ``"peer"``): the peer's own figures and firing rates,
        peak memory, and synaptic events (and trained synapses when training).
    """
    wl = WORKLOADS[workload_name]
    spec = make_spec(wl)
    x = poisson_input(batch, timesteps, wl.num_input, seed=batch)
    y = np.random.default_rng(batch).integers(0, NUM_OUTPUT, batch)
    entry = {"mode": mode, "workload": workload_name, "engine": module.NAME, "kind": "peer",
             "batch": batch, "timesteps": timesteps, "rounds": rounds}
    res = _run_module(module, spec, x, y, mode, rounds, workdir)
    res["rates_hz"] = {"input": float(x[:, :1 if module.NAME == "brian2" else batch].mean())
                       / (DT / 1000.0), **res["rates_hz"]}
    entry.update(res)
    events, n_syn = _dense_counts(spec, entry["rates_hz"])
    entry.update(event_figures(events, entry["example_timesteps_per_s"]))
    if mode == "training":
        entry["trained_synapses"] = n_syn
        entry["synapse_updates_per_s"] = None  # BPTT: no per-step synapse update
    return entry
