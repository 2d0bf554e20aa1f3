"""conv_transpose1d / 2d / 3d against torch.nn.functional: values and the gradients of input,
weight and bias in float64 (tight) and float32 (loose), over strides, paddings, output
paddings, groups and dilations; gradcheck; edge cases and bad arguments."""

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

# (id, input shape, weight shape (in, out/groups, *k), options)
CONV_T2D = [
    ("basic", (2, 3, 5, 6), (3, 4, 3, 3), dict()),
    ("stride2", (2, 3, 4, 5), (3, 2, 3, 3), dict(stride=2)),
    ("stride2_pad1_outpad1", (2, 3, 4, 5), (3, 2, 3, 3), dict(stride=2, padding=1,
                                                              output_padding=1)),
    ("k4_s2_p1", (1, 4, 4, 4), (4, 3, 4, 4), dict(stride=2, padding=1)),
    ("stride_2_3", (2, 2, 4, 3), (2, 3, 2, 3), dict(stride=(2, 3), output_padding=(1, 2))),
    ("dilation2", (2, 3, 4, 5), (3, 2, 3, 3), dict(dilation=2, padding=1)),
    ("outpad_under_dilation", (1, 2, 4, 4), (2, 3, 3, 3), dict(dilation=3, output_padding=2)),
    ("dilation_stride", (2, 2, 4, 5), (2, 3, 3, 2), dict(dilation=(2, 1), stride=2,
                                                          padding=(2, 1), output_padding=1)),
    ("groups2", (2, 4, 4, 5), (4, 3, 3, 3), dict(groups=2, padding=1)),
    ("groups2_stride2", (2, 4, 4, 4), (4, 1, 3, 3), dict(groups=2, stride=2,
                                                         output_padding=1)),
    ("depthwise", (2, 3, 5, 4), (3, 1, 3, 3), dict(groups=3, stride=2, padding=1)),
    ("pad_crops_everything_but_one", (1, 2, 3, 3), (2, 2, 3, 3), dict(padding=2)),
    ("pointwise", (2, 5, 3, 4), (5, 3, 1, 1), dict()),
    ("pointwise_stride3", (2, 5, 3, 4), (5, 3, 1, 1), dict(stride=3, output_padding=2)),
    ("batch1", (1, 1, 3, 3), (1, 1, 2, 2), dict(stride=2)),
    ("narrow_to_wide", (2, 6, 3, 3), (6, 2, 3, 3), dict(stride=2, padding=1)),
]

CONV_T1D = [
    ("basic", (2, 3, 6), (3, 4, 3), dict()),
    ("stride3_outpad2", (2, 3, 5), (3, 2, 4), dict(stride=3, padding=1, output_padding=2)),
    ("dilation2", (1, 2, 5), (2, 3, 3), dict(dilation=2, padding=2)),
    ("groups", (2, 4, 6), (4, 3, 3), dict(groups=2, stride=2)),
]

CONV_T3D = [
    ("basic", (2, 2, 3, 4, 3), (2, 3, 2, 3, 2), dict()),
    ("stride_pad_outpad", (1, 3, 3, 2, 3), (3, 2, 3, 3, 3), dict(stride=(2, 1, 2), padding=1,
                                                                 output_padding=(1, 0, 1))),
    ("groups_dilation", (2, 4, 2, 3, 3), (4, 1, 2, 2, 3), dict(groups=2, dilation=(1, 2, 1))),
]

FUNCTIONS = {1: (TF.conv_transpose1d, F.conv_transpose1d),
             2: (TF.conv_transpose2d, F.conv_transpose2d),
             3: (TF.conv_transpose3d, F.conv_transpose3d)}


def _check(xs, ws, options, dtype=F64, bias=True):
    tfn, gfn = FUNCTIONS[len(ws) - 2]
    shapes = [xs, ws] + ([(ws[1] * options.get("groups", 1),)] if bias else [])
    check(shapes, lambda *a: tfn(*a, **options), lambda *a: gfn(*a, **options), dtype=dtype)


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("name,xs,ws,options", CONV_T2D, ids=[c[0] for c in CONV_T2D])
def test_conv_transpose2d_matches_torch(name, xs, ws, options, dtype):
    _check(xs, ws, options, dtype)


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("name,xs,ws,options", CONV_T1D + CONV_T3D,
                         ids=[c[0] + f"_{len(c[2]) - 2}d" for c in CONV_T1D + CONV_T3D])
def test_conv_transpose1d_3d_match_torch(name, xs, ws, options, dtype):
    _check(xs, ws, options, dtype)


@pytest.mark.parametrize("xs,ws", [((2, 3, 4, 4), (3, 2, 3, 3)), ((2, 3, 5), (3, 2, 2))])
def test_no_bias(xs, ws):
    _check(xs, ws, dict(stride=2, padding=1), bias=False)


