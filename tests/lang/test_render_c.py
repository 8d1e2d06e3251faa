"""C renderer: text properties, and bit-identical results against the NumPy renderer when the
generated C is compiled with gcc (-O2 -ffp-contract=off) and run through ctypes."""

import ctypes

import numpy as np
import pytest

from irsnn.lang import (C99, CStyleRenderer, Dialect, FunctionSig, LangError, Scope, Symbol,
                        Where, check, compile_numpy, parse_expression, parse_statements)
from irsnn.lang.render_numpy import DTYPES

VARS = [("x", "scalar"), ("y", "scalar"), ("a", "int"), ("b", "int"), ("u", "unsigned int"),
        ("f", "bool"), ("d", "double")]


def scope(precision="float"):
    s = Scope([Symbol(n, t, "var", writable=True) for n, t in VARS], precision=precision)
    s.add(FunctionSig("injectCurrent", ("scalar",), "void", "intrinsic"))
    return s.with_math()


def names(sym):
    return "l_" + sym.name


BLOCKS = {
    "lif": "if (y > 0.0) { y -= 1.0; }\nelse if (x >= 1.0) { x -= 1.0; y = 5.0; }\n"
           "else { x = (x * 0.9375) + 0.1; }",
    "integer": "b = (a / 3) + (a % 5) - (a << 2) + (a >> 1) + (b / (a == 0 ? 1 : a));\n"
               "u = (u / 7u) + ((u % 3u) * 2u) + (u >> 3) + (u ^ 0xFFu) - (u & 12u) + (u | 1u);\n"
               "f = (a > 0 && !(u == 0u)) || x < 0.0;\na = -a + ~b;",
    "conversions": "a = (int)(x * 10.0); u = (unsigned int)(fabs(x) * 100.0);\n"
                   "x = (scalar)a / 3.0f + (scalar)u * 0.5 + (f ? 1.0 : -1.0);\n"
                   "d = d * x + (double)a / 7.0; b = a < u ? 1 : 2; f = (bool)a;\n"
                   "y = y / 3.0 + 1e-3 + 0.3f + (a > 2) + true;",
    "exact_math": "x = floor(x) + ceil(y) + round(x * 3.0) + trunc(y) + fmod(x, 0.75) "
                  "+ sqrt(fabs(y)) + fmin(x, y) + fmax(x, y) + copysign(1.0, y) + abs(x) "
                  "+ min(a, b) + max(u, 3u) + abs(a) + min(x, y) + max(2, 3.5f);",
    "loops": "int i = 0; scalar acc = 0.0;\nwhile (i < a) { acc += x * 0.5; "
             "if (acc > 10.0) { acc = acc / 3.0; } i++; }\n"
             "for (int j = 0; j < 3; j++) { acc += j == 1 ? -1.0 : (scalar)j; }\n"
             "for (b = 0; b < (int)u; ++b) { d *= 1.5; }\nx = acc; a = i;",
    "compound": "b %= 7; b *= 3; b -= a; b /= 2; u %= 5u; x /= 3.0; x *= y; x -= d; a++; --b; "
                "u--; d += x; y += a; { const scalar k = x + 1.0; y = k * k; }",
    "intrinsic": "if (f) { injectCurrent(x * 2.0); } else { injectCurrent(a); }",
}


def inputs(rng, n):
    return {"x": (rng.standard_normal(n) * 3).astype(np.float32),
            "y": (rng.standard_normal(n) * 3).astype(np.float32),
            "a": rng.integers(-20, 21, n).astype(np.int32),
            "b": rng.integers(-1000, 1000, n).astype(np.int32),
            "u": rng.integers(0, 40, n).astype(np.uint32) * np.uint32(rng.integers(1, 3)),
            "f": rng.random(n) < 0.5,
            "d": rng.standard_normal(n)}


def c_source(checked, fname, precision):
    r = CStyleRenderer(C99)
    intr = {"injectCurrent": lambda args: f"(*out += {args[0]})"}
    body = r.render_statements(checked.tree, checked, names, intrinsics=intr, level=3)
    res = "float" if precision == "float" else "double"
    params = ", ".join(f"{C99.type_name(DT[n])}* p_{n}" for n, _ in VARS)
    loads = "".join(f"        {C99.type_name(DT[n])} l_{n} = p_{n}[i];\n" for n, _ in VARS)
    stores = "".join(f"        p_{n}[i] = l_{n};\n" for n, _ in VARS)
    return (f"void {fname}(int n, {params}, {res}* p_out)\n{{\n"
            "    int32_t irsnn_status[1] = {0};\n"
            f"    for (int i = 0; i < n; i++) {{\n{loads}"
            f"        {res} *out = &p_out[i];\n        {{\n{body}        }}\n{stores}"
            "    }\n}\n")


