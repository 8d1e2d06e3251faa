"""The ``irsnn`` command line: dump (text/json/dot, print-after-all, dump-dir), backends."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from irsnn.cli import main
from irsnn.ir import from_json

MODEL = '''
from irsnn import Connection, Network, Population
from irsnn.connectivity import Dense, FixedProbability
from irsnn.neurons import AdaptiveLeakyIntegrateFire, LeakyIntegrate, SpikeInput


def build():
    network = Network()
    with network:
        inp = Population(SpikeInput(max_spikes=100), 8, name="input")
        hid = Population(AdaptiveLeakyIntegrateFire(tau_refrac=2.0), 6, name="hidden")
        out = Population(LeakyIntegrate(readout="sum_var"), 2, name="output")
        Connection(inp, hid, Dense(0.5))
        Connection(hid, hid, FixedProbability(0.5, 0.1))
        Connection(hid, out, Dense(0.25))
    return network


network = build()
number = 3
'''


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "model.py"
    path.write_text(MODEL)
    return path


def test_dump_print_after_all_shows_every_pass(model_file, capsys):
    assert main(["dump", f"{model_file}:build", "--print-after-all"]) == 0
    out = capsys.readouterr().out
    for name in ("validate", "infer-shapes", "insert-readout", "batch-state",
                 "insert-recording"):
        assert f"// ----- IR after {name} -----" in out
    assert "rec.hidden->hidden" in out and "AdaptiveLeakyIntegrateFire" in out


def test_dump_formats(model_file, capsys, tmp_path):
    assert main(["dump", f"{model_file}:network", "--format", "json"]) == 0
    data = capsys.readouterr().out
    g = from_json(data, {})
    assert g.has_node("readout.output")
    assert main(["dump", f"{model_file}:network", "--format", "dot"]) == 0
    dot = capsys.readouterr().out
    assert dot.startswith("digraph")
    if shutil.which("dot"):
        subprocess.run(["dot", "-Tpng", "-o", str(tmp_path / "g.png")], input=dot, text=True,
                       check=True)
    assert main(["dump", f"{model_file}:network", "--print-after", "insert-readout",
                 "--dump-dir", str(tmp_path / "d")]) == 0
    assert capsys.readouterr().out.count("IR after") == 1
    files = sorted(p.name for p in (tmp_path / "d").iterdir())
    assert "04-insert-readout.txt" in files
    json.loads((tmp_path / "d" / "06-insert-recording.json").read_text())


def test_dump_errors(model_file, capsys):
    assert main(["dump", f"{model_file}:missing"]) == 2
    assert "has no object 'missing'" in capsys.readouterr().err
    assert main(["dump", f"{model_file}:number"]) == 2
    assert "is a int, not a Network" in capsys.readouterr().err
    assert main(["dump", "nofile.py:x"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["dump", f"{model_file}:network", "--print-after", "nope"]) == 2
    assert "not in this pipeline" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["dump", f"{model_file}:network", "--compiler", "bogus"])


def test_backends_lists_reference(capsys):
    assert main(["backends"]) == 0
    assert "reference  available" in capsys.readouterr().out


def test_console_script_runs(model_file):
    out = subprocess.run([sys.executable, "-m", "irsnn.cli", "dump", f"{model_file}:network"],
                         capture_output=True, text=True, check=True, cwd=Path(model_file).parent)
    assert "node pop.hidden" in out.stdout


def test_emit_kernels_for_c_and_reference(model_file, tmp_path):
    assert main(["dump", f"{model_file}:network", "--emit-kernels", str(tmp_path / "c")]) == 0
    source = (tmp_path / "c" / "irsnn_model.c").read_text()
    assert "int irsnn_run(int64_t steps" in source
    # every per-step kernel is its own (out-of-line) function of one batch element
    assert "static void IRSNN_NOINLINE propagate_s0(int32_t b, " in source
    assert "static void IRSNN_NOINLINE update_g0(int32_t b, " in source
    assert main(["dump", f"{model_file}:network", "--emit-kernels", str(tmp_path / "r"),
                 "--backend", "reference"]) == 0
    assert (tmp_path / "r" / "pop.hidden.py").read_text().startswith("# pop.hidden sim_code")
    assert main(["dump", f"{model_file}:network", "--emit-kernels", str(tmp_path / "x"),
                 "--backend", "tpu"]) == 2


@pytest.mark.parametrize("backend,suffix,marker", [
    ("opencl", ".cl", "__kernel void irsnn_run("),
    ("cuda", ".cu", 'extern "C" __global__ void irsnn_run(')])
def test_emit_kernels_needs_no_device(model_file, tmp_path, backend, suffix, marker, capsys):
    """Kernel source for OpenCL and CUDA is written with or without a device or driver, and
    the dump says which plan runs it."""
    out = tmp_path / backend
    assert main(["dump", f"{model_file}:network", "--emit-kernels", str(out),
                 "--backend", backend, "--compiler", "eprop"]) == 0
    (source,) = out.glob(f"*{suffix}")
    assert marker in source.read_text()
    assert "plan: one " in capsys.readouterr().err


def test_dump_says_when_examples_take_several_work_groups(model_file, tmp_path, capsys,
                                                          monkeypatch):
    monkeypatch.setenv("IRSNN_WORK_GROUP_SIZE", "32")
    monkeypatch.setenv("IRSNN_BLOCKS_PER_EXAMPLE", "4")
    out = tmp_path / "grid"
    assert main(["dump", f"{model_file}:network", "--emit-kernels", str(out),
                 "--backend", "cuda"]) == 0
    (source,) = out.glob("*.cu")
    assert 'extern "C" __global__ void irsnn_step_0(' in source.read_text()
    err = capsys.readouterr().err
    assert "plan: 4 work-groups of 32 threads per batch element" in err
    assert "launches of their own" in err
