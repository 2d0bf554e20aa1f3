"""predict_tta: shapes, probabilities, the views it feeds the model, eval/no_grad."""

import numpy as np
import pytest

import gradkit as gk
from gradkit.data import predict_tta

RNG = np.random.default_rng(0)
X = RNG.random((5, 3, 12, 12), dtype=np.float32)


class Recorder:
    """A tiny 'model': logits from the channel means and the left/right asymmetry, so flips
    and crops change the answer. It records the views it sees and its mode."""

    def __init__(self, classes=4):
        self.w = RNG.standard_normal((4, classes)).astype(np.float32)
        self.training = True
        self.shapes, self.grad_enabled, self.modes = [], [], []

    def eval(self):
        self.training = False

    def train(self, mode=True):
        self.training = mode

    def __call__(self, t):
        x = t.numpy()
        self.shapes.append(x.shape)
        self.grad_enabled.append(gk.is_grad_enabled())
        self.modes.append(self.training)
        half = x.shape[3] // 2
        feats = np.c_[x.mean(axis=(2, 3)), x[..., :half].mean((1, 2, 3)) - x[..., half:].mean(
            (1, 2, 3))]
        return gk.tensor(feats * 5 @ self.w)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("mode,views", [("flip", 2), ("ten_crop", 10), ("multiscale", 6)])
def test_shapes_probabilities_and_views(mode, views):
    model = Recorder()
    probs = predict_tta(model, gk.tensor(X), mode=mode)
    assert isinstance(probs, gk.Tensor) and probs.shape == (5, 4) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.numpy().sum(axis=1), 1, rtol=1e-6)
    assert (probs.numpy() > 0).all()
    assert len(model.shapes) == views
    assert not any(model.grad_enabled) and not any(model.modes)
    assert model.training  # restored


def test_flip_averages_the_image_and_its_mirror():
    model = Recorder()
    probs = predict_tta(model, X, mode="flip").numpy()
    ref = (softmax(model(gk.tensor(X)).numpy()) +
           softmax(model(gk.tensor(X[..., ::-1].copy())).numpy())) / 2
    np.testing.assert_allclose(probs, ref, rtol=1e-5)


def test_ten_crop_views_are_corners_centre_and_flips():
    model = Recorder()
    predict_tta(model, X, mode="ten_crop", size=8)
    assert model.shapes == [(5, 3, 8, 8)] * 10
    seen = []
    predict_tta(lambda t: (seen.append(t.numpy().copy()), gk.zeros(5, 2))[1], X,
                mode="ten_crop", size=8)
    np.testing.assert_array_equal(seen[0], X[:, :, :8, :8])
    np.testing.assert_array_equal(seen[3], X[:, :, 4:, 4:])
    np.testing.assert_array_equal(seen[4], X[:, :, 2:10, 2:10])
    np.testing.assert_array_equal(seen[5], seen[0][..., ::-1])
    padded = []
    predict_tta(lambda t: (padded.append(t.shape), gk.zeros(5, 2))[1], X, mode="ten_crop",
                size=12, padding=2)
    assert padded == [(5, 3, 12, 12)] * 10


def test_multiscale_feeds_the_input_size_by_default():
    model = Recorder()
    predict_tta(model, X, mode="multiscale", scales=(1.0, 1.5))
    assert model.shapes == [(5, 3, 12, 12)] * 4
    with pytest.raises(ValueError, match="smaller"):
        predict_tta(model, X, mode="multiscale", scales=(0.5,))


def test_bad_mode_and_bad_model_output():
    with pytest.raises(ValueError, match="mode"):
        predict_tta(Recorder(), X, mode="rotate")
    with pytest.raises(ValueError, match="logits"):
        predict_tta(lambda t: gk.zeros(3), X)
