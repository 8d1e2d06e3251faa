"""Render checked code as C-family source text.

Requires: code checked by :func:`~.checker.check`, :mod:`.types` and NumPy. Provides
:class:`CStyleRenderer`, :class:`Dialect`, :data:`C99`, :data:`C_HELPERS`,
:data:`c_float_names` / :data:`c_double_names` and :data:`LOCAL_PREFIX`, used by the kernel
backends' dialects.

One :class:`CStyleRenderer` serves every C dialect; dialects differ in data only
(:class:`Dialect`: type names, literal suffixes, function-name tables, helper prelude).
Output is fully parenthesised, every implicit conversion of the language is written as an
explicit cast, and locals are mangled to ``_l_<name>``; non-local names are mapped by the
caller's ``names`` function, intrinsic and rng calls by caller-supplied mappings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from irsnn.lang import ast, limits
from irsnn.lang.errors import LangError
from irsnn.lang.types import TYPES, common_type

__all__ = ["Dialect", "C99", "CStyleRenderer", "LOCAL_PREFIX", "C_HELPERS", "C_MINMAX",
           "c_float_names", "c_double_names", "minmax_names"]

#: Prefix of mangled local names in generated code.
LOCAL_PREFIX = "_l_"

_MATH = ("exp log log1p expm1 exp2 log2 log10 sqrt cbrt fabs floor ceil round trunc sin cos tan "
         "sinh cosh tanh asin acos atan pow fmin fmax fmod atan2 copysign").split()


def _c_float_names():
    names = {n: n + "f" for n in _MATH}
    names.update(min="fminf", max="fmaxf", abs="fabsf")
    return names


def _c_double_names():
    names = {n: n for n in _MATH}
    names.update(min="fmin", max="fmax", abs="fabs")
    return names


#: The guarded integer division and remainder of the language (see :mod:`irsnn.lang`): ``x / 0``
#: is 0, ``x % 0`` is ``x``, ``INT_MIN / -1`` is ``INT_MIN`` and ``INT_MIN % -1`` is 0; nothing
#: traps. Rendered only where the divisor is not a constant other than 0 (and -1 for ``int``).
#: Conversions from floating point to integers saturate (NaN gives 0; C leaves them undefined).
_C99_HELPERS = """\
static inline int irsnn_div_i(int a, int b)
{ return b == 0 ? 0 : (b == -1 ? (int)(0u - (unsigned int)a) : a / b); }
static inline int irsnn_rem_i(int a, int b) { return b == 0 ? a : (b == -1 ? 0 : a % b); }
static inline unsigned int irsnn_div_u(unsigned int a, unsigned int b)
{ return b == 0u ? 0u : a / b; }
static inline unsigned int irsnn_rem_u(unsigned int a, unsigned int b)
{ return b == 0u ? a : a % b; }
static inline int irsnn_f2i(float x)
{ return x != x ? 0 : (x >= 2147483648.0f ? 2147483647 : (x <= -2147483648.0f ? (-2147483647 - 1)
  : (int)x)); }
static inline unsigned int irsnn_f2u(float x)
{ return (x != x || x <= -1.0f) ? 0u : (x >= 4294967296.0f ? 4294967295u : (unsigned int)x); }
#if !defined(__OPENCL_VERSION__) || defined(cl_khr_fp64)
static inline int irsnn_d2i(double x)
{ return x != x ? 0 : (x >= 2147483648.0 ? 2147483647 : (x <= -2147483648.0 ? (-2147483647 - 1)
  : (int)x)); }
