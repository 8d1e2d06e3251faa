"""AST of the code-string language: frozen dataclasses carrying their source position.

Requires: the standard library only. Provides the node classes listed below (built by the
parser, read by the checker and both renderers) and :func:`walk` (every node of a tree).

Expressions: :class:`IntLit`, :class:`FloatLit`, :class:`BoolLit`, :class:`Name`,
:class:`Unary`, :class:`Binary`, :class:`Ternary`, :class:`Call`, :class:`Index`,
:class:`Cast`. Statements: :class:`Block`, :class:`Decl`, :class:`Assign`,
:class:`IncDec`, :class:`If`, :class:`While`, :class:`For`, :class:`ExprStmt`,
:class:`Empty`. Every node has keyword-only ``line`` and ``col`` (1-based).
Types of expressions are not stored on nodes; the checker returns them keyed by ``id(node)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

__all__ = ["Node", "Expr", "Stmt", "IntLit", "FloatLit", "BoolLit", "Name", "Unary", "Binary",
           "Ternary", "Call", "Index", "Cast", "Block", "Decl", "Assign", "IncDec", "If", "While",
           "For", "ExprStmt", "Empty", "walk"]

_node = dataclass(frozen=True, kw_only=False)


@_node
class Node:
    """Base of all nodes."""

    line: int = field(default=0, kw_only=True, compare=False, repr=False)
    col: int = field(default=0, kw_only=True, compare=False, repr=False)


class Expr(Node):
    """Base of expressions."""


class Stmt(Node):
    """Base of statements."""


@_node
class IntLit(Expr):
    """Integer literal; ``unsigned`` for a ``u`` suffix or a value above 2**31 - 1."""

    value: int
    unsigned: bool = False


@_node
class FloatLit(Expr):
    """Floating-point literal; ``single`` when written with an ``f`` suffix (type float),
    otherwise its type is ``scalar``."""

    value: float
    single: bool = False


@_node
class BoolLit(Expr):
    """``true`` or ``false``."""

    value: bool


@_node
class Name(Expr):
    """A reference to a variable, parameter, built-in, extra global parameter or local."""

    name: str


@_node
class Unary(Expr):
    """``op operand`` with op one of ``- + ! ~``."""

    op: str
    operand: Expr


@_node
class Binary(Expr):
    """``left op right``."""

    op: str
    left: Expr
    right: Expr


@_node
class Ternary(Expr):
    """``cond ? then : other``."""

    cond: Expr
    then: Expr
    other: Expr


@_node
class Call(Expr):
    """``func(args...)``."""

    func: str
    args: tuple = ()


@_node
class Index(Expr):
    """``array[index]``; the array is always a :class:`Name`."""

    array: Name
    index: Expr


@_node
class Cast(Expr):
    """``(type) operand``; ``type`` is the spelled type name (normalised by the checker)."""

    type: str
    operand: Expr


@_node
class Block(Stmt):
    """``{ stmts }`` (also the root of a parsed code string)."""

    stmts: tuple = ()


@_node
class Decl(Stmt):
    """``[const] type name [= init];``."""

    type: str
    name: str
    init: Expr | None = None
    const: bool = False


@_node
class Assign(Stmt):
    """``target op value;`` with op one of ``= += -= *= /= %=``."""

    target: Expr
    op: str
    value: Expr


@_node
class IncDec(Stmt):
    """``++x;``, ``x++;``, ``--x;`` or ``x--;`` (statements only)."""

    target: Expr
    op: str
    prefix: bool = False


@_node
class If(Stmt):
    """``if (cond) then [else other]``."""

    cond: Expr
    then: Stmt
    other: Stmt | None = None


@_node
class While(Stmt):
    """``while (cond) body``."""

    cond: Expr
    body: Stmt


@_node
class For(Stmt):
    """``for (init; cond; step) body``; each of init, cond, step may be None."""

    init: Stmt | None
    cond: Expr | None
    step: Stmt | None
    body: Stmt


@_node
class ExprStmt(Stmt):
    """A function call used as a statement."""

    expr: Call


@_node
class Empty(Stmt):
    """``;``."""


def walk(node):
    """Yield ``node`` and all nodes below it, parents before children, in source order."""
    yield node
    for f in fields(node):
        if f.name in ("line", "col"):
            continue
        v = getattr(node, f.name)
        if isinstance(v, Node):
            yield from walk(v)
        elif isinstance(v, tuple):
            for item in v:
                if isinstance(item, Node):
                    yield from walk(item)
