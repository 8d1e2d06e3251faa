"""e-prop training (Bellec et al. 2020) as mlGeNN's ``EPropCompiler``, built from IR passes.

Requires: :class:`~.compiler.Compiler`, the losses and optimisers, and the e-prop passes
(``insert-eprop``, ``event-eprop``, ``insert-optimiser``, ``insert-deep-r``). Provides
:class:`EPropCompiler`: its options, layouts and pass list, and ``compile`` to a
:class:`~.compiled_training_network.CompiledTrainingNetwork`; and :data:`default_params`, the
neuron settings e-prop assumes, used as mlGeNN's: ``Network(default_params)``.
"""

from __future__ import annotations

from ..errors import ModelError
from .. import neurons as _neurons
from ..lowering import node_id
from ..neurons import AdaptiveLeakyIntegrateFire, LeakyIntegrate, LeakyIntegrateFire
from ..optimisers import Optimiser, default_optimisers
from ..utils.module import get_object
from .compiler import Compiler, _positive_int, loss_map
from .compiled_training_network import CompiledTrainingNetwork
from .deep_r import DeepROptions

#: mlGeNN's e-prop defaults, ``{class: {argument: value}}``: pass them to the network
#: (``network = SequentialNetwork(default_params)``) so the neurons created inside it reset by
#: subtraction, keep integrating while refractory and do not scale their input, as e-prop's
#: derivation assumes; arguments given explicitly to a constructor win.
default_params = {
    AdaptiveLeakyIntegrateFire: {"relative_reset": True, "integrate_during_refrac": True},
    LeakyIntegrate: {"scale_i": False},
    LeakyIntegrateFire: {"relative_reset": True, "integrate_during_refrac": True,
                         "scale_i": False}}
# The rate-coded LeakyIntegrateFireInput (where this irsnn has it) takes LeakyIntegrateFire's
if hasattr(_neurons, "LeakyIntegrateFireInput"):
    default_params[_neurons.LeakyIntegrateFireInput] = dict(default_params[LeakyIntegrateFire])


