"""``irsnn dump --emit-kernels --backend cuda`` writes source that NVRTC and nvcc both compile.

NVRTC has no standard headers (the generated header supplies the integer types), while nvcc
includes glibc's, whose ``int64_t`` is ``long``: a header that declared the types for both
failed under nvcc (``invalid redeclaration of type name "int64_t"``). nvcc compiles for a
GPU architecture without a GPU; the nvcc test is skipped where nvcc is not installed, the NVRTC
one where cuda-bindings/nvidia-cuda-nvrtc are not.
"""

import shutil
import subprocess

import pytest

from irsnn.cli import main

MODELS = '''
from irsnn import Connection, Network, Population
from irsnn.connectivity import Dense, FixedProbability
from irsnn.neurons import (AdaptiveLeakyIntegrateFire, LeakyIntegrate, LeakyIntegrateFire,
                           SpikeInput)


def alif():
    network = Network()
    with network:
        inp = Population(SpikeInput(max_spikes=100), 8, name="input")
        hid = Population(AdaptiveLeakyIntegrateFire(tau_refrac=2.0), 6, name="hidden")
        out = Population(LeakyIntegrate(readout="sum_var"), 2, name="output")
        Connection(inp, hid, Dense(0.5))
        Connection(hid, hid, FixedProbability(0.5, 0.1))
        Connection(hid, out, Dense(0.25))
    return network


def sparse():
    network = Network()
    with network:
        inp = Population(SpikeInput(max_spikes=100), 10, name="input")
        hid = Population(LeakyIntegrateFire(v_thresh=0.6), 8, name="hidden")
        out = Population(LeakyIntegrate(readout="avg_var"), 2, name="output")
        Connection(inp, hid, Dense(0.5, delay=2))
        Connection(hid, hid, FixedProbability(0.2, 0.3, layout="sparse"))
        Connection(hid, out, Dense(0.25))
    return network
'''

#: (model function, compiler): inference and training (e-prop) kernels, dense and ragged
CASES = [("alif", "inference"), ("alif", "eprop"), ("sparse", "inference"),
         ("sparse", "eprop")]


@pytest.fixture(scope="module")
def emitted(tmp_path_factory):
    """The .cu files ``irsnn dump --emit-kernels`` writes for every case."""
    root = tmp_path_factory.mktemp("emit")
    (root / "models.py").write_text(MODELS)
    files = []
    for model, compiler in CASES:
        out = root / f"{model}_{compiler}"
        assert main(["dump", f"{root / 'models.py'}:{model}", "--emit-kernels", str(out),
                     "--backend", "cuda", "--compiler", compiler]) == 0
        (cu,) = out.glob("*.cu")
        files.append(cu)
    return files


def nvcc(files, mode, out_dir):
    """Compile every file with ``nvcc mode`` (one process each): no error, no warning."""
    suffix = {"-ptx": ".ptx", "-c": ".o"}[mode]
    for path in files:
        target = out_dir / f"{path.parent.name}{suffix}"
        cmd = ["nvcc", mode, "-arch=sm_80", "--fmad=false", "-Xcompiler", "-Wall", "-o",
               str(target), str(path)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        log = (out.stdout + out.stderr).strip()
        assert out.returncode == 0, f"{path.parent.name}: {log}"
        assert "warning" not in log.lower(), f"{path.parent.name}: {log}"
        assert target.stat().st_size > 0


needs_nvcc = pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc is not installed")


@needs_nvcc
def test_emitted_cuda_compiles_with_nvcc_to_ptx(emitted, tmp_path):
    """Device code through nvcc's front end, with the C library's headers (the clash was
    there); PTX only, which skips the slower host compilation."""
    nvcc(emitted, "-ptx", tmp_path)


@needs_nvcc
@pytest.mark.slow
def test_emitted_cuda_compiles_with_nvcc_to_objects(emitted, tmp_path):
    """The whole nvcc pipeline, host compiler included, to object files."""
    nvcc(emitted, "-c", tmp_path)


def test_emitted_cuda_compiles_with_nvrtc(emitted):
    pytest.importorskip("cuda.bindings.nvrtc",
                        reason="cuda-bindings/nvidia-cuda-nvrtc not installed")
    from irsnn.backends.cuda import compile_with_nvrtc
    # the dense models' kernels are compiled by test_cuda_nvrtc.py already
    for path in emitted[2:]:
        ok, log = compile_with_nvrtc(path.read_text(), "sm_80")
        assert ok and log == "", f"{path.name}: {log}"
