"""Tokenizer of the code-string language.

Requires: :mod:`.types` (type spellings) and :mod:`.errors`. Provides :func:`tokenize`,
:class:`Token` and the keyword, operator and rng-name tables the parser uses.

Produces :class:`Token` objects with 1-based line and column. Comments (``//`` and
``/* */``) are stripped. Legacy GeNN 4 syntax is desugared here: ``$(name)`` becomes the
identifier ``name``, ``$(name, a, b)`` becomes the call ``name(a, b)``, ``$(gennrand_*)``
becomes a call without arguments and ``DT`` becomes ``dt``. Anything outside the language
(preprocessor lines, string literals, pointers, C keywords the language lacks, identifiers
starting with ``_``) is rejected with a :class:`~irsnn.lang.errors.LangError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from irsnn.lang.errors import LangError, Where
from irsnn.lang.types import TYPE_SPELLINGS

__all__ = ["Token", "tokenize", "KEYWORDS", "TYPE_KEYWORDS", "REJECTED_KEYWORDS"]

#: Type names usable in declarations and casts (the words of the types' spellings).
TYPE_KEYWORDS = frozenset(word for spelled in TYPE_SPELLINGS for word in spelled.split())
#: Keywords of the language.
KEYWORDS = frozenset({"if", "else", "while", "for", "const", "true", "false"}) | TYPE_KEYWORDS
#: C keywords (and friends) that the language does not have, with a hint each.
REJECTED_KEYWORDS = {
    "break": "loops run until their condition is false; put the exit test in the condition",
    "continue": "restructure the loop body with if/else",
    "do": "use while (...) { ... }",
    "return": "code blocks do not return values; assign to a variable instead",
    "goto": "use if/else or loops",
    "switch": "use if/else", "case": "use if/else", "default": "use if/else",
    "struct": "declare model variables and parameters instead",
    "union": "declare model variables and parameters instead",
    "enum": "use int constants (parameters)",
    "typedef": "use one of scalar, float, double, int, unsigned int, bool",
    "sizeof": "sizes are not available in model code",
    "asm": "inline assembly is not allowed",
    "static": "declare a model variable instead", "extern": "declare a model variable instead",
    "auto": "write the type explicitly", "register": "remove it", "volatile": "remove it",
    "inline": "remove it", "restrict": "remove it",
    "signed": "use int", "long": "use int or double", "short": "use int", "char": "use int",
    "void": "code blocks have no functions or pointers",
}
RNG_NAMES = frozenset({"gennrand_uniform", "gennrand_normal", "gennrand_exponential"})

# longest first
OPERATORS = sorted("""
<<= >>= ++ -- += -= *= /= %= &= |= ^= == != <= >= && || << >> ->
+ - * / % = < > ! ~ & | ^ ? : ( ) [ ] { } , ;
""".split(), key=len, reverse=True)

#: the digits of numbers (``str.isdigit`` and regex ``\d`` also accept other scripts' digits)
DIGITS = "0123456789"
_NUMBER = re.compile(
    r"""(?P<hex>0[xX][0-9a-fA-F]+(?P<hexsuf>[uU]?))
      | (?P<float>(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?[fF]?|\d+[eE][+-]?\d+[fF]?)
      | (?P<int>\d+(?P<intsuf>[uU]?))""", re.VERBOSE | re.ASCII)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_SPACE = re.compile(r"[ \t\r\f\v]+")


@dataclass(frozen=True)
class Token:
    """One token.

    Attributes
    ----------
    kind : str
        ``"int"``, ``"float"``, ``"ident"``, ``"kw"``, ``"op"`` or ``"eof"``.
    text : str
        The text (after desugaring), e.g. ``"1.5f"``, ``"V"``, ``"+="``.
    line, col : int
        1-based position in the code string.
    """

    kind: str
    text: str
    line: int
    col: int


def tokenize(code, where=None):
    """Split ``code`` into tokens, ending with one ``"eof"`` token.

    Parameters
    ----------
    code : str
        The code string.
    where : Where, optional
        Used in error messages.

    Returns
    -------
    list of Token

    Raises
    ------
    LangError
        For characters, literals and keywords outside the language.
    """
    where = where or Where()
    if not isinstance(code, str):
        raise LangError(where, 0, 0, f"code must be a string, not {type(code).__name__}",
                        "pass the code as a Python str")
    toks = []
    pos, line, line_start, n = 0, 1, 0, len(code)

    def err(p, what, fix):
        raise LangError(where, line, p - line_start + 1, what, fix, code)

    while pos < n:
        c = code[pos]
        col = pos - line_start + 1
        if c == "\n":
            pos += 1
            line, line_start = line + 1, pos
            continue
        m = _SPACE.match(code, pos)
        if m:
            pos = m.end()
            continue
        if code.startswith("//", pos):
            end = code.find("\n", pos)
            pos = n if end < 0 else end
            continue
        if code.startswith("/*", pos):
            end = code.find("*/", pos + 2)
            if end < 0:
                err(pos, "unterminated comment '/*'", "close it with '*/'")
            for k in range(pos, end):
                if code[k] == "\n":
                    line, line_start = line + 1, k + 1
            pos = end + 2
            continue
        if c in DIGITS or (c == "." and pos + 1 < n and code[pos + 1] in DIGITS):
            m = _NUMBER.match(code, pos)
            kind = "float" if m.group("float") else "int"
            end = m.end()
            if end < n and ((code[end].isascii() and code[end].isalnum())
                            or code[end] in "_."):
                err(pos, f"malformed number '{code[pos:end + 1]}'",
                    "write integers as 12 or 0x1F and floats as 1.0, 1e-3, .5 or 2.0f")
            toks.append(Token(kind, code[pos:end], line, col))
            pos = end
            continue
        if (c.isascii() and c.isalpha()) or c == "_":
            m = _IDENT.match(code, pos)
            word = m.group()
            pos = m.end()
            if word.startswith("_"):
                err(pos - len(word), f"identifier '{word}' starts with '_'",
                    "names starting with '_' are reserved for generated code; rename it")
            if word in REJECTED_KEYWORDS:
                err(pos - len(word), f"'{word}' is not part of the model-code language",
                    REJECTED_KEYWORDS[word].capitalize())
            if word == "DT":
                word = "dt"
            toks.append(Token("kw" if word in KEYWORDS else "ident", word, line, col))
            continue
        if c == "$":
            m = re.compile(r"\$\s*\(\s*([A-Za-z][A-Za-z_0-9]*)\s*([,)])").match(code, pos)
            if not m:
                err(pos, "malformed legacy reference '$'",
                    "write $(name) or $(function, args...), or just name")
            name = "dt" if m.group(1) == "DT" else m.group(1)
            if name in KEYWORDS or name in REJECTED_KEYWORDS:
                err(pos, f"'$({name})' names a keyword", "use a variable or parameter name")
            toks.append(Token("ident", name, line, col))
            if m.group(2) == ",":
                toks.append(Token("op", "(", line, col))
            elif name in RNG_NAMES:
                toks.append(Token("op", "(", line, col))
                toks.append(Token("op", ")", line, col))
            pos = m.end()
            continue
        for op in OPERATORS:
            if code.startswith(op, pos):
                break
        else:
            op = None
        if op == "->":
            err(pos, "'->' (pointer member access) is not allowed",
                "model code has no pointers; use variable names")
        if op is not None:
            toks.append(Token("op", op, line, col))
            pos += len(op)
            continue
        if c == "#":
            err(pos, "preprocessor directives ('#') are not allowed",
                "remove the line; use parameters for constants")
        if c in "\"'":
            err(pos, "string and character literals are not allowed",
                "model code works on numbers only")
        if c == "\\":
            err(pos, "'\\' is not allowed", "remove it; statements may span lines freely")
        if not c.isascii():
            err(pos, f"character {c!r} is not ASCII",
                "model code is ASCII: names of letters A-Z a-z, digits 0-9 and '_'")
        err(pos, f"unexpected character {c!r}",
            "model code may contain names, numbers, operators, ( ) [ ] { } , ; only")
    toks.append(Token("eof", "", line, pos - line_start + 1))
    return toks
