"""The shifted-GEMM convolution (ops/shifted.py), forced and as auto picks it: values and the
gradients of input, weight and bias against PyTorch and against the im2col path, float64
and float32, over paddings 0/1/2, dilation, odd sizes, batch 1, non-square kernels; and
gradcheck in float64."""

import numpy as np
import pytest
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import gradkit as gk
from gradkit.autograd import gradcheck
from gradkit.ops import conv_select, shifted
from gradkit.ops.conv import _Geometry, conv2d
from conv_algorithms import (assert_conv1d_and_empty_batch, assert_float32_error_like_im2col,
                             assert_forced_matches_torch, assert_matches_im2col, forcing)
from oracle import check

F64, F32 = np.float64, np.float32
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")

CASES = [
    ((2, 16, 9, 7), (16, 16, 3, 3), dict(padding=1)),
    ((1, 3, 8, 8), (5, 3, 3, 3), dict(padding=0)),
    ((2, 4, 7, 9), (3, 4, 3, 3), dict(padding=2)),
    ((2, 4, 11, 10), (4, 4, 3, 3), dict(padding=2, dilation=2)),
    ((2, 3, 8, 10), (4, 3, 2, 5), dict(padding=(1, 2))),
    ((2, 3, 7, 8), (4, 3, 2, 4), dict(padding="same")),
    ((2, 5, 6, 6), (3, 5, 1, 1), dict(padding=1)),
    ((3, 2, 5, 5), (2, 2, 5, 5), dict()),
]


forced = forcing("shifted")


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("xs,ws,options", CASES)
def test_forced_matches_torch(xs, ws, options, dtype):
    assert_forced_matches_torch("shifted", xs, ws, options, dtype)


@pytest.mark.parametrize("setting", ["shifted", "auto"])
@pytest.mark.parametrize("xs,ws,options", CASES)
def test_matches_the_im2col_path(xs, ws, options, setting):
    assert_matches_im2col(setting, xs, ws, options)


def test_float32_error_is_bounded_like_im2col():
    assert_float32_error_like_im2col("shifted", (4, 32, 12, 12), (32, 32, 3, 3))


@pytest.mark.parametrize("xs,ws,options", CASES[:5])
def test_gradcheck(forced, xs, ws, options):
    rng = np.random.default_rng(2)
    inputs = [gk.tensor(rng.standard_normal(s), requires_grad=True)
              for s in (xs, ws, (ws[0],))]
    assert gradcheck(lambda x, w, b: conv2d(x, w, b, **options), inputs)


def test_transposed_input_and_only_weight_grad(forced):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((9, 9, 16, 2)).transpose(3, 2, 1, 0)  # (2, 16, 9, 9), strided
    check([x.shape, (8, 16, 3, 3)], lambda x, w: TF.conv2d(x, w, padding=1),
          lambda x, w: conv2d(x, w, padding=1),
          arrays=[x, rng.standard_normal((8, 16, 3, 3))])
    w = gk.tensor(rng.standard_normal((8, 16, 3, 3)), requires_grad=True)
    conv2d(gk.tensor(np.ascontiguousarray(x)), w, padding=1).sum().backward()
    assert w.grad is not None and w.grad.shape == (8, 16, 3, 3)


def test_conv1d_and_empty_batch(forced):
    assert_conv1d_and_empty_batch()


def test_applies():
    assert "shifted" in conv_select.ALGORITHMS
    geo = _Geometry((2, 4, 8, 8), (4, 4, 3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1)
    strided = _Geometry((2, 4, 8, 8), (4, 4, 3, 3), (2, 1), (1, 1, 1, 1), (1, 1), 1)
    grouped = _Geometry((2, 4, 8, 8), (4, 2, 3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 2)
    assert shifted.applies(geo) and not shifted.applies(strided)
    assert not shifted.applies(grouped)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 3), c=st.integers(1, 5), o=st.integers(1, 5), h=st.integers(3, 9),
       w=st.integers(3, 9), pad=st.integers(0, 2), k=st.sampled_from([1, 2, 3]))
def test_drawn_shapes(n, c, o, h, w, pad, k):
    with conv_select.conv_algorithm("shifted"):
        check([(n, c, h, w), (o, c, k, k)], lambda x, f: TF.conv2d(x, f, padding=pad),
              lambda x, f: conv2d(x, f, padding=pad))
