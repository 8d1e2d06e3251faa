"""How ``irsnn bench`` measures: time, memory, memory traffic, and what ran where.

Requires NumPy and the standard library; :func:`measure_triad` builds the triad kernel of
:mod:`irsnn.bench.triad` with irsnn's C toolchain, :func:`learning_bytes` reads a compiled
network's IR, :func:`machine_info` and :func:`backend_info` ask the backends (and git) about
the machine.

Provides the measurement helpers shared by the irsnn entries (:mod:`irsnn.bench.runner`) and
the peers (:mod:`irsnn.bench.peers`): :func:`peak_memory`, :func:`timed_rounds`,
:func:`throughput`, :func:`event_figures`, :func:`traffic_figures`, :func:`measure_triad`,
:func:`learning_bytes`, :func:`machine_info` and :func:`backend_info`.

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
import datetime
import os
import platform
import resource
import subprocess
import time
from pathlib import Path

import numpy as np

from .environment import openmp_settings


# -- time and memory -----------------------------------------------------------------------------
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
    """Call ``fn()`` ``rounds`` times; returns the wall time of each call in seconds."""
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def throughput(times, timesteps: int, batch: int) -> dict:
    """Rates of rounds that each ran ``timesteps`` steps of ``batch`` examples.

    Returns
    -------
    dict
        ``times_s``, ``timesteps_per_s`` and ``example_timesteps_per_s`` (mean round), and
        ``best_timesteps_per_s`` and ``best_example_timesteps_per_s`` (fastest round).
    """
    mean, best = float(np.mean(times)), float(np.min(times))
    return {"times_s": [float(t) for t in times], "timesteps_per_s": timesteps / mean,
            "example_timesteps_per_s": batch * timesteps / mean,
            "best_timesteps_per_s": timesteps / best,
            "best_example_timesteps_per_s": batch * timesteps / best}


# -- synaptic events and memory traffic ----------------------------------------------------------
def event_figures(events: float, example_timesteps_per_s: float) -> dict:
    """``events_per_example_timestep`` (``events``, from firing rates) and
    ``synaptic_events_per_s`` at ``example_timesteps_per_s``."""
    return {"events_per_example_timestep": events,
            "synaptic_events_per_s": events * example_timesteps_per_s}


def traffic_figures(counted_bytes: float, example_timesteps_per_s: float, batch: int,
                    triad: dict | None) -> dict:
    """The memory traffic of an entry that moves ``counted_bytes`` per example-timestep.

    Returns
    -------
    dict
        ``bytes_per_example_timestep`` and ``gbs``; with a ``triad`` (of
        :func:`measure_triad`) also ``triad_kind`` (``serial`` for batch 1, else ``omp``),
        ``fraction_of_triad`` (of its DRAM figure) and ``fraction_of_cache_triad``.
    """
    res = {"bytes_per_example_timestep": counted_bytes,
           "gbs": counted_bytes * example_timesteps_per_s / 1e9}
    if triad:
        kind = "serial" if batch == 1 else "omp"
        res["triad_kind"] = kind
        res["fraction_of_triad"] = res["gbs"] / triad[kind]["dram"]
        res["fraction_of_cache_triad"] = res["gbs"] / triad[kind]["cache"]
    return res


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
        nbytes += n * synapse_bytes(lr)
    return n_syn, nbytes


def synapse_bytes(lr) -> int:
    """Bytes one step of learning rule ``lr`` moves per synapse: each per-synapse variable
    read, and written again when read-write."""
    per = 0
    for var in lr.vars:
        if var.shape != "synapse":
            continue
        size = 8 if "double" in str(var.type) else 4
        per += size * (2 if var.access == "readwrite" else 1)
    return per


# -- what ran where ------------------------------------------------------------------------------
def _git_revision() -> str | None:
    """``git rev-parse --short HEAD`` of the checkout irsnn runs from (``+dirty`` when tracked
    files changed), or None outside a git checkout."""
    try:
        root = Path(__file__).resolve().parents[1]
        rev = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "-uno"],
                               capture_output=True, text=True, timeout=10)
        if rev.returncode == 0:
            return rev.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.TimeoutExpired):
        pass
    return None


def machine_info() -> dict:
    """The machine, Python, NumPy, irsnn (and its git revision), CPU, C compiler, OpenMP
    settings and date of this run."""
    info = {"hostname": platform.node(), "platform": platform.platform(),
            "machine": platform.machine(), "cpus": os.cpu_count(),
            "python": platform.python_version(), "numpy": np.__version__,
            **openmp_settings(),
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
    rev = _git_revision()
    if rev is not None:
        info["git"] = rev
    return info


def backend_info(name: str) -> dict:
    """``{"device": ..., "version": ...}`` of backend ``name``: its devices as it lists them,
    and the version of what runs its kernels (pyopencl, CuPy, the C compiler or NumPy)."""
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
