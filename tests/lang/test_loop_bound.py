"""Every loop of model code is bounded the same way on every backend (issue 17): after
``MAX_LOOP_ITERATIONS`` iterations of one loop for one lane with its condition still true, the
run stops with :class:`LangError` naming the model, the block, the line and column. On
0cd8725 the C loop ran forever (and ignored Ctrl-C); here C runs in a child process, so a
hang fails the test instead of stalling the run."""

from __future__ import annotations

import numpy as np
import pytest

import irsnn.lang.limits as limits
from irsnn.lang import LangError, Where

from .lanes import build_c, c_function, checked_block, in_child, lane_arrays, run_c, run_numpy

FOREVER = {
    "while": "c = 0;\nwhile (true) { c++; }",
    "for": "x = 0.0f;\nfor (;;) { x += 1.0f; }",
    "nested": "for (int i = 0; i < 3; i++) {\n  int j = 0;\n  while (j >= 0) { j = j + 1 - i; }\n}",
    "lane": "c = 0;\nwhile (c < a) { c += b; }",   # only lanes with b <= 0 (and c < a) spin
}
#: where the loop that spins starts (line, column)
SPIN_AT = {"while": (2, 1), "for": (2, 1), "nested": (3, 3), "lane": (2, 1)}
WHERE = Where("Population 'pop' (Spinner)", "sim_code")


def _c_run(code, limit, env):
    limits.MAX_LOOP_ITERATIONS = limit    # in the child only
    checked = checked_block(code, where=WHERE)
    lib = build_c([c_function(checked, "k")])
    status = np.zeros(1, np.int32)
    out = run_c(lib, "k", env, status)
    return int(status[0]), out


def _env():
    return lane_arrays({"a": np.array([5, 1000, 7, 3], np.int32),
                        "b": np.array([1, 1, 0, -2], np.int32)}, 4)


@pytest.mark.parametrize("name", FOREVER)
def test_c_stops_a_loop_at_the_bound_and_reports_its_site(name):
    if build_c([]) is None:
        pytest.skip("no C compiler")
    kind, (site, _) = in_child(_c_run, FOREVER[name], limits.MAX_LOOP_ITERATIONS, _env())
    assert kind == "ok"
    assert site == (2 if name == "nested" else 1)   # the nested block's second loop spins


@pytest.mark.parametrize("name", FOREVER)
def test_reference_stops_the_same_loops(name, monkeypatch):
    monkeypatch.setattr(limits, "MAX_LOOP_ITERATIONS", 2000)
    checked = checked_block(FOREVER[name], where=WHERE)
    with pytest.raises(LangError) as info:
        run_numpy(checked, _env())
    line, col = SPIN_AT[name]
    assert (info.value.line, info.value.column) == (line, col)
    assert "Population 'pop' (Spinner), sim_code" in str(info.value)
    assert "ran 2000 iterations" in str(info.value)


def test_a_loop_of_exactly_the_bound_runs_on_both():
    code = "c = 0;\nwhile (c < a) { c++; }\nfor (int i = 0; i < b; i++) { x += 0.5f; }"
    n = 3000
    env = lane_arrays({"a": np.array([n, 0, 7], np.int32), "b": np.array([n, 1, n], np.int32)},
                      3)
    ref_limit = limits.MAX_LOOP_ITERATIONS
    try:
        limits.MAX_LOOP_ITERATIONS = n
        ref = run_numpy(checked_block(code), env)
    finally:
        limits.MAX_LOOP_ITERATIONS = ref_limit
    np.testing.assert_array_equal(ref["c"], [n, 0, 7])
    np.testing.assert_array_equal(ref["x"], [n * 0.5, 0.5, n * 0.5])
    if build_c([]) is None:
        return
    kind, (site, out) = in_child(_c_run, code, n, env)
    assert kind == "ok" and site == 0
    for k in ("c", "x"):
        np.testing.assert_array_equal(out[k], ref[k])
    kind, (site, _) = in_child(_c_run, code, n - 1, env)
    assert site == 1   # one iteration fewer allowed: the first loop is stopped


def test_the_default_bound_is_a_million_in_c():
    if build_c([]) is None:
        pytest.skip("no C compiler")
    code = "c = 0;\nwhile (c < a) { c++; }"
    env = lane_arrays({"a": np.array([10**6, 10**6 + 1], np.int32)}, 2)
    kind, (site, out) = in_child(_c_run, code, 10**6, env)
    assert kind == "ok" and site == 1
    assert out["c"][0] == 10**6   # the first lane finished exactly at the bound
