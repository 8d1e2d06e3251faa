"""snnTorch peer: the irsnn workload as ``RLeaky`` (recurrent layers, all-to-all ``Linear``
recurrence) and ``Leaky`` (feed-forward layers) on PyTorch CPU, forward (inference) and BPTT
training, stepped in a Python loop over timesteps as in snnTorch's tutorials.

Parameter mapping: snnTorch's ``mem = beta mem + input + recurrent(spk) - reset threshold`` is
irsnn's ``V = Alpha V + Isyn`` with reset by subtraction, so ``beta = exp(-dt/tau_mem)``,
``threshold = 0.6``, ``reset_mechanism="subtract"`` and the weights are used unscaled.
Differences snnTorch does not allow: no threshold adaptation (``RLeaky`` is a LIF neuron; it
fires more than irsnn's ALIF for the same weights) and no refractory period. Compare the
printed hidden firing rates (they do not change the cost of snnTorch's dense matmuls).
"""

from __future__ import annotations

NAME = "snntorch"


def available() -> tuple[bool, str]:
    try:
        import snntorch  # noqa: F401
        import torch  # noqa: F401
    except Exception as exc:  # noqa: BLE001
        return False, f"snntorch is not importable ({type(exc).__name__}: {exc}); see " \
                      f"benchmarks/peers/README.md"
    return True, ""


def version() -> str:
    from importlib.metadata import version as v
    return f"snntorch {v('snntorch')}"


def build(spec: dict):
    import math

    import snntorch as snn
    import torch

    from _torch_common import SumVarReadout, param

    beta = math.exp(-spec["dt"] / spec["tau_mem"])

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fcs = torch.nn.ModuleList()
            self.lifs = torch.nn.ModuleList()
            for layer in spec["layers"]:
                n_in, n = layer["w_in"].shape
                fc = torch.nn.Linear(n_in, n, bias=False)
                fc.weight = param(layer["w_in"])
                self.fcs.append(fc)
                if layer["recurrent"]:
                    lif = snn.RLeaky(beta=beta, threshold=spec["v_thresh"], linear_features=n,
                                     all_to_all=True, reset_mechanism="subtract")
                    with torch.no_grad():
                        lif.recurrent.weight.copy_(param(layer["w_rec"]))
                        lif.recurrent.bias.zero_()
                else:
                    lif = snn.Leaky(beta=beta, threshold=spec["v_thresh"],
                                    reset_mechanism="subtract")
                self.lifs.append(lif)
            self.readout = SumVarReadout(spec["w_out"], spec["out_tau_mem"], spec["dt"])

        def forward(self, x):
            batch = x.shape[1]
            state = []
            for fc, lif in zip(self.fcs, self.lifs):
                z = torch.zeros(batch, fc.out_features)
                state.append((z, torch.zeros_like(z)) if isinstance(lif, snn.RLeaky)
                             else (None, torch.zeros_like(z)))
            recs = [[] for _ in self.lifs]
            for t in range(x.shape[0]):
                z = x[t]
                for k, (fc, lif) in enumerate(zip(self.fcs, self.lifs)):
                    spk, mem = state[k]
                    if isinstance(lif, snn.RLeaky):
                        spk, mem = lif(fc(z), spk, mem)
                    else:
                        spk, mem = lif(fc(z), mem)
                    state[k] = (spk, mem)
                    recs[k].append(spk)
                    z = spk
            spikes = [torch.stack(r) for r in recs]
            return self.readout(spikes[-1]), spikes

    return Net()


def run(spec: dict, x, y, mode: str, rounds: int) -> dict:
    from _torch_common import run_model
    res = run_model(build(spec), spec, x, y, mode, rounds, [la["name"] for la in spec["layers"]])
    res["version"] = version()
    res["model"] = "RLeaky / Leaky (LIF, no adaptation), reset by subtraction, per-step loop"
    return res
