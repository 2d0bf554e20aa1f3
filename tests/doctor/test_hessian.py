"""Hessian-vector products and Lanczos eigenvalues (gradkit.doctor.hessian)."""

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.doctor.hessian import (LossGradient, extreme_eigenvalues, hessian_vector_product,
                                    lanczos)
from gradkit.nn import functional as F
from gradkit.optim import Newton


def _quadratic(eigenvalues, seed=0):
    """A = Q diag(λ) Qᵀ with a random rotation Q; gradient of ½ θᵀAθ is Aθ."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((len(eigenvalues), len(eigenvalues))))
    return q @ np.diag(eigenvalues) @ q.T


def test_quadratic_with_both_signs_gives_its_extreme_eigenvalues():
    eigenvalues = [-3.0, -0.5, 0.1, 1.0, 2.0, 7.5]
    A = _quadratic(eigenvalues)
    hvp = hessian_vector_product(lambda t: A @ t, np.ones(6))
    low, high, ritz, escape = extreme_eigenvalues(hvp, 6, iterations=20)
    assert low == pytest.approx(-3.0, abs=1e-6)
    assert high == pytest.approx(7.5, abs=1e-6)
    np.testing.assert_allclose(ritz, eigenvalues, atol=1e-6)
    np.testing.assert_allclose(A @ escape, -3.0 * escape, atol=1e-5)


def test_lanczos_on_a_large_operator_converges_to_the_extremes_first():
    rng = np.random.default_rng(1)
    spectrum = np.concatenate([[-2.0], rng.uniform(0.0, 1.0, 398), [5.0]])
    A = _quadratic(spectrum, seed=2)
    values, vectors = lanczos(lambda v: A @ v, 400, iterations=30)
    assert values[0] == pytest.approx(-2.0, abs=1e-4)
    assert values[-1] == pytest.approx(5.0, abs=1e-4)
    assert vectors.shape == (400, len(values))


def test_saddle_function_has_a_negative_eigenvalue_at_its_critical_point():
    # f(x, y) = x² − y² + x·y: at (0, 0) H = [[2, 1], [1, −2]], eigenvalues ±√5
    def grad(t):
        x, y = t
        return np.array([2 * x + y, -2 * y + x])

    hvp = hessian_vector_product(grad, np.zeros(2))
    low, high, _, escape = extreme_eigenvalues(hvp, 2)
    assert low == pytest.approx(-np.sqrt(5), abs=1e-6)
    assert high == pytest.approx(np.sqrt(5), abs=1e-6)
    x, y = 1e-2 * escape
    assert x * x - y * y + x * y < 0  # stepping along the escape direction lowers f


def test_small_net_hessian_matches_the_full_finite_difference_hessian():
    gk.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3)).to(gk.float64)
    rng = np.random.default_rng(0)
    x = gk.tensor(rng.standard_normal((16, 3)))
    y = gk.tensor(rng.integers(0, 3, 16))

    def loss():
        return F.cross_entropy(model(x), y)

    grad = LossGradient(model, loss)
    theta = grad.theta()
    full = Newton(model.parameters(), max_params=100).hessian(loss)
    hvp = hessian_vector_product(grad, theta)
    v = rng.standard_normal(theta.size)
    np.testing.assert_allclose(hvp(v), full @ v, rtol=1e-5, atol=1e-7)
    low, high, _, _ = extreme_eigenvalues(hvp, theta.size, iterations=theta.size)
    exact = np.linalg.eigvalsh(full)
    assert low == pytest.approx(exact[0], abs=1e-5)
    assert high == pytest.approx(exact[-1], rel=1e-5)
    grad.restore()
    np.testing.assert_array_equal(grad.theta(), theta)
    assert 2 < grad.evaluations <= 2 * theta.size + 2  # two per product, at most n products