DT = {}


@pytest.mark.parametrize("precision", ["float", "double"])
def test_c_matches_numpy_bit_for_bit(cbuild, precision):
    DT.clear()
    DT.update({n: __import__("irsnn.lang.types", fromlist=["x"]).resolve_type(t, precision)
               for n, t in VARS})
    sc = scope(precision)
    checked = {}
    src = [C99.prelude]
    for name, code in BLOCKS.items():
        w = Where("Model 'test'", name)
        checked[name] = check(parse_statements(code, w), sc, w, code)
        src.append(c_source(checked[name], name, precision))
    lib = cbuild("\n".join(src))
    rng = np.random.default_rng(7)
    n = 257
    rdt = DTYPES[precision]
    for name in BLOCKS:
        env = {k: v.astype(DTYPES[DT[k]]) for k, v in inputs(rng, n).items()}
        c_arrays = {k: v.copy() for k, v in env.items()}
        out_c = np.zeros(n, rdt)
        fn = getattr(lib, name)
        fn(ctypes.c_int(n), *[c_arrays[k].ctypes.data_as(ctypes.c_void_p) for k, _ in VARS],
           out_c.ctypes.data_as(ctypes.c_void_p))
        out_np = np.zeros(n, rdt)

        def inject(mask, value, out=out_np):
            v = np.broadcast_to(value, out.shape)
            out[...] = out + (v if mask is None else np.where(mask, v, 0))

        env["__intrinsics__"] = {"injectCurrent": inject}
        compile_numpy(checked[name]).run(env)
        for k, _ in VARS:
            got = np.broadcast_to(env[k], (n,))
            assert got.dtype == c_arrays[k].dtype, (name, k)
            assert np.array_equal(got.view(np.uint8), c_arrays[k].view(np.uint8)), \
                (name, k, got[:8], c_arrays[k][:8])
        assert np.array_equal(out_c, out_np), name


def test_expression_rendering_and_literals():
    sc = scope()
    e = parse_expression("x >= 0.1 && y < 1e-3f ? exp(x) : pow(d, 2.0) + 4000000000")
    c = check(e, sc)
    text = CStyleRenderer(C99).render_expression(e, c, names)
    assert text == ("(((bool)(l_x >= 0.10000000149011612f) & "
                    "(bool)(l_y < 0.0010000000474974513f)) ? "
                    "((double)(expf(l_x))) : (pow(l_d, ((double)(2.0f))) + "
                    "((double)(4000000000u))))")
    # a float literal round-trips exactly through its rendered text
    for v in (0.1, 1 / 3, 1e-38, 3.4028234e38, 16777217.0):
        f = np.float32(v)
        lit_tree = parse_expression(repr(v))
        lit = CStyleRenderer(C99).render_expression(lit_tree, check(lit_tree, sc), names)
        assert np.float32(float(lit[:-1])) == f and lit.endswith("f")


def test_statement_rendering_locals_and_decls():
    sc = scope()
    code = "const bool spike = x > 1.0; int k; for (int j = 0; j < 3; j++) k += j; a = k % 2;"
    c = check(parse_statements(code), sc)
    text = CStyleRenderer(C99).render_statements(c.tree, c, names)
    assert "const bool _l_spike = (l_x > 1.0f);" in text
    assert "int _l_k = 0;" in text
    # int arithmetic wraps (computed unsigned), so does the loop's step
    assert "for (int _l_j = 0; (_l_j < 3); _l_j = ((int)((unsigned int)_l_j + 1u)))" in text
    assert "l_a = (_l_k % 2);" in text
    # a later block refers to the top-level local by its mangled name
    th = check(parse_expression("spike && y > 0.0"), c.scope_after)
    assert CStyleRenderer(C99).render_expression(th.tree, th, names) == \
        "((bool)_l_spike & (bool)(l_y > 0.0f))"


