"""Shared fixtures for the code-string language tests."""

import ctypes
import shutil
import subprocess

import pytest

from irsnn.lang import FunctionSig, Scope, Symbol, Where


@pytest.fixture
def where():
    return Where("Population 'hidden' (LeakyIntegrateFire)", "sim_code")


@pytest.fixture
def lif_scope():
    """A scope like a LIF neuron's: vars, params, built-ins, math, rng, one intrinsic."""
    return Scope([
        Symbol("V", "scalar", "var", writable=True),
        Symbol("RefracTime", "scalar", "var", writable=True),
        Symbol("Alpha", "scalar", "param"),
        Symbol("Vthresh", "scalar", "param"),
        Symbol("TauRefrac", "scalar", "param"),
        Symbol("Isyn", "scalar", "builtin"),
        Symbol("dt", "scalar", "builtin"),
        Symbol("t", "scalar", "builtin"),
        Symbol("id", "unsigned int", "builtin"),
        Symbol("StartSpike", "unsigned int", "var", writable=True),
        Symbol("EndSpike", "unsigned int", "var"),
        Symbol("SpikeTimes", "scalar", "egp", is_array=True),
        Symbol("Input", "scalar", "var", writable=True),
        Symbol("count", "int", "var", writable=True),
        FunctionSig("injectCurrent", ("scalar",), "void", "intrinsic"),
    ]).with_math().with_rng()


@pytest.fixture(scope="session")
def cbuild(tmp_path_factory):
    """Compile C source into a shared library and load it with ctypes (skip without gcc)."""
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    counter = iter(range(10**6))

    def build(source):
        d = tmp_path_factory.mktemp("cbuild")
        src, lib = d / "k.c", d / f"k{next(counter)}.so"
        src.write_text(source)
        res = subprocess.run([cc, "-std=c99", "-O2", "-ffp-contract=off", "-fno-fast-math",
                              "-shared", "-fPIC", "-Wall", "-Werror=implicit-function-declaration",
                              "-o", str(lib), str(src), "-lm"], capture_output=True, text=True)
        assert res.returncode == 0, res.stderr + "\n" + source
        return ctypes.CDLL(str(lib))

    return build
