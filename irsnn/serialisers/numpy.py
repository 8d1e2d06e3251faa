"""Serialiser storing each array as a ``.npy`` file, in mlGeNN's file layout.

Requires: :class:`~.serialiser.Serialiser`, NumPy and :func:`irsnn.utils.atomic.atomic_write`.
Provides :class:`Numpy` (mlGeNN's), :func:`file_key` / :func:`key_from_file` (the escaping of
one key in a file name) and :func:`check_file_key` (is a name usable as a key, checked when a
network is compiled).

The array stored under keys ``(k1, k2, ..., kn)`` is the file
``<path>/<k1>-<k2>-...-<kn>.npy``, exactly as mlGeNN names it (its ``Network.load`` globs
``<keys>-<name>-*.npy`` and splits the names on ``-``). Keys are written as they are, except
the characters that would break that scheme, which are escaped as ``%XX`` (UTF-8 bytes): ``-``
(the separator), ``/`` and ``\\`` (path separators), ``%`` (the escape) and characters that
cannot be printed (NUL, control characters, lone surrogates). A name without those characters
(``Conn0``, ``hidden_output``, ``é``) is therefore spelled as mlGeNN spells it, and any name
round-trips.
"""

from __future__ import annotations

import os
import re

import numpy as np

from ..errors import CheckpointNotFoundError, InputError, ModelError
from ..utils.atomic import atomic_write
from .serialiser import Serialiser

#: longest escaped name (in UTF-8 bytes) usable as a key: file names hold at most 255 bytes,
#: which must also fit the epoch, the array name, ``.npy`` and the temporary-file affixes of
#: atomic writes
MAX_KEY_BYTES = 200
#: suffix of the file holding irsnn's training state (never globbed by mlGeNN, which reads
#: ``.npy`` files only)
STATE_SUFFIX = "irsnn_state.npz"

_ESCAPED = set("%-/\\")
_UNESCAPE = re.compile(r"(?:%[0-9A-Fa-f]{2})+")


