"""An independent NumPy implementation of irsnn's discrete-time EventProp, for the tests.

Shares no code with irsnn: it simulates ``SpikeInput -> LIF (optionally recurrent) -> LI``
step by step in float64 (GeNN's order: arrivals of the previous step's spikes, ``Isyn``,
``inSyn`` decay, membrane update, threshold, absolute reset) and then solves the
discrete-time adjoint equations of :mod:`irsnn.compilers.event_prop_compiler` densely, one
timestep after another (no events, no closed forms), for the batch-mean cross-entropy of the
``sum_var``, ``avg_var`` or ``max_var`` readout.
"""

from __future__ import annotations

import numpy as np


class Model:
    """Weights and constants of a ``SpikeInput -> LIF -> LI`` network (exponential synapses,
    ``scale_i`` everywhere, the hidden layer reset to ``v_reset``)."""

    def __init__(self, w_in, w_out, w_rec=None, *, tau_mem=20.0, tau_out=20.0, tau_syn=5.0,
                 v_thresh=1.0, v_reset=0.0, dt=1.0):
        self.w_in, self.w_out, self.w_rec = w_in, w_out, w_rec
        self.tau_mem, self.tau_out, self.tau_syn = tau_mem, tau_out, tau_syn
        self.v_thresh, self.v_reset, self.dt = v_thresh, v_reset, dt
        self.alpha = np.exp(-dt / tau_mem)
        self.alpha_out = np.exp(-dt / tau_out)
        self.beta = np.exp(-dt / tau_syn)
        self.i_scale = (tau_syn / dt) * (1.0 - self.beta)

    def forward(self, inputs):
        """``inputs`` (batch, T, n_in) 0/1 spikes per step: a dict of the trajectories."""
        B, T, _ = inputs.shape
        nh, no = self.w_out.shape
        x_h, v_h = np.zeros((B, nh)), np.zeros((B, nh))
        x_o, v_o = np.zeros((B, no)), np.zeros((B, no))
        s_h_prev = np.zeros((B, nh))
        s_in_prev = np.zeros((B, inputs.shape[2]))
        rec = {k: np.zeros((B, T, n)) for k, n in (("s_h", nh), ("i_h", nh), ("v_h", nh),
                                                  ("vr_h", nh), ("v_o", no))}
        for t in range(T):
            u_h = s_in_prev @ self.w_in
            if self.w_rec is not None:
                u_h = u_h + s_h_prev @ self.w_rec
            x_h = self.beta * x_h + u_h
            x_o = self.beta * x_o + s_h_prev @ self.w_out
            i_h, i_o = self.i_scale * x_h, self.i_scale * x_o
            v_h = self.alpha * v_h + (1.0 - self.alpha) * i_h
            v_o = self.alpha_out * v_o + (1.0 - self.alpha_out) * i_o
            s_h = (v_h >= self.v_thresh).astype(float)
            rec["v_h"][:, t], rec["i_h"][:, t], rec["s_h"][:, t] = v_h, i_h, s_h
            v_h = np.where(s_h > 0, self.v_reset, v_h)
            rec["vr_h"][:, t], rec["v_o"][:, t] = v_h, v_o
            s_h_prev, s_in_prev = s_h, inputs[:, t]
        return rec

    @staticmethod
    def readout(rec, kind):
        v = rec["v_o"]
        if kind == "sum_var":
            return v.sum(axis=1)
        if kind == "avg_var":
            return v.sum(axis=1) / v.shape[1]
        return v.max(axis=1)

    def loss(self, inputs, labels, kind, batch=None):
        """Batch-mean cross-entropy of the readout (divided by ``batch``, default B)."""
        r = self.readout(self.forward(inputs), kind)
        z = r - r.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return -logp[np.arange(len(labels)), labels].sum() / (batch or len(labels))

    def gradients(self, inputs, labels, kind):
        """``(dL/dw_in, dL/dw_rec or None, dL/dw_out)`` by the discrete adjoint equations."""
        rec = self.forward(inputs)
        B, T, _ = inputs.shape
        r = self.readout(rec, kind)
        p = np.exp(r - r.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(B), labels] -= 1.0
        dr = p / B
        g = np.zeros_like(rec["v_o"])
        if kind == "max_var":
            at = rec["v_o"].argmax(axis=1)
            for b in range(B):
                g[b, at[b], np.arange(dr.shape[1])] = dr[b]
        else:
            g[:] = (dr / T if kind == "avg_var" else dr)[:, None, :]
        k_h = (1.0 - self.alpha) * self.i_scale
        k_o = (1.0 - self.alpha_out) * self.i_scale
        c_h, c_o = self.i_scale, self.i_scale
        lv_h, li_h = np.zeros((B, self.w_in.shape[1])), np.zeros((B, self.w_in.shape[1]))
        lv_o, li_o = np.zeros((B, self.w_out.shape[1])), np.zeros((B, self.w_out.shape[1]))
        gw_in, gw_out = np.zeros_like(self.w_in), np.zeros_like(self.w_out)
        gw_rec = None if self.w_rec is None else np.zeros_like(self.w_rec)
        s_in = inputs
        for t in range(T - 1, -1, -1):
            # downstream term of a hidden spike at t: the targets' adjoints at t + 1
            d_o = c_o * lv_o / self.tau_out - li_o / self.tau_syn
            d_h = c_h * lv_h / self.tau_mem - li_h / self.tau_syn
            down = d_o @ self.w_out.T
            if self.w_rec is not None:
                down = down + d_h @ self.w_rec.T
            i_minus_v = rec["i_h"][:, t] - rec["v_h"][:, t]
            i_minus_vr = rec["i_h"][:, t] - rec["vr_h"][:, t]
            spiked = rec["s_h"][:, t] > 0
            safe = np.where(spiked, i_minus_v, 1.0)
            new_lv_h = np.where(spiked, self.alpha * lv_h * i_minus_vr / safe
                                + self.tau_mem * down / safe, self.alpha * lv_h)
            new_lv_o = self.alpha_out * lv_o + g[:, t]
            li_h = self.beta * li_h + k_h * new_lv_h
            li_o = self.beta * li_o + k_o * new_lv_o
            lv_h, lv_o = new_lv_h, new_lv_o
            if t >= 1:   # spikes of step t - 1 arrive at step t
                gw_in += s_in[:, t - 1].T @ li_h
                gw_out += rec["s_h"][:, t - 1].T @ li_o
                if gw_rec is not None:
                    gw_rec += rec["s_h"][:, t - 1].T @ li_h
        return gw_in, gw_rec, gw_out
