"""BatchNorm's forward keeps x − μ instead of x̂ (one pass shorter): values, the gradients of
input, weight and bias, and the running statistics against PyTorch in training and eval, with
and without the affine parameters, float64 and float32; gradcheck in float64."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import gradkit as gk
from gradkit.autograd import gradcheck
from gradkit.nn.functional import batch_norm
from oracle import check

F64, F32 = np.float64, np.float32


def _running(c, dtype, seed=5):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(c).astype(dtype), rng.uniform(0.5, 2.0, c).astype(dtype)


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(4, 3), (3, 2, 5), (2, 3, 4, 5), (1, 2, 3, 3)])
def test_affine_matches_torch(shape, training, dtype):
    c = shape[1]
    mean, var = _running(c, dtype)
    tm, tv, gm, gv = (torch.tensor(mean), torch.tensor(var), gk.tensor(mean), gk.tensor(var))
    check([shape, (c,), (c,)],
          lambda x, w, b: TF.batch_norm(x, tm, tv, w, b, training=training),
          lambda x, w, b: batch_norm(x, gm, gv, w, b, training=training), dtype=dtype)
    np.testing.assert_allclose(gm.numpy(), tm.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gv.numpy(), tv.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [F64, F32])
def test_without_affine_parameters(dtype):
    check([(3, 4, 5, 2)], lambda x: TF.batch_norm(x, None, None, training=True),
          lambda x: batch_norm(x, None, None, training=True), dtype=dtype)


def test_transposed_input_and_large_mean():
    x = np.random.default_rng(1).standard_normal((5, 4, 3, 6)).transpose(3, 1, 2, 0) + 30.0
    check([x.shape, (4,), (4,)],
          lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True),
          lambda x, w, b: batch_norm(x, None, None, w, b, training=True),
          arrays=[x, np.linspace(0.5, 2, 4), np.linspace(-1, 1, 4)])


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 4, 5), (40, 8, 48, 48)])
def test_eval_forward_without_a_graph(shape, affine, dtype):
    # No graph in eval mode: one pass per chunk and nothing kept, the same bits as the
    # recorded path, and PyTorch's values (the last shape goes through in several chunks).
    c = shape[1]
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(shape) * 3 + 2).astype(dtype)
    mean, var = _running(c, dtype)
    w, b = (rng.standard_normal(c).astype(dtype) for _ in range(2)) if affine else (None, None)
    g = [gk.tensor(a) if a is not None else None for a in (x, mean, var, w, b)]
    with gk.no_grad():
        plain = batch_norm(g[0], g[1], g[2], g[3], g[4], training=False)
    recorded = batch_norm(gk.tensor(x, requires_grad=True), g[1], g[2], g[3], g[4],
                          training=False)
    np.testing.assert_array_equal(plain.numpy(), recorded.numpy())
    t = [torch.tensor(a) if a is not None else None for a in (x, mean, var, w, b)]
    expected = TF.batch_norm(t[0], t[1], t[2], t[3], t[4], training=False).numpy()
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == F32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(plain.numpy(), expected, **tol)
    np.testing.assert_array_equal(g[1].numpy(), mean)  # the running statistics untouched
    np.testing.assert_array_equal(g[2].numpy(), var)


@pytest.mark.parametrize("training", [True, False])
def test_gradcheck(training):
    rng = np.random.default_rng(2)
    mean, var = _running(3, F64)
    inputs = [gk.tensor(rng.standard_normal(s), requires_grad=True)
              for s in ((4, 3, 2, 3), (3,), (3,))]
    assert gradcheck(lambda x, w, b: batch_norm(x, gk.tensor(mean), gk.tensor(var), w, b,
                                                training=training), inputs)


def test_only_the_input_needs_a_gradient():
    x = gk.tensor(np.random.default_rng(3).standard_normal((4, 2, 3)), requires_grad=True)
    w, b = gk.tensor(np.ones(2)), gk.tensor(np.zeros(2))
    batch_norm(x, None, None, w, b, training=True).pow(2).sum().backward()
    t = torch.tensor(x.numpy(), requires_grad=True)
    TF.batch_norm(t, None, None, torch.ones(2, dtype=torch.float64),
                  torch.zeros(2, dtype=torch.float64), training=True).pow(2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), atol=1e-10)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(2, 5), c=st.integers(1, 4), h=st.integers(1, 4), w=st.integers(1, 4))
def test_drawn_shapes(n, c, h, w):
    check([(n, c, h, w), (c,), (c,)],
          lambda x, g, b: TF.batch_norm(x, None, None, g, b, training=True),
          lambda x, g, b: batch_norm(x, None, None, g, b, training=True))
