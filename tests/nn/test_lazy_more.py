"""LazyConv3d, LazyConvTranspose1d/2d/3d, LazyBatchNorm3d and LazyInstanceNorm1d/2d/3d against
PyTorch's lazy layers: shapes of the materialized parameters, outputs and gradients on the same
weights, running statistics, the class switch, defaults, and bad first inputs."""

import numpy as np
import pytest
import torch

import gradkit as gk
from gradkit import nn


def torch_state(module):
    return {k: torch.from_numpy(np.array(v.numpy())) for k, v in module.state_dict().items()}


CONVS = [
    (nn.LazyConv3d, torch.nn.LazyConv3d, (2, 4, 5, 4, 6), dict(kernel_size=3, padding=1,
                                                               groups=2)),
    (nn.LazyConv3d, torch.nn.LazyConv3d, (3, 4, 5, 4), dict(kernel_size=(2, 1, 3), stride=2)),
    (nn.LazyConvTranspose1d, torch.nn.LazyConvTranspose1d, (2, 4, 7),
     dict(kernel_size=3, stride=2, output_padding=1)),
    (nn.LazyConvTranspose2d, torch.nn.LazyConvTranspose2d, (2, 4, 5, 6),
     dict(kernel_size=4, stride=2, padding=1, groups=2)),
    (nn.LazyConvTranspose2d, torch.nn.LazyConvTranspose2d, (4, 3, 5), dict(kernel_size=3,
                                                                           dilation=2)),
    (nn.LazyConvTranspose3d, torch.nn.LazyConvTranspose3d, (1, 3, 3, 4, 3),
     dict(kernel_size=3, stride=(1, 2, 2), bias=False)),
]


@pytest.mark.parametrize("lazy, torch_lazy, shape, kwargs", CONVS)
def test_lazy_convolutions_match_pytorch(lazy, torch_lazy, shape, kwargs):
    x = np.random.default_rng(0).normal(size=shape)
    g_layer = lazy(6, dtype=gk.float64, **kwargs)
    t_layer = torch_lazy(6, dtype=torch.float64, **kwargs)
    assert isinstance(g_layer.weight, nn.UninitializedParameter)
    gx, tx = gk.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    g_layer.initialize_parameters(gx)
    t_layer.initialize_parameters(tx)
    assert g_layer.weight.shape == tuple(t_layer.weight.shape)
    t_layer.load_state_dict(torch_state(g_layer))
    g_out, t_out = g_layer(gx), t_layer(tx)
    np.testing.assert_allclose(g_out.numpy(), t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    g_out.sum().backward()
    t_out.sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g_layer.weight.grad.numpy(), t_layer.weight.grad.numpy(),
                               rtol=1e-10, atol=1e-12)
    assert g_layer.in_channels == t_layer.in_channels
    assert type(g_layer).__name__ == type(t_layer).__name__


def test_lazy_conv_transpose_first_call_switches_class_and_keeps_objects():
    layer = nn.LazyConvTranspose2d(5, 3, stride=2)
    weight = layer.weight
    out = layer(gk.randn(2, 3, 4, 4))
    assert type(layer) is nn.ConvTranspose2d and layer.weight is weight
    assert out.shape == (2, 5, 9, 9) and out.dtype == np.float32
    assert layer.weight.shape == (3, 5, 3, 3)
    assert layer(gk.randn(1, 3, 4, 4), output_size=(10, 10)).shape == (1, 5, 10, 10)


def test_lazy_convolutions_refuse_bad_input():
    layer = nn.LazyConv3d(4, 3)
    with pytest.raises(ValueError, match=r"LazyConv3d\(out_channels=4"):
        layer(gk.zeros(5, 5, 5))
    assert layer.has_uninitialized_params()
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.LazyConvTranspose1d(4, 3, groups=2)(gk.zeros(1, 3, 5))


NORMS = [
    (nn.LazyBatchNorm3d, torch.nn.LazyBatchNorm3d, (4, 3, 2, 3, 2)),
    (nn.LazyInstanceNorm1d, torch.nn.LazyInstanceNorm1d, (2, 3, 7)),
    (nn.LazyInstanceNorm2d, torch.nn.LazyInstanceNorm2d, (2, 3, 4, 5)),
    (nn.LazyInstanceNorm3d, torch.nn.LazyInstanceNorm3d, (2, 3, 3, 2, 4)),
]


@pytest.mark.parametrize("lazy, torch_lazy, shape", NORMS)
def test_lazy_norms_match_pytorch_including_running_statistics(lazy, torch_lazy, shape):
    x = np.random.default_rng(1).normal(2.0, 3.0, size=shape)
    g_layer, t_layer = lazy(dtype=gk.float64), torch_lazy(dtype=torch.float64)
    assert (g_layer.affine, g_layer.track_running_stats) == (t_layer.affine,
                                                            t_layer.track_running_stats)
    assert isinstance(g_layer.running_mean, nn.UninitializedBuffer)
    gx, tx = gk.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    g_out, t_out = g_layer(gx), t_layer(tx)
    np.testing.assert_allclose(g_out.numpy(), t_out.detach().numpy(), rtol=1e-8, atol=1e-10)
    g_out.backward(gk.tensor(np.cos(x)))
    t_out.backward(torch.tensor(np.cos(x)))
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-8, atol=1e-10)
    for key, value in t_layer.state_dict().items():
        np.testing.assert_allclose(g_layer.state_dict()[key].numpy(), value.numpy(),
                                   rtol=1e-10, err_msg=key)
    assert g_layer.num_features == t_layer.num_features == 3
    assert type(g_layer).__name__ == type(t_layer).__name__
    g_layer.eval()
    t_layer.eval()
    np.testing.assert_allclose(g_layer(gk.tensor(x)).numpy(),
                               t_layer(torch.tensor(x)).detach().numpy(), rtol=1e-8,
                               atol=1e-10)


def test_lazy_instance_norm_without_affine_and_unbatched():
    layer = nn.LazyInstanceNorm2d(affine=False, track_running_stats=False)
    assert not layer.has_uninitialized_params()
    x = np.random.default_rng(2).normal(size=(3, 4, 5))
    out = layer(gk.tensor(x))
    want = torch.nn.functional.instance_norm(torch.tensor(x)[None])[0]
    np.testing.assert_allclose(out.numpy(), want.numpy(), rtol=1e-8, atol=1e-10)
    assert type(layer) is nn.InstanceNorm2d and layer.num_features == 3
    unbatched = nn.LazyInstanceNorm1d()
    assert unbatched(gk.randn(4, 6)).shape == (4, 6) and unbatched.weight.shape == (4,)


def test_lazy_norms_refuse_bad_input_and_take_bias_false():
    with pytest.raises(ValueError, match="LazyBatchNorm3d"):
        nn.LazyBatchNorm3d()(gk.zeros(2, 3, 4, 4))
    with pytest.raises(ValueError, match="LazyInstanceNorm3d"):
        nn.LazyInstanceNorm3d()(gk.zeros(2, 3))
    layer = nn.LazyInstanceNorm1d(bias=False)
    layer(gk.randn(2, 3, 4))
    assert layer.bias is None and layer.weight.shape == (3,)
