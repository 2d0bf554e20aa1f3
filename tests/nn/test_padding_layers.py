"""The padding layers against torch.nn: outputs and input gradients in float64 and float32,
int and tuple padding (negative widths crop), batched and unbatched input, reprs, gradcheck,
and the errors for input of the wrong rank."""

import numpy as np
import pytest
import torch

import gradkit as gk
from gradkit import nn
from nn.torch_ref import module_gradcheck, random_array, run_pair

F64, F32 = np.float64, np.float32

CASES = [  # (layer name, constructor arguments, input shape)
    ("ZeroPad1d", (2,), (2, 3, 5)),
    ("ZeroPad1d", ((1, 3),), (3, 5)),
    ("ZeroPad2d", (1,), (2, 3, 4, 5)),
    ("ZeroPad2d", ((1, 0, 2, -1),), (3, 4, 5)),
    ("ZeroPad3d", ((1, 0, 2, 1, 0, 1),), (1, 2, 3, 4, 2)),
    ("ConstantPad1d", (2, 3.5), (2, 3, 5)),
    ("ConstantPad2d", ((1, 2, 0, 1), -1.0), (2, 2, 3, 4)),
    ("ConstantPad2d", (1, 2.0), (1, 1, 2, 5, 3)),
    ("ConstantPad3d", (1, 0.5), (2, 3, 2, 4)),
    ("ReflectionPad1d", (2,), (2, 3, 5)),
    ("ReflectionPad1d", ((0, 3),), (3, 5)),
    ("ReflectionPad2d", ((1, 2, 3, 0),), (2, 2, 4, 5)),
    ("ReflectionPad2d", (1,), (2, 3, 4)),
    ("ReflectionPad3d", (1,), (1, 2, 3, 4, 2)),
    ("ReplicationPad1d", (3,), (2, 3, 4)),
    ("ReplicationPad2d", ((2, 0, 1, 3),), (1, 2, 3, 4)),
    ("ReplicationPad2d", (-1,), (2, 4, 5)),
    ("ReplicationPad3d", ((1, 0, 0, 2, 1, 1),), (2, 3, 2, 3)),
    ("CircularPad1d", (2,), (2, 3, 5)),
    ("CircularPad2d", ((1, 2, 3, 0),), (2, 2, 4, 5)),
    ("CircularPad2d", (1,), (2, 3, 4)),
    ("CircularPad3d", (1,), (1, 2, 3, 4, 2)),
]
IDS = [f"{c[0]}-{i}" for i, c in enumerate(CASES)]


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("name,args,shape", CASES, ids=IDS)
def test_padding_layer_matches_torch(name, args, shape, dtype):
    layer, torch_layer = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(layer) == repr(torch_layer)
    assert layer.padding == torch_layer.padding
    run_pair(layer, torch_layer, random_array(shape, dtype), dtype=dtype)


@pytest.mark.parametrize("name,args,shape", CASES[::4], ids=IDS[::4])
def test_padding_layer_gradcheck(name, args, shape):
    module_gradcheck(getattr(nn, name)(*args), shape)


def test_non_contiguous_input():
    a = random_array((2, 3, 5, 4))
    out = nn.ReflectionPad2d((1, 2, 0, 1))(gk.tensor(a).transpose(2, 3))
    expected = torch.nn.ReflectionPad2d((1, 2, 0, 1))(torch.tensor(a).transpose(2, 3))
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-12)


def test_zero_pad_is_a_constant_pad():
    assert isinstance(nn.ZeroPad2d(1), nn.ConstantPad2d)
    assert nn.ZeroPad1d(1).value == 0.0


@pytest.mark.parametrize("name,args,shape,error", [
    ("ReflectionPad2d", (1,), (3, 3), NotImplementedError),
    ("ReflectionPad2d", (1,), (1, 1, 1, 3, 3), NotImplementedError),
    ("ReplicationPad1d", (1,), (2, 2, 2, 3), NotImplementedError),
    ("CircularPad2d", (1,), (3, 3), ValueError),
    ("ConstantPad2d", (1, 2.0), (3,), RuntimeError),
    ("ReflectionPad1d", (3,), (1, 3), RuntimeError),
])
def test_bad_input_raises_like_torch(name, args, shape, error):
    with pytest.raises(error):
        getattr(torch.nn, name)(*args)(torch.zeros(shape))
    with pytest.raises(error, match=name):
        getattr(nn, name)(*args)(gk.zeros(*shape))


def test_a_list_input_is_refused():
    with pytest.raises(TypeError, match=r"ZeroPad2d\(\(1, 1, 1, 1\)\): expected a Tensor"):
        nn.ZeroPad2d(1)([[1.0]])
