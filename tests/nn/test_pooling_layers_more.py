"""The new pooling and resampling layers against torch.nn: adaptive pools, 3-d pools, max
unpooling, Upsample and its 2-d variants, PixelShuffle/PixelUnshuffle. Outputs and input
gradients in float64 and float32, reprs, batch of 1, unbatched input, gradcheck, and the
errors that name the layer and the shapes."""

import numpy as np
import pytest
import torch

import gradkit as gk
from gradkit import nn
from nn.torch_ref import module_gradcheck, random_array, run_pair

F64, F32 = np.float64, np.float32

LAYERS = [  # (layer name, constructor arguments, input shape)
    ("AdaptiveAvgPool1d", (3,), (2, 3, 10)),
    ("AdaptiveAvgPool1d", (4,), (3, 7)),
    ("AdaptiveAvgPool3d", ((2, 3, 4),), (2, 2, 5, 6, 7)),
    ("AdaptiveAvgPool3d", (1,), (2, 3, 4, 5)),
    ("AdaptiveMaxPool1d", (3,), (2, 3, 10)),
    ("AdaptiveMaxPool2d", ((3, None),), (2, 3, 7, 5)),
    ("AdaptiveMaxPool2d", (2,), (1, 2, 5, 5)),
    ("MaxPool3d", (2,), (2, 2, 4, 6, 5)),
    ("MaxPool3d", (3, 2, 1, 1, False, True), (2, 5, 6, 7)),
    ("AvgPool3d", (2,), (1, 2, 4, 6, 5)),
    ("AvgPool3d", ((3, 2, 3), 2, 1, True, False), (2, 2, 5, 6, 7)),
    ("AvgPool3d", (2, 1, 0, False, True, 3), (2, 4, 4, 4)),
    ("Upsample", (None, 2), (2, 3, 4, 5)),
    ("Upsample", ((5, 7), None, "bilinear"), (2, 3, 4, 5)),
    ("Upsample", (None, 1.5, "bilinear", True), (2, 3, 4, 5)),
    ("Upsample", (None, (2.0, 1.5), "bicubic"), (1, 2, 4, 5)),
    ("Upsample", (7, None, "linear"), (2, 3, 4)),
    ("Upsample", (None, 2, "trilinear"), (1, 2, 2, 3, 2)),
    ("Upsample", (None, 1.7, "nearest-exact", None, True), (2, 2, 5, 4)),
    ("UpsamplingNearest2d", (None, 3), (2, 3, 4, 5)),
    ("UpsamplingNearest2d", ((6, 3),), (1, 2, 4, 5)),
    ("UpsamplingBilinear2d", (None, 2), (2, 3, 4, 5)),
    ("UpsamplingBilinear2d", ((7, 3),), (1, 2, 4, 5)),
    ("PixelShuffle", (2,), (2, 8, 3, 4)),
    ("PixelShuffle", (3,), (9, 2, 2)),
    ("PixelUnshuffle", (2,), (2, 2, 4, 6)),
]
IDS = [f"{c[0]}-{i}" for i, c in enumerate(LAYERS)]


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("name,args,shape", LAYERS, ids=IDS)
def test_layer_matches_torch(name, args, shape, dtype):
    layer, torch_layer = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(layer) == repr(torch_layer)
    run_pair(layer, torch_layer, random_array(shape, dtype), dtype=dtype)


@pytest.mark.parametrize("name,args,shape", LAYERS[::3], ids=IDS[::3])
def test_layer_gradcheck(name, args, shape):
    module_gradcheck(getattr(nn, name)(*args), shape)


@pytest.mark.parametrize("name,args,shape", [
    ("AdaptiveMaxPool2d", ((3, 2), True), (2, 3, 7, 5)),
    ("AdaptiveMaxPool1d", (4, True), (3, 9)),
    ("MaxPool3d", (3, 2, 1, 1, True, False), (1, 2, 5, 6, 7)),
])
def test_return_indices(name, args, shape):
    x = np.random.default_rng(0).integers(0, 4, size=shape).astype(F64)
    out, idx = getattr(nn, name)(*args)(gk.tensor(x))
    t_out, t_idx = getattr(torch.nn, name)(*args)(torch.tensor(x))
    np.testing.assert_array_equal(out.numpy(), t_out.numpy())
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())


