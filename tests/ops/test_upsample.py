"""F.interpolate, F.pixel_shuffle and F.pixel_unshuffle against torch.nn.functional: values and
input gradients in float64 and float32, every mode, size and scale_factor, align_corners,
recompute_scale_factor, gradcheck, bad arguments."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import gradkit as gk
import gradkit.nn.functional as F
from gradkit.autograd import gradcheck
from oracle import check

F64, F32 = np.float64, np.float32

CASES = [  # (id, input shape, interpolate options)
    ("nearest_x2", (2, 3, 5, 4), dict(scale_factor=2)),
    ("nearest_size", (2, 3, 5, 4), dict(size=(7, 3))),
    ("nearest_same", (1, 2, 5, 4), dict(size=(5, 4))),
    ("nearest_frac", (2, 2, 6, 7), dict(scale_factor=(1.5, 0.7))),
    ("nearest_1d", (2, 3, 7), dict(scale_factor=2.5)),
    ("nearest_1d_down", (2, 3, 9), dict(size=4)),
    ("nearest_3d", (1, 2, 3, 4, 2), dict(scale_factor=(2, 1.5, 3))),
    ("nearest_recompute", (2, 2, 5, 6), dict(scale_factor=1.7, recompute_scale_factor=True)),
    ("nearest_exact", (2, 2, 5, 6), dict(size=(9, 4), mode="nearest-exact")),
    ("nearest_exact_scale", (2, 2, 5, 6), dict(scale_factor=1.3, mode="nearest-exact")),
    ("nearest_exact_3d", (1, 2, 3, 4, 5), dict(size=(5, 2, 7), mode="nearest-exact")),
    ("linear", (2, 3, 6), dict(scale_factor=2, mode="linear")),
    ("linear_down", (2, 3, 9), dict(size=4, mode="linear")),
    ("linear_corners", (2, 3, 6), dict(size=11, mode="linear", align_corners=True)),
    ("linear_to_1", (2, 3, 6), dict(size=1, mode="linear", align_corners=True)),
    ("linear_from_1", (2, 3, 1), dict(size=4, mode="linear")),
    ("bilinear", (2, 3, 5, 4), dict(scale_factor=2, mode="bilinear")),
    ("bilinear_frac", (2, 2, 5, 7), dict(scale_factor=(1.6, 0.55), mode="bilinear")),
    ("bilinear_size", (2, 2, 5, 7), dict(size=(8, 3), mode="bilinear")),
    ("bilinear_corners", (2, 2, 5, 7), dict(size=(9, 4), mode="bilinear", align_corners=True)),
    ("bilinear_recompute", (2, 2, 5, 7), dict(scale_factor=1.7, mode="bilinear",
                                               recompute_scale_factor=True)),
    ("bicubic", (2, 2, 5, 6), dict(scale_factor=2, mode="bicubic")),
    ("bicubic_down", (2, 2, 9, 8), dict(size=(4, 5), mode="bicubic")),
    ("bicubic_corners", (2, 2, 5, 6), dict(size=(7, 9), mode="bicubic", align_corners=True)),
    ("trilinear", (1, 2, 3, 4, 5), dict(scale_factor=(2, 1.5, 0.6), mode="trilinear")),
    ("trilinear_corners", (1, 2, 3, 4, 2), dict(size=(4, 6, 5), mode="trilinear",
                                                align_corners=True)),
    ("area_1d", (2, 3, 7), dict(size=3, mode="area")),
    ("area_2d", (2, 3, 7, 6), dict(size=(3, 4), mode="area")),
    ("area_2d_scale", (2, 3, 8, 6), dict(scale_factor=0.5, mode="area")),
    ("area_3d", (1, 2, 5, 4, 6), dict(size=(2, 3, 4), mode="area")),
    ("batch_of_1", (1, 1, 3, 3), dict(scale_factor=3, mode="bilinear")),
]


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("name,shape,options", CASES, ids=[c[0] for c in CASES])
def test_interpolate_matches_torch(name, shape, options, dtype):
    check([shape], lambda x: TF.interpolate(x, **options),
          lambda x: F.interpolate(x, **options), dtype=dtype)


@pytest.mark.parametrize("name,shape,options", CASES[::3], ids=[c[0] for c in CASES[::3]])
def test_interpolate_gradcheck(name, shape, options):
    x = gk.tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True)
    assert gradcheck(lambda t: F.interpolate(t, **options), (x,))


def test_interpolate_non_contiguous_input():
    a = np.random.default_rng(2).standard_normal((2, 3, 6, 5))
    check([], lambda x: TF.interpolate(x.transpose(2, 3), scale_factor=1.5, mode="bilinear"),
          lambda x: F.interpolate(x.transpose(2, 3), scale_factor=1.5, mode="bilinear"),
          arrays=[a])


def test_interpolate_empty_batch():
    out = F.interpolate(gk.zeros(0, 3, 4, 4), scale_factor=2, mode="bilinear")
    assert out.shape == (0, 3, 8, 8)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 12), st.integers(1, 12),
       st.sampled_from(["nearest", "nearest-exact", "bilinear", "bicubic"]), st.booleans())
def test_interpolate_drawn_sizes(h, w, oh, ow, mode, corners):
    options = dict(size=(oh, ow), mode=mode)
    if mode in ("bilinear", "bicubic"):
        options["align_corners"] = corners
    check([(1, 2, h, w)], lambda x: TF.interpolate(x, **options),
          lambda x: F.interpolate(x, **options))


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 40), st.floats(0.3, 3.5), st.sampled_from(["nearest", "linear"]))
def test_interpolate_drawn_scales(length, scale, mode):
    size = int(length * scale)
    assume(size >= 1)
    shortcut = mode == "nearest" and size in (length, 2 * length)  # see the next test
    check([(2, 1, length)], lambda x: TF.interpolate(x, scale_factor=scale, mode=mode),
          lambda x: F.interpolate(x, scale_factor=scale, mode=mode), grad=not shortcut)


@pytest.mark.parametrize("shape,scale,mode", [((1, 1, 2), 1.25, "nearest"),
                                              ((1, 1, 3), 2.1, "nearest"),
                                              ((1, 1, 1, 1, 3), (1, 1, 1.2), "nearest"),
                                              ((1, 2, 4, 30), (1.1, 1.02), "bicubic")])
def test_gradient_follows_the_forward(shape, scale, mode):
    """PyTorch's 1-d/3-d nearest backward takes a shortcut its forward does not (out = in or
    out = 2·in with a scale_factor), and so does its bicubic backward when no size changes;
    gradkit's gradient is the forward's: forward values equal PyTorch's, gradcheck passes."""
    check([shape], lambda x: TF.interpolate(x, scale_factor=scale, mode=mode),
          lambda x: F.interpolate(x, scale_factor=scale, mode=mode), grad=False)
    x = gk.tensor(np.random.default_rng(5).standard_normal(shape), requires_grad=True)
    assert gradcheck(lambda t: F.interpolate(t, scale_factor=scale, mode=mode), (x,))


