"""Recursive-descent parser of the code-string language (C precedence).

Requires: :mod:`.tokens`, :mod:`.ast`, :mod:`.types` and :mod:`.errors`. Provides
:func:`parse_statements` and :func:`parse_expression`.

Public entry points: :func:`parse_statements` for sim/reset/update code and
:func:`parse_expression` for threshold conditions and other single expressions.
Assignments and ``++``/``--`` are statements only; only function calls may stand alone
as expression statements.
"""

from __future__ import annotations

from contextlib import contextmanager

from irsnn.lang import ast, limits
from irsnn.lang.errors import LangError, Where
from irsnn.lang.tokens import TYPE_KEYWORDS, tokenize
from irsnn.lang.types import canonical_type_name

__all__ = ["parse_statements", "parse_expression", "canonical_type_name"]

_BINARY_PREC = [("||",), ("&&",), ("|",), ("^",), ("&",), ("==", "!="), ("<", "<=", ">", ">="),
                ("<<", ">>"), ("+", "-"), ("*", "/", "%")]
#: binary operator -> precedence level (higher binds tighter)
_PREC = {op: level for level, ops in enumerate(_BINARY_PREC) for op in ops}
_ASSIGN_OPS = ("=", "+=", "-=", "*=", "/=", "%=")
_UNSUPPORTED_ASSIGN = ("&=", "|=", "^=", "<<=", ">>=")


