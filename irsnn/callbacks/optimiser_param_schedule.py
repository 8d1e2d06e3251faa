"""``irsnn.callbacks.optimiser_param_schedule``: mlGeNN's module path.

Requires: :mod:`irsnn.callbacks.training`, where it is defined with the other training callback.
Provides :class:`~irsnn.callbacks.training.OptimiserParamSchedule` under mlGeNN's module name, so
``from irsnn.callbacks.optimiser_param_schedule import OptimiserParamSchedule`` works as ``from
ml_genn.callbacks.optimiser_param_schedule import OptimiserParamSchedule``.
"""

from .training import OptimiserParamSchedule  # noqa: F401

__all__ = ["OptimiserParamSchedule"]
