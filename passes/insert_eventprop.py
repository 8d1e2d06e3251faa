"""``insert-eventprop``: the adjoint state, spike buffers, loss drive and gradients of EventProp.

Requires: ``insert-readout``. Options: ``eventprop`` (``{population node id: {"kind": "input"
| "hidden" | "output", "params": {name: value}}}``, filled and checked by
:class:`~irsnn.compilers.EventPropCompiler`, which also refuses every model outside the
supported set), ``losses`` (``{output node id: loss name}``), ``max_spikes``,
``strict_buffer_checking``, ``softmax_temperature``, ``example_timesteps`` (the targets
per timestep of ``mean_square_error``) and ``delay_learn`` (``{connection name:
max_delay_steps}`` of the connections whose delays are trained). Each entry may carry
``"per_timestep": True``. :data:`OUTPUTS` and :func:`features` say which losses and readouts
the backward pass implements.

Provides, for every population taking part (see :class:`~irsnn.ir.EventPropState`):

- an ``eventprop.<name>`` node tapped from the population, naming its adjoint variables, the
  per-neuron buffers the forward pass fills (spike steps; for LIF populations also ``I - V``
  just before and just after the reset, which give the slopes ``dV/dt`` of the spike-time
  jump) and the constants of the backward pass;
- on hidden LIF populations the variables ``LambdaV``, ``LambdaI`` (adjoint of the membrane
  voltage and of the synaptic input ``inSyn``), ``IMinusV`` and ``IMinusVReset`` (written by
  the reset code around the reset) and the parameter ``EventPropGain``;
- on output populations ``LambdaV``, ``LambdaI`` and ``Drive`` (the loss-derived adjoint drive:
  ``dL/dV`` per step of a LeakyIntegrate output, ``dL/dt`` of the first spike of a LIF output
  with the ``first_spike_time`` readout, which also gets the LIF variables above) and a
  ``loss.<name>`` :class:`~irsnn.ir.LossNode` writing ``Drive`` (``timesteps`` set for
  ``mean_square_error``, whose targets may be given per timestep);
- on every connection into a hidden or output population event-driven learning
  (``SynapseDynamics(kind="eventprop", vars=(Gradient,))``): one gradient per synapse for the
  whole batch, to which every spike arriving at step ``t`` adds ``LambdaI_post(t)``;
- on each ``delay_learn`` connection per-synapse delays made learnable: the variable ``d``
  (role ``"param"``, delays in timesteps as real numbers, starting from the connection's
  delays) and its gradient ``DelayGradient`` (``-dt w D_post(t)`` per arrival, ``D`` the
  target's :func:`arrival_coefficients` form: the derivative of the loss by the arrival
  time); the connection's delays become per synapse with ``max_delay_steps`` as given.

The discrete-time adjoint equations the backends solve are in :mod:`irsnn.compilers.
event_prop_compiler`.
"""

from __future__ import annotations

from irsnn.errors import ModelError
from irsnn.ir import AuxEdge, EventPropState, LossNode, Param, SynapseDynamics, Var, VarInit
from irsnn.ir.ids import EVENTPROP_KEY, LOSS_KEY, eventprop_id, loss_id

from .base import Pass

#: the constants of the backward pass, in the order the node lists them (``Delta``: the
#: relative mean-square error's margin; ``TtfsAlpha`` and ``ExampleTime``: the
#: time-to-first-spike cross-entropy's regulariser; ``RegLambdaUpper``, ``RegLambdaLower``,
#: ``RegNuUpper``: the spike-count regularisation of a hidden population, ``RegLossScale``
#: its strengths' factor, irsnn's loss over mlGeNN's)
PARAMS = ("Alpha", "Beta", "Gain", "K", "TauM", "TauSyn", "Delta", "TtfsAlpha", "ExampleTime",
          "RegLambdaUpper", "RegLambdaLower", "RegNuUpper", "RegLossScale")

