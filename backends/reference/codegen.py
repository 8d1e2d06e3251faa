"""Code strings -> NumPy callables for the reference backend (via :mod:`irsnn.lang`)."""

from irsnn.lang.render_numpy import compile_numpy


def compile_block(checked):
    """A :class:`~irsnn.lang.render_numpy.NumpyBlock`/``NumpyExpression``, or None if empty."""
    return None if checked is None else compile_numpy(checked)