@pytest.mark.parametrize("xs,ws", [((3, 4, 4), (3, 2, 3, 3)), ((3, 5), (3, 2, 2)),
                                   ((3, 2, 3, 2), (3, 2, 2, 2, 2))])
def test_unbatched_input(xs, ws):
    _check(xs, ws, dict(stride=2))


def test_empty_batch():
    _check((0, 3, 4, 4), (3, 2, 3, 3), dict(stride=2, padding=1))


def test_non_contiguous_input_and_weight():
    check([(2, 5, 4, 3), (3, 2, 3, 3), (2,)],
          lambda x, w, b: TF.conv_transpose2d(x.transpose(1, 3), w.transpose(2, 3), b, 2),
          lambda x, w, b: F.conv_transpose2d(x.transpose(1, 3), w.transpose(2, 3), b, 2))


def test_only_some_inputs_need_grad():
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 3, 4, 4)), rng.standard_normal((3, 2, 3, 3))
    xt, wt = torch.tensor(x), torch.tensor(w, requires_grad=True)
    xg, wg = gk.tensor(x), gk.tensor(w, requires_grad=True)
    TF.conv_transpose2d(xt, wt, stride=2).square().sum().backward()
    (F.conv_transpose2d(xg, wg, stride=2) ** 2).sum().backward()
    np.testing.assert_allclose(wg.grad.numpy(), wt.grad.numpy(), rtol=1e-10)
    assert xg.grad is None


def test_float32_stays_float32():
    x = gk.randn(2, 3, 4, 4, requires_grad=True)
    w = gk.randn(3, 2, 3, 3, requires_grad=True)
    out = F.conv_transpose2d(x, w, gk.randn(2), stride=2)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == w.grad.dtype == np.float32


def test_layers_in_sequence_keep_their_results():
    """The columns live in reused scratch memory: no output or gradient may alias it."""
    shapes = [(2, 3, 4, 4), (3, 4, 3, 3), (4, 2, 4, 4), (2, 3, 2, 2, 2)]

    def net(F, x, w1, w2, w3):
        h1 = F.conv_transpose2d(x, w1, stride=2, padding=1)
        h2 = F.conv_transpose2d(h1, w2, stride=2)
        return h1, h2, F.conv_transpose3d(h2.unsqueeze(2), w3, stride=(1, 2, 1))

    arrays = [np.random.default_rng(4).standard_normal(s) for s in shapes]
    tt = [torch.tensor(a, requires_grad=True) for a in arrays]
    gt = [gk.tensor(a, requires_grad=True) for a in arrays]
    t_outs, g_outs = net(TF, *tt), net(F, *gt)
    sum((o * o).sum() for o in t_outs).backward()
    sum((o * o).sum() for o in g_outs).backward()
    for t, g in zip(t_outs, g_outs):
        np.testing.assert_allclose(g.numpy(), t.detach().numpy(), rtol=1e-10)
    for t, g in zip(tt, gt):
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-10)


def test_is_the_adjoint_of_conv2d():
    """⟨conv2d(y, W), x⟩ = ⟨y, conv_transpose2d(x, W)⟩ for the same stride/padding/dilation."""
    rng = np.random.default_rng(1)
    w = gk.tensor(rng.standard_normal((4, 3, 3, 3)))
    options = dict(stride=2, padding=1, dilation=2, groups=1)
    y = gk.tensor(rng.standard_normal((2, 3, 9, 8)))
    x = gk.tensor(rng.standard_normal(tuple(F.conv2d(y, w, **options).shape)))
    t = F.conv_transpose2d(x, w, output_padding=(0, 1), **options)
    assert t.shape == y.shape
    np.testing.assert_allclose((F.conv2d(y, w, **options) * x).sum().item(),
                               (y * t).sum().item(), rtol=1e-12)


@pytest.mark.parametrize("xs,ws,options", [
    ((2, 2, 3, 3), (2, 3, 3, 2), dict(stride=2, padding=1, output_padding=1)),
    ((1, 4, 3, 2), (4, 1, 2, 3), dict(groups=2, dilation=2)),
    ((2, 2, 4), (2, 3, 3), dict(stride=3, output_padding=1)),
    ((1, 2, 2, 2, 2), (2, 2, 2, 2, 2), dict(stride=2, padding=(1, 0, 0))),
])
def test_gradcheck(xs, ws, options):
    rng = np.random.default_rng(0)
    fn = FUNCTIONS[len(ws) - 2][1]
    shapes = (xs, ws, (ws[1] * options.get("groups", 1),))
    inputs = [gk.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    assert gradcheck(lambda x, w, b: fn(x, w, b, **options), inputs)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(0, 2), size=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       k=st.tuples(st.integers(1, 3), st.integers(1, 3)), s=st.integers(1, 3),
       p=st.integers(0, 1), d=st.integers(1, 2), g=st.sampled_from([1, 2]),
       out=st.integers(0, 2))
