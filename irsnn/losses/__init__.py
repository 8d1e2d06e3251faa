"""Loss functions for training compilers (mlGeNN's ``ml_genn.losses``).

Requires: nothing. Provides :class:`Loss`, :class:`SparseCategoricalCrossentropy`,
:class:`MeanSquareError`, :class:`RelativeMeanSquareError` (EventProp's; it takes a ``delta``,
so it has no string shortcut) and :data:`default_losses` (name -> class).

A loss names the per-timestep output error the ``insert-eprop`` pass wires up: see
:class:`~irsnn.ir.LossNode`.
"""


class Loss:
    """Base class; ``name`` is the snake_case name used in the IR."""

    name = ""

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
