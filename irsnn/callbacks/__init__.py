"""Callbacks: progress bars and recording (mlGeNN's ``ml_genn.callbacks``)."""

from .callback import Callback
from .progress_bar import BatchProgressBar
from .recorders import SpikeRecorder, VarRecorder
from .training import Checkpoint, OptimiserParamSchedule

default_callbacks = {"batch_progress_bar": BatchProgressBar}

__all__ = ["Callback", "BatchProgressBar", "SpikeRecorder", "VarRecorder", "Checkpoint",
           "OptimiserParamSchedule", "default_callbacks"]
