"""im2col with the batch innermost (ops/chwn.py), forced: values and the gradients of input,
weight and bias against PyTorch and against the NCHW im2col path, float64 and float32, over
strides 1-3, paddings 0/1/2 and asymmetric, dilation, odd sizes, batch 1, non-square kernels,
both backward paths (transposed: stride 1 and O ≤ C; scattered otherwise); gradcheck."""

import numpy as np
import pytest
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import gradkit as gk
from gradkit.autograd import gradcheck
from gradkit.ops import chwn, conv_select
from gradkit.ops.conv import _Geometry, conv2d
from conv_algorithms import (assert_conv1d_and_empty_batch, assert_float32_error_like_im2col,
                             assert_forced_matches_torch, assert_matches_im2col, forcing)
from oracle import check

F64, F32 = np.float64, np.float32
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")

CASES = [
    ((2, 16, 8, 8), (16, 16, 3, 3), dict(padding=1)),              # transposed backward
    ((2, 6, 14, 13), (16, 6, 5, 5), dict()),                       # O > C: scattered
    ((1, 3, 8, 8), (5, 3, 3, 3), dict(padding=0)),
    ((2, 4, 7, 9), (3, 4, 3, 3), dict(padding=2)),
    ((2, 4, 11, 10), (4, 4, 3, 3), dict(padding=2, dilation=2)),
    ((2, 3, 8, 10), (4, 3, 2, 5), dict(padding=(1, 2))),
    ((2, 3, 7, 8), (4, 3, 2, 4), dict(padding="same")),
    ((2, 8, 9, 9), (12, 8, 3, 3), dict(stride=2, padding=1)),
    ((2, 5, 10, 11), (4, 5, 3, 2), dict(stride=(3, 2), padding=(0, 1))),
    ((2, 5, 6, 6), (3, 5, 1, 1), dict(padding=1)),
    ((3, 4, 5, 5), (2, 4, 3, 3), dict(padding=3)),                 # padding beyond the kernel
]


forced = forcing("chwn")


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("xs,ws,options", CASES)
def test_forced_matches_torch(xs, ws, options, dtype):
    assert_forced_matches_torch("chwn", xs, ws, options, dtype)


@pytest.mark.parametrize("xs,ws,options", CASES)
def test_matches_the_im2col_path(xs, ws, options):
    assert_matches_im2col("chwn", xs, ws, options)


def test_float32_error_is_bounded_like_im2col():
    assert_float32_error_like_im2col("chwn", (4, 32, 8, 8), (32, 32, 3, 3))


@pytest.mark.parametrize("xs,ws,options", [CASES[0], CASES[1], CASES[7]])
def test_gradcheck(forced, xs, ws, options):
    rng = np.random.default_rng(2)
    inputs = [gk.tensor(rng.standard_normal(s), requires_grad=True)
              for s in ((2,) + xs[1:], ws, (ws[0],))]
    assert gradcheck(lambda x, w, b: conv2d(x, w, b, **options), inputs)


@pytest.mark.parametrize("needs", [(True, False), (False, True)])
def test_only_some_inputs_need_grad(forced, needs):
    rng = np.random.default_rng(3)
    for xs, ws in [((2, 8, 6, 6), (8, 8, 3, 3)), ((2, 4, 6, 6), (8, 4, 3, 3))]:
        x = gk.tensor(rng.standard_normal(xs), requires_grad=needs[0])
        w = gk.tensor(rng.standard_normal(ws), requires_grad=needs[1])
        with conv_select.conv_algorithm("im2col"):
            conv2d(x, w, padding=1).square().sum().backward()
        expected = [t.grad.numpy() if t.grad is not None else None for t in (x, w)]
        x.grad = w.grad = None
        conv2d(x, w, padding=1).square().sum().backward()
        for t, e, n in zip((x, w), expected, needs):
            if n:
                np.testing.assert_allclose(t.grad.numpy(), e, rtol=1e-10)
            else:
                assert t.grad is None


def test_strided_input_conv1d_and_empty_batch(forced):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((9, 9, 8, 2)).transpose(3, 2, 1, 0)  # (2, 8, 9, 9), strided
    check([x.shape, (8, 8, 3, 3)], lambda x, w: TF.conv2d(x, w, padding=1),
          lambda x, w: conv2d(x, w, padding=1),
          arrays=[x, rng.standard_normal((8, 8, 3, 3))])
    assert_conv1d_and_empty_batch()


def test_repeated_calls_with_new_data_reuse_no_stale_buffer(forced):
    """The kept zero-bordered buffers: new data of the same shape, then another padding."""
    rng = np.random.default_rng(5)
    for padding in (1, 1, 2, 1):
        check([(3, 6, 7, 7), (6, 6, 3, 3)], lambda x, w: TF.conv2d(x, w, padding=padding),
              lambda x, w: conv2d(x, w, padding=padding),
              arrays=[rng.standard_normal((3, 6, 7, 7)), rng.standard_normal((6, 6, 3, 3))])


def test_applies():
    geo = _Geometry((2, 4, 8, 8), (4, 4, 3, 3), (2, 1), (1, 1, 1, 1), (2, 2), 1)
    grouped = _Geometry((2, 4, 8, 8), (4, 2, 3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 2)
    assert chwn.applies(geo) and not chwn.applies(grouped)
    with conv_select.conv_algorithm("chwn"):
        assert conv_select.choose(geo) == "chwn" and conv_select.choose(grouped) == "im2col"


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 3), c=st.integers(1, 5), o=st.integers(1, 5), h=st.integers(3, 9),
       w=st.integers(3, 9), pad=st.integers(0, 2), k=st.sampled_from([1, 2, 3]),
       stride=st.integers(1, 2))
def test_drawn_shapes(n, c, o, h, w, pad, k, stride):
    with conv_select.conv_algorithm("chwn"):
        check([(n, c, h, w), (o, c, k, k)],
              lambda x, f: TF.conv2d(x, f, padding=pad, stride=stride),
              lambda x, f: conv2d(x, f, padding=pad, stride=stride))


def test_kept_buffers_of_one_padded_size_but_another_image_size_are_not_reused(forced):
    """(3, 3) unpadded, then (2, 3) padded to (3, 3) at the bottom ("same" with an even
    kernel): one buffer size, but the first image's last row is not the second's padding
    (found by hypothesis)."""
    rng = np.random.default_rng(6)
    for xs, padding in [((1, 1, 3, 3), 0), ((1, 1, 2, 3), "same"), ((1, 1, 3, 3), 0)]:
        check([xs, (1, 1, 2, 1)], lambda x, w: TF.conv2d(x, w, padding=padding),
              lambda x, w: conv2d(x, w, padding=padding),
              arrays=[rng.standard_normal(xs), rng.standard_normal((1, 1, 2, 1))])
