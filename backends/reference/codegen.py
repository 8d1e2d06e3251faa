"""Code strings -> NumPy callables for the reference backend (via :mod:`irsnn.lang`).

Requires: :func:`irsnn.lang.render_numpy.compile_numpy`. Provides
:func:`compile_block`, used by the reference simulation and its learning.
"""

from irsnn.lang.render_numpy import compile_numpy


def compile_block(checked):
    """A :class:`~irsnn.lang.render_numpy.NumpyBlock`/``NumpyExpression``, or None if empty."""
    return None if checked is None else compile_numpy(checked)
