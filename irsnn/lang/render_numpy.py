"""Compile checked code into vectorised NumPy callables (the reference semantics).

Requires: code checked by :func:`~.checker.check`, :mod:`.types` and NumPy. Provides
:func:`compile_numpy`, its results :class:`NumpyBlock` and :class:`NumpyExpression`,
:data:`DTYPES` and :data:`MAX_LOOP_ITERATIONS`; the reference backend runs model code with it.

Python source is generated from the validated AST (every identifier is resolved and mangled,
so no user text reaches the generated source) and compiled with :func:`compile`; the source
is kept as ``.source``. All lanes (array elements) execute in lockstep: ``if``/``else`` and
``?:`` become masks and ``np.where``, loops run while any lane is active. Values keep the
language's types exactly (float32 stays float32), integer ``/`` and ``%`` truncate toward zero
as in C, so C backends can be compared bit for bit.
"""

from __future__ import annotations

import numpy as np

from irsnn.lang import ast, limits
from irsnn.lang.errors import LangError
from irsnn.lang.render_c import LOCAL_PREFIX
from irsnn.lang.types import TYPES, common_type

__all__ = ["NumpyBlock", "NumpyExpression", "compile_numpy", "DTYPES", "MAX_LOOP_ITERATIONS"]

#: numpy dtype of each concrete type (from :data:`irsnn.lang.types.TYPES`).
DTYPES = {name: t.dtype for name, t in TYPES.items()}
#: A loop still running after this many iterations raises :class:`LangError` (the bound of
#: every backend, :data:`irsnn.lang.limits.MAX_LOOP_ITERATIONS`, read when code is compiled).
MAX_LOOP_ITERATIONS = limits.MAX_LOOP_ITERATIONS
_TAG = {"float": "f32", "double": "f64", "int": "i32", "unsigned int": "u32", "bool": "b"}


def _cround(x):
    t = np.trunc(x)
    return np.where(np.abs(x - t) >= 0.5, t + np.sign(x), t).astype(np.asarray(x).dtype)


def _idiv(a, b):
    """``int`` ``a / b`` truncated toward zero; ``a / 0`` is 0, ``INT_MIN / -1`` is INT_MIN."""
    b = np.asarray(b)
    safe = np.where((b == 0) | (b == -1), 1, b).astype(b.dtype)
    q = (a - np.fmod(a, safe)) // safe
    return np.where(b == 0, 0, np.where(b == -1, np.negative(a), q)).astype(b.dtype)


def _irem(a, b):
    """``int`` ``a % b`` with the sign of ``a``; ``a % 0`` is ``a``, ``a % -1`` is 0."""
    b = np.asarray(b)
    safe = np.where((b == 0) | (b == -1), 1, b).astype(b.dtype)
    return np.where(b == 0, a, np.where(b == -1, 0, np.fmod(a, safe))).astype(b.dtype)


