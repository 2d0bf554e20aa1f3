"""Winograd F(4×4, 3×3) with the batch innermost (ops/winograd4.py), forced: values and the
input, weight and bias gradients against PyTorch and against the im2col path in float64 and
float32, over paddings 0-3 and asymmetric, "same", outputs not a multiple of 4, batch 1, an
empty batch, narrowing and widening layers; gradcheck; its float32 error measured and bounded."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import gradkit as gk
from gradkit.autograd import gradcheck
from gradkit.ops import conv_select, winograd4
from gradkit.ops.conv import conv2d
from conv_algorithms import (assert_conv1d_and_empty_batch, assert_forced_matches_torch,
                             assert_matches_im2col, assert_only_some_inputs_need_grad,
                             float32_errors, forcing)

F64, F32 = np.float64, np.float32

CASES = [  # (input, weight, options)
    ((2, 3, 8, 8), (4, 3, 3, 3), dict(padding=1)),          # whole 4×4 tiles
    ((2, 3, 7, 9), (5, 3, 3, 3), dict(padding=0)),          # 5×7 output: partial tiles
    ((1, 4, 5, 7), (3, 4, 3, 3), dict(padding=2)),          # batch 1, padding 2
    ((1, 1, 3, 3), (2, 1, 3, 3), dict()),                   # one output pixel
    ((1, 2, 1, 1), (3, 2, 3, 3), dict(padding=1)),          # a single input pixel
    ((2, 3, 6, 5), (4, 3, 3, 3), dict(padding=(2, 0))),
    ((2, 5, 9, 6), (6, 5, 3, 3), dict(padding="same")),
    ((2, 2, 4, 5), (3, 2, 3, 3), dict(padding=3)),          # padding beyond the kernel
    ((2, 4, 6, 6), (8, 4, 3, 3), dict(padding=1)),          # widening
    ((2, 64, 8, 8), (64, 64, 3, 3), dict(padding=1)),       # a ResNet's last stage
]

forced = forcing("winograd4")


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("xs,ws,options", CASES)
def test_forced_matches_torch(xs, ws, options, dtype):
    """float32 to 1e-4, as F(2×2, 3×3)'s test, times C/8 for wide layers (whose values grow
    with the channels, up to ~35 on the 64-channel case): F(4×4, 3×3) is ~10× further from
    the exact value than im2col (test_float32_error_is_bounded), beyond the oracle's 1e-5."""
    tolerance = {} if dtype == F64 else dict(rtol=1e-4, atol=1e-4 * max(1, xs[1] / 8))
    assert_forced_matches_torch("winograd4", xs, ws, options, dtype, **tolerance)


@pytest.mark.parametrize("xs,ws,options", CASES)
def test_matches_the_im2col_path(xs, ws, options):
    assert_matches_im2col("winograd4", xs, ws, options)


def test_gradcheck(forced):
    rng = np.random.default_rng(0)
    inputs = [gk.tensor(rng.standard_normal(s), requires_grad=True)
              for s in [(2, 3, 6, 7), (4, 3, 3, 3), (4,)]]
    assert gradcheck(lambda x, w, b: conv2d(x, w, b, padding=1), inputs)


@pytest.mark.parametrize("needs", [(True, False), (False, True)])
def test_only_some_inputs_need_grad(forced, needs):
    assert_only_some_inputs_need_grad(needs)


def test_conv1d_and_empty_batch(forced):
    assert_conv1d_and_empty_batch()


def test_float32_error_is_bounded():
    """The float32 error of F(4×4, 3×3) on a 64→64 layer, relative to the largest value of
    each result: measured 3.2e-6 / 3.3e-6 / 2.5e-6 (output, dx, dW) against im2col's
    3.3e-7 / 3.2e-7 / 3.3e-7 on an AVX2 machine, 2.8e-6 / 2.3e-6 / 1.9e-6 against 4.9e-7 /
    4.7e-7 / 2.9e-7 on an AVX-512 one (its transforms multiply by up to 8, see the module).
    The bound: under 2e-5, and under 32× im2col's."""
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((4, 64, 8, 8)), rng.standard_normal((64, 64, 3, 3)) / 24
    upstream = rng.standard_normal((4, 64, 8, 8))
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    out = TF.conv2d(tx, tw, padding=1)
    out.backward(torch.tensor(upstream))
    truth = [out.detach().numpy(), tx.grad.numpy(), tw.grad.numpy()]
    im2col = float32_errors("im2col", x, w, upstream, truth)
    errors = float32_errors("winograd4", x, w, upstream, truth)
    for name, e_im2col, e in zip(("output", "dx", "dW"), im2col, errors):
        assert e < min(2e-5, 32 * e_im2col), (
            f"{name}: F(4×4, 3×3) float32 error {e:.2e} (im2col's {e_im2col:.2e})")


def test_transform_matrices_give_the_convolution():
    """Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A is the 4×4 valid correlation of a 6×6 tile d with g."""
    rng = np.random.default_rng(3)
    d, g = rng.standard_normal((6, 6)), rng.standard_normal((3, 3))
    got = winograd4.AT @ ((winograd4.G @ g @ winograd4.G.T)
                          * (winograd4.BT @ d @ winograd4.BT.T)) @ winograd4.AT.T
    expected = [[np.sum(d[y:y + 3, x:x + 3] * g) for x in range(4)] for y in range(4)]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_forced_winograd4_falls_back_where_it_does_not_apply(forced):
    """Stride 2, dilation, groups and 5×5 kernels run on im2col, still equal to PyTorch."""
    for xs, ws, options in [((2, 3, 8, 8), (4, 3, 3, 3), dict(stride=2, padding=1)),
                            ((2, 4, 9, 9), (4, 2, 3, 3), dict(groups=2, dilation=2)),
                            ((2, 3, 9, 9), (4, 3, 5, 5), dict(padding=2))]:
        assert_forced_matches_torch("winograd4", xs, ws, options, F64)


@settings(max_examples=20, deadline=None)
@given(st.data())
def test_random_shapes_match_torch(data):
    draw = data.draw
    padding = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    size = [draw(st.integers(max(1, 3 - 2 * p), 13)) for p in padding]
    xs = (draw(st.integers(1, 3)), draw(st.integers(1, 5)), *size)
    ws = (draw(st.integers(1, 5)), xs[1], 3, 3)
    assert_forced_matches_torch("winograd4", xs, ws, dict(padding=padding), F64)
