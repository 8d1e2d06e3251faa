"""Where in the user's code an object was created.

Requires: the standard library only. Provides :func:`user_location`, the ``file:line``
that populations, connections and layers keep for error messages.
"""

from __future__ import annotations

import os
import sys

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _inside_package(filename: str) -> bool:
    path = os.path.abspath(filename)
    return path == _PACKAGE_DIR or path.startswith(_PACKAGE_DIR + os.sep)


def user_location() -> str:
    """Return ``"file.py:42"`` for the innermost stack frame outside the irsnn package.

    Returns ``"<unknown>"`` when every frame is inside irsnn (or the stack is unavailable).
    """
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not _inside_package(filename):
            return f"{os.path.basename(filename)}:{frame.f_lineno}"
        frame = frame.f_back
    return "<unknown>"
