"""EventProp training in irsnn against BPTT with surrogate gradients in snnTorch and Norse.

Issue 20, "Performance": the same model, the same input spikes, the same initial weights and
the same batch, trained one optimiser step per batch on the CPU; each framework runs in its own
process so that its peak memory is its own. The model is EventProp's: ``inputs`` spike sources
-> ``hidden`` recurrent LIF (``tau_mem`` 20 ms, threshold 1, reset to 0, exponential synapses
of ``tau_syn`` 5 ms) -> ``outputs`` leaky integrators with exponential synapses, summed over
the example (``sum_var``), cross-entropy on the sums, Adam (lr 1e-3).

* **irsnn**: ``EventPropCompiler`` (exact gradients, backward pass over recorded spikes) on
  ``--backend`` (default: the fastest backend with EventProp kernels).
* **snnTorch** (``RSynaptic``, all-to-all recurrence) and **Norse** (``LIFRecurrent``): BPTT
  through every timestep with the libraries' default surrogate gradients; the readout is the
  same leaky integrator written in PyTorch. Norse integrates with forward Euler
  (``1 - dt/tau`` decays): its weights are scaled so that one spike moves the membrane about
  as much as in irsnn; compare the printed firing rates.

Memory: ``peak_rss_mb`` is the process's peak resident set (``ru_maxrss``), ``train_mb`` the
growth of the peak during training (a warm-up step and the timed steps) over the resident set
after the model was built (the memory training needs on top of the model). Nothing here is a
test: run it, read the table.

Run (PyTorch peers from another interpreter if irsnn's has no torch, see README.md here)::

    python benchmarks/peers/eventprop_vs_bptt.py --batch 32 --timesteps 100 \\
        --torch-python ~/.venvs/torch/bin/python
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FRAMEWORKS = ("irsnn", "snntorch", "norse")


def make_spec(a) -> dict:
    """Weights, input spikes and labels every framework gets (fixed seed; no downloads)."""
    rng = np.random.default_rng(a.seed)
    p = 1.0 - math.exp(-a.rate_hz * a.dt / 1000.0)
    x = (rng.random((a.timesteps, a.batch, a.inputs)) < p).astype(np.float32)
    return {"x": x, "y": rng.integers(0, a.outputs, a.batch),
            "w_in": rng.normal(0.03, 0.1, (a.inputs, a.hidden)).astype(np.float32),
            "w_rec": rng.normal(0.0, 0.02, (a.hidden, a.hidden)).astype(np.float32),
            "w_out": rng.normal(0.0, 0.1, (a.hidden, a.outputs)).astype(np.float32),
            "tau_mem": 20.0, "tau_syn": 5.0, "v_thresh": 1.0, "dt": a.dt}


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# -- irsnn -----------------------------------------------------------------------------------
def run_irsnn(spec, a) -> dict:
    from irsnn import Connection, Network, Population
    from irsnn.compilers import EventPropCompiler
    from irsnn.compilers.event_prop_compiler import default_params
    from irsnn.connectivity import Dense
    from irsnn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
    from irsnn.synapses import Exponential
    from irsnn.utils.data import preprocess_spikes

    x = spec["x"]
    examples = []
    for b in range(x.shape[1]):
        t, i = np.nonzero(x[:, b])
        examples.append(preprocess_spikes(t * spec["dt"], i, x.shape[2]))
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=int(x.sum()) + 16), x.shape[2])
        hid = Population(LeakyIntegrateFire(v_thresh=spec["v_thresh"], tau_mem=spec["tau_mem"]),
                         spec["w_in"].shape[1], record_spikes=False)
        out = Population(LeakyIntegrate(tau_mem=spec["tau_mem"], readout="sum_var"),
                         spec["w_out"].shape[1])
        Connection(inp, hid, Dense(spec["w_in"]), Exponential(spec["tau_syn"]))
        Connection(hid, hid, Dense(spec["w_rec"]), Exponential(spec["tau_syn"]))
        Connection(hid, out, Dense(spec["w_out"]), Exponential(spec["tau_syn"]))
    backend = a.backend or _eventprop_backend()
    compiler = EventPropCompiler(x.shape[0], "sparse_categorical_crossentropy",
                                 batch_size=x.shape[1], backend=backend,
                                 max_spikes=x.shape[0])
    with compiler.compile(net) as cn:
        xs, ys = {inp: examples}, {out: spec["y"]}
        _ = cn.simulation                                   # builds the kernels
        setup = rss_mb()
        cn.train(xs, ys, num_epochs=1, callbacks=[])        # warm-up, untimed
        times = []
        for _ in range(a.rounds):
            t0 = time.perf_counter()
            cn.train(xs, ys, num_epochs=1, callbacks=[])
            times.append(time.perf_counter() - t0)
        sim = cn.simulation     # the reference keeps its EventProp state under learning
        ep = getattr(sim, "eventprop", None) or getattr(getattr(sim, "learning", None),
                                                        "eventprop", None)
        counts = getattr(ep, "spike_counts", {})
    rate = None
    if hid.name in counts:      # hidden spikes of the last batch
        rate = float(counts[hid.name]) / (x.shape[1] * x.shape[0] * spec["dt"] / 1000.0
                                          * spec["w_in"].shape[1])
    return {"times_s": times, "setup_rss_mb": setup, "backend": backend, "hidden_rate_hz": rate}


def _eventprop_backend() -> str:
    from irsnn.backends import available_backends
    from irsnn.compilers import EventPropCompiler
    for name in ("c", "reference"):
        if name not in available_backends():
            continue
        try:
            EventPropCompiler(10, "sparse_categorical_crossentropy", backend=name).get_backend()
        except Exception:       # noqa: BLE001 - a backend without EventProp kernels: next one
            continue
        return name
    return "reference"


# -- PyTorch peers ---------------------------------------------------------------------------
def run_torch(spec, a, framework: str) -> dict:
    import torch

    dt = spec["dt"]
    a_syn, a_mem = math.exp(-dt / spec["tau_syn"]), math.exp(-dt / spec["tau_mem"])
    # irsnn with EventProp's defaults (scale_i): a unit of synaptic state x injects
    # IScale x, and V = a_mem V + (1 - a_mem) IScale x
    gain = (spec["tau_syn"] / dt) * (1.0 - a_syn) * (1.0 - a_mem)

    def param(w, scale=1.0):
        return torch.nn.Parameter(torch.from_numpy(np.ascontiguousarray(w.T * scale)))

    class Readout(torch.nn.Module):
        """Leaky integrators with exponential synapses, summed over the example (irsnn's
        ``LeakyIntegrate`` + ``Exponential`` + ``sum_var``, ``scale_i`` as EventProp's
        defaults: the state enters as ``(1 - a_mem) IScale x``)."""

        def __init__(self):
            super().__init__()
            self.w = param(spec["w_out"])

        def forward(self, z):                      # z: (T, B, hidden)
            cur = torch.nn.functional.linear(z, self.w)
            i = torch.zeros_like(cur[0])
            v = torch.zeros_like(cur[0])
            acc = torch.zeros_like(cur[0])
            for t in range(cur.shape[0]):
                i = a_syn * i + cur[t]
                v = a_mem * v + gain * i
                acc = acc + v
            return acc

    if framework == "snntorch":
        import snntorch

        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                n = spec["w_in"].shape[1]
                self.fc = torch.nn.Linear(spec["w_in"].shape[0], n, bias=False)
                self.fc.weight = param(spec["w_in"], gain)
                self.lif = snntorch.RSynaptic(alpha=a_syn, beta=a_mem, linear_features=n,
                                              threshold=spec["v_thresh"],
                                              reset_mechanism="zero")
                with torch.no_grad():
                    self.lif.recurrent.weight.copy_(param(spec["w_rec"], gain))
                    if self.lif.recurrent.bias is not None:
                        self.lif.recurrent.bias.zero_()
                self.out = Readout()

            def forward(self, x):
                spk, syn, mem = self.lif.init_rsynaptic()
                cur = self.fc(x)
                zs = []
                for t in range(x.shape[0]):
                    spk, syn, mem = self.lif(cur[t], spk, syn, mem)
                    zs.append(spk)
                z = torch.stack(zs)
                return self.out(z), z
        version = f"snnTorch {snntorch.__version__}"
    else:
        import norse
        from norse.torch import LIFParameters, LIFRecurrent

        # Norse: i jumps by w per spike and v += (dt / tau_mem) (i - v) (forward Euler)
        scale = gain * spec["tau_mem"] / dt
        p = LIFParameters(tau_syn_inv=torch.as_tensor(1000.0 / spec["tau_syn"]),
                          tau_mem_inv=torch.as_tensor(1000.0 / spec["tau_mem"]),
                          v_th=torch.as_tensor(spec["v_thresh"]),
                          v_reset=torch.as_tensor(0.0), v_leak=torch.as_tensor(0.0))

        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.lif = LIFRecurrent(spec["w_in"].shape[0], spec["w_in"].shape[1], p=p,
                                        dt=dt / 1000.0, autapses=True,
                                        input_weights=param(spec["w_in"], scale),
                                        recurrent_weights=param(spec["w_rec"], scale))
                self.out = Readout()

            def forward(self, x):
                z, _ = self.lif(x)
                return self.out(z), z
        version = f"norse {getattr(norse, '__version__', '?')}"

    torch.manual_seed(a.seed)
    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xt = torch.from_numpy(spec["x"])
    yt = torch.from_numpy(np.asarray(spec["y"], dtype=np.int64))

    def step():
        opt.zero_grad(set_to_none=True)
        logits, _ = model(xt)
        torch.nn.functional.cross_entropy(logits, yt).backward()
        opt.step()

    setup = rss_mb()
    step()                                                  # warm-up, untimed
    times = []
    for _ in range(a.rounds):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    with torch.inference_mode():
        _, z = model(xt)
    rate = float(z.float().mean()) / (dt / 1000.0)
    return {"times_s": times, "setup_rss_mb": setup, "hidden_rate_hz": rate,
            "version": version, "threads": torch.get_num_threads()}


# -- driver ----------------------------------------------------------------------------------
def worker(a) -> None:
    spec = make_spec(a)
    start = rss_mb()
    res = run_irsnn(spec, a) if a.worker == "irsnn" else run_torch(spec, a, a.worker)
    res.update(start_rss_mb=start, peak_rss_mb=peak_mb(),
               mean_s=float(np.mean(res["times_s"])), min_s=float(np.min(res["times_s"])))
    res["train_mb"] = res["peak_rss_mb"] - res["setup_rss_mb"]
    json.dump(res, sys.stdout)


def arguments(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--timesteps", type=int, default=100)
    p.add_argument("--inputs", type=int, default=700)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--outputs", type=int, default=20)
    p.add_argument("--rate-hz", type=float, default=20.0)
    p.add_argument("--dt", type=float, default=1.0)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--backend", default=None, help="irsnn backend (default: fastest with "
                                                   "EventProp kernels)")
    p.add_argument("--torch-python", default=sys.executable,
                   help="interpreter with torch, snntorch and norse")
    p.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    p.add_argument("--json", default=None, help="write all results here")
    p.add_argument("--worker", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv=None) -> int:
    a = arguments(argv)
    if a.worker:
        worker(a)
        return 0
    results = {}
    passed = []                 # the workload's arguments, as each worker gets them
    for key in ("batch", "timesteps", "inputs", "hidden", "outputs", "rate_hz", "dt", "rounds",
                "seed", "backend"):
        if getattr(a, key) is not None:
            passed += [f"--{key.replace('_', '-')}", str(getattr(a, key))]
    for fw in a.frameworks.split(","):
        python = sys.executable if fw == "irsnn" else a.torch_python
        cmd = [python, os.path.abspath(__file__), *passed, "--worker", fw]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            tail = proc.stderr.strip().splitlines()[-1:] or ["(no output)"]
            print(f"{fw}: skipped ({tail[0]})")
            continue
        results[fw] = json.loads(proc.stdout.strip().splitlines()[-1])
    base = results.get("irsnn")
    print(f"\n{a.inputs}-{a.hidden}R-{a.outputs} LIF, exponential synapses, {a.timesteps} steps, "
          f"batch {a.batch}, {a.rate_hz:g} Hz input; one Adam step per batch (CPU)")
    print(f"{'framework':<34} {'ms/batch':>9} {'vs irsnn':>9} {'peak MB':>8} {'train MB':>9} "
          f"{'hidden Hz':>9}")
    for fw, r in results.items():
        label = {"irsnn": f"irsnn EventProp ({r.get('backend')})"}.get(
            fw, f"{r.get('version', fw)} BPTT ({r.get('threads')} thr)")
        ratio = r["mean_s"] / base["mean_s"] if base else float("nan")
        rate = r.get("hidden_rate_hz")
        print(f"{label:<34} {r['mean_s'] * 1e3:9.1f} {ratio:9.2f} {r['peak_rss_mb']:8.0f} "
              f"{r['train_mb']:9.1f} {'' if rate is None else f'{rate:9.1f}'}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"args": vars(a), "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
