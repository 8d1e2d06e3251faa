"""Shared pieces of the PyTorch peers (Norse, snnTorch): the readout, timing and training loop.

Both peers get the same ``spec`` (weights in irsnn's ``(pre, post)`` orientation, neuron
parameters) and the same dense input ``x`` of shape ``(timesteps, batch, inputs)`` (0/1 spikes,
float32) from :mod:`irsnn.bench`, and return the same result dict.
"""

from __future__ import annotations

import math

import numpy as np
import torch


def param(w: np.ndarray, scale: float = 1.0) -> torch.nn.Parameter:
    """An irsnn ``(pre, post)`` weight matrix as a torch ``(out, in)`` Parameter."""
    return torch.nn.Parameter(torch.from_numpy(np.ascontiguousarray(w.T * scale,
                                                                     dtype=np.float32)))


class SumVarReadout(torch.nn.Module):
    """irsnn's output layer: ``LeakyIntegrate(tau_mem, readout="sum_var")``,
    ``V = Alpha * V + W z`` every step; the logits are the sum of ``V`` over the example."""

    def __init__(self, w_out: np.ndarray, tau_mem: float, dt: float):
        super().__init__()
        self.fc = torch.nn.Linear(w_out.shape[0], w_out.shape[1], bias=True)
        with torch.no_grad():
            self.fc.weight.copy_(param(w_out))
            self.fc.bias.zero_()
        self.alpha = math.exp(-dt / tau_mem)

    def forward(self, z_seq: torch.Tensor) -> torch.Tensor:
        i = self.fc(z_seq)  # (T, B, out): one matmul for all steps
        v = torch.zeros_like(i[0])
        acc = torch.zeros_like(i[0])
        for t in range(i.shape[0]):
            v = self.alpha * v + i[t]
            acc = acc + v
        return acc


def timed(fn, rounds: int) -> list[float]:
    """Seconds of ``rounds`` calls of ``fn`` after one untimed warm-up call."""
    from irsnn.bench.measure import timed_rounds
    fn()
    return timed_rounds(fn, rounds)


def run_model(model: torch.nn.Module, spec: dict, x: np.ndarray, y: np.ndarray, mode: str,
              rounds: int, layer_names: list[str]) -> dict:
    """Time inference (``torch.inference_mode``) or BPTT training (cross-entropy on the summed
    readout, Adam) of ``model``; ``model(x)`` returns ``(logits, [hidden spikes (T, B, n)])``.
    Hidden firing rates are measured in an extra, untimed forward pass."""
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    yt = torch.from_numpy(np.asarray(y, dtype=np.int64))
    timesteps, batch = x.shape[0], x.shape[1]
    if mode == "inference":
        def step():
            with torch.inference_mode():
                return model(xt)[0]
    else:
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)

        def step():
            opt.zero_grad(set_to_none=True)
            logits = model(xt)[0]
            loss = torch.nn.functional.cross_entropy(logits, yt)
            loss.backward()
            opt.step()
            return loss
    times = timed(step, rounds)
    with torch.inference_mode():
        _, spikes = model(xt)
    dt_s = spec["dt"] / 1000.0
    rates = {n: float(s.float().mean()) / dt_s for n, s in zip(layer_names, spikes)}
    mean, best = float(np.mean(times)), float(np.min(times))
    return {"times_s": times, "timesteps_per_s": timesteps / mean,
            "example_timesteps_per_s": batch * timesteps / mean,
            "best_timesteps_per_s": timesteps / best,
            "best_example_timesteps_per_s": batch * timesteps / best,
            "rates_hz": rates, "threads": torch.get_num_threads(),
            "device": "cpu (PyTorch)", "torch": torch.__version__}
