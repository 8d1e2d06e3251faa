"""Explicit nesting limits (issue 17): code just under each limit runs with the same bits on
the reference, C, OpenCL (when a device is usable) and compiles with NVRTC (when installed);
code just over it, or far over it, is a :class:`LangError` with line and column. On 0cd8725,
61 parentheses, 241 nested ifs or a 489-term sum raised RecursionError ("a bug in irsnn"),
and the reference failed on 98 else-ifs or a 201-term sum that C accepted."""

from __future__ import annotations

import numpy as np
import pytest

from irsnn.lang import LangError, parse_expression, parse_statements
from irsnn.lang.limits import MAX_EXPRESSION_DEPTH as D
from irsnn.lang.limits import MAX_LOOP_DEPTH as L
from irsnn.lang.limits import MAX_STATEMENT_DEPTH as S

from .lanes import (build_c, c_function, checked_block, cuda_source, lane_arrays, opencl_device,
                    run_c, run_numpy, run_opencl, same_bits)


def parens(n):
    return "x = " + "(" * n + "y" + ")" * n + ";"


def chain(terms):   # terms - 1 operators, left-nested
    return "x = " + " + ".join(["y", "z", "(float)a"][i % 3] if i else "y"
                               for i in range(terms)) + ";"


def wrapping(n):    # int operators each in parentheses: 2 levels each
    return "c = " + "(" * n + "a" + " * b)" * n + ";"


def unary(n):
    return "c = " + "- " * n + "a;"


def ternaries(n):
    return "x = " + "".join(f"a > {i} ? {i}.5f : " for i in range(n)) + "y;"


def calls(n):
    return "x = " + "fabs(" * n + "y" + ")" * n + ";"


def nested_ifs(n):
    return "".join(f"if (a > {i - 3}) {{\n" for i in range(n)) + "c = a * 3;\n" + "}" * n


def else_ifs(n):   # n - 1 else-ifs: n levels
    return "if (a == 0) { c = 1; }\n" + "".join(f"else if (a == {i}) {{ c = {i + 1}; }}\n"
                                                 for i in range(1, n))


def blocks(n):
    return "{" * n + "c = a + 1;" + "}" * n


def loops(n):   # the innermost loop runs twice, the others once (2 iterations in all)
    return ("c = 0;\n" + "".join(f"for (int i{k} = 0; i{k} < {1 + (k == n - 1)}; i{k}++) {{\n"
                                  for k in range(n))
            + "c++;\n" + "}" * n)


#: name -> (code of n levels, the most levels allowed)
FORMS = {
    "parentheses": (parens, D),
    "sum": (chain, D + 1),                   # D operators; the cast is on a shallow term
    "int-operators": (wrapping, D // 2),
    "unary": (unary, D),
    "ternaries": (ternaries, D - 1),          # the innermost condition adds one
    "calls": (calls, D),
    "nested-ifs": (nested_ifs, S),
    "else-ifs": (else_ifs, S),
    "blocks": (blocks, S),
    "loops": (loops, L),
}


def _inputs():
    rng = np.random.default_rng(5)
    return lane_arrays({"a": rng.integers(-40, 40, 64).astype(np.int32),
                        "b": rng.integers(-3, 4, 64).astype(np.int32),
                        "y": rng.standard_normal(64).astype(np.float32),
                        "z": rng.standard_normal(64).astype(np.float32)}, 64)


def test_just_under_every_limit_runs_the_same_on_every_backend():
    checked = {name: checked_block(make(n)) for name, (make, n) in FORMS.items()}
    env = _inputs()
    ref = {name: run_numpy(c, env) for name, c in checked.items()}
    lib = build_c([c_function(c, f"k_{name.replace('-', '_')}") for name, c in checked.items()])
    if lib is not None:
        for name in FORMS:
            out = run_c(lib, f"k_{name.replace('-', '_')}", env)
            assert all(same_bits(out[k], ref[name][k]) for k in env), name
    dev = opencl_device()
    if dev is not None:
        for name, (out, _) in zip(checked, run_opencl(dev, list(checked.values()), env)):
            assert all(same_bits(out[k], ref[name][k]) for k in env), name
    try:
        from irsnn.backends.cuda import compile_with_nvrtc
        import cuda.bindings.nvrtc  # noqa: F401
    except ImportError:
        return
    code = "\n".join(FORMS[k][0](FORMS[k][1]) for k in ("parentheses", "ternaries"))
    nested = nested_ifs(S - 1).replace("c = a * 3;", code)   # expressions deep in statements
    ok, log = compile_with_nvrtc(cuda_source(list(checked.values()) + [checked_block(nested)]))
    assert ok, log


@pytest.mark.parametrize("name", FORMS)
@pytest.mark.parametrize("over", [1, pytest.param(1000, marks=pytest.mark.slow)])
def test_over_a_limit_is_a_language_error_with_line_and_column(name, over):
    make, n = FORMS[name]
    code = make(n + over)
    with pytest.raises(LangError) as info:
        parse_statements(code)
    err = info.value
    assert err.line >= 1 and err.column >= 1
    assert ("nest more than" in err.what or "nests more than" in err.what), err.what
    if over == 1 and name in ("parentheses", "sum", "unary", "calls"):
        assert err.line == 1   # the one expression's line


def test_threshold_conditions_have_the_same_expression_limit():
    parse_expression("(" * (D - 1) + "V" + ")" * (D - 1) + " >= 1.0")
    with pytest.raises(LangError, match="nests more than 64 levels"):
        parse_expression("(" * D + "V" + ")" * D + " >= 1.0")
