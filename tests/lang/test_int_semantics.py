"""The language's integer rules, identical on every backend (issue 17): ``x / 0`` is 0,
``x % 0`` is x, ``INT_MIN / -1`` is INT_MIN (``% -1`` is 0), ``int`` ``+ - *`` and unary
``-`` wrap, shift counts are taken modulo 32. On 0cd8725, C died (SIGFPE) on the first of
these and the reference returned ``x / 0 == x``; run here in a child process where C could
die."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from irsnn.lang import C99, CStyleRenderer

from .lanes import build_c, c_function, checked_block, lane_arrays, run_c, run_numpy

INT_MIN, INT_MAX = -2**31, 2**31 - 1
EDGES = [INT_MIN, INT_MIN + 1, -65536, -33, -32, -31, -7, -2, -1, 0, 1, 2, 3, 7, 31, 32, 33,
         40, 65536, INT_MAX - 1, INT_MAX]


def wrap(v):
    return (v + 2**31) % 2**32 - 2**31


def tdiv(a, b):
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


#: the rules, written independently of every renderer: (a, b) -> result, in Python integers
INT_RULES = {
    "c = a / b;": lambda a, b: 0 if b == 0 else wrap(tdiv(a, b)),
    "c = a % b;": lambda a, b: a if b == 0 else wrap(a - tdiv(a, b) * b),
    "c = a << b;": lambda a, b: wrap(a << (b & 31)),
    "c = a >> b;": lambda a, b: a >> (b & 31),
    "c = a + b;": lambda a, b: wrap(a + b),
    "c = a - b;": lambda a, b: wrap(a - b),
    "c = a * b;": lambda a, b: wrap(a * b),
    "c = -a;": lambda a, b: wrap(-a),
    "c = a; c /= b;": lambda a, b: 0 if b == 0 else wrap(tdiv(a, b)),
    "c = a; c %= b;": lambda a, b: a if b == 0 else wrap(a - tdiv(a, b) * b),
    "c = a; c *= b; c++;": lambda a, b: wrap(a * b + 1),
    "c = a; c -= b; c--;": lambda a, b: wrap(a - b - 1),
    "c = a / 0;": lambda a, b: 0,
    "c = a % 0;": lambda a, b: a,
    "c = a / -1;": lambda a, b: wrap(-a),
    "c = a % -1;": lambda a, b: 0,
    "c = a / 7 + a % -3;": lambda a, b: wrap(tdiv(a, 7) + a - tdiv(a, -3) * -3),
    "c = a << 33;": lambda a, b: wrap(a << 1),
    "c = a >> -1;": lambda a, b: a >> 31,
    "c = a << 4;": lambda a, b: wrap(a << 4),
}
UINT_RULES = {
    "u = u / v;": lambda u, v: 0 if v == 0 else u // v,
    "u = u % v;": lambda u, v: u if v == 0 else u % v,
    "u = u << v;": lambda u, v: (u << (v & 31)) % 2**32,
    "u = u >> v;": lambda u, v: u >> (v & 31),
    "u /= v;": lambda u, v: 0 if v == 0 else u // v,
    "u %= v;": lambda u, v: u if v == 0 else u % v,
    "u = u / 0u;": lambda u, v: 0,
    "u = u % 0u;": lambda u, v: u,
}


def _pairs():
    rng = np.random.default_rng(17)
    a = [x for x in EDGES for _ in EDGES] + list(rng.integers(INT_MIN, INT_MAX, 200))
    b = [y for _ in EDGES for y in EDGES] + list(rng.integers(-40, 40, 200))
    return np.array(a, np.int64), np.array(b, np.int64)


def _expected(rule, p, q):
    return np.array([rule(int(x), int(y)) for x, y in zip(p, q)], np.int64)


@pytest.mark.parametrize("code", list(INT_RULES) + list(UINT_RULES))
def test_reference_follows_the_integer_rules(code):
    a, b = _pairs()
    if code in INT_RULES:
        env = lane_arrays({"a": a.astype(np.int32), "b": b.astype(np.int32)}, len(a))
        got = run_numpy(checked_block(code), env)["c"]
        want = _expected(INT_RULES[code], a, b)
    else:
        u, v = (a % 2**32).astype(np.uint32), (b % 2**32).astype(np.uint32)
        env = lane_arrays({"u": u, "v": v}, len(a))
        got = run_numpy(checked_block(code), env)["u"]
        want = _expected(UINT_RULES[code], u.astype(np.int64), v.astype(np.int64))
    np.testing.assert_array_equal(got.astype(np.int64), want, err_msg=code)


def _c_results(codes, arrays):
    """In a child process (C used to die here): run every block in C, return the results."""
    lib = build_c([c_function(checked_block(code), f"k{i}") for i, code in enumerate(codes)])
    return [run_c(lib, f"k{i}", arrays) for i in range(len(codes))]


def test_c_follows_the_integer_rules_and_does_not_trap():
    if build_c([]) is None:
        pytest.skip("no C compiler")
    a, b = _pairs()
    arrays = lane_arrays({"a": a.astype(np.int32), "b": b.astype(np.int32),
                          "u": (a % 2**32).astype(np.uint32),
                          "v": (b % 2**32).astype(np.uint32)}, len(a))
    codes = list(INT_RULES) + list(UINT_RULES)
    # a worker killed by a signal raises BrokenProcessPool here
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = pool.submit(_c_results, codes, arrays).result(timeout=300)
    for code, out in zip(codes, results):
        if code in INT_RULES:
            want, got = _expected(INT_RULES[code], a, b), out["c"]
        else:
            want = _expected(UINT_RULES[code], arrays["u"].astype(np.int64),
                             arrays["v"].astype(np.int64))
            got = out["u"]
        np.testing.assert_array_equal(got.astype(np.int64), want, err_msg=code)


def test_constant_safe_divisors_and_shift_counts_are_not_guarded():
    def render(code):
        c = checked_block(code)
        return CStyleRenderer(C99).render_statements(c.tree, c, lambda s: s.name)
    assert render("c = a / 7;") == "c = (a / 7);\n"
    assert "irsnn_rem_i" not in render("c = a % -3;")
    assert render("u = u >> 3;") == "u = (u >> ((unsigned int)(3)));\n"
    assert "irsnn_div_i" in render("c = a / b;") and "irsnn_div_i" in render("c = a / -1;")
    assert "irsnn_rem_u" in render("u = u % v;") and "& 31" in render("c = a << b;")
    assert "irsnn_div" not in render("x = x / y;")  # floating-point division is IEEE


#: float value -> (int, unsigned int) under the language's saturating conversion
CONVERSIONS = {np.nan: (0, 0), np.inf: (INT_MAX, 2**32 - 1), -np.inf: (INT_MIN, 0),
               1e10: (INT_MAX, 2**32 - 1), -1e10: (INT_MIN, 0), 2147483520.0: (2147483520,) * 2,
               -2147483648.0: (INT_MIN, 0), 4294967040.0: (INT_MAX, 4294967040),
               -0.75: (0, 0), -1.0: (-1, 0), 3.99: (3, 3), -3.99: (-3, 0), 0.0: (0, 0)}


@pytest.mark.parametrize("src", ["x", "d"])
def test_float_to_integer_conversions_saturate_on_reference_and_c(src):
    values = np.array(list(CONVERSIONS), np.float64)
    want_i = np.array([v[0] for v in CONVERSIONS.values()], np.int64)
    want_u = np.array([v[-1] for v in CONVERSIONS.values()], np.int64)
    code = f"c = (int){src}; u = (unsigned int){src}; a = (int)1e10f; v = (unsigned int)-2.5;"
    env = lane_arrays({"x": values.astype(np.float32), "d": values}, len(values))
    outs = [run_numpy(checked_block(code), env)]
    lib = build_c([c_function(checked_block(code), "k")])
    if lib is not None:
        outs.append(run_c(lib, "k", env))
    for out in outs:
        np.testing.assert_array_equal(out["c"].astype(np.int64), want_i)
        np.testing.assert_array_equal(out["u"].astype(np.int64), want_u)
        assert np.all(out["a"] == INT_MAX) and np.all(out["v"] == 0)
