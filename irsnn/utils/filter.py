"""Filters selecting examples and neurons to record.

Requires: NumPy. Provides :class:`ExampleFilter` and :func:`get_neuron_filter_mask` (as
mlGeNN's), used by the recording callbacks, and the type aliases :data:`ExampleFilterType` and
:data:`NeuronFilterType` (mlGeNN's names for what the filters accept).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from numbers import Integral
from typing import Union

import numpy as np

from ..errors import IndexRangeError, ModelError

#: what an example filter may be: None, an index, indices or a mask, a slice or a predicate
ExampleFilterType = Union[None, int, Sequence, np.ndarray, slice, Callable[[int], bool]]
#: what a neuron filter may be: None, an index, a slice, a tuple of slices, indices or a mask
NeuronFilterType = Union[None, int, slice, tuple, Sequence, np.ndarray]


class ExampleFilter:
    """Select which examples (by index across the whole run) to record.

    Parameters
    ----------
    f : None, int, sequence of int or bool, slice or callable
        ``None`` selects every example; an int one example; a sequence of indices or a
        boolean mask those examples; a slice (``slice(10, None, 2)``) a range; a callable
        ``f(index) -> bool`` whatever it accepts.
    """

    def __init__(self, f=None):
        self._mask = self._slice = self._func = None
        self._all = f is None
        if f is None:
            return
        if isinstance(f, slice):
            self._slice = f
        elif isinstance(f, (Integral, np.integer)) and not isinstance(f, bool):
            if f < 0:
                raise ModelError(f"example filter index must be >= 0 (got {f})")
            self._mask = np.zeros(int(f) + 1, dtype=bool)
            self._mask[f] = True
        elif isinstance(f, (Sequence, np.ndarray)) and not isinstance(f, str):
            arr = np.asarray(f)
            if arr.dtype == bool:
                self._mask = arr.reshape(-1)
            elif arr.size == 0:
                self._mask = np.zeros(0, dtype=bool)
            elif np.issubdtype(arr.dtype, np.integer):
                if arr.min() < 0:
                    raise ModelError(f"example filter indices must be >= 0 (got {arr.min()})")
                self._mask = np.zeros(int(arr.max()) + 1, dtype=bool)
                self._mask[arr] = True
            else:
                raise ModelError(f"example filter arrays must hold ints or bools "
                                 f"(got {arr.dtype})")
        elif callable(f):
            self._func = f
        else:
            raise ModelError(f"unsupported example filter {f!r}; use None, an int, a sequence, "
                             f"a slice or a callable")

    def get_batch_mask(self, batch: int, batch_size: int) -> np.ndarray:
        """Boolean mask of length ``batch_size`` for the examples of batch ``batch``."""
        first = batch * batch_size
        if self._all:
            return np.ones(batch_size, dtype=bool)
        if self._mask is not None:
            part = self._mask[first:first + batch_size]
            return np.pad(part, (0, batch_size - len(part)), constant_values=False)
        idx = np.arange(first, first + batch_size)
        if self._slice is not None:
            chosen = np.arange(first + batch_size)[self._slice]
            return np.isin(idx, chosen)
        return np.array([bool(self._func(int(i))) for i in idx], dtype=bool)


def get_neuron_filter_mask(f, shape) -> np.ndarray:
    """Flat boolean mask over a population of ``shape`` selected by neuron filter ``f``.

    Parameters
    ----------
    f : None, int, slice, tuple (e.g. ``np.s_[0:2, 3]``), sequence of indices or boolean mask
        ``None`` selects every neuron. Slices and indices address the population's shape
        (a tuple indexes several dimensions); a boolean mask must have the population's shape
        (or be flat).
    shape : int or tuple
        Population shape.
    """
    shape = tuple(shape) if isinstance(shape, (Sequence, np.ndarray)) else (int(shape),)
    mask = np.zeros(shape, dtype=bool)
    try:
        if f is None:
            mask[...] = True
        elif isinstance(f, (slice, Integral, np.integer)) and not isinstance(f, bool):
            mask[f] = True
        elif isinstance(f, tuple) and any(isinstance(x, slice) or x is Ellipsis for x in f):
            mask[f] = True
        else:
            arr = np.asarray(f)
            if arr.dtype == bool:
                if arr.shape == shape:
                    mask = arr.copy()
                elif arr.size == mask.size and arr.ndim == 1:
                    mask = arr.reshape(shape).copy()
                else:
                    raise ModelError(f"boolean neuron filter has shape {arr.shape} but the "
                                     f"population has shape {shape}")
            elif arr.dtype == object:
                mask[tuple(arr)] = True
            elif np.issubdtype(arr.dtype, np.integer):
                mask[arr if len(shape) == 1 else tuple(arr)] = True
            else:
                raise ModelError(f"unsupported neuron filter {f!r}")
    except IndexError as exc:
        raise IndexRangeError(f"neuron filter {f!r} does not fit population shape {shape} "
                              f"({exc}); use indices below the population's size in each "
                              f"dimension") from exc
    return mask.reshape(-1)