static inline unsigned int irsnn_d2u(double x)
{ return (x != x || x <= -1.0) ? 0u : (x >= 4294967296.0 ? 4294967295u : (unsigned int)x); }
#endif
static inline int irsnn_min_i(int a, int b) { return a < b ? a : b; }
static inline int irsnn_max_i(int a, int b) { return a > b ? a : b; }
static inline unsigned int irsnn_min_u(unsigned int a, unsigned int b) { return a < b ? a : b; }
static inline unsigned int irsnn_max_u(unsigned int a, unsigned int b) { return a > b ? a : b; }
"""


@dataclass(frozen=True)
class Dialect:
    """Everything that differs between C-family targets, as data.

    Attributes
    ----------
    type_names : dict
        Spellings of concrete types (keys of :data:`irsnn.lang.types.TYPES`) where the
        dialect differs from the language's canonical name (none of C99, OpenCL C, CUDA does).
    float_suffix, double_suffix, unsigned_suffix : str
        Literal suffixes.
    true_literal, false_literal : str
    float_functions, double_functions, int_functions, unsigned_functions : dict
        Language function name -> target function name, chosen by the (converted) argument
        type of type-generic math functions. An empty target name means identity
        (e.g. ``abs`` of an unsigned value).
    prelude : str
        Includes and helper definitions the generated code needs (emit once per file).
    """

    type_names: dict = field(default_factory=dict)
    float_suffix: str = "f"
    double_suffix: str = ""
    unsigned_suffix: str = "u"
    true_literal: str = "true"
    false_literal: str = "false"
    float_functions: dict = field(default_factory=_c_float_names)
    double_functions: dict = field(default_factory=_c_double_names)
    int_functions: dict = field(default_factory=lambda: {
        "min": "irsnn_min_i", "max": "irsnn_max_i", "abs": "abs"})
    unsigned_functions: dict = field(default_factory=lambda: {
        "min": "irsnn_min_u", "max": "irsnn_max_u", "abs": ""})
    prelude: str = ("#include <math.h>\n#include <stdbool.h>\n#include <stdint.h>\n"
                    "#include <stdlib.h>\n" + _C99_HELPERS)
    #: how helper functions are declared (``static inline``; CUDA adds ``__device__``)
    function_qualifier: str = "static inline"

    def type_name(self, t):
        """Spelling of a concrete type of the language."""
        return self.type_names.get(t, TYPES[t].name)

    def function_name(self, name, t):
        """Target name of math function ``name`` whose arguments have concrete type ``t``."""
        table = {"float": self.float_functions, "double": self.double_functions,
                 "int": self.int_functions, "unsigned int": self.unsigned_functions}[t]
        return table[name]


#: NumPy's ``fmax``/``fmin`` (a NaN argument yields the other one) as plain comparisons: GCC
#: calls libm for ``fmaxf`` (x86's max instruction differs on NaN), which stops loops over
#: neurons from being vectorised
_C99_MINMAX = """\
static inline float irsnn_fmaxf(float a, float b) { return (a >= b || b != b) ? a : b; }
static inline float irsnn_fminf(float a, float b) { return (a <= b || b != b) ? a : b; }
#if !defined(__OPENCL_VERSION__) || defined(cl_khr_fp64)
static inline double irsnn_fmax(double a, double b) { return (a >= b || b != b) ? a : b; }
static inline double irsnn_fmin(double a, double b) { return (a <= b || b != b) ? a : b; }
#endif
"""


def minmax_names(base, suffix):
    """``base`` (a function-name table) with ``fmax``/``fmin``/``max``/``min`` mapped to the
    helpers of :data:`C_MINMAX` (``suffix`` ``"f"`` for float arguments): every dialect
    computes them alike, to the sign of a zero (of two zeros, the first argument)."""
    base = dict(base)
    base.update({name: f"irsnn_{fn}{suffix}" for name, fn in
                 (("fmax", "fmax"), ("max", "fmax"), ("fmin", "fmin"), ("min", "fmin"))})
    return base


def _c99_names(suffix):
    return minmax_names(_c_float_names() if suffix else _c_double_names(), suffix)


#: Plain C99 (``math.h`` float functions such as ``expf`` for float arguments; ``fmax``/``fmin``
#: as inline comparisons).
C99 = Dialect(float_functions=_c99_names("f"), double_functions=_c99_names(""),
              prelude=Dialect().prelude + _C99_MINMAX)


#: Helper functions the rendered code may call (declared ``static inline``)
C_HELPERS = _C99_HELPERS
#: ``fmax``/``fmin`` helpers (see :func:`minmax_names`)
C_MINMAX = _C99_MINMAX
c_float_names = _c_float_names
c_double_names = _c_double_names


class CStyleRenderer:
    """Renders checked code for one :class:`Dialect`.

    Every ``while`` and ``for`` loop is bounded (:data:`irsnn.lang.limits.MAX_LOOP_ITERATIONS`
    iterations per lane and execution of the loop): past the bound, the loop stores its site
    number (1-based, into :attr:`loop_sites`) in the ``int32`` lvalue ``status`` when that is
    still 0, and ends; a loop entered while ``status`` is set ends at once. The host reads the
    status word after the launch and raises
    :func:`~irsnn.lang.limits.loop_limit_error` for the site.

    Parameters
    ----------
    dialect : Dialect
    status : str
        The C lvalue of the status word that loops write (the caller declares it).

    Attributes
    ----------
    loop_sites : list of tuple
        ``(where, line, column, source, limit)`` of every loop rendered, in site order.
    """

    def __init__(self, dialect=C99, status="irsnn_status[0]"):
        self.dialect = dialect
        self.status = status
        self.loop_sites = []

    # -- public --------------------------------------------------------------------------
    def render_expression(self, expr, checked, names, intrinsics=None, rng=None):
        """Render an expression of ``checked.tree`` as one C expression.

        Parameters
        ----------
        expr : ast.Expr
            A node of the checked tree (usually ``checked.tree``).
        checked : Checked
        names : callable
            ``names(symbol) -> str`` for every non-local :class:`Symbol`.
        intrinsics : dict, optional
            name -> ``f(rendered_args: list of str) -> str`` for intrinsic calls.
        rng : dict, optional
            name -> ``f(site: int) -> str`` for ``gennrand_*`` calls; ``site`` is the call-site
            number from ``checked.rng_sites``.

        Returns
        -------
        str
        """
        return _Emit(self, checked, names, intrinsics, rng).expr(expr)

    def render_statements(self, tree, checked, names, intrinsics=None, rng=None, indent="    ",
                          level=0):
        """Render a statement tree; a root :class:`ast.Block` is rendered without braces so
        that its top-level locals stay visible to the blocks rendered after it.

        Parameters are those of :meth:`render_expression` plus ``indent`` (one level) and
        ``level`` (starting depth). Returns the text, one statement per line.
        """
        em = _Emit(self, checked, names, intrinsics, rng)
        em.indent = indent
        stmts = tree.stmts if isinstance(tree, ast.Block) else (tree,)
        out = []
        for s in stmts:
            em.stmt(s, level, out)
        return "\n".join(out) + ("\n" if out else "")


def int_constant(e):
    """The value of ``e`` when it is an integer literal, possibly signed (``-1``, ``+3``);
    None otherwise."""
    if isinstance(e, ast.IntLit):
        return e.value
    if isinstance(e, ast.Unary) and e.op in ("-", "+"):
        v = int_constant(e.operand)
        return None if v is None else (-v if e.op == "-" else v)
    return None


def _branch_free(e) -> bool:
    """True when ``e`` has no calls or array reads (so evaluating it can neither trap, draw
    random numbers nor cost much): ``a && e`` may then be computed without a branch."""
    if isinstance(e, ast.Call | ast.Index):
        return False
    return all(_branch_free(c) for c in _children(e))


def _children(e):
    if isinstance(e, ast.Unary):
        return (e.operand,)
    if isinstance(e, ast.Binary):
        return (e.left, e.right)
    if isinstance(e, ast.Ternary):
        return (e.cond, e.then, e.other)
    if isinstance(e, ast.Cast):
        return (e.operand,)
    return ()


class _Emit:
    def __init__(self, renderer, checked, names, intrinsics, rng):
        self.renderer = renderer
        self.dialect, self.checked, self.names = renderer.dialect, checked, names
        self.intrinsics, self.rng = intrinsics or {}, rng or {}
        self.indent = "    "

    def fail(self, node, what, fix):
        raise LangError(self.checked.where, node.line, node.col, what, fix, self.checked.source)

    def t(self, e):
        return self.checked.types[id(e)]

    def conv(self, text, src, dst):
        if src == dst:
            return text
        if src in ("float", "double") and dst in ("int", "unsigned int"):   # saturating
            return f"irsnn_{src[0]}2{dst[0]}({text})"
        return f"(({self.dialect.type_name(dst)})({text}))"

    def cexpr(self, e, dst):
        return self.conv(self.expr(e), self.t(e), dst)

    def name(self, node):
        sym = self.checked.symbols[id(node)]
        return LOCAL_PREFIX + sym.name if sym.kind == "local" else self.names(sym)

    # -- expressions ---------------------------------------------------------------------
    def expr(self, e):
        d = self.dialect
        if isinstance(e, ast.IntLit):
            return f"{e.value}{d.unsigned_suffix}" if e.unsigned else str(e.value)
        if isinstance(e, ast.FloatLit):
            if self.t(e) == "float":
                return repr(float(np.float32(e.value))) + d.float_suffix
            return repr(e.value) + d.double_suffix
        if isinstance(e, ast.BoolLit):
            return d.true_literal if e.value else d.false_literal
        if isinstance(e, ast.Name):
            return self.name(e)
        if isinstance(e, ast.Index):
            return f"{self.name(e.array)}[{self.expr(e.index)}]"
        if isinstance(e, ast.Unary):
            if e.op == "!":
                return f"(!{self.expr(e.operand)})"
            if e.op == "-" and self.t(e) == "int":   # wraps: -INT_MIN is INT_MIN
                return self.arith("-", "0", self.cexpr(e.operand, "int"), "int")
            return f"({e.op}{self.cexpr(e.operand, self.t(e))})"
        if isinstance(e, ast.Binary):
            lt, rt = self.t(e.left), self.t(e.right)
            if e.op in ("&&", "||"):
                a, b = self.expr(e.left), self.expr(e.right)
                if _branch_free(e.right):
                    # Evaluating a pure, trap-free right operand unconditionally gives the
                    # same value without a branch, so loops stay vectorisable
                    op, b_t = "&" if e.op == "&&" else "|", self.dialect.type_name("bool")
                    return f"(({b_t}){a} {op} ({b_t}){b})"
            else:
                ct = common_type(lt) if e.op in ("<<", ">>") else common_type(lt, rt)
                return self.arith(e.op, self.cexpr(e.left, ct), self.cexpr(e.right, ct), ct,
                                  e.right)
            return f"({a} {e.op} {b})"
        if isinstance(e, ast.Ternary):
            rt = self.t(e)
            return (f"({self.expr(e.cond)} ? {self.cexpr(e.then, rt)} : "
                    f"{self.cexpr(e.other, rt)})")
        if isinstance(e, ast.Cast):
            return self.conv(self.expr(e.operand), self.t(e.operand), self.t(e))
        if isinstance(e, ast.Call):
            return self.call(e)
        raise AssertionError(f"unexpected node {e!r}")

    def arith(self, op, a, b, ct, right=None):
        """``a op b`` in type ``ct`` with the language's integer rules: ``int`` ``+ - *``
        wrap (computed unsigned: no undefined overflow), ``/`` and ``%`` are guarded unless
        the divisor ``right`` is a safe constant, shift counts are taken modulo 32."""
        if ct not in ("int", "unsigned int"):
            return f"({a} {op} {b})"
        k = int_constant(right) if right is not None else None
        i, u = self.dialect.type_name("int"), self.dialect.type_name("unsigned int")
        if op in ("/", "%"):
            if k is None or k == 0 or (k == -1 and ct == "int"):
                fn = "div" if op == "/" else "rem"
                return f"irsnn_{fn}_{'i' if ct == 'int' else 'u'}({a}, {b})"
        elif op in ("<<", ">>"):
            if k is None or not 0 <= k < 32:
                b = f"({b} & 31)"
            if op == "<<" and ct == "int":
                return f"(({i})(({u}){a} << {b}))"
        elif op in ("+", "-", "*") and ct == "int":
            ua, ub = (f"{t}u" if t.isdigit() else f"({u}){t}" for t in (a, b))
            return f"(({i})({ua} {op} {ub}))"
        return f"({a} {op} {b})"

    def call(self, e):
        sig = self.checked.scope.functions[e.func]
        targets = self.checked.arg_types[id(e)]
        args = [self.cexpr(a, t) for a, t in zip(e.args, targets)]
        if sig.kind == "math":
            fname = self.dialect.function_name(e.func, targets[0])
            return f"({args[0]})" if fname == "" else f"{fname}({', '.join(args)})"
        if sig.kind == "rng":
            if e.func not in self.rng:
                self.fail(e, f"the target cannot draw random numbers with '{e.func}'",
                          "pass an rng mapping to the renderer")
            return self.rng[e.func](self.checked.rng_sites[id(e)])
        if e.func not in self.intrinsics:
            self.fail(e, f"'{e.func}' cannot be used in this context",
                      "it is only available where the backend provides it")
        return self.intrinsics[e.func](args)

    # -- statements ----------------------------------------------------------------------
    def simple(self, s):
        """Render a statement that fits in a for header (no trailing ';')."""
        if isinstance(s, ast.Decl):
            t = self.checked.decl_types[id(s)]
            init = self.cexpr(s.init, t) if s.init is not None else (
                self.dialect.false_literal if t == "bool" else "0")
            const = "const " if s.const else ""
            return f"{const}{self.dialect.type_name(t)} {LOCAL_PREFIX}{s.name} = {init}"
        if isinstance(s, ast.Assign):
            tt = self.t(s.target)
            if s.op == "=":
                return f"{self.expr(s.target)} = {self.cexpr(s.value, tt)}"
            ct = common_type(tt, self.t(s.value))
            if ct in ("int", "unsigned int"):   # the integer rules of arith
                value = self.arith(s.op[0], self.cexpr(s.target, ct), self.cexpr(s.value, ct),
                                   ct, s.value)
                return f"{self.expr(s.target)} = {self.conv(value, ct, tt)}"
            return f"{self.expr(s.target)} {s.op} {self.expr(s.value)}"
        if isinstance(s, ast.IncDec):
            ct = common_type(self.t(s.target))
            if ct == "int":
                value = self.arith(s.op[0], self.cexpr(s.target, ct), "1", ct)
                return f"{self.expr(s.target)} = {self.conv(value, ct, self.t(s.target))}"
            return f"{self.expr(s.target)} {s.op[0]}= 1"
        if isinstance(s, ast.ExprStmt):
            return self.expr(s.expr)
        raise AssertionError(f"unexpected node {s!r}")

    def stmt(self, s, level, out):
        pad = self.indent * level
        if isinstance(s, ast.Block):
            out.append(pad + "{")
            for x in s.stmts:
                self.stmt(x, level + 1, out)
            out.append(pad + "}")
        elif isinstance(s, ast.If):
            out.append(f"{pad}if ({self.expr(s.cond)})")
            self.body(s.then, level, out)
            if s.other is not None:
                out.append(pad + "else")
                self.body(s.other, level, out)
        elif isinstance(s, ast.While | ast.For):
            self.loop(s, level, out)
        elif isinstance(s, ast.Empty):
            pass
        else:
            out.append(pad + self.simple(s) + ";")

    def loop(self, s, level, out):
        """A loop with its iteration bound (see :class:`CStyleRenderer`)."""
        r, pad, ind = self.renderer, self.indent * level, self.indent
        limit = limits.MAX_LOOP_ITERATIONS
        r.loop_sites.append((self.checked.where, s.line, s.col, self.checked.source, limit))
        site, n = len(r.loop_sites), f"_loop{len(r.loop_sites)}"
        u = self.dialect.type_name("unsigned int")
        out.append(pad + "{")
        out.append(f"{pad}{ind}{u} {n} = {r.status} != 0 ? {limit}u : 0u;")
        if isinstance(s, ast.While):
            out.append(f"{pad}{ind}while ({self.expr(s.cond)})")
        else:
            init = self.simple(s.init) if s.init is not None else ""
            cond = self.expr(s.cond) if s.cond is not None else ""
            step = self.simple(s.step) if s.step is not None else ""
            out.append(f"{pad}{ind}for ({init}; {cond}; {step})")
        out.append(f"{pad}{ind}{{")
        out.append(f"{pad}{ind * 2}if (++{n} > {limit}u) {{ if ({r.status} == 0) "
                   f"{r.status} = {site}; break; }}")
        body = s.body.stmts if isinstance(s.body, ast.Block) else (s.body,)
        for x in body:
            self.stmt(x, level + 2, out)
        out.append(f"{pad}{ind}}}")
        out.append(pad + "}")

    def body(self, s, level, out):
        self.stmt(s if isinstance(s, ast.Block) else ast.Block((s,)), level, out)