@pytest.mark.parametrize("shape,scale,mode", [((2, 1, 30), 1.02, "linear"),
                                              ((1, 2, 2, 30), (2, 1.02), "bilinear"),
                                              ((1, 2, 30, 3), (1.02, 1.5), "bicubic"),
                                              ((1, 1, 2, 30, 3), (1.5, 1.02, 1), "trilinear"),
                                              ((1, 2, 30, 3), (1.02, 1.0), "nearest"),
                                              ((1, 2, 30, 3), (1.02, 1.0), "nearest-exact")])
def test_a_scale_factor_that_keeps_the_size(shape, scale, mode):
    """Linear modes copy an axis whose size stays (PyTorch's kernels do), even if the scale
    factor would move the samples; nearest on 4-D input does the same."""
    check([shape], lambda x: TF.interpolate(x, scale_factor=scale, mode=mode),
          lambda x: F.interpolate(x, scale_factor=scale, mode=mode))


BAD = [
    (dict(size=4, scale_factor=2), ValueError, "only one of size or scale_factor"),
    (dict(), ValueError, "either size or scale_factor"),
    (dict(size=4, mode="nearest", align_corners=True), ValueError, "align_corners option"),
    (dict(size=4, recompute_scale_factor=True), ValueError, "not meaningful"),
    (dict(size=(4, 4, 4)), ValueError, "spatial dimensions"),
    (dict(scale_factor=(2, 2, 2)), ValueError, "spatial dimensions"),
    (dict(size=4, mode="linear"), NotImplementedError, "linear mode needs 3D input"),
    (dict(size=4, mode="trilinear"), NotImplementedError, "trilinear mode needs 5D input"),
    (dict(size=4, mode="cubic"), NotImplementedError, "cubic"),
    (dict(size=4, mode="bilinear", antialias=True), NotImplementedError, "antialias"),
    (dict(size=0), RuntimeError, "greater than 0"),
    (dict(size=(2.0, 3)), TypeError, "size"),
]


