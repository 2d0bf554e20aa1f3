"""Dropout1d/2d/3d, AlphaDropout, FeatureAlphaDropout (layers and F.*): the masks' structure
and statistics (randomness cannot match PyTorch bit for bit), eval identity, p = 0 and p = 1,
gradients equal to the mask, PyTorch's errors and warnings."""

import numpy as np
import pytest
import torch

import gradkit as gk
import gradkit.nn.functional as F
from gradkit import nn
from gradkit.errors import ShapeError
from nn.torch_ref import module_gradcheck

TF = torch.nn.functional


def kept(out):
    return out.numpy() != 0


@pytest.mark.filterwarnings("ignore:dropout2d")
@pytest.mark.parametrize("dtype", [gk.float32, gk.float64])
@pytest.mark.parametrize("layer, shape", [
    (nn.Dropout1d, (8, 6, 5)), (nn.Dropout1d, (6, 5)), (nn.Dropout2d, (8, 6, 4, 3)),
    (nn.Dropout2d, (6, 4, 3)), (nn.Dropout3d, (4, 6, 2, 3, 2)), (nn.Dropout3d, (6, 2, 3, 2)),
])
def test_channel_dropout_masks_whole_channels(dtype, layer, shape):
    gk.manual_seed(0)
    x = gk.ones(*shape, dtype=dtype, requires_grad=True)
    unbatched = layer is not nn.Dropout2d and len(shape) == {nn.Dropout1d: 2,
                                                             nn.Dropout3d: 4}[layer]
    out = layer(p=0.4)(x)
    assert out.dtype == dtype and out.shape == shape
    channels = out.numpy().reshape((1,) * unbatched + shape[:2 - unbatched] + (-1,))
    assert (channels == channels[..., :1]).all(), "a channel is not all kept or all dropped"
    np.testing.assert_allclose(np.unique(channels), [0, 1 / 0.6], rtol=1e-6)
    out.backward(gk.ones(*shape, dtype=dtype))
    np.testing.assert_array_equal(x.grad.numpy(), out.numpy())
    assert x.grad.dtype == dtype


def test_channel_dropout_preserves_mean_and_drop_rate():
    gk.manual_seed(1)
    out = F.dropout2d(gk.ones(400, 50, 2, 2), p=0.3)
    assert abs(float(out.numpy().mean()) - 1) < 0.03
    assert abs(1 - kept(out).mean() - 0.3) < 0.01
    assert torch.allclose(TF.dropout2d(torch.ones(4, 3, 2, 2), 0.0), torch.ones(4, 3, 2, 2))


@pytest.mark.parametrize("fn, shape", [(F.dropout1d, (3, 4, 5)), (F.dropout2d, (3, 4, 2, 2)),
                                       (F.dropout3d, (2, 3, 2, 2, 2)),
                                       (F.alpha_dropout, (3, 4)),
                                       (F.feature_alpha_dropout, (3, 4, 2))])
def test_eval_p0_p1_and_empty(fn, shape):
    x = gk.randn(*shape)
    assert fn(x, 0.5, training=False) is x
    assert fn(x, 0.0, training=True) is x
    zeros = fn(x, 1.0, training=True)
    np.testing.assert_array_equal(zeros.numpy(), 0)
    assert zeros.dtype == np.float32
    empty = gk.zeros(0, *shape[1:])
    assert fn(empty, 0.5, training=True).shape == empty.shape
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        fn(x, 1.5)


def test_alpha_dropout_keeps_mean_and_variance():
    gk.manual_seed(2)
    x = gk.randn(200000)
    for p in (0.2, 0.5):
        out = F.alpha_dropout(x, p, training=True).numpy()
        assert abs(out.mean()) < 0.02 and abs(out.var() - 1) < 0.02
    layer = nn.AlphaDropout(0.5)
    layer.eval()
    assert layer(x) is x and repr(layer) == repr(torch.nn.AlphaDropout(0.5))


@pytest.mark.parametrize("value", [0.0, 1.0, -2.5])
@pytest.mark.parametrize("fn, tfn, shape", [
    (F.alpha_dropout, TF.alpha_dropout, (4000,)),
    (F.feature_alpha_dropout, TF.feature_alpha_dropout, (40, 100, 3)),
])
def test_alpha_dropout_values_match_torch(value, fn, tfn, shape):
    """On a constant input there are two output values, kept and dropped: PyTorch's two."""
    gk.manual_seed(3)
    x = gk.full(shape, value, dtype=gk.float64, requires_grad=True)
    out = fn(x, 0.3, training=True)
    theirs = np.unique(tfn(torch.full(shape, value, dtype=torch.float64), 0.3, True).numpy())
    ours = np.unique(out.numpy())
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    a = 1 / np.sqrt((1.7580993408473766 ** 2 * 0.3 + 1) * 0.7)
    dropped = np.isclose(out.numpy(), a * 1.7580993408473766 * (0.3 - 1), rtol=1e-12)
    assert abs(dropped.mean() - 0.3) < 0.05
    out.backward(gk.ones(*shape, dtype=gk.float64))
    np.testing.assert_allclose(x.grad.numpy(), np.where(dropped, 0.0, a), rtol=1e-12)
    if fn is F.feature_alpha_dropout:
        assert (out.numpy() == out.numpy()[..., :1]).all()


def test_layers_repr_errors_and_warnings():
    for layer, tlayer in [(nn.Dropout1d, torch.nn.Dropout1d), (nn.Dropout2d, torch.nn.Dropout2d),
                          (nn.Dropout3d, torch.nn.Dropout3d),
                          (nn.FeatureAlphaDropout, torch.nn.FeatureAlphaDropout)]:
        assert repr(layer(0.2)) == repr(tlayer(0.2))
        with pytest.raises(ValueError, match="between 0 and 1"):
            layer(-0.1)
    with pytest.raises(ShapeError, match=r"dropout1d: expected input \(N, C, L\) or \(C, L\), "
                                         r"got \(2, 3, 4, 5\)"):
        nn.Dropout1d()(gk.zeros(2, 3, 4, 5))
    with pytest.warns(UserWarning, match="3D input to dropout2d"):
        F.dropout2d(gk.ones(2, 3, 4))
    with pytest.warns(UserWarning, match="5-D input to dropout2d"):
        F.dropout2d(gk.ones(2, 3, 4, 1, 1))
    with pytest.warns(UserWarning, match="3-D input to dropout3d"):
        F.dropout3d(gk.ones(2, 3, 4))
    with pytest.raises(ShapeError, match="feature dropout"):
        F.feature_alpha_dropout(gk.ones(3), 0.5, True)
    with pytest.raises(TypeError, match="Dropout2d"):
        nn.Dropout2d()([1.0])


@pytest.mark.parametrize("layer, shape", [(nn.Dropout2d(0.3), (2, 3, 2, 2)),
                                          (nn.AlphaDropout(0.3), (4, 5)),
                                          (nn.FeatureAlphaDropout(0.3), (2, 3, 4))])
def test_dropout_variants_gradcheck(layer, shape):
    module_gradcheck(layer, shape, reseed=4)
