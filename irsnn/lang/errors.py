"""Errors of the code-string language and the :class:`Where` that locates a code block.

Requires: :class:`irsnn.errors.IrsnnError`. Provides :class:`Where` (the object and block a
piece of code belongs to, for messages) and :class:`LangError`.
"""

from __future__ import annotations

from dataclasses import dataclass

from irsnn.errors import IrsnnError

__all__ = ["LangError", "Where"]


@dataclass(frozen=True)
class Where:
    """Names the code block being compiled, for error messages.

    Parameters
    ----------
    model : str
        The object that owns the code, e.g. ``"Population 'hidden' (LeakyIntegrateFire)"``.
    block : str
        The code block, e.g. ``"sim_code"`` or ``"threshold_condition_code"``.
    """

    model: str = "<model>"
    block: str = "<code>"

    def __str__(self):
        return f"{self.model}, {self.block}"


#: characters of a code line quoted in an error (longer lines are quoted around the column)
QUOTED_WIDTH = 100


class LangError(IrsnnError, ValueError):
    """A code string does not tokenize, parse or type-check.

    Parameters
    ----------
    where : Where
        The model and code block.
    line, column : int
        1-based position of the offending token (0 when unknown).
    what : str
        What is wrong.
    fix : str
        What to do about it.
    source : str, optional
        The code string; when given, the offending line is quoted with a caret.

    Attributes
    ----------
    where, line, column, what, fix
        As passed, so callers and tests can inspect them.
    """

    def __init__(self, where, line, column, what, fix="", source=None):
        self.where = where if where is not None else Where()
        self.line = line
        self.column = column
        self.what = what
        self.fix = fix
        pos = f", line {line}, column {column}" if line else ""
        msg = f"{self.where}{pos}: {what}"
        if fix:
            msg += f". {fix[0].upper()}{fix[1:]}"
        if source and line:
            lines = source.splitlines()
            if 0 < line <= len(lines):
                text = lines[line - 1].replace("\t", " ")
                caret = max(column - 1, 0)
                if len(text) > QUOTED_WIDTH:   # a window of a long line around the column
                    start = max(0, min(caret - QUOTED_WIDTH // 3, len(text) - QUOTED_WIDTH))
                    text = (("..." if start else "") + text[start:start + QUOTED_WIDTH]
                            + ("..." if start + QUOTED_WIDTH < len(text) else ""))
                    caret += (3 if start else 0) - start
                msg += f"\n    {text}\n    {' ' * caret}^"
        super().__init__(msg)