def file_key(key) -> str:
    """``str(key)`` as it appears in a file name (see the module docstring)."""
    out = []
    for ch in str(key):
        if ch in _ESCAPED or not ch.isprintable():
            out.append("".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass")))
        else:
            out.append(ch)
    return "".join(out)


def key_from_file(text: str) -> str:
    """Inverse of :func:`file_key`."""
    return _UNESCAPE.sub(
        lambda m: bytes.fromhex(m.group(0).replace("%", "")).decode("utf-8", "surrogatepass"),
        text)


def check_file_key(kind: str, name: str) -> None:
    """Refuse a population or connection name that cannot name checkpoint files.

    Every character is usable (escaped where needed); only the length is limited.

    Parameters
    ----------
    kind : str
        ``"Population"`` or ``"Connection"``, for the message.
    name : str
        The name.

    Raises
    ------
    ModelError
        When the escaped name is longer than :data:`MAX_KEY_BYTES` bytes.
    """
    size = len(file_key(name).encode("utf-8", "surrogatepass"))
    if size > MAX_KEY_BYTES:
        raise ModelError(
            f"{kind} name {name[:40]!r}... is {size} bytes long in a checkpoint file name "
            f"(at most {MAX_KEY_BYTES}: file names hold 255 bytes, with the epoch and the "
            f"array name); give it a shorter name")


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
        self.file_path = os.fspath(path if path is not None else (file_path or "."))

    @property
    def path(self):
        return self.file_path

    def serialise(self, keys, data):
        """Save ``data`` under ``keys``, atomically: a save interrupted (even by kill -9)
        leaves the previous file, never a truncated one."""
        os.makedirs(self.file_path, exist_ok=True)
        with atomic_write(self._filename(keys, ".npy"), "wb") as f:
            np.save(f, np.asarray(data))

    def deserialise(self, keys):
        name = self._filename(keys, ".npy")
        if not os.path.exists(name):
            self.check_keys(tuple(keys)[:1])
            raise CheckpointNotFoundError(
                f"Numpy serialiser: no array saved under {tuple(keys)} (looked for {name}); "
                f"check the keys (e.g. the epoch) and the folder")
        return _load(name)

    def deserialise_all(self, keys) -> dict:
        keys = tuple(keys)
        prefix = self._title(keys) + "-" if keys else ""
        data = {}
        if not os.path.isdir(self.file_path):
            return data
        for f in sorted(os.listdir(self.file_path)):
            if f.startswith(".") or not f.endswith(".npy") or not f.startswith(prefix):
                continue
            rest = f[len(prefix):-len(".npy")].split("-")
            if len(rest) == 1:
                data[key_from_file(rest[0])] = _load(os.path.join(self.file_path, f))
        return data

    def location(self, keys) -> str:
        return self._filename(keys, ".npy")

    def check_keys(self, keys) -> None:
        """A missing folder, or no file at all under ``keys`` (e.g. an epoch never saved),
        is a :class:`~irsnn.errors.CheckpointNotFoundError` listing what is there."""
        keys = tuple(keys)
        if not os.path.isdir(self.file_path):
            raise CheckpointNotFoundError(
                f"checkpoint folder {self.file_path!r} does not exist (or is not a folder); "
                f"give the folder the checkpoints were written to (Checkpoint(Numpy(path)) "
                f"or compiled_network.save(keys, Numpy(path)))")
        if not keys:
            return
        prefix = self._title(keys) + "-"
        files = [f for f in os.listdir(self.file_path)
                 if not f.startswith(".") and f.endswith((".npy", ".npz"))]
        if any(f.startswith(prefix) for f in files):
            return
        found = sorted({tuple(key_from_file(p) for p in f.rsplit(".", 1)[0].split("-"))
                        [:len(keys)] for f in files}, key=_natural)
        have = ", ".join("-".join(k) for k in found[:20]) or "none"
        raise CheckpointNotFoundError(
            f"no checkpoint {'-'.join(map(str, keys))} in {self.file_path!r} (no file "
            f"{prefix}*.npy); checkpoints there: {have}. Give one of those (e.g. the epoch to "
            f"resume from)")

    def serialise_state(self, keys, arrays: dict) -> None:
        """Save ``{name: array}`` as one ``<keys>-irsnn_state.npz`` file (atomically)."""
        os.makedirs(self.file_path, exist_ok=True)
        names = list(arrays)
        members = {f"a{i}": np.asarray(arrays[n]) for i, n in enumerate(names)}
        with atomic_write(self._state_file(keys), "wb") as f:
            np.savez(f, names=np.array(names, dtype=str), **members)

    def deserialise_state(self, keys) -> dict:
        name = self._state_file(keys)
        if not os.path.exists(name):
            return {}
        try:
            with np.load(name, allow_pickle=False) as z:
                names = [str(n) for n in z["names"]]
                return {n: z[f"a{i}"] for i, n in enumerate(names)}
        except (ValueError, OSError, EOFError, KeyError) as exc:
            raise InputError(f"Numpy serialiser: {name} cannot be read ({exc}); it is not a "
                             f"complete training state written by irsnn: save the checkpoint "
                             f"again or remove it") from None

    def state_location(self, keys) -> str:
        return self._state_file(keys)

    def _title(self, keys) -> str:
        return "-".join(file_key(k) for k in keys)

    def _filename(self, keys, suffix):
        return os.path.join(self.file_path, self._title(keys) + suffix)

    def _state_file(self, keys):
        keys = tuple(keys)
        return os.path.join(self.file_path,
                            (self._title(keys) + "-" if keys else "") + STATE_SUFFIX)


def _natural(keys):
    """Sort key putting ``2`` before ``10``."""
    return [(0, int(k), "") if k.isdigit() else (1, 0, k) for k in keys]


def _load(name):
    """``np.load`` of one saved array, or an :class:`InputError` naming the file that cannot
    be read."""
    try:
        return np.load(name, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise InputError(f"Numpy serialiser: {name} cannot be read ({exc}); it is not a "
                         f"complete .npy array (a copy cut short?): save it again or remove "
                         f"it") from None
