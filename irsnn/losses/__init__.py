"""Loss functions for training compilers (mlGeNN's ``ml_genn.losses``).

Requires: nothing. Provides :class:`Loss`, :class:`SparseCategoricalCrossentropy`,
:class:`MeanSquareError` and :data:`default_losses` (name -> class).

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
    """Half the squared difference to per-neuron targets: error ``V - y``."""

    name = "mean_square_error"


class RelativeMeanSquareError(Loss):
    """mlGeNN's time-to-first-spike loss against integer labels: for every example,
    ``sum_{k != label} (t_label - t_k + delta)^2 / 2`` over the first spike times ``t`` of the
    output neurons (EventProp; the correct neuron should fire ``delta`` ms before the others).

    Parameters
    ----------
    delta : float
        Target lead of the correct neuron's first spike (ms).
    """

    name = "relative_mean_square_error"

    def __init__(self, delta: float):
        self.delta = float(delta)

    def __repr__(self):
        return f"RelativeMeanSquareError(delta={self.delta!r})"


default_losses = {c.name: c for c in (SparseCategoricalCrossentropy, MeanSquareError)}

__all__ = ["Loss", "SparseCategoricalCrossentropy", "MeanSquareError", "default_losses",
           "RelativeMeanSquareError"]
