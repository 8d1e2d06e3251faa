"""Names a user writes (populations, connections, the compile name) never escape a comment of
generated C, OpenCL or CUDA, never name a file outside the folder it is written to, and a
model with such names runs on every backend as on the reference (issue 17)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from irsnn import Connection, Network, Population
from irsnn.backends import load_backend
from irsnn.backends.kernels.render import comment_text, file_stem
from irsnn.cli import main
from irsnn.compilers import InferenceCompiler
from irsnn.connectivity import Dense
from irsnn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput

from ..conformance.conftest import BACKENDS
from ..models import random_spikes

#: would define a function run when the library is loaded
CONSTRUCTOR = "*/ __attribute__((constructor)) static void irsnn_x(void){ } /*"
#: would make the compiler read (and print) a file
INCLUDE = '*/\n#include "/etc/hostname"\n/*'
HOSTILE = [CONSTRUCTOR, INCLUDE, "/*", "*/", "x*/*/y", "\u00e9\u4e2d\U0001f600",
           "ctl\x00\x07\x1b[2J\r\t\\", "../../escape"]
T = 8


def build(names, seed=0):
    """Input -> LIF -> LI with every population and connection named from ``names``
    (dyadic weights: every backend computes the same bits)."""
    a, b, c = (names * 3)[:3]
    rng = np.random.default_rng(seed)
    net = Network()
    with net:
        inp = Population(SpikeInput(max_spikes=200), 6, name="in " + a)
        hid = Population(LeakyIntegrateFire(v_thresh=0.5, tau_mem=8.0), 5, name="hid " + b)
        out = Population(LeakyIntegrate(tau_mem=8.0, readout="sum_var"), 3, name="out " + c)
        Connection(inp, hid, Dense(rng.integers(-2, 5, (6, 5)) * 0.125), name="c0 " + b)
        Connection(hid, out, Dense(rng.integers(-2, 5, (5, 3)) * 0.125), name="c1 " + c)
    return net, inp, out


def compiler(backend="reference"):
    return InferenceCompiler(evaluate_timesteps=T, batch_size=2, backend=backend)


def code_outside_comments(source: str) -> str:
    """``source`` with its ``/* */`` comments removed (the generated text has no string
    literal that could hold a comment marker)."""
    return re.sub(r"/\*.*?\*/", " ", source, flags=re.S)


def assert_contained(source: str, name: str):
    """No hostile text outside comments; every comment on one line; no injected directive."""
    code = code_outside_comments(source)
    for marker in ("__attribute__((constructor))", "irsnn_x", "/etc/hostname", "escape"):
        assert marker not in code, f"{marker!r} outside a comment"
    assert "*/" not in code and "/*" not in code, "a comment ended early or was left open"
    for comment in re.findall(r"/\*.*?\*/", source, flags=re.S):
        assert "\n" not in comment, f"comment over several lines: {comment!r}"
        assert comment[2:-2].isascii() and comment[2:-2].isprintable(), comment
    assert not any(line.lstrip().startswith('#include "') for line in source.splitlines())
    assert comment_text(name) in source  # the name is still there, for the reader


@pytest.mark.parametrize("text", HOSTILE + ["input", "pop.hidden (LIF)", "syn.a->b"])
def test_comment_text_keeps_one_line_of_printable_ascii(text):
    safe = comment_text(text)
    assert safe.isascii() and safe.isprintable()
    assert "*/" not in safe and "/*" not in safe
    if text.isascii() and text.isprintable() and "*/" not in text and "/*" not in text:
        assert safe == text  # ordinary names unchanged: the kernel cache stays valid


@pytest.mark.parametrize("name", HOSTILE)
@pytest.mark.parametrize("target", ["c", "opencl", "cuda"])
def test_generated_source_keeps_hostile_names_in_comments(target, name):
    net, *_ = build([name])
    ir = compiler().build_ir(net, name)
    files = load_backend(target).kernel_source(ir)
    ((file, source),) = files.items()
    assert "/" not in file and "\\" not in file and not file.startswith(".")
    suffix = {"c": "c", "opencl": "cl", "cuda": "cu"}[target]
    assert file == f"{file_stem(name, '.-')}.{suffix}"
    assert_contained(source, name)


@pytest.mark.parametrize("name", [CONSTRUCTOR, INCLUDE, "\u00e9\x07/*"])
def test_hostile_names_compile_for_cuda_without_warnings(name):
    pytest.importorskip("cuda.bindings.nvrtc",
                        reason="cuda-bindings/nvidia-cuda-nvrtc not installed")
    from irsnn.backends.cuda import _source, compile_with_nvrtc
    net, *_ = build([name])
    source = _source(compiler().build_ir(net, name))
    ok, log = compile_with_nvrtc(source, "sm_80")
    assert ok and log == "", log


def run(backend, names):
    net, inp, out = build(names)
    compiled = compiler(backend).compile(net, name="".join(names))
    x = random_spikes(4, 6, T, rate=0.4, seed=3)
    with compiled:
        preds, _ = compiled.predict({inp: x}, [out])
    (pred,) = preds.values()
    return np.asarray(pred)


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b != "reference"] or ["reference"])
def test_hostile_names_run_as_on_the_reference(backend):
    """Every hostile name at once (populations, connections and the compile name)."""
    names = [CONSTRUCTOR, INCLUDE, "\u00e9\x00\x1b/*"]
    ref = run("reference", names)
    assert np.any(ref != 0)
    np.testing.assert_array_equal(run(backend, names), ref)


@pytest.mark.parametrize("backend", ["c", "opencl", "cuda", "reference"])
def test_emit_kernels_writes_inside_the_folder(tmp_path, backend):
    """``irsnn dump --emit-kernels`` with a hostile model name writes only into its folder."""
    model = tmp_path / "model.py"
    model.write_text(
        "from irsnn import Connection, Network, Population\n"
        "from irsnn.connectivity import Dense\n"
        "from irsnn.neurons import LeakyIntegrate, SpikeInput\n"
        "network = Network()\n"
        "with network:\n"
        "    a = Population(SpikeInput(max_spikes=10), 2, name='../../pop\\n#include \"x\"')\n"
        "    b = Population(LeakyIntegrate(readout='sum_var'), 2, name='*/ int y; /*')\n"
        "    Connection(a, b, Dense(0.5))\n")
    out = tmp_path / "deep" / "out"
    assert main(["dump", f"{model}:network", "--name", "../../" + CONSTRUCTOR,
                 "--emit-kernels", str(out), "--backend", backend]) == 0
    written = sorted(p for p in tmp_path.rglob("*") if p.is_file() and p != model)
    assert written and all(p.parent == out for p in written), written
    for p in written:
        text = p.read_text()
        assert not any(line.startswith("#include \"") for line in text.splitlines())
        if backend != "reference":
            assert "int y;" not in code_outside_comments(text)
            assert "irsnn_x" not in code_outside_comments(text)
