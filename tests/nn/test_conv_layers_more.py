"""nn.Conv3d and nn.ConvTranspose1d/2d/3d against PyTorch: outputs and every gradient with
the same weights, output_size=, PyTorch's default initialization, state_dicts both ways,
repr, and input errors."""

import math

import numpy as np
import pytest
import torch
from torch import nn as tnn

import gradkit as gk
from gradkit import nn
from gradkit.errors import ArgumentError, ShapeError
from nn.torch_ref import from_torch_state, module_gradcheck, random_array, run_pair

F64, F32 = np.float64, np.float32
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")

# (class name, args, kwargs, input shape)
LAYERS = [
    ("ConvTranspose2d", (3, 4, 3), dict(), (2, 3, 4, 5)),
    ("ConvTranspose2d", (3, 2, 3), dict(stride=2, padding=1, output_padding=1), (2, 3, 4, 4)),
    ("ConvTranspose2d", (4, 6, (2, 3)), dict(stride=(2, 1), groups=2, dilation=2), (1, 4, 3, 4)),
    ("ConvTranspose2d", (4, 4, 3), dict(groups=4, stride=3, output_padding=2, bias=False),
     (2, 4, 3, 3)),
    ("ConvTranspose2d", (3, 2, 3), dict(stride=2), (3, 4, 4)),
    ("ConvTranspose2d", (3, 2, 3), dict(stride=2), (0, 3, 4, 4)),
    ("ConvTranspose1d", (3, 4, 3), dict(stride=2, padding=1, output_padding=1), (2, 3, 5)),
    ("ConvTranspose1d", (4, 2, 2), dict(groups=2, dilation=3), (1, 4, 4)),
    ("ConvTranspose3d", (2, 3, 2), dict(stride=2, padding=(1, 0, 0)), (1, 2, 2, 3, 2)),
    ("ConvTranspose3d", (4, 2, 3), dict(groups=2, output_padding=(1, 0, 1), stride=2),
     (1, 4, 2, 2, 2)),
    ("Conv3d", (3, 4, 3), dict(), (2, 3, 4, 5, 4)),
    ("Conv3d", (2, 4, 3), dict(stride=2, padding=1, bias=False), (2, 2, 5, 4, 4)),
    ("Conv3d", (4, 6, (2, 3, 2)), dict(groups=2, dilation=(1, 1, 2), padding="same"),
     (1, 4, 3, 4, 5)),
    ("Conv3d", (2, 3, 3), dict(padding="valid"), (2, 3, 4, 4)),
    ("Conv3d", (2, 3, 3), dict(padding=1), (0, 2, 3, 3, 3)),
    ("Conv3d", (2, 3, 3), dict(padding=1, padding_mode="reflect"), (1, 2, 3, 4, 3)),
    ("Conv3d", (2, 3, 3), dict(padding=(1, 2, 0), padding_mode="circular"), (1, 2, 3, 4, 3)),
    ("Conv3d", (2, 3, 2), dict(padding="same", padding_mode="replicate"), (1, 2, 3, 3, 3)),
]


def _pair(name, args, kwargs):
    return getattr(nn, name)(*args, **kwargs), getattr(tnn, name)(*args, **kwargs)


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("name,args,kwargs,xs", LAYERS,
                         ids=[f"{c[0]}{i}" for i, c in enumerate(LAYERS)])
def test_layer_matches_torch(name, args, kwargs, xs, dtype):
    g, t = _pair(name, args, kwargs)
    run_pair(g, t, random_array(xs), dtype=dtype)


def test_non_contiguous_input():
    g, t = _pair("ConvTranspose2d", (3, 2, 3), dict(stride=2))
    run_pair(g, t, random_array((2, 5, 4, 3)).transpose(0, 3, 2, 1))


