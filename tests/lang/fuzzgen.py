"""Hypothesis strategies for fuzzing the code-string language (tests/lang/test_fuzz.py):
well-typed programs over the lane variables of :mod:`.lanes` (ints and floats mixed,
division, shifts, comparisons, conditionals, casts, math calls, nested ifs and bounded
loops), and garbage or near-miss text."""

from __future__ import annotations

from hypothesis import strategies as st

FLOATS = ["x", "y", "z"]
INTS = ["a", "b", "c"]
UINTS = ["u", "v"]
FLOAT_LITS = ["0.0f", "1.0f", "0.5f", "3.25f", "1e30f", "1e-30f", "0.1f", "2.0f", "1e-45f",
              "65504.0f", "0.0"]
INT_LITS = ["0", "1", "7", "31", "32", "33", "40", "2147483647", "65536", "1000003"]
UINT_LITS = ["0u", "1u", "3u", "31u", "32u", "4294967295u", "2654435761u"]
EXACT_1 = ["fabs", "floor", "ceil", "trunc", "round", "sqrt"]
EXACT_2 = ["fmin", "fmax", "fmod", "copysign", "min", "max"]
#: math functions with a bound rather than exact agreement (docs/language.md)
INEXACT_1 = ["exp", "log", "sin", "cos", "tan", "tanh", "expm1", "log10", "atan", "cbrt",
             "exp2", "log2", "log1p", "sinh", "cosh", "asin", "acos"]
INEXACT_2 = ["pow", "atan2"]


class _Names:
    """Fresh loop-counter names within one program."""

    def __init__(self):
        self.n = 0

    def __call__(self, prefix):
        self.n += 1
        return f"{prefix}{self.n}"


@st.composite
def fexpr(draw, depth):
    """A float expression (exact operations only)."""
    if depth <= 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(FLOATS + FLOAT_LITS + ["(float)a", "(float)u"]))
    kind = draw(st.sampled_from(["bin", "bin", "neg", "call1", "call2", "tern", "cast"]))
    if kind == "bin":
        op = draw(st.sampled_from(["+", "-", "*", "/"]))
        return f"({draw(fexpr(depth - 1))} {op} {draw(fexpr(depth - 1))})"
    if kind == "neg":
        return f"-({draw(fexpr(depth - 1))})"
    if kind == "call1":
        return f"{draw(st.sampled_from(EXACT_1))}({draw(fexpr(depth - 1))})"
    if kind == "call2":
        fn = draw(st.sampled_from(EXACT_2))
        return f"{fn}({draw(fexpr(depth - 1))}, {draw(fexpr(depth - 1))})"
    if kind == "tern":
        return (f"({draw(bexpr(depth - 1))} ? {draw(fexpr(depth - 1))} : "
                f"{draw(fexpr(depth - 1))})")
    return f"(float)({draw(iexpr(depth - 1))})"


@st.composite
def iexpr(draw, depth):
    """An int expression: division, remainder, shifts, bit operations, casts, mixes."""
    if depth <= 0 or draw(st.integers(0, 3)) == 0:
        lit = draw(st.sampled_from(INT_LITS))
        return draw(st.sampled_from(INTS + [lit, f"-{lit}", "(int)u"]))
    kind = draw(st.sampled_from(["bin", "bin", "bin", "un", "tern", "cast", "call", "mix"]))
    if kind == "bin":
        op = draw(st.sampled_from(["+", "-", "*", "/", "%", "<<", ">>", "&", "|", "^"]))
        return f"({draw(iexpr(depth - 1))} {op} {draw(iexpr(depth - 1))})"
    if kind == "un":
        return f"{draw(st.sampled_from(['-', '~', '+']))}({draw(iexpr(depth - 1))})"
    if kind == "tern":
        return (f"({draw(bexpr(depth - 1))} ? {draw(iexpr(depth - 1))} : "
                f"{draw(iexpr(depth - 1))})")
    if kind == "cast":
        return f"(int)({draw(fexpr(depth - 1))})"
    if kind == "call":
        fn = draw(st.sampled_from(["min", "max"]))
        return f"{fn}({draw(iexpr(depth - 1))}, {draw(iexpr(depth - 1))})"
    return f"(int)({draw(uexpr(depth - 1))} {draw(st.sampled_from(['/', '%', '>>']))} u)"


@st.composite
def uexpr(draw, depth):
    """An unsigned int expression."""
    if depth <= 0 or draw(st.integers(0, 2)) == 0:
        return draw(st.sampled_from(UINTS + UINT_LITS + ["(unsigned int)a"]))
    kind = draw(st.sampled_from(["bin", "bin", "cast", "mixed"]))
    if kind == "bin":
        op = draw(st.sampled_from(["+", "-", "*", "/", "%", "<<", ">>", "&", "|", "^"]))
        return f"({draw(uexpr(depth - 1))} {op} {draw(uexpr(depth - 1))})"
    if kind == "cast":
        return f"(unsigned int)({draw(fexpr(depth - 1))})"
    return f"({draw(uexpr(depth - 1))} + {draw(iexpr(depth - 1))})"   # int converts


