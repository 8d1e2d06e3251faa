"""Name resolution and type checking."""

import pytest

from irsnn.lang import FunctionSig, LangError, Scope, Symbol, Where, check, parse_expression
from irsnn.lang import ast as A
from irsnn.lang import parse_statements


def chk(code, scope, block="sim_code", expr=False):
    w = Where("Population 'hidden' (LeakyIntegrateFire)", block)
    tree = (parse_expression if expr else parse_statements)(code, w)
    return check(tree, scope, w, code)


def types_of(checked, cls):
    return [checked.types[id(n)] for n in A.walk(checked.tree) if isinstance(n, cls)]


def test_reads_writes_and_types(lif_scope):
    c = chk("V = (Alpha * V) + Isyn;\nif (RefracTime > 0.0) { RefracTime -= dt; }", lif_scope)
    assert c.reads == {"V", "Alpha", "Isyn", "RefracTime", "dt"}
    assert c.writes == {"V", "RefracTime"}
    assert c.types[id(c.tree.stmts[0].value)] == "float"
    assert types_of(c, A.FloatLit) == ["float"]  # unsuffixed literal is scalar -> float
    d = chk("V = V * 2.0;", lif_scope.copy(precision="double"))
    assert types_of(d, A.FloatLit) == ["double"] and d.types[id(d.tree.stmts[0].value)] \
        == "double"


@pytest.mark.parametrize("code, expected", [
    ("1 + 2", "int"), ("1 + 2u", "unsigned int"), ("1 + 2.0f", "float"),
    ("1.0f + (double)2", "double"), ("1 / 2", "int"), ("count % 3", "int"),
    ("V < 1", "bool"), ("!V", "bool"), ("V && count", "bool"), ("true + true", "int"),
    ("-true", "int"), ("~id", "unsigned int"), ("id << 2", "unsigned int"),
    ("count ? 1 : 2.0", "float"), ("count ? true : false", "bool"),
    ("exp(1)", "float"), ("exp(1.0f)", "float"), ("pow(2.0f, (double)1)", "double"),
    ("min(1, 2)", "int"), ("max(id, 2u)", "unsigned int"), ("min(1, 2.0)", "float"),
    ("abs(count)", "int"), ("fabs(count)", "float"), ("gennrand_uniform()", "float"),
    ("SpikeTimes[StartSpike]", "float"), ("(int)V", "int"), ("(bool)count", "bool"),
])
def test_expression_types(lif_scope, code, expected):
    c = chk(code, lif_scope, expr=True)
    assert c.types[id(c.tree)] == expected


def test_locals_cross_blocks(lif_scope):
    sim = chk("const bool spike = gennrand_uniform() >= exp(-fabs(Input) * dt);"
              "{ scalar inner = 1.0; V = inner; }", lif_scope)
    assert sim.locals == {"spike": "bool"}
    assert "spike" not in lif_scope.symbols  # scope is not modified
    th = chk("Input > 0.0 && spike", sim.scope_after, "threshold_condition_code", expr=True)
    assert th.reads == {"Input", "spike"}
    assert th.scope.symbols["spike"].kind == "local"
    with pytest.raises(LangError, match="cannot assign to 'spike': it is a const local"):
        chk("spike = false;", sim.scope_after, "reset_code")
    with pytest.raises(LangError, match="unknown name 'inner'"):
        chk("inner > 0.0", sim.scope_after, "threshold_condition_code", expr=True)


def test_rng_sites_numbered_across_blocks(lif_scope):
    a = chk("V = gennrand_uniform() + gennrand_normal(); if (V > 0.0) "
            "{ V = gennrand_exponential(); }", lif_scope)
    calls = [n for n in A.walk(a.tree) if isinstance(n, A.Call)]
    assert [a.rng_sites[id(c)] for c in calls] == [0, 1, 2]
    b = chk("gennrand_uniform() > 0.5", a.scope_after, "threshold", expr=True)
    assert list(b.rng_sites.values()) == [3] and b.scope_after.next_rng_site == 4