@pytest.mark.parametrize("output_size", [(10, 9), (12, 10), [2, 2, 11, 10], (11, 9)])
def test_output_size_matches_torch(output_size):
    g, t = _pair("ConvTranspose2d", (3, 2, 3), dict(stride=(3, 2), padding=1))
    t.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in g.state_dict().items()})
    x = random_array((2, 3, 4, 5), F32)
    out_t = t(torch.tensor(x), output_size=output_size)
    out_g = g(gk.tensor(x), output_size=output_size)
    np.testing.assert_allclose(out_g.numpy(), out_t.detach().numpy(), rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("output_size", [(9, 9), (13, 9), (10, 11), (2, 3, 9)])
def test_bad_output_size_raises_as_torch(output_size):
    g, t = _pair("ConvTranspose2d", (3, 2, 3), dict(stride=(3, 2), padding=1))
    x = random_array((2, 3, 4, 5), F32)
    with pytest.raises(ValueError):
        t(torch.tensor(x), output_size=output_size)
    with pytest.raises(ValueError, match=r"ConvTranspose2d\(3→2\)"):
        g(gk.tensor(x), output_size=output_size)


@pytest.mark.parametrize("name,args,kwargs,fan_in", [
    ("ConvTranspose2d", (4, 6, 3), dict(groups=2), 3 * 9),
    ("ConvTranspose1d", (8, 2, 5), dict(), 2 * 5),
    ("ConvTranspose3d", (2, 6, 2), dict(), 6 * 8),
    ("Conv3d", (4, 6, 3), dict(groups=2), 2 * 27),
])
def test_default_init_is_torch_s(name, args, kwargs, fan_in):
    gk.manual_seed(0)
    g, t = _pair(name, args, kwargs)
    assert g.weight.shape == tuple(t.weight.shape) and g.bias.shape == tuple(t.bias.shape)
    assert g.weight.dtype == np.float32
    bound = 1 / math.sqrt(fan_in)
    weight = g.weight.numpy()
    assert np.abs(g.bias.numpy()).max() <= bound
    assert 0.5 * bound < np.abs(weight).max() <= bound
    assert abs(weight.std() - bound / math.sqrt(3)) < 0.2 * bound


@pytest.mark.parametrize("name,args,kwargs", [c[:3] for c in LAYERS[:1] + LAYERS[6:11]])
def test_torch_state_dict_loads_unchanged(name, args, kwargs):
    g, t = _pair(name, args, kwargs)
    g.load_state_dict(from_torch_state(t))
    for key, value in t.state_dict().items():
        np.testing.assert_array_equal(g.state_dict()[key].numpy(), value.numpy())
    run_pair(g, t.float(), random_array((1,) + (args[0],) + (3,) * (len(g.kernel_size))),
             dtype=F32, copy_weights=False)


@pytest.mark.parametrize("name,args,kwargs", [
    ("ConvTranspose2d", (4, 6, 3), dict(groups=2)),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, dilation=2, output_padding=1,
                                        bias=False)),
    ("ConvTranspose1d", (4, 6, 3), dict(output_padding=1, stride=2)),
    ("ConvTranspose3d", (4, 6, (1, 2, 3)), dict()),
    ("Conv3d", (4, 6, 3), dict(padding="same", padding_mode="reflect")),
    ("Conv3d", (4, 6, 3), dict(stride=(1, 2, 1), padding=1, dilation=2, groups=2)),
])
def test_repr_matches_torch(name, args, kwargs):
    g, t = _pair(name, args, kwargs)
    assert repr(g) == repr(t)


@pytest.mark.parametrize("module,xs", [
    (nn.ConvTranspose2d(2, 3, 2, stride=2, padding=1, output_padding=1), (1, 2, 3, 2)),
    (nn.ConvTranspose1d(2, 4, 3, groups=2, dilation=2), (2, 2, 3)),
    (nn.ConvTranspose3d(2, 2, 2, stride=2), (1, 2, 2, 1, 2)),
    (nn.Conv3d(2, 2, 2, padding=1, stride=2), (1, 2, 3, 2, 3)),
])
def test_gradcheck(module, xs):
    module_gradcheck(module, xs)


@pytest.mark.parametrize("call,error,message", [
    (lambda: nn.Conv3d(3, 8, 3)(gk.randn(2, 4, 5, 5)), ShapeError,
     r"Conv3d\(3→8\): expected input \(N, 3, D, H, W\), got \(2, 4, 5, 5\)"),
    (lambda: nn.Conv3d(3, 8, 3)(gk.randn(2, 3, 2, 5, 5)), ShapeError,
     r"Conv3d\(3→8\): input \(2, 3, 2, 5, 5\) is smaller than the kernel"),
    (lambda: nn.ConvTranspose2d(3, 8, 3)(gk.randn(2, 4, 5, 5)), ShapeError,
     r"ConvTranspose2d\(3→8\): expected input \(N, 3, H, W\), got \(2, 4, 5, 5\)"),
    (lambda: nn.ConvTranspose1d(3, 8, 3)(gk.randn(3, 5, 5, 5)), ShapeError,
     r"ConvTranspose1d\(3→8\): expected input \(N, 3, L\)"),
    (lambda: nn.ConvTranspose3d(3, 8, 3, stride=2, output_padding=2)(gk.randn(1, 3, 2, 2, 2)),
     ArgumentError,
     r"output padding must be smaller than either stride or dilation"),
])
def test_bad_input_raises_runtime_error_naming_the_layer(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("make", [
    lambda m: m.ConvTranspose2d(2, 3, 3, padding_mode="reflect"),
    lambda m: m.ConvTranspose2d(2, 3, 3, groups=2),
    lambda m: m.Conv3d(2, 3, 3, padding_mode="mirror"),
    lambda m: m.Conv3d(2, 3, 3, stride=2, padding="same"),
])
def test_bad_construction_raises_value_error_as_torch(make):
    for m in (tnn, nn):
        with pytest.raises(ValueError):
            make(m)


def test_train_step_reduces_the_loss():
    """A tiny decoder (ConvTranspose2d → Conv3d on a depth of 1) learns: the layers compose."""
    gk.manual_seed(0)
    up = nn.ConvTranspose2d(2, 3, 4, stride=2, padding=1)
    conv = nn.Conv3d(3, 1, (1, 3, 3), padding=(0, 1, 1))
    params = list(up.parameters()) + list(conv.parameters())
    x, target = gk.randn(4, 2, 3, 3), gk.randn(4, 1, 1, 6, 6)
    losses = []
    for _ in range(5):
        loss = ((conv(up(x).unsqueeze(2)) - target) ** 2).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with gk.no_grad():
            for p in params:
                p -= 0.1 * p.grad
        losses.append(loss.item())
    assert losses[-1] < losses[0]
