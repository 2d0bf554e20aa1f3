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
from gradkit.ops.conv import _Geometry, conv1d, conv2d
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


@pytest.fixture
def forced():
    with conv_select.conv_algorithm("shifted"):
        yield


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("xs,ws,options", CASES)
def test_forced_matches_torch(forced, xs, ws, options, dtype):
    check([xs, ws, (ws[0],)], lambda x, w, b: TF.conv2d(x, w, b, **options),
          lambda x, w, b: conv2d(x, w, b, **options), dtype=dtype)


@pytest.mark.parametrize("setting", ["shifted", "auto"])
@pytest.mark.parametrize("xs,ws,options", CASES)
def test_matches_the_im2col_path(xs, ws, options, setting):
    rng = np.random.default_rng(0)
    x, w, b = (gk.tensor(rng.standard_normal(s), requires_grad=True)
               for s in (xs, ws, (ws[0],)))
    results = []
    for name in ("im2col", setting):
        with conv_select.conv_algorithm(name):
            out = conv2d(x, w, b, **options)
            x.grad = w.grad = b.grad = None
            out.backward(gk.tensor(np.sin(np.arange(out.numel())).reshape(out.shape)))
        results.append((out.numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()))
    for a, c in zip(*results):
        np.testing.assert_allclose(a, c, rtol=1e-10, atol=1e-10)


def test_float32_error_is_bounded_like_im2col():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 32, 12, 12)).astype(F32)
    w = rng.standard_normal((32, 32, 3, 3)).astype(F32)
    ref = conv2d(gk.tensor(x.astype(F64)), gk.tensor(w.astype(F64)), padding=1).numpy()
    errors = {}
    for name in ("im2col", "shifted"):
        with conv_select.conv_algorithm(name):
            got = conv2d(gk.tensor(x), gk.tensor(w), padding=1).numpy()
        errors[name] = np.abs(got - ref).max()
    assert errors["shifted"] <= 4 * errors["im2col"] + 1e-6


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
    check([(2, 4, 11), (3, 4, 3)], lambda x, w: TF.conv1d(x, w, padding=1),
          lambda x, w: conv1d(x, w, padding=1))
    x = gk.tensor(np.ones((0, 4, 5, 5)), requires_grad=True)
    w = gk.tensor(np.ones((3, 4, 3, 3)), requires_grad=True)
    out = conv2d(x, w, padding=1)
    out.sum().backward()
    assert out.shape == (0, 3, 5, 5) and np.all(w.grad.numpy() == 0)


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