class EPropCompiler(Compiler):
    """Compile a network for e-prop training.

    Parameters
    ----------
    example_timesteps : int
        Timesteps each example is presented for.
    losses : str, Loss or dict
        Loss of the output population (``"sparse_categorical_crossentropy"`` or
        ``"mean_square_error"``), or a dict population -> loss.
    optimiser : str or Optimiser
        Applied once per batch to the batch-summed gradients (default ``"adam"``).
    tau_reg, c_reg, f_target : float
        Firing-rate regularisation: time constant (ms) of the rate trace, strength and target
        rate (Hz).
    train_output_bias : bool
        Learn the output population's bias.
    feedback : {"symmetric", "random"}
        Learning signals through the transposed output weights or fixed random matrices.
    reset_vars_between_examples : bool
        Reset neuron state and eligibility traces before every batch (mlGeNN does not).
    gradient_mode : {"event", "online"}
        ``"event"`` (default): the exact gradients of e-prop with eligibility traces starting
        from zero at each example, computed from the delivered spikes and per-neuron sequences
        filtered backward at the example's end (no per-synapse state is updated per step:
        training costs a small multiple of inference, about 2x on ALIF512R on a CPU).
        ``"online"``: mlGeNN's per-synapse, per-step eligibility traces (which carry over from
        example to example unless ``reset_traces_between_examples``).
    reset_traces_between_examples : bool
        ``gradient_mode="online"`` only: zero the eligibility traces (not the neuron state)
        before every batch, which makes online gradients equal to event-mode ones.
    event_memory_budget_mb : float or None
        ``gradient_mode="event"`` only: the most memory (MB) the per-example sequences and
        spike bits of a batch may take. A batch that would need more is simulated in chunks
        of as many examples as fit (at least one); their gradients are summed and the optimiser
        steps once per batch, as without chunks. Callbacks see each chunk as a batch, and
        neuron state carried over between batches follows the chunk's rows. None: no limit.
    reset_time_between_batches : bool
    deep_r_conns : sequence of Connection
        Connections trained with Deep-R rewiring (Bellec et al. 2018, see
        :mod:`irsnn.compilers.deep_r`): each must be sparse (stored ragged, e.g.
        ``FixedProbability(p, w, layout="sparse")`` or ``Sparse``); its synapse count stays
        fixed while synapses whose weight changes sign are replaced by new random ones.
    deep_r_l1_strength : float
        L1 regularisation of the Deep-R connections (>= 0; added, per example, as
        ``l1_strength * sign`` to each synapse's gradient).
    deep_r_record_rewirings : dict
        ``{connection: key}``: ``train`` returns, in ``cb_data[key]``, the number of synapses
        of that connection rewired after each batch (a list, one int per batch).
    dt, batch_size, rng_seed, kernel_profiling, backend, precision, communicator
        See :class:`Compiler` (with a communicator, the optimiser steps on the gradients summed
        over every rank).
    """

    def __init__(self, example_timesteps: int, losses, optimiser="adam", tau_reg: float = 500.0,
                 c_reg: float = 0.001, f_target: float = 10.0, train_output_bias: bool = True,
                 dt: float = 1.0, batch_size: int = 1, rng_seed: int = 0,
                 reset_time_between_batches: bool = True, kernel_profiling: bool = False,
                 backend=None, feedback: str = "symmetric",
                 reset_vars_between_examples: bool = False, precision: str = "float",
                 gradient_mode: str = "event", reset_traces_between_examples: bool = False,
                 deep_r_conns=(), deep_r_l1_strength: float = 0.01,
                 deep_r_record_rewirings=None, event_memory_budget_mb: float | None = None,
                 communicator=None, **genn_kwargs):
        super().__init__(dt=dt, batch_size=batch_size, rng_seed=rng_seed,
                         kernel_profiling=kernel_profiling, backend=backend,
                         precision=precision, communicator=communicator, **genn_kwargs)
        self.example_timesteps = _positive_int("EPropCompiler", "example_timesteps",
                                               example_timesteps)
        for name, value in (("tau_reg", tau_reg),):
            if not 0 < value < float("inf"):
                raise ModelError(f"EPropCompiler: {name}={value!r} must be > 0 ms (and finite)")
        if not (0 <= c_reg < float("inf") and 0 <= f_target < float("inf")):
            raise ModelError(f"EPropCompiler: c_reg={c_reg!r} and f_target={f_target!r} must "
                             f"be finite numbers >= 0")
        if feedback not in ("symmetric", "random"):
            raise ModelError(f"EPropCompiler: feedback={feedback!r}; use 'symmetric' or "
                             f"'random'")
        from irsnn.passes.event_eprop import GRADIENT_MODES
        if gradient_mode not in GRADIENT_MODES:
            raise ModelError(f"EPropCompiler: gradient_mode={gradient_mode!r}; use 'event' "
                             f"(exact, spike-driven) or 'online' (per-synapse traces)")
        if reset_traces_between_examples and gradient_mode != "online":
            raise ModelError("EPropCompiler: reset_traces_between_examples=True applies to "
                             "gradient_mode='online'; event mode always starts each example's "
                             "traces from zero")
        if event_memory_budget_mb is not None:
            if gradient_mode != "event":
                raise ModelError("EPropCompiler: event_memory_budget_mb applies to "
                                 "gradient_mode='event' (online mode stores no sequences)")
            if not event_memory_budget_mb > 0:
                raise ModelError(f"EPropCompiler: event_memory_budget_mb="
                                 f"{event_memory_budget_mb!r} must be > 0 (MB), or None for "
                                 f"no limit")
        self.event_memory_budget_mb = event_memory_budget_mb
        #: examples simulated at once (set by :meth:`compile` when a budget splits batches)
        self._chunk: int | None = None
        self.gradient_mode = gradient_mode
        self.reset_traces_between_examples = bool(reset_traces_between_examples)
        self.losses = losses
        self.optimiser = get_object(optimiser, Optimiser, "Optimiser", default_optimisers)
        from ..optimisers.custom_update import CustomUpdateOptimiser, uses_custom_update
        if uses_custom_update(self.optimiser):   # written mlGeNN's way (get_model/set_step)
            self.optimiser = CustomUpdateOptimiser(self.optimiser)
        self.tau_reg, self.c_reg, self.f_target = tau_reg, c_reg, f_target
        self.train_output_bias = train_output_bias
        self.feedback = feedback
        self.reset_time_between_batches = reset_time_between_batches
        self.reset_vars_between_examples = reset_vars_between_examples
        self._deep_r = DeepROptions("EPropCompiler", deep_r_conns, deep_r_l1_strength,
                                    deep_r_record_rewirings)
        self.deep_r_conns, self.deep_r_l1_strength = self._deep_r.conns, self._deep_r.l1_strength
        self._loss_map: dict = {}
        #: ``{output node id: (loss, info)}`` of losses written with mlGeNN's hooks
        self.model_losses: dict = {}
        #: ``{connection name: cb_data key}`` for the network being compiled
        self.deep_r_record_rewirings: dict = {}
        self._deep_r_names: tuple = ()

    def loss_map(self, network) -> dict:
        """``{output population: Loss}`` for the network's populations with readouts."""
        return loss_map("EPropCompiler", self.losses, network)

    def lower(self, network, name=None):
        self._loss_map, self.model_losses = {}, {}
        for pop, loss in self.loss_map(network).items():
            self._loss_map[node_id(pop)] = self._loss_option(pop, loss)
        self._deep_r_names, self.deep_r_record_rewirings = self._deep_r.resolve(network)
        return super().lower(network, name)

    def _loss_option(self, pop, loss):
        """The ``losses`` option of output ``pop``: a built-in loss's name, or the
        :class:`~irsnn.ir.ModelLoss` of a loss written with mlGeNN's hooks (whose
        ``set_target`` :attr:`model_losses` keeps, by node id, for the compiled network)."""
        from ..losses import default_losses
        from ..losses.model_loss import lower_model_loss, uses_model_hooks
        from ..lowering import _call_get_model
        if not uses_model_hooks(loss):
            if default_losses.get(loss.name) is None:
                raise ModelError(f"EPropCompiler: the loss of '{pop.name}', "
                                 f"{type(loss).__name__}, is neither one of irsnn's e-prop "
                                 f"losses {sorted(default_losses)} nor written with mlGeNN's "
                                 f"add_to_neuron/set_target hooks; implement both hooks")
            return loss.name
        owner = f"Population '{pop.name}'"
        model = _call_get_model(pop.neuron, pop, self.dt, self.simulation_batch_size)
        spec, info = lower_model_loss(loss, model, pop.shape, self.simulation_batch_size,
                                      self.example_timesteps, owner)
        self.model_losses[node_id(pop)] = (loss, info)
        return spec

    def layouts(self):
        """As mlGeNN's e-prop compiler (GeNN's SPARSE and DENSE): e-prop keeps a gradient per
        stored synapse, and OneToOne is stored ragged, one synapse per row, and trained like
        any sparse connection."""
        return ("ragged", "dense")

    def passes(self):
        from irsnn.passes import (BatchState, ChooseSparseLayout, EventEprop, InferShapes,
                                  InsertDeepR, InsertEprop, InsertOptimiser, InsertReadout,
                                  InsertRecording, Validate)
        deep_r = [InsertDeepR()] if self.deep_r_conns else []
        return [Validate(), InferShapes(), ChooseSparseLayout(), InsertReadout(), InsertEprop(),
                EventEprop(), InsertOptimiser(), *deep_r, BatchState(), InsertRecording()]

    def options(self):
        return {**super().options(), "example_timesteps": self.example_timesteps,
                "losses": self._loss_map, "tau_reg": self.tau_reg, "c_reg": self.c_reg,
                "f_target": self.f_target, "train_output_bias": self.train_output_bias,
                "feedback": self.feedback, "optimiser": self.optimiser,
                "gradient_mode": self.gradient_mode,
                "deep_r": self._deep_r_names, "deep_r_l1_strength": self.deep_r_l1_strength}

    @property
    def simulation_batch_size(self) -> int:
        return self._chunk or self.batch_size

    def event_bytes_per_example(self, graph) -> int:
        """Bytes of event-driven e-prop's per-example storage in ``graph`` (after the
        pipeline): the backward filters' sequences and the delivered-spike bits."""
        from irsnn.ir import BackwardFilter
        size = 4 if self.precision == "float" else 8
        total = 0
        for _, f in graph.nodes(BackwardFilter):
            total += len(f.sequences) * f.timesteps * graph.node(f.source).size * size
        for *_, syn in graph.synapses():
            if syn.learning is not None and syn.learning.backward:
                words = (syn.num_pre + 31) // 32
                signed = bool(graph.node(syn.source).negative_threshold_code.strip())
                total += (2 if signed else 1) * self.example_timesteps * words * 4
        return total

    def compile(self, network, name: str | None = None, **kwargs) -> CompiledTrainingNetwork:
        """Lower, run the e-prop pipeline and build: a :class:`CompiledTrainingNetwork`. With
        ``event_memory_budget_mb``, the batch is simulated in chunks that fit the budget."""
        self._chunk = None
        if self.event_memory_budget_mb is not None:
            per_example = self.event_bytes_per_example(self.build_ir(network, name))
            if per_example:
                fit = int(self.event_memory_budget_mb * 1e6 // per_example)
                if fit < self.batch_size:
                    self._chunk = max(1, fit)
        return CompiledTrainingNetwork(self, network, name)
