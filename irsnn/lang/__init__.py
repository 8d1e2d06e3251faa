"""The code-string language: GeNN-style C-like model code.

Requires: nothing beyond its submodules. Provides the public names of the language:
parsing, checking, scopes and types, the C-family renderer and the NumPy compiler.

Pipeline: :func:`parse_statements` / :func:`parse_expression` -> :func:`check` against a
:class:`Scope` -> :class:`CStyleRenderer` (C-family text) or :func:`compile_numpy`
(vectorised NumPy reference semantics).

Nothing in the language is undefined: integer division and remainder by zero, ``INT_MIN / -1``,
``int`` overflow, shift counts out of range, loops that do not end and nesting past the limits
of :mod:`irsnn.lang.limits` have one meaning (or one error) on every backend, stated in
``docs/language.md``.
"""

from irsnn.lang.checker import Checked, check
from irsnn.lang.errors import LangError, Where
from irsnn.lang.parser import parse_expression, parse_statements
from irsnn.lang.render_c import C99, LOCAL_PREFIX, CStyleRenderer, Dialect
from irsnn.lang.render_numpy import NumpyBlock, NumpyExpression, compile_numpy
from irsnn.lang.types import (FunctionSig, Scope, Symbol, canonical_type_name, math_functions,
                              resolve_type, rng_functions)

__all__ = ["Checked", "check", "LangError", "Where", "canonical_type_name", "parse_expression",
           "parse_statements", "C99", "LOCAL_PREFIX", "CStyleRenderer", "Dialect", "NumpyBlock",
           "NumpyExpression", "compile_numpy", "FunctionSig", "Scope", "Symbol",
           "math_functions", "resolve_type", "rng_functions"]
