"""e-prop training (Bellec et al. 2020) as mlGeNN's ``EPropCompiler``, built from IR passes."""

from __future__ import annotations

from ..errors import ModelError
from ..losses import Loss, default_losses
from ..lowering import node_id
from ..optimisers import Optimiser, default_optimisers
from ..utils.module import get_object
from .compiler import Compiler, _positive_int
from .compiled_training_network import CompiledTrainingNetwork


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
    reset_time_between_batches : bool
    dt, batch_size, rng_seed, kernel_profiling, backend, precision
        See :class:`Compiler`.
    """

    def __init__(self, example_timesteps: int, losses, optimiser="adam", tau_reg: float = 500.0,
                 c_reg: float = 0.001, f_target: float = 10.0, train_output_bias: bool = True,
                 dt: float = 1.0, batch_size: int = 1, rng_seed: int = 0,
                 reset_time_between_batches: bool = True, kernel_profiling: bool = False,
                 backend=None, feedback: str = "symmetric",
                 reset_vars_between_examples: bool = False, precision: str = "float",
                 **genn_kwargs):
        super().__init__(dt=dt, batch_size=batch_size, rng_seed=rng_seed,
                         kernel_profiling=kernel_profiling, backend=backend,
                         precision=precision, **genn_kwargs)
        self.example_timesteps = _positive_int("EPropCompiler", "example_timesteps",
                                               example_timesteps)
        for name, value in (("tau_reg", tau_reg),):
            if not value > 0:
                raise ModelError(f"EPropCompiler: {name}={value!r} must be > 0 ms")
        if c_reg < 0 or f_target < 0:
            raise ModelError(f"EPropCompiler: c_reg={c_reg!r} and f_target={f_target!r} must "
                             f"be >= 0")
        if feedback not in ("symmetric", "random"):
            raise ModelError(f"EPropCompiler: feedback={feedback!r}; use 'symmetric' or "
                             f"'random'")
        self.losses = losses
        self.optimiser = get_object(optimiser, Optimiser, "Optimiser", default_optimisers)
        self.tau_reg, self.c_reg, self.f_target = tau_reg, c_reg, f_target
        self.train_output_bias = train_output_bias
        self.feedback = feedback
        self.reset_time_between_batches = reset_time_between_batches
        self.reset_vars_between_examples = reset_vars_between_examples
        self._loss_map: dict = {}

    def loss_map(self, network) -> dict:
        """``{output population: Loss}`` for the network's populations with readouts."""
        outputs = [p for p in network.populations if p.neuron.readout is not None]
        if isinstance(self.losses, dict):
            from ..utils.network import get_underlying_pop
            out = {get_underlying_pop(k): get_object(v, Loss, "Loss", default_losses)
                   for k, v in self.losses.items()}
            stray = [p.name for p in out if p not in outputs]
            if stray:
                raise ModelError(f"EPropCompiler: losses are given for {stray}, which have no "
                                 f"readout; give the output neuron a readout (e.g. sum_var)")
            return out
        if not outputs:
            raise ModelError("EPropCompiler: the network has no population with a readout; "
                             "give the output neuron a readout (e.g. readout='sum_var')")
        return {p: get_object(self.losses, Loss, "Loss", default_losses) for p in outputs}

    def lower(self, network, name=None):
        self._loss_map = {node_id(p): loss.name for p, loss in self.loss_map(network).items()}
        return super().lower(network, name)

    def passes(self):
        from irsnn.passes import (BatchState, ChooseSparseLayout, InferShapes, InsertEprop,
                                  InsertOptimiser, InsertReadout, InsertRecording, Validate)
        return [Validate(), InferShapes(), ChooseSparseLayout(), InsertReadout(), InsertEprop(),
                InsertOptimiser(), BatchState(), InsertRecording()]

    def options(self):
        return {**super().options(), "example_timesteps": self.example_timesteps,
                "losses": self._loss_map, "tau_reg": self.tau_reg, "c_reg": self.c_reg,
                "f_target": self.f_target, "train_output_bias": self.train_output_bias,
                "feedback": self.feedback, "optimiser": self.optimiser,
                # as mlGeNN's e-prop compiler (GeNN's DENSE and SPARSE): OneToOne is stored
                # ragged, one synapse per row, and trained like any sparse connection
                "layouts": ("dense", "ragged")}

    def compile(self, network, name: str | None = None, **kwargs) -> CompiledTrainingNetwork:
        """Lower, run the e-prop pipeline and build: a :class:`CompiledTrainingNetwork`."""
        return CompiledTrainingNetwork(self, network, name)
