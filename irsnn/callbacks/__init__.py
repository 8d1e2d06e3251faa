"""Callbacks: progress bars and recording (mlGeNN's ``ml_genn.callbacks``)."""

from .callback import Callback
from .progress_bar import BatchProgressBar
from .recorders import SpikeRecorder, VarRecorder

default_callbacks = {"batch_progress_bar": BatchProgressBar}

__all__ = ["Callback", "BatchProgressBar", "SpikeRecorder", "VarRecorder",
           "default_callbacks"]
