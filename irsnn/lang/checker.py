"""Name resolution and type checking of parsed code.

Requires: :mod:`.ast`, :mod:`.types` and :mod:`.errors`. Provides :func:`check` and its
result :class:`Checked`, which every renderer and the IR's scopes use.

:func:`check` resolves every name against a :class:`~irsnn.lang.types.Scope`, computes the
concrete type of every expression, numbers the rng call sites, and collects what the block
reads and writes. Top-level local declarations are returned in ``Checked.locals`` and added to
``Checked.scope_after`` as ``kind="local"`` symbols, so a later block of the same model (e.g.
the threshold condition after the sim code) can use them.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field

from irsnn.lang import ast
from irsnn.lang.errors import LangError, Where
from irsnn.lang.types import (FLOAT_TYPES, GENFLOAT, GENNUM, INT_TYPES, VOID, Symbol,
                              common_type, resolve_type)

__all__ = ["Checked", "check"]

_FLT_MAX = 3.4028234663852886e38
_COMPARE = ("<", "<=", ">", ">=", "==", "!=")
_BITWISE = ("&", "|", "^", "<<", ">>")


@dataclass
class Checked:
    """The result of :func:`check`.

    Attributes
    ----------
    tree : ast.Node
        The checked tree (a statement block or an expression).
    where : Where
    scope : Scope
        The scope the tree was checked against.
    types : dict
        ``id(expr)`` -> concrete type of every expression node.
    arg_types : dict
        ``id(call)`` -> tuple of the concrete types each argument is converted to.
    symbols : dict
        ``id(Name)`` -> resolved :class:`Symbol` (type already concrete; locals declared in
        this block have ``kind="local"``).
    decl_types : dict
        ``id(Decl)`` -> concrete declared type.
    rng_sites : dict
        ``id(call)`` -> rng call-site number, unique across the blocks checked in sequence.
    reads, writes : set of str
        Names of scope symbols (not locals declared in this block) read / written.
    locals : dict
        Top-level locals declared by this block, name -> concrete type.
    scope_after : Scope
        ``scope`` plus the top-level locals, with ``next_rng_site`` advanced.
    """

    tree: object
    where: Where
    scope: object
    types: dict = field(default_factory=dict)
    arg_types: dict = field(default_factory=dict)
    symbols: dict = field(default_factory=dict)
    decl_types: dict = field(default_factory=dict)
    rng_sites: dict = field(default_factory=dict)
    reads: set = field(default_factory=set)
    writes: set = field(default_factory=set)
    locals: dict = field(default_factory=dict)
    scope_after: object = None
    source: str | None = None

    def type_of(self, expr):
        """The concrete type of an expression node of this tree."""
        return self.types[id(expr)]


class _Checker:
    def __init__(self, scope, where, source):
        self.scope = scope
        self.prec = resolve_type("scalar", scope.precision)
        self.where = where or Where()
        self.source = source
        self.frames = []          # stack of dicts name -> Symbol (locals)
        self.declared_later = {}  # name -> Decl, for "used before declaration"
        self.site = scope.next_rng_site
        self.out = None

    def err(self, node, what, fix=""):
        raise LangError(self.where, node.line, node.col, what, fix, self.source)

    # -- names ---------------------------------------------------------------------------
    def lookup(self, name):
        for frame in reversed(self.frames):
            if name in frame:
                return frame[name], True
        sym = self.scope.symbols.get(name)
        return sym, False

    def known_names(self):
        names = set(self.scope.symbols)
        for frame in self.frames:
            names.update(frame)
        return names

    def unknown(self, node, name, kind="name"):
        if name in self.declared_later:
            d = self.declared_later[name]
            self.err(node, f"'{name}' is used before its declaration (line {d.line}, "
                           f"column {d.col})", "move the declaration above the first use")
        pool = sorted(self.known_names() | set(self.scope.functions)) if kind == "name" \
            else sorted(self.scope.functions)
        close = difflib.get_close_matches(name, pool, n=3, cutoff=0.6)
        hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
        shown = ", ".join(pool[:40]) + (", ..." if len(pool) > 40 else "")
        what = "function" if kind == "function" else "name"
        self.err(node, f"unknown {what} '{name}'", f"{hint}Known {what}s: {shown or 'none'}")

    def resolve(self, node):
        sym, is_local = self.lookup(node.name)
        if sym is None:
            if node.name in self.scope.functions:
                self.err(node, f"'{node.name}' is a function", f"call it: {node.name}(...)")
            self.unknown(node, node.name)
        if not is_local:
            sym = Symbol(sym.name, self.scope.type_of(sym), sym.kind, sym.writable, sym.is_array)
        self.out.symbols[id(node)] = sym
        return sym, is_local

    # -- expressions ---------------------------------------------------------------------
    def expr(self, e, allow_void=False):
        t = self._expr(e)
        if t == VOID and not allow_void:
            self.err(e, f"'{e.func}' returns nothing", "call it as a statement of its own")
        self.out.types[id(e)] = t
        return t

    def _expr(self, e):
        if isinstance(e, ast.IntLit):
            return "unsigned int" if e.unsigned else "int"
        if isinstance(e, ast.FloatLit):
            t = "float" if e.single else self.prec
            if not math.isfinite(e.value) or (t == "float" and abs(e.value) > _FLT_MAX):
                self.err(e, f"float literal {e.value!r} is out of range for {t}",
                         "use a smaller constant or a double")
            return t
        if isinstance(e, ast.BoolLit):
            return "bool"
        if isinstance(e, ast.Name):
            sym, is_local = self.resolve(e)
            if sym.is_array:
                self.err(e, f"'{e.name}' is an array and needs an index", f"write {e.name}[i]")
            if not is_local:
                self.out.reads.add(e.name)
            return sym.type
        if isinstance(e, ast.Index):
            sym, is_local = self.resolve(e.array)
            if not sym.is_array:
                self.err(e, f"'{e.array.name}' is not an array and cannot be indexed",
                         f"use {e.array.name} without [...]")
            self.out.types[id(e.array)] = sym.type
            if not is_local:
                self.out.reads.add(sym.name)
            it = self.expr(e.index)
            if it not in INT_TYPES:
                self.err(e.index, f"an array index must be an integer, not {it}",
                         "convert it with (int)(...)")
            return sym.type
        if isinstance(e, ast.Unary):
            t = self.expr(e.operand)
            if e.op == "!":
                return "bool"
            if e.op == "~" and t in FLOAT_TYPES:
                self.err(e, f"'~' needs an integer operand, not {t}", "convert with (int)(...)")
            return common_type(t)
        if isinstance(e, ast.Binary):
            return self.binary(e, e.op, self.expr(e.left), self.expr(e.right))
        if isinstance(e, ast.Ternary):
            self.expr(e.cond)
            a, b = self.expr(e.then), self.expr(e.other)
            return "bool" if a == b == "bool" else common_type(a, b)
        if isinstance(e, ast.Cast):
            try:
                target = resolve_type(e.type, self.scope.precision)
            except ValueError as exc:
                self.err(e, str(exc))
            self.expr(e.operand)
            return target
        if isinstance(e, ast.Call):
            return self.call(e)
        raise AssertionError(f"unexpected node {e!r}")

    def binary(self, node, op, lt, rt):
        if op in ("&&", "||"):
            return "bool"
        if op in ("%",) + _BITWISE and (lt in FLOAT_TYPES or rt in FLOAT_TYPES):
            if op == "%":
                self.err(node, f"'%' needs integer operands, not {lt} and {rt}",
                         "use fmod(a, b) for floating-point remainders")
            self.err(node, f"bitwise operator '{op}' needs integer operands, not {lt} and {rt}",
                     "convert with (int)(...) or (unsigned int)(...)")
        if op in ("<<", ">>"):
            return common_type(lt)
        if op in _COMPARE:
            return "bool"
        return common_type(lt, rt)

    def call(self, e):
        sig = self.scope.functions.get(e.func)
        if sig is None:
            sym, _ = self.lookup(e.func)
            if sym is not None:
                self.err(e, f"'{e.func}' is a {sym.kind}, not a function", "remove the (...)")
            self.unknown(e, e.func, "function")
        if len(e.args) != len(sig.arg_types):
            self.err(e, f"'{e.func}' takes {len(sig.arg_types)} argument(s) but "
                        f"{len(e.args)} were given", f"call it as {self._signature(sig)}")
        types = [self.expr(a) for a in e.args]
        gen = [t for t, s in zip(types, sig.arg_types) if s in (GENFLOAT, GENNUM)]
        gt = common_type(*gen) if gen else self.prec
        if GENFLOAT in sig.arg_types and gt not in FLOAT_TYPES:
            gt = self.prec
        targets = []
        for a, t, s in zip(e.args, types, sig.arg_types):
            target = gt if s in (GENFLOAT, GENNUM) else resolve_type(s, self.scope.precision)
            self.convertible(a, t, target, f"argument of '{e.func}'")
            targets.append(target)
        self.out.arg_types[id(e)] = tuple(targets)
        if sig.kind == "rng":
            self.out.rng_sites[id(e)] = self.site
            self.site += 1
        rt = sig.return_type
        if rt in (GENFLOAT, GENNUM):
            return gt
        return VOID if rt == VOID else resolve_type(rt, self.scope.precision)

    @staticmethod
    def _signature(sig):
        return f"{sig.name}({', '.join(sig.arg_types)})"

    def convertible(self, node, src, dst, what):
        if src in FLOAT_TYPES and dst not in FLOAT_TYPES:
            self.err(node, f"{what}: converting {src} to {dst} would drop the fraction",
                     f"write an explicit cast ({dst})(...) or use round()/floor() first")

    # -- statements ----------------------------------------------------------------------
    def target(self, t, op):
        name_node = t.array if isinstance(t, ast.Index) else t
        sym, is_local = self.resolve(name_node)
        if isinstance(t, ast.Index):
            if not sym.is_array:
                self.err(t, f"'{sym.name}' is not an array", f"assign to {sym.name} directly")
            it = self.expr(t.index)
            if it not in INT_TYPES:
                self.err(t.index, f"an array index must be an integer, not {it}",
                         "convert it with (int)(...)")
        elif sym.is_array:
            self.err(t, f"'{sym.name}' is an array; assign to its elements",
                     f"write {sym.name}[i] {op} ...")
        if not sym.writable:
            kind = {"local": "a const local", "param": "a parameter", "builtin": "a built-in",
                    "egp": "a read-only extra global parameter",
                    "var": "a read-only variable"}[sym.kind]
            self.err(t, f"cannot assign to '{sym.name}': it is {kind}",
                     f"copy it into a local first, e.g. scalar my{sym.name} = {sym.name};")
        self.out.types[id(t)] = sym.type
        self.out.types[id(name_node)] = sym.type
        if not is_local:
            self.out.writes.add(sym.name)
            if op != "=":
                self.out.reads.add(sym.name)
        return sym.type

    def declare(self, d):
        if (self.lookup(d.name)[0] is not None or d.name in self.scope.functions):
            self.err(d, f"'{d.name}' is already declared",
                     "choose another name for the local variable")
        t = resolve_type(d.type, self.scope.precision)
        self.out.decl_types[id(d)] = t
        if d.init is not None:
            self.convertible(d, self.expr(d.init), t, f"initialising '{d.name}'")
        self.frames[-1][d.name] = Symbol(d.name, t, "local", not d.const, False)
        self.declared_later.pop(d.name, None)
        if len(self.frames) == 1:
            self.out.locals[d.name] = t

    def stmt(self, s):
        if isinstance(s, ast.Block):
            self.frames.append({})
            for x in s.stmts:
                self.stmt(x)
            self.frames.pop()
        elif isinstance(s, ast.Decl):
            self.declare(s)
        elif isinstance(s, ast.Assign):
            vt = self.expr(s.value)
            tt = self.target(s.target, s.op)
            if s.op != "=":
                vt = self.binary(s, s.op[0], tt, vt)
            self.convertible(s, vt, tt, f"assigning to '{_target_name(s.target)}'")
        elif isinstance(s, ast.IncDec):
            tt = self.target(s.target, s.op)
            if tt == "bool":
                self.err(s, f"'{s.op}' cannot be applied to a bool", "assign true or false")
        elif isinstance(s, ast.If):
            self.expr(s.cond)
            self.stmt(_blockify(s.then))
            if s.other is not None:
                self.stmt(_blockify(s.other))
        elif isinstance(s, ast.While):
            self.expr(s.cond)
            self.stmt(_blockify(s.body))
        elif isinstance(s, ast.For):
            self.frames.append({})
            if s.init is not None:
                self.stmt(s.init)
            if s.cond is not None:
                self.expr(s.cond)
            if s.step is not None:
                self.stmt(s.step)
            self.stmt(_blockify(s.body))
            self.frames.pop()
        elif isinstance(s, ast.ExprStmt):
            self.expr(s.expr, allow_void=True)
        elif not isinstance(s, ast.Empty):
            raise AssertionError(f"unexpected node {s!r}")


def _blockify(s):
    return s if isinstance(s, ast.Block) else ast.Block((s,), line=s.line, col=s.col)


def _target_name(t):
    return t.array.name if isinstance(t, ast.Index) else t.name


def check(tree, scope, where=None, source=None):
    """Resolve names and type-check a parsed block or expression.

    Parameters
    ----------
    tree : ast.Block or ast.Expr
        From :func:`~irsnn.lang.parser.parse_statements` or ``parse_expression``.
    scope : Scope
        Symbols and functions visible to the code.
    where : Where, optional
        Names model and block in errors.
    source : str, optional
        The code string, quoted in error messages.

    Returns
    -------
    Checked

    Raises
    ------
    LangError
        Unknown names (with did-you-mean), writes to read-only names, wrong arity, indexing
        a non-array, arrays without index, float-to-integer narrowing without a cast, ``%`` or
        bitwise operators on floats, redeclarations, use before declaration.
    """
    c = _Checker(scope, where, source)
    c.out = Checked(tree, c.where, scope, source=source)
    for n in ast.walk(tree):
        if isinstance(n, ast.Decl):
            c.declared_later.setdefault(n.name, n)
    c.frames.append({})
    if isinstance(tree, ast.Block):
        for s in tree.stmts:
            c.stmt(s)
    elif isinstance(tree, ast.Expr):
        c.expr(tree)
    else:
        c.stmt(tree)
    after = scope.copy(next_rng_site=c.site)
    for name, sym in c.frames[0].items():
        after.symbols[name] = sym
    c.out.scope_after = after
    return c.out
