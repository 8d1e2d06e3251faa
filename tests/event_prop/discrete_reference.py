"""An independent NumPy implementation of irsnn's discrete-time EventProp, for the tests.

Shares no code with irsnn: it simulates ``SpikeInput -> LIF (optionally recurrent) -> LI``
step by step in float64 (GeNN's order: arrivals of the previous step's spikes, ``Isyn``,
``inSyn`` decay, membrane update, threshold, absolute reset) and then solves the
discrete-time adjoint equations of :mod:`irsnn.compilers.event_prop_compiler` densely, one
timestep after another (no events, no closed forms), for the batch-mean cross-entropy of the
``sum_var``, ``avg_var``, ``max_var`` or ``avg_var_exp_weight`` readout, the per-timestep
cross-entropy and mean-square error, and, with ``lif_out`` (the output layer LIF too), the
relative mean-square error or the cross-entropy of its first spike times; optionally with
mlGeNN's spike-count regularisation of the hidden layer (:meth:`Model.gradients`).
"""

from __future__ import annotations

import numpy as np


class Model:
    """Weights and constants of a ``SpikeInput -> LIF -> LI`` network (exponential synapses,
    ``scale_i`` everywhere, the hidden layer reset to ``v_reset``)."""

    def __init__(self, w_in, w_out, w_rec=None, *, tau_mem=20.0, tau_out=20.0, tau_syn=5.0,
                 v_thresh=1.0, v_reset=0.0, dt=1.0, lif_out=False):
        self.w_in, self.w_out, self.w_rec = w_in, w_out, w_rec
        self.tau_mem, self.tau_out, self.tau_syn = tau_mem, tau_out, tau_syn
        self.v_thresh, self.v_reset, self.dt = v_thresh, v_reset, dt
        self.lif_out = lif_out
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
                                                  ("vr_h", nh), ("v_o", no), ("s_o", no),
                                                  ("i_o", no), ("vr_o", no))}
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
            rec["vr_h"][:, t], rec["v_o"][:, t], rec["i_o"][:, t] = v_h, v_o, i_o
            if self.lif_out:
                s_o = (v_o >= self.v_thresh).astype(float)
                rec["s_o"][:, t] = s_o
                v_o = np.where(s_o > 0, self.v_reset, v_o)
            rec["vr_o"][:, t] = v_o
            s_h_prev, s_in_prev = s_h, inputs[:, t]
        return rec

    def readout(self, rec, kind):
        v = rec["v_o"]
        if kind == "sum_var":
            return v.sum(axis=1)
        if kind == "avg_var":
            return v.sum(axis=1) / v.shape[1]
        if kind == "avg_var_exp_weight":
            T = v.shape[1]
            w = np.array([np.exp(-(t * self.dt) / (T * self.dt)) for t in range(T)]) / T
            return np.einsum("btn,t->bn", v, w)
        return v.max(axis=1)

    def per_timestep_drive(self, rec, labels, kind, targets=None, temp=1.0):
        """``g`` ``(B, T, n)`` of the per-timestep losses: ``"per_timestep"`` (mean over
        steps of the cross-entropy of ``softmax(V(t) / temp)``) or ``"mse"`` (mean over steps
        of ``sum_k (V_k(t) - Y_k(t))^2 / 2``, ``targets`` ``(B, n)`` or ``(B, T, n)``)."""
        v = rec["v_o"]
        B, T, n = v.shape
        g = np.zeros_like(v)
        for b in range(B):
            for t in range(T):
                if kind == "mse":
                    y = targets[b, t] if targets.ndim == 3 else targets[b]
                    g[b, t] = (v[b, t] - y) / (B * T)
                else:
                    e = np.exp((v[b, t] - v[b, t].max()) / temp)
                    q = e / e.sum()
                    q[labels[b]] -= 1.0
                    g[b, t] = q / (temp * B * T)
        return g

    def ttfs_crossentropy_derivative(self, rec, labels, temp, alpha):
        """``(dL/dt_k, phantom)`` of mlGeNN's time-to-first-spike cross-entropy
        ``-log softmax(-t / temp)[y] + alpha / (1.01 T_ms - t_y)`` (batch mean) and its phantom
        drive of correct neurons that did not spike."""
        t, spiked = self.first_spike_times(rec)
        B, n = t.shape
        T_ms = rec["v_o"].shape[1] * self.dt
        out, phantom = np.zeros((B, n)), np.zeros((B, n))
        for b in range(B):
            y = labels[b]
            ks = [k for k in range(n) if spiked[b, k]]
            if not spiked[b, y]:
                phantom[b, y] = -self.tau_out * alpha / (1e-4 * T_ms * T_ms * B)
            if not ks:
                continue
            z = np.array([-t[b, k] / temp for k in ks])
            q = np.exp(z - z.max())
            q /= q.sum()
            for q_k, k in zip(q, ks):
                out[b, k] = ((1.0 if k == y else 0.0) - q_k) / (temp * B)
            if spiked[b, y]:
                out[b, y] += alpha / (1.01 * T_ms - t[b, y]) ** 2 / B
        return out, phantom

    def loss(self, inputs, labels, kind, batch=None):
        """Batch-mean cross-entropy of the readout (divided by ``batch``, default B)."""
        r = self.readout(self.forward(inputs), kind)
        z = r - r.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return -logp[np.arange(len(labels)), labels].sum() / (batch or len(labels))

    def first_spike_times(self, rec):
        """``(times, spiked)``: each output neuron's first spike time (ms), inf if none."""
        s = rec["s_o"]
        spiked = s.any(axis=1)
        first = np.where(spiked, s.argmax(axis=1) * self.dt, np.inf)
        return first, spiked

    def ttfs_loss_derivative(self, rec, labels, delta):
        """``dL/dt_k`` of ``sum_{k != y} (t_y - t_k + delta)^2 / 2`` (batch mean), a neuron
        that did not spike taking ``t = 0`` (mlGeNN's), for the neurons that spiked."""
        t, spiked = self.first_spike_times(rec)
        B, n = t.shape
        out = np.zeros((B, n))
        for b in range(B):
            y = labels[b]
            times = [t[b, k] if spiked[b, k] else 0.0 for k in range(n)]
            for k in range(n):
                if k == y:
                    continue
                diff = times[y] - times[k] + delta
                if spiked[b, k]:
                    out[b, k] -= diff / B
                if spiked[b, y]:
                    out[b, y] += diff / B
        return out

    def ttfs_gradients(self, inputs, labels, delta):
        """The gradients with a LIF output and the relative mean-square error of first spike
        times (``lif_out=True``)."""
        return self.gradients(inputs, labels, "ttfs", delta=delta)

    def gradients(self, inputs, labels, kind, delta=None, targets=None, temp=1.0,
                  alpha=0.01, reg=None):
        """``(dL/dw_in, dL/dw_rec or None, dL/dw_out)`` by the discrete adjoint equations.

        ``kind``: a readout of the cross-entropy (``"sum_var"``, ``"avg_var"``, ``"max_var"``,
        ``"avg_var_exp_weight"``), ``"per_timestep"`` or ``"mse"`` (:meth:`per_timestep_drive`),
        ``"ttfs"`` (relative mean-square error, ``delta``) or ``"ttfs_ce"`` (time-to-first-spike
        cross-entropy, ``temp``, ``alpha``). ``reg = (lambda_upper, lambda_lower, nu_upper)``:
        mlGeNN's spike-count regularisation of the hidden layer, in irsnn's adjoint units
        (``-TauM`` times mlGeNN's).
        """
        rec = self.forward(inputs)
        B, T, _ = inputs.shape
        g = np.zeros_like(rec["v_o"])
        dldt = None
        if kind in ("ttfs", "ttfs_ce"):
            if kind == "ttfs":
                dldt = self.ttfs_loss_derivative(rec, labels, delta)
            else:
                dldt, phantom = self.ttfs_crossentropy_derivative(rec, labels, temp, alpha)
                g[:, T - 1] += phantom
            first = self.first_spike_times(rec)[0]
        elif kind in ("per_timestep", "mse"):
            g = self.per_timestep_drive(rec, labels, kind, targets, temp)
        else:
            r = self.readout(rec, kind)
            p = np.exp(r - r.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            p[np.arange(B), labels] -= 1.0
            dr = p / B
            if kind == "max_var":
                at = rec["v_o"].argmax(axis=1)
                for b in range(B):
                    g[b, at[b], np.arange(dr.shape[1])] = dr[b]
            elif kind == "avg_var_exp_weight":
                for t in range(T):
                    g[:, t] = dr * np.exp(-t / T) / T
            else:
                g[:] = (dr / T if kind == "avg_var" else dr)[:, None, :]
        reg_jump = 0.0
        if reg is not None:
            upper, lower, nu = reg
            counts = rec["s_h"].sum(axis=(0, 1))
            excess = counts - nu * B
            lam = np.array([upper if c > 0 else lower for c in excess])
            reg_jump = self.tau_mem * lam * excess / (B * B)
        k_h = (1.0 - self.alpha) * self.i_scale
        k_o = (1.0 - self.alpha_out) * self.i_scale
        lv_h, li_h = np.zeros((B, self.w_in.shape[1])), np.zeros((B, self.w_in.shape[1]))
        lv_o, li_o = np.zeros((B, self.w_out.shape[1])), np.zeros((B, self.w_out.shape[1]))
        gw_in, gw_out = np.zeros_like(self.w_in), np.zeros_like(self.w_out)
        gw_rec = None if self.w_rec is None else np.zeros_like(self.w_rec)
        s_in = inputs
        for t in range(T - 1, -1, -1):
            # downstream term of a hidden spike at t: the targets' adjoints at t + 1 = m,
            # D = (LambdaI(m) - LambdaI(m+1)) / dt with LambdaI(m+1) from the recurrence
            d_o = (k_o * lv_o - (1.0 - self.beta) * li_o) / (self.beta * self.dt)
            d_h = (k_h * lv_h - (1.0 - self.beta) * li_h) / (self.beta * self.dt)
            down = d_o @ self.w_out.T
            if self.w_rec is not None:
                down = down + d_h @ self.w_rec.T
            i_minus_v = rec["i_h"][:, t] - rec["v_h"][:, t]
            i_minus_vr = rec["i_h"][:, t] - rec["vr_h"][:, t]
            spiked = rec["s_h"][:, t] > 0
            safe = np.where(spiked, i_minus_v, 1.0)
            new_lv_h = np.where(spiked, self.alpha * lv_h * i_minus_vr / safe
                                + self.tau_mem * down / safe + reg_jump, self.alpha * lv_h)
            new_lv_o = self.alpha_out * lv_o + g[:, t]
            if kind in ("ttfs", "ttfs_ce"):
                spk_o = rec["s_o"][:, t] > 0
                imv_o = np.where(spk_o, rec["i_o"][:, t] - rec["v_o"][:, t], 1.0)
                imvr_o = rec["i_o"][:, t] - rec["vr_o"][:, t]
                is_first = spk_o & (first == t * self.dt)
                new_lv_o = np.where(spk_o, self.alpha_out * lv_o * imvr_o / imv_o
                                    - np.where(is_first, self.tau_out * dldt / imv_o, 0.0),
                                    new_lv_o)
            li_h = self.beta * li_h + k_h * new_lv_h
            li_o = self.beta * li_o + k_o * new_lv_o
            lv_h, lv_o = new_lv_h, new_lv_o
            if t >= 1:   # spikes of step t - 1 arrive at step t
                gw_in += s_in[:, t - 1].T @ li_h
                gw_out += rec["s_h"][:, t - 1].T @ li_o
                if gw_rec is not None:
                    gw_rec += rec["s_h"][:, t - 1].T @ li_h
        return gw_in, gw_rec, gw_out
