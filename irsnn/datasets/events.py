"""Tonic-format event arrays without tonic: construction and the spatial ``Downsample``.

Requires: NumPy; tonic only where present (:func:`tonic_available`, :func:`downsample`).
Provides :data:`EVENT_DTYPE`, :data:`EVENT_ORDERING`, :func:`make_events`,
:func:`downsample` (tonic's, else :func:`downsample_numpy`) and :func:`downsampled_shape`.
"""

from __future__ import annotations

import numpy as np

#: tonic's default event dtype (``tonic.io.events_struct``): x, y, t (us), p
EVENT_DTYPE = np.dtype([("x", np.int16), ("y", np.int16), ("t", np.int64), ("p", bool)])
#: field order of :data:`EVENT_DTYPE` (``dataset.ordering``)
EVENT_ORDERING = EVENT_DTYPE.names


def make_events(x, y, t, p, dtype: np.dtype = EVENT_DTYPE) -> np.ndarray:
    """A structured event array with fields x, y, t, p, like tonic's ``make_structured_array``.

    Parameters
    ----------
    x, y, t, p : array-like
        Coordinates, times (us) and polarities, broadcast to one length.
    dtype : numpy dtype
        Structured dtype with (at least) these four fields.
    """
    x = np.asarray(x)
    events = np.empty(x.shape, dtype=dtype)
    for name, value in zip(("x", "y", "t", "p"), (x, y, t, p)):
        events[name] = value
    return events


def tonic_available() -> bool:
    """Whether tonic can be imported (a broken optional install counts as absent)."""
    try:
        import tonic  # noqa: F401
    except Exception:  # ImportError, or e.g. OSError from a half-installed torch it pulls in
        return False
    return True


def downsample_numpy(events: np.ndarray, spatial_factor: float = 1.0,
                     time_factor: float = 1.0) -> np.ndarray:
    """NumPy twin of ``tonic.transforms.Downsample(time_factor, spatial_factor)``.

    Multiplies t by ``time_factor`` and x/y by ``spatial_factor`` and stores the products back
    into the array's own field types, so integer coordinates are truncated toward zero exactly
    as tonic's transform truncates them (``spatial_factor=0.25``: 128x128 -> 32x32). No event
    is dropped, so several events can land on the same downsampled pixel at the same time;
    :func:`irsnn.utils.data.preprocess_tonic_spikes` with ``dt`` turns them into one spike.
    """
    fx, fy = (spatial_factor if isinstance(spatial_factor, tuple)
              else (spatial_factor, spatial_factor))
    events = events.copy()
    events["t"] = events["t"] * time_factor
    if "x" in events.dtype.names:
        events["x"] = events["x"] * fx
    if "y" in events.dtype.names:
        events["y"] = events["y"] * fy
    return events


def downsample(spatial_factor: float = 1.0, time_factor: float = 1.0):
    """The spatial/temporal ``Downsample`` transform: tonic's own when tonic is installed,
    :func:`downsample_numpy` otherwise (the two agree event for event)."""
    if tonic_available():
        from tonic.transforms import Downsample
        return Downsample(time_factor=time_factor, spatial_factor=spatial_factor)
    return lambda events: downsample_numpy(events, spatial_factor, time_factor)


def downsampled_shape(sensor_size, spatial_factor: float) -> tuple[int, int, int]:
    """Sensor size after ``Downsample(spatial_factor)``: ``(128, 128, 2)`` -> ``(32, 32, 2)``
    for 0.25 (the largest truncated coordinate plus one)."""
    w, h, p = sensor_size
    fx, fy = (spatial_factor if isinstance(spatial_factor, tuple)
              else (spatial_factor, spatial_factor))
    return (int((w - 1) * fx) + 1, int((h - 1) * fy) + 1 if h > 1 else 1, p)
