"""conv1d / conv2d against torch.nn.functional: values and the gradients of input, weight and
bias, in float64 (tight) and float32 (loose), over strides, paddings, dilations and groups."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import gradkit as gk
from gradkit.autograd import gradcheck
from gradkit.ops import conv as conv_module
from gradkit.ops.conv import conv1d, conv2d
from oracle import check

F64, F32 = np.float64, np.float32
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")

# (id, input shape, weight shape, options); weight is (out, in/groups, kh, kw)
CONV2D = [
    ("basic", (2, 3, 7, 7), (4, 3, 3, 3), dict()),
    ("pad1", (2, 3, 7, 7), (4, 3, 3, 3), dict(padding=1)),
    ("pad2_stride2", (2, 3, 8, 9), (5, 3, 3, 3), dict(stride=2, padding=2)),
    ("stride3_uncovered", (2, 2, 11, 10), (3, 2, 3, 3), dict(stride=3)),
    ("stride3_pad1", (1, 2, 10, 11), (3, 2, 3, 2), dict(stride=3, padding=1)),
    ("stride_2_1", (2, 3, 9, 8), (4, 3, 3, 3), dict(stride=(2, 1), padding=(1, 0))),
    ("dilation2", (2, 3, 9, 9), (4, 3, 3, 3), dict(dilation=2)),
    ("dilation2_pad2", (2, 4, 8, 7), (2, 4, 3, 3), dict(dilation=2, padding=2)),
    ("dilation_stride", (2, 3, 12, 11), (4, 3, 3, 2), dict(dilation=(2, 3), stride=2,
                                                            padding=(1, 2))),
    ("nonsquare_kernel", (2, 3, 8, 10), (4, 3, 2, 5), dict(padding=(1, 2))),
    ("kernel_1x5", (2, 3, 6, 9), (2, 3, 1, 5), dict(stride=(1, 2))),
    ("pointwise", (2, 6, 5, 7), (4, 6, 1, 1), dict()),
    ("pointwise_stride2", (2, 6, 5, 7), (8, 6, 1, 1), dict(stride=2)),
    ("same_odd", (2, 3, 7, 8), (4, 3, 3, 3), dict(padding="same")),
    ("same_even", (2, 3, 7, 8), (4, 3, 2, 4), dict(padding="same")),
    ("same_even_dilated", (2, 3, 9, 8), (3, 3, 4, 3), dict(padding="same", dilation=(1, 2))),
    ("valid", (2, 3, 7, 8), (4, 3, 3, 2), dict(padding="valid")),
    ("pad_wider_than_kernel", (2, 4, 5, 6), (3, 4, 3, 3), dict(padding=3)),
    ("groups2", (2, 4, 7, 7), (6, 2, 3, 3), dict(groups=2, padding=1)),
    ("groups2_shrink", (2, 6, 7, 7), (4, 3, 3, 3), dict(groups=2, padding=1)),
    ("groups2_stride2", (2, 4, 8, 8), (4, 2, 3, 3), dict(groups=2, stride=2, padding=1)),
    ("depthwise", (2, 4, 7, 6), (4, 1, 3, 3), dict(groups=4, padding=1)),
    ("depthwise_mult2", (2, 3, 7, 6), (6, 1, 3, 3), dict(groups=3, stride=2)),
    ("batch1_odd", (1, 1, 5, 7), (2, 1, 3, 3), dict(padding=1)),
    ("kernel_equals_input", (3, 2, 4, 5), (3, 2, 4, 5), dict()),
    ("wide_to_narrow", (2, 8, 6, 6), (3, 8, 3, 3), dict(padding=1)),
]

CONV1D = [
    ("basic", (2, 3, 10), (4, 3, 3), dict()),
    ("stride2_pad1", (2, 3, 11), (4, 3, 3), dict(stride=2, padding=1)),
    ("stride3_uncovered", (2, 3, 12), (2, 3, 4), dict(stride=3)),
    ("dilation2", (1, 2, 13), (3, 2, 3), dict(dilation=2, padding=1)),
    ("same_even", (2, 3, 9), (4, 3, 4), dict(padding="same")),
    ("same_dilated", (2, 3, 9), (4, 3, 3), dict(padding="same", dilation=3)),
    ("same_even_shrink", (2, 4, 9), (3, 4, 4), dict(padding="same")),
    ("valid", (2, 3, 9), (4, 3, 5), dict(padding="valid")),
    ("groups", (2, 4, 9), (6, 2, 3), dict(groups=2, padding=(2,))),
    ("depthwise", (2, 4, 9), (4, 1, 5), dict(groups=4, stride=(2,))),
]


def _torch(fn, options):
    return lambda x, w, b: fn(x, w, b, **options)


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("name,xs,ws,options", CONV2D, ids=[c[0] for c in CONV2D])
def test_conv2d_matches_torch(name, xs, ws, options, dtype):
    check([xs, ws, (ws[0],)], _torch(TF.conv2d, options), _torch(conv2d, options), dtype=dtype)


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("name,xs,ws,options", CONV1D, ids=[c[0] for c in CONV1D])
def test_conv1d_matches_torch(name, xs, ws, options, dtype):
    check([xs, ws, (ws[0],)], _torch(TF.conv1d, options), _torch(conv1d, options), dtype=dtype)


@pytest.mark.parametrize("fn,tfn,xs,ws", [(conv2d, TF.conv2d, (2, 3, 6, 7), (4, 3, 3, 2)),
                                          (conv1d, TF.conv1d, (2, 3, 8), (4, 3, 3))])
def test_no_bias(fn, tfn, xs, ws):
    check([xs, ws], lambda x, w: tfn(x, w, None, 2, 1), lambda x, w: fn(x, w, None, 2, 1))


@pytest.mark.parametrize("fn,tfn,xs,ws", [(conv2d, TF.conv2d, (3, 6, 7), (4, 3, 3, 2)),
                                          (conv1d, TF.conv1d, (3, 8), (4, 3, 3))])
def test_unbatched_input(fn, tfn, xs, ws):
    check([xs, ws, (4,)], lambda x, w, b: tfn(x, w, b, padding=1),
          lambda x, w, b: fn(x, w, b, padding=1))


@pytest.mark.parametrize("needs", [(True, False, False), (False, True, True),
                                   (False, True, False)])
def test_only_some_inputs_need_grad(needs):
    """A frozen layer or the first layer (input without grad) still gets exact gradients."""
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s) for s in [(2, 3, 6, 6), (4, 3, 3, 3), (4,)]]
    tt = [torch.tensor(a, requires_grad=n) for a, n in zip(arrays, needs)]
    gt = [gk.tensor(a, requires_grad=n) for a, n in zip(arrays, needs)]
    TF.conv2d(*tt, stride=2, padding=1).square().sum().backward()
    (conv2d(*gt, stride=2, padding=1) ** 2).sum().backward()
    for t, g, n in zip(tt, gt, needs):
        if n:
            np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-10)
        else:
            assert g.grad is None


def test_layers_in_sequence_keep_their_results():
    """Scratch memory is reused from layer to layer: no output or gradient may alias it."""
    shapes = [(2, 3, 9, 8), (4, 3, 3, 3), (6, 4, 3, 3), (5, 6, 1, 1)]

    def net(conv, relu, x, w1, w2, w3):
        h1 = relu(conv(x, w1, None, 1, 1))
        h2 = relu(conv(h1, w2, None, 2, 1))
        return h1, h2, conv(h2, w3, None, 1, 0)

    arrays = [np.random.default_rng(4).standard_normal(s) for s in shapes]
    tt = [torch.tensor(a, requires_grad=True) for a in arrays]
    gt = [gk.tensor(a, requires_grad=True) for a in arrays]
    t_outs, g_outs = net(TF.conv2d, torch.relu, *tt), net(conv2d, gk.relu, *gt)
    sum((o * o).sum() for o in t_outs).backward()
    sum((o * o).sum() for o in g_outs).backward()
    for t, g in zip(t_outs, g_outs):
        np.testing.assert_allclose(g.numpy(), t.detach().numpy(), rtol=1e-10)
    for t, g in zip(tt, gt):
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-10)


def test_threads_do_not_share_scratch():
    rng = np.random.default_rng(5)
    cases = [(rng.standard_normal((4, 3, 16, 16)), rng.standard_normal((8, 3, 3, 3)))
             for _ in range(4)]

    def run(case):
        x, w = (gk.tensor(a, requires_grad=True) for a in case)
        for _ in range(5):
            x.grad = w.grad = None
            out = conv2d(x, w, padding=1)
            (out * out).sum().backward()
        return out.numpy(), x.grad.numpy(), w.grad.numpy()

    expected = [run(c) for c in cases]
    with ThreadPoolExecutor(2) as pool:
        got = list(pool.map(run, cases))
    for e, g in zip(expected, got):
        for a, b in zip(e, g):
            np.testing.assert_array_equal(a, b)


def test_float32_stays_float32_and_no_grad_runs():
    x = gk.randn(2, 3, 8, 8)
    w = gk.randn(4, 3, 3, 3, requires_grad=True)
    with gk.no_grad():
        out = conv2d(x, w, padding=1)
    assert out.dtype == np.float32 and out.grad_fn is None and out.shape == (2, 4, 8, 8)


@pytest.mark.parametrize("xs,ws,options", [
    ((2, 2, 5, 6), (3, 2, 3, 2), dict(stride=2, padding=1)),
    ((1, 4, 6, 5), (4, 2, 2, 3), dict(groups=2, dilation=2, padding="same")),
    ((2, 2, 7), (3, 2, 3), dict(stride=3)),
])
def test_gradcheck(xs, ws, options):
    rng = np.random.default_rng(0)
    fn = conv2d if len(xs) == 4 else conv1d
    inputs = [gk.tensor(rng.standard_normal(s), requires_grad=True) for s in (xs, ws, ws[:1])]
    assert gradcheck(lambda x, w, b: fn(x, w, b, **options), inputs)


def test_gradient_is_zero_on_pixels_no_window_reads():
    x = gk.randn(1, 1, 8, 8, requires_grad=True)
    conv2d(x, gk.ones(1, 1, 3, 3), stride=3).sum().backward()
    grad = x.grad.numpy()[0, 0]
    assert np.all(grad[6:, :] == 0) and np.all(grad[:, 6:] == 0) and np.all(grad[:6, :6] == 1)


@pytest.mark.parametrize("call,message", [
    (lambda: conv2d(gk.randn(8, 1, 28, 28), gk.randn(16, 3, 3, 3)),
     r"conv2d: expected input \(N, 3, H, W\) for weight \(16, 3, 3, 3\), got \(8, 1, 28, 28\)"),
    (lambda: conv2d(gk.randn(8, 3, 28), gk.randn(16, 3, 3, 3)),
     r"expected input \(N, 3, H, W\) .* got \(8, 3, 28\)"),
    (lambda: conv2d(gk.randn(2, 4, 8, 8), gk.randn(6, 3, 3, 3), groups=2),
     r"expected input \(N, 6, H, W\) for weight \(6, 3, 3, 3\) and groups=2"),
    (lambda: conv2d(gk.randn(2, 4, 8, 8), gk.randn(5, 2, 3, 3), groups=2),
     r"out channels 5 .* not divisible by groups=2"),
    (lambda: conv2d(gk.randn(2, 3, 8, 8), gk.randn(16, 3, 3)),
     r"expected weight \(out, in/groups, kh, kw\), got \(16, 3, 3\)"),
    (lambda: conv1d(gk.randn(2, 3, 8), gk.randn(4, 2, 3)),
     r"conv1d: expected input \(N, 2, L\) for weight \(4, 2, 3\), got \(2, 3, 8\)"),
    (lambda: conv2d(gk.randn(2, 3, 8, 8), gk.randn(4, 3, 3, 3), gk.randn(5)),
     r"expected bias \(4,\)"),
    (lambda: conv2d(gk.randn(2, 3, 2, 2), gk.randn(4, 3, 3, 3)),
     r"kernel \(3, 3\) is larger than the padded input \(2, 2\)"),
    (lambda: conv2d(gk.randn(2, 3, 8, 8), gk.randn(4, 3, 3, 3), stride=2, padding="same"),
     r"padding='same' is not supported for strided"),
    (lambda: conv2d(gk.randn(2, 3, 8, 8), gk.randn(4, 3, 3, 3), padding="full"),
     r"padding must be 'same', 'valid'"),
    (lambda: conv2d(gk.randn(2, 3, 8, 8), gk.randn(4, 3, 3, 3), padding=-1),
     r"padding must be non-negative"),
    (lambda: conv2d(gk.randn(2, 3, 8, 8), gk.randn(4, 3, 3, 3), stride=0),
     r"stride must be positive"),
    (lambda: conv2d(gk.randn(2, 3, 8, 8), gk.randn(4, 3, 3, 3).double()),
     r"must share one floating dtype"),
])
def test_bad_input_raises_a_clear_error(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_random_configurations_match_torch(data):
    """Any mix of stride, padding ('same' included), dilation, groups and kernel shape."""
    draw = data.draw
    groups = draw(st.integers(1, 3))
    cin, cout = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    if stride == (1, 1) and draw(st.booleans()):
        padding = "same"
    else:
        padding = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    pad = (0, 0) if padding == "same" else padding
    size = [draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 9))
            for k, d, p in zip(kernel, dilation, pad)]
    options = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    bias = draw(st.booleans())
    shapes = [(draw(st.integers(1, 2)), cin, *size), (cout, cin // groups, *kernel)]
    if bias:
        check(shapes + [(cout,)], _torch(TF.conv2d, options), _torch(conv2d, options))
    else:
        check(shapes, lambda x, w: TF.conv2d(x, w, None, **options),
              lambda x, w: conv2d(x, w, None, **options))


@pytest.mark.parametrize("name,xs,ws,options", CONV2D, ids=[c[0] for c in CONV2D])
def test_conv2d_in_chunks_of_one_image_matches_torch(name, xs, ws, options, monkeypatch):
    """The im2col path works through the batch in chunks of ~1 MB of columns; with a limit of
    one byte every image is its own chunk, and the results must not change."""
    monkeypatch.setattr(conv_module, "_CHUNK_BYTES", 1)
    check([xs, ws, (ws[0],)], _torch(TF.conv2d, options), _torch(conv2d, options))