def test_dialect_is_data_only():
    cuda_like = Dialect(float_functions={**C99.float_functions, "exp": "__expf"},
                        type_names={"bool": "_Bool"}, prelude="")
    sc = scope()
    c = check(parse_statements("bool g = exp(x) > 1.0; x = min(x, 2.0); a = max(a, 1);"), sc)
    text = CStyleRenderer(cuda_like).render_statements(c.tree, c, names)
    assert "__expf(l_x)" in text and "fminf(l_x, 2.0f)" in text and "irsnn_max_i(l_a, 1)" in text
    assert "_Bool _l_g = " in text and C99.type_name("unsigned int") == "unsigned int"


def test_missing_intrinsic_or_rng_renderer_is_an_error():
    sc = scope().with_rng()
    c = check(parse_statements("injectCurrent(1.0);"), sc)
    with pytest.raises(LangError, match="'injectCurrent' cannot be used in this context"):
        CStyleRenderer(C99).render_statements(c.tree, c, names)
    c = check(parse_statements("x = gennrand_normal();"), sc)
    with pytest.raises(LangError, match="random numbers"):
        CStyleRenderer(C99).render_statements(c.tree, c, names)
    text = CStyleRenderer(C99).render_statements(
        c.tree, c, names, rng={"gennrand_normal": lambda site: f"irsnn_normal(seed, {site})"})
    assert text == "l_x = irsnn_normal(seed, 0);\n"


def test_logical_operators_keep_short_circuit_where_the_right_side_could_trap():
    """``&&`` becomes a branch-free ``&`` only when the right operand is pure and trap-free."""
    from irsnn.lang import Scope, Symbol, check, parse_expression
    from irsnn.lang.render_c import C99, CStyleRenderer
    scope = Scope([Symbol("S", "unsigned int"), Symbol("E", "unsigned int"),
                   Symbol("x", "scalar"), Symbol("T", "scalar", "egp", is_array=True)]).with_rng()
    r = CStyleRenderer(C99)

    def render(code):
        c = check(parse_expression(code), scope)
        return r.render_expression(c.tree, c, lambda s: s.name,
                                   rng={"gennrand_uniform": lambda site: "u()"})
    assert "&&" in render("S != E && x >= T[S]")
    assert "&&" in render("x > 0.0 && gennrand_uniform() > 0.5")
    assert "||" not in render("x > 1.0 || x < -1.0")


@pytest.mark.parametrize("precision", ["float", "double"])
def test_fmax_fmin_follow_numpy_on_nan_inf_and_zeros(cbuild, precision):
    """C renders fmax/fmin/max/min of reals as inline comparisons (vectorisable; libm's
    fmaxf is a call): NaN yields the other argument and every other pair the same bits as
    NumPy's fmax/fmin, which the reference backend uses."""
    sc = scope(precision)
    code = "x = fmax(x, y); y = fmin(d, (double)y); d = max(d, (double)x) + min(d, 0.5);"
    checked = check(parse_statements(code), sc)
    text = CStyleRenderer(C99).render_statements(checked.tree, checked, names)
    assert "irsnn_fmax" in text and "irsnn_fmin" in text
    DT.clear()
    DT.update({n: __import__("irsnn.lang.types", fromlist=["x"]).resolve_type(t, precision)
               for n, t in VARS})
    lib = cbuild(C99.prelude + c_source(checked, "minmax", precision))
    special = [np.nan, -np.inf, np.inf, -0.0, 0.0, 1.5, -2.0]
    pairs = np.array([(a, b) for a in special for b in special])
    n = len(pairs)
    env = {k: v.astype(DTYPES[DT[k]]) for k, v in inputs(np.random.default_rng(1), n).items()}
    env["x"] = pairs[:, 0].astype(DTYPES[DT["x"]])
    env["y"] = pairs[:, 1].astype(DTYPES[DT["y"]])
    env["d"] = pairs[::-1, 0].copy()
    c_arrays = {k: v.copy() for k, v in env.items()}
    lib.minmax(ctypes.c_int(n), *[c_arrays[k].ctypes.data_as(ctypes.c_void_p) for k, _ in VARS],
               np.zeros(n, DTYPES[precision]).ctypes.data_as(ctypes.c_void_p))
    compile_numpy(checked).run(env)
    for k in ("x", "y", "d"):
        got, want = c_arrays[k], np.broadcast_to(env[k], (n,))
        same = (got == want) | (np.isnan(got) & np.isnan(want))
        assert same.all(), (k, pairs[~same], got[~same], want[~same])
