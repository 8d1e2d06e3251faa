"""Loss functions for training compilers (mlGeNN's ``ml_genn.losses``).

Requires: nothing. Provides :class:`Loss`, :class:`SparseCategoricalCrossentropy`,
:class:`MeanSquareError`, :class:`RelativeMeanSquareError` (EventProp's; it takes a ``delta``,
so it has no string shortcut) and :data:`default_losses` (name -> class).

A loss names the per-timestep output error the ``insert-eprop`` pass wires up: see
:class:`~irsnn.ir.LossNode`.
"""


class Loss:
    """Base class; ``name`` is the snake_case name used in the IR.

    A subclass may be written mlGeNN's way, implementing both hooks below: the e-prop compiler
    then lowers what ``add_to_neuron`` adds to the output neuron and calls ``set_target`` with
    every batch's labels (see :mod:`irsnn.losses.model_loss`). irsnn's own losses implement
    neither: the compilers know them by ``name``.
    """

    name = ""

    def add_to_neuron(self, model, shape, batch_size: int, example_timesteps: int):
        """mlGeNN's hook: add to ``model`` (the output population's
        :class:`~irsnn.utils.model.NeuronModel`, changed in place) the variables, extra global
        parameters and appended sim code that declare the local ``yTrue``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement add_to_neuron")

    def set_target(self, genn_pop, y_true, shape, batch_size: int, example_timesteps: int):
        """mlGeNN's hook: write a batch's labels ``y_true`` into ``genn_pop.vars[name].view``
        or ``genn_pop.extra_global_params[name].view`` and ``push_to_device()``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement set_target")

    def __repr__(self):
        return f"{type(self).__name__}()"


class SparseCategoricalCrossentropy(Loss):
    """Cross-entropy of ``softmax(V)`` against integer labels: error ``softmax(V) - onehot(y)``."""

    name = "sparse_categorical_crossentropy"


class MeanSquareError(Loss):
    """Half the squared difference to per-neuron targets: error ``V - y``. Targets are
    ``(examples, neurons)`` (the same at every timestep) or, as mlGeNN's,
    ``(examples, example_timesteps, neurons)`` (one per timestep)."""

    name = "mean_square_error"


from .relative_mean_square_error import RelativeMeanSquareError  # noqa: E402  (needs Loss)

default_losses = {c.name: c for c in (SparseCategoricalCrossentropy, MeanSquareError)}

__all__ = ["Loss", "SparseCategoricalCrossentropy", "MeanSquareError", "RelativeMeanSquareError",
           "default_losses"]
