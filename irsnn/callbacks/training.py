"""Training callbacks: checkpoints and optimiser parameter schedules (mlGeNN's).

Requires: a compiled training network (its ``save`` and optimisers) and
:class:`~.callback.Callback`. Provides :class:`Checkpoint` (save the trained parameters every
``epoch_interval`` epochs) and :class:`OptimiserParamSchedule` (change an optimiser
hyper-parameter at each epoch's start), as mlGeNN's.
"""

from __future__ import annotations

from ..errors import ModelError
from .callback import Callback


class Checkpoint(Callback):
    """Save the trained parameters every ``epoch_interval`` epochs, keyed ``(epoch,)``.

    The files follow mlGeNN's layout (:mod:`irsnn.serialisers.layout`); a training network
    also saves its training state beside them. Load the parameters with
    ``network.load((epoch,), serialiser)`` (e.g. to test with an InferenceCompiler), or
    continue training exactly with ``compiled_network.resume((epoch,), serialiser)`` and
    ``train(..., start_epoch=epoch + 1)``.
    """

    root_only = True

    def __init__(self, serialiser="numpy", epoch_interval: int = 1):
        if epoch_interval < 1:
            raise ModelError(f"Checkpoint: epoch_interval={epoch_interval!r} must be >= 1")
        self.serialiser = serialiser
        self.epoch_interval = epoch_interval
        self._net = None

    def set_params(self, compiled_network=None, **kwargs):
        self._net = compiled_network

    def on_epoch_end(self, epoch, metrics):
        if epoch % self.epoch_interval == 0:
            self._net.save((epoch,), self.serialiser)


class OptimiserParamSchedule(Callback):
    """Change an optimiser hyper-parameter at the start of every epoch without recompiling:
    ``value = func(epoch, current_value)``."""

    def __init__(self, param_name: str, func):
        self.param_name = param_name
        self.func = func
        self._opt = None

    def set_params(self, compiled_network=None, **kwargs):
        opt = getattr(compiled_network, "optimiser", None)
        if opt is None:
            raise ModelError("OptimiserParamSchedule needs a training network (EPropCompiler)")
        if self.param_name not in opt.params():
            raise ModelError(f"OptimiserParamSchedule: {type(opt).__name__} has no parameter "
                             f"'{self.param_name}'; it has {sorted(opt.params())}")
        self._opt = opt

    def on_epoch_begin(self, epoch):
        setattr(self._opt, self.param_name,
                self.func(epoch, getattr(self._opt, self.param_name)))
