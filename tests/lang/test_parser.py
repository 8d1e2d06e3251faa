"""Tokenizer and parser: precedence, legacy syntax, and every rejected construct."""

import pytest

from irsnn.errors import IrsnnError
from irsnn.lang import LangError, Where, parse_expression, parse_statements
from irsnn.lang import ast as A
from irsnn.lang.tokens import tokenize


def E(code):
    return parse_expression(code)


def test_precedence_and_associativity():
    assert E("a + b * c") == A.Binary("+", A.Name("a"), A.Binary("*", A.Name("b"), A.Name("c")))
    assert E("a - b - c") == A.Binary("-", A.Binary("-", A.Name("a"), A.Name("b")), A.Name("c"))
    assert E("a || b && c") == A.Binary("||", A.Name("a"),
                                        A.Binary("&&", A.Name("b"), A.Name("c")))
    assert E("a < b == c > d") == A.Binary("==", A.Binary("<", A.Name("a"), A.Name("b")),
                                           A.Binary(">", A.Name("c"), A.Name("d")))
    assert E("a & b | c ^ d") == A.Binary("|", A.Binary("&", A.Name("a"), A.Name("b")),
                                          A.Binary("^", A.Name("c"), A.Name("d")))
    assert E("a << 1 + 2") == A.Binary("<<", A.Name("a"),
                                       A.Binary("+", A.IntLit(1), A.IntLit(2)))
    assert E("-a * !b") == A.Binary("*", A.Unary("-", A.Name("a")), A.Unary("!", A.Name("b")))
    # ternary is right-associative and lowest
    assert E("a ? b : c ? d : e") == A.Ternary(A.Name("a"), A.Name("b"),
                                               A.Ternary(A.Name("c"), A.Name("d"), A.Name("e")))
    assert E("(scalar)a / b") == A.Binary("/", A.Cast("scalar", A.Name("a")), A.Name("b"))
    assert E("int(a)") == A.Cast("int", A.Name("a"))
    assert E("(unsigned int)x") == A.Cast("unsigned int", A.Name("x"))
    assert E("x[i + 1]") == A.Index(A.Name("x"), A.Binary("+", A.Name("i"), A.IntLit(1)))
    assert E("fmax(a, b * 2)") == A.Call("fmax", (A.Name("a"),
                                                  A.Binary("*", A.Name("b"), A.IntLit(2))))


def test_numbers():
    assert E("1.0") == A.FloatLit(1.0) and E("1e-3") == A.FloatLit(1e-3)
    assert E(".5") == A.FloatLit(0.5) and E("2.") == A.FloatLit(2.0)
    assert E("1.5f") == A.FloatLit(1.5, single=True)
    assert E("0x1F") == A.IntLit(31) and E("7u") == A.IntLit(7, unsigned=True)
    assert E("4294967295") == A.IntLit(4294967295, unsigned=True)
    for bad in ("1.0.5", "1e", "0x", "12abc", "4294967296"):
        with pytest.raises(LangError):
            E(bad)


def test_statements_and_positions():
    code = "V = (Alpha * V) + Isyn;\nif (RefracTime > 0.0) { RefracTime -= dt; }"
    b = parse_statements(code)
    assert isinstance(b.stmts[0], A.Assign) and b.stmts[0].op == "="
    s = b.stmts[1]
    assert isinstance(s, A.If) and (s.line, s.col) == (2, 1)
    assert s.then.stmts[0] == A.Assign(A.Name("RefracTime"), "-=", A.Name("dt"))
    assert (s.cond.left.line, s.cond.left.col) == (2, 5)
    b = parse_statements("const bool spike = u >= 1.0; int a, b = 2; x++; --y; f(1);;"
                         "for (int i = 0; i < 3; i++) x += i; while (x) { x--; }")
    kinds = [type(x).__name__ for x in b.stmts]
    assert kinds == ["Decl", "Decl", "Decl", "IncDec", "IncDec", "ExprStmt", "Empty", "For",
                     "While"]
    assert b.stmts[0].const and b.stmts[2].init == A.IntLit(2)
    assert not b.stmts[3].prefix and b.stmts[4].prefix
    assert parse_statements("") == A.Block(())
    assert parse_statements("unsigned x = 1u; uint32_t y; unsigned int z;").stmts[2].type \
        == "unsigned int"


def test_comments_stripped():
    b = parse_statements("// hello\nV = 1.0; /* multi\nline */ V += 2.0; // end")
    assert len(b.stmts) == 2 and b.stmts[1].line == 3


def test_legacy_syntax():
    assert parse_statements("$(V) += $(Isyn) * DT;") == parse_statements("V += Isyn * dt;")
    assert E("$(addToInSyn, $(g) * (1 + 2))") == E("addToInSyn(g * (1 + 2))")
    assert E("$(gennrand_uniform)") == A.Call("gennrand_uniform", ())
    assert E("$( V )") == A.Name("V")
    assert parse_statements("$(V) = $(Vreset);") == parse_statements("V = Vreset;")


def _err(code, expr=False):
    with pytest.raises(LangError) as ei:
        (parse_expression if expr else parse_statements)(code, Where("Model 'm'", "sim_code"))
    e = ei.value
    assert isinstance(e, IrsnnError) and isinstance(e, ValueError)
    msg = str(e)
    assert msg.startswith("Model 'm', sim_code, line ") and "column" in msg
    return e


