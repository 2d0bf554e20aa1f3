"""The fast paths of ops/windows.py's scatter against PyTorch: the stride-1 flat scatter
(conv3d's input gradient, stride-1 transposed convolutions) and the per-phase scatter of
strided transposed convolutions and strided conv3d input gradients (dilation 1), including
phases that no kernel tap reaches, phases of size 0, groups, asymmetric 'same' padding,
output_padding, float32 and non-contiguous inputs; plus the col2im fallback (stride and
dilation > 1)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import gradkit as gk
from gradkit.autograd import gradcheck
from gradkit.nn import functional as F
from gradkit.ops import windows
from oracle import check

F64, F32 = np.float64, np.float32
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")

CONV3D_DX = [
    ("s1_p1", (2, 3, 4, 5, 6), (4, 3, 3, 3, 3), dict(padding=1)),
    ("s1_nopad", (1, 2, 4, 4, 5), (3, 2, 2, 3, 2), dict()),
    ("s1_dilated", (2, 2, 5, 6, 5), (3, 2, 2, 3, 2), dict(dilation=(2, 1, 2), padding=(1, 2, 0))),
    ("s1_same_even", (1, 2, 4, 5, 4), (2, 2, 2, 4, 3), dict(padding="same")),
    ("s1_groups", (2, 4, 3, 4, 4), (6, 2, 3, 3, 1), dict(groups=2, padding=1)),
    ("s2_phases", (2, 2, 6, 7, 5), (3, 2, 3, 3, 3), dict(stride=2, padding=1)),
    ("stride_gt_kernel", (1, 2, 7, 6, 8), (2, 2, 2, 1, 3), dict(stride=(3, 2, 4))),
    ("mixed_stride_groups", (2, 4, 5, 5, 6), (4, 2, 3, 2, 3), dict(stride=(1, 2, 3),
                                                                   groups=2, padding=1)),
    ("stride_and_dilation", (1, 2, 7, 7, 7), (2, 2, 2, 2, 2), dict(stride=2, dilation=2)),
]


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("xs, ws, options", [c[1:] for c in CONV3D_DX],
                         ids=[c[0] for c in CONV3D_DX])
def test_conv3d_input_gradient_paths(xs, ws, options, dtype):
    check([xs, ws, (ws[0],)], lambda x, w, b: TF.conv3d(x, w, b, **options),
          lambda x, w, b: F.conv3d(x, w, b, **options), dtype=dtype)


# (id, n, input shape, weight shape (in, out/groups, *k), options)
TRANSPOSED = [
    ("1d_s1", 1, (2, 3, 7), (3, 2, 4), dict(padding=1)),
    ("1d_s3", 1, (2, 3, 5), (3, 2, 4), dict(stride=3, padding=2, output_padding=1)),
    ("1d_k_lt_s", 1, (2, 2, 4), (2, 3, 2), dict(stride=3)),
    ("2d_k4_s2_p1", 2, (2, 4, 5, 6), (4, 3, 4, 4), dict(stride=2, padding=1)),
    ("2d_s1_outpad", 2, (1, 2, 4, 5), (2, 3, 3, 2), dict(dilation=2, output_padding=1)),
    ("2d_mixed", 2, (2, 4, 3, 5), (4, 1, 3, 2), dict(stride=(2, 3), padding=(1, 0),
                                                     output_padding=(1, 2), groups=2)),
    ("2d_big_pad", 2, (1, 2, 6, 6), (2, 2, 5, 5), dict(stride=2, padding=3)),
    ("3d_k4_s2", 3, (1, 3, 3, 4, 3), (3, 2, 4, 4, 4), dict(stride=2, padding=1)),
    ("3d_k3_s2_outpad", 3, (2, 2, 3, 2, 3), (2, 2, 3, 3, 3), dict(stride=2, padding=1,
                                                                   output_padding=1)),
    ("3d_stride_dilation", 3, (1, 2, 3, 3, 3), (2, 2, 2, 2, 2), dict(stride=2, dilation=2)),
]


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("n, xs, ws, options", [c[1:] for c in TRANSPOSED],
                         ids=[c[0] for c in TRANSPOSED])
def test_conv_transpose_paths(n, xs, ws, options, dtype):
    out_channels = ws[1] * options.get("groups", 1)
    tfn = getattr(TF, f"conv_transpose{n}d")
    gfn = getattr(F, f"conv_transpose{n}d")
    check([xs, ws, (out_channels,)], lambda x, w, b: tfn(x, w, b, **options),
          lambda x, w, b: gfn(x, w, b, **options), dtype=dtype)


def test_phase_scatter_equals_col2im():
    rng = np.random.default_rng(3)
    y = rng.standard_normal((3, 4, 5, 4, 6))
    w = rng.standard_normal((4, 2, 4, 3, 2))
    geo = windows.Geometry((4, 3, 2), (2, 3, 2), (1, 1, 1), ((1, 2), (0, 1), (2, 0)), 2,
                           (10, 11, 12), (5, 4, 6))
    cols = np.matmul(w.reshape(2, 1, 2, -1).transpose(0, 1, 3, 2),
                     y.reshape(3, 2, 2, -1).transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    expected = np.empty((3, 4, 10, 11, 12))
    windows._col2im(cols.reshape(3, 4, 4, 3, 2, 5, 4, 6), geo, expected)
    np.testing.assert_allclose(windows.scatter(y, w, geo), expected, rtol=1e-12, atol=1e-12)


def test_noncontiguous_and_empty_batch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 5, 4, 6))
    w = rng.standard_normal((3, 2, 3, 3, 3))
    xt = gk.tensor(x.transpose(0, 1, 4, 3, 2), requires_grad=True)
    out = F.conv_transpose3d(xt, gk.tensor(w), stride=2, padding=1)
    ref = TF.conv_transpose3d(torch.tensor(x.transpose(0, 1, 4, 3, 2)), torch.tensor(w),
                              stride=2, padding=1)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-10, atol=1e-10)
    empty = F.conv_transpose2d(gk.zeros(0, 3, 4, 4, dtype=gk.float64), gk.tensor(w[..., 0]),
                             stride=2)
    assert empty.shape == (0, 2, 9, 9)


def test_gradcheck_phase_and_flat_paths():
    rng = np.random.default_rng(2)
    x = gk.tensor(rng.standard_normal((1, 2, 3, 3)), requires_grad=True)
    w = gk.tensor(rng.standard_normal((2, 2, 3, 2)), requires_grad=True)
    assert gradcheck(lambda a, b: F.conv_transpose2d(a, b, stride=2, padding=1), (x, w))
    x3 = gk.tensor(rng.standard_normal((1, 2, 3, 4, 3)), requires_grad=True)
    w3 = gk.tensor(rng.standard_normal((2, 2, 2, 2, 2)), requires_grad=True)
    assert gradcheck(lambda a, b: F.conv3d(a, b, padding=1), (x3, w3))


@settings(max_examples=20, deadline=None)
@given(st.tuples(*[st.integers(1, 4)] * 3), st.tuples(*[st.integers(1, 3)] * 3),
       st.tuples(*[st.integers(1, 3)] * 3), st.integers(0, 1))
def test_conv_transpose3d_drawn(size, kernel, stride, padding):
    assume(all((n - 1) * s - 2 * padding + k >= 1 for n, k, s in zip(size, kernel, stride)))
    options = dict(stride=stride, padding=padding)
    check([(1, 2, *size), (2, 2, *kernel)], lambda x, w: TF.conv_transpose3d(x, w, **options),
          lambda x, w: F.conv_transpose3d(x, w, **options))
