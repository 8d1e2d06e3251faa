"""EventProp training (Wunderlich & Pehle 2021) as mlGeNN's ``EventPropCompiler``.

Requires: :class:`~.compiler.Compiler`, the neuron, synapse, readout, loss and optimiser
classes, and the passes ``insert-eventprop`` and ``insert-optimiser``. Provides
:class:`EventPropCompiler` and :data:`default_params` (mlGeNN's network defaults for EventProp:
absolute reset, no integration while refractory, scaled inputs).

The discrete-time adjoint equations
-----------------------------------
irsnn simulates, per step ``t`` and neuron (``x`` is ``inSyn`` after this step's arrivals
``u(t)``, ``k`` the change of ``V`` per unit ``x`` in one step, ``c = k / (1 - Alpha)`` the
current per unit ``x`` in voltage units)::

    x(t) = Beta x(t-1) + u(t)            V(t) = Alpha Vr(t-1) + k x(t)

with ``Vr(t)`` the voltage after the reset (``V(t)`` where the neuron did not spike). The
backward pass runs ``t = T-1 .. 0`` from ``LambdaV(T) = LambdaI(T) = 0``::

    LambdaV(t) = Alpha LambdaV(t+1) + g(t)                                   (no spike at t)
    LambdaV(t) = Alpha LambdaV(t+1) (I - Vr)/(I - V)                         (spike at t)
                 + TauM / (I - V) sum_m W_jm D_m(t+1)
    D_m(t+1)   = (k_m LambdaV_m(t+1) - (1 - Beta_m) LambdaI_m(t+1)) / (Beta_m dt)
    LambdaI(t) = Beta LambdaI(t+1) + k LambdaV(t)

and every spike of presynaptic neuron ``i`` arriving at step ``t`` adds ``LambdaI_j(t)`` to
``dL/dW_ij``. ``g(t) = dL/dV(t)`` is the loss's drive (``sum_var``: ``dL/dVSum`` at every step;
``avg_var``: that over ``T``; ``max_var``: at the step of the maximum only;
``avg_var_exp_weight``: ``dL/dVAvg exp(-t dt / (T dt)) / T``; per-timestep losses: the
derivative of step ``t``'s term). A LIF output with the ``first_spike_time`` readout has no
``g`` (but mlGeNN's phantom drive, see :mod:`irsnn.backends.reference.eventprop_losses`); its
first spike's jump adds ``-TauM dL/dt_first / (I - V)`` (instead of the downstream term).
Between spikes these are exactly the reverse-mode derivatives of the forward equations, so
gradients of weights into the output layer equal finite differences of the simulation; at a
spike, the jump is EventProp's (Wunderlich & Pehle, eq. for the spike-time transition) with
the slopes ``dV/dt = (I - V)/TauM`` just before and ``(I - Vr)/TauM`` just after the reset
read from the forward pass (``I`` the input current in voltage units), and the downstream term
is ``-dL/dt_spike``. ``D_m(s)`` is ``-dL/dt`` of an arrival at step ``s`` per unit weight, the
discrete derivative ``(LambdaI_m(s) - LambdaI_m(s+1)) / dt`` (the loss's change when the
arrival moves one step later) written with the recurrence for ``LambdaI_m(s+1)``; as ``dt ->
0`` it tends to the continuous ``c LambdaV / TauM - LambdaI / TauSyn``. The continuous form
itself is not used: at finite ``dt`` it is ``O(dt)`` of ``LambdaV / TauM`` away from 0 in the
adjoint's steady state under a constant drive, where ``D`` is 0, and that bias, with the
drive's sign, outweighed the spike-timing terms of a mean-square error (mlGeNN's
``pattern_recognition`` example: its hidden layer fell silent).

A hidden population with the spike-count regularisation adds, at every spike of neuron ``j``,
``r TauM RegLambda (C_j - RegNuUpper B) / B^2`` to ``LambdaV``: mlGeNN's jump in irsnn's
units, which are mlGeNN's adjoints times ``-TauM``, times ``r`` (``RegLossScale``), irsnn's
loss over mlGeNN's (``TauM`` for the mean-square error, per-timestep losses, ``avg_var`` and
``avg_var_exp_weight``, ``TauM T`` for ``sum_var`` and ``max_var``, 1 for the
time-to-first-spike cross-entropy, ``1/B`` for the relative mean-square error), so that the
strengths weigh against the loss as in mlGeNN; ``C_j`` is the neuron's spike count summed
over the batch, ``RegLambda`` the upper strength where ``C_j > RegNuUpper B``, else the
lower.

With synaptic delays (``a_ij`` steps beyond the one every connection takes,
fixed or learnt, uniform or per synapse), a spike at step ``t`` arrives at ``t + 1 + a_ij``: the
jump's sum takes ``D_m(t + 1 + a_jm)`` and the gradient ``LambdaI_j(t + 1 + a_ij)``; a learnt
delay's gradient is ``-dt W_ij D_j(t + 1 + a_ij)`` per arrival (the derivative of the loss by
the arrival time, per step of delay).

The loss is averaged over the batch (``sparse_categorical_crossentropy``: the mean of
``-log softmax(R / softmax_temperature)[label]`` over the examples, ``R`` the readout). mlGeNN's
drive of a voltage loss is ``dL/dV / (TauM B T dt)`` per ms, so its losses are irsnn's over
``r`` (above); Adam's steps do not depend on that scale, and the regulariser is scaled by it.

Differences from mlGeNN
-----------------------
mlGeNN runs example n's backward pass during example n+1's forward pass: each optimiser step
uses the previous batch's gradients and the last batch of an epoch is never learned from.
irsnn runs each batch's backward pass at the end of its forward pass, before that batch's
optimiser step: gradients belong to the batch they are applied after.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..connectivity import Dense
from ..errors import ModelError
from ..lowering import node_id
from ..neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from ..optimisers import Optimiser, default_optimisers
from ..population import get_underlying_pop
from ..synapses import Exponential
from ..utils.module import get_object
from .compiled_training_network import CompiledTrainingNetwork
from .compiler import Compiler, _positive_int, loss_map
from .deep_r import DeepROptions

#: mlGeNN's network defaults for EventProp models (``Network(default_params)``)
default_params = {
    LeakyIntegrate: {"scale_i": True},
    LeakyIntegrateFire: {"relative_reset": False, "integrate_during_refrac": False,
                         "scale_i": True},
    Exponential: {"scale_i": True}}

#: backends with EventProp (the kernel backends implement the readout/loss pairs of
#: ``backends.kernels.eventprop.SUPPORTED`` and refuse the others when the model is built)
EVENTPROP_BACKENDS = ("reference", "c", "opencl", "cuda")


class EventPropCompiler(Compiler):
    """Compile a network for EventProp training: exact, event-driven gradients.

    Supported now: ``SpikeInput`` inputs; ``LeakyIntegrateFire`` hidden populations
    (feed-forward and recurrent, no refractory period, optionally the spike-count
    regularisation) whose inputs are ``Exponential`` synapses of one time constant; the
    outputs of :data:`irsnn.passes.insert_eventprop.OUTPUTS` (mlGeNN's set):
    ``LeakyIntegrate`` with ``sum_var``, ``avg_var``, ``max_var`` or ``avg_var_exp_weight``
    and ``sparse_categorical_crossentropy``, with ``sum_var`` or ``avg_var`` and the
    per-timestep cross-entropy (``per_timestep_loss=True``), with ``var`` and
    ``mean_square_error`` (always per timestep, as mlGeNN's); ``LeakyIntegrateFire`` with the
    ``first_spike_time`` readout and ``RelativeMeanSquareError(delta)`` or the
    time-to-first-spike ``sparse_categorical_crossentropy`` (``ttfs_alpha``); dense and sparse
    (ragged) connectivity, with synaptic delays (uniform or per synapse, fixed or learnt),
    Deep-R on sparse connections; the reference backend, and the C, OpenCL and CUDA backends
    (their kernels, :mod:`backends.kernels.eventprop`, implement the readout/loss pairs of its
    ``SUPPORTED``, with the regulariser, delays (per synapse, fixed or learnt: Dense) and
    Deep-R; what the reference gains before the kernels do is refused on them).
    Everything else is refused by :meth:`compile` with the reason. The equations and the
    differences from mlGeNN are in the module docstring.

    Parameters
    ----------
    example_timesteps : int
        Timesteps each example is presented for.
    losses : str, Loss or dict
        Loss of the output population, or a dict population -> loss.
    optimiser : str or Optimiser
        Applied once per batch, after that batch's backward pass (default ``"adam"``).
    reg_lambda_upper, reg_lambda_lower : float or dict
        Spike-count regularisation strength of hidden LIF populations (mlGeNN's; a number
        for all, or a dict population -> number; 0 is off): above / at or below the target.
    reg_nu_upper : float
        Target spike count per neuron and example of the regularisation.
    max_spikes : int
        Spikes each neuron may emit per example and still be learned from: the size of the
        per-neuron spike buffers of the backward pass.
    strict_buffer_checking : bool
        True: a neuron emitting more than ``max_spikes`` spikes in an example is an error
        naming its population. False (mlGeNN's default): the extra spikes are left out of the
        backward pass and counted (``compiled.dropped_spikes``, and a warning).
    per_timestep_loss : bool
        mlGeNN's per-timestep loss: the cross-entropy of the output voltages at every step,
        averaged over the steps (``sum_var`` and ``avg_var`` readouts; the readout is then
        only what ``evaluate`` scores). ``mean_square_error`` is always per timestep; the
        ``first_spike_time`` losses ignore it (as mlGeNN).
    dt : float
        Timestep (ms).
    ttfs_alpha, softmax_temperature : float
        Weight of the time-to-first-spike cross-entropy's ``alpha / (1.01 T - t_y)`` term
        (and of its phantom drive) and the temperature of the softmax of the cross-entropy
        losses (``> 0``; mlGeNN leaves it out of the per-timestep loss, irsnn applies it to
        every cross-entropy).
    batch_size, rng_seed, kernel_profiling
        See :class:`~.compiler.Compiler`.
    reset_time_between_batches : bool
        Restart the clock at every batch.
    communicator : Communicator, optional
        Data-parallel training across MPI ranks (see :class:`~.compiler.Compiler`): each
        batch's gradients are summed over the ranks before the optimiser step.
    delay_optimiser : str or Optimiser, optional
        Optimiser of the learnable delays (default: a new instance of ``optimiser``, as
        mlGeNN's ``get_object(optimiser if delay_optimiser is None else delay_optimiser)``).
    delay_learn_conns : list of Connection
        Connections whose per-synapse delays are trained (each needs ``max_delay_steps``):
        delays are real numbers of timesteps, delivered after the nearest whole step and kept
        in ``[0, max_delay_steps]`` after every optimiser step; their gradient is the
        derivative of the loss by each synapse's arrival time (see the module docstring).
    deep_r_conns, deep_r_l1_strength, deep_r_record_rewirings : optional
        Deep-R rewiring of sparse (ragged) connections, as in
        :class:`~.eprop_compiler.EPropCompiler` (:mod:`.deep_r`); the L1 term
        ``l1_strength * sign`` is added to the batch-mean gradient (mlGeNN adds it to each
        example's gradient of a batch sum: the same step relative to the loss's gradient).
    backend : str or Backend, optional
        ``"reference"``, ``"c"``, ``"opencl"`` or ``"cuda"`` (:data:`EVENTPROP_BACKENDS`).
        None: the default backend where its kernels implement the model, else the reference
        (see :meth:`compile`).
    precision : {"float", "double"}
        What ``scalar`` means.
    """

    #: the loss is a mean over the batch, so data-parallel ranks' summed gradients are divided
    #: by the number of ranks (:mod:`.data_parallel`)
    gradients_are_batch_means = True

    def __init__(self, example_timesteps: int, losses, optimiser="adam",
                 reg_lambda_upper=0.0, reg_lambda_lower=0.0, reg_nu_upper: float = 0.0,
                 max_spikes: int = 500, strict_buffer_checking: bool = False,
                 per_timestep_loss: bool = False, dt: float = 1.0, ttfs_alpha: float = 0.01,
                 softmax_temperature: float = 1.0, batch_size: int = 1, rng_seed: int = 0,
                 kernel_profiling: bool = False, reset_time_between_batches: bool = True,
                 communicator=None, delay_optimiser=None, delay_learn_conns=(),
                 deep_r_conns=(), deep_r_l1_strength: float = 0.01,
                 deep_r_record_rewirings=None, backend=None, precision: str = "float",
                 **genn_kwargs):
        super().__init__(dt=dt, batch_size=batch_size, rng_seed=rng_seed,
                         kernel_profiling=kernel_profiling, backend=backend,
                         precision=precision, communicator=communicator, **genn_kwargs)
        name = "EventPropCompiler"
        self.example_timesteps = _positive_int(name, "example_timesteps", example_timesteps)
        self.max_spikes = _positive_int(name, "max_spikes", max_spikes)
        self.losses = losses
        self.optimiser = get_object(optimiser, Optimiser, "Optimiser", default_optimisers)
        for label, value in (("softmax_temperature", softmax_temperature),
                             ("ttfs_alpha", ttfs_alpha)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
                raise ModelError(f"{name}: {label}={value!r} must be a number > 0")
        self.softmax_temperature = float(softmax_temperature)
        self.ttfs_alpha = float(ttfs_alpha)
        self.strict_buffer_checking = bool(strict_buffer_checking)
        self.per_timestep_loss = bool(per_timestep_loss)
        self.reg_lambda_upper, self.reg_lambda_lower = reg_lambda_upper, reg_lambda_lower
        self.reg_nu_upper = reg_nu_upper
        self.reset_time_between_batches = bool(reset_time_between_batches)
        self.delay_optimiser = get_object(optimiser if delay_optimiser is None
                                          else delay_optimiser, Optimiser, "Optimiser",
                                          default_optimisers)
        self.delay_learn_conns = _connections(name, "delay_learn_conns", delay_learn_conns)
        self._delay_learn: dict = {}
        self._deep_r = DeepROptions("EventPropCompiler", deep_r_conns, deep_r_l1_strength,
                                    deep_r_record_rewirings)
        self.deep_r_conns, self.deep_r_l1_strength = self._deep_r.conns, self._deep_r.l1_strength
        #: ``{connection name: cb_data key}`` for the network being compiled
        self.deep_r_record_rewirings: dict = {}
        self._deep_r_names: tuple = ()
        # EventProp's state starts from rest at every batch (as mlGeNN's reset updates)
        self.reset_vars_between_examples = True
        self.reset_traces_between_examples = False
        self._info: dict = {}
        self._loss_map: dict = {}
        #: the backend chosen when none is given (None: the default backend)
        self._automatic: str | None = None

    # -- what is supported -----------------------------------------------------------------
    def loss_map(self, network) -> dict:
        """``{output population: Loss}``: the populations with readouts and their losses."""
        from irsnn.passes.insert_eventprop import OUTPUTS

        from ..losses.model_loss import uses_model_hooks
        out = loss_map("EventPropCompiler", self.losses, network, every_output=True)
        for pop, loss in out.items():
            if uses_model_hooks(loss):
                raise ModelError(f"EventPropCompiler: the loss of '{pop.name}', "
                                 f"{type(loss).__name__}, is written with mlGeNN's "
                                 f"add_to_neuron/set_target hooks, which give a target, not the "
                                 f"loss's gradient that EventProp's adjoint needs (mlGeNN's "
                                 f"EventProp does not call add_to_neuron either); train it with "
                                 f"EPropCompiler, or use one of "
                                 f"{sorted({o[2] for o in OUTPUTS})}")
        return out

    def check_network(self, network) -> dict:
        """Refuse anything outside the supported set (the reason in the message); return
        ``{population node id: {"kind", "params"}}`` for the ``insert-eventprop`` pass."""
        losses = self.loss_map(network)
        info = {}
        for pop in network.populations:
            info[node_id(pop)] = self._population(pop, losses)
        for conn in network.connections:
            self._connection(conn)
        scale = self._mlgenn_loss_scale(losses)
        for entry in info.values():
            if "RegLambdaUpper" in entry["params"]:
                entry["params"]["RegLossScale"] = scale
        return info

    def _mlgenn_loss_scale(self, losses) -> float:
        """``r``, irsnn's loss over mlGeNN's for the (first) output's loss, which the
        spike-count regulariser's strengths are multiplied by so that they weigh against the
        loss as in mlGeNN. mlGeNN's drive of a voltage loss is ``dL/dV / (TauM B T dt)`` per
        ms (its loss is irsnn's over ``TauM`` where irsnn averages over the steps: the
        mean-square error, per-timestep losses, ``avg_var``, ``avg_var_exp_weight``; over
        ``TauM T`` for ``sum_var`` and ``max_var``, which irsnn does not average); its
        time-to-first-spike cross-entropy is irsnn's (1) and its relative mean-square error a
        batch sum where irsnn's is a batch mean (``1 / B``)."""
        if not losses:
            return 1.0
        pop, loss = next(iter(losses.items()))
        neuron, readout = pop.neuron, pop.neuron.readout.name
        if isinstance(neuron, LeakyIntegrateFire):
            return (1.0 / self.batch_size if loss.name == "relative_mean_square_error"
                    else 1.0)
        tau_m = _scalar(neuron.tau_mem, _where(pop, "Population"), "tau_mem")
        per_timestep = self.per_timestep_loss or loss.name == "mean_square_error"
        if readout in ("sum_var", "max_var") and not per_timestep:
            return tau_m * self.example_timesteps
        return tau_m

    def _population(self, pop, losses):
        neuron, where = pop.neuron, _where(pop, "Population")
        incoming = [c() if callable(c) else c for c in pop.incoming_connections]
        if isinstance(neuron, SpikeInput):
            return {"kind": "input", "params": {}}
        if not isinstance(neuron, LeakyIntegrateFire | LeakyIntegrate):
            raise ModelError(f"{where} uses {type(neuron).__name__}, which EventProp cannot "
                             f"train; use SpikeInput inputs, LeakyIntegrateFire hidden layers "
                             f"and a LeakyIntegrate output")
        if not incoming:
            raise ModelError(f"{where} ({type(neuron).__name__}) has no incoming connections; "
                             f"EventProp trains networks fed by SpikeInput populations, so "
                             f"make it a SpikeInput or connect it")
        readout = neuron.readout
        extra, per_timestep = {}, False
        if isinstance(neuron, LeakyIntegrateFire):
            refrac = neuron.tau_refrac
            if refrac is not None and not (_number(refrac) and float(refrac) == 0.0):
                raise ModelError(f"{where}: tau_refrac={refrac!r}; refractory periods are not "
                                 f"built yet in irsnn's EventProp; use tau_refrac=None")
            kind = "hidden"
            if readout is None:
                extra = self._regulariser(pop)
            else:
                loss = losses[pop]
                self._check_output(where, "leaky_integrate_fire", readout.name, loss.name,
                                   False)
                if pop.outgoing_connections:
                    raise ModelError(f"{where}: an output population with outgoing "
                                     f"connections is not supported by EventProp")
                kind = "output"
                if loss.name == "relative_mean_square_error":
                    extra = {"Delta": loss.delta}
                else:
                    extra = {"TtfsAlpha": self.ttfs_alpha,
                             "ExampleTime": self.example_timesteps * self.dt}
        elif isinstance(neuron, LeakyIntegrate):
            if readout is None:
                raise ModelError(f"{where}: a LeakyIntegrate population must be an output "
                                 f"with a readout in EventProp (one of {_readouts()})")
            if pop.outgoing_connections:
                raise ModelError(f"{where}: an output population with outgoing connections is "
                                 f"not supported by EventProp; outputs must be the last layer")
            loss = losses[pop].name
            # mlGeNN's mean-square error is always a per-timestep loss
            per_timestep = self.per_timestep_loss or loss == "mean_square_error"
            self._check_output(where, "leaky_integrate", readout.name, loss, per_timestep)
            kind = "output"
            if per_timestep:    # (the kernels record the output for the example's length)
                extra = {"ExampleTime": self.example_timesteps * self.dt}
        else:
            raise ModelError(f"{where} uses {type(neuron).__name__}, which EventProp cannot "
                             f"train; use SpikeInput inputs, LeakyIntegrateFire hidden layers "
                             f"and a LeakyIntegrate output")
        if neuron.softmax:
            raise ModelError(f"{where}: softmax=True on the output; EventProp's loss applies "
                             f"the softmax itself, leave it off")
        tau_m = _scalar(neuron.tau_mem, where, "tau_mem")
        bad = [c for c in incoming if not isinstance(c.synapse, Exponential)]
        if bad:
            raise ModelError(f"{_where(bad[0], 'Connection')} uses "
                             f"{type(bad[0].synapse).__name__} synapses; EventProp needs "
                             f"Exponential synapses (synapse=Exponential(tau))")
        taus = {(_scalar(c.synapse.tau, _where(c, "Connection"), "tau"), c.synapse.scale_i)
                for c in incoming}
        if len(taus) != 1:
            raise ModelError(f"{where}: its incoming Exponential synapses differ in tau or "
                             f"scale_i ({sorted(taus, key=str)}); EventProp needs one synaptic "
                             f"time constant per population")
        ((tau_s, syn_scale),) = taus
        alpha, beta = float(np.exp(-self.dt / tau_m)), float(np.exp(-self.dt / tau_s))
        i_scale = (tau_s / self.dt) * (1.0 - np.exp(-self.dt / tau_s)) if syn_scale else 1.0
        gain = 1.0 if neuron.scale_i else 1.0 / (1.0 - alpha)
        return {"kind": kind, "lif": isinstance(neuron, LeakyIntegrateFire),
                "per_timestep": per_timestep, "params": {
            **extra,
            "Alpha": alpha, "Beta": beta, "Gain": gain, "K": float((1.0 - alpha) * gain
                                                                   * i_scale),
            "TauM": tau_m, "TauSyn": tau_s}}

    @staticmethod
    def _check_output(where, neuron, readout, loss, per_timestep):
        """Refuse an output outside :data:`~irsnn.passes.insert_eventprop.OUTPUTS`."""
        from irsnn.passes.insert_eventprop import OUTPUTS
        if (neuron, readout, loss, per_timestep) in OUTPUTS:
            return
        ok = sorted((r, lo) for n, r, lo, pt in OUTPUTS if n == neuron and pt == per_timestep)
        label = {"leaky_integrate": "LeakyIntegrate",
                 "leaky_integrate_fire": "LeakyIntegrateFire"}[neuron]
        mode = ("with per_timestep_loss=True" if per_timestep else "with the per-example loss")
        hint = ""
        if neuron == "leaky_integrate" and loss == "mean_square_error":
            hint = "; mean_square_error is a per-timestep loss and needs readout 'var'"
        elif neuron == "leaky_integrate" and per_timestep != (
                (readout, loss, True) in {(r, lo, pt) for _, r, lo, pt in OUTPUTS}):
            other = "True" if not per_timestep else "False"
            hint = f"; readout '{readout}' with loss '{loss}' needs per_timestep_loss={other}"
        raise ModelError(f"{where}: readout '{readout}' with loss '{loss}' on a {label} output "
                         f"is not supported by irsnn's EventProp (as mlGeNN's) {mode}; use "
                         f"one of (readout, loss) {ok}{hint}")

    def _regulariser(self, pop) -> dict:
        """The spike-count regularisation constants of hidden population ``pop`` (mlGeNN's
        ``reg_lambda_upper``, ``reg_lambda_lower`` (a number, or a dict population ->
        number) and ``reg_nu_upper``); empty when both strengths are 0."""
        values = {}
        for label, value in (("RegLambdaUpper", self.reg_lambda_upper),
                             ("RegLambdaLower", self.reg_lambda_lower)):
            if isinstance(value, dict):
                value = next((v for k, v in value.items()
                              if get_underlying_pop(k) is pop), 0.0)
            if not _number(value) or not 0 <= value < np.inf:
                raise ModelError(f"EventPropCompiler: the spike-count regularisation strength "
                                 f"of {_where(pop, 'Population')} is {value!r}; give a "
                                 f"finite number >= 0 (0 is off)")
            values[label] = float(value)
        if not any(values.values()):
            return {}
        nu = self.reg_nu_upper
        if not _number(nu) or not 0 <= nu < np.inf:
            raise ModelError(f"EventPropCompiler: reg_nu_upper={nu!r}; give the target spike "
                             f"count per neuron and example, a finite number >= 0")
        return {**values, "RegNuUpper": float(nu)}

    @staticmethod
    def _connection(conn):
        where = _where(conn, "Connection")
        kind = type(conn.connectivity).__name__
        if kind not in ("Dense", "FixedProbability", "Sparse", "OneToOne"):
            raise ModelError(f"{where}: {kind} connectivity is not supported by irsnn's "
                             f"EventProp yet; use Dense, FixedProbability, Sparse or OneToOne")

    # -- pipeline ---------------------------------------------------------------------------
    def lower(self, network, name=None):
        self._info = self.check_network(network)
        self._loss_map = {node_id(p): loss.name for p, loss in self.loss_map(network).items()}
        self._deep_r_names, self.deep_r_record_rewirings = self._deep_r.resolve(network)
        self._delay_learn = {}
        for conn in self.delay_learn_conns:
            if not any(c is conn for c in network.connections):
                raise ModelError(f"EventPropCompiler: delay_learn_conns names "
                                 f"{conn.describe()}, which is not a connection of the network "
                                 f"being compiled; list connections of this network")
            if conn.max_delay_steps is None:
                raise ModelError(f"EventPropCompiler: {conn.describe()} is in "
                                 f"delay_learn_conns but has no max_delay_steps; give it "
                                 f"Connection(..., max_delay_steps=N), the largest delay (in "
                                 f"timesteps) its synapses may learn")
            self._delay_learn[conn.name] = conn.max_delay_steps
        return super().lower(network, name)

    def layouts(self):
        """A gradient per stored synapse: dense or ragged storage (as mlGeNN's DENSE and
        SPARSE); OneToOne connections are stored ragged."""
        return ("ragged", "dense")

    def passes(self):
        from irsnn.passes import (BatchState, ChooseSparseLayout, InferShapes, InsertDeepR,
                                  InsertEventprop, InsertOptimiser, InsertReadout,
                                  InsertRecording, Validate)
        deep_r = [InsertDeepR()] if self.deep_r_conns else []
        return [Validate(), InferShapes(), ChooseSparseLayout(), InsertReadout(),
                InsertEventprop(), InsertOptimiser(), *deep_r, BatchState(), InsertRecording()]

    def options(self):
        return {**super().options(), "example_timesteps": self.example_timesteps,
                "losses": self._loss_map, "optimiser": self.optimiser,
                "eventprop": self._info, "max_spikes": self.max_spikes,
                "strict_buffer_checking": self.strict_buffer_checking,
                "softmax_temperature": self.softmax_temperature,
                "deep_r": self._deep_r_names, "deep_r_l1_strength": self.deep_r_l1_strength,
                "delay_learn": dict(self._delay_learn), "delay_optimiser": self.delay_optimiser}

    def get_backend(self):
        from irsnn.backends import get_backend
        backend = get_backend(self.backend if self.backend is not None else self._automatic)
        if backend.name not in EVENTPROP_BACKENDS:
            raise ModelError(f"EventPropCompiler: backend '{backend.name}' has no EventProp "
                             f"kernels; use one of {list(EVENTPROP_BACKENDS)}")
        return backend

    def compile(self, network, name: str | None = None, **kwargs) -> CompiledTrainingNetwork:
        """Check the model, lower it, run the EventProp pipeline and build it: a
        :class:`~.compiled_training_network.CompiledTrainingNetwork`.

        Without ``backend``, the default backend (``$IRSNN_BACKEND``, else the fastest
        available, as for the other compilers) where its kernels implement the model, else
        the reference backend (e.g. for per-synapse delays of sparse connectivity)."""
        self._automatic = None
        if self.backend is None:
            try:
                backend = self.get_backend()
                if backend.name != "reference":
                    self._check_kernels(network, backend.name)
            except ModelError:
                self._automatic = "reference"
        backend = self.get_backend()
        if backend.name != "reference":
            self._check_kernels(network, backend.name)
        return CompiledTrainingNetwork(self, network, name)

    def _check_kernels(self, network, backend):
        """Refuse outputs whose readout/loss pair the kernel backends do not implement."""
        from irsnn.backends.kernels.eventprop import SUPPORTED, described
        learnt = {id(c) for c in self.delay_learn_conns}
        for conn in network.connections:   # per-synapse delays: the dense layout's only
            delay = conn.connectivity.delay
            if ((id(conn) in learnt or not _number(delay))
                    and not isinstance(conn.connectivity, Dense)):
                what = "learnt delays" if id(conn) in learnt else "per-synapse delays"
                raise ModelError(f"{_where(conn, 'Connection')}: {what} of "
                                 f"{type(conn.connectivity).__name__} connectivity have no "
                                 f"EventProp kernels on backend '{backend}' (the kernels keep "
                                 f"per-synapse delays in dense matrices); use Dense "
                                 f"connectivity, a uniform fixed delay, or backend='reference'")
        for pop, loss in self.loss_map(network).items():
            readout = getattr(pop.neuron.readout, "name", None)
            # (as the compiler's: mlGeNN's mean-square error is always per timestep)
            per_step = readout != "first_spike_time" and (
                self.per_timestep_loss or loss.name == "mean_square_error")
            if (readout, loss.name, per_step) not in SUPPORTED:
                raise ModelError(
                    f"{_where(pop, 'Population')}: readout '{readout}' with loss "
                    f"'{loss.name}'{' per timestep' if per_step else ''} has no EventProp "
                    f"kernels on backend '{backend}' yet (the kernel backends implement "
                    f"{[described(e) for e in SUPPORTED]}); use backend='reference'")


def _connections(compiler, label, conns) -> tuple:
    """The Connections behind ``conns`` (Connections or layers), in order, without repeats."""
    from ..connection import Connection, get_underlying_conn
    if isinstance(conns, Connection) or not isinstance(conns, list | tuple | set):
        raise ModelError(f"{compiler}: {label} must be a list of connections (got "
                         f"{type(conns).__name__}); write {label}=[conn]")
    out = []
    for c in conns:
        c = get_underlying_conn(c)
        if not any(c is o for o in out):
            out.append(c)
    return tuple(out)


def _readouts():
    from irsnn.passes.insert_eventprop import OUTPUTS
    return sorted({r for n, r, _, _ in OUTPUTS if n == "leaky_integrate"})


def _where(obj, what):
    loc = getattr(obj, "location", None)
    return f"{what} '{obj.name}'" + (f" (created at {loc})" if loc else "")


def _number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _scalar(value, where, label):
    if not _number(value) or not value > 0:
        raise ModelError(f"{where}: {label}={value!r}; EventProp needs one positive number "
                         f"per population (per-neuron or random values are not supported)")
    return float(value)


__all__ = ["EventPropCompiler", "default_params"]
