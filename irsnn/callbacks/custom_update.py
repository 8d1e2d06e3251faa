"""Callbacks that run a named custom update at a point of the run (mlGeNN's).

Requires: a compiled network's ``genn_model`` (:class:`irsnn.compilers.genn_model.GeNNModelView`),
whose ``custom_update(name)`` runs what irsnn does for mlGeNN's custom update of that name
(``"Reset"``: reset the state; ``"GradientLearn"``: one optimiser step). Provides
:class:`CustomUpdate` and :class:`CustomUpdateOnBatchBegin`, :class:`CustomUpdateOnBatchEnd`,
:class:`CustomUpdateOnEpochBegin`, :class:`CustomUpdateOnEpochEnd`,
:class:`CustomUpdateOnTimestepBegin`, :class:`CustomUpdateOnTimestepEnd` and
:class:`CustomUpdateOnLastTimestep`.

An unknown name is reported when the callback is given the compiled network, before the run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..errors import ModelError
from .callback import Callback

logger = logging.getLogger(__name__)


class CustomUpdate(Callback):
    """Base class: run custom update ``name`` when ``filter_fn(number)`` is true (always
    without a filter), where ``number`` is the epoch, batch or timestep of the hook.

    Parameters
    ----------
    name : str
        The custom update (see :meth:`irsnn.compilers.genn_model.GeNNModelView.custom_update`).
    filter_fn : callable, optional
        ``filter_fn(int) -> bool`` selecting the epochs/batches/timesteps to run on.
    """

    def __init__(self, name: str, filter_fn: Callable[[int], bool] | None = None):
        if not isinstance(name, str) or not name:
            raise ModelError(f"{type(self).__name__}: name={name!r} must be the name of a "
                             f"custom update such as 'Reset'")
        if filter_fn is not None and not callable(filter_fn):
            raise ModelError(f"{type(self).__name__}: filter_fn={filter_fn!r} must be a "
                             f"callable int -> bool, or None")
        self.name = name
        self.filter_fn = filter_fn
        self._compiled_network = None

    def set_params(self, compiled_network=None, **kwargs):
        self._compiled_network = compiled_network
        model = compiled_network.genn_model
        if not model.has_custom_update(self.name):
            # raises the error that names the custom updates this network has
            model.custom_update(self.name)

    def _custom_update(self, number: int) -> bool:
        if self.filter_fn is not None and not self.filter_fn(number):
            return False
        self._compiled_network.genn_model.custom_update(self.name)
        logger.debug("ran custom update %s (%s %d)", self.name, type(self).__name__, number)
        return True


class CustomUpdateOnBatchBegin(CustomUpdate):
    """Run the custom update at the beginning of every (filtered) batch."""

    def on_batch_begin(self, batch):
        self._custom_update(batch)


class CustomUpdateOnBatchEnd(CustomUpdate):
    """Run the custom update at the end of every (filtered) batch."""

    def on_batch_end(self, batch, metrics):
        self._custom_update(batch)


class CustomUpdateOnEpochBegin(CustomUpdate):
    """Run the custom update at the beginning of every (filtered) epoch."""

    def on_epoch_begin(self, epoch):
        self._custom_update(epoch)


class CustomUpdateOnEpochEnd(CustomUpdate):
    """Run the custom update at the end of every (filtered) epoch."""

    def on_epoch_end(self, epoch, metrics):
        self._custom_update(epoch)


class CustomUpdateOnTimestepBegin(CustomUpdate):
    """Run the custom update at the beginning of every (filtered) timestep of an example."""

    def on_timestep_begin(self, timestep):
        self._custom_update(timestep)


class CustomUpdateOnTimestepEnd(CustomUpdate):
    """Run the custom update at the end of every (filtered) timestep of an example."""

    def on_timestep_end(self, timestep):
        self._custom_update(timestep)


class CustomUpdateOnLastTimestep(CustomUpdate):
    """Run the custom update at the beginning of the last timestep of every example.

    Parameters
    ----------
    name : str
        The custom update.
    example_timesteps : int
        Timesteps per example (the last one is ``example_timesteps - 1``).
    """

    def __init__(self, name: str, example_timesteps: int):
        super().__init__(name)
        if not isinstance(example_timesteps, int) or example_timesteps < 1:
            raise ModelError(f"CustomUpdateOnLastTimestep: example_timesteps="
                             f"{example_timesteps!r} must be an integer >= 1")
        self.example_timesteps = example_timesteps

    def on_timestep_begin(self, timestep):
        if timestep == self.example_timesteps - 1:
            self._custom_update(timestep)
