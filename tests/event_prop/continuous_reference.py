"""An exact, event-based continuous-time LIF network and its EventProp gradients, for the tests.

Shares no code with irsnn. ``SpikeInput -> LIF -> LeakyIntegrate`` (feed-forward) with
exponential synapses and per-synapse delays ``d_in``, ``d_out`` (ms; default 0: a spike at ``t``
arrives at ``t + d``)::

    dx/dt = -x / TauSyn (+ w at each arrival)     TauM dV/dt = -V + x

integrated analytically between events; a hidden neuron spikes when ``V`` reaches ``Vthresh``
(the first root after the last event, bracketed on a fine grid and refined by bisection to
machine precision) and is reset to 0. The loss is the cross-entropy of ``softmax(R)`` with
``R_k = (1/T) int_0^T V_k dt`` (irsnn's ``avg_var`` as ``dt -> 0``).

The gradients come from the continuous adjoint (Wunderlich & Pehle 2021), solved analytically
backward between events: ``dLambdaV/ds = -LambdaV/TauM + g``, ``dLambdaI/ds = -LambdaI/TauSyn +
LambdaV/TauM`` in reverse time ``s``; at a hidden spike ``LambdaV`` jumps to
``LambdaV (I - 0)/(I - Vthresh) + TauM/(I - Vthresh) sum_k w_jk D_k`` with
``D_k = LambdaV_k/TauM - LambdaI_k/TauSyn``;
``dL/dw_ij`` sums ``LambdaI_j`` over the arrivals of ``i``'s spikes at ``j``, and the delay
gradient ``dL/dd_ij`` sums ``-w_ij D_j`` there (the derivative by the arrival time).
"""

from __future__ import annotations

import numpy as np


def _bisect(f, lo, hi):
    """The root of ``f`` in ``[lo, hi]`` (``f(lo) < 0 <= f(hi)``) to machine precision."""
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if f(mid) >= 0:
            hi = mid
        else:
            lo = mid
    return hi


