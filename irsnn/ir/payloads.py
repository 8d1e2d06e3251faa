"""Typed, frozen payloads carried by the nodes and edges of an :class:`~irsnn.ir.IRGraph`.

Requires: the standard library only (no NumPy, no networkx). Provides the payloads
(:class:`NeuronGroup`, :class:`SynapseGroup`, :class:`ReadoutNode`, :class:`RecorderNode`,
:class:`LossNode`, :class:`FeedbackPath`, :class:`BackwardFilter`, :class:`OptimiserNode`,
:class:`AuxEdge`), their parts (:class:`VarInit`, :class:`Var`, :class:`Param`, :class:`EGP`,
...), the registry decorator :func:`payload`, and :func:`to_plain` / :func:`from_plain`.

Payloads hold no arrays. A value that needs an array (explicit weights, per-neuron initial
values) is a :class:`VarInit` of kind ``"array"`` whose ``key`` names an entry of the graph's
side table. Every payload class is registered by name so that the JSON printer can round-trip it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

#: payload class name -> class (filled by :func:`payload`)
PAYLOAD_TYPES: dict[str, type] = {}


def payload(cls):
    """Class decorator: make ``cls`` a frozen dataclass and register it for JSON round-trips."""
    cls = dataclass(frozen=True)(cls)
    PAYLOAD_TYPES[cls.__name__] = cls
    return cls


@payload
class VarInit:
    """How a variable is initialised.

    ``kind`` is ``"constant"`` (``value``), ``"array"`` (``key`` into the side table),
    ``"normal"`` or ``"uniform"`` (``params``, drawn from the counter-based RNG).
    """

    kind: str
    value: float | None = None
    key: str | None = None
    params: tuple[tuple[str, float], ...] = ()

    def describe(self) -> str:
        if self.kind == "constant":
            return repr(self.value)
        if self.kind == "array":
            return f"array[{self.key}]"
        return f"{self.kind}({', '.join(f'{k}={v!r}' for k, v in self.params)})"


@payload
class Var:
    """A state variable.

    Attributes
    ----------
    shape : str
        ``"neuron"`` (one per neuron) or ``"synapse"`` (one per synapse).
    batched : bool
        Duplicated per batch element (set by the ``batch-state`` pass).
    role : str
        Who added it: ``"model"``, ``"readout"``, ``"psm"``, ...
    """

    name: str
    type: str
    access: str = "readwrite"
    init: VarInit = VarInit("constant", 0.0)
    shape: str = "neuron"
    batched: bool = True
    role: str = "model"


@payload
class Param:
    """A scalar parameter, constant for the lifetime of the compiled model."""

    name: str
    type: str
    value: float


@payload
class EGP:
    """An extra global parameter: an array set at run time (e.g. spike times, input frames)."""

    name: str
    type: str


@payload
class ReadoutSpec:
    """The readout requested for a population, lowered once from its readout object.

    ``kind`` names it: the snake_case name of a built-in readout, or ``module:qualname`` of a
    user class (a label only: nothing imports it). The ``insert-readout`` pass adds ``vars``
    (the accumulators, role ``"readout"``) to the population and appends ``sim_code`` and
    ``reset_code`` (code-string language) to its code; ``needs_spikes`` says the readout counts
    spikes, so the population must spike. The per-example reduction stays with the readout
    object, which the compiled network reads from the population.
    """

    kind: str
    params: tuple[tuple[str, object], ...] = ()
    vars: tuple[Var, ...] = ()
    sim_code: str = ""
    reset_code: str = ""
    needs_spikes: bool = False


class Payload:
    """Mixin for node and edge payloads: helpers shared by all of them."""

    role: ClassVar[str] = ""

    def replace(self, **changes):
        """A copy with ``changes`` applied (payloads are immutable)."""
        return dataclasses.replace(self, **changes)

    def var(self, name: str) -> Var:
        for v in getattr(self, "vars", ()):
            if v.name == name:
                return v
        raise KeyError(name)

    def param(self, name: str) -> Param:
        for p in getattr(self, "params", ()):
            if p.name == name:
                return p
        raise KeyError(name)


@payload
class NeuronGroup(Payload):
    """A population of identical neurons.

    Code blocks are in the code-string language (:mod:`irsnn.lang`); the neuron update runs
    ``sim_code``, evaluates ``threshold_code`` (and ``negative_threshold_code`` for signed
    spikes) and runs ``reset_code`` on the neurons that spiked. A ``spike_schedule`` group has
    no code: its spikes each step are read from the schedule in its extra global parameters
    (:data:`irsnn.utils.model.SCHEDULE_EGPS`).
    """

    role: ClassVar[str] = "pop"
    name: str
    shape: tuple[int, ...]
    model_name: str
    vars: tuple[Var, ...] = ()
    params: tuple[Param, ...] = ()
    egps: tuple[EGP, ...] = ()
    additional_input_vars: tuple[tuple[str, str, float], ...] = ()
    sim_code: str = ""
    threshold_code: str = ""
    negative_threshold_code: str = ""
    reset_code: str = ""
    output_var: str | None = None
    is_input: bool = False
    softmax: bool = False
    record_spikes: bool = False
    readout: ReadoutSpec | None = None
    spike_history: int = 1
    location: str = ""
    spike_schedule: bool = False

    @property
    def spiking(self) -> bool:
        """Whether the group emits spikes (a threshold condition or a spike schedule)."""
        return self.spike_schedule or bool(self.threshold_code.strip())

    @property
    def size(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n


@payload
class SynapseDynamics:
    """Learning code run for every synapse of a group every timestep, after neuron updates.

    ``code`` (code-string language) sees the synapse variables ``vars`` (one per synapse and
    batch element), ``params``, the presynaptic trace as ``<pre_trace>_pre`` and every variable
    of the target population as ``<name>_post``. The trace is updated first each timestep:
    ``trace = pre_trace_decay * trace + z`` with ``z`` the presynaptic spikes delivered at this
    step. ``gradient`` names the variable whose batch sum is the weight's gradient.

    Event-driven learning (``backward`` set, ``code`` empty, no trace): nothing runs per synapse
    and step; the presynaptic spikes delivered in an example are recorded, and at the example's
    end every delivered spike of presynaptic neuron ``i`` at step ``s`` adds the backward
    sequence ``HHat_j(s)`` of the :class:`BackwardFilter` node ``backward`` to the gradient of
    each of its synapses ``(i, j)``.

    Learnable delays (EventProp's ``delay_learn_conns``): ``delay_var`` names the per-synapse
    variable (role ``"param"``: trained, never reset) holding each synapse's delay in timesteps
    as a real number, which the forward pass rounds to the nearest step and clips to
    ``[0, max_delay_steps]``; ``delay_gradient`` the variable holding its gradient.
    """

    kind: str
    vars: tuple[Var, ...]
    params: tuple[Param, ...]
    code: str
    pre_trace: str = "ZBar"
    pre_trace_decay: float = 0.0
    gradient: str = "DeltaG"
    backward: str | None = None
    delay_var: str | None = None
    delay_gradient: str | None = None


@payload
class Rewiring:
    """Structural plasticity of a trained, ragged synapse group, applied by the runtime once
    per batch after the optimiser step (see :mod:`irsnn.compilers.deep_r`).

    ``kind`` is ``"deep-r"`` (Bellec et al. 2018): every synapse has a fixed sign; an
    ``l1_strength`` * sign term is added to its (batch-summed, per-example) gradient; a
    synapse whose weight changed sign becomes dormant and is replaced by a synapse at a
    random absent position (weight 0, state reset), so the count never changes. Rows are
    allocated ``row_capacity`` times the longest initial row (at most the number of allowed
    targets), and new synapses go only to rows with room.
    """

    kind: str = "deep-r"
    l1_strength: float = 0.0
    row_capacity: float = 2.0

    def describe(self) -> str:
        return f"{self.kind}(l1={self.l1_strength!r}, rows={self.row_capacity!r}x longest)"


@payload
class SynapseGroup(Payload):
    """A connection: static weights, a delay, and a postsynaptic model feeding the target.

    ``layout`` is ``"dense"`` (a matrix, absent synapses zero), ``"one_to_one"``,
    ``"ragged"`` (GeNN's SPARSE: per presynaptic neuron a row of postsynaptic indices and
    weights), ``"bitmask"`` (GeNN's BITMASK: one bit per (pre, post) pair, rows of
    ``ceil(num_post / 32)`` 32-bit words, bit ``j % 32`` of word ``j // 32``; with a constant
    ``weight`` one stored value, else a dense weight matrix) or ``"procedural"`` (nothing
    stored: each spike regenerates its row from the counter-based RNG, the same draws as the
    stored layouts); ``choose-sparse-layout`` picks it for ``FixedProbability`` connections
    and says why in ``layout_reason``. ``layout_hint`` is the user's choice
    (``FixedProbability(layout=...)``: ``"dense"``, ``"sparse"``, ``"bitmask"``,
    ``"procedural"``) or None.

    ``connectivity`` says which synapses exist: ``"dense"`` (all pairs), ``"one_to_one"``
    (i -> i; weight arrays hold one value per neuron whatever the layout),
    ``"fixed_probability"`` (drawn with probability ``p`` from the counter-based RNG) or
    ``"sparse"`` (listed: ``pre_ind``/``post_ind`` name int arrays of the side table, one
    entry per synapse, and weight/delay arrays hold one value per listed synapse).

    ``rewiring`` (a :class:`Rewiring`, set by ``insert-deep-r``) lets the runtime change which
    synapses exist during training.

    ``delay_steps`` is the total latency from a presynaptic spike to its effect on ``inSyn``:
    1 + the axonal delay, so GeNN's spike-at-t, input-at-t+1 is ``delay_steps == 1``. When the
    delay is per synapse, ``delay_steps`` is 1 and ``max_delay_steps`` bounds the synapse
    variable ``d`` (dendritic delay, as GeNN).
    """

    role: ClassVar[str] = "syn"
    name: str
    source: str
    target: str
    connectivity: str
    layout: str
    num_pre: int
    num_post: int
    weight: VarInit
    delay_steps: int = 1
    heterogeneous_delay: VarInit | None = None
    max_delay_steps: int = 0
    p: float | None = None
    allow_self_connections: bool = False
    trainable: bool = True
    psm_name: str = "Delta"
    psm_vars: tuple[Var, ...] = ()
    psm_params: tuple[Param, ...] = ()
    psm_code: str = ""
    learning: SynapseDynamics | None = None
    layout_hint: str | None = None
    pre_ind: str | None = None
    post_ind: str | None = None
    rewiring: Rewiring | None = None
    layout_reason: str = ""
    location: str = ""


@payload
class ReadoutNode(Payload):
    """A reduction turning a population's accumulated variables into per-example outputs."""

    role: ClassVar[str] = "readout"
    kind: str
    source: str
    var: str
    accumulators: tuple[str, ...] = ()
    softmax: bool = False
    params: tuple[tuple[str, object], ...] = ()


@payload
class RecorderNode(Payload):
    """Per-timestep recording of a population's spikes or of one of its variables.

    Buffers hold every neuron of every batch element for a whole batch; callbacks filter
    neurons and examples when they read them.
    """

    role: ClassVar[str] = "rec"
    source: str
    what: str          # "spikes" or "var"
    var: str | None = None


@payload
class LossNode(Payload):
    """Per-timestep output error of a population against the batch's labels.

    Writes ``error_var`` of ``source`` every timestep: ``softmax(V) - onehot(label)`` for
    ``sparse_categorical_crossentropy``, ``V - target`` for ``mean_square_error`` (rows of
    inactive batch elements get 0); adds it to ``bias_gradient`` when that is set. With
    ``timesteps > 0`` (``mean_square_error``) the targets are per timestep: the labels are
    ``(batch, timesteps, neurons)`` and step ``ts`` reads target ``ts % timesteps``.
    """

    role: ClassVar[str] = "loss"
    kind: str
    source: str
    var: str = "V"
    error_var: str = "E"
    bias_gradient: str | None = None
    timesteps: int = 0
    target_var: str | None = None

    @property
    def softmax(self) -> bool:
        """Whether the error is ``softmax(var) - target`` (else ``var - target``)."""
        return self.kind in SOFTMAX_LOSSES


#: Loss kinds whose error is ``softmax(output) - target``
SOFTMAX_LOSSES = ("sparse_categorical_crossentropy", "model_softmax")


@payload
class ModelLoss(Payload):
    """A loss written with mlGeNN's ``Loss`` hooks, lowered (by
    :func:`irsnn.losses.model_loss.lower_model_loss`) to what its ``add_to_neuron`` added to
    the output neuron model: ``vars`` and ``egps`` (per neuron, batched; their values are set
    from the host by the loss's ``set_target``) and ``sim_code``, appended to the neuron's code,
    which defines the local ``yTrue``. ``insert-eprop`` stores ``yTrue`` in a target variable
    every step; the error is ``output - yTrue``, or ``softmax(output) - yTrue`` with ``softmax``
    (a subclass of ``SparseCategoricalCrossentropy``, as mlGeNN decides). ``kind`` names the
    loss class (``module:qualname``, a label only)."""

    role: ClassVar[str] = "model_loss"
    kind: str
    softmax: bool = False
    vars: tuple[Var, ...] = ()
    egps: tuple[EGP, ...] = ()
    sim_code: str = ""


@payload
class FeedbackPath(Payload):
    """Learning signal of a hidden population from an output's error, every timestep:
    ``L_j = sum_k W_jk E_k`` with ``W`` the forward weights of ``weights`` (an edge id,
    ``symmetric``) or a fixed random matrix in the side table (``random``)."""

    role: ClassVar[str] = "feedback"
    source: str
    target: str
    mode: str
    weights: str
    error_var: str = "E"
    signal_var: str = "L"
    delay_steps: int = 0


@payload
class BackwardFilter(Payload):
    """Per-neuron sequences of one population recorded during an example and filtered backward
    in time at its end: the coefficients of event-driven e-prop gradients.

    Every step (with learning on) the filter stores, per batch element and neuron, ``Psi``, the
    learning signal ``L`` and ``c = CReg (FAvg - FTarget)`` (hidden ``eprop-lif`` /
    ``eprop-alif``) or the error ``E`` (``eprop-output``). At the example's end, for
    ``t = T-1 .. 0`` (LIF: ``Beta = 0``)::

        a(t)    = L(t) + Alpha a(t+1)                  g(t) = a(t) + c(t)
        h(t)    = Psi(t) (g(t) + b(t+1))
        b(t)    = -Psi(t) Beta g(t) + (Rho - Psi(t) Beta) b(t+1)
        HHat(t) = h(t) + Alpha HHat(t+1)               (output: h(t) = E(t))

    ``sum_t EBar_ji(t) L_j(t) + c_j(t) e_ji(t)`` of the online recursion (traces starting at
    zero) equals ``sum_s z_i(s) HHat_j(s)`` over the spikes ``z_i`` delivered to the synapse.
    ``timesteps`` is the capacity (the compiler's ``example_timesteps``).
    """

    role: ClassVar[str] = "backward"
    kind: str
    source: str
    timesteps: int
    params: tuple[Param, ...] = ()
    sequences: tuple[str, ...] = ()


@payload
class EventPropState(Payload):
    """EventProp (Wunderlich & Pehle 2021) state of one population, inserted by the
    ``insert-eventprop`` pass.

    ``kind`` is ``"input"`` (only the spike-time buffer, for the gradients of the connections
    it feeds), ``"hidden"`` (LIF: adjoint state, spike-time and ``I - V`` buffers) or
    ``"output"`` (adjoint state driven by the loss ``loss``: a LeakyIntegrate output, or a LIF
    output with the ``first_spike_time`` readout, which also has the LIF buffers).
    ``adjoints`` names the population's adjoint variables (``LambdaV``, ``LambdaI``: the
    sensitivities of the loss to its membrane voltage and to its synaptic input ``inSyn``);
    ``buffers`` the per-neuron buffers the forward pass fills, ``max_spikes`` entries per neuron
    and example each; ``params`` the constants of the backward pass (``Alpha``, ``Beta``,
    ``Gain`` (input current per unit ``inSyn`` in voltage units), ``K`` (``V``'s change per
    unit ``inSyn`` in one step), ``TauM``, ``TauSyn``); ``drive`` the variable holding the
    loss-derived adjoint drive (outputs); ``readout`` the readout the loss acts on;
    ``per_timestep``: the loss is a mean over the example's timesteps of a loss of the output
    at each step (mlGeNN's ``per_timestep_loss``, and its ``mean_square_error``).
    """

    role: ClassVar[str] = "eventprop"
    kind: str
    source: str
    max_spikes: int
    strict: bool = False
    adjoints: tuple[str, ...] = ()
    buffers: tuple[str, ...] = ()
    params: tuple[Param, ...] = ()
    drive: str | None = None
    readout: str | None = None
    loss: str | None = None
    softmax_temperature: float = 1.0
    per_timestep: bool = False


@payload
class OptimiserNode(Payload):
    """An optimiser applied once per batch to one trainable parameter.

    ``target`` is a synapse edge id (its weights) or ``pop.<name>/<var>`` (a shared
    variable such as an output bias); ``gradient`` the variable holding its per-batch-element
    gradient; ``state`` the optimiser's state arrays (one per parameter element). ``code``
    updates one element from ``Gradient`` (the sum over the batch's examples), its ``state``
    and the runtime ``scalars`` set before every step; empty: the host applies the optimiser.
    ``clamp`` ``(low, high)``: every element is clipped to it after each step (learnable
    delays to ``[0, max_delay_steps]``).
    """

    role: ClassVar[str] = "optim"
    kind: str
    target: str
    gradient: str
    params: tuple[tuple[str, float], ...] = ()
    state: tuple[str, ...] = ()
    code: str = ""
    scalars: tuple[str, ...] = ()
    clamp: tuple[float, float] | None = None


@payload
class AuxEdge(Payload):
    """An edge that carries no synapses: readout and recording taps (zero delay)."""

    role: ClassVar[str] = "tap"
    delay_steps: int = 0


def to_plain(obj):
    """Payload -> JSON-compatible structure (``{"__type__": name, ...fields}``)."""
    if dataclasses.is_dataclass(obj):
        out = {"__type__": type(obj).__name__}
        for f in dataclasses.fields(obj):
            out[f.name] = to_plain(getattr(obj, f.name))
        return out
    if isinstance(obj, tuple | list):
        return [to_plain(o) for o in obj]
    return obj


def from_plain(obj):
    """Inverse of :func:`to_plain`; sequences come back as tuples."""
    if isinstance(obj, dict) and "__type__" in obj:
        cls = PAYLOAD_TYPES[obj["__type__"]]
        return cls(**{k: from_plain(v) for k, v in obj.items() if k != "__type__"})
    if isinstance(obj, list):
        return tuple(from_plain(o) for o in obj)
    return obj


__all__ = ["PAYLOAD_TYPES", "VarInit", "Var", "Param", "EGP", "ReadoutSpec", "NeuronGroup",
           "SynapseDynamics", "Rewiring", "SynapseGroup", "ReadoutNode", "RecorderNode",
           "LossNode", "ModelLoss", "SOFTMAX_LOSSES", "FeedbackPath", "BackwardFilter",
           "EventPropState", "OptimiserNode",
           "AuxEdge", "to_plain",
           "from_plain"]
