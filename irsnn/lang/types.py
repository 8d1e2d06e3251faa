"""Types, symbols, function signatures and scopes of the code-string language.

Requires: NumPy. Provides :data:`TYPES`, the one table of the language's types, from which
every other type table in irsnn is derived (the NumPy renderer's dtypes, the host's initial
values, kernel buffer element types, the C dialects' spellings), and the language's symbols,
function signatures and scopes.

Concrete types are ``bool``, ``int``, ``unsigned int``, ``float`` and ``double``;
``scalar`` is resolved to the scope's precision (``"float"`` by default). Math functions are
type-generic: ``GENFLOAT`` arguments are converted to their common floating type (integers
to the precision), ``GENNUM`` arguments to their common arithmetic type (so ``min`` of two
ints is an int).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import numpy as np

__all__ = ["TypeInfo", "TYPES", "C_DTYPES", "TYPE_SPELLINGS", "FLOAT_TYPES", "INT_TYPES",
           "CONCRETE_TYPES", "GENFLOAT", "GENNUM", "VOID", "canonical_type_name", "resolve_type",
           "type_info", "common_type", "Symbol", "FunctionSig", "Scope", "math_functions",
           "rng_functions"]


@dataclass(frozen=True)
class TypeInfo:
    """One concrete type of the language.

    Attributes
    ----------
    name : str
        The canonical language name (``"unsigned int"``), also its spelling in C-family code.
    dtype : type
        The NumPy scalar type holding its values (``np.uint32``).
    c_name : str
        The C99 name of a buffer element of this type, fixed-width for integers
        (``"uint32_t"``).
    spellings : tuple of str
        Every spelling model code may use for it (``"unsigned"``, ``"uint32_t"``, ...).
    """

    name: str
    dtype: type
    c_name: str
    spellings: tuple = ()

    @property
    def size(self) -> int:
        """Bytes per value."""
        return np.dtype(self.dtype).itemsize


#: The language's concrete types by canonical name, in C's conversion rank (lowest first).
TYPES = {t.name: t for t in (
    TypeInfo("bool", np.bool_, "bool", ("bool",)),
    TypeInfo("int", np.int32, "int32_t", ("int", "int32_t")),
    TypeInfo("unsigned int", np.uint32, "uint32_t", ("unsigned int", "unsigned", "uint32_t")),
    TypeInfo("float", np.float32, "float", ("float",)),
    TypeInfo("double", np.float64, "double", ("double",)),
)}
#: Spelled type name -> canonical name; ``scalar`` (the model's precision) stays ``scalar``.
TYPE_SPELLINGS = {"scalar": "scalar", **{s: t.name for t in TYPES.values() for s in t.spellings}}
#: C99 element type of a kernel buffer -> NumPy scalar type: the language's types plus the
#: narrow integers kernels use for flags and signs.
C_DTYPES = {**{t.c_name: t.dtype for t in TYPES.values()}, "int8_t": np.int8}

FLOAT_TYPES = ("float", "double")
INT_TYPES = ("int", "unsigned int")
CONCRETE_TYPES = tuple(TYPES)
_RANK = {t: i for i, t in enumerate(CONCRETE_TYPES)}
#: Marker in :class:`FunctionSig`: a floating argument/result of the common floating type.
GENFLOAT = "genfloat"
#: Marker in :class:`FunctionSig`: an arithmetic argument/result of the common type.
GENNUM = "gennum"
#: Return type of functions that return nothing (intrinsics).
VOID = "void"
_IDENT = re.compile(r"[A-Za-z][A-Za-z_0-9]*")


def canonical_type_name(spelled):
    """Map a spelled type (``"uint32_t"``, ``"unsigned"``, ...) to its canonical name.

    Returns one of ``scalar, float, double, int, unsigned int, bool`` or None if unknown.
    """
    return TYPE_SPELLINGS.get(" ".join(str(spelled).split()))


def _check_name(name, what):
    if not isinstance(name, str) or not _IDENT.fullmatch(name):
        raise ValueError(f"{what} name {name!r} is not a valid identifier; use letters, digits "
                         "and '_', starting with a letter")


def resolve_type(name, precision="float"):
    """Return the concrete type for a spelled type name; ``scalar`` becomes ``precision``.

    Raises
    ------
    ValueError
        If ``name`` is not a type of the language.
    """
    canon = canonical_type_name(name)
    if canon is None:
        raise ValueError(f"unknown type {name!r}; use scalar, float, double, int, "
                         "unsigned int (uint32_t) or bool")
    if canon == "scalar":
        canon = canonical_type_name(precision)
        if canon not in FLOAT_TYPES:
            raise ValueError(f"precision must be 'float' or 'double', not {precision!r}")
    return canon


def type_info(name, precision="float"):
    """The :class:`TypeInfo` of a spelled type name; ``scalar`` becomes ``precision``.

    Raises
    ------
    ValueError
        If ``name`` is not a type of the language (see :func:`resolve_type`).
    """
    return TYPES[resolve_type(name, precision)]


def common_type(*types):
    """C's usual arithmetic conversions on concrete types (bool promotes to int)."""
    t = max(types, key=_RANK.__getitem__)
    return "int" if t == "bool" else t