@pytest.mark.parametrize("code, line, col, words", [
    ("V = 0; } evil(); {", 1, 8, "unmatched '}'"),
    ("#include <stdio.h>", 1, 1, "preprocessor"),
    ("V = 0;\n  #define X 1", 2, 3, "preprocessor"),
    ('V = 0; /* */ system("x");', 1, 21, "string"),
    ("c = 'a';", 1, 5, "string"),
    ("V = 1 \\\n + 2;", 1, 7, "'\\'"),
    ("V = a @ b;", 1, 7, "unexpected character"),
    ("V = `x`;", 1, 5, "unexpected character"),
    ("V = p->x;", 1, 6, "'->'"),
    ("V = *p;", 1, 5, "dereference"),
    ("V = &x;", 1, 5, "address-of"),
    ("_secret = 1;", 1, 1, "reserved"),
    ("V = __builtin_trap();", 1, 5, "reserved"),
    ("struct s x;", 1, 1, "'struct'"),
    ("goto end;", 1, 1, "'goto'"),
    ("return V;", 1, 1, "'return'"),
    ("while (x) { break; }", 1, 13, "'break'"),
    ("do { x = 1; } while (x);", 1, 1, "'do'"),
    ("switch (x) { }", 1, 1, "'switch'"),
    ("asm(\"nop\");", 1, 1, "'asm'"),
    ("long x = 1;", 1, 1, "'long'"),
    ("V = sizeof(x);", 1, 5, "'sizeof'"),
    ("if (x = 1) { V = 0; }", 1, 7, "assignment is only allowed as a statement"),
    ("V = W = 1;", 1, 7, "assignment is only allowed as a statement"),
    ("V = x++;", 1, 6, "only allowed as a statement"),
    ("V = ++x;", 1, 5, "only allowed as a statement"),
    ("V + 1;", 1, 1, "does nothing"),
    ("V = 1", 1, 6, "expected ';'"),
    ("{ V = 1;", 1, 1, "never closed"),
    ("V = (1 + 2;", 1, 11, "expected ')'"),
    ("V = f(1, 2;", 1, 11, "expected ')'"),
    ("if (x) int y = 1;", 1, 8, "Wrap it in braces"),
    ("else V = 1;", 1, 1, "'else' without"),
    ("V &= 1;", 1, 3, "not supported"),
    ("/* never closed", 1, 1, "unterminated comment"),
    ("V = $x;", 1, 5, "legacy"),
    ("x + 1 = 2;", 1, 7, "cannot assign"),
    ("V = a.b;", 1, 6, "unexpected character"),
    ("const int k;", 1, 12, "needs an initial value"),
])
def test_rejected(code, line, col, words):
    e = _err(code)
    assert (e.line, e.column) == (line, col), str(e)
    assert words in str(e)
    assert e.fix  # every message says what to do


@pytest.mark.parametrize("code, words", [
    ("V >= 1.0; evil()", "single expression"),
    ("V >= 1.0 evil()", "unexpected 'evil'"),
    ("V >= 1.0)", "unexpected ')'"),
    ("(V >= 1.0", "expected ')'"),
    ("", "empty"),
    ("V = 1", "assignment is only allowed"),
    ("V >= 1.0 && spike;", "single expression"),
])
def test_rejected_expressions(code, words):
    assert words in str(_err(code, expr=True))


def test_error_quotes_source_line():
    e = _err("V = 1.0;\nW = 2.0 $ 3;")
    assert (e.line, e.column) == (2, 9)
    assert "W = 2.0 $ 3;\n            ^" in str(e)


def test_tokens_have_positions():
    toks = tokenize("a\n  += 1.5f")
    assert [(t.kind, t.text, t.line, t.col) for t in toks] == [
        ("ident", "a", 1, 1), ("op", "+=", 2, 3), ("float", "1.5f", 2, 6), ("eof", "", 2, 10)]


# -- [hardening]: inputs that ended as "a bug in irsnn" are language errors --------------------
@pytest.mark.parametrize("code, column, says", [
    ("V = é;", 5, "character 'é' is not ASCII"),
    ("Vé = 1.0;", 2, "character 'é' is not ASCII"),
    ("V = ١٢;", 5, "is not ASCII"),                  # Arabic-Indic digits
    ("V = 1٢;", 6, "is not ASCII"),
    ("V = 1" + "0" * 5000 + ";", 5, "(5001 characters) does not fit in 32 bits"),
    ("V = 0x1" + "0" * 8 + ";", 5, "does not fit in 32 bits"),
])
def test_non_ascii_and_out_of_range_literals_are_language_errors(code, column, says):
    with pytest.raises(LangError) as info:
        parse_statements(code)
    assert says in str(info.value)
    assert info.value.column == column and info.value.line == 1
    assert len(str(info.value)) < 500     # the message quotes long literals shortened


def test_literals_at_the_limits_still_parse():
    assert E("4294967295u") == A.IntLit(4294967295, True)
    assert E("0x00000000FFFFFFFF") == A.IntLit(0xFFFFFFFF, True)
    assert E("00000000000000000007") == A.IntLit(7, False)
    assert E("3.4e38f") == A.FloatLit(3.4e38, True)   # (the checker bounds float values)


def test_long_lines_are_quoted_around_the_error():
    code = "V = " + " + ".join(["x"] * 100) + " + é;"
    with pytest.raises(LangError) as info:
        parse_statements(code)
    quoted, caret = str(info.value).splitlines()[-2:]
    assert len(quoted) < 120 and quoted.strip().startswith("...")
    assert quoted[caret.index("^")] == "é"
