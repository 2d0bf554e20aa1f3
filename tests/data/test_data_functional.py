"""The deterministic batch operations behind the transforms, against torch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from gradkit.data.transforms import functional as F

RNG = np.random.default_rng(0)
X = RNG.random((3, 2, 9, 13), dtype=np.float32)


@pytest.mark.parametrize("size", [(5, 7), (20, 31), (9, 13), (4, 30), (1, 1)])
def test_resize_matches_torch_bilinear(size):
    ref = TF.interpolate(torch.from_numpy(X), size=size, mode="bilinear", align_corners=False)
    np.testing.assert_allclose(F.resize(X, size), ref.numpy(), atol=1e-6)


def test_resize_int_matches_the_shorter_side():
    assert F.resize(X, 18).shape == (3, 2, 18, 26)
    assert F.resize(X.transpose(0, 1, 3, 2), 18).shape == (3, 2, 26, 18)


def test_resized_crop_per_sample_boxes_match_torch_crop_then_resize():
    boxes = [(1, 3, 5, 7), (2, 0, 6, 9), (0, 0, 9, 13)]
    top, left, h, w = map(np.array, zip(*boxes))
    out = F.resized_crop(X, top, left, h, w, (11, 4))
    for n, (t, l, hh, ww) in enumerate(boxes):
        crop = torch.from_numpy(X[n:n + 1, :, t:t + hh, l:l + ww].copy())
        ref = TF.interpolate(crop, size=(11, 4), mode="bilinear", align_corners=False)
        np.testing.assert_allclose(out[n], ref[0].numpy(), atol=1e-6)


def test_crop_per_sample_offsets():
    out = F.crop(X, [0, 2, 4], [1, 0, 5], 5, 8)
    for n, (t, l) in enumerate([(0, 1), (2, 0), (4, 5)]):
        np.testing.assert_array_equal(out[n], X[n, :, t:t + 5, l:l + 8])
    with pytest.raises(ValueError, match="does not fit"):
        F.crop(X, 5, 0, 5, 8)
    np.testing.assert_array_equal(F.center_crop(X, (3, 5)), X[:, :, 3:6, 4:9])


@pytest.mark.parametrize("ours,theirs", [("constant", "constant"), ("edge", "replicate"),
                                         ("reflect", "reflect")])
def test_pad_modes_match_torch(ours, theirs):
    ref = TF.pad(torch.from_numpy(X), (2, 3, 1, 4), mode=theirs)  # left, right, top, bottom
    np.testing.assert_array_equal(F.pad(X, (2, 1, 3, 4), padding_mode=ours), ref.numpy())


def test_sample_bilinear_matches_grid_sample_with_zero_padding():
    n, h, w = 3, 9, 13
    sy = RNG.uniform(-2, h + 1, (n, 4, 6))
    sx = RNG.uniform(-2, w + 1, (n, 4, 6))
    grid = np.stack([(2 * sx + 1) / w - 1, (2 * sy + 1) / h - 1], axis=-1)
    ref = TF.grid_sample(torch.from_numpy(X).double(), torch.from_numpy(grid), mode="bilinear",
                         padding_mode="zeros", align_corners=False)
    np.testing.assert_allclose(F.sample_bilinear(X, sy, sx), ref.numpy(), atol=1e-6)


def test_affine_with_identity_and_shift():
    eye = np.tile(np.array([[1.0, 0, 0], [0, 1, 0]]), (3, 1, 1))
    np.testing.assert_array_equal(F.affine(X, eye), X)
    shift = eye.copy()
    shift[:, 0, 2] = -2  # read 2 pixels to the left: the image moves right by 2
    out = F.affine(X, shift)
    np.testing.assert_allclose(out[..., 2:], X[..., :-2], atol=1e-6)
    assert (out[..., :2] == 0).all()


def test_colour_helpers_on_one_channel_and_clamping():
    gray = X[:, :1]
    np.testing.assert_array_equal(F.rgb_to_grayscale(gray), gray)
    np.testing.assert_array_equal(F.adjust_hue(gray, 0.3), gray)
    bright = F.adjust_brightness(X[:, :1], np.array([0.0, 1.0, 3.0]))
    assert (bright[0] == 0).all() and np.array_equal(bright[1], X[1, :1])
    assert bright[2].max() == 1.0
