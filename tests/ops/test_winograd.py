"""Winograd F(2×2, 3×3) against PyTorch and against the im2col path: values and the input,
weight and bias gradients in float64 (tight) and float32 (1e-4), gradcheck, error bound."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import gradkit as gk
from gradkit.autograd import gradcheck
from gradkit.ops import conv_select
from gradkit.ops.conv import conv2d
from conv_algorithms import assert_only_some_inputs_need_grad, float32_errors
from oracle import check

F64, F32 = np.float64, np.float32

# (id, input shape, out channels, padding)
CASES = [
    ("pad1_even", (2, 3, 8, 8), 4, 1),
    ("pad0_odd", (2, 3, 7, 9), 5, 0),
    ("pad2_odd", (1, 4, 5, 7), 3, 2),
    ("batch1_tiny", (1, 1, 3, 3), 2, 0),
    ("batch1_pad1_single_pixel", (1, 2, 1, 1), 3, 1),
    ("pad_rows_cols", (2, 3, 6, 5), 4, (2, 0)),
    ("same", (2, 5, 9, 6), 6, "same"),
    ("pad3", (2, 2, 4, 5), 3, 3),
    ("widen", (2, 4, 6, 6), 8, 1),
]


@pytest.fixture
def forced():
    with conv_select.conv_algorithm("winograd"):
        yield


@pytest.mark.parametrize("dtype,rtol", [(F64, None), (F32, 1e-4)])
@pytest.mark.parametrize("name,xs,cout,padding", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(forced, name, xs, cout, padding, dtype, rtol):
    ws = (cout, xs[1], 3, 3)
    check([xs, ws, (cout,)], lambda x, w, b: TF.conv2d(x, w, b, padding=padding),
          lambda x, w, b: conv2d(x, w, b, padding=padding), dtype=dtype, rtol=rtol,
          atol=None if dtype == F64 else 1e-4)


def test_gradcheck(forced):
    rng = np.random.default_rng(0)
    inputs = [gk.tensor(rng.standard_normal(s), requires_grad=True)
              for s in [(2, 3, 5, 6), (4, 3, 3, 3), (4,)]]
    assert gradcheck(lambda x, w, b: conv2d(x, w, b, padding=1), inputs)


@pytest.mark.parametrize("needs", [(True, False), (False, True)])
def test_only_some_inputs_need_grad(forced, needs):
    assert_only_some_inputs_need_grad(needs)


def test_float32_error_is_bounded_by_im2col_error():
    """Measured on this case: im2col 5.6e-7 / 4.1e-7 / 5.0e-7 (out, dx, dW), Winograd
    2.2e-7 / 1.9e-7 / 1.7e-7; the bound allows Winograd 4× im2col's error."""
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 32, 12, 12)), rng.standard_normal((16, 32, 3, 3)) * 0.1
    upstream = rng.standard_normal((2, 16, 12, 12))
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    out = TF.conv2d(tx, tw, padding=1)
    out.backward(torch.tensor(upstream))
    truth = [out.detach().numpy(), tx.grad.numpy(), tw.grad.numpy()]
    im2col = float32_errors("im2col", x, w, upstream, truth)
    winograd = float32_errors("winograd", x, w, upstream, truth)
    for name, e_im2col, e_winograd in zip(("output", "dx", "dW"), im2col, winograd):
        assert e_winograd < max(4 * e_im2col, 1e-6), (
            f"{name}: Winograd float32 error {e_winograd:.2e}, expected under 4× im2col's "
            f"{e_im2col:.2e}")


def test_equals_im2col_in_float64():
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s) for s in [(3, 6, 11, 10), (7, 6, 3, 3), (7,)]]
    results = {}
    for algorithm in ("im2col", "winograd"):
        x, w, b = (gk.tensor(a, requires_grad=True) for a in arrays)
        with conv_select.conv_algorithm(algorithm):
            out = conv2d(x, w, b, padding=2)
        (out * out).sum().backward()
        results[algorithm] = [out.numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()]
    for a, b in zip(results["im2col"], results["winograd"]):
        np.testing.assert_allclose(b, a, rtol=1e-11, atol=1e-11)


def test_forced_winograd_falls_back_where_it_does_not_apply(forced):
    """Stride 2, dilation, groups and 5×5 kernels run on im2col, still equal to PyTorch."""
    for xs, ws, options in [((2, 3, 8, 8), (4, 3, 3, 3), dict(stride=2, padding=1)),
                            ((2, 4, 9, 9), (4, 2, 3, 3), dict(groups=2, dilation=2)),
                            ((2, 3, 9, 9), (4, 3, 5, 5), dict(padding=2))]:
        check([xs, ws], lambda x, w: TF.conv2d(x, w, **options),
              lambda x, w: conv2d(x, w, **options))


@settings(max_examples=20, deadline=None)
@given(st.data())
def test_random_shapes_match_torch(data):
    draw = data.draw
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    size = [draw(st.integers(max(1, 3 - 2 * p), 9)) for p in padding]
    xs = (draw(st.integers(1, 3)), draw(st.integers(1, 5)), *size)
    ws = (draw(st.integers(1, 5)), xs[1], 3, 3)
    with conv_select.conv_algorithm("winograd"):
        check([xs, ws, (ws[0],)], lambda x, w, b: TF.conv2d(x, w, b, padding=padding),
              lambda x, w, b: conv2d(x, w, b, padding=padding))
