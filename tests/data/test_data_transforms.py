"""Batch augmentations: shapes, dtypes, labels, determinism and what each one must do."""

import numpy as np
import pytest

import gradkit as gk
from gradkit.data import transforms as T

RNG = np.random.default_rng(0)
X = RNG.random((6, 3, 12, 10), dtype=np.float32)
Y = np.arange(6)

ALL = [
    T.RandomHorizontalFlip(), T.RandomVerticalFlip(), T.RandomCrop(8, padding=2),
    T.RandomCrop((12, 10), padding=3, padding_mode="reflect"), T.RandomResizedCrop(9),
    T.ScaleJitter(8, 10, 16), T.ColorJitter(0.4, 0.4, 0.4, 0.1), T.PCALighting(),
    T.RandomAffine(20, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=5, stretch=(0.8, 1.25)),
    T.GaussianNoise(), T.RandomErasing(p=1.0), T.Cutout(4), T.Normalize((0.5,) * 3, (0.2,) * 3),
    T.Compose([T.RandomCrop(10, padding=2), T.RandomHorizontalFlip(), T.ColorJitter(0.3)]),
]


@pytest.mark.parametrize("t", ALL, ids=lambda t: type(t).__name__)
def test_shape_dtype_labels_input_and_determinism(t):
    x = X.copy()
    out, y = t(x, Y, generator=np.random.default_rng(1))
    assert out.dtype == np.float32 and out.ndim == 4 and out.shape[:2] == (6, 3)
    assert y is Y
    np.testing.assert_array_equal(x, X)  # the input is never written to
    again = t(x, generator=np.random.default_rng(1))
    np.testing.assert_array_equal(out, again)
    gk.manual_seed(4)
    a = t(x)
    gk.manual_seed(4)
    np.testing.assert_array_equal(t(x), a)
    as_tensor = t(gk.tensor(x), generator=np.random.default_rng(1))
    assert isinstance(as_tensor, gk.Tensor)
    np.testing.assert_array_equal(as_tensor.numpy(), out)


def test_output_sizes():
    assert T.RandomCrop(8, padding=2)(X).shape == (6, 3, 8, 8)
    assert T.RandomResizedCrop((7, 5))(X).shape == (6, 3, 7, 5)
    assert T.ScaleJitter(8, 10, 16)(X).shape == (6, 3, 8, 8)


def test_flip_twice_is_the_identity_and_flip_mirrors():
    h, v = T.RandomHorizontalFlip(p=1.0), T.RandomVerticalFlip(p=1.0)
    np.testing.assert_array_equal(h(X), X[..., ::-1])
    np.testing.assert_array_equal(v(X), X[..., ::-1, :])
    np.testing.assert_array_equal(h(h(X)), X)
    np.testing.assert_array_equal(v(v(X)), X)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(X), X)


def test_flip_chooses_images_independently():
    x = RNG.random((400, 1, 2, 3), dtype=np.float32)
    flipped = (T.RandomHorizontalFlip()(x, generator=np.random.default_rng(0))[..., 0]
               == x[..., 2]).all(axis=(1, 2))
    assert 150 < flipped.sum() < 250


def test_color_jitter_with_factor_one_is_the_identity():
    identity = T.ColorJitter(brightness=(1, 1), contrast=(1, 1), saturation=(1, 1), hue=0)
    np.testing.assert_array_equal(identity(X), X)
    np.testing.assert_array_equal(T.ColorJitter()(X), X)


def test_color_jitter_fixed_factors_follow_the_formulas():
    f = 0.7
    np.testing.assert_allclose(T.ColorJitter(brightness=(f, f))(X), np.clip(X * f, 0, 1),
                               rtol=1e-6)
    gray = 0.2989 * X[:, 0:1] + 0.587 * X[:, 1:2] + 0.114 * X[:, 2:3]
    mean = gray.mean(axis=(1, 2, 3), keepdims=True)
    np.testing.assert_allclose(T.ColorJitter(contrast=(f, f))(X),
                               np.clip(f * X + (1 - f) * mean, 0, 1), atol=1e-6)
    np.testing.assert_allclose(T.ColorJitter(saturation=(0, 0))(X),
                               np.broadcast_to(gray, X.shape), atol=1e-6)


def test_hsv_conversion_matches_matplotlib_and_round_trips():
    from matplotlib.colors import rgb_to_hsv

    h, s, v = T.functional.rgb_to_hsv(X)
    ref = rgb_to_hsv(X.transpose(0, 2, 3, 1))
    np.testing.assert_allclose(np.stack([h, s, v], -1), ref, atol=1e-6)
    np.testing.assert_allclose(T.functional.hsv_to_rgb(h, s, v), X, atol=1e-6)
    half_turn = T.ColorJitter(hue=(0.5, 0.5))
    np.testing.assert_allclose(half_turn(half_turn(X)), X, atol=1e-5)
    gray_images = X[:, :1]
    np.testing.assert_array_equal(T.ColorJitter(saturation=0.5, hue=0.5)(gray_images),
                                  gray_images)


