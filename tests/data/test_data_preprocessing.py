"""Preprocessing fitted on the training split: Standardize, PCA, Whiten."""

import numpy as np
import pytest

import gradkit as gk
from gradkit.data import PCA, Standardize, Whiten

RNG = np.random.default_rng(0)
MIX = RNG.standard_normal((5, 5))
TRAIN = RNG.standard_normal((400, 5)) @ MIX + np.arange(5.0)  # correlated, float64
VAL = RNG.standard_normal((100, 5)) @ MIX * 2.0 + 3.0          # a different distribution


def test_standardize_per_feature_uses_training_statistics_on_validation():
    pre = Standardize().fit(TRAIN)
    out = pre.transform(TRAIN)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), 1, rtol=1e-12)
    np.testing.assert_allclose(pre.transform(VAL), (VAL - TRAIN.mean(0)) / TRAIN.std(0),
                               rtol=1e-12)
    assert np.abs(pre.transform(VAL).mean(axis=0)).max() > 0.5  # val is not re-centred
    np.testing.assert_allclose(pre.inverse_transform(pre.transform(VAL)), VAL, rtol=1e-12)


def test_standardize_per_channel_for_images_keeps_float32():
    x = (RNG.random((20, 3, 4, 5)) * [[[[1]], [[2]], [[3]]]] + [[[[0]], [[5]], [[-5]]]])
    x = x.astype(np.float32)
    pre = Standardize().fit(x)
    assert pre.mean.shape == (1, 3, 1, 1)
    np.testing.assert_allclose(pre.mean.ravel(), x.mean(axis=(0, 2, 3)), rtol=1e-5)
    out = pre.transform(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), 1, rtol=1e-4)
    per_pixel = Standardize(per_channel=False).fit(x)
    assert per_pixel.mean.shape == (1, 3, 4, 5)


def test_standardize_mean_only_constant_features_and_tensors():
    x = np.c_[TRAIN[:, :2], np.full(400, 7.0)]
    centred = Standardize(with_std=False).fit(x)
    np.testing.assert_allclose(centred.transform(x), x - x.mean(0), atol=1e-12)
    out = Standardize().fit(x).transform(gk.tensor(x))
    assert isinstance(out, gk.Tensor)
    np.testing.assert_allclose(out.numpy()[:, 2], 0)
    with pytest.raises(RuntimeError, match="fit"):
        Standardize().transform(x)
    with pytest.raises(ValueError, match="shape"):
        Standardize().fit(x).transform(TRAIN)


def test_state_dict_round_trip_gives_the_same_transform():
    for pre in (Standardize(), PCA(3), Whiten(eps=1e-3, zca=True)):
        pre.fit(TRAIN)
        state = pre.state_dict()
        assert all(isinstance(v, np.ndarray) for v in state.values())
        fresh = type(pre)() if not isinstance(pre, Whiten) else Whiten(eps=1e-3, zca=True)
        fresh.load_state_dict(state)
        np.testing.assert_array_equal(fresh.transform(VAL), pre.transform(VAL))
    with pytest.raises(KeyError, match="missing"):
        PCA().load_state_dict({"mean": np.zeros(3)})


def test_pca_matches_scikit_learn_and_keeps_the_top_variance():
    from sklearn.decomposition import PCA as SkPCA

    pca = PCA(2).fit(TRAIN)
    ref = SkPCA(2).fit(TRAIN)
    np.testing.assert_allclose(pca.components, ref.components_, atol=1e-10)
    np.testing.assert_allclose(pca.explained_variance_ratio, ref.explained_variance_ratio_,
                               rtol=1e-10)
    np.testing.assert_allclose(pca.transform(VAL), ref.transform(VAL), atol=1e-10)
    eigvals = np.sort(np.linalg.eigvalsh(np.cov(TRAIN.T, bias=True)))[::-1]
    z = pca.transform(TRAIN)
    np.testing.assert_allclose(z.var(axis=0), eigvals[:2], rtol=1e-10)
    residual = ((pca.inverse_transform(z) - TRAIN) ** 2).sum(axis=1).mean()
    np.testing.assert_allclose(residual, eigvals[2:].sum(), rtol=1e-10)


def test_pca_variance_fraction_and_images():
    keep = PCA(0.9).fit(TRAIN)
    ratio = np.cumsum(keep.explained_variance_ratio)
    assert ratio[-1] >= 0.9 and (len(ratio) == 1 or ratio[-2] < 0.9)
    images = RNG.random((30, 1, 3, 3)).astype(np.float32)
    pca = PCA(4).fit(images)
    z = pca.transform(images)
    assert z.shape == (30, 4) and z.dtype == np.float32
    assert pca.inverse_transform(z).shape == (30, 1, 3, 3)
    np.testing.assert_allclose(PCA().fit(images).inverse_transform(
        PCA().fit(images).transform(images)), images, atol=1e-5)
    with pytest.raises(ValueError, match="n_components"):
        PCA(10).fit(TRAIN)


@pytest.mark.parametrize("zca", [False, True])
def test_whitened_training_data_has_identity_covariance(zca):
    eps = 1e-5
    white = Whiten(eps=eps, zca=zca).fit(TRAIN)
    z = white.transform(TRAIN)
    assert z.shape == TRAIN.shape
    cov = np.cov(z.T, bias=True)
    s = white.explained_variance
    assert np.abs(cov - np.eye(5)).max() <= eps / s.min()  # identity up to eps
    np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(cov))[::-1], s / (s + eps),
                               rtol=1e-10)
    np.testing.assert_allclose(white.inverse_transform(white.transform(VAL)), VAL, atol=1e-8)
    val_cov = np.cov(white.transform(VAL).T, bias=True)
    assert np.abs(val_cov - np.eye(5)).max() > 0.5  # val is whitened with train's statistics


def test_zca_is_the_symmetric_whitening_matrix():
    white = Whiten(eps=0.1, zca=True).fit(TRAIN)
    cov = np.cov(TRAIN.T, bias=True)
    s, u = np.linalg.eigh(cov)
    w = u @ np.diag(1 / np.sqrt(s + 0.1)) @ u.T
    np.testing.assert_allclose(white.transform(VAL), (VAL - TRAIN.mean(0)) @ w, atol=1e-10)