#: Every output the backward pass implements, as ``(neuron, readout, loss, per_timestep)``
#: (``neuron``: ``"leaky_integrate"`` or ``"leaky_integrate_fire"``): mlGeNN's set. This and
#: :data:`HIDDEN_FEATURES` are the one list of what EventProp supports: the compiler refuses
#: anything else, and a kernel backend compares :func:`features` of a graph with the subset
#: it implements.
OUTPUTS = frozenset({
    ("leaky_integrate", "sum_var", "sparse_categorical_crossentropy", False),
    ("leaky_integrate", "avg_var", "sparse_categorical_crossentropy", False),
    ("leaky_integrate", "max_var", "sparse_categorical_crossentropy", False),
    ("leaky_integrate", "avg_var_exp_weight", "sparse_categorical_crossentropy", False),
    ("leaky_integrate", "sum_var", "sparse_categorical_crossentropy", True),
    ("leaky_integrate", "avg_var", "sparse_categorical_crossentropy", True),
    ("leaky_integrate", "var", "mean_square_error", True),
    ("leaky_integrate_fire", "first_spike_time", "relative_mean_square_error", False),
    ("leaky_integrate_fire", "first_spike_time", "sparse_categorical_crossentropy", False),
})
#: features of hidden populations beyond the plain LIF backward pass
HIDDEN_FEATURES = frozenset({"spike_count_regularisation"})


def arrival_coefficients(p: dict, dt: float) -> tuple:
    """``(kv, ki)`` of a target population with backward-pass constants ``p`` (``K``,
    ``Beta``): a spike arriving at its step ``m`` over weight ``w`` changes the loss by
    ``-w D dt`` per step of delay, ``D = kv LambdaV(m) - ki LambdaI(m)``, with ``kv = K /
    (Beta dt)`` and ``ki = (1 - Beta) / (Beta dt)``: the discrete derivative ``(LambdaI(m) -
    LambdaI(m+1)) / dt`` written with ``LambdaI(m+1) = (LambdaI(m) - K LambdaV(m)) / Beta``.
    Under a constant loss drive it is 0 in the adjoint's steady state, as the continuous
    ``c LambdaV / TauM - LambdaI / TauSyn`` it tends to as ``dt -> 0``; that form, at finite
    ``dt``, is not (a difference of two nearly equal terms, off by ``O(dt)`` of ``LambdaV /
    TauM`` with the drive's sign), and it turned a mean-square error's drive into a push
    against the hidden layer's spikes (mlGeNN's ``pattern_recognition`` example)."""
    beta = float(p["Beta"])
    return float(p["K"]) / (beta * dt), (1.0 - beta) / (beta * dt)


def output_signature(node) -> tuple:
    """``(neuron, readout, loss, per_timestep)`` of an output's
    :class:`~irsnn.ir.EventPropState` (an entry of :data:`OUTPUTS` when supported)."""
    neuron = "leaky_integrate_fire" if "IMinusV" in node.buffers else "leaky_integrate"
    return (neuron, node.readout, node.loss, bool(node.per_timestep))


def features(graph) -> set:
    """What the EventProp backward pass of ``graph`` needs: the :func:`output_signature` of
    every output and the names in :data:`HIDDEN_FEATURES` its hidden populations use."""
    out = set()
    for _, node in graph.nodes(EventPropState):
        if node.kind == "output":
            out.add(output_signature(node))
        elif node.kind == "hidden" and any(
                p.name in ("RegLambdaUpper", "RegLambdaLower") and p.value != 0
                for p in node.params):
            out.add("spike_count_regularisation")
    return out
#: buffers each kind of population fills during the forward pass
BUFFERS = {"input": ("SpikeTime",), "hidden": ("SpikeTime", "IMinusV", "IMinusVReset"),
           "output": ()}
#: buffers of LIF populations (hidden, or outputs with the first_spike_time readout)
LIF_BUFFERS = BUFFERS["hidden"]


def _var(name, access="readonly"):
    return Var(name, "scalar", access, VarInit("constant", 0.0), role="eventprop")


