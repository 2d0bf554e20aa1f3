"""Pooling against torch.nn.functional: values and input gradients in float64 and float32,
ties (the first maximum gets the gradient), overlapping windows, padding and ceil_mode."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import gradkit as gk
from gradkit.autograd import gradcheck
from gradkit.ops.pool import (adaptive_avg_pool2d, avg_pool1d, avg_pool2d, max_pool1d,
                              max_pool2d)
from oracle import check

F64, F32 = np.float64, np.float32

# (id, input shape, options) for max_pool2d
MAX2D = [
    ("k2_tiled", (2, 3, 8, 6), dict(kernel_size=2)),
    ("k2_odd_uncovered", (2, 2, 7, 9), dict(kernel_size=2)),
    ("k3_s2_p1", (2, 3, 9, 8), dict(kernel_size=3, stride=2, padding=1)),
    ("k3_s1_overlap", (1, 2, 6, 7), dict(kernel_size=3, stride=1, padding=1)),
    ("nonsquare", (2, 2, 9, 10), dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1))),
    ("stride3_gaps", (2, 2, 11, 10), dict(kernel_size=2, stride=3)),
    ("dilation2", (2, 2, 9, 9), dict(kernel_size=3, stride=2, dilation=2, padding=1)),
    ("ceil_mode", (2, 2, 8, 9), dict(kernel_size=3, stride=2, ceil_mode=True)),
    ("ceil_mode_pad", (2, 2, 7, 6), dict(kernel_size=2, stride=2, padding=1, ceil_mode=True)),
    ("global", (2, 3, 5, 4), dict(kernel_size=(5, 4))),
]
MAX1D = [
    ("k2", (2, 3, 8), dict(kernel_size=2)),
    ("k3_s2_p1", (2, 3, 11), dict(kernel_size=3, stride=2, padding=1)),
    ("dilation_ceil", (1, 2, 12), dict(kernel_size=3, stride=2, dilation=2, ceil_mode=True)),
]
AVG2D = [
    ("k2_tiled", (2, 3, 8, 6), dict(kernel_size=2)),
    ("k2_odd", (2, 2, 7, 9), dict(kernel_size=2)),
    ("k3_s2_p1", (2, 3, 9, 8), dict(kernel_size=3, stride=2, padding=1)),
    ("k3_s2_p1_exclude", (2, 3, 9, 8), dict(kernel_size=3, stride=2, padding=1,
                                            count_include_pad=False)),
    ("overlap", (1, 2, 6, 7), dict(kernel_size=3, stride=1, padding=1)),
    ("nonsquare", (2, 2, 9, 10), dict(kernel_size=(2, 4), stride=(3, 1), padding=(1, 2))),
    ("ceil_mode", (2, 2, 8, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("ceil_mode_exclude", (2, 2, 8, 9), dict(kernel_size=3, stride=2, padding=1,
                                             ceil_mode=True, count_include_pad=False)),
    ("divisor_override", (2, 2, 7, 7), dict(kernel_size=3, stride=2, padding=1,
                                            divisor_override=5)),
    ("global", (2, 3, 5, 4), dict(kernel_size=(5, 4))),
    ("global_divisor_override", (2, 3, 5, 4), dict(kernel_size=(5, 4), divisor_override=7)),
]
AVG1D = [
    ("k2", (2, 3, 8), dict(kernel_size=2)),
    ("k3_s2_p1_exclude", (2, 3, 11), dict(kernel_size=3, stride=2, padding=1,
                                          count_include_pad=False, ceil_mode=True)),
]
ADAPTIVE = [
    ("global", (2, 3, 7, 5), 1),
    ("divisible", (2, 3, 8, 6), (4, 2)),
    ("uneven", (2, 3, 7, 9), (3, 4)),
    ("upsample", (1, 2, 3, 2), (5, 3)),
    ("none_keeps", (2, 2, 7, 5), (None, 3)),
    ("unbatched", (3, 7, 9), (2, 4)),
]


def _case(tfn, fn, options):
    return (lambda x: tfn(x, **options)), (lambda x: fn(x, **options))


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("name,shape,options", MAX2D, ids=[c[0] for c in MAX2D])
def test_max_pool2d_matches_torch(name, shape, options, dtype):
    check([shape], *_case(TF.max_pool2d, max_pool2d, options), dtype=dtype)


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("name,shape,options", MAX1D, ids=[c[0] for c in MAX1D])
def test_max_pool1d_matches_torch(name, shape, options, dtype):
    check([shape], *_case(TF.max_pool1d, max_pool1d, options), dtype=dtype)


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("name,shape,options", AVG2D, ids=[c[0] for c in AVG2D])
def test_avg_pool2d_matches_torch(name, shape, options, dtype):
    check([shape], *_case(TF.avg_pool2d, avg_pool2d, options), dtype=dtype)


@pytest.mark.parametrize("name,shape,options", AVG1D, ids=[c[0] for c in AVG1D])
def test_avg_pool1d_matches_torch(name, shape, options):
    check([shape], *_case(TF.avg_pool1d, avg_pool1d, options))


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("name,shape,size", ADAPTIVE, ids=[c[0] for c in ADAPTIVE])
def test_adaptive_avg_pool2d_matches_torch(name, shape, size, dtype):
    check([shape], lambda x: TF.adaptive_avg_pool2d(x, size),
          lambda x: adaptive_avg_pool2d(x, size), dtype=dtype)


@pytest.mark.parametrize("fn,tfn,shape,options", [
    (max_pool2d, TF.max_pool2d, (2, 3, 8, 8), dict(kernel_size=2)),
    (max_pool2d, TF.max_pool2d, (2, 3, 7, 8), dict(kernel_size=3, stride=2, padding=1)),
    (max_pool2d, TF.max_pool2d, (2, 3, 7, 8), dict(kernel_size=3, stride=1)),
    (max_pool1d, TF.max_pool1d, (2, 3, 9), dict(kernel_size=3, stride=2, padding=1)),
])
def test_ties_send_the_gradient_to_the_first_maximum(fn, tfn, shape, options):
    """Integer-valued inputs (as after ReLU or on images) have ties in most windows."""
    values = np.random.default_rng(0).integers(0, 3, size=shape).astype(np.float64)
    check([shape], lambda x: tfn(x, **options), lambda x: fn(x, **options), arrays=[values])


@pytest.mark.parametrize("fn,tfn,shape,options", [
    (max_pool2d, TF.max_pool2d, (2, 3, 9, 8), dict(kernel_size=3, stride=2, padding=1)),
    (max_pool2d, TF.max_pool2d, (3, 8, 7), dict(kernel_size=(2, 3), dilation=(2, 1),
                                                ceil_mode=True)),
    (max_pool1d, TF.max_pool1d, (2, 3, 10), dict(kernel_size=3, stride=2, padding=1)),
])
def test_return_indices(fn, tfn, shape, options):
    values = np.random.default_rng(1).integers(0, 4, size=shape).astype(np.float32)
    out, idx = fn(gk.tensor(values), return_indices=True, **options)
    t_out, t_idx = tfn(torch.tensor(values), return_indices=True, **options)
    np.testing.assert_array_equal(out.numpy(), t_out.numpy())
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())
    assert idx.dtype == np.int64


@pytest.mark.parametrize("fn,shape,options", [
    (max_pool2d, (3, 7, 8), dict(kernel_size=3, stride=2, padding=1)),
    (avg_pool2d, (3, 7, 8), dict(kernel_size=(2, 3), padding=1, count_include_pad=False)),
    (max_pool1d, (3, 9), dict(kernel_size=2)),
])
def test_unbatched_input(fn, shape, options):
    tfn = getattr(TF, fn.__name__)
    check([shape], lambda x: tfn(x, **options), lambda x: fn(x, **options))


@pytest.mark.parametrize("fn,shape,options", [
    (max_pool2d, (2, 2, 5, 6), dict(kernel_size=3, stride=2, padding=1)),
    (max_pool2d, (1, 2, 6, 6), dict(kernel_size=2)),
    (avg_pool2d, (2, 2, 5, 6), dict(kernel_size=3, stride=2, padding=1,
                                    count_include_pad=False, ceil_mode=True)),
    (avg_pool2d, (1, 2, 6, 4), dict(kernel_size=2)),
    (adaptive_avg_pool2d, (2, 2, 5, 7), dict(output_size=(2, 3))),
    (adaptive_avg_pool2d, (2, 2, 5, 7), dict(output_size=1)),
])
def test_gradcheck(fn, shape, options):
    x = gk.tensor(np.random.default_rng(2).standard_normal(shape), requires_grad=True)
    assert gradcheck(lambda t: fn(t, **options), [x])


def test_float32_stays_float32():
    x = gk.randn(2, 3, 8, 8, requires_grad=True)
    outs = [max_pool2d(x, 2), avg_pool2d(x, 3, 2, 1), adaptive_avg_pool2d(x, (3, 5))]
    sum(o.sum() for o in outs).backward()
    assert all(o.dtype == np.float32 for o in outs) and x.grad.dtype == np.float32


@pytest.mark.parametrize("call,message", [
    (lambda: max_pool2d(gk.randn(8, 28, 28, 1, 1), 2),
     r"max_pool2d: expected input \(N, C, H, W\) or \(C, H, W\), got \(8, 28, 28, 1, 1\)"),
    (lambda: max_pool1d(gk.randn(8, 3, 4, 4), 2),
     r"max_pool1d: expected input \(N, C, L\) or \(C, L\), got \(8, 3, 4, 4\)"),
    (lambda: max_pool2d(gk.randn(1, 1, 8, 8), 3, padding=2), r"padding must be between 0"),
    (lambda: avg_pool2d(gk.randn(1, 1, 8, 8), 2, padding=2), r"padding must be between 0"),
    (lambda: avg_pool2d(gk.randn(1, 1, 2, 2), 3), r"too small .* output would be"),
    (lambda: adaptive_avg_pool2d(gk.randn(1, 1, 4, 4), (1, 2, 3)), r"output_size must be"),
    (lambda: max_pool1d(gk.randn(1, 1, 8), (2, 2)), r"kernel_size must be an int or a tuple of"),
    (lambda: avg_pool2d(gk.tensor(np.zeros((1, 1, 4, 4), np.int32)), 2),
     r"not implemented for int32"),
])
def test_bad_input_raises_a_clear_error(call, message):
    with pytest.raises((ValueError, TypeError, NotImplementedError), match=message):
        call()


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_random_configurations_match_torch(data):
    """Max and average pooling with any kernel, stride, padding, dilation and ceil_mode."""
    draw = data.draw
    is_max = draw(st.booleans())
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if is_max else (1, 1)
    size = [draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 9))
            for k, d, p in zip(kernel, dilation, padding)]
    options = dict(kernel_size=kernel, stride=stride, padding=padding,
                   ceil_mode=draw(st.booleans()))
    if is_max:
        options["dilation"] = dilation
        fn, tfn = max_pool2d, TF.max_pool2d
    else:
        options["count_include_pad"] = draw(st.booleans())
        fn, tfn = avg_pool2d, TF.avg_pool2d
    values = np.random.default_rng(draw(st.integers(0, 9))).integers(-3, 4, (2, 2, *size))
    values = values.astype(np.float64)
    # a dilated window can fall wholly in the padding; PyTorch's argmax index is then out of
    # its plane (its gradient lands in the next channel), so such cases are not compared
    assume(np.isfinite(tfn(torch.tensor(values), **options).numpy()).all())
    check([values.shape], *_case(tfn, fn, options), arrays=[values])
