"""The window geometry and MaxPool Function that the 1-d, 2-d and 3-d poolings share: the
paths each pooling reaches only through the shared code (tiled 3-d windows, kernels of more
than 256 taps, dilated ceil-mode indices, the geometry's checks) against PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradkit as gk
from gradkit.autograd.check import gradcheck
from gradkit.nn import functional as F
from tests.oracle import check

CASES = [
    ("max_pool3d", (2, 3, 4, 6, 8), dict(kernel_size=2)),                       # tiled
    ("max_pool3d", (1, 2, 8, 7, 7), dict(kernel_size=7, stride=1)),             # 343 taps
    ("max_pool3d", (1, 2, 7, 6, 9), dict(kernel_size=2, stride=2, dilation=(2, 1, 2),
                                         ceil_mode=True)),
    ("max_pool2d", (2, 3, 6, 8), dict(kernel_size=2)),                          # tiled
    ("max_pool2d", (1, 2, 18, 17), dict(kernel_size=(17, 16), stride=1)),       # 272 taps
    ("max_pool1d", (2, 3, 11), dict(kernel_size=3, stride=2, dilation=2, padding=1,
                                    ceil_mode=True)),
]


@pytest.mark.parametrize("name, shape, options", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_max_pool_values_grads_and_indices(name, shape, options, dtype):
    check([shape], lambda x: getattr(TF, name)(x, **options),
          lambda x: getattr(F, name)(x, **options), dtype=dtype)
    a = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    out, idx = getattr(F, name)(gk.tensor(a), return_indices=True, **options)
    t_out, t_idx = getattr(TF, name)(torch.tensor(a), return_indices=True, **options)
    assert out.dtype == dtype and idx.dtype == np.int64
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())


@pytest.mark.parametrize("name, shape, options", CASES[:1] + CASES[3:4])
def test_tiled_max_pool_gradcheck(name, shape, options):
    x = gk.tensor(np.random.default_rng(2).permutation(np.prod(shape)).reshape(shape) / 7.0,
                  requires_grad=True)
    assert gradcheck(lambda t: getattr(F, name)(t, **options), (x,))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_tiled_avg_pool3d_against_torch(dtype):
    check([(2, 3, 4, 6, 8)], lambda x: TF.avg_pool3d(x, 2), lambda x: F.avg_pool3d(x, 2),
          dtype=dtype)


@pytest.mark.parametrize("call, message", [
    (lambda: F.max_pool2d(gk.randn(1, 1, 4, 4), 2, stride=0), "stride must be positive"),
    (lambda: F.max_pool3d(gk.randn(1, 1, 4, 4, 4), 2, dilation=0), "dilation must be positive"),
    (lambda: F.avg_pool2d(gk.randn(1, 1, 4, 4), 2, padding=2), "half the kernel size"),
    (lambda: F.max_pool1d(gk.randn(1, 1, 2), 3), "too small"),
])
def test_geometry_checks_raise_runtime_and_value_errors(call, message):
    with pytest.raises(RuntimeError, match=message):
        call()
    with pytest.raises(ValueError, match=message):
        call()