def test_crops_stay_inside_the_padded_image():
    x = RNG.random((20, 2, 6, 7), dtype=np.float32) + 1.0  # padding (0) is distinguishable
    pad, size = 3, (6, 7)
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = T.RandomCrop(size, padding=pad)(x, generator=np.random.default_rng(2))
    offsets = set()
    for n in range(len(x)):
        matches = [(i, j) for i in range(2 * pad + 1) for j in range(2 * pad + 1)
                   if np.array_equal(out[n], padded[n, :, i:i + 6, j:j + 7])]
        assert matches, f"crop {n} is not a window of the padded image"
        offsets.add(matches[0])
    assert len(offsets) > 5


def test_random_crop_without_padding_and_pad_if_needed():
    np.testing.assert_array_equal(T.RandomCrop((12, 10))(X), X)
    out = T.RandomCrop(14, pad_if_needed=True)(X)
    assert out.shape == (6, 3, 14, 14)
    with pytest.raises(ValueError, match="larger than"):
        T.RandomCrop(13)(X)


def test_random_resized_crop_boxes_respect_scale_and_ratio():
    t = T.RandomResizedCrop(8, scale=(0.3, 0.6), ratio=(0.5, 2.0))
    top, left, h, w = t.get_params(2000, 40, 50, np.random.default_rng(0))
    assert (top >= 0).all() and (left >= 0).all()
    assert (top + h <= 40).all() and (left + w <= 50).all()
    area = h * w / 2000
    assert area.min() > 0.27 and area.max() < 0.63
    aspect = w / h
    assert aspect.min() > 0.45 and aspect.max() < 2.2


def test_random_resized_crop_falls_back_to_the_centre():
    t = T.RandomResizedCrop(4, scale=(5.0, 6.0), ratio=(1.0, 1.0))  # no box can fit
    top, left, h, w = t.get_params(3, 10, 20, np.random.default_rng(0))
    assert (h == 10).all() and (w == 10).all() and (left == 5).all() and (top == 0).all()


def test_scale_jitter_without_scaling_is_a_crop_of_the_image():
    x = RNG.random((5, 1, 9, 9), dtype=np.float32)
    out = T.ScaleJitter(6, 9, 9)(x)
    for n in range(5):
        assert any(np.array_equal(out[n], x[n, :, i:i + 6, j:j + 6])
                   for i in range(4) for j in range(4))


def test_scale_jitter_crops_from_the_resized_image():
    torch = pytest.importorskip("torch")
    x = RNG.random((3, 2, 6, 8), dtype=np.float32)
    out = T.ScaleJitter(6, 12, 12)(x)  # short side 6 -> 12: the image is 12x16
    big = torch.nn.functional.interpolate(torch.from_numpy(x), size=(12, 16), mode="bilinear",
                                          align_corners=False).numpy()
    for n in range(3):
        assert any(np.allclose(out[n], big[n, :, i:i + 6, j:j + 6], atol=1e-6)
                   for i in range(7) for j in range(11))
    with pytest.raises(ValueError, match="min_size"):
        T.ScaleJitter(224, 200, 480)


def test_affine_identity_rotation_and_fill():
    x = RNG.random((4, 3, 7, 7), dtype=np.float32)
    np.testing.assert_array_equal(T.RandomAffine(0)(x), x)
    np.testing.assert_allclose(T.RandomAffine((90, 90))(x), np.rot90(x, 1, axes=(2, 3)),
                               atol=1e-6)
    shrunk = T.RandomAffine(0, scale=(0.5, 0.5), fill=-1.0)(x)
    assert (shrunk[:, :, 0, :] == -1).all() and (shrunk[:, :, 3, 3] == x[:, :, 3, 3]).all()


def test_pca_lighting_adds_one_colour_offset_per_image():
    t = T.PCALighting.from_images(X)
    assert np.allclose(t.eigvec.T @ t.eigvec, np.eye(3), atol=1e-5)
    assert (np.diff(t.eigval) <= 0).all()
    shift = t(X) - X
    np.testing.assert_allclose(shift, shift[:, :, :1, :1] + 0 * shift, atol=1e-6)
    assert np.abs(shift).max() > 0
    np.testing.assert_array_equal(T.PCALighting(std=0.0)(X), X)


