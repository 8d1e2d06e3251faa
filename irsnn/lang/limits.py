"""The language's limits, the same on every backend (documented in ``docs/language.md``).

Requires: :mod:`.errors`. Provides the limits as module constants and :func:`loop_limit_error`,
the one error every backend raises for a loop that ran past :data:`MAX_LOOP_ITERATIONS`.

The renderers read the constants when they generate code (not at import), so a test may lower
:data:`MAX_LOOP_ITERATIONS` with ``monkeypatch`` and get the same bound on every backend.
"""

from __future__ import annotations

from irsnn.lang.errors import LangError

__all__ = ["MAX_LOOP_ITERATIONS", "MAX_EXPRESSION_DEPTH", "MAX_STATEMENT_DEPTH",
           "MAX_LOOP_DEPTH", "loop_limit_error"]

#: A loop whose body has run this many times for one neuron (one lane) in one execution of the
#: loop and whose condition is still true stops the run: the reference raises at once, C,
#: OpenCL and CUDA leave the loop, set a status word and the host raises after the launch.
MAX_LOOP_ITERATIONS = 10**6

#: Levels an expression may nest: every operator, call, array index, cast and conditional
#: adds one level above its operands, and so does every pair of parentheses. A chain
#: ``a + b + c`` of ``n`` operators nests ``n`` levels, so one sum has at most 65 terms.
#: Chosen so the generated Python (the reference), C, OpenCL C (Clang's 256 brackets) and
#: CUDA stay well inside their compilers' limits.
MAX_EXPRESSION_DEPTH = 64
#: Levels statements may nest: the body of an ``if``, ``else``, ``while`` or ``for`` and a
#: braced block each add one (braces around a body add nothing more; ``else if`` adds one).
MAX_STATEMENT_DEPTH = 32
#: ``while`` and ``for`` loops nested in each other (within :data:`MAX_STATEMENT_DEPTH`);
#: the reference runs each loop as a Python loop, and Python nests at most 20 blocks.
MAX_LOOP_DEPTH = 16


def loop_limit_error(where, line, col, source, limit=None):
    """The :class:`LangError` of a loop that ran past the bound (every backend raises this).

    Parameters
    ----------
    where : Where
        The model and code block of the loop.
    line, col : int
        The loop's position in the code.
    source : str or None
        The code, quoted in the message.
    limit : int, optional
        The bound the code was generated with (default: :data:`MAX_LOOP_ITERATIONS`).
    """
    limit = MAX_LOOP_ITERATIONS if limit is None else limit
    return LangError(where, line, col,
                     f"this loop ran {limit} iterations and its condition was still true (the "
                     f"bound on every loop; the run was stopped)",
                     "check that the condition becomes false, or loop fewer times", source)
