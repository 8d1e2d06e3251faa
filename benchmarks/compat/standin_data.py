"""Offline stand-in data for running mlGeNN's example scripts unchanged.

Requires: NumPy and scikit-learn (its bundled digits); h5py for the SHD stand-in. Provides
:func:`digits_as_mnist` (scikit-learn's 8x8 digits resampled into MNIST's 28x28 uint8 layout),
:func:`write_mnist_module`, which writes a module named ``mnist`` (the API of the ``mnist``
package that mlGeNN's scripts import: ``train_images()``, ``train_labels()``,
``test_images()``, ``test_labels()``, ``datasets_url``) into a folder of the caller's choice,
:func:`write_shd`, which writes a synthetic Spiking Heidelberg Digits set in the file
layout tonic's ``SHD`` loader reads (``<save_to>/SHD/shd_{train,test}.h5``), and
:func:`write_pygenn_standin`, a package named ``pygenn`` holding only the GeNN option values
that mlGeNN's MPI examples import to pass as compiler keyword arguments (irsnn accepts GeNN
options and ignores them with a warning), so that those scripts run with only the rename.

Nothing here is installed or downloaded: the ``mnist`` module exists only in the folder given
(put it on ``PYTHONPATH`` for the scripts under test), and the data are made from what
scikit-learn ships or drawn from a seeded generator.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

#: the module written by :func:`write_mnist_module`; it reads ``mnist_standin.npz`` beside it
_MNIST_MODULE = '''\
"""Stand-in for the ``mnist`` package (scikit-learn digits in MNIST's layout), written by
irsnn's benchmarks/compat/standin_data.py for the compatibility check only."""
import os as _os

import numpy as _np

datasets_url = ""
temporary_dir = lambda: _os.path.dirname(__file__)  # noqa: E731
_data = _np.load(_os.path.join(_os.path.dirname(__file__), "mnist_standin.npz"))


def train_images():
    return _data["train_images"].copy()


def train_labels():
    return _data["train_labels"].copy()


def test_images():
    return _data["test_images"].copy()


def test_labels():
    return _data["test_labels"].copy()
'''


def _resample(images8: np.ndarray, size: int = 20) -> np.ndarray:
    """Bilinear resampling of ``(n, 8, 8)`` images to ``(n, size, size)``."""
    src = (np.arange(size) + 0.5) * 8.0 / size - 0.5
    i0 = np.clip(np.floor(src).astype(int), 0, 7)
    i1 = np.clip(i0 + 1, 0, 7)
    w = np.clip(src - i0, 0.0, 1.0)
    rows = images8[:, i0, :] * (1 - w)[None, :, None] + images8[:, i1, :] * w[None, :, None]
    return rows[:, :, i0] * (1 - w)[None, None, :] + rows[:, :, i1] * w[None, None, :]


def digits_as_mnist(num_train: int = 1400, seed: int = 0):
    """scikit-learn's digits as MNIST: ``(train_images, train_labels, test_images,
    test_labels)`` with images ``(n, 28, 28)`` uint8 in 0..255 (the digit in the central
    20x20 box, as MNIST) and labels uint8; ``num_train`` of the 1797 digits (shuffled with
    ``seed``) are for training, the rest for testing."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    if not 0 < num_train < len(digits.target):
        raise ValueError(f"num_train={num_train} must be between 1 and "
                         f"{len(digits.target) - 1}")
    order = np.random.default_rng(seed).permutation(len(digits.target))
    small = digits.images[order] / 16.0
    images = np.zeros((len(order), 28, 28))
    images[:, 4:24, 4:24] = _resample(small)
    images = np.round(np.clip(images, 0.0, 1.0) * 255.0).astype(np.uint8)
    labels = digits.target[order].astype(np.uint8)
    return images[:num_train], labels[:num_train], images[num_train:], labels[num_train:]


def write_mnist_module(folder, num_train: int = 1400, seed: int = 0) -> Path:
    """Write ``mnist.py`` and its data ``mnist_standin.npz`` into ``folder``; returns the
    folder (put it first on ``PYTHONPATH``)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tr_x, tr_y, te_x, te_y = digits_as_mnist(num_train, seed)
    np.savez(folder / "mnist_standin.npz", train_images=tr_x, train_labels=tr_y,
             test_images=te_x, test_labels=te_y)
    (folder / "mnist.py").write_text(_MNIST_MODULE)
    return folder


#: SHD's sensor: 700 cochlear channels; 20 classes (digits 0-9 in English and German)
SHD_CHANNELS, SHD_CLASSES = 700, 20


#: spikes per millisecond of a synthetic SHD example, sweep and noise (real SHD examples have
#: about ten: enough that the input layer of mlGeNN's SHD examples, mean weight 0.03 through
#: 5 ms synapses, drives its hidden LIF neurons past threshold, which a sparser stand-in did not)
SHD_RATE = 10.0


def synthetic_shd(num_examples: int, duration: float = 0.05, seed: int = 0,
                  rate: float = SHD_RATE):
    """Synthetic SHD examples: ``(times, units, labels)``, lists of float32 spike times in
    seconds and uint16 channel ids, one array per example, and uint8 labels.

    Each class is a sweep through its own band of channels (start channel, direction and
    speed fixed per class) over ``duration`` seconds, with jittered timing, dropped spikes and
    uniform background noise (a fifth of the spikes), ``rate`` spikes per millisecond before
    a fifth of the sweep's is dropped, so a classifier can learn it but not trivially.
    """
    rng = np.random.default_rng(seed)
    cls_rng = np.random.default_rng(12345)
    starts = cls_rng.uniform(50, 650, SHD_CLASSES)
    slopes = cls_rng.uniform(-400, 400, SHD_CLASSES) / duration
    labels = rng.integers(0, SHD_CLASSES, num_examples).astype(np.uint8)
    times, units = [], []
    for y in labels:
        total = int(round(rate * duration * 1000.0))
        t = np.sort(rng.uniform(0.0, duration, total - total // 5))
        ch = starts[y] + slopes[y] * t + rng.normal(0.0, 8.0, t.shape)
        keep = rng.random(t.shape) > 0.2
        t, ch = t[keep], ch[keep]
        noise_t = rng.uniform(0.0, duration, total // 5)
        t = np.concatenate([t, noise_t])
        ch = np.concatenate([ch, rng.uniform(0, SHD_CHANNELS, noise_t.shape)])
        ch = np.clip(np.round(ch), 0, SHD_CHANNELS - 1).astype(np.uint16)
        order = np.argsort(t, kind="stable")
        times.append(t[order].astype(np.float32))
        units.append(ch[order])
    return times, units, labels


def write_shd(save_to, num_train: int = 200, num_test: int = 100, duration: float = 0.05,
              seed: int = 0) -> Path:
    """Write a synthetic SHD into ``<save_to>/SHD`` in the layout tonic's ``SHD`` reads: HDF5
    files ``shd_train.h5``/``shd_test.h5`` with ``spikes/times`` and ``spikes/units``
    (variable-length arrays, seconds and channel ids), ``labels``, ``extra/keys`` (class
    names) and ``extra/speaker``; an empty ``.h5.zip`` beside each, which tonic takes as the
    downloaded archive (it does not check its hash when the ``.h5`` is present)."""
    import h5py
    folder = Path(os.path.expanduser(str(save_to))) / "SHD"
    folder.mkdir(parents=True, exist_ok=True)
    keys = [f"{lang}-{d}".encode() for lang in ("english", "german") for d in range(10)]
    for split, n, s in (("train", num_train, seed), ("test", num_test, seed + 1)):
        times, units, labels = synthetic_shd(n, duration, s)
        with h5py.File(folder / f"shd_{split}.h5", "w") as f:
            ft = f.create_dataset("spikes/times", (n,), dtype=h5py.vlen_dtype(np.float32))
            fu = f.create_dataset("spikes/units", (n,), dtype=h5py.vlen_dtype(np.uint16))
            for i in range(n):
                ft[i] = times[i]
                fu[i] = units[i]
            f.create_dataset("labels", data=labels)
            f.create_dataset("extra/keys", data=np.array(keys))
            f.create_dataset("extra/speaker", data=np.zeros(n, np.uint8))
        (folder / f"shd_{split}.h5.zip").write_bytes(b"")
    return folder


#: the GeNN option values mlGeNN's example scripts import (``pygenn.cuda_backend`` in GeNN 5,
#: ``pygenn.genn_wrapper.CUDABackend`` in GeNN 4); values are placeholders: irsnn ignores them
_PYGENN_FILES = {
    "pygenn/__init__.py": '''"""Stand-in for GeNN's option values, written by irsnn's
benchmarks/compat/standin_data.py for the compatibility check only (no GeNN inside)."""
''',
    "pygenn/cuda_backend.py": '''import enum


class DeviceSelect(enum.Enum):
    OPTIMAL = 0
    MOST_MEMORY = 1
    MANUAL = 2


class BlockSizeSelect(enum.Enum):
    OCCUPANCY = 0
    MANUAL = 1
''',
    "pygenn/genn_wrapper/__init__.py": "",
    "pygenn/genn_wrapper/CUDABackend.py": '''DeviceSelect_OPTIMAL = 0
DeviceSelect_MOST_MEMORY = 1
DeviceSelect_MANUAL = 2
BlockSizeSelect_OCCUPANCY = 0
BlockSizeSelect_MANUAL = 1
''',
}


def write_pygenn_standin(folder) -> Path:
    """Write the ``pygenn`` stand-in package into ``folder`` (put it on ``PYTHONPATH``)."""
    folder = Path(folder)
    for name, text in _PYGENN_FILES.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder
