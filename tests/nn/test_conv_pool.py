"""Conv1d/Conv2d and the pooling layers against PyTorch's modules (same weights): forward,
input and parameter gradients across configurations; gradcheck; errors naming the layer."""

import numpy as np
import pytest
import torch

import gradkit as gk
from gradkit import nn
from nn.torch_ref import module_gradcheck, random_array, run_pair

F64, F32 = np.float64, np.float32

CONV2D = [  # (constructor args, input shape)
    (dict(in_channels=3, out_channels=4, kernel_size=3), (2, 3, 7, 6)),
    (dict(in_channels=3, out_channels=4, kernel_size=3, padding=1), (1, 3, 5, 5)),
    (dict(in_channels=2, out_channels=3, kernel_size=(2, 3), stride=2, padding=2), (2, 2, 7, 9)),
    (dict(in_channels=2, out_channels=2, kernel_size=3, stride=3, bias=False), (2, 2, 8, 10)),
    (dict(in_channels=3, out_channels=2, kernel_size=3, padding="same", dilation=2), (2, 3, 7, 8)),
    (dict(in_channels=3, out_channels=2, kernel_size=(4, 2), padding="same"), (1, 3, 6, 5)),
    (dict(in_channels=4, out_channels=6, kernel_size=3, groups=2, padding=1), (2, 4, 5, 6)),
    (dict(in_channels=4, out_channels=4, kernel_size=3, groups=4, stride=2), (2, 4, 7, 7)),
    (dict(in_channels=2, out_channels=3, kernel_size=3, padding="valid"), (2, 2, 5, 4)),
    (dict(in_channels=2, out_channels=3, kernel_size=3, padding=1, padding_mode="reflect"),
     (2, 2, 5, 4)),
    (dict(in_channels=2, out_channels=3, kernel_size=3, padding=(1, 2),
          padding_mode="replicate"), (1, 2, 4, 5)),
    (dict(in_channels=2, out_channels=3, kernel_size=3, padding="same",
          padding_mode="circular"), (2, 2, 5, 4)),
    (dict(in_channels=3, out_channels=4, kernel_size=3, padding=1), (3, 6, 5)),  # unbatched
]

CONV1D = [
    (dict(in_channels=3, out_channels=4, kernel_size=3), (2, 3, 9)),
    (dict(in_channels=2, out_channels=4, kernel_size=4, stride=2, padding=2, dilation=2),
     (1, 2, 11)),
    (dict(in_channels=4, out_channels=2, kernel_size=3, groups=2, padding="same"), (2, 4, 7)),
    (dict(in_channels=2, out_channels=2, kernel_size=3, padding=1, padding_mode="reflect",
          bias=False), (2, 2, 6)),
    (dict(in_channels=3, out_channels=4, kernel_size=2), (3, 5)),  # unbatched
]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # torch's note
@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("args, x_shape", CONV2D, ids=str)
def test_conv2d_matches_torch(args, x_shape, dtype):
    g, t = nn.Conv2d(**args), torch.nn.Conv2d(**args)
    run_pair(g, t, random_array(x_shape), dtype)
    assert repr(g) == repr(t)


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("args, x_shape", CONV1D, ids=str)
def test_conv1d_matches_torch(args, x_shape, dtype):
    g, t = nn.Conv1d(**args), torch.nn.Conv1d(**args)
    run_pair(g, t, random_array(x_shape), dtype)
    assert repr(g) == repr(t)


@pytest.mark.parametrize("args, x_shape", [CONV2D[2], CONV2D[6], CONV2D[9], CONV1D[1]], ids=str)
def test_conv_gradcheck(args, x_shape):
    cls = nn.Conv2d if len(x_shape) == 4 else nn.Conv1d
    module_gradcheck(cls(**args), x_shape)


def test_conv_errors_name_layer_and_shapes():
    with pytest.raises(ValueError, match=r"Conv2d\(3→16\): expected input \(N, 3, H, W\), got "
                                         r"\(8, 1, 28, 28\)"):
        nn.Conv2d(3, 16, 5)(gk.zeros(8, 1, 28, 28))
    with pytest.raises(ValueError, match=r"Conv1d\(2→4\): expected input \(N, 2, L\), got "
                                         r"\(8, 2, 3, 3\)"):
        nn.Conv1d(2, 4, 3)(gk.zeros(8, 2, 3, 3))
    with pytest.raises(ValueError, match=r"Conv2d\(3→16\): input \(1, 3, 4, 4\) is smaller "
                                         r"than the kernel"):
        nn.Conv2d(3, 16, 5)(gk.zeros(1, 3, 4, 4))
    with pytest.raises(ValueError, match="strided convolutions"):
        nn.Conv2d(3, 16, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 16, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(3, 16, 3, padding_mode="mirror")


POOLS = [  # (gradkit layer, torch layer, input shape)
    (nn.MaxPool2d(2), torch.nn.MaxPool2d(2), (2, 3, 6, 8)),
    (nn.MaxPool2d(3, 2, 1), torch.nn.MaxPool2d(3, 2, 1), (1, 2, 7, 5)),
    (nn.MaxPool2d((2, 3), (1, 2)), torch.nn.MaxPool2d((2, 3), (1, 2)), (2, 2, 5, 7)),
    (nn.MaxPool2d(2, ceil_mode=True), torch.nn.MaxPool2d(2, ceil_mode=True), (2, 2, 5, 7)),
    (nn.MaxPool2d(2, dilation=2), torch.nn.MaxPool2d(2, dilation=2), (1, 2, 6, 6)),
    (nn.MaxPool2d(2), torch.nn.MaxPool2d(2), (3, 6, 8)),
    (nn.MaxPool1d(2), torch.nn.MaxPool1d(2), (2, 3, 8)),
    (nn.MaxPool1d(3, 2, 1), torch.nn.MaxPool1d(3, 2, 1), (2, 3, 9)),
    (nn.AvgPool1d(3, 2, 1), torch.nn.AvgPool1d(3, 2, 1), (2, 3, 9)),
    (nn.AvgPool2d(2), torch.nn.AvgPool2d(2), (2, 3, 6, 8)),
    (nn.AvgPool2d(3, 2, 1), torch.nn.AvgPool2d(3, 2, 1), (1, 2, 7, 5)),
    (nn.AvgPool2d(3, 2, 1, count_include_pad=False),
     torch.nn.AvgPool2d(3, 2, 1, count_include_pad=False), (2, 2, 7, 6)),
    (nn.AvgPool2d(2, divisor_override=3), torch.nn.AvgPool2d(2, divisor_override=3),
     (1, 2, 4, 4)),
    (nn.AdaptiveAvgPool2d(1), torch.nn.AdaptiveAvgPool2d(1), (2, 3, 5, 7)),
    (nn.AdaptiveAvgPool2d((3, 2)), torch.nn.AdaptiveAvgPool2d((3, 2)), (2, 3, 7, 5)),
    (nn.AdaptiveAvgPool2d((None, 2)), torch.nn.AdaptiveAvgPool2d((None, 2)), (1, 2, 4, 6)),
]


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("pair", POOLS, ids=lambda p: f"{p[0]!r}-{p[2]}")
def test_pooling_matches_torch(pair, dtype):
    g, t, x_shape = pair
    run_pair(g, t, random_array(x_shape), dtype)
    assert repr(g) == repr(t)


@pytest.mark.parametrize("pair", [POOLS[1], POOLS[7], POOLS[11], POOLS[14]],
                         ids=lambda p: repr(p[0]))
def test_pooling_gradcheck(pair):
    module_gradcheck(pair[0], pair[2])


def test_max_pool_return_indices_and_errors():
    x = random_array((1, 2, 4, 4))
    out, idx = nn.MaxPool2d(2, return_indices=True)(gk.tensor(x))
    out_t, idx_t = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(idx.numpy(), idx_t.numpy())
    np.testing.assert_array_equal(out.numpy(), out_t.numpy())
    with pytest.raises(ValueError, match=r"MaxPool2d\(kernel_size=2, .*\): expected input "
                                         r"\(N, C, H, W\) or \(C, H, W\), got \(8, 28\)"):
        nn.MaxPool2d(2)(gk.zeros(8, 28))
    with pytest.raises(ValueError, match=r"AvgPool2d\(.*\): expected input"):
        nn.AvgPool2d(2)(gk.zeros(2, 3, 4, 4, 4))


def test_lenet_like_stack_matches_torch():
    torch.manual_seed(0)
    t = torch.nn.Sequential(torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.BatchNorm2d(6),
                            torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Conv2d(6, 16, 5),
                            torch.nn.ReLU(), torch.nn.AvgPool2d(2), torch.nn.Flatten(),
                            torch.nn.Linear(16 * 5 * 5, 10))
    g = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.BatchNorm2d(6), nn.ReLU(),
                      nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.AvgPool2d(2),
                      nn.Flatten(), nn.Linear(16 * 5 * 5, 10))
    g.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    x = random_array((3, 1, 28, 28))
    run_pair(g, t, x, F32, copy_weights=False)
    run_pair(g, t, x, F32, train=False, copy_weights=False)
