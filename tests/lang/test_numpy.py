"""NumPy renderer semantics: masks, loops, C integer arithmetic, dtypes, locals, rng, intrinsics."""

import numpy as np
import pytest

from irsnn.lang import (LangError, Scope, Symbol, Where, check, compile_numpy, parse_expression,
                        parse_statements)
from irsnn.rng import CounterRNG, LaneRNG


def build(code, scope, expr=False):
    w = Where("Model 'm'", "threshold" if expr else "sim_code")
    tree = (parse_expression if expr else parse_statements)(code, w)
    c = check(tree, scope, w, code)
    return compile_numpy(c), c


def int_scope(precision="float"):
    return Scope([Symbol("a", "int", "var", True), Symbol("b", "int", "var", True),
                  Symbol("u", "unsigned int", "var", True), Symbol("x", "scalar", "var", True),
                  Symbol("y", "scalar", "var", True), Symbol("f", "bool", "var", True),
                  Symbol("arr", "scalar", "egp", is_array=True)],
                 precision=precision).with_math()


def test_straight_line_is_plain_array_code(lif_scope):
    blk, _ = build("V = (Alpha * V) + Isyn;", lif_scope)
    assert "np.where" not in blk.source and "while" not in blk.source
    assert "_v_V = ((_v_Alpha * _v_V) + _v_Isyn)" in blk.source
    env = {"V": np.array([1.0, 2.0], np.float32), "Alpha": 0.5, "Isyn": np.float32(1.0)}
    blk.run(env)
    assert env["V"].dtype == np.float32 and env["V"].tolist() == [1.5, 2.0]


def test_if_else_masks_and_user_mask(lif_scope):
    code = ("if (RefracTime > 0.0) { RefracTime -= dt; }\n"
            "else if (V >= Vthresh) { V -= Vthresh; RefracTime = TauRefrac; }\nelse { V += 1.0; }")
    blk, _ = build(code, lif_scope)
    env = {"V": np.array([[0.0, 2.0, 0.5]], np.float32),
           "RefracTime": np.array([[2.0, 0.0, 0.0]], np.float32),
           "dt": 1.0, "Vthresh": 1.0, "TauRefrac": 5.0}
    blk.run(env)
    assert env["V"].tolist() == [[0.0, 1.0, 1.5]]
    assert env["RefracTime"].tolist() == [[1.0, 5.0, 0.0]]
    blk.run(env, mask=np.array([[True, False, True]]))
    assert env["V"].tolist() == [[0.0, 1.0, 0.5]] and env["RefracTime"].tolist() == [[0, 5, 5]]
    assert env["V"].shape == (1, 3)


def test_scalar_write_keeps_lane_shape(lif_scope):
    blk, _ = build("V = 0.0;", lif_scope)
    env = {"V": np.ones((2, 3), np.float32)}
    blk.run(env)
    assert env["V"].shape == (2, 3) and env["V"].dtype == np.float32 and not env["V"].any()


def test_c_integer_division_and_remainder():
    blk, _ = build("b = a / 3; a = a % 3; u = u / 2u; y = (scalar)(-7 / 2);", int_scope())
    env = {"a": np.array([7, -7, 6, -1], np.int32), "b": np.zeros(4, np.int32),
           "u": np.array([5, 4294967295, 0, 1], np.uint32), "y": np.zeros(4, np.float32)}
    blk.run(env)
    assert env["b"].tolist() == [2, -2, 2, 0]
    assert env["a"].tolist() == [1, -1, 0, -1]
    assert env["u"].tolist() == [2, 2147483647, 0, 0] and env["u"].dtype == np.uint32
    assert env["y"].tolist() == [-3.0] * 4


def test_int_unsigned_comparison_follows_c():
    e, _ = build("a < u", int_scope(), expr=True)
    # -1 converts to 4294967295u in C
    assert e({"a": np.array([-1, 1], np.int32), "u": np.array([5, 5], np.uint32)}).tolist() \
        == [False, True]


def test_float32_preserved_and_double_precision():
    blk, _ = build("x = x * 0.1 + exp(y) + (scalar)a / 3.0 + min(x, 2.0);", int_scope())
    env = {"x": np.array([1.0], np.float32), "y": np.array([0.5], np.float32),
           "a": np.array([2], np.int32)}
    blk.run(env)
    f = np.float32
    ref = f(1.0) * f(0.1) + np.exp(f(0.5)) + f(2) / f(3.0) + f(1.0)
    assert env["x"].dtype == np.float32 and env["x"][0] == ref
    blk, _ = build("x = x * 0.1;", int_scope("double"))
    env = {"x": np.array([1.0], np.float32)}
    blk.run(env)
    assert env["x"].dtype == np.float64 and env["x"][0] == 0.1


def test_while_and_for_loops_per_lane():
    code = ("int i = 0; b = 0;\nwhile (i < a) { b += i; i++; }\n"
            "for (int j = a; j > 0; j -= 2) { if (j == 3) { x += 10.0; } else { x += 1.0; } }")
    blk, _ = build(code, int_scope())
    env = {"a": np.array([0, 1, 4, 5], np.int32), "b": np.zeros(4, np.int32),
           "x": np.zeros(4, np.float32)}
    blk.run(env)
    assert env["b"].tolist() == [0, 0, 6, 10]
    assert env["x"].tolist() == [0.0, 1.0, 2.0, 12.0]
    assert env["i"].tolist() == [0, 1, 4, 5]  # top-level local stored for later blocks
    assert "j" not in env


