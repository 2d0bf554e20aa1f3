"""Initializers: fans and gains equal PyTorch's, and the empirical mean and variance of each
initializer match its formula within sampling error (5 standard errors)."""

import math

import numpy as np
import pytest
import torch

import gradkit as gk
from gradkit import nn
from gradkit.nn import init

SHAPES = [(300, 200), (64, 32, 3, 3), (40, 30, 5)]


@pytest.mark.parametrize("shape", SHAPES + [(7, 1)])
def test_fans_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(gk.zeros(*shape)) == (
        torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(*shape)))


def test_fan_needs_two_dims():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(gk.zeros(5))
    with pytest.raises(ValueError, match="fan_in, fan_out"):
        init.kaiming_normal_(gk.zeros(3, 3), mode="fan_avg")


@pytest.mark.parametrize("args", [("linear",), ("conv2d",), ("sigmoid",), ("tanh",), ("relu",),
                                  ("leaky_relu",), ("leaky_relu", 0.2), ("selu",)])
def test_calculate_gain_matches_torch(args):
    assert init.calculate_gain(*args) == pytest.approx(torch.nn.init.calculate_gain(*args))


def assert_moments(t, variance, mean=0.0, kurtosis=3.0):
    """Sample mean and variance within 5 standard errors of the formula (kurtosis 3 for a
    normal, 1.8 for a uniform distribution)."""
    x = t.numpy().astype(np.float64).ravel()
    n = x.size
    assert abs(x.mean() - mean) < 5 * math.sqrt(variance / n)
    assert abs(x.var() - variance) < 5 * variance * math.sqrt((kurtosis - 1) / n)


def fans(shape):
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


@pytest.mark.parametrize("shape", SHAPES)
def test_xavier(shape):
    fan_in, fan_out = fans(shape)
    gk.manual_seed(0)
    assert_moments(init.xavier_uniform_(gk.empty(*shape), gain=2.0),
                   4.0 * 2 / (fan_in + fan_out), kurtosis=1.8)
    assert_moments(init.xavier_normal_(gk.empty(*shape)), 2 / (fan_in + fan_out))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_kaiming(shape, mode):
    fan = fans(shape)[0 if mode == "fan_in" else 1]
    gk.manual_seed(1)
    assert_moments(init.kaiming_normal_(gk.empty(*shape), mode=mode, nonlinearity="relu"),
                   2.0 / fan)
    gain2 = 2.0 / (1 + 0.1 ** 2)
    assert_moments(init.kaiming_uniform_(gk.empty(*shape), a=0.1, mode=mode), gain2 / fan,
                   kurtosis=1.8)
    assert_moments(init.kaiming_normal_(gk.empty(*shape), mode=mode, nonlinearity="tanh"),
                   (5 / 3) ** 2 / fan)


@pytest.mark.parametrize("shape", SHAPES)
def test_lecun_normal_and_plain_draws(shape):
    gk.manual_seed(2)
    assert_moments(init.lecun_normal_(gk.empty(*shape)), 1.0 / fans(shape)[0])
    assert_moments(init.normal_(gk.empty(*shape), mean=0.5, std=0.01), 1e-4, mean=0.5)
    assert_moments(init.uniform_(gk.empty(*shape), -0.3, 0.1), 0.4 ** 2 / 12, mean=-0.1,
                   kurtosis=1.8)


def test_constant_zeros_ones_and_dtype_kept():
    t = gk.empty(3, 4, dtype=gk.float64)
    assert np.all(init.constant_(t, 0.25).numpy() == 0.25) and t.dtype == np.float64
    assert np.all(init.zeros_(t).numpy() == 0) and np.all(init.ones_(t).numpy() == 1)
    assert init.kaiming_normal_(gk.empty(4, 4)).dtype == np.float32


def test_init_works_on_parameters_and_is_reproducible():
    p = nn.Parameter(gk.empty(20, 10))
    gk.manual_seed(3)
    init.xavier_uniform_(p)
    first = p.numpy().copy()
    gk.manual_seed(3)
    init.xavier_uniform_(p)
    np.testing.assert_array_equal(p.numpy(), first)
    rng = np.random.default_rng(0)
    a = init.normal_(gk.empty(5), generator=np.random.default_rng(0)).numpy()
    np.testing.assert_array_equal(a, rng.standard_normal(5, dtype=np.float32))
    assert p.grad is None and p.requires_grad


@pytest.mark.parametrize("shape", [(6, 10), (10, 6), (8, 2, 3, 3)])
def test_orthogonal(shape):
    w = init.orthogonal_(gk.empty(*shape, dtype=gk.float64), gain=1.5).numpy()
    flat = w.reshape(shape[0], -1)
    small = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(small, 1.5 ** 2 * np.eye(small.shape[0]), atol=1e-12)


def test_sparse_pytorch_semantics_zeros_per_column():
    w = init.sparse_(gk.empty(50, 30), sparsity=0.3, std=0.02).numpy()
    reference = torch.nn.init.sparse_(torch.empty(50, 30), sparsity=0.3, std=0.02).numpy()
    assert np.all((w == 0).sum(axis=0) == math.ceil(0.3 * 50))
    np.testing.assert_array_equal((w == 0).sum(axis=0), (reference == 0).sum(axis=0))
    assert_moments(gk.tensor(w[w != 0]), 0.02 ** 2)


def test_sparse_notes_form_fixed_inputs_per_unit():
    w = init.sparse_(gk.empty(200, 100), connections=15, std=1.0).numpy()
    assert np.all((w != 0).sum(axis=1) == 15)
    assert (w != 0).any(axis=0).sum() > 90  # the connections are spread over the inputs
    assert_moments(gk.tensor(w[w != 0]), 1.0)
    with pytest.raises(ValueError, match="exactly one of"):
        init.sparse_(gk.empty(3, 3))
    with pytest.raises(ValueError, match="connections=5"):
        init.sparse_(gk.empty(3, 3), connections=5)


def test_default_layer_init_is_he_normal_with_zero_bias():
    gk.manual_seed(4)
    linear = nn.Linear(400, 300)
    assert_moments(linear.weight, 2.0 / 400)
    assert np.all(linear.bias.numpy() == 0)
    conv = nn.Conv2d(16, 64, 3)
    assert_moments(conv.weight, 2.0 / (16 * 9))
    assert np.all(conv.bias.numpy() == 0)
    grouped = nn.Conv1d(8, 64, 5, groups=4)
    assert_moments(grouped.weight, 2.0 / (2 * 5))
