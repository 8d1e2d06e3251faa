"""Norse peer: the irsnn workload as ``LSNNRecurrent`` (recurrent ALIF layers) and ``Linear`` +
``LSNN`` (feed-forward ALIF layers) on PyTorch CPU, forward (inference) and BPTT training.

Parameter mapping (irsnn ``AdaptiveLeakyIntegrateFire(v_thresh=0.6, tau_refrac=5)``, delta
synapses, ``V = Alpha V + Isyn``):

* ``tau_mem_inv = 1/tau_mem``; Norse integrates ``v += dt tau_mem_inv (i - v)``, i.e.
  ``v = (1 - dt/tau_mem) v + (dt/tau_mem) i``: the weights are scaled by ``tau_mem/dt`` (20)
  so that one input spike moves ``v`` as much as in irsnn;
* ``tau_syn_inv = 1/dt``: the synaptic current decays to 0 in one step (delta synapses);
* ``v_th = 0.6``, ``beta = 0.0174``, ``tau_adapt_inv = 1/tau_adapt`` (threshold
  ``b = v_th + beta * a`` with ``a`` jumping by 1 per spike, as irsnn's ``Vthresh + Beta A``);
* differences Norse does not allow: reset to ``v_reset = 0`` (irsnn subtracts ``v_thresh``),
  no refractory period, Euler ``1 - dt/tau`` decays instead of ``exp(-dt/tau)``. Compare the
  printed hidden firing rates.

Recurrent layers keep their self-connections (``autapses=True``), as irsnn's ``Dense``.
"""

from __future__ import annotations

NAME = "norse"


def available() -> tuple[bool, str]:
    try:
        import norse  # noqa: F401
        import torch  # noqa: F401
        from norse.torch import LSNN, LSNNRecurrent  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - any import failure means "skip"
        return False, f"norse is not importable ({type(exc).__name__}: {exc}); see " \
                      f"benchmarks/peers/README.md"
    return True, ""


def version() -> str:
    from importlib.metadata import version as v
    return f"norse {v('norse')}"


def build(spec: dict):
    import torch
    from norse.torch import LSNN, LSNNParameters, LSNNRecurrent

    from _torch_common import SumVarReadout, param

    dt_ms = spec["dt"]
    dt_s = dt_ms / 1000.0
    p = LSNNParameters(tau_syn_inv=torch.as_tensor(1.0 / dt_s),
                       tau_mem_inv=torch.as_tensor(1000.0 / spec["tau_mem"]),
                       tau_adapt_inv=torch.as_tensor(1000.0 / spec["tau_adapt"]),
                       v_leak=torch.as_tensor(0.0), v_th=torch.as_tensor(spec["v_thresh"]),
                       v_reset=torch.as_tensor(0.0), beta=torch.as_tensor(spec["beta"]))
    scale = spec["tau_mem"] / dt_ms

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = torch.nn.ModuleList()
            self.inputs = torch.nn.ModuleList()
            for layer in spec["layers"]:
                n_in, n = layer["w_in"].shape
                if layer["recurrent"]:
                    self.inputs.append(torch.nn.Identity())
                    self.layers.append(LSNNRecurrent(
                        n_in, n, p=p, dt=dt_s, autapses=True,
                        input_weights=param(layer["w_in"], scale),
                        recurrent_weights=param(layer["w_rec"], scale)))
                else:
                    fc = torch.nn.Linear(n_in, n, bias=False)
                    fc.weight = param(layer["w_in"], scale)
                    self.inputs.append(fc)
                    self.layers.append(LSNN(p=p, dt=dt_s))
            self.readout = SumVarReadout(spec["w_out"], spec["out_tau_mem"], dt_ms)

        def forward(self, x):
            spikes = []
            z = x
            for fc, layer in zip(self.inputs, self.layers):
                z, _ = layer(fc(z))
                spikes.append(z)
            return self.readout(z), spikes

    return Net()


def run(spec: dict, x, y, mode: str, rounds: int) -> dict:
    from _torch_common import run_model
    res = run_model(build(spec), spec, x, y, mode, rounds, [la["name"] for la in spec["layers"]])
    res["version"] = version()
    res["model"] = ("LSNNRecurrent / Linear+LSNN (ALIF), weights x tau_mem/dt, reset to 0, "
                    "no refractory period")
    return res
