"""The C artifact cache verifies what it loads: a library copied under another build's name, a
truncated file or a file that is no library at all is detected, rebuilt once with a warning and
then runs the right model; an ordinary cache hit is loaded as it is."""

import ctypes
import shutil
import warnings

import numpy as np
import pytest

from irsnn.backends import available_backends
from irsnn.compilers import InferenceCompiler
from irsnn.neurons import AdaptiveLeakyIntegrateFire

from ..models import random_spikes, recurrent_alif

pytestmark = pytest.mark.skipif(not available_backends()["c"][0],
                                reason="no C compiler on this machine")


def _network(v_thresh=0.6):
    network, inp, hidden, out = recurrent_alif()
    if v_thresh != 0.6:  # another model: the threshold is a constant of the generated source
        hidden.neuron = AdaptiveLeakyIntegrateFire(v_thresh=v_thresh, tau_refrac=5.0,
                                                   tau_adapt=200.0)
    return network, inp, out


def _predict(backend, v_thresh=0.6):
    network, inp, out = _network(v_thresh)
    net = InferenceCompiler(evaluate_timesteps=20, batch_size=2, backend=backend)\
        .compile(network)
    y, _ = net.predict({inp: random_spikes(2, 20, 20, rate=0.2)}, out, callbacks=[])
    return net, y[out]


def _use_cache(monkeypatch, folder):
    """Point the cache at ``folder`` (a new path each time: ``dlopen`` keys loaded libraries by
    path, so a file placed there is really read) and return its ``irsnn/c``."""
    monkeypatch.delenv("IRSNN_CACHE_DIR", raising=False)   # (it would win over XDG's)
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    return folder / "irsnn" / "c"


def _faulty(monkeypatch, tmp_path, fault):
    """Build the model in one cache, put ``fault(library bytes)`` under its name in a second
    cache, compile there: return (the warnings, the result, the reference result, the path);
    checks that the library was rebuilt there after the caller compared the results."""
    _use_cache(monkeypatch, tmp_path / "first")
    net, _ = _predict("c")
    good = net.simulation.library_path
    second = _use_cache(monkeypatch, tmp_path / "second")
    second.mkdir(parents=True)
    path = second / good.name
    fault(good, path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net, y = _predict("c")
    _, y_ref = _predict("reference")
    yield [w for w in caught if path.name in str(w.message)], y, y_ref, path
    assert net.simulation.library_path == path and net.simulation.cache_hit is False


def test_another_models_library_under_this_name_is_rebuilt(monkeypatch, tmp_path):
    def other_model(good, path):
        _use_cache(monkeypatch, tmp_path / "other")
        other, _ = _predict("c", v_thresh=0.3)
        shutil.copyfile(other.simulation.library_path, path)
        _use_cache(monkeypatch, tmp_path / "second")

    for caught, y, y_ref, _ in _faulty(monkeypatch, tmp_path, other_model):
        np.testing.assert_array_equal(y, y_ref)
        assert len(caught) == 1 and "another source" in str(caught[0].message)
    # the other model really differs, so equal results mean the right library ran
    assert not np.array_equal(_predict("reference", v_thresh=0.3)[1], y_ref)


def test_truncated_library_is_rebuilt(monkeypatch, tmp_path):
    for size in (100, 4000):  # 4000: headers complete, segments cut (dlopen would SIGBUS)
        case = tmp_path / str(size)

        def truncate(good, path, size=size):
            path.write_bytes(good.read_bytes()[:size])

        for caught, y, y_ref, _ in _faulty(monkeypatch, case, truncate):
            np.testing.assert_array_equal(y, y_ref)
            assert len(caught) == 1 and "truncated" in str(caught[0].message)


def test_file_that_is_not_a_library_is_rebuilt(monkeypatch, tmp_path):
    def garbage(good, path):
        path.write_text("not a shared library\n" * 1000)

    for caught, y, y_ref, _ in _faulty(monkeypatch, tmp_path, garbage):
        np.testing.assert_array_equal(y, y_ref)
        assert len(caught) == 1 and "not an ELF shared library" in str(caught[0].message)


def test_cache_hit_is_loaded_without_rebuild(monkeypatch, tmp_path):
    _use_cache(monkeypatch, tmp_path / "cache")
    first, _ = _predict("c")
    path = first.simulation.library_path
    stamp = path.stat().st_mtime_ns
    from irsnn.backends.native import toolchain
    monkeypatch.setattr(toolchain, "_LOADED", {})  # load from disk again, as a new process
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        second, _ = _predict("c")
    assert second.simulation.cache_hit is True and path.stat().st_mtime_ns == stamp
    key = ctypes.CDLL(str(path)).irsnn_cache_key
    key.restype = ctypes.c_char_p
    assert path.name.endswith(f"-{key().decode()[:24]}.so")


def test_rebuild_that_still_fails_raises_backend_error(monkeypatch, tmp_path):
    from irsnn.backends.native import toolchain
    from irsnn.errors import BackendError
    _use_cache(monkeypatch, tmp_path / "cache")
    monkeypatch.setattr(toolchain, "_compile",
                        lambda cc, flags, key, lib, source: lib.write_text("broken"))
    with pytest.warns(toolchain.CacheWarning), \
            pytest.raises(BackendError, match="just rebuilt, is not an ELF.*delete that folder"):
        _predict("c")
