"""Files that are either written completely or not at all.

Requires: the standard library only. Provides :func:`atomic_write`, used for checkpoints and
training logs: the content goes to a temporary file beside the target, which replaces the
target only once it is complete, so a process killed mid-write leaves the previous file (or
none), never a truncated one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb", **open_kwargs):
    """Open a temporary file beside ``path`` for writing; on leaving the block without an
    error it replaces ``path`` (``os.replace``: atomic on one file system), otherwise it is
    removed and ``path`` is untouched.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    mode : str
        ``"wb"`` or ``"w"`` (text; ``open_kwargs`` such as ``newline=""`` apply).
    """
    path = os.fspath(path)
    folder, name = os.path.split(path)
    fd, tmp = tempfile.mkstemp(dir=folder or ".", prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **open_kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


__all__ = ["atomic_write"]