class _Parser:
    def __init__(self, code, where):
        self.code = code
        self.where = where or Where()
        self.toks = tokenize(code, self.where)
        self.index = 0
        #: expression nesting (see limits.MAX_EXPRESSION_DEPTH): depth of each node built,
        #: and the levels entered on the way down (recursion is bounded before it happens)
        self.depth = {}
        self.expr_level = 0
        self.stmt_level = 0
        self.loop_level = 0

    # -- helpers -------------------------------------------------------------------------
    def peek(self, k=0):
        return self.toks[min(self.index + k, len(self.toks) - 1)]

    def next(self):
        t = self.toks[self.index]
        if t.kind != "eof":
            self.index += 1
        return t

    def at(self, text, kind=None):
        t = self.peek()
        return t.text == text and t.kind in ((kind,) if kind else ("op", "kw"))

    def error(self, tok, what, fix=""):
        raise LangError(self.where, tok.line, tok.col, what, fix, self.code)

    @staticmethod
    def describe(tok):
        return "the end of the code" if tok.kind == "eof" else f"'{tok.text}'"

    def expect(self, text, fix=""):
        t = self.peek()
        if t.text != text or t.kind not in ("op", "kw"):
            if t.kind == "op" and t.text in _ASSIGN_OPS + _UNSUPPORTED_ASSIGN:
                self.assignment_in_expression(t)
            self.error(t, f"expected '{text}' but found {self.describe(t)}", fix)
        return self.next()

    def assignment_in_expression(self, t):
        if t.text in ("++", "--"):
            self.error(t, f"'{t.text}' is only allowed as a statement",
                       f"write it on its own, e.g. 'x{t.text};', before using x")
        self.error(t, "assignment is only allowed as a statement",
                   "assign in a separate statement and compare with '==' in conditions")

    def pos(self, tok):
        return {"line": tok.line, "col": tok.col}

    # -- statements ----------------------------------------------------------------------
    def statements_until_eof(self):
        start = self.peek()
        stmts = []
        while self.peek().kind != "eof":
            t = self.peek()
            if t.kind == "op" and t.text == "}":
                self.error(t, "unmatched '}'", "remove it or add the matching '{' before it")
            stmts.extend(self.statement())
        return ast.Block(tuple(stmts), **self.pos(start))

    def block(self):
        open_ = self.expect("{")
        stmts = []
        while not self.at("}", "op"):
            if self.peek().kind == "eof":
                self.error(open_, "this '{' is never closed", "add the matching '}'")
            stmts.extend(self.statement())
        self.next()
        return ast.Block(tuple(stmts), **self.pos(open_))

    def statement(self):
        """Return a list of statements (a declaration may declare several names)."""
        t = self.peek()
        if t.kind == "op" and t.text == "{":
            with self.nested_statement(t):
                return [self.block()]
        if t.kind == "op" and t.text == ";":
            self.next()
            return [ast.Empty(**self.pos(t))]
        if t.kind == "kw":
            if t.text == "if":
                self.next()
                self.expect("(", "write if (condition) { ... }")
                cond = self.expression()
                self.expect(")")
                then = self.sub_statement()
                other = None
                if self.at("else", "kw"):
                    self.next()
                    other = self.sub_statement()
                return [ast.If(cond, then, other, **self.pos(t))]
            if t.text == "while":
                self.next()
                self.expect("(", "write while (condition) { ... }")
                cond = self.expression()
                self.expect(")")
                with self.nested_loop(t):
                    return [ast.While(cond, self.sub_statement(), **self.pos(t))]
            if t.text == "for":
                with self.nested_loop(t):
                    return [self.for_statement()]
            if t.text == "else":
                self.error(t, "'else' without a matching 'if'", "remove it or add the 'if'")
            if t.text == "const" or t.text in TYPE_KEYWORDS:
                decls = self.declaration()
                self.expect(";", "end the declaration with ';'")
                return decls
        s = self.simple_statement()
        self.expect(";", "end the statement with ';'")
        return [s]

    @contextmanager
    def nested_statement(self, tok):
        self.stmt_level += 1
        if self.stmt_level > limits.MAX_STATEMENT_DEPTH:
            self.error(tok, f"statements nest more than {limits.MAX_STATEMENT_DEPTH} levels "
                            "deep here (each if, else, while, for body and {{ }} block adds one)",
                       "move inner parts into separate conditions, or combine conditions "
                       "with && and ||")
        try:
            yield
        finally:
            self.stmt_level -= 1

    @contextmanager
    def nested_loop(self, tok):
        self.loop_level += 1
        if self.loop_level > limits.MAX_LOOP_DEPTH:
            self.error(tok, f"loops nest more than {limits.MAX_LOOP_DEPTH} deep here",
                       "combine inner loops into one loop over a combined index")
        try:
            yield
        finally:
            self.loop_level -= 1

    def sub_statement(self):
        t = self.peek()
        with self.nested_statement(t):
            if t.kind == "op" and t.text == "{":   # the braces of a body add no level
                return self.block()
            stmts = self.statement()
            if len(stmts) != 1 or isinstance(stmts[0], ast.Decl):
                self.error(t, "a declaration cannot be the whole body of if/else/while/for",
                           "wrap it in braces { ... }")
            return stmts[0]

    def for_statement(self):
        t = self.next()
        self.expect("(", "write for (init; condition; step) { ... }")
        init = cond = step = None
        if not self.at(";", "op"):
            p = self.peek()
            if p.kind == "kw" and (p.text == "const" or p.text in TYPE_KEYWORDS):
                decls = self.declaration()
                if len(decls) != 1:
                    self.error(p, "a for loop may declare one variable only",
                               "declare the others before the loop")
                init = decls[0]
            else:
                init = self.simple_statement()
        self.expect(";", "write for (init; condition; step)")
        if not self.at(";", "op"):
            cond = self.expression()
        self.expect(";", "write for (init; condition; step)")
        if not self.at(")", "op"):
            step = self.simple_statement()
        self.expect(")", "write for (init; condition; step)")
        return ast.For(init, cond, step, self.sub_statement(), **self.pos(t))

    def parse_type(self):
        t = self.next()
        if t.kind != "kw" or t.text not in TYPE_KEYWORDS:
            self.error(t, f"expected a type but found {self.describe(t)}",
                       "use scalar, float, double, int, unsigned int or bool")
        if t.text == "unsigned" and self.at("int", "kw"):
            self.next()
        return canonical_type_name(t.text)

    def declaration(self):
        const = False
        if self.at("const", "kw"):
            self.next()
            const = True
        typ = self.parse_type()
        decls = []
        while True:
            nt = self.next()
            if nt.kind != "ident":
                self.error(nt, f"expected a variable name but found {self.describe(nt)}",
                           "write e.g. 'scalar x = 0.0;'")
            init = None
            if self.at("=", "op"):
                self.next()
                init = self.expression()
            elif const:
                self.error(self.peek(), f"const '{nt.text}' needs an initial value",
                           f"write 'const {typ} {nt.text} = ...;'")
            decls.append(ast.Decl(typ, nt.text, init, const, **self.pos(nt)))
            if not self.at(",", "op"):
                break
            self.next()
        return decls

    def simple_statement(self):
        t = self.peek()
        if t.kind == "op" and t.text in ("++", "--"):
            self.next()
            target = self.postfix()
            self.check_lvalue(target, t)
            return ast.IncDec(target, t.text, True, **self.pos(t))
        e = self.expression(statement=True)
        nt = self.peek()
        if nt.kind == "op" and nt.text in _ASSIGN_OPS:
            self.check_lvalue(e, nt)
            self.next()
            value = self.expression()
            return ast.Assign(e, nt.text, value, **self.pos(t))
        if nt.kind == "op" and nt.text in _UNSUPPORTED_ASSIGN:
            self.error(nt, f"compound assignment '{nt.text}' is not supported",
                       f"write x = x {nt.text[:-1]} y;")
        if nt.kind == "op" and nt.text in ("++", "--"):
            self.check_lvalue(e, nt)
            self.next()
            return ast.IncDec(e, nt.text, False, **self.pos(t))
        if isinstance(e, ast.Call):
            return ast.ExprStmt(e, **self.pos(t))
        self.error(t, "this expression does nothing on its own",
                   "only assignments, ++/-- and function calls can be statements")

    def check_lvalue(self, e, tok):
        if not isinstance(e, (ast.Name, ast.Index)):
            what = "increment or decrement" if tok.text in ("++", "--") else "assign to"
            self.error(tok, f"cannot {what} this expression",
                       "the left-hand side must be a variable or an array element, and "
                       "'++'/'--' must be statements of their own")

    # -- expressions ---------------------------------------------------------------------
    def too_deep(self, tok):
        self.error(tok, f"this expression nests more than {limits.MAX_EXPRESSION_DEPTH} "
                        "levels deep (each operator, call, index, cast, conditional and pair "
                        "of parentheses adds one)",
                   "split it into several statements with local variables")

    @contextmanager
    def nested_expression(self, tok):
        """One level down (parentheses, an operand, arguments): bounded before recursing."""
        self.expr_level += 1
        if self.expr_level > limits.MAX_EXPRESSION_DEPTH:
            self.too_deep(tok)
        try:
            yield
        finally:
            self.expr_level -= 1

    def node(self, node, *children, extra=1):
        """Record the depth of a new node (one level above its deepest child)."""
        d = extra + max((self.depth.get(id(c), 0) for c in children), default=0)
        if d > limits.MAX_EXPRESSION_DEPTH:
            self.too_deep(self.toks[self.index - 1] if not node.line else node)
        self.depth[id(node)] = d
        return node

    def expression(self, statement=False):
        e = self.ternary()
        t = self.peek()
        if not statement and t.kind == "op" and t.text in _ASSIGN_OPS + ("++", "--"):
            self.assignment_in_expression(t)
        return e

    def ternary(self):
        cond = self.binary(0)
        if self.at("?", "op"):
            q = self.next()
            with self.nested_expression(q):
                then = self.expression()
                self.expect(":", "a conditional expression needs 'cond ? a : b'")
                other = self.ternary()
            return self.node(ast.Ternary(cond, then, other, **self.pos(q)), cond, then, other)
        return cond

    def binary(self, min_level):
        """Operators of precedence ``min_level`` and above, left-associative (precedence
        climbing: recursion only where precedence rises, at most one frame per level)."""
        left = self.unary()
        while True:
            t = self.peek()
            level = _PREC.get(t.text) if t.kind == "op" else None
            if level is None or level < min_level:
                return left
            self.next()
            with self.nested_expression(t):
                right = self.binary(level + 1)
            left = self.node(ast.Binary(t.text, left, right, **self.pos(t)), left, right)

    def unary(self):
        t = self.peek()
        if t.kind == "op":
            if t.text in ("-", "+", "!", "~"):
                self.next()
                with self.nested_expression(t):
                    operand = self.unary()
                return self.node(ast.Unary(t.text, operand, **self.pos(t)), operand)
            if t.text in ("++", "--"):
                self.assignment_in_expression(t)
            if t.text == "&":
                self.error(t, "the address-of operator '&' is not allowed",
                           "model code has no pointers; use the variable directly")
            if t.text == "*":
                self.error(t, "pointer dereference '*' is not allowed",
                           "model code has no pointers; index arrays with a[i]")
            if t.text == "(" and self.peek(1).kind == "kw" and self.peek(1).text in TYPE_KEYWORDS:
                self.next()
                typ = self.parse_type()
                self.expect(")", "write a cast as (type)expression")
                with self.nested_expression(t):
                    operand = self.unary()
                return self.node(ast.Cast(typ, operand, **self.pos(t)), operand)
        return self.postfix()

    def postfix(self):
        e = self.primary()
        while True:
            t = self.peek()
            if t.kind == "op" and t.text == "(":
                if not isinstance(e, ast.Name):
                    self.error(t, "only named functions can be called", "write name(args)")
                self.next()
                args = []
                with self.nested_expression(t):
                    if not self.at(")", "op"):
                        while True:
                            args.append(self.expression())
                            if not self.at(",", "op"):
                                break
                            self.next()
                self.expect(")", "close the argument list with ')'")
                e = self.node(ast.Call(e.name, tuple(args), line=e.line, col=e.col), *args)
            elif t.kind == "op" and t.text == "[":
                if not isinstance(e, ast.Name):
                    self.error(t, "only named arrays can be indexed, with one index",
                               "write array[index]")
                self.next()
                with self.nested_expression(t):
                    idx = self.expression()
                self.expect("]", "close the index with ']'")
                e = self.node(ast.Index(e, idx, line=e.line, col=e.col), idx)
            else:
                return e

    def primary(self):
        t = self.next()
        p = self.pos(t)
        if t.kind == "int":
            text = t.text.rstrip("uU")
            # more than 10 significant digits (8 hex) cannot fit, whatever their value: no
            # conversion of arbitrarily long text (Python limits it to 4300 digits)
            digits = (text[2:] if text[:2].lower() == "0x" else text).lstrip("0")
            fits = len(digits) <= (8 if text[:2].lower() == "0x" else 10)
            value = (int(text, 16) if text[:2].lower() == "0x" else int(text)) if fits else -1
            if not fits or value > 0xFFFFFFFF:
                shown = t.text if len(t.text) <= 24 else \
                    f"{t.text[:12]}...{t.text[-4:]} ({len(t.text)} characters)"
                self.error(t, f"integer literal {shown} does not fit in 32 bits",
                           "use a float literal such as 1e10")
            unsigned = t.text[-1] in "uU" or value > 0x7FFFFFFF
            return ast.IntLit(value, unsigned, **p)
        if t.kind == "float":
            single = t.text[-1] in "fF"
            return ast.FloatLit(float(t.text.rstrip("fF")), single, **p)
        if t.kind == "ident":
            return ast.Name(t.text, **p)
        if t.kind == "kw":
            if t.text in ("true", "false"):
                return ast.BoolLit(t.text == "true", **p)
            if t.text in TYPE_KEYWORDS and self.at("(", "op"):
                self.index -= 1
                typ = self.parse_type()
                self.expect("(")
                with self.nested_expression(t):
                    e = self.expression()
                self.expect(")", "close the cast with ')'")
                return self.node(ast.Cast(typ, e, **p), e)
        if t.kind == "op" and t.text == "(":
            with self.nested_expression(t):
                e = self.expression()
            self.expect(")", f"close the '(' opened at line {t.line}, column {t.col}")
            return self.node(e, e)   # the parentheses add a level
        self.error(t, f"expected an expression but found {self.describe(t)}",
                   "check for a missing operand or an unbalanced bracket")