def test_hypothesis_shapes(n, size, k, s, p, d, g, out):
    out = min(out, max(s, d) - 1)
    options = dict(stride=s, padding=p, dilation=d, groups=g, output_padding=out)
    sizes = [(L - 1) * s - 2 * p + d * (kk - 1) + out + 1 for L, kk in zip(size, k)]
    if min(sizes) < 1:
        return
    _check((n, 2 * g, *size), (2 * g, 2, *k), options)


@pytest.mark.parametrize("call,error,message", [
    (lambda: F.conv_transpose2d(gk.randn(1, 3, 4, 4), gk.randn(2, 3, 3, 3)), ShapeError,
     r"conv_transpose2d: expected input \(N, 2, H, W\) for weight \(2, 3, 3, 3\), "
     r"got \(1, 3, 4, 4\)"),
    (lambda: F.conv_transpose2d(gk.randn(1, 2, 4, 4, 4), gk.randn(2, 3, 3, 3)), ShapeError,
     r"expected input \(N, 2, H, W\)"),
    (lambda: F.conv_transpose2d(gk.randn(1, 2, 4, 4), gk.randn(2, 3, 3)), ShapeError,
     r"expected weight \(in, out/groups, kh, kw\), got \(2, 3, 3\)"),
    (lambda: F.conv_transpose2d(gk.randn(1, 2, 4, 4), gk.randn(2, 3, 3, 3), groups=3),
     ShapeError, r"dim 0 \(2\) of weight \(2, 3, 3, 3\) is not divisible by groups=3"),
    (lambda: F.conv_transpose2d(gk.randn(1, 2, 4, 4), gk.randn(2, 3, 3, 3), gk.randn(2)),
     ShapeError, r"expected bias \(3,\)"),
    (lambda: F.conv_transpose2d(gk.randn(1, 2, 4, 4), gk.randn(2, 3, 3, 3), stride=2,
                                output_padding=2), ArgumentError,
     r"output padding must be smaller than either stride or dilation"),
    (lambda: F.conv_transpose2d(gk.randn(1, 2, 4, 4), gk.randn(2, 3, 3, 3),
                                output_padding=1), ArgumentError, r"output padding must be"),
    (lambda: F.conv_transpose2d(gk.randn(1, 2, 4, 4), gk.randn(2, 3, 3, 3), stride=0),
     ArgumentError, r"stride must be positive"),
    (lambda: F.conv_transpose2d(gk.randn(1, 2, 4, 4), gk.randn(2, 3, 3, 3), padding=-1),
     ArgumentError, r"padding must be non-negative"),
    (lambda: F.conv_transpose2d(gk.randn(1, 2, 4, 4), gk.randn(2, 3, 3, 3), padding=5),
     ShapeError, r"too small"),
    (lambda: F.conv_transpose2d(gk.randn(1, 2, 0, 4), gk.randn(2, 3, 3, 3)), ShapeError,
     r"expected non-empty spatial dims .* got input \(1, 2, 0, 4\)"),
    (lambda: F.conv_transpose2d(gk.randn(1, 2, 4, 4), gk.randn(2, 3, 3, 3), stride=(1, 2, 3)),
     ArgumentError, r"stride to be a single int or a tuple of 2"),
    (lambda: F.conv_transpose2d(gk.randn(1, 2, 4, 4), gk.randn(2, 3, 3, 3), padding="same"),
     TypeError, r"padding must be an int or a tuple of 2 ints"),
    (lambda: F.conv_transpose2d(gk.randn(1, 2, 4, 4), gk.randn(2, 3, 3, 3).double()),
     ArgumentError, r"share one floating dtype"),
    (lambda: F.conv_transpose2d(gk.randn(1, 2, 4, 4), np.ones((2, 3, 3, 3))), TypeError,
     r"weight must be a Tensor, got ndarray"),
    (lambda: F.conv_transpose1d(gk.randn(1, 3, 4), gk.randn(2, 3, 3)), ShapeError,
     r"conv_transpose1d: expected input \(N, 2, L\)"),
    (lambda: F.conv_transpose3d(gk.randn(1, 3, 4, 4), gk.randn(2, 3, 3, 3, 3)), ShapeError,
     r"conv_transpose3d: expected input \(N, 2, D, H, W\)"),
])
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("xs,ws,options", [
    ((1, 3, 4, 4), (2, 3, 3, 3), dict()),
    ((1, 2, 4, 4), (2, 3, 3, 3), dict(stride=2, output_padding=2)),
    ((1, 2, 4, 4), (2, 3, 3, 3), dict(stride=0)),
    ((1, 2, 4, 4), (2, 3, 3, 3), dict(padding=5)),
])
def test_bad_arguments_raise_runtime_error_as_torch(xs, ws, options):
    for conv, randn in ((TF.conv_transpose2d, torch.randn), (F.conv_transpose2d, gk.randn)):
        with pytest.raises(RuntimeError):
            conv(randn(*xs), randn(*ws), **options)