@dataclass(frozen=True)
class Symbol:
    """A name visible to model code.

    Parameters
    ----------
    name : str
    type : str
        Any spelling accepted by :func:`resolve_type`, including ``"scalar"``.
    kind : str
        ``"var"``, ``"param"``, ``"builtin"``, ``"egp"`` or ``"local"``.
    writable : bool
    is_array : bool
        Arrays (extra global parameters) must be indexed: ``SpikeTimes[i]``.
    """

    name: str
    type: str
    kind: str = "var"
    writable: bool = False
    is_array: bool = False

    def __post_init__(self):
        _check_name(self.name, "Symbol")
        if self.kind not in ("var", "param", "builtin", "egp", "local"):
            raise ValueError(f"Symbol {self.name!r}: kind must be var, param, builtin, egp or "
                             f"local, not {self.kind!r}")


@dataclass(frozen=True)
class FunctionSig:
    """A callable function.

    Parameters
    ----------
    name : str
    arg_types : tuple of str
        Concrete/spelled types, or :data:`GENFLOAT` / :data:`GENNUM`.
    return_type : str
        A type, :data:`GENFLOAT`, :data:`GENNUM` or :data:`VOID`.
    kind : str
        ``"math"``, ``"rng"`` or ``"intrinsic"`` (side-effecting, rendered by the caller).
    """

    name: str
    arg_types: tuple
    return_type: str
    kind: str = "intrinsic"

    def __post_init__(self):
        _check_name(self.name, "FunctionSig")
        object.__setattr__(self, "arg_types", tuple(self.arg_types))
        if self.kind not in ("math", "rng", "intrinsic"):
            raise ValueError(f"FunctionSig {self.name!r}: kind must be math, rng or intrinsic")


_UNARY_MATH = ("exp log log1p expm1 exp2 log2 log10 sqrt cbrt fabs floor ceil round trunc sin cos "
               "tan sinh cosh tanh asin acos atan").split()
_BINARY_MATH = ("pow", "fmin", "fmax", "fmod", "atan2", "copysign")


def math_functions():
    """The standard math functions as a dict name -> :class:`FunctionSig`."""
    fns = {n: FunctionSig(n, (GENFLOAT,), GENFLOAT, "math") for n in _UNARY_MATH}
    fns.update({n: FunctionSig(n, (GENFLOAT, GENFLOAT), GENFLOAT, "math") for n in _BINARY_MATH})
    fns.update({n: FunctionSig(n, (GENNUM, GENNUM), GENNUM, "math") for n in ("min", "max")})
    fns["abs"] = FunctionSig("abs", (GENNUM,), GENNUM, "math")
    return fns


def rng_functions():
    """``gennrand_uniform()``, ``gennrand_normal()``, ``gennrand_exponential()`` (scalar)."""
    return {n: FunctionSig(n, (), "scalar", "rng")
            for n in ("gennrand_uniform", "gennrand_normal", "gennrand_exponential")}


@dataclass
class Scope:
    """The names and functions a code block may use.

    Parameters
    ----------
    symbols : dict of str -> Symbol, or iterable of Symbol
        An iterable may also contain :class:`FunctionSig` objects (moved to ``functions``).
    functions : dict of str -> FunctionSig, or iterable of FunctionSig
    precision : str
        What ``scalar`` means: ``"float"`` (default) or ``"double"``.
    next_rng_site : int
        Number given to the next rng call site; :func:`~irsnn.lang.checker.check` numbers
        the sites of a block from here and ``scope_after`` continues the count.
    """

    symbols: dict = field(default_factory=dict)
    functions: dict = field(default_factory=dict)
    precision: str = "float"
    next_rng_site: int = 0

    def __post_init__(self):
        if not isinstance(self.symbols, dict):
            items = list(self.symbols)
            self.symbols = {s.name: s for s in items if not isinstance(s, FunctionSig)}
            if not isinstance(self.functions, dict):
                self.functions = list(self.functions)
            self.functions = dict(self.functions if isinstance(self.functions, dict) else
                                  {f.name: f for f in self.functions})
            self.functions.update({f.name: f for f in items if isinstance(f, FunctionSig)})
        if not isinstance(self.functions, dict):
            self.functions = {f.name: f for f in self.functions}
        self.symbols, self.functions = dict(self.symbols), dict(self.functions)
        resolve_type("scalar", self.precision)

    def with_math(self):
        """Add the standard math functions (in place); returns self."""
        self.functions.update(math_functions())
        return self

    def with_rng(self):
        """Add the rng functions (in place); returns self."""
        self.functions.update(rng_functions())
        return self

    def add(self, *items):
        """Add :class:`Symbol` and :class:`FunctionSig` objects (in place); returns self."""
        for it in items:
            (self.functions if isinstance(it, FunctionSig) else self.symbols)[it.name] = it
        return self

    def copy(self, **changes):
        """A copy (dicts copied) with the given fields replaced."""
        return replace(self, symbols=dict(self.symbols), functions=dict(self.functions),
                       **changes)

    def type_of(self, symbol):
        """The concrete type of a :class:`Symbol` in this scope."""
        return resolve_type(symbol.type, self.precision)
