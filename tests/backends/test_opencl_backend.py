"""OpenCL backend specifics: device choice, errors, program caching, transfers at batch ends."""

import numpy as np
import pytest

from irsnn.backends import available_backends, get_backend
from irsnn.compilers import InferenceCompiler
from irsnn.errors import BackendUnavailableError

from ..models import random_spikes, recurrent_alif

pytestmark = pytest.mark.skipif(not available_backends()["opencl"][0],
                                reason=f"OpenCL unavailable: {available_backends()['opencl'][1]}")


def test_unknown_device_lists_the_devices(monkeypatch):
    monkeypatch.setenv("IRSNN_OPENCL_DEVICE", "no-such-device")
    ok, why = available_backends()["opencl"]
    assert not ok and "does not exist; devices are: 0:0" in why
    with pytest.raises(BackendUnavailableError, match="devices are"):
        get_backend("opencl")


def test_device_by_index_and_name(monkeypatch):
    import pyopencl as cl
    name = cl.get_platforms()[0].get_devices()[0].name
    for spec in ("0:0", name.split()[0]):
        monkeypatch.setenv("IRSNN_OPENCL_DEVICE", spec)
        assert get_backend("opencl").devices()[0].endswith("*")


def test_missing_pyopencl_is_reported(monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_pyopencl(name, *args, **kwargs):
        if name == "pyopencl":
            raise ImportError("No module named 'pyopencl'")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_pyopencl)
    ok, why = available_backends()["opencl"]
    assert not ok and "pip install 'irsnn[opencl]'" in why


def test_state_moves_only_when_asked(monkeypatch):
    network, inp, hidden, out = recurrent_alif()
    net = InferenceCompiler(evaluate_timesteps=20, batch_size=2, backend="opencl")\
        .compile(network)
    sim = net.simulation
    downloads = []
    real = sim._download
    monkeypatch.setattr(sim, "_download", lambda buf, host: (downloads.append(buf),
                                                              real(buf, host)))
    y, _ = net.predict({inp: random_spikes(2, 20, 20, rate=0.2)}, out, callbacks=[])
    # the readout needs the output's V and VSum; nothing else crossed to the host
    assert sorted((b.owner, b.var) for b in downloads) == [("pop.output", "V"),
                                                            ("pop.output", "VSum")]
    ref = InferenceCompiler(evaluate_timesteps=20, batch_size=2, backend="reference")\
        .compile(network)
    y_ref, _ = ref.predict({inp: random_spikes(2, 20, 20, rate=0.2)}, out, callbacks=[])
    np.testing.assert_array_equal(y[out], y_ref[out])
