"""Dataset loaders: embedded datasets and tonic-backed real recordings.

Requires: :mod:`.base`, :mod:`.events`, :mod:`.synthetic_gesture`, :mod:`irsnn.utils.data`;
scikit-learn and tonic are imported by the loaders that need them. Provides
:func:`load_digits`, :func:`load_yin_yang`, :func:`load_synthetic_gesture`,
:func:`load_dvs_gesture`, :func:`load_shd`, :data:`DATASETS` and
:class:`DatasetUnavailableError`.

Embedded: digits, Yin-Yang, synthetic gestures. Tonic-backed real recordings: DVS Gesture and
SHD, which are never downloaded unless asked to.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import IrsnnError
from ..utils.data import generate_yin_yang_dataset, linear_latency_encode_data
from .base import SpikeDataset, events_to_spikes
from .events import downsample, downsampled_shape
from .synthetic_gesture import SyntheticGesture


class DatasetUnavailableError(IrsnnError, FileNotFoundError):
    """A dataset's files are not on disk (or a package it needs is not installed)."""


def load_digits(max_time: float = 19.0, test_fraction: float = 0.2,
                split_seed: int = 0) -> SpikeDataset:
    """scikit-learn's 8x8 digits (bundled, 1797 images), linearly latency coded: a pixel of
    16 (white) spikes at 0 ms, a pixel of 1 at almost ``max_time``, 0 never. The split is
    stratified (scikit-learn's ``train_test_split``, 1437 train / 360 test)."""
    try:
        from sklearn.datasets import load_digits as sk_digits
    except ImportError:
        raise DatasetUnavailableError("the digits dataset needs scikit-learn; install it with "
                                      "pip install \"irsnn[data]\"") from None
    from sklearn.model_selection import train_test_split
    x, y = sk_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_fraction, stratify=y, random_state=split_seed)
    # pixel values are 0..16; the encoder expects the uint8 range 0..255
    return SpikeDataset("digits",
                        linear_latency_encode_data(x_train * (255.0 / 16.0), max_time), y_train,
                        linear_latency_encode_data(x_test * (255.0 / 16.0), max_time), y_test,
                        64, [str(d) for d in range(10)], (8, 8))


def load_yin_yang(num_train: int = 5000, num_test: int = 1000, scale: float = 30.0,
                  seed: int = 0) -> SpikeDataset:
    """The Yin-Yang dataset (generated; 5 inputs with the bias neuron, 3 classes)."""
    train_x, train_y = generate_yin_yang_dataset(num_train, scale, seed=[seed, 0])
    test_x, test_y = generate_yin_yang_dataset(num_test, scale, seed=[seed, 1])
    return SpikeDataset("yin-yang", train_x, train_y, test_x, test_y, 5,
                        ["yang", "yin", "dot"], (5,))


def load_synthetic_gesture(num_train: int = 330, num_test: int = 110, seed: int = 0,
                           spatial_factor: float = 0.25, bin_ms: float = 15.0,
                           progress: bool = False) -> SpikeDataset:
    """Synthetic DVS-Gesture-like recordings (:class:`SyntheticGesture`) through the same
    path as DVS Gesture: ``Downsample(spatial_factor)`` (tonic's when installed) to 32x32x2
    and :func:`~irsnn.utils.data.preprocess_tonic_spikes` with one timestep per ``bin_ms``."""
    transform = downsample(spatial_factor=spatial_factor)
    shape = downsampled_shape(SyntheticGesture.sensor_size, spatial_factor)
    splits = []
    for train, n in ((True, num_train), (False, num_test)):
        ds = SyntheticGesture(train=train, num_samples=n, seed=seed, transform=transform)
        splits.append(events_to_spikes(ds, shape, bin_ms, progress=progress,
                                       where=f"synthetic-gesture {'train' if train else 'test'}"))
    (train_x, train_y), (test_x, test_y) = splits
    return SpikeDataset("synthetic-gesture", train_x, train_y, test_x, test_y,
                        int(np.prod(shape)), list(SyntheticGesture.classes), shape, bin_ms)


def _require_tonic(what):
    from .events import tonic_available
    if not tonic_available():
        raise DatasetUnavailableError(f"{what} is read through tonic, which is not installed "
                                      f"(or does not import); install it with pip install "
                                      f"\"irsnn[data]\"")


def _missing(folder: Path, needed: list[str]) -> list[str]:
    out = []
    for name in needed:
        path = folder / name
        if name.endswith("/"):
            if not (path.is_dir() and sum(1 for _ in path.glob("**/*.npy")) >= 100):
                out.append(name)
        elif not path.is_file():
            out.append(name)
    return out


