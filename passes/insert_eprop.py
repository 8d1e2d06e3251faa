"""``insert-eprop``: the structures of e-prop training (Bellec et al. 2020), as in mlGeNN's
EPropCompiler (Knight & Nowotny), made explicit in the IR.

Requires: ``insert-readout``. Options (``ctx.options``): ``losses`` (output node id -> loss
name, or a :class:`~irsnn.ir.ModelLoss`), ``tau_reg``, ``c_reg``, ``f_target``,
``train_output_bias``, ``feedback`` (``"symmetric"`` or ``"random"``), ``dt``, ``rng_seed``.

Provides, per timestep and batch element (i presynaptic, j hidden, k output;
alpha = exp(-dt/tau_mem) of the target population, rho = exp(-dt/tau_adapt),
alpha_F = exp(-dt/tau_reg), f' = f_target*dt/1000):

* on every hidden LIF/ALIF population: ``Psi`` = 0 while refractory, else
  (0.3/theta) max(0, 1 - |V - theta_eff|/theta) from V after integration and before reset
  (theta_eff = theta, or theta + beta*A for ALIF), ``FAvg`` <- alpha_F FAvg + (1 - alpha_F) z,
  and ``L`` (learning signal, written by a feedback path);
* on the output population: ``E`` (error, written by a ``loss.<name>`` node:
  softmax(V) - onehot(y) or V - y; for a loss written with mlGeNN's hooks, a
  :class:`~irsnn.ir.ModelLoss` in ``losses``, its variables, extra global parameters and code
  are added to the output, ``LossTarget = yTrue`` is stored every step and the error is
  V - LossTarget, or softmax(V) - LossTarget) and, with ``train_output_bias``,
  ``DeltaBias`` += E with ``Bias`` turned into a trainable variable;
* a ``feedback`` edge output -> hidden: L_j = sum_k W_jk E_k with the forward weights
  (symmetric) or a fixed random matrix (random; always used for hidden populations that do not
  project to the output directly);
* on every trained connection, a presynaptic trace ZBar_i <- alpha ZBar_i + z_i (the spikes
  delivered this step) and learning code: LIF e = Psi_j ZBar_i; ALIF
  e = Psi_j (ZBar_i - beta Eps_ji), Eps_ji <- Psi_j ZBar_i + (rho - Psi_j beta) Eps_ji;
  EBar_ji <- alpha EBar_ji + e; DeltaG_ji += EBar_ji L_j + c_reg (FAvg_j - f') e;
  output connections DeltaG_kj += ZBar_j E_k.

Timing (documented difference from mlGeNN): the learning code of step t pairs the eligibility
trace of step t with the error of the same step t (Bellec et al.'s equations, with the trace
ZBar filtering exactly the spikes that drove V at step t). mlGeNN delivers the error through a
feedback synapse, so its hidden layers use the error of step t-1. See ``docs/eprop.md``.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np

from irsnn.rng import CounterRNG, stream_id
from irsnn.errors import ModelError
from irsnn.ir import (AuxEdge, FeedbackPath, LossNode, ModelLoss, NeuronGroup, Param,
                      SynapseDynamics, Var, VarInit, edge_id)
from irsnn.ir.ids import FEEDBACK_KEY, LOSS_KEY, loss_id, var_ref
from irsnn.ir.layouts import LAYOUTS, layout_traits

from .base import Pass

HIDDEN_MODELS = ("LeakyIntegrateFire", "AdaptiveLeakyIntegrateFire")
OUTPUT_MODELS = ("LeakyIntegrate",)

_LIF_CODE = """\
const scalar e = Psi_post * ZBar_pre;
EBar = (Alpha * EBar) + e;
DeltaG += (EBar * L_post) + (CReg * (FAvg_post - FTarget) * e);
"""
_ALIF_CODE = """\
const scalar e = Psi_post * (ZBar_pre - (Beta * Eps));
EBar = (Alpha * EBar) + e;
DeltaG += (EBar * L_post) + (CReg * (FAvg_post - FTarget) * e);
Eps = (Psi_post * ZBar_pre) + ((Rho - (Psi_post * Beta)) * Eps);
"""
_OUTPUT_CODE = "DeltaG += ZBar_pre * E_post;\n"
#: the output variable holding the target ``yTrue`` of a loss written with mlGeNN's hooks
TARGET_VAR = "LossTarget"


def _zero(name, access="readwrite", batched=True, shape="neuron"):
    return Var(name, "scalar", access, VarInit("constant", 0.0), shape=shape, batched=batched,
               role="eprop")


def _scalar_param(pop, name):
    try:
        return pop.param(name).value
    except KeyError:
        raise ModelError(f"Population '{pop.name}' ({pop.model_name}): e-prop needs '{name}' "
                         f"as one value for the whole population, not per neuron") from None


class InsertEprop(Pass):
    """Insert e-prop's traces, errors, feedback paths and gradient accumulators."""

    def requires(self):
        return ("insert-readout",)

    def run(self, graph, ctx):
        o = ctx.options
        dt = float(o["dt"])
        losses = dict(o["losses"])
        outputs = sorted(losses)
        if len(outputs) != 1:
            raise ModelError(f"EPropCompiler trains exactly one output population; got "
                             f"{len(outputs)} ({outputs}); give losses for one output")
        out_id = outputs[0]
        out = graph.node(out_id)
        if out.model_name not in OUTPUT_MODELS:
            raise ModelError(f"Population '{out.name}' is an e-prop output but its neuron is "
                             f"{out.model_name}; use LeakyIntegrate with a readout")
        hidden = [nid for nid, p in graph.populations() if not p.is_input and nid != out_id]
        self._check_hidden(graph, hidden, out_id)
        self._check_connections(graph, hidden + [out_id])

        alpha_f = math.exp(-dt / float(o["tau_reg"]))
        f_prime = float(o["f_target"]) * dt / 1000.0
        for nid in hidden:
            self._hidden(graph, nid, alpha_f)
        self._output(graph, out_id, losses[out_id], bool(o["train_output_bias"]),
                     o.get("example_timesteps", 0))
        for u, v, k, syn in list(graph.synapses()):
            target = graph.node(v)
            graph.set_edge(u, v, k, syn.replace(learning=self._learning(
                target, v == out_id, float(o["c_reg"]), f_prime)))
        self._feedback(graph, hidden, out_id, o.get("feedback", "symmetric"),
                       int(o.get("rng_seed", 0)))

    # -- checks --------------------------------------------------------------------------------
    @staticmethod
    def _check_hidden(graph, hidden, out_id):
        syn_graph = nx.DiGraph([(u, v) for u, v, _, _ in graph.synapses()])
        for nid in hidden:
            pop = graph.node(nid)
            if pop.model_name not in HIDDEN_MODELS:
                raise ModelError(
                    f"Population '{pop.name}' uses {pop.model_name}, which e-prop cannot "
                    f"train; hidden populations must be LeakyIntegrateFire or "
                    f"AdaptiveLeakyIntegrateFire")
            if nid not in syn_graph or not nx.has_path(syn_graph, nid, out_id):
                raise ModelError(
                    f"Population '{pop.name}' has no path to the output "
                    f"'{graph.node(out_id).name}', so it would get no learning signal; "
                    f"connect it towards the output or remove it")

    @staticmethod
    def _check_connections(graph, trained):
        for _u, v, _, syn in graph.synapses():
            if v not in trained:
                continue
            where = f"Connection '{syn.name}'" + (f" (created at {syn.location})"
                                                  if syn.location else "")
            if not layout_traits(syn.layout).trains:
                trainable = [name for name, t in LAYOUTS.items() if t.trains]
                raise ModelError(f"{where}: e-prop trains connections stored "
                                 f"{' or '.join(trainable)}, but this {syn.connectivity} "
                                 f"connection is stored {syn.layout}; run the "
                                 f"choose-sparse-layout pass with the e-prop layouts "
                                 f"(EPropCompiler does)")
            if syn.psm_name != "Delta":
                raise ModelError(f"{where}: e-prop assumes delta synapses but this one uses "
                                 f"{syn.psm_name}; use synapse='delta'")
            if syn.heterogeneous_delay is not None:
                raise ModelError(f"{where}: e-prop does not support per-synapse delays; use a "
                                 f"constant delay")

    # -- rewrites ------------------------------------------------------------------------------
    @staticmethod
    def _hidden(graph, nid, alpha_f):
        pop = graph.node(nid)
        theta = "(Vthresh + (Beta * A))" if pop.model_name == "AdaptiveLeakyIntegrateFire" \
            else "Vthresh"
        psi = f"(0.3 / Vthresh) * fmax(0.0, 1.0 - (fabs(V - {theta}) / Vthresh))"
        if "RefracTime" in {v.name for v in pop.vars}:
            psi = f"(RefracTime > 0.0) ? 0.0 : ({psi})"
        for name in ("Psi", "FAvg", "L", "AlphaF"):
            if name in {v.name for v in pop.vars} | {p.name for p in pop.params}:
                raise ModelError(f"Population '{pop.name}': its model already declares "
                                 f"'{name}', which e-prop needs; rename it")
        graph.set_node(nid, pop.replace(
            vars=pop.vars + (_zero("Psi"), _zero("FAvg"), _zero("L", "readonly")),
            params=pop.params + (Param("AlphaF", "scalar", alpha_f),),
            sim_code=pop.sim_code + f"\nPsi = {psi};\nFAvg *= AlphaF;\n",
            reset_code=pop.reset_code + "\nFAvg += (1.0 - AlphaF);\n"))

    @staticmethod
    def _output(graph, nid, loss, train_bias, ctx_steps=0):
        pop = graph.node(nid)
        new_vars = [_zero("E", "readonly")]
        params = pop.params
        bias_grad = None
        if train_bias:
            if "Bias" in {p.name for p in pop.params}:
                params = tuple(p for p in pop.params if p.name != "Bias")
                new_vars.append(Var("Bias", "scalar", "readonly",
                                    VarInit("constant", pop.param("Bias").value),
                                    batched=False, role="param"))
            # else the bias is already per neuron (e.g. loaded from a checkpoint): train it
            new_vars.append(_zero("DeltaBias", "readonly"))
            bias_grad = "DeltaBias"
        egps, sim_code, target_var, kind = pop.egps, pop.sim_code, None, loss
        if isinstance(loss, ModelLoss):
            taken = ({v.name for v in pop.vars} | {p.name for p in params}
                     | {e.name for e in pop.egps} | {v.name for v in new_vars})
            clash = sorted(taken & ({v.name for v in loss.vars} | {e.name for e in loss.egps}
                                    | {TARGET_VAR}))
            if clash:
                raise ModelError(f"Population '{pop.name}': its loss {loss.kind} adds {clash}, "
                                 f"which the neuron model or e-prop already declares; rename "
                                 f"them in the loss's add_to_neuron")
            # the loss's code declares the local yTrue; the error is formed from it by the loss
            # node, which reads it from TARGET_VAR after the neuron update
            new_vars += list(loss.vars) + [Var(TARGET_VAR, "scalar", "readwrite",
                                               VarInit("constant", 0.0), role="loss")]
            egps = pop.egps + loss.egps
            sim_code = f"{pop.sim_code}\n{loss.sim_code}\n{TARGET_VAR} = yTrue;\n"
            target_var, kind = TARGET_VAR, "model_softmax" if loss.softmax else "model"
        graph.set_node(nid, pop.replace(vars=pop.vars + tuple(new_vars), params=params,
                                        egps=egps, sim_code=sim_code))
        # mean-square-error targets are per timestep (constant ones are repeated by the host)
        steps = int(ctx_steps) if loss == "mean_square_error" and ctx_steps else 0
        lid = graph.add_node(loss_id(nid), LossNode(kind=kind, source=nid,
                                                          bias_gradient=bias_grad,
                                                          timesteps=steps,
                                                          target_var=target_var))
        graph.add_edge(nid, lid, LOSS_KEY, AuxEdge())

    @staticmethod
    def _learning(target: NeuronGroup, is_output: bool, c_reg: float, f_prime: float):
        alpha = _scalar_param(target, "Alpha")
        if is_output:
            return SynapseDynamics(kind="eprop-output", vars=(_zero("DeltaG", shape="synapse"),),
                                   params=(), code=_OUTPUT_CODE, pre_trace_decay=alpha)
        params = [Param("Alpha", "scalar", alpha), Param("CReg", "scalar", c_reg),
                  Param("FTarget", "scalar", f_prime)]
        vars_ = [_zero("EBar", shape="synapse"), _zero("DeltaG", shape="synapse")]
        code, kind = _LIF_CODE, "eprop-lif"
        if target.model_name == "AdaptiveLeakyIntegrateFire":
            params += [Param("Beta", "scalar", _scalar_param(target, "Beta")),
                       Param("Rho", "scalar", _scalar_param(target, "Rho"))]
            vars_.insert(1, _zero("Eps", shape="synapse"))
            code, kind = _ALIF_CODE, "eprop-alif"
        return SynapseDynamics(kind=kind, vars=tuple(vars_), params=tuple(params), code=code,
                               pre_trace_decay=alpha)

    @staticmethod
    def _feedback(graph, hidden, out_id, mode, seed):
        if mode not in ("symmetric", "random"):
            raise ModelError(f"EPropCompiler: feedback={mode!r}; use 'symmetric' or 'random'")
        out = graph.node(out_id)
        for nid in hidden:
            forward = [(u, v, k) for u, v, k, _ in graph.synapses() if u == nid and v == out_id]
            if mode == "symmetric" and forward:
                weights = edge_id(*forward[0])
                how = "symmetric"
            else:
                # Bellec et al.'s random feedback: fixed, Normal(0, 1/n_out)
                pop = graph.node(nid)
                key = var_ref(edge_id(out_id, nid, FEEDBACK_KEY), "B")
                z = CounterRNG(seed).normal(stream_id(key), 0,
                                            np.arange(pop.size * out.size, dtype=np.uint32))
                graph.set_array(key, (z / np.sqrt(out.size)).astype(np.float32)
                                .reshape(pop.size, out.size))
                weights, how = key, "random"
            graph.add_edge(out_id, nid, FEEDBACK_KEY, FeedbackPath(
                source=out_id, target=nid, mode=how, weights=weights))
