"""Digits split once for the classic tests: 1,400 train / 397 test, flattened float32."""

import numpy as np
import pytest

from gradkit.data.datasets import digits


@pytest.fixture(scope="session")
def digits_split():
    data = digits(flatten=True)
    order = np.random.default_rng(0).permutation(len(data.y))
    train, test = order[:1400], order[1400:]
    return data.x[train], data.y[train], data.x[test], data.y[test]


@pytest.fixture(scope="session")
def digits_std(digits_split):
    """The split standardized per feature with the training statistics."""
    x, y, x_test, y_test = digits_split
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std < 1e-8] = 1.0
    return (x - mean) / std, y, (x_test - mean) / std, y_test