class ContinuousNet:
    """One example of ``SpikeInput -> LIF -> LI`` in continuous time (see module docstring)."""

    def __init__(self, w_in, w_out, *, tau_mem=20.0, tau_out=20.0, tau_syn=5.0, v_thresh=1.0,
                 duration=30.0, d_in=None, d_out=None):
        self.w_in, self.w_out = np.asarray(w_in, float), np.asarray(w_out, float)
        self.d_in = np.zeros_like(self.w_in) if d_in is None else np.asarray(d_in, float)
        self.d_out = np.zeros_like(self.w_out) if d_out is None else np.asarray(d_out, float)
        self.tm, self.to, self.ts = tau_mem, tau_out, tau_syn
        self.theta, self.T = v_thresh, duration

    # -- analytic pieces -----------------------------------------------------------------------
    def _v(self, v0, x0, dt, tm):
        ts = self.ts
        return v0 * np.exp(-dt / tm) + x0 * ts / (ts - tm) * (np.exp(-dt / ts) - np.exp(-dt / tm))

    def _v_integral(self, v0, x0, dt, tm):
        ts = self.ts
        return (v0 * tm * (1 - np.exp(-dt / tm))
                + x0 * ts / (ts - tm) * (ts * (1 - np.exp(-dt / ts)) - tm * (1 - np.exp(-dt / tm))))

    # -- forward -------------------------------------------------------------------------------
    def hidden_spikes(self, inputs):
        """``inputs``: list of (time, input index). Returns per hidden neuron a list of
        ``(spike time, x at the spike)``."""
        return self._lif_spikes(inputs, self.w_in, self.d_in, self.tm)

    def _lif_spikes(self, inputs, w, d, tm):
        """Spikes of a LIF layer (weights ``w``, delays ``d``, membrane constant ``tm``)
        driven by ``inputs`` (list of (time, presynaptic index)): per neuron a list of
        ``(spike time, x at the spike)``."""
        out = []
        for j in range(w.shape[1]):
            events = sorted((t + d[i, j], w[i, j]) for t, i in inputs
                            if t + d[i, j] < self.T) + [(self.T, 0.0)]
            t, v, x, spikes = 0.0, 0.0, 0.0, []
            for t_next, wij in events:
                while True:
                    span = t_next - t
                    grid = np.linspace(0.0, span, 200)[1:]
                    vals = self._v(v, x, grid, tm) - self.theta
                    above = np.flatnonzero(vals >= 0)
                    if span <= 0 or not len(above):
                        break
                    hi = grid[above[0]]
                    lo = grid[above[0] - 1] if above[0] > 0 else 0.0
                    dt = _bisect(lambda s, v=v, x=x: self._v(v, x, s, tm) - self.theta,
                                 lo, hi)
                    t, x = t + dt, x * np.exp(-dt / self.ts)
                    spikes.append((t, x))
                    v = 0.0
                v = self._v(v, x, t_next - t, tm)
                x = x * np.exp(-(t_next - t) / self.ts) + wij
                t = t_next
            out.append(spikes)
        return out

    def readout(self, spikes):
        """``R_k = (1/T) int V_k`` of the output neurons driven by the hidden ``spikes``."""
        n_out = self.w_out.shape[1]
        total = np.zeros(n_out)
        for k in range(n_out):
            events = sorted((t + self.d_out[j, k], j) for j, s in enumerate(spikes)
                            for t, _ in s if t + self.d_out[j, k] < self.T)
            t, v, x = 0.0, 0.0, 0.0
            for t_next, j in events + [(self.T, None)]:
                total[k] += self._v_integral(v, x, t_next - t, self.to)
                v = self._v(v, x, t_next - t, self.to)
                x = x * np.exp(-(t_next - t) / self.ts)
                if j is not None:
                    x = x + self.w_out[j, k]
                t = t_next
        return total / self.T

    def loss(self, inputs, label):
        r = self.readout(self.hidden_spikes(inputs))
        z = r - r.max()
        return -(z[label] - np.log(np.exp(z).sum()))

    # -- adjoint -------------------------------------------------------------------------------
    def _lambda(self, lv0, li0, g, s, tm):
        """``(LambdaV, LambdaI)`` a reverse time ``s`` after ``(lv0, li0)``, drive ``g``."""
        ts = self.ts
        em, es = np.exp(-s / tm), np.exp(-s / ts)
        lv = lv0 * em + g * tm * (1 - em)
        li = li0 * es + ((lv0 - g * tm) * (em - es) / (1 / ts - 1 / tm)
                         + g * tm * ts * (1 - es)) / tm
        return lv, li

    def gradients(self, inputs, label):
        """``(dL/dw_in, dL/dw_out)`` by the continuous adjoint."""
        return self.all_gradients(inputs, label)[:2]

    def delay_gradients(self, inputs, label):
        """``(dL/dd_in, dL/dd_out)`` (per ms of delay) by the continuous adjoint."""
        return self.all_gradients(inputs, label)[2:]

    def all_gradients(self, inputs, label):
        """``(dL/dw_in, dL/dw_out, dL/dd_in, dL/dd_out)``."""
        spikes = self.hidden_spikes(inputs)
        r = self.readout(spikes)
        p = np.exp(r - r.max())
        p /= p.sum()
        p[label] -= 1.0
        g = p / self.T

        def out_lambda(t):      # each output's (LambdaV, LambdaI) at times t (0 from T on)
            lv, li = self._lambda(0.0, 0.0, g, np.maximum(self.T - t, 0.0), self.to)
            return np.where(t < self.T, lv, 0.0), np.where(t < self.T, li, 0.0)

        return self._hidden_backward(spikes, inputs, out_lambda)

    def _hidden_backward(self, spikes, inputs, out_lambda):
        """``(dL/dw_in, dL/dw_out, dL/dd_in, dL/dd_out)``: the adjoint of every hidden neuron
        backward through its spikes and input arrivals, given ``out_lambda(t)``, the outputs'
        ``(LambdaV, LambdaI)`` at time ``t`` (zero from ``T`` on)."""
        g_out, d_out = np.zeros_like(self.w_out), np.zeros_like(self.w_out)
        g_in, d_in = np.zeros_like(self.w_in), np.zeros_like(self.w_in)
        for j, s in enumerate(spikes):
            # backward through neuron j's spikes and its input arrivals
            events = [(t, "spike", x) for t, x in s] + [
                (t + self.d_in[i, j], "in", i) for t, i in inputs
                if t + self.d_in[i, j] < self.T]
            events.sort(key=lambda e: (e[0], e[1] == "in"), reverse=True)
            lv, li, t_hi = 0.0, 0.0, self.T
            for t, what, data in events:
                lv, li = self._lambda(lv, li, 0.0, t_hi - t, self.tm)
                t_hi = t
                if what == "in":
                    g_in[data, j] += li
                    d_in[data, j] -= self.w_in[data, j] * (lv / self.tm - li / self.ts)
                else:
                    lv_o, li_o = out_lambda(t + self.d_out[j])
                    g_out[j] += li_o
                    d_out[j] -= self.w_out[j] * (lv_o / self.to - li_o / self.ts)
                    down = (self.w_out[j] * (lv_o / self.to - li_o / self.ts)).sum()
                    i_minus_v = data - self.theta
                    lv = lv * data / i_minus_v + self.tm * down / i_minus_v
        return g_in, g_out, d_in, d_out