def parse_statements(code, where=None):
    """Parse a block of statements (sim code, reset code, ...).

    Parameters
    ----------
    code : str
        The code string; may be empty.
    where : Where, optional
        Names the model and code block in error messages.

    Returns
    -------
    ast.Block

    Raises
    ------
    LangError
        With line and column of the first problem.
    """
    return _Parser(code, where).statements_until_eof()


def parse_expression(code, where=None):
    """Parse a single expression (threshold condition, ...).

    Parameters
    ----------
    code : str
        The code string.
    where : Where, optional
        Names the model and code block in error messages.

    Returns
    -------
    ast.Expr

    Raises
    ------
    LangError
        Also for anything after the expression, e.g. ``"V >= 1.0; evil()"``.
    """
    p = _Parser(code, where)
    if p.peek().kind == "eof":
        p.error(p.peek(), "the expression is empty", "write a condition such as 'V >= Vthresh'")
    e = p.expression()
    t = p.peek()
    if t.kind != "eof":
        if t.kind == "op" and t.text == ";":
            p.error(t, "a condition must be a single expression without ';'",
                    "remove ';' and anything after it; put statements in sim or reset code")
        p.error(t, f"unexpected {p.describe(t)} after the expression",
                "a condition must be a single expression; check the operators and brackets")
    return e
