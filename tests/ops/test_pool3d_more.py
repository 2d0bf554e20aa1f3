"""adaptive_max_pool3d, max_unpool3d and lp_pool3d (and their layers) against PyTorch: values,
indices, gradients (float64 tight, float32 loose), gradcheck, unbatched and non-contiguous
input, size-1 and empty dims, and bad arguments."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import gradkit as gk
from gradkit import nn
from gradkit.autograd import gradcheck
from gradkit.nn import functional as F
from oracle import check

F64, F32 = np.float64, np.float32


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("shape, size", [
    ((2, 3, 5, 6, 7), (2, 3, 4)), ((1, 2, 4, 4, 4), 2), ((2, 1, 3, 5, 4), (None, 2, 3)),
    ((3, 4, 7, 3, 5), (3, 4, 2)), ((2, 5, 6, 7), (2, 3, 3)), ((1, 1, 1, 1, 1), 1),
    ((1, 2, 3, 2, 5), (5, 4, 7)),
])
def test_adaptive_max_pool3d(shape, size, dtype):
    check([shape], lambda x: TF.adaptive_max_pool3d(x, size),
          lambda x: F.adaptive_max_pool3d(x, size), dtype=dtype)
    x = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    _, t_idx = TF.adaptive_max_pool3d(torch.tensor(x), size, return_indices=True)
    out, idx = F.adaptive_max_pool3d(gk.tensor(x), size, return_indices=True)
    assert idx.dtype == np.int64
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())
    layer_out, layer_idx = nn.AdaptiveMaxPool3d(size, return_indices=True)(gk.tensor(x))
    np.testing.assert_array_equal(layer_idx.numpy(), t_idx.numpy())
    np.testing.assert_array_equal(layer_out.numpy(), out.numpy())


def test_adaptive_max_pool3d_ties_nan_and_transposed():
    x = np.zeros((1, 1, 3, 3, 3))
    x[0, 0, 1, 2, 0] = np.nan
    out, idx = F.adaptive_max_pool3d(gk.tensor(x), 2, return_indices=True)
    t_out, t_idx = TF.adaptive_max_pool3d(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())
    np.testing.assert_array_equal(out.numpy(), t_out.numpy())
    y = np.random.default_rng(2).standard_normal((2, 3, 4, 5, 6)).transpose(0, 1, 4, 3, 2)
    check([], lambda a: TF.adaptive_max_pool3d(a, (3, 2, 2)),
          lambda a: F.adaptive_max_pool3d(a, (3, 2, 2)), arrays=[y])


def test_adaptive_max_pool3d_gradcheck_and_errors():
    x = gk.tensor(np.random.default_rng(3).standard_normal((1, 2, 4, 3, 5)),
                  requires_grad=True)
    assert gradcheck(lambda a: F.adaptive_max_pool3d(a, (3, 2, 2)), (x,))
    with pytest.raises(ValueError):
        F.adaptive_max_pool3d(gk.zeros(3, 4, 4), 2)
    with pytest.raises(ValueError):
        nn.AdaptiveMaxPool3d(2)(gk.zeros(3, 4))
    with pytest.raises(NotImplementedError):
        F.adaptive_max_pool3d(gk.zeros(1, 1, 2, 2, 2, dtype=gk.int64), 1)


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("shape, kernel, stride, padding", [
    ((2, 3, 4, 6, 4), 2, None, 0), ((1, 2, 5, 5, 5), 3, 2, 1), ((2, 1, 4, 3, 6), (2, 1, 3),
                                                                  (2, 1, 3), 0),
    ((3, 4, 4, 4), 2, None, 0),
])
def test_max_unpool3d(shape, kernel, stride, padding, dtype):
    x = np.random.default_rng(4).standard_normal(shape).astype(dtype)
    t_p, t_idx = TF.max_pool3d(torch.tensor(x), kernel, stride, padding, return_indices=True)
    pooled = t_p.numpy()
    check([], lambda p: TF.max_unpool3d(p, t_idx, kernel, stride, padding),
          lambda p: F.max_unpool3d(p, gk.tensor(t_idx.numpy()), kernel, stride, padding),
          arrays=[pooled], dtype=dtype)
    g_p, g_idx = F.max_pool3d(gk.tensor(x), kernel, stride, padding, return_indices=True)
    layer = nn.MaxUnpool3d(kernel, stride, padding)
    want = TF.max_unpool3d(t_p, t_idx, kernel, stride, padding, output_size=x.shape[-3:])
    got = layer(g_p, g_idx, output_size=x.shape[-3:])
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_max_unpool3d_gradcheck_and_errors():
    x = np.random.default_rng(5).standard_normal((1, 2, 4, 4, 2))
    pooled, idx = F.max_pool3d(gk.tensor(x), 2, return_indices=True)
    p = gk.tensor(pooled.numpy(), requires_grad=True)
    assert gradcheck(lambda a: F.max_unpool3d(a, idx, 2), (p,))
    with pytest.raises(RuntimeError):
        F.max_unpool3d(p, gk.tensor(idx.numpy() + 100), 2)
    with pytest.raises(TypeError):
        F.max_unpool3d(p, gk.tensor(idx.numpy().astype(np.int32)), 2)
    with pytest.raises(ValueError):
        F.max_unpool3d(p, idx, 2, output_size=(9, 9, 9))
    assert "kernel_size=(2, 2, 2)" in repr(nn.MaxUnpool3d(2))


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("p, kernel, stride, ceil", [
    (2, 2, None, False), (3, (2, 1, 3), (1, 1, 2), False), (1.5, 3, 2, True),
    (float("inf"), 2, 1, False),
])
def test_lp_pool3d(p, kernel, stride, ceil, dtype):
    shape = (2, 3, 5, 4, 6)
    check([shape], lambda x: TF.lp_pool3d(x, p, kernel, stride, ceil),
          lambda x: F.lp_pool3d(x, p, kernel, stride, ceil), dtype=dtype, low=0.1, high=2.0)
    x = np.random.default_rng(6).uniform(0.1, 2, shape).astype(dtype)
    want = torch.nn.LPPool3d(p, kernel, stride, ceil)(torch.tensor(x)).numpy()
    got = nn.LPPool3d(p, kernel, stride, ceil)(gk.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_lp_pool3d_unbatched_gradcheck_errors():
    check([(2, 4, 4, 4)], lambda x: TF.lp_pool3d(x, 2, 2), lambda x: F.lp_pool3d(x, 2, 2),
          low=0.1)
    x = gk.tensor(np.random.default_rng(7).uniform(0.5, 2, (1, 1, 2, 4, 2)),
                  requires_grad=True)
    assert gradcheck(lambda a: F.lp_pool3d(a, 2, 2), (x,))
    with pytest.raises(ValueError):
        F.lp_pool3d(gk.zeros(4, 4), 2, 2)


@settings(max_examples=20, deadline=None)
@given(st.tuples(*[st.integers(1, 5)] * 3), st.tuples(*[st.integers(1, 4)] * 3))
def test_adaptive_max_pool3d_drawn(shape, size):
    check([(1, 2, *shape)], lambda x: TF.adaptive_max_pool3d(x, size),
          lambda x: F.adaptive_max_pool3d(x, size))
