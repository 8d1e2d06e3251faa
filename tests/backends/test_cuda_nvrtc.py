"""CUDA source is checked without a GPU: NVRTC compiles the generated kernels for sm_80/sm_90.

(Every conformance model is compiled the same way by tests/conformance/conftest.py.)"""

import pytest

from irsnn.backends import get_backend
from irsnn.compilers import EPropCompiler, InferenceCompiler
from irsnn.errors import BackendUnavailableError

from ..models import recurrent_alif

nvrtc = pytest.importorskip("cuda.bindings.nvrtc",
                            reason="cuda-bindings/nvidia-cuda-nvrtc not installed")

from irsnn.backends.cuda import CudaBackend, compile_with_nvrtc  # noqa: E402


@pytest.mark.parametrize("arch", ["sm_80", "sm_90"])
@pytest.mark.parametrize("compiler", ["inference", "eprop"])
def test_generated_cuda_compiles_without_warnings(arch, compiler):
    network, *_ = recurrent_alif()
    if compiler == "inference":
        ir = InferenceCompiler(evaluate_timesteps=10, batch_size=4).build_ir(network)
    else:
        ir = EPropCompiler(example_timesteps=10, losses="sparse_categorical_crossentropy",
                           batch_size=4).build_ir(network)
    source = CudaBackend().kernel_source(ir)[f"{ir.name}.cu"]
    assert 'extern "C" __global__ void irsnn_run(' in source
    ok, log = compile_with_nvrtc(source, arch)
    assert ok, log
    assert log == "", log


def test_nvrtc_reports_errors():
    ok, log = compile_with_nvrtc('extern "C" __global__ void k() { undefined_thing(); }')
    assert not ok and "undefined_thing" in log


def test_cuda_backend_without_gpu_is_unavailable_with_a_reason():
    backend = CudaBackend()
    ok, why = backend.availability()
    if ok:
        pytest.skip("a GPU is present")
    assert "GPU" in why or "CuPy" in why
    with pytest.raises(BackendUnavailableError, match="cuda"):
        get_backend("cuda")
