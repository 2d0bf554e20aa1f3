"""What the tests of each convolution algorithm share: its results next to the im2col path's
and PyTorch's, and its float32 error next to im2col's."""

import numpy as np
import pytest

import gradkit as gk
from gradkit.ops import conv_select
from gradkit.ops.conv import conv2d


def assert_matches_im2col(algorithm, xs, ws, options, tol=1e-10):
    """conv2d's output and input, weight and bias gradients (float64, a fixed upstream
    gradient) under ``algorithm`` equal im2col's to ``tol``."""
    rng = np.random.default_rng(0)
    x, w, b = (gk.tensor(rng.standard_normal(s), requires_grad=True)
               for s in (xs, ws, (ws[0],)))
    results = []
    for name in ("im2col", algorithm):
        with conv_select.conv_algorithm(name):
            out = conv2d(x, w, b, **options)
            x.grad = w.grad = b.grad = None
            out.backward(gk.tensor(np.sin(np.arange(out.numel())).reshape(out.shape)))
        results.append((out.numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()))
    for a, c in zip(*results):
        np.testing.assert_allclose(a, c, rtol=tol, atol=tol)


def assert_float32_error_like_im2col(algorithm, xs, ws, padding=1):
    """The float32 forward's largest error against float64 under ``algorithm`` is at most 4×
    im2col's (+1e-6)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal(xs).astype(np.float32)
    w = rng.standard_normal(ws).astype(np.float32)
    ref = conv2d(gk.tensor(x.astype(np.float64)), gk.tensor(w.astype(np.float64)),
                 padding=padding).numpy()
    errors = {}
    for name in ("im2col", algorithm):
        with conv_select.conv_algorithm(name):
            got = conv2d(gk.tensor(x), gk.tensor(w), padding=padding).numpy()
        errors[name] = np.abs(got - ref).max()
    assert errors[algorithm] <= 4 * errors["im2col"] + 1e-6, errors


def assert_forced_matches_torch(algorithm, xs, ws, options, dtype, **tolerance):
    """conv2d with ``algorithm`` forced: values and gradients as PyTorch's conv2d (to the
    oracle's tolerance for ``dtype``, or rtol=/atol= given)."""
    import torch.nn.functional as TF

    from oracle import check

    with conv_select.conv_algorithm(algorithm):
        check([xs, ws, (ws[0],)], lambda x, w, b: TF.conv2d(x, w, b, **options),
              lambda x, w, b: conv2d(x, w, b, **options), dtype=dtype, **tolerance)


def forcing(algorithm):
    """A fixture that forces ``algorithm`` for the test that names it (``forced``)."""
    @pytest.fixture
    def forced():
        with conv_select.conv_algorithm(algorithm):
            yield

    return forced


def assert_conv1d_and_empty_batch():
    """conv1d as PyTorch's, and an empty batch: an empty output and a zero weight gradient
    (under whatever algorithm the caller forces)."""
    import torch.nn.functional as TF

    from gradkit.ops.conv import conv1d
    from oracle import check

    check([(2, 4, 11), (3, 4, 3)], lambda x, w: TF.conv1d(x, w, padding=1),
          lambda x, w: conv1d(x, w, padding=1))
    x = gk.tensor(np.ones((0, 4, 5, 5)), requires_grad=True)
    w = gk.tensor(np.ones((3, 4, 3, 3)), requires_grad=True)
    out = conv2d(x, w, padding=1)
    out.sum().backward()
    assert out.shape == (0, 3, 5, 5) and np.all(w.grad.numpy() == 0)


def assert_only_some_inputs_need_grad(needs):
    """With only the input or only the weight wanting a gradient (needs), the one wanted is
    PyTorch's and the other stays None (under whatever algorithm the caller forces)."""
    import torch
    import torch.nn.functional as TF

    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s) for s in [(2, 3, 6, 7), (4, 3, 3, 3)]]
    tt = [torch.tensor(a, requires_grad=n) for a, n in zip(arrays, needs)]
    gt = [gk.tensor(a, requires_grad=n) for a, n in zip(arrays, needs)]
    TF.conv2d(*tt, padding=1).square().sum().backward()
    (conv2d(*gt, padding=1) ** 2).sum().backward()
    for t, g, n in zip(tt, gt, needs):
        if n:
            np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-10)
        else:
            assert g.grad is None


def float32_errors(algorithm, x, w, upstream, truth):
    """Largest error of output, dx and dW of a padding-1 convolution in float32 with the
    algorithm, relative to the largest magnitude of each float64 result in ``truth``."""
    gx, gw = (gk.tensor(a.astype(np.float32), requires_grad=True) for a in (x, w))
    with conv_select.conv_algorithm(algorithm):
        out = conv2d(gx, gw, padding=1)
        out.backward(gk.tensor(upstream.astype(np.float32)))
    got = [out.numpy(), gx.grad.numpy(), gw.grad.numpy()]
    return [np.abs(g - t).max() / np.abs(t).max() for g, t in zip(got, truth)]