def _udiv(a, b):
    """``unsigned int`` ``a / b``; ``a / 0`` is 0."""
    b = np.asarray(b)
    return np.where(b == 0, 0, a // np.where(b == 0, 1, b).astype(b.dtype)).astype(b.dtype)


def _urem(a, b):
    """``unsigned int`` ``a % b``; ``a % 0`` is ``a``."""
    b = np.asarray(b)
    return np.where(b == 0, a, a % np.where(b == 0, 1, b).astype(b.dtype)).astype(b.dtype)


def _to_int(x, dtype):
    """Floating point to ``int``/``unsigned int`` as the language converts: truncation toward
    zero, saturating at the type's range, NaN to 0."""
    x = np.asarray(x)
    info = np.iinfo(dtype)
    with np.errstate(all="ignore"):
        t = np.where(np.isnan(x) | (x <= info.min - 1.0) | (x >= info.max + 1.0), 0, x)
        out = np.where(x >= info.max + 1.0, info.max,
                       np.where(x <= info.min - 1.0, info.min, t.astype(dtype)))
    return out.astype(dtype)


def _index(arr, i):
    if arr.size == 0:
        return np.zeros(np.shape(i), arr.dtype)
    return arr[np.clip(i, 0, arr.size - 1)]


def _fit(new, old):
    if np.shape(new) != np.shape(old):
        return np.broadcast_to(new, np.shape(old)).copy()
    return new


_FLOAT_FUNCS = {n: getattr(np, n) for n in (
    "exp log log1p expm1 exp2 log2 log10 sqrt cbrt fabs floor ceil trunc sin cos tan sinh cosh "
    "tanh fmod copysign").split()}


def _fmax(a, b):
    """``fmax`` as every backend computes it: ``a`` when ``a >= b`` or ``b`` is NaN, else ``b``
    (so of two zeros, the first; NumPy's own ``fmax`` picks either, depending on its loop)."""
    a, b = np.asarray(a), np.asarray(b)
    return np.where((a >= b) | (b != b), a, b).astype(np.result_type(a, b))


def _fmin(a, b):
    """``fmin``: ``a`` when ``a <= b`` or ``b`` is NaN, else ``b`` (see :func:`_fmax`)."""
    a, b = np.asarray(a), np.asarray(b)
    return np.where((a <= b) | (b != b), a, b).astype(np.result_type(a, b))


def _cpow(x, y):
    """``pow`` as C99 (Annex F) defines it: NumPy's ``power`` gives NaN for ``pow(-inf, 0.5)``
    and ``-0`` for ``pow(-0, 0.5)``, where C gives ``+inf`` and ``+0``: for ``x`` a negative zero
    or minus infinity and ``y`` not an odd integer, the result is that of ``-x`` (found by the
    fuzzer)."""
    x, y = np.asarray(x), np.asarray(y)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        odd = np.isfinite(y) & (y == np.trunc(y)) & (np.fmod(y, 2) != 0)
        mirrored = np.signbit(x) & ((x == 0) | np.isinf(x)) & ~odd & ~np.isnan(y)
        return np.where(mirrored, np.power(-x, y), np.power(x, y)).astype(np.result_type(x, y))


_FLOAT_FUNCS.update(asin=np.arcsin, acos=np.arccos, atan=np.arctan, atan2=np.arctan2,
                    pow=_cpow, round=_cround, fmin=_fmin, fmax=_fmax, min=_fmin, max=_fmax,
                    abs=np.fabs)
_INT_FUNCS = {"min": np.minimum, "max": np.maximum, "abs": np.abs}
_UINT_FUNCS = {"min": np.minimum, "max": np.maximum, "abs": None}


class _Gen:
    def __init__(self, checked):
        self.checked = checked
        self.ns = {"np": np, "_cround": _cround, "_idiv": _idiv, "_irem": _irem, "_udiv": _udiv,
                   "_urem": _urem, "_to_int": _to_int, "_index": _index, "_fit": _fit}
        for t, dt in DTYPES.items():
            self.ns["_" + _TAG[t]] = dt
        self.consts = {}
        self.lines = []
        self.counter = 0
        self.uses_rng = False

    def tmp(self, prefix):
        self.counter += 1
        return f"_{prefix}{self.counter}"

    def const(self, value, t):
        key = (t, repr(value))
        if key not in self.consts:
            name = f"_k{len(self.consts)}"
            self.consts[key] = name
            self.ns[name] = DTYPES[t](value)
        return self.consts[key]

    def t(self, e):
        return self.checked.types[id(e)]

    def conv(self, text, src, dst):
        if src == dst:
            return text
        if src in ("float", "double") and dst in ("int", "unsigned int"):
            return f"_to_int({text}, _{_TAG[dst]})"
        return f"np.asarray({text}, dtype=_{_TAG[dst]})"

    def cexpr(self, e, dst):
        if isinstance(e, (ast.IntLit, ast.FloatLit, ast.BoolLit)) and self.t(e) != dst:
            value = DTYPES[self.t(e)](e.value)
            if self.t(e) in ("float", "double") and dst in ("int", "unsigned int"):
                return self.const(_to_int(value, DTYPES[dst])[()], dst)
            return self.const(DTYPES[dst](value), dst)
        return self.conv(self.expr(e), self.t(e), dst)

    def truth(self, e):
        return self.expr(e) if self.t(e) == "bool" else f"({self.expr(e)} != 0)"

    def var(self, node):
        sym = self.checked.symbols[id(node)]
        if sym.kind == "local" and sym.name not in self.checked.scope.symbols:
            return LOCAL_PREFIX + sym.name
        return "_v_" + sym.name

    # -- expressions ---------------------------------------------------------------------
    def expr(self, e):
        if isinstance(e, (ast.IntLit, ast.FloatLit, ast.BoolLit)):
            return self.const(e.value, self.t(e))
        if isinstance(e, ast.Name):
            return self.var(e)
        if isinstance(e, ast.Index):
            return f"_index({self.var(e.array)}, {self.expr(e.index)})"
        if isinstance(e, ast.Unary):
            if e.op == "!":
                return f"np.logical_not({self.expr(e.operand)})"
            a = self.cexpr(e.operand, self.t(e))
            return {"-": f"(-{a})", "+": a, "~": f"np.invert({a})"}[e.op]
        if isinstance(e, ast.Binary):
            return self.binary(e)
        if isinstance(e, ast.Ternary):
            rt = self.t(e)
            return (f"np.where({self.truth(e.cond)}, {self.cexpr(e.then, rt)}, "
                    f"{self.cexpr(e.other, rt)})")
        if isinstance(e, ast.Cast):
            return self.cexpr(e.operand, self.t(e))
        if isinstance(e, ast.Call):
            return self.call(e)
        raise AssertionError(f"unexpected node {e!r}")

    def binary(self, e):
        op, lt, rt = e.op, self.t(e.left), self.t(e.right)
        if op in ("&&", "||"):
            fn = "logical_and" if op == "&&" else "logical_or"
            return f"np.{fn}({self.expr(e.left)}, {self.expr(e.right)})"
        ct = common_type(lt) if op in ("<<", ">>") else common_type(lt, rt)
        a, b = self.cexpr(e.left, ct), self.cexpr(e.right, ct)
        return self.arith(op, a, b, ct)

    def arith(self, op, a, b, ct):
        """``a op b`` in type ``ct`` (the language's integer rules: NumPy's integers wrap;
        guarded ``/`` and ``%``; shift counts modulo 32)."""
        if ct in ("int", "unsigned int"):
            tag = "i" if ct == "int" else "u"
            if op == "/":
                return f"_{tag}div({a}, {b})"
            if op == "%":
                return f"_{tag}rem({a}, {b})"
            if op in ("<<", ">>"):
                fn = "left_shift" if op == "<<" else "right_shift"
                return f"np.{fn}({a}, np.bitwise_and({b}, {self.const(31, ct)}))"
        return f"({a} {op} {b})"

    def call(self, e):
        sig = self.checked.scope.functions[e.func]
        targets = self.checked.arg_types[id(e)]
        args = [self.cexpr(a, t) for a, t in zip(e.args, targets)]
        if sig.kind == "math":
            t = targets[0]
            table = _FLOAT_FUNCS if t in ("float", "double") else (
                _INT_FUNCS if t == "int" else _UINT_FUNCS)
            fn = table[e.func]
            if fn is None:
                return args[0]
            name = f"_f_{e.func}_{_TAG[t]}"
            self.ns[name] = fn
            return f"{name}({', '.join(args)})"
        if sig.kind == "rng":
            self.uses_rng = True
            method = e.func[len("gennrand_"):]
            draw = f"_rng.{method}({self.checked.rng_sites[id(e)]}, _shape)"
            return self.conv(draw, "double", self.t(e)) if self.t(e) != "double" else \
                f"np.asarray({draw}, dtype=_f64)"
        self.intrinsics_used.add(e.func)
        return f"_i_{e.func}({', '.join([self.mask or 'None'] + args)})"

    # -- statements ----------------------------------------------------------------------
    def emit(self, level, text):
        self.lines.append("    " * level + text)

    def assign(self, target, value, level):
        if isinstance(target, ast.Index):
            self.emit(level, f"_store({self.var(target.array)}, {self.expr(target.index)}, "
                             f"{value}, {self.mask or 'None'}, {target.line}, {target.col})")
        elif self.mask is None:
            self.emit(level, f"{self.var(target)} = {value}")
        else:
            v = self.var(target)
            self.emit(level, f"{v} = np.where({self.mask}, {value}, {v})")

    def stmt(self, s, level):
        if isinstance(s, ast.Block):
            for x in s.stmts:
                self.stmt(x, level)
            if not s.stmts:
                self.emit(level, "pass")
        elif isinstance(s, ast.Decl):
            t = self.checked.decl_types[id(s)]
            init = self.cexpr(s.init, t) if s.init is not None else self.const(0, t)
            self.emit(level, f"{LOCAL_PREFIX}{s.name} = {init}")
        elif isinstance(s, ast.Assign):
            tt, vt = self.t(s.target), self.t(s.value)
            if s.op == "=":
                value = self.cexpr(s.value, tt)
            else:
                ct = common_type(tt, vt)
                value = self.conv(self.arith(s.op[0], self.cexpr(s.target, ct),
                                             self.cexpr(s.value, ct), ct), ct, tt)
            self.assign(s.target, value, level)
        elif isinstance(s, ast.IncDec):
            tt = self.t(s.target)
            ct = common_type(tt)
            value = self.conv(f"({self.cexpr(s.target, ct)} {s.op[0]} {self.const(1, ct)})",
                              ct, tt)
            self.assign(s.target, value, level)
        elif isinstance(s, ast.ExprStmt):
            self.emit(level, self.expr(s.expr))
        elif isinstance(s, ast.If):
            self.branch(s, level)
        elif isinstance(s, (ast.While, ast.For)):
            self.loop(s, level)
        elif isinstance(s, ast.Empty):
            self.emit(level, "pass")
        else:
            raise AssertionError(f"unexpected node {s!r}")

    def masked(self, cond_text):
        return cond_text if self.mask is None else f"np.logical_and({self.mask}, {cond_text})"

    def branch(self, s, level):
        outer = self.mask
        c = self.tmp("c")
        self.emit(level, f"{c} = {self.truth(s.cond)}")
        for body, cond in ((s.then, c), (s.other, f"np.logical_not({c})")):
            if body is None:
                continue
            m = self.tmp("m")
            self.mask = outer
            self.emit(level, f"{m} = {self.masked(cond)}")
            self.emit(level, f"if np.any({m}):")
            self.mask = m
            self.stmt(body, level + 1)
        self.mask = outer

    def loop(self, s, level):
        outer = self.mask
        if isinstance(s, ast.For) and s.init is not None:
            self.stmt(s.init, level)
        m, n = self.tmp("m"), self.tmp("n")
        cond = self.truth(s.cond) if s.cond is not None else self.const(True, "bool")
        self.emit(level, f"{m} = {self.masked(cond)}")
        self.emit(level, f"{n} = 0")
        self.emit(level, f"while np.any({m}):")
        self.emit(level + 1, f"{n} += 1")
        self.emit(level + 1, f"if {n} > {limits.MAX_LOOP_ITERATIONS}: "
                             f"_loop_error({s.line}, {s.col}, {limits.MAX_LOOP_ITERATIONS})")
        self.mask = m
        self.stmt(s.body, level + 1)
        if isinstance(s, ast.For) and s.step is not None:
            self.stmt(s.step, level + 1)
        self.emit(level + 1, f"{m} = np.logical_and({m}, {cond})")
        self.mask = outer

    # -- whole function ------------------------------------------------------------------
    def function(self, masked):
        c = self.checked
        self.mask = "mask" if masked else None
        self.intrinsics_used = set()
        body_start = len(self.lines)
        is_expr = isinstance(c.tree, ast.Expr)
        if is_expr:
            result = self.expr(c.tree)
        else:
            self.stmt(c.tree, 2)
        body = self.lines[body_start:]
        del self.lines[body_start:]
        head = ["def _run(env, mask=None):", "    with np.errstate(all='ignore'):"]
        if masked:
            head.append("        mask = np.asarray(mask, dtype=bool)")
        for name in sorted(c.reads | c.writes):
            sym = c.scope.symbols[name]
            dt = _TAG[c.scope.type_of(sym)]
            load = f"np.asarray(env[{name!r}], dtype=_{dt})"
            head.append(f"        _v_{name} = {load}" + (".reshape(-1)" if sym.is_array else ""))
        if self.uses_rng:
            head.append("        _rng = env['__rng__']")
            head.append("        _shape = env.get('__shape__')")
            head.append("        if _shape is None: _shape = _lane_shape(env, "
                        f"{sorted(c.reads | c.writes)!r})")
        if self.intrinsics_used:
            head.append("        _intr = env['__intrinsics__']")
            for name in sorted(self.intrinsics_used):
                head.append(f"        _i_{name} = _intr[{name!r}]")
        tail = []
        if is_expr:
            tail.append(f"        return {result}")
        else:
            for name in sorted(c.writes):
                tail.append(f"        env[{name!r}] = _fit(_v_{name}, env[{name!r}])")
            for name in c.locals:
                tail.append(f"        env[{name!r}] = {LOCAL_PREFIX}{name}")
        return "\n".join(head + body + tail) + "\n"


def _make_store(where, source):
    def _store(arr, i, v, mask, line, col):
        i, v = np.broadcast_arrays(np.asarray(i), np.asarray(v, dtype=arr.dtype))
        if mask is not None:
            sel = np.broadcast_to(mask, i.shape)
            i, v = i[sel], v[sel]
        if np.any(i < 0) or np.any(i >= arr.size):
            raise LangError(where, line, col, f"array index out of range 0..{arr.size - 1}",
                            "check the index expression", source)
        arr[i] = v
    return _store


class _Compiled:
    def __init__(self, checked):
        self.checked = checked
        self._fns = {}
        self.masked_source = None
        self.source = self._build(False)

    def _build(self, masked):
        c = self.checked
        gen = _Gen(c)

        def _loop_error(line, col, limit):
            raise limits.loop_limit_error(c.where, line, col, c.source, limit)

        def _lane_shape(env, names):
            return np.broadcast_shapes(*(np.shape(env[n]) for n in names
                                         if not c.scope.symbols[n].is_array))

        src = gen.function(masked)
        gen.ns.update(_loop_error=_loop_error, _lane_shape=_lane_shape,
                      _store=_make_store(c.where, c.source))
        code = compile(src, f"<irsnn {c.where}>".replace("\0", "\\0"), "exec")  # no NUL
        exec(code, gen.ns)  # noqa: S102 - generated from the checked AST only
        self._fns[masked] = gen.ns["_run"]
        return src


class NumpyBlock(_Compiled):
    """A compiled statement block.

    Attributes
    ----------
    source : str
        The generated Python source (unmasked variant).
    masked_source : str or None
        The source of the masked variant, once a run with ``mask`` has built it.
    checked : Checked
    """

    def run(self, env, mask=None):
        """Execute the block on ``env`` in place.

        Parameters
        ----------
        env : dict
            name -> numpy array (one element per lane, all broadcastable) or scalar, for every
            name in ``checked.reads | checked.writes``; plus ``"__rng__"`` (an object with
            ``uniform/normal/exponential(site, shape)``), ``"__shape__"`` (lane shape; else the
            broadcast shape of the inputs) and ``"__intrinsics__"`` (name ->
            ``f(mask, *args)``) when the code uses them. Written names and top-level locals
            are rebound in ``env`` (arrays are never modified in place, except elements of
            written array parameters).
        mask : array of bool, optional
            Only lanes where the mask is true execute.
        """
        if mask is None:
            self._fns[False](env)
        else:
            if True not in self._fns:
                self.masked_source = self._build(True)
            self._fns[True](env, mask)


class NumpyExpression(_Compiled):
    """A compiled expression; ``evaluate(env)`` returns its value (typed as checked)."""

    def evaluate(self, env):
        """Evaluate on ``env`` (see :meth:`NumpyBlock.run`); returns a numpy value."""
        return self._fns[False](env)

    __call__ = evaluate


def compile_numpy(checked):
    """Compile a :class:`~irsnn.lang.checker.Checked` tree.

    Returns
    -------
    NumpyBlock or NumpyExpression
        Depending on whether ``checked.tree`` is a statement block or an expression.
    """
    if isinstance(checked.tree, ast.Expr):
        return NumpyExpression(checked)
    return NumpyBlock(checked)