@st.composite
def bexpr(draw, depth):
    """A bool expression: comparisons of every type, logic."""
    if depth <= 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(["f", "true", "false", "(x < y)", "(a == 0)", "(u > 3u)"]))
    kind = draw(st.sampled_from(["fcmp", "icmp", "ucmp", "logic", "not"]))
    cmp = draw(st.sampled_from(["<", "<=", ">", ">=", "==", "!="]))
    if kind == "fcmp":
        return f"({draw(fexpr(depth - 1))} {cmp} {draw(fexpr(depth - 1))})"
    if kind == "icmp":
        return f"({draw(iexpr(depth - 1))} {cmp} {draw(fexpr(depth - 1))})"
    if kind == "ucmp":
        return f"({draw(uexpr(depth - 1))} {cmp} {draw(iexpr(depth - 1))})"
    if kind == "logic":
        op = draw(st.sampled_from(["&&", "||"]))
        return f"({draw(bexpr(depth - 1))} {op} {draw(bexpr(depth - 1))})"
    return f"!{draw(bexpr(depth - 1))}"


@st.composite
def statement(draw, depth, names):
    """One statement: an assignment (plain or compound) to a lane variable, an if/else with
    nested blocks, or a bounded for/while loop."""
    kind = draw(st.sampled_from(["assign"] * 5 + (["if", "for", "while"] if depth > 0 else [])))
    if kind == "assign":
        target = draw(st.sampled_from(["x", "y", "z", "a", "b", "c", "u", "v", "d", "f"]))
        e = 3
        if target in FLOATS:
            op = draw(st.sampled_from(["=", "=", "+=", "-=", "*=", "/="]))
            return f"{target} {op} {draw(fexpr(e))};"
        if target in INTS:
            op = draw(st.sampled_from(["=", "=", "+=", "-=", "*=", "/=", "%="]))
            return draw(st.sampled_from([f"{target} {op} {draw(iexpr(e))};", f"{target}++;",
                                         f"--{target};"]))
        if target in UINTS:
            op = draw(st.sampled_from(["=", "+=", "/=", "%="]))
            return f"{target} {op} {draw(uexpr(e))};"
        if target == "d":
            return f"d = (double)({draw(fexpr(e))}) * d + (double)({draw(iexpr(e - 1))});"
        return f"f = {draw(bexpr(e))};"
    body = " ".join(draw(st.lists(statement(depth - 1, names), min_size=1, max_size=3)))
    if kind == "if":
        other = (" else { " + " ".join(draw(st.lists(statement(depth - 1, names), min_size=1,
                                                     max_size=2))) + " }"
                 if draw(st.booleans()) else "")
        return f"if ({draw(bexpr(2))}) {{ {body} }}{other}"
    n = draw(st.integers(0, 4))
    if kind == "for":
        i = names("i")
        return f"for (int {i} = 0; {i} < {n}; {i}++) {{ {body} }}"
    w = names("w")
    return f"{{ int {w} = 0; while ({w} < {n} && {draw(bexpr(1))}) {{ {body} {w}++; }} }}"


@st.composite
def program(draw, inexact=False):
    """A well-typed block of 1-5 statements; with ``inexact``, ending with ``z = fn(...)``
    of a math function outside the exact set."""
    names = _Names()
    stmts = draw(st.lists(statement(2, names), min_size=1, max_size=5))
    if inexact:
        if draw(st.booleans()):
            stmts.append(f"z = {draw(st.sampled_from(INEXACT_1))}({draw(fexpr(2))});")
        else:
            stmts.append(f"z = {draw(st.sampled_from(INEXACT_2))}({draw(fexpr(2))}, "
                         f"{draw(fexpr(2))});")
    return "\n".join(stmts)


TOKENS = ["if", "else", "while", "for", "int", "float", "scalar", "unsigned", "bool", "const",
          "true", "false", "x", "y", "a", "u", "f", "V", "Isyn", "exp", "sin", "min", "(", ")",
          "{", "}", "[", "]", ";", ",", "?", ":", "=", "+=", "/=", "%=", "&=", "<<=", "++",
          "--", "+", "-", "*", "/", "%", "<<", ">>", "&", "|", "^", "~", "!", "&&", "||",
          "==", "!=", "<", ">=", "0", "1", "0x7FFFFFFF", "4294967296", "1e39f", "1.5e-3",
          ".5", "3.", "$(V)", "#include", "/*", "*/", "//", "\n", "\"s\"", "'c'", "@", "\\",
          "\u00e9", "\u0663", "99999999999999999999", "0x", "1e", "1.0ff"]


def garbage():
    """Random text: token soup from the language's vocabulary and its near relatives, or
    random characters."""
    soup = st.lists(st.sampled_from(TOKENS), min_size=0, max_size=40).map(" ".join)
    chars = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
                    max_size=60)
    return st.one_of(soup, soup, chars)


@st.composite
def near_miss(draw):
    """A well-typed program with one small edit: a character deleted, inserted or replaced,
    or a token swapped."""
    code = draw(program())
    if not code:
        return code
    i = draw(st.integers(0, len(code) - 1))
    edit = draw(st.sampled_from(["delete", "insert", "replace", "token"]))
    ch = draw(st.sampled_from(list("(){};=+-*/%<>!&|^~?:.,[]0x9eEfu$#'\" \n")))
    if edit == "delete":
        return code[:i] + code[i + 1:]
    if edit == "insert":
        return code[:i] + ch + code[i:]
    if edit == "replace":
        return code[:i] + ch + code[i + 1:]
    return code[:i] + " " + draw(st.sampled_from(TOKENS)) + " " + code[i:]
