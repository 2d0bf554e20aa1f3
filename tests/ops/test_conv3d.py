"""conv3d against torch.nn.functional: values and the gradients of input, weight and bias in
float64 (tight) and float32 (loose), over strides, paddings ('same', 'valid'), dilations and
groups; gradcheck; edge cases and bad arguments."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import gradkit as gk
from gradkit.autograd import gradcheck
from gradkit.errors import ArgumentError, ShapeError
from gradkit.nn import functional as F
from oracle import check

F64, F32 = np.float64, np.float32
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")

# (id, input shape, weight shape (out, in/groups, kd, kh, kw), options)
CONV3D = [
    ("basic", (2, 3, 4, 5, 4), (4, 3, 3, 3, 3), dict()),
    ("pad1", (2, 2, 4, 4, 3), (3, 2, 3, 3, 3), dict(padding=1)),
    ("stride2_pad_tuple", (2, 2, 5, 6, 5), (3, 2, 3, 2, 3), dict(stride=2, padding=(1, 0, 2))),
    ("stride_uncovered", (1, 2, 7, 5, 6), (2, 2, 2, 3, 2), dict(stride=(3, 2, 4))),
    ("dilation", (2, 2, 5, 6, 5), (3, 2, 2, 3, 2), dict(dilation=(2, 1, 2), padding=1)),
    ("same_odd", (2, 2, 4, 5, 3), (3, 2, 3, 3, 3), dict(padding="same")),
    ("same_even_dilated", (1, 2, 5, 4, 5), (3, 2, 2, 4, 3), dict(padding="same",
                                                                 dilation=(1, 1, 2))),
    ("valid", (2, 2, 4, 4, 4), (3, 2, 2, 3, 2), dict(padding="valid")),
    ("groups2", (2, 4, 4, 4, 3), (6, 2, 3, 2, 2), dict(groups=2, padding=1)),
    ("depthwise_stride2", (2, 3, 5, 4, 5), (3, 1, 3, 3, 3), dict(groups=3, stride=2,
                                                                 padding=1)),
    ("pointwise", (2, 5, 3, 2, 4), (4, 5, 1, 1, 1), dict()),
    ("kernel_equals_input", (2, 2, 3, 2, 3), (3, 2, 3, 2, 3), dict()),
    ("batch1", (1, 1, 3, 3, 3), (2, 1, 2, 2, 2), dict(stride=2, padding=1)),
]


def _check(xs, ws, options, dtype=F64, bias=True):
    shapes = [xs, ws] + ([(ws[0],)] if bias else [])
    check(shapes, lambda *a: TF.conv3d(*a, **options), lambda *a: F.conv3d(*a, **options),
          dtype=dtype)


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("name,xs,ws,options", CONV3D, ids=[c[0] for c in CONV3D])
def test_conv3d_matches_torch(name, xs, ws, options, dtype):
    _check(xs, ws, options, dtype)


def test_no_bias_unbatched_empty_batch():
    _check((2, 2, 4, 4, 3), (3, 2, 3, 2, 2), dict(stride=2, padding=1), bias=False)
    _check((2, 3, 4, 4), (3, 2, 2, 2, 2), dict(padding=1))
    _check((0, 2, 3, 4, 4), (3, 2, 3, 2, 2), dict(padding=1))


def test_non_contiguous_input():
    check([(2, 4, 3, 5, 2), (3, 2, 2, 3, 2), (3,)],
          lambda x, w, b: TF.conv3d(x.transpose(1, 4), w, b, padding=1),
          lambda x, w, b: F.conv3d(x.transpose(1, 4), w, b, padding=1))


def test_float32_stays_float32_and_no_grad_runs():
    x = gk.randn(2, 3, 4, 4, 4, requires_grad=True)
    w = gk.randn(4, 3, 3, 3, 3, requires_grad=True)
    out = F.conv3d(x, w, gk.randn(4), padding=1)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == w.grad.dtype == np.float32
    with gk.no_grad():
        assert F.conv3d(x, w).grad_fn is None


def test_matches_conv2d_on_a_depth_of_one():
    x, w = gk.randn(2, 3, 1, 6, 5), gk.randn(4, 3, 1, 3, 3)
    np.testing.assert_allclose(F.conv3d(x, w, stride=(1, 2, 1), padding=(0, 1, 1)).numpy()[:, :, 0],
                               F.conv2d(x[:, :, 0], w[:, :, 0], stride=(2, 1), padding=1).numpy(),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("xs,ws,options", [
    ((2, 2, 3, 3, 3), (2, 2, 2, 2, 2), dict(stride=2, padding=1)),
    ((1, 4, 3, 4, 3), (2, 2, 2, 2, 2), dict(groups=2, dilation=(1, 2, 1), padding="same")),
])
def test_gradcheck(xs, ws, options):
    rng = np.random.default_rng(0)
    inputs = [gk.tensor(rng.standard_normal(s), requires_grad=True) for s in (xs, ws, ws[:1])]
    assert gradcheck(lambda x, w, b: F.conv3d(x, w, b, **options), inputs)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(0, 2), size=st.tuples(*[st.integers(1, 5)] * 3),
       k=st.tuples(*[st.integers(1, 3)] * 3), s=st.integers(1, 3), p=st.integers(0, 1),
       d=st.integers(1, 2), g=st.sampled_from([1, 2]))
def test_hypothesis_shapes(n, size, k, s, p, d, g):
    if any(L + 2 * p < d * (kk - 1) + 1 for L, kk in zip(size, k)):
        return
    _check((n, 2 * g, *size), (2 * g, 2, *k), dict(stride=s, padding=p, dilation=d, groups=g))


@pytest.mark.parametrize("call,error,message", [
    (lambda: F.conv3d(gk.randn(1, 3, 4, 4, 4), gk.randn(4, 2, 3, 3, 3)), ShapeError,
     r"conv3d: expected input \(N, 2, D, H, W\) for weight \(4, 2, 3, 3, 3\), "
     r"got \(1, 3, 4, 4, 4\)"),
    (lambda: F.conv3d(gk.randn(2, 4, 4), gk.randn(4, 2, 3, 3, 3)), ShapeError,
     r"expected input \(N, 2, D, H, W\)"),
    (lambda: F.conv3d(gk.randn(1, 2, 4, 4, 4), gk.randn(4, 2, 3, 3)), ShapeError,
     r"expected weight \(out, in/groups, kd, kh, kw\), got \(4, 2, 3, 3\)"),
    (lambda: F.conv3d(gk.randn(1, 4, 4, 4, 4), gk.randn(3, 2, 3, 3, 3), groups=2),
     ShapeError, r"dim 0 \(3\) .* not divisible by groups=2"),
    (lambda: F.conv3d(gk.randn(1, 2, 4, 4, 4), gk.randn(4, 2, 3, 3, 3), gk.randn(3)),
     ShapeError, r"expected bias \(4,\)"),
    (lambda: F.conv3d(gk.randn(1, 2, 2, 4, 4), gk.randn(4, 2, 3, 3, 3)), ShapeError,
     r"kernel \(3, 3, 3\) is larger than the padded input \(2, 4, 4\)"),
    (lambda: F.conv3d(gk.randn(1, 2, 4, 4, 4), gk.randn(4, 2, 3, 3, 3), stride=2,
                      padding="same"), ArgumentError, r"padding='same' is not supported"),
    (lambda: F.conv3d(gk.randn(1, 2, 4, 4, 4), gk.randn(4, 2, 3, 3, 3), padding="full"),
     ArgumentError, r"padding must be 'same', 'valid'"),
    (lambda: F.conv3d(gk.randn(1, 2, 4, 4, 4), gk.randn(4, 2, 3, 3, 3), dilation=0),
     ArgumentError, r"dilation must be positive"),
    (lambda: F.conv3d(gk.randn(1, 2, 4, 4, 4), gk.randn(4, 2, 3, 3, 3), stride=(1, 2)),
     ArgumentError, r"stride to be a single int or a tuple of 3"),
])
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_shape_errors_are_runtime_errors_as_in_torch():
    for conv, randn in ((TF.conv3d, torch.randn), (F.conv3d, gk.randn)):
        with pytest.raises(RuntimeError):
            conv(randn(1, 3, 4, 4, 4), randn(4, 2, 3, 3, 3))
        with pytest.raises(RuntimeError):
            conv(randn(1, 2, 2, 4, 4), randn(4, 2, 3, 3, 3))