@pytest.mark.parametrize("dims,args,shape,size", [
    (2, (2,), (2, 3, 6, 8), None),
    (2, (3, 2, 1), (2, 2, 7, 7), None),
    (2, (2,), (1, 2, 7, 9), (1, 2, 7, 9)),
    (1, (3, 2, 1), (2, 3, 11), None),
    (1, (2,), (3, 9), [9]),
])
def test_max_unpool_layers_match_torch(dims, args, shape, size):
    pool_name, unpool_name = f"MaxPool{dims}d", f"MaxUnpool{dims}d"
    x = random_array(shape)
    _, t_idx = getattr(torch.nn, pool_name)(*args, return_indices=True)(torch.tensor(x))
    unpool, t_unpool = getattr(nn, unpool_name)(*args), getattr(torch.nn, unpool_name)(*args)
    assert repr(unpool) == repr(t_unpool)
    values = random_array(tuple(t_idx.shape), seed=1)
    v, vt = gk.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    out, t_out = unpool(v, gk.tensor(t_idx.numpy()), size), t_unpool(vt, t_idx, size)
    np.testing.assert_array_equal(out.numpy(), t_out.detach().numpy())
    g = random_array(out.shape, seed=2)
    out.backward(gk.tensor(g))
    t_out.backward(torch.tensor(g))
    np.testing.assert_array_equal(v.grad.numpy(), vt.grad.numpy())


def test_non_contiguous_input():
    a = random_array((2, 3, 6, 5, 4))
    layer, torch_layer = nn.MaxPool3d(2, 1), torch.nn.MaxPool3d(2, 1)
    out = layer(gk.tensor(a).transpose(2, 4))
    expected = torch_layer(torch.tensor(a).transpose(2, 4))
    np.testing.assert_allclose(out.numpy(), expected.numpy())
    up = nn.Upsample(scale_factor=2, mode="bilinear")(gk.tensor(a[:, :, 0]).transpose(2, 3))
    t_up = torch.nn.Upsample(scale_factor=2, mode="bilinear")(
        torch.tensor(a[:, :, 0]).transpose(2, 3))
    np.testing.assert_allclose(up.numpy(), t_up.numpy(), rtol=1e-12)


@pytest.mark.parametrize("layer,shape,message", [
    (nn.MaxPool3d(2), (2, 4, 4), r"MaxPool3d\(kernel_size=2.*\): expected input \(N, C, D, H, W\)"
                                 r" or \(C, D, H, W\), got \(2, 4, 4\)"),
    (nn.AvgPool3d(2), (1, 1, 1, 4, 4, 4), r"AvgPool3d\(kernel_size=2, stride=2, padding=0\)"),
    (nn.AdaptiveMaxPool2d(2), (4, 4), r"AdaptiveMaxPool2d\(output_size=2\): .* got \(4, 4\)"),
    (nn.AdaptiveAvgPool1d(2), (1, 2, 4, 4), r"AdaptiveAvgPool1d\(output_size=2\)"),
    (nn.PixelShuffle(2), (1, 6, 2, 2), r"divisible by upscale_factor"),
    (nn.Upsample(scale_factor=2, mode="bilinear"), (2, 3, 4), r"bilinear mode needs 4D"),
])
def test_bad_input_names_the_layer(layer, shape, message):
    with pytest.raises((RuntimeError, NotImplementedError), match=message):
        layer(gk.zeros(*shape))


def test_a_list_input_is_refused():
    for layer in (nn.Upsample(scale_factor=2), nn.PixelShuffle(2), nn.AdaptiveMaxPool1d(2)):
        with pytest.raises(TypeError, match="expected a Tensor"):
            layer([[1.0]])


def test_upsample_stores_scale_factor_as_float():
    assert nn.Upsample(scale_factor=2).scale_factor == 2.0
    assert nn.Upsample(scale_factor=(2, 3)).scale_factor == (2.0, 3.0)
    assert nn.UpsamplingBilinear2d(scale_factor=2).align_corners is True
