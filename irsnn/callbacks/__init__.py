"""Callbacks: progress bars and recording (mlGeNN's ``ml_genn.callbacks``).

Requires: nothing beyond its submodules. Provides the public names of the callbacks
(:class:`Callback`, :class:`BatchProgressBar`, :class:`SpikeRecorder`, :class:`VarRecorder`,
:class:`ConnVarRecorder`, :class:`Checkpoint`, :class:`OptimiserParamSchedule`, the
``CustomUpdateOn...`` callbacks) and :data:`default_callbacks` (by name).
"""

from .callback import Callback
from .conn_var_recorder import ConnVarRecorder
from .custom_update import (CustomUpdateOnBatchBegin, CustomUpdateOnBatchEnd,
                            CustomUpdateOnEpochBegin, CustomUpdateOnEpochEnd,
                            CustomUpdateOnLastTimestep, CustomUpdateOnTimestepBegin,
                            CustomUpdateOnTimestepEnd)
from .progress_bar import BatchProgressBar
from .recorders import SpikeRecorder, VarRecorder
from .training import Checkpoint, OptimiserParamSchedule

default_callbacks = {"batch_progress_bar": BatchProgressBar}

__all__ = ["Callback", "BatchProgressBar", "SpikeRecorder", "VarRecorder", "Checkpoint",
           "OptimiserParamSchedule", "default_callbacks", "ConnVarRecorder",
           "CustomUpdateOnBatchBegin", "CustomUpdateOnBatchEnd", "CustomUpdateOnEpochBegin",
           "CustomUpdateOnEpochEnd", "CustomUpdateOnLastTimestep", "CustomUpdateOnTimestepBegin",
           "CustomUpdateOnTimestepEnd"]
