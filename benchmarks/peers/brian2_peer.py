"""Brian2 peer: inference of the irsnn workload (batch 1: Brian2 simulates one network), with
irsnn's exact neuron model, run in a subprocess of the Python that has Brian2.

The runner (:mod:`irsnn.bench`) writes the weights, one example's input spikes and the
parameters to an ``.npz`` file and runs ``PYTHON brian2_peer.py FILE.npz``; ``PYTHON`` is
``$IRSNN_BENCH_BRIAN2_PYTHON`` or the runner's own interpreter. A separate interpreter is needed
where Brian2 and the runner's NumPy disagree (Brian2 2.9.0 does not import with NumPy 2.4:
``np.ndarray.ptp`` is gone), see ``benchmarks/peers/README.md``.

Model (the same as irsnn's ``AdaptiveLeakyIntegrateFire(v_thresh=0.6, tau_refrac=5)``):
``dv/dt = -v/tau_mem``, ``da/dt = -a/tau_adapt`` (exact integration: ``V *= exp(-dt/tau)``),
threshold ``v >= v_thresh + beta a``, reset ``v -= v_thresh; a += 1``, refractory period 5 ms
during which ``v`` still integrates (irsnn's ``integrate_during_refrac``), delta synapses
``on_pre: v_post += w``. The input is a ``SpikeGeneratorGroup`` of the same spikes. The
output layer is 11 leaky integrators (the readout sum is not computed). The network state is
restored (``Network.restore``, untimed) before every timed run, as irsnn resets it per batch.

Timing: ``time.perf_counter`` around ``Network.run(example duration)``, after one untimed run
(code generation and, for the cython target, compilation). The code generation target is
``$IRSNN_BENCH_BRIAN2_TARGET`` (default ``cython`` when Cython works, else ``numpy``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

NAME = "brian2"


def python() -> str:
    return os.environ.get("IRSNN_BENCH_BRIAN2_PYTHON") or sys.executable


def available() -> tuple[bool, str]:
    try:
        out = subprocess.run([python(), "-c", "import brian2; print(brian2.__version__)"],
                             capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"cannot run {python()}: {exc}"
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["?"])[-1]
        return False, (f"brian2 does not import in {python()} ({last}); install it in a "
                       f"separate venv and set IRSNN_BENCH_BRIAN2_PYTHON (see "
                       f"benchmarks/peers/README.md)")
    return True, ""


def run(spec: dict, x, y, mode: str, rounds: int, workdir: Path) -> dict:
    """Called by the runner (its own Python): ``x`` is ``(timesteps, batch, inputs)``; example 0
    is simulated."""
    import numpy as np
    if mode != "inference":
        raise ValueError("the Brian2 peer runs inference only")
    steps, ids = np.nonzero(x[:, 0, :])
    arrays = {"in_steps": steps.astype(np.int64), "in_ids": ids.astype(np.int64),
              "w_out": spec["w_out"]}
    for k, layer in enumerate(spec["layers"]):
        arrays[f"w_in{k}"] = layer["w_in"]
        if layer["recurrent"]:
            arrays[f"w_rec{k}"] = layer["w_rec"]
    meta = {k: spec[k] for k in ("dt", "tau_mem", "tau_adapt", "beta", "v_thresh",
                                 "tau_refrac", "out_tau_mem", "num_input")}
    meta.update(timesteps=int(x.shape[0]), rounds=rounds,
                layers=[{"name": la["name"], "recurrent": la["recurrent"]}
                        for la in spec["layers"]])
    path = Path(workdir) / "brian2_input.npz"
    np.savez(path, meta=json.dumps(meta), **arrays)
    out = subprocess.run([python(), __file__, str(path)], capture_output=True, text=True,
                         timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(f"brian2 peer failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _simulate(path: str) -> dict:
    import brian2 as b2
    import numpy as np
    data = np.load(path)
    meta = json.loads(str(data["meta"]))
    target = os.environ.get("IRSNN_BENCH_BRIAN2_TARGET")
    if target is None:
        try:
            import Cython  # noqa: F401
            target = "cython"
        except ImportError:
            target = "numpy"
    b2.prefs.codegen.target = target
    ms = b2.ms
    dt, steps = meta["dt"], meta["timesteps"]
    b2.defaultclock.dt = dt * ms
    duration = steps * dt * ms
    objs = []
    inp = b2.SpikeGeneratorGroup(meta["num_input"], data["in_ids"], data["in_steps"] * dt * ms,
                                 period=duration)
    objs.append(inp)
    eqs = "dv/dt = -v / tau_m : 1\nda/dt = -a / tau_a : 1\n"
    ns = {"tau_m": meta["tau_mem"] * ms, "tau_a": meta["tau_adapt"] * ms,
          "vth": meta["v_thresh"], "beta": meta["beta"]}

    def connect(pre, post, w):
        syn = b2.Synapses(pre, post, "w : 1", on_pre="v_post += w")
        ii, jj = np.nonzero(np.ones_like(w, dtype=bool))
        syn.connect(i=ii, j=jj)
        syn.w = w[ii, jj]
        objs.append(syn)

    prev, monitors = inp, []
    for k, layer in enumerate(meta["layers"]):
        w_in = data[f"w_in{k}"]
        grp = b2.NeuronGroup(w_in.shape[1], eqs, threshold="v >= vth + beta * a",
                             reset="v -= vth\na += 1", refractory=meta["tau_refrac"] * ms,
                             method="exact", namespace=ns)
        objs.append(grp)
        connect(prev, grp, w_in)
        if layer["recurrent"]:
            connect(grp, grp, data[f"w_rec{k}"])
        mon = b2.SpikeMonitor(grp, record=False)
        monitors.append((layer["name"], grp, mon))
        objs.append(mon)
        prev = grp
    out = b2.NeuronGroup(data["w_out"].shape[1], "dv/dt = -v / tau_o : 1", method="exact",
                         namespace={"tau_o": meta["out_tau_mem"] * ms})
    objs.append(out)
    connect(prev, out, data["w_out"])
    net = b2.Network(*objs)
    # every example starts from the initial state, as irsnn's predict (which resets neuron
    # state between batches; otherwise the 2 s adaptation carries over and lowers the rates)
    net.store("init")
    t0 = time.perf_counter()
    net.run(duration)  # untimed: code generation (and compilation for cython)
    first = time.perf_counter() - t0
    times, counts = [], {name: 0 for name, _, _ in monitors}
    for _ in range(meta["rounds"]):
        net.restore("init")  # untimed
        t0 = time.perf_counter()
        net.run(duration)
        times.append(time.perf_counter() - t0)
        for name, _, mon in monitors:
            counts[name] += int(mon.num_spikes)
    rates = {name: counts[name] / (len(grp) * len(times) * steps * dt) * 1000.0
             for name, grp, mon in monitors}
    mean, best = float(np.mean(times)), float(np.min(times))
    return {"times_s": times, "timesteps_per_s": steps / mean,
            "example_timesteps_per_s": steps / mean, "best_timesteps_per_s": steps / best,
            "best_example_timesteps_per_s": steps / best, "rates_hz": rates,
            "first_run_s": first, "threads": 1, "device": f"cpu (Brian2 {target})",
            "version": f"brian2 {b2.__version__} (numpy {np.__version__})",
            "model": "exact irsnn ALIF (relative reset, 5 ms refractory), batch 1"}


if __name__ == "__main__":
    print(json.dumps(_simulate(sys.argv[1])))