@pytest.mark.parametrize("options,error,message", BAD)
def test_interpolate_bad_arguments(options, error, message):
    x, xt = gk.zeros(1, 2, 4, 4), torch.zeros(1, 2, 4, 4)
    if message not in ("antialias", "cubic"):  # torch raises another type for these two
        with pytest.raises(error):
            TF.interpolate(xt, **options)
    with pytest.raises(error, match=message):
        F.interpolate(x, **options)


def test_interpolate_bad_rank_and_dtype():
    with pytest.raises(NotImplementedError, match="3D, 4D and 5D"):
        F.interpolate(gk.zeros(2, 4), size=3)
    with pytest.raises(NotImplementedError, match="int64"):
        F.interpolate(gk.tensor(np.zeros((1, 1, 3, 3), np.int64)), size=3)
    with pytest.raises(TypeError):
        F.interpolate(np.zeros((1, 1, 3, 3)), size=3)


SHUFFLE = [((2, 8, 3, 4), 2), ((1, 9, 2, 2), 3), ((3, 2, 4, 5, 2), 1), ((4, 5, 3), 1),
           ((2, 3, 8, 2, 2), 2)]


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("shape,r", SHUFFLE)
def test_pixel_shuffle_matches_torch(shape, r, dtype):
    check([shape], lambda x: TF.pixel_shuffle(x, r), lambda x: F.pixel_shuffle(x, r),
          dtype=dtype)


UNSHUFFLE = [((2, 2, 6, 4), 2), ((1, 1, 3, 6), 3), ((3, 2, 4, 2, 2), 2), ((4, 2, 3), 1)]


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("shape,r", UNSHUFFLE)
def test_pixel_unshuffle_matches_torch(shape, r, dtype):
    check([shape], lambda x: TF.pixel_unshuffle(x, r), lambda x: F.pixel_unshuffle(x, r),
          dtype=dtype)


def test_pixel_shuffle_round_trip_and_gradcheck():
    x = gk.tensor(np.random.default_rng(3).standard_normal((2, 8, 3, 2)), requires_grad=True)
    np.testing.assert_array_equal(F.pixel_unshuffle(F.pixel_shuffle(x, 2), 2).numpy(),
                                  x.numpy())
    assert gradcheck(lambda t: F.pixel_shuffle(t, 2), (x,))
    assert gradcheck(lambda t: F.pixel_unshuffle(t, 1), (x,))


def test_pixel_shuffle_non_contiguous():
    a = np.random.default_rng(4).standard_normal((2, 4, 5, 3))
    check([], lambda x: TF.pixel_shuffle(x.transpose(2, 3), 2),
          lambda x: F.pixel_shuffle(x.transpose(2, 3), 2), arrays=[a])


@pytest.mark.parametrize("call,shape", [
    (lambda x: F.pixel_shuffle(x, 2), (1, 6, 2, 2)),
    (lambda x: F.pixel_shuffle(x, 2), (4, 2)),
    (lambda x: F.pixel_unshuffle(x, 2), (1, 1, 3, 4)),
    (lambda x: F.pixel_unshuffle(x, 0), (1, 1, 4, 4)),
])
def test_pixel_shuffle_bad_input(call, shape):
    with pytest.raises(RuntimeError, match="pixel_"):
        call(gk.zeros(*shape))


@pytest.mark.parametrize("name,options", [("upsample", dict(scale_factor=2, mode="bilinear")),
                                          ("upsample_nearest", dict(size=(5, 7))),
                                          ("upsample_bilinear", dict(scale_factor=1.5))])
def test_deprecated_upsample_functions_warn_like_torch(name, options):
    a = np.random.default_rng(6).standard_normal((2, 3, 4, 5))
    with pytest.warns(UserWarning, match=f"nn.functional.{name}` is deprecated"):
        expected = getattr(TF, name)(torch.tensor(a), **options)
    with pytest.warns(UserWarning, match=f"nn.functional.{name}` is deprecated"):
        out = getattr(F, name)(gk.tensor(a), **options)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-12)