def test_gaussian_noise():
    np.testing.assert_array_equal(T.GaussianNoise(sigma=0.0)(X), X)
    noisy = T.GaussianNoise(sigma=0.5, clip=False)(np.zeros((50, 1, 20, 20), np.float32))
    assert abs(noisy.std() - 0.5) < 0.02 and abs(noisy.mean()) < 0.02
    assert T.GaussianNoise(sigma=0.5)(X).min() >= 0.0


def test_random_erasing_erases_one_rectangle_per_image():
    x = X + 1.0
    out = T.RandomErasing(p=1.0, value=0)(x, generator=np.random.default_rng(3))
    for n in range(len(x)):
        rows, cols = np.nonzero((out[n] == 0).all(axis=0))
        assert rows.size > 0
        box = out[n][:, rows.min():rows.max() + 1, cols.min():cols.max() + 1]
        assert (box == 0).all()
        area = rows.size / (12 * 10)
        assert 0.005 < area < 0.45
    np.testing.assert_array_equal(T.RandomErasing(p=0.0)(x), x)
    per_channel = T.RandomErasing(p=1.0, value=(-1, -2, -3))(x)
    assert {-1.0, -2.0, -3.0} <= set(np.unique(per_channel).tolist())


def test_cutout_zeroes_a_clipped_square():
    x = X + 1.0
    out = T.Cutout(4)(x, generator=np.random.default_rng(0))
    zeros = (out == 0).all(axis=1)
    for n in range(len(x)):
        rows, cols = np.nonzero(zeros[n])
        assert 0 < rows.size <= 16
        assert rows.max() - rows.min() < 4 and cols.max() - cols.min() < 4
        assert rows.size == (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)


def test_normalize():
    out = T.Normalize((0.1, 0.2, 0.3), (0.5, 0.25, 2.0))(X)
    ref = (X - np.array([0.1, 0.2, 0.3])[:, None, None]) / np.array([0.5, 0.25, 2.0])[:, None,
                                                                                        None]
    np.testing.assert_allclose(out, ref, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="std"):
        T.Normalize(0, 0)(X)


def identity_channels(n, h=6, w=6):
    """Image i has channel i full of ones: a mixed image shows the share of each source."""
    x = np.zeros((n, n, h, w), np.float32)
    x[np.arange(n), np.arange(n)] = 1.0
    return x


def test_mixup_targets_sum_to_one_and_equal_the_mixing_weights():
    n = 8
    x = identity_channels(n)
    out, soft = T.MixUp(alpha=0.4, num_classes=n)(x, np.arange(n),
                                                   generator=np.random.default_rng(0))
    np.testing.assert_allclose(soft.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_allclose(out[:, :, 0, 0], soft, atol=1e-6)
    assert (soft.max(axis=1) < 1).any()
    again, soft_again = T.MixUp(alpha=0.4)(x, np.eye(n, dtype=np.float32),
                                           generator=np.random.default_rng(0))
    np.testing.assert_array_equal(soft_again, soft)


def test_cutmix_targets_equal_the_pasted_areas():
    n = 8
    x = identity_channels(n, 10, 10)
    out, soft = T.CutMix(alpha=1.0, num_classes=n)(x, np.arange(n),
                                                    generator=np.random.default_rng(1))
    np.testing.assert_allclose(soft.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_allclose(out.mean(axis=(2, 3)), soft, atol=1e-6)
    assert set(np.unique(out).tolist()) == {0.0, 1.0}
    assert (soft.max(axis=1) < 1).any()


def test_label_mixing_needs_labels_and_classes():
    with pytest.raises(TypeError, match="mixes labels"):
        T.MixUp(1.0, 10)(X)
    with pytest.raises(ValueError, match="num_classes"):
        T.CutMix(1.0)(X, Y)


def test_compose_passes_labels_and_generator_along():
    steps = [T.RandomHorizontalFlip(), T.RandomCrop(10, padding=1), T.MixUp(1.0, 6)]
    out, soft = T.Compose(steps)(X, Y, generator=np.random.default_rng(5))
    rng = np.random.default_rng(5)
    x = steps[1](steps[0](X, generator=rng), generator=rng)
    ref, ref_soft = steps[2](x, Y, generator=rng)
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(soft, ref_soft)
    assert T.Compose([T.Lambda(lambda a: a * 2)])(X).max() > 1
    assert "RandomCrop" in repr(T.Compose(steps))


def test_errors_name_the_transform_and_the_shape():
    with pytest.raises(ValueError, match=r"RandomCrop.*\(N, C, H, W\).*\(3, 12, 10\)"):
        T.RandomCrop(4)(X[0])
    with pytest.raises(TypeError, match="floating-point"):
        T.RandomHorizontalFlip()(np.zeros((1, 1, 2, 2), np.uint8))