class InsertEventprop(Pass):
    """Add EventProp's adjoint state, spike buffers, loss drive and gradient accumulators."""

    def requires(self):
        return ("insert-readout",)

    def run(self, graph, ctx):
        info = ctx.options.get("eventprop")
        if not info:
            raise ModelError("insert-eventprop needs the 'eventprop' option (population -> "
                             "role and constants); run it through EventPropCompiler")
        max_spikes = int(ctx.options.get("max_spikes", 500))
        strict = bool(ctx.options.get("strict_buffer_checking", False))
        losses = ctx.options.get("losses", {})
        temperature = float(ctx.options.get("softmax_temperature", 1.0))
        timesteps = int(ctx.options.get("example_timesteps", 0))
        for nid, entry in info.items():
            kind = entry["kind"]
            pop = graph.node(nid)
            params = tuple(Param(n, "scalar", float(entry["params"][n]))
                           for n in PARAMS if n in entry.get("params", {}))
            adjoints, drive, readout, loss = (), None, None, None
            if kind in ("hidden", "output"):
                adjoints = ("LambdaV", "LambdaI")
                new = [_var("LambdaV"), _var("LambdaI")]
                changes = {}
                if entry.get("lif"):
                    new += [_var("IMinusV", "readwrite"), _var("IMinusVReset", "readwrite")]
                    gain = Param("EventPropGain", "scalar", float(entry["params"]["Gain"]))
                    changes = {"params": pop.params + (gain,), "reset_code": (
                        "IMinusV = (Isyn * EventPropGain) - V;\n" + pop.reset_code
                        + "\nIMinusVReset = (Isyn * EventPropGain) - V;\n")}
                if kind == "output":
                    drive, loss = "Drive", losses[nid]
                    readout = pop.readout.kind if pop.readout is not None else None
                    new.append(_var("Drive"))
                clash = sorted({v.name for v in new} & ({v.name for v in pop.vars}
                                                        | {p.name for p in pop.params}))
                if clash:
                    raise ModelError(f"Population '{pop.name}': its model already declares "
                                     f"{clash}, which EventProp needs; rename them")
                graph.set_node(nid, pop.replace(vars=pop.vars + tuple(new), **changes))
            sid = graph.add_node(eventprop_id(nid), EventPropState(
                kind=kind, source=nid, max_spikes=max_spikes, strict=strict, adjoints=adjoints,
                buffers=LIF_BUFFERS if entry.get("lif") else BUFFERS[kind], params=params,
                drive=drive, readout=readout, loss=loss,
                softmax_temperature=temperature, per_timestep=bool(entry.get("per_timestep"))))
            graph.add_edge(nid, sid, EVENTPROP_KEY, AuxEdge())
            if kind == "output":
                lid = graph.add_node(loss_id(nid), LossNode(
                    kind=loss, source=nid, var=pop.output_var, error_var="Drive",
                    timesteps=timesteps if loss == "mean_square_error" else 0))
                graph.add_edge(nid, lid, LOSS_KEY, AuxEdge())
        learn_delays = dict(ctx.options.get("delay_learn", {}))
        for u, v, k, syn in list(graph.synapses()):
            if v not in info or info[v]["kind"] == "input":
                continue
            if u not in info:
                raise ModelError(f"Connection '{syn.name}' comes from a population EventProp "
                                 f"does not simulate backward; compile with EventPropCompiler")
            learn_vars, delays = (_grad("Gradient"),), {}
            if syn.name in learn_delays:
                syn, d = _learnable_delays(syn, learn_delays.pop(syn.name))
                learn_vars += (d, _grad("DelayGradient"))
                delays = {"delay_var": "d", "delay_gradient": "DelayGradient"}
            graph.set_edge(u, v, k, syn.replace(learning=SynapseDynamics(
                kind="eventprop", vars=learn_vars, params=(), code="", pre_trace="",
                pre_trace_decay=0.0, gradient="Gradient", backward=eventprop_id(v), **delays)))
        if learn_delays:
            raise ModelError(f"insert-eventprop: delay_learn names {sorted(learn_delays)}, "
                             f"which are not trained connections of this network")


def _grad(name):
    return Var(name, "scalar", "readonly", VarInit("constant", 0.0), shape="synapse",
               batched=False, role="learning")


def _learnable_delays(syn, max_delay_steps: int):
    """``(syn with per-synapse delays of at most max_delay_steps, the delay variable)``."""
    het = syn.heterogeneous_delay
    if het is None:      # one delay for the connection: every synapse starts from it
        het = VarInit("constant", float(syn.delay_steps - 1))
    syn = syn.replace(heterogeneous_delay=het, delay_steps=1,
                      max_delay_steps=int(max_delay_steps))
    return syn, Var("d", "scalar", "readonly", het, shape="synapse", batched=False,
                    role="param")


__all__ = ["InsertEventprop", "PARAMS", "arrival_coefficients", "BUFFERS", "OUTPUTS",
           "HIDDEN_FEATURES", "features", "output_signature"]
