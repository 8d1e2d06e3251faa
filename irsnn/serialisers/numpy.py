"""Serialiser storing each array as a ``.npy`` file.

Requires: :class:`~.serialiser.Serialiser` and NumPy. Provides :class:`Numpy` (mlGeNN's).
"""

from __future__ import annotations

import glob
import os

import numpy as np

from ..errors import InputError
from ..utils.atomic import atomic_write
from .serialiser import Serialiser


class Numpy(Serialiser):
    """Store each array as ``<file_path>/<keys joined by '-'>.npy`` (mlGeNN's layout).

    Parameters
    ----------
    file_path : str
        Directory holding the files; created when first written to.
    path : str, optional
        mlGeNN's name for ``file_path``.
    """

    def __init__(self, file_path: str = ".", path: str | None = None):
        self.file_path = path if path is not None else (file_path or ".")

    @property
    def path(self):
        return self.file_path

    def serialise(self, keys, data):
        """Save ``data`` under ``keys``, atomically: a save interrupted (even by kill -9)
        leaves the previous file, never a truncated one."""
        os.makedirs(self.file_path, exist_ok=True)
        with atomic_write(self._filename(keys, ".npy")) as f:
            np.save(f, np.asarray(data))

    def deserialise(self, keys):
        name = self._filename(keys, ".npy")
        if not os.path.exists(name):
            raise InputError(f"Numpy serialiser: no array saved under {tuple(keys)} "
                             f"(looked for {name})")
        return _load(name)

    def deserialise_all(self, keys) -> dict:
        keys = tuple(keys)
        prefix = glob.escape(self._filename(keys, "-") if keys
                             else os.path.join(self.file_path, ""))
        data = {}
        for f in sorted(glob.glob(prefix + "*.npy")):
            rest = os.path.splitext(os.path.basename(f))[0].split("-")[len(keys):]
            if len(rest) == 1:
                data[rest[0]] = _load(f)
        return data

    def _filename(self, keys, suffix):
        return os.path.join(self.file_path, "-".join(str(k) for k in keys) + suffix)


def _load(name):
    """``np.load`` of one saved array, or an :class:`InputError` naming the file that cannot
    be read."""
    try:
        return np.load(name)
    except (ValueError, OSError, EOFError) as exc:
        raise InputError(f"Numpy serialiser: {name} cannot be read ({exc}); it is not a "
                         f"complete .npy array (a copy cut short?): save it again or remove "
                         f"it") from None
