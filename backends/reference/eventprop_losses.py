"""EventProp's losses on the reference backend: each output's adjoint drive and loss value.

Requires: NumPy; the output's :class:`~irsnn.ir.EventPropState` (readout, loss, per-timestep
flag, constants) and what the forward pass kept of it. Provides :func:`output_drive`, which
:class:`~.eventprop.EventPropLearning` calls at the end of each example, and :class:`Drive`.

Every loss is a mean over the batch (``B`` the batch size, padding rows add nothing), in the
adjoint units of :mod:`irsnn.compilers.event_prop_compiler` (``LambdaV(t) = Alpha LambdaV(t+1)
+ g(t)``, a first spike's jump ``-TauM dL/dt / (I - V)``), which are mlGeNN's adjoints times
``-TauM``:

- cross-entropy of a per-example readout ``R`` (``sum_var``, ``avg_var``, ``max_var``,
  ``avg_var_exp_weight``): ``-log softmax(R / temperature)[y]``; ``g(t) = dL/dR dR/dV(t)``
  (``avg_var_exp_weight``: ``dR/dV(t) = exp(-t dt / T_ms) / T``, the readout's own weights;
  mlGeNN's backward pass weights step ``t`` by ``exp(-(t + 1) dt / T_ms)``);
- per-timestep cross-entropy (``per_timestep_loss=True``, ``sum_var``/``avg_var``): the mean
  over the example's ``T`` steps of ``-log softmax(V(t) / temperature)[y]``;
- ``mean_square_error`` (readout ``var``, always per timestep as mlGeNN's): the mean over the
  steps of ``sum_k (V_k(t) - Y_k(t))^2 / 2``, ``Y`` one target per example or per timestep;
- ``relative_mean_square_error`` of first spike times (LIF, ``first_spike_time``):
  ``sum_{k != y} (t_y - t_k + delta)^2 / 2``, where a neuron that did not spike counts as
  ``t = 0`` (mlGeNN's: its reduction adds 0 for it) and only spiking neurons carry ``dL/dt``;
- time-to-first-spike cross-entropy (LIF, ``first_spike_time``, mlGeNN's with ``ttfs_alpha``):
  ``-log softmax(-t_first / temperature)[y] + ttfs_alpha / (1.01 T_ms - t_y)`` (neurons that
  never spiked take part with ``-t_first = -inf``: probability 0, or a uniform softmax when
  none spiked); when the correct neuron did not spike, mlGeNN's "phantom spike" drive
  ``g(T - 1) = -TauM ttfs_alpha / (1e-4 T_ms^2 B)`` on it (a heuristic push, not a gradient).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

F64 = np.float64


@dataclass
class Drive:
    """The loss-derived drive of one output's adjoint (arrays ``(B, n)`` unless noted).

    ``const``: ``g`` added at every step; ``steps``: ``(T, B, n)`` ``g`` of each step or None;
    ``impulses``: ``[(step, value)]``, ``value`` added at step ``step`` (per neuron);
    ``dldt``: ``dL/dt`` of each neuron's first spike, or None.
    """

    const: np.ndarray
    steps: np.ndarray | None = None
    impulses: list = field(default_factory=list)
    dldt: np.ndarray | None = None

    def at(self, t: int) -> np.ndarray:
        """``g(t)`` of the smooth part (``const`` plus ``steps[t]``)."""
        return self.const if self.steps is None else self.const + self.steps[t]

    def summary(self) -> np.ndarray:
        """One ``(B, n)`` array for the population's ``Drive`` variable: ``dL/dt`` of first
        spikes, else the impulse, else the sum of ``g`` over the example."""
        if self.dldt is not None:
            return self.dldt
        if self.impulses:
            return self.impulses[0][1]
        return self.const if self.steps is None else self.const + self.steps.sum(axis=0)


def _labels(labels):
    active = np.asarray(labels["active"], bool)
    return active, np.asarray(labels["y"]), np.flatnonzero(active)


def _softmax(z):
    """``(softmax, log-softmax)`` along the last axis of finite ``z`` (stable)."""
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=-1, keepdims=True)
    return e / s, z - np.log(s)


def output_drive(node, p, labels, *, batch, steps, dt, readout=None, history=None,
                 vmax_at=None, first=None, spiked=None):
    """``(Drive, loss)`` of one output at the end of an example of ``steps`` timesteps.

    Parameters
    ----------
    node : EventPropState
        The output's node (readout, loss, per_timestep, softmax_temperature).
    p : dict
        Its constants (``TauM``, ``Delta``, ``TtfsAlpha``, ``ExampleTime``).
    labels : dict
        ``{"y": labels or targets, "active": rows holding an example}``.
    readout : array, optional
        ``(B, n)`` readout of a per-example loss.
    history : array, optional
        ``(T, B, n)`` output variable at every step (per-timestep losses).
    vmax_at : array, optional
        ``(B, n)`` step of the maximum (``max_var``).
    first, spiked : array, optional
        ``(B, n)`` first spike times (ms) and whether each neuron spiked (``first_spike_time``).
    """
    active, y, rows = _labels(labels)
    if node.readout == "first_spike_time":
        if node.loss == "relative_mean_square_error":
            return _ttfs_rmse(p, active, y, first, spiked, batch)
        return _ttfs_crossentropy(node, p, active, y, first, spiked, batch, steps)
    temp = node.softmax_temperature
    if node.loss == "mean_square_error":
        target = y.astype(F64)
        if target.ndim == 3:          # one target per timestep: step t reads t % len
            target = np.moveaxis(target[:, np.arange(steps) % target.shape[1]], 1, 0)
        err = np.where(active[None, :, None], history - target, 0.0)
        loss = float(0.5 * (err ** 2).sum() / (batch * steps))
        return Drive(np.zeros(history.shape[1:]), steps=err / (batch * steps)), loss
    y = y.astype(np.int64)
    if node.per_timestep:
        prob, logp = _softmax(history / temp)
        onehot = np.zeros(history.shape[1:])
        onehot[rows, y[rows]] = 1.0
        g = np.where(active[None, :, None], prob - onehot, 0.0) / (temp * batch * steps)
        loss = float(-logp[:, rows, y[rows]].sum() / (batch * steps))
        return Drive(np.zeros(history.shape[1:]), steps=g), loss
    prob, logp = _softmax(readout / temp)
    onehot = np.zeros_like(prob)
    onehot[rows, y[rows]] = 1.0
    dr = np.where(active[:, None], (prob - onehot) / (temp * batch), 0.0)
    loss = float(-logp[rows, y[rows]].sum() / batch)
    if node.readout == "max_var":
        return Drive(np.zeros_like(dr), impulses=[(vmax_at, dr)]), loss
    if node.readout == "sum_var":
        return Drive(dr), loss
    if node.readout == "avg_var":
        return Drive(dr / steps), loss
    # avg_var_exp_weight: R = sum_t exp(-t dt / T_ms) V(t) / T
    weight = np.exp(-np.arange(steps) * dt / (steps * dt)) / steps
    return Drive(np.zeros_like(dr), steps=weight[:, None, None] * dr[None]), loss


def _ttfs_rmse(p, active, y, first, spiked, batch):
    """mlGeNN's relative mean-square error: a neuron that did not spike counts as ``t = 0``
    (its TTFS reduction's value for it); only spiking neurons carry the derivative."""
    rows = np.arange(len(active))
    y = np.clip(y.astype(np.int64), 0, first.shape[1] - 1)
    t = np.where(spiked, first, 0.0)
    diff = t[rows, y][:, None] - t + p["Delta"]          # t_y - t_k + delta
    diff[rows, y] = 0.0
    diff = np.where(active[:, None], diff, 0.0)
    dldt = -diff                                         # k != y
    dldt[rows, y] = diff.sum(axis=1)
    dldt = np.where(spiked, dldt, 0.0) / batch
    loss = float((0.5 * diff ** 2).sum() / batch)
    return Drive(np.zeros_like(t), dldt=dldt), loss


def _ttfs_crossentropy(node, p, active, y, first, spiked, batch, steps):
    temp, alpha, length = node.softmax_temperature, p["TtfsAlpha"], p["ExampleTime"]
    n = first.shape[1]
    rows = np.flatnonzero(active)
    y = np.clip(y.astype(np.int64), 0, n - 1)
    z = np.where(spiked, -np.where(spiked, first, 0.0) / temp, -np.inf)
    none = ~spiked.any(axis=1)
    z[none] = 0.0                                  # nothing spiked: a uniform softmax
    zmax = z.max(axis=1, keepdims=True)
    e = np.exp(z - zmax)
    prob = e / e.sum(axis=1, keepdims=True)
    onehot = np.zeros_like(prob)
    onehot[rows, y[rows]] = 1.0
    t_y = np.where(spiked[np.arange(len(y)), y], first[np.arange(len(y)), y], 0.0)
    reg = np.zeros_like(prob)
    reg[rows, y[rows]] = alpha / (1.01 * length - t_y[rows]) ** 2
    dldt = (onehot - prob) / temp + reg
    dldt = np.where(active[:, None] & spiked, dldt, 0.0) / batch
    hit = spiked[rows, y[rows]]
    with np.errstate(divide="ignore"):
        logp = np.log(prob[rows, y[rows]])
    loss = float((-logp + np.where(hit, alpha / (1.01 * length - t_y[rows]), 0.0)).sum()
                 / batch)
    # mlGeNN's phantom spike: the correct neuron that did not spike is pushed at the end
    value = np.zeros_like(prob)
    miss = rows[~hit]
    value[miss, y[miss]] = -p["TauM"] * alpha / (1e-4 * length * length * batch)
    impulses = [(np.full(prob.shape, steps - 1, np.int64), value)] if len(miss) else []
    return Drive(np.zeros_like(prob), impulses=impulses, dldt=dldt), loss


__all__ = ["Drive", "output_drive"]
