"""Layers under bad input: a non-Tensor is refused with a TypeError naming the layer and the
fix (PyTorch refuses it too), and zero-size layers behave as PyTorch's do."""

import warnings

import numpy as np
import pytest
import torch

import gradkit as gk
from gradkit import nn
from nn.torch_ref import run_pair

LAYERS = [
    (nn.Linear(3, 4), "Linear(3→4)", [[1.0, 2.0, 3.0]]),
    (nn.DropConnect(3, 4), "DropConnect(3→4)", [[1.0, 2.0, 3.0]]),
    (nn.Maxout(3, 2), "Maxout(3→2, pieces=2)", [[1.0, 2.0, 3.0]]),
    (nn.Conv1d(1, 2, 3), "Conv1d(1→2)", np.zeros((1, 1, 5))),
    (nn.Conv2d(1, 2, 3), "Conv2d(1→2)", np.zeros((1, 1, 5, 5), np.float32)),
    (nn.BatchNorm1d(3), "BatchNorm1d(3)", [[1.0, 2.0, 3.0], [0.0, 1.0, 2.0]]),
    (nn.BatchNorm2d(1), "BatchNorm2d(1)", np.zeros((2, 1, 2, 2))),
    (nn.MaxPool2d(2), "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, "
                      "ceil_mode=False)", np.zeros((1, 1, 4, 4))),
    (nn.AvgPool1d(2), "AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))",
     np.zeros((1, 1, 4))),
    (nn.AdaptiveAvgPool2d(1), "AdaptiveAvgPool2d(output_size=1)", np.zeros((1, 1, 4, 4))),
    (nn.Dropout(0.2), "Dropout(p=0.2, inplace=False)", [1.0, 2.0]),
    (nn.Flatten(), "Flatten(start_dim=1, end_dim=-1)", [[1.0], [2.0]]),
]


@pytest.mark.parametrize("case", LAYERS, ids=lambda c: c[1].partition("(")[0])
def test_a_non_tensor_input_names_the_layer_and_the_fix(case):
    layer, label, data = case
    got = type(data).__name__
    message = f"{label}: expected a Tensor, got {got}; wrap it with gk.tensor(...)"
    with pytest.raises(TypeError) as err:
        layer(data)
    assert str(err.value) == message
    assert layer(gk.tensor(np.asarray(data, np.float32))).dtype == np.float32


def test_torch_refuses_a_list_too():
    with pytest.raises(TypeError, match="must be Tensor, not list"):
        torch.nn.Linear(3, 4)([1.0, 2.0, 3.0])


def test_linear_with_no_inputs_is_its_bias_as_in_torch():
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        layer = nn.Linear(0, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns the same
        reference = torch.nn.Linear(0, 3)
    assert layer.weight.shape == tuple(reference.weight.shape) == (3, 0)
    layer.bias.data = gk.tensor([0.5, -1.0, 2.0])
    out = run_pair(layer, reference, np.zeros((2, 0)))
    np.testing.assert_array_equal(out.numpy(), [[0.5, -1.0, 2.0]] * 2)


def test_linear_with_no_outputs_matches_torch():
    with pytest.warns(UserWarning, match="zero-element"):
        layer, reference = nn.Linear(3, 0), torch.nn.Linear(3, 0)
    out = run_pair(layer, reference, np.ones((2, 3)))
    assert out.shape == (2, 0)


@pytest.mark.parametrize("name", ["kaiming_normal_", "kaiming_uniform_", "lecun_normal_"])
def test_fan_based_init_of_an_empty_weight_is_a_no_op(name):
    w = gk.zeros(4, 0)
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        assert getattr(nn.init, name)(w) is w


def test_layers_take_the_cpu_device_and_refuse_others_naming_the_layer():
    import gradkit as gk
    from gradkit import nn as gnn

    for make in (lambda d: gnn.Linear(2, 3, device=d), lambda d: gnn.Conv2d(1, 2, 3, device=d),
                 lambda d: gnn.BatchNorm2d(3, device=d)):
        make("cpu"), make(gk.device("cpu")), make(None)
        with pytest.raises(RuntimeError, match=r"\w+: device 'cuda' is not available"):
            make("cuda")
