"""The offline stand-in data of the mlGeNN compatibility check (benchmarks/compat): the
``mnist`` module it writes has the ``mnist`` package's API and MNIST's layout, and the
synthetic SHD is what tonic's SHD loader reads (when h5py/tonic are installed)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _standin():
    spec = importlib.util.spec_from_file_location(
        "standin_data", ROOT / "benchmarks" / "compat" / "standin_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow   # loads scikit-learn's digits
def test_mnist_module_has_the_mnist_api_and_layout(tmp_path):
    _standin().write_mnist_module(tmp_path, num_train=1000)
    spec = importlib.util.spec_from_file_location("mnist", tmp_path / "mnist.py")
    mnist = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mnist)
    mnist.datasets_url = "ignored"   # scripts set it; the stand-in never downloads
    x, y, xt = mnist.train_images(), mnist.train_labels(), mnist.test_images()
    assert (x.shape, x.dtype, y.dtype, xt.shape, mnist.test_labels().shape) == (
        (1000, 28, 28), np.uint8, np.uint8, (797, 28, 28), (797,))
    assert x.max() == 255 and sorted(set(y.tolist())) == list(range(10))
    # the digit sits in MNIST's central 20x20 box
    x = np.load(tmp_path / "mnist_standin.npz")["train_images"]
    assert x[:, :4].max() == 0 and x[:, 24:].max() == 0 and x[:, :, :4].max() == 0


def test_synthetic_shd_is_read_by_tonic(tmp_path):
    pytest.importorskip("h5py")
    standin = _standin()
    standin.write_shd(tmp_path, num_train=12, num_test=5)
    times, units, labels = standin.synthetic_shd(12, seed=0)
    tonic = pytest.importorskip("tonic")
    data = tonic.datasets.SHD(save_to=str(tmp_path), train=True)
    assert len(data) == 12 and data.sensor_size == (700, 1, 1) and len(data.classes) == 20
    events, label = data[3]
    assert label == labels[3]
    np.testing.assert_array_equal(events["x"], units[3])
    np.testing.assert_allclose(events["t"], times[3].astype(np.float64) * 1e6, rtol=0, atol=1)
    assert len(tonic.datasets.SHD(save_to=str(tmp_path), train=False)) == 5
