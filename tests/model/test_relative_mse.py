"""RelativeMeanSquareError (EventProp's first-spike-time loss) against NumPy: the loss as a
double loop, the gradient against finite differences, and its argument checks."""

from __future__ import annotations

import numpy as np
import pytest

from irsnn.errors import InputError, ModelError
from irsnn.losses import Loss, RelativeMeanSquareError


def test_loss_and_gradient_match_numpy():
    rng = np.random.default_rng(0)
    t = rng.uniform(0.0, 20.0, (5, 4))
    y = rng.integers(0, 4, 5)
    loss = RelativeMeanSquareError(delta=2.5)
    assert isinstance(loss, Loss) and loss.delta == 2.5
    expect = np.array([0.5 * sum((t[i, y[i]] + 2.5 - t[i, n]) ** 2 for n in range(4)
                                 if n != y[i]) for i in range(5)])
    np.testing.assert_allclose(loss.loss(t, y), expect)
    grad = loss.gradient(t, y)
    h = 1e-6
    for i in range(5):
        for n in range(4):
            tp, tm = t.copy(), t.copy()
            tp[i, n] += h
            tm[i, n] -= h
            fd = (loss.loss(tp, y)[i] - loss.loss(tm, y)[i]) / (2 * h)
            assert abs(fd - grad[i, n]) < 1e-5
    # zero when the correct neuron leads every other by exactly delta
    t0 = np.array([[1.0, 3.5, 3.5]])
    assert loss.loss(t0, np.array([0]))[0] == 0.0


def test_bad_arguments_are_reported():
    for bad in (-1.0, np.nan, "1", True):
        with pytest.raises(ModelError, match="delta"):
            RelativeMeanSquareError(bad)
    loss = RelativeMeanSquareError(1.0)
    with pytest.raises(InputError, match="outside"):
        loss.loss(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(InputError, match="one integer per example"):
        loss.loss(np.zeros((2, 3)), np.array([0.5, 1.0]))
