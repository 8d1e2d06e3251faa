"""mlGeNN's discrete-time EventProp, in NumPy, for the tests that compare scales with it.

Written for these tests from the update equations mlGeNN's ``EventPropCompiler`` generates
(no code of mlGeNN's, and none of irsnn's): ``SpikeInput -> LIF (recurrent) -> LeakyIntegrate``
with ``Exponential`` synapses and ``scale_i`` everywhere (mlGeNN's EventProp
``default_params``: absolute reset to 0, no refractory period), the ``var`` readout and the
mean-square error of one target per timestep, and the spike-count regulariser of the hidden
layer. Conventions are mlGeNN's, not irsnn's:

- forward, per step ``n``: ``Isyn = IScale inSyn``, ``inSyn *= Beta``, ``V = Alpha V + (1 -
  Alpha) Isyn``, threshold, reset; the step's spikes add their weights to ``inSyn`` after the
  neuron updates (seen from step ``n + 1``); the output's error ``Y(n) - V(n)``;
- backward, per step ``s = T-1 .. 0``: the output's ``LambdaV``/``LambdaI`` relax to the drive
  ``(Y - V)(s) / (TauM B T dt)``; the hidden ones decay (``LambdaI`` towards ``LambdaV``); a
  hidden neuron that spiked at ``s`` jumps by ``(Vthresh LambdaV + RevISyn) / (I - V)`` with
  ``RevISyn = sum_post w (LambdaV_post - LambdaI_post)`` taken at ``s + 1``, and by
  ``-RegLambda (C - nu B) / B^2`` (``C`` its spike count summed over the batch); every spike
  of step ``s - 1`` adds ``-TauSyn LambdaI_post(s)`` to its weight's gradient (summed over the
  batch).
"""

from __future__ import annotations

import numpy as np


def mlgenn_gradients(w_in, w_rec, w_out, inputs, targets, *, vthresh, tau_m=20.0,
                     tau_s=5.0, dt=1.0, reg=(0.0, 0.0, 0.0)):
    """``(dL/dw_in, dL/dw_rec, dL/dw_out, hidden spike counts per example)`` in mlGeNN's
    scale; ``inputs`` ``(B, T, n_in)`` 0/1 spikes per step, ``targets`` ``(B, T, n_out)``,
    ``reg = (lambda_upper, lambda_lower, nu_upper)``."""
    B, T, _ = inputs.shape
    nh, no = w_out.shape
    a, b = np.exp(-dt / tau_m), np.exp(-dt / tau_s)
    iscale = (tau_s / dt) * (1.0 - b)
    spikes = np.zeros((B, T, nh), bool)
    imv = np.zeros((B, T, nh))
    err = np.zeros((B, T, no))
    for e in range(B):
        xh, xo, vh, vo = np.zeros(nh), np.zeros(no), np.zeros(nh), np.zeros(no)
        for n in range(T):
            ih, io = xh.copy(), xo.copy()
            xh, xo = xh * b, xo * b
            vh = a * vh + (1.0 - a) * iscale * ih
            vo = a * vo + (1.0 - a) * iscale * io
            sp = vh >= vthresh
            imv[e, n, sp] = ih[sp] - vh[sp]      # Isyn / IScale - V: inSyn - V
            vh = np.where(sp, 0.0, vh)
            spikes[e, n] = sp
            err[e, n] = targets[e, n] - vo
            xh = xh + inputs[e, n] @ w_in + sp @ w_rec
            xo = xo + sp @ w_out
    upper, lower, nu = reg
    excess = spikes.sum(axis=(0, 1)) - nu * B
    reg_jump = np.where(excess > 0, upper, lower) * excess / (B * B)
    a_out, a_hid = tau_m / (tau_m - tau_s), tau_m / (tau_s - tau_m)
    g_in, g_rec, g_out = np.zeros_like(w_in), np.zeros_like(w_rec), np.zeros_like(w_out)
    for e in range(B):
        lvh, lih, lvo, lio = np.zeros(nh), np.zeros(nh), np.zeros(no), np.zeros(no)
        rev = np.zeros(nh)
        for s in range(T - 1, -1, -1):
            drive = err[e, s] / (tau_m * B * T * dt)
            lio = drive + (lio - drive) * b + a_out * (lvo - drive) * (a - b)
            lvo = drive + (lvo - drive) * a
            lih = a_hid * lvh * (b - a) + lih * b
            lvh = lvh * a
            j = spikes[e, s]
            lvh[j] += (vthresh * lvh[j] + rev[j]) / imv[e, s, j] - reg_jump[j]
            if s == 0:
                break
            pre_h, pre_i = spikes[e, s - 1], inputs[e, s - 1] > 0
            g_in -= tau_s * np.outer(pre_i, lih)
            g_rec -= tau_s * np.outer(pre_h, lih)
            g_out -= tau_s * np.outer(pre_h, lio)
            rev = np.where(pre_h, w_rec @ (lvh - lih) + w_out @ (lvo - lio), 0.0)
    return g_in, g_rec, g_out, spikes.sum(axis=1)