def _tonic_load(cls_name, root, train, transform, download, needed, urls):
    """Construct a tonic dataset, but only download when asked; missing files -> a clear
    error, and folders created by a failed attempt are removed again."""
    _require_tonic(cls_name)
    import tonic.datasets
    root = Path(os.path.expanduser(str(root)))
    folder = root / cls_name
    missing = _missing(folder, needed)
    if missing and not download:
        where = "\n".join(f"  {folder / m}   ({urls.get(m, 'extract the archive here')})"
                          for m in missing)
        raise DatasetUnavailableError(
            f"{cls_name} files are missing under root={str(root)!r}; put them here:\n{where}\n"
            f"(or pass --download / download=True to let tonic fetch them, about "
            f"{'2.7 GB' if cls_name == 'DVSGesture' else '0.5 GB'})")
    created = [p for p in (root, folder) if not p.exists()]
    try:
        return getattr(tonic.datasets, cls_name)(save_to=str(root), train=train,
                                                 transform=transform)
    except Exception as exc:
        for p in reversed(created):
            if p.is_dir() and not any(p.iterdir()):
                p.rmdir()
        raise DatasetUnavailableError(f"{cls_name}: tonic could not load or download the data "
                                      f"into {folder}: {exc}") from exc


def load_dvs_gesture(root, spatial_factor: float = 0.25, bin_ms: float = 15.0,
                     download: bool = False, max_train: int | None = None,
                     max_test: int | None = None, progress: bool = True) -> SpikeDataset:
    """IBM DVS Gesture through tonic (``tonic.datasets.DVSGesture(save_to=root)``),
    ``Downsample(spatial_factor=0.25)`` to 32x32x2, 11 classes, one timestep per ``bin_ms``.

    Files expected under ``root/DVSGesture/``: ``ibmGestureTrain.tar.gz`` with its extracted
    folder ``ibmGestureTrain/`` and ``ibmGestureTest.tar.gz`` with ``ibmGestureTest/``.
    """
    transform = downsample(spatial_factor=spatial_factor)
    shape = downsampled_shape((128, 128, 2), spatial_factor)
    urls = {"ibmGestureTrain.tar.gz": "https://figshare.com/ndownloader/files/38022171",
            "ibmGestureTest.tar.gz": "https://figshare.com/ndownloader/files/38020584"}
    splits = []
    for train, n in ((True, max_train), (False, max_test)):
        stem = "ibmGestureTrain" if train else "ibmGestureTest"
        ds = _tonic_load("DVSGesture", root, train, transform, download,
                         [f"{stem}.tar.gz", f"{stem}/"], urls)
        splits.append(events_to_spikes(ds, shape, bin_ms, n, progress=progress,
                                       where=f"DVSGesture {'train' if train else 'test'}"))
    (train_x, train_y), (test_x, test_y) = splits
    return SpikeDataset("dvs-gesture", train_x, train_y, test_x, test_y,
                        int(np.prod(shape)), list(SyntheticGesture.classes), shape, bin_ms)


def load_shd(root, bin_ms: float = 2.0, download: bool = False, max_train: int | None = None,
             max_test: int | None = None, progress: bool = True) -> SpikeDataset:
    """Spiking Heidelberg Digits through tonic (``tonic.datasets.SHD(save_to=root)``): 700
    channels, 20 classes, one timestep per ``bin_ms``.

    Files expected under ``root/SHD/``: ``shd_train.h5.zip`` and ``shd_test.h5.zip`` with
    their extracted ``shd_train.h5`` and ``shd_test.h5``.
    """
    base = "https://zenkelab.org/datasets/"
    splits = []
    for train, n in ((True, max_train), (False, max_test)):
        stem = "shd_train" if train else "shd_test"
        urls = {f"{stem}.h5.zip": base + f"{stem}.h5.zip", f"{stem}.h5": f"unzip {stem}.h5.zip"}
        ds = _tonic_load("SHD", root, train, None, download, [f"{stem}.h5.zip", f"{stem}.h5"],
                         urls)
        splits.append(events_to_spikes(ds, (700, 1, 1), bin_ms, n, progress=progress,
                                       where=f"SHD {'train' if train else 'test'}"))
    (train_x, train_y), (test_x, test_y) = splits
    classes = [str(c) for c in range(20)]
    return SpikeDataset("shd", train_x, train_y, test_x, test_y, 700, classes, (700,), bin_ms)


#: ``irsnn train --dataset`` names -> loaders
DATASETS = {"synthetic-gesture": load_synthetic_gesture, "dvs-gesture": load_dvs_gesture,
            "shd": load_shd, "digits": load_digits, "yin-yang": load_yin_yang}
