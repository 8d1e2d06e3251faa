"""Datasets as spike trains: embedded ones that need no download, and tonic loaders.

Requires: nothing beyond its submodules (tonic and scikit-learn are imported by the loaders
that use them). Provides the public names of :mod:`.base`, :mod:`.events`, :mod:`.loaders` and
:mod:`.synthetic_gesture`.

The embedded ones: scikit-learn's digits, Yin-Yang, synthetic DVS-Gesture-like event
recordings. The tonic loaders for DVS Gesture and SHD read files from ``root`` and say where to
put them when they are missing.
"""

from .base import SpikeDataset, events_to_spikes
from .events import (EVENT_DTYPE, EVENT_ORDERING, downsample, downsample_numpy,
                     downsampled_shape, make_events, tonic_available)
from .loaders import (DATASETS, DatasetUnavailableError, load_digits, load_dvs_gesture,
                      load_shd, load_synthetic_gesture, load_yin_yang)
from .synthetic_gesture import SyntheticGesture, generate_gesture

__all__ = ["DATASETS", "DatasetUnavailableError", "EVENT_DTYPE", "EVENT_ORDERING",
           "SpikeDataset", "SyntheticGesture", "downsample", "downsample_numpy",
           "downsampled_shape", "events_to_spikes", "generate_gesture", "load_digits",
           "load_dvs_gesture", "load_shd", "load_synthetic_gesture", "load_yin_yang",
           "make_events", "tonic_available"]