def test_runaway_loop(monkeypatch):
    import irsnn.lang.limits as limits
    assert limits.MAX_LOOP_ITERATIONS == 10**6
    monkeypatch.setattr(limits, "MAX_LOOP_ITERATIONS", 1000)
    blk, _ = build("x = 0.0;\nwhile (a > 0) { x += 1.0; }", int_scope())
    with pytest.raises(LangError, match=r"line 2, column 1: this loop ran 1000 iterations "):
        blk.run({"a": np.array([0, 1], np.int32), "x": np.zeros(2, np.float32)})


def test_ternary_and_safe_indexing(lif_scope):
    th, _ = build("StartSpike != EndSpike && t >= SpikeTimes[StartSpike]", lif_scope, expr=True)
    env = {"StartSpike": np.array([0, 2, 3], np.uint32), "EndSpike": np.array([2, 3, 3],
                                                                             np.uint32),
           "SpikeTimes": np.array([1.0, 5.0, 2.0], np.float32), "t": 2.0}
    assert th(env).tolist() == [True, True, False]  # lane 2 indexes past the end: masked out
    env["SpikeTimes"] = np.zeros(0, np.float32)
    env["EndSpike"] = env["StartSpike"]
    assert th(env).tolist() == [False] * 3
    e, _ = build("x > 0.0 ? x : -2 * x", int_scope(), expr=True)
    out = e({"x": np.array([1.5, -1.0], np.float32)})
    assert out.dtype == np.float32 and out.tolist() == [1.5, 2.0]


def test_locals_cross_blocks_poisson(lif_scope):
    w = Where("Population 'in' (PoissonInput)", "sim_code")
    sim_code = "const bool spike = gennrand_uniform() >= exp(-fabs(Input) * dt);"
    sim = check(parse_statements(sim_code, w), lif_scope, w)
    th = check(parse_expression("Input > 0.0 && spike", w), sim.scope_after, w)
    blk, cond = compile_numpy(sim), compile_numpy(th)
    rng = LaneRNG(CounterRNG(42))
    n = 20000
    env = {"Input": np.full(n, 0.2, np.float32), "dt": 1.0, "__rng__": rng, "__shape__": (n,)}
    rng.begin_step(0)
    blk.run(env)
    spikes = cond(env)
    assert spikes.dtype == bool and abs(spikes.mean() - (1 - np.exp(-0.2))) < 0.02
    expected = CounterRNG(42).uniform(0, 0, np.arange(n)) >= np.exp(np.float32(-0.2))
    assert np.array_equal(env["spike"], expected)
    env["Input"][:] = 0.0
    blk.run(env)
    assert not cond(env).any()


def test_rng_repeated_site_in_loop_draws_fresh_numbers(lif_scope):
    blk, _ = build("count = 0; scalar p = 1.0; while (p > 0.05) { p *= gennrand_uniform(); "
                   "count++; }", lif_scope)
    rng = LaneRNG(CounterRNG(1))
    rng.begin_step(3)
    env = {"count": np.zeros(5000, np.int32), "__rng__": rng}
    blk.run(env)  # lane shape inferred from the inputs
    assert 2.5 < env["count"].mean() < 4.5  # Poisson(-ln 0.05 ~ 3) + 1


def test_intrinsics_get_mask(lif_scope):
    calls = []
    blk, _ = build("if (V > 0.0) { injectCurrent(V * 2.0); }", lif_scope)
    env = {"V": np.array([1.0, -1.0, 2.0], np.float32),
           "__intrinsics__": {"injectCurrent": lambda m, x: calls.append((m.tolist(),
                                                                          x.tolist()))}}
    blk.run(env)
    assert calls == [([True, False, True], [2.0, -2.0, 4.0])]


def test_array_element_write():
    s = Scope([Symbol("buf", "int", "egp", writable=True, is_array=True),
               Symbol("i", "int", "var"), Symbol("v", "int", "var")])
    blk, _ = build("if (v > 0) { buf[i] += v; }", s)
    env = {"buf": np.zeros(4, np.int32), "i": np.array([0, 2, 3]), "v": np.array([5, 6, -1])}
    blk.run(env)
    assert env["buf"].tolist() == [5, 0, 6, 0]
    env["i"] = np.array([9, 0, 0])
    with pytest.raises(LangError, match="out of range"):
        blk.run(env)


def test_c_round_and_math_dtypes():
    e, _ = build("round(x)", int_scope(), expr=True)
    x = np.array([0.5, -0.5, 1.5, 2.5, -2.5, 0.49999997, 1e8], np.float32)
    out = e({"x": x})
    assert out.dtype == np.float32
    assert out.tolist() == [1.0, -1.0, 2.0, 3.0, -3.0, 0.0, 1e8]
    e, _ = build("abs(a) + min(a, 3) + max(u, 2u)", int_scope(), expr=True)
    out = e({"a": np.array([-5], np.int32), "u": np.array([1], np.uint32)})
    assert out.dtype == np.uint32 and out.tolist() == [2]  # 5 + (-5) + 2