def test_intrinsic(lif_scope):
    c = chk("injectCurrent(V * 2.0);", lif_scope)
    assert c.arg_types[id(c.tree.stmts[0].expr)] == ("float",)
    with pytest.raises(LangError, match="returns nothing"):
        chk("V = injectCurrent(1.0);", lif_scope)


def _err(code, scope, expr=False):
    with pytest.raises(LangError) as ei:
        chk(code, scope, expr=expr)
    msg = str(ei.value)
    assert msg.startswith("Population 'hidden' (LeakyIntegrateFire), sim_code, line ")
    return ei.value


@pytest.mark.parametrize("code, line, col, words", [
    ("V = Vthres;", 1, 5, "unknown name 'Vthres'. Did you mean 'Vthresh'?"),
    ("V = 1.0;\nV = foo(V);", 2, 5, "unknown function 'foo'"),
    ("system(1);", 1, 1, "unknown function 'system'"),
    ("Alpha = 1.0;", 1, 1, "cannot assign to 'Alpha': it is a parameter"),
    ("dt = 1.0;", 1, 1, "it is a built-in"),
    ("EndSpike++;", 1, 1, "read-only variable"),
    ("SpikeTimes[0] = 1.0;", 1, 1, "read-only extra global parameter"),
    ("V = exp(1.0, 2.0);", 1, 5, "takes 1 argument(s) but 2 were given"),
    ("V = gennrand_uniform(1);", 1, 5, "takes 0 argument(s)"),
    ("V = V[0];", 1, 5, "'V' is not an array"),
    ("V = SpikeTimes;", 1, 5, "is an array and needs an index"),
    ("V = SpikeTimes[V];", 1, 16, "index must be an integer"),
    ("count = V;", 1, 1, "converting float to int would drop the fraction"),
    ("int k = 1.5;", 1, 5, "converting float to int"),
    ("count += 0.5;", 1, 1, "would drop the fraction"),
    ("V = fmod(V, 2.0) + V % 2.0;", 1, 22, "Use fmod"),
    ("count = count & V;", 1, 15, "bitwise operator '&' needs integer operands"),
    ("count = ~V;", 1, 9, "'~' needs an integer"),
    ("scalar V = 1.0;", 1, 8, "'V' is already declared"),
    ("int a = 1; { int a = 2; }", 1, 18, "'a' is already declared"),
    ("int exp = 1;", 1, 5, "'exp' is already declared"),
    ("V = x; scalar x = 1.0;", 1, 5, "used before its declaration (line 1, column 15)"),
    ("V = exp;", 1, 5, "'exp' is a function"),
    ("V = V(1);", 1, 5, "'V' is a var, not a function"),
    ("bool b = true; b++;", 1, 16, "cannot be applied to a bool"),
    ("injectCurrent((int)1);", 1, 1, ""),
    ("V = 1e39f;", 1, 5, "out of range"),
])
def test_errors(lif_scope, code, line, col, words):
    if code.startswith("injectCurrent"):  # int -> scalar argument is fine
        chk(code, lif_scope)
        return
    e = _err(code, lif_scope)
    assert (e.line, e.column) == (line, col), str(e)
    assert words in str(e)
    assert e.fix


def test_unknown_name_lists_known_names(lif_scope):
    msg = str(_err("V = Alhpa;", lif_scope))
    assert "Did you mean 'Alpha'?" in msg and "Known names:" in msg and "Vthresh" in msg
    assert "V = Alhpa;\n        ^" in msg


def test_precision_and_custom_scope():
    s = Scope([Symbol("x", "uint32_t", "var", True), Symbol("y", "double", "param")],
              [FunctionSig("twice", ("scalar",), "scalar", "math")], precision="double")
    c = chk("x = (unsigned)twice(y);", s)
    assert c.writes == {"x"} and c.reads == {"y"}
    with pytest.raises(ValueError):
        Scope(precision="half")
    with pytest.raises(ValueError):
        Symbol("z", "float", "weird")
    for bad in ("V; import os", "_x", "1a", ""):
        with pytest.raises(ValueError, match="not a valid identifier"):
            Symbol(bad, "float")