class ContinuousTtfsNet(ContinuousNet):
    """``SpikeInput -> LIF -> LIF`` with the output's time-to-first-spike loss.

    The output layer is a second LIF layer (membrane constant ``tau_out``, reset to 0). The
    loss is the relative mean-square error of the first output spike times ``t_k``:
    ``sum_{k != y} (t_y - t_k + delta)^2 / 2``, where an output neuron that never spiked
    enters with ``t_k = 0`` (a constant: it carries no derivative).

    In the adjoint, an output neuron's ``(LambdaV, LambdaI)`` is zero from ``T`` back to its
    first spike (its later spikes scale a zero ``LambdaV``); there ``LambdaV`` jumps to
    ``-TauM dL/dt_k / (I - Vthresh)``, the same transition as a hidden neuron's, whose
    downstream sum ``sum_k w_jk D_k`` is ``-dL/dt_j`` (moving a spike later by ``s`` moves
    each of its arrivals later by ``s``); it then decays backward with no drive.
    """

    def __init__(self, w_in, w_out, *, delta=1.0, **kw):
        super().__init__(w_in, w_out, **kw)
        self.delta = float(delta)

    def output_first_spikes(self, inputs):
        """Per output neuron ``(first spike time, x at it)``, or None if it never spiked."""
        hidden = self.hidden_spikes(inputs)
        arrivals = [(t, j) for j, s in enumerate(hidden) for t, _ in s]
        out = self._lif_spikes(arrivals, self.w_out, self.d_out, self.to)
        return [s[0] if s else None for s in out]

    def _times(self, first):
        return np.array([0.0 if f is None else f[0] for f in first])

    def loss(self, inputs, label):
        t = self._times(self.output_first_spikes(inputs))
        lead = t[label] - t + self.delta
        lead[label] = 0.0
        return 0.5 * float(np.sum(lead ** 2))

    def dloss_dt(self, first, label):
        """``dL/dt_k`` of each output neuron's first spike (0 for a silent neuron)."""
        t = self._times(first)
        lead = t[label] - t + self.delta
        lead[label] = 0.0
        grad = -lead
        grad[label] = lead.sum()
        return np.array([0.0 if f is None else g for f, g in zip(first, grad)])

    def all_gradients(self, inputs, label):
        """``(dL/dw_in, dL/dw_out, dL/dd_in, dL/dd_out)`` by the continuous adjoint."""
        spikes = self.hidden_spikes(inputs)
        first = self.output_first_spikes(inputs)
        dldt = self.dloss_dt(first, label)
        n_out = self.w_out.shape[1]
        t_first = np.array([np.inf if f is None else f[0] for f in first])
        lv_jump = np.array([0.0 if f is None else -self.to * dldt[k] / (f[1] - self.theta)
                            for k, f in enumerate(first)])

        def out_lambda(t):      # each output's (LambdaV, LambdaI) at times t (arrays of n_out)
            t = np.broadcast_to(np.asarray(t, float), (n_out,))
            before = t < t_first
            s = np.where(before, t_first - t, 0.0)
            lv, li = self._lambda(lv_jump, 0.0, 0.0, s, self.to)
            kept = before & (t < self.T)
            return np.where(kept, lv, 0.0), np.where(kept, li, 0.0)

        return self._hidden_backward(spikes, inputs, out_lambda)
