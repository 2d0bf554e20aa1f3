"""An empty batch (N = 0) through convolution and pooling gives an empty output of the right
shape, an empty input gradient and zero parameter gradients, as PyTorch does."""

import numpy as np
import pytest
import torch

import gradkit as gk
from gradkit import nn

LAYERS = [  # (gradkit layer, torch layer, input shape)
    (lambda: nn.Conv2d(1, 2, 3), lambda: torch.nn.Conv2d(1, 2, 3), (0, 1, 5, 5)),
    (lambda: nn.Conv2d(3, 2, 3, padding=1), lambda: torch.nn.Conv2d(3, 2, 3, padding=1),
     (0, 3, 5, 5)),  # stride 1, O <= C: the transposed-convolution backward
    (lambda: nn.Conv2d(2, 4, 3, stride=2, padding=1, groups=2),
     lambda: torch.nn.Conv2d(2, 4, 3, stride=2, padding=1, groups=2), (0, 2, 5, 5)),
    (lambda: nn.Conv1d(1, 2, 3), lambda: torch.nn.Conv1d(1, 2, 3), (0, 1, 5)),
    (lambda: nn.MaxPool2d(3, 2, 1), lambda: torch.nn.MaxPool2d(3, 2, 1), (0, 1, 5, 5)),
    (lambda: nn.MaxPool1d(2), lambda: torch.nn.MaxPool1d(2), (0, 1, 4)),
    (lambda: nn.AvgPool2d(2), lambda: torch.nn.AvgPool2d(2), (0, 1, 4, 4)),
    (lambda: nn.AvgPool1d(2), lambda: torch.nn.AvgPool1d(2), (0, 1, 4)),
    (lambda: nn.AdaptiveAvgPool2d(1), lambda: torch.nn.AdaptiveAvgPool2d(1), (0, 2, 4, 4)),
    (lambda: nn.AdaptiveAvgPool2d(3), lambda: torch.nn.AdaptiveAvgPool2d(3), (0, 2, 4, 4)),
    (lambda: nn.Linear(4, 3), lambda: torch.nn.Linear(4, 3), (0, 4)),
    (lambda: nn.BatchNorm2d(3), lambda: torch.nn.BatchNorm2d(3), (0, 3, 4, 4)),
    (lambda: nn.BatchNorm1d(3), lambda: torch.nn.BatchNorm1d(3), (0, 3)),
    (lambda: nn.BatchNorm2d(3).eval(), lambda: torch.nn.BatchNorm2d(3).eval(), (0, 3, 4, 4)),
]


@pytest.mark.parametrize("layers", LAYERS, ids=lambda c: f"{type(c[0]()).__name__}{c[2]}")
def test_empty_batch_matches_torch(layers):
    make_gk, make_torch, shape = layers
    layer, reference = make_gk(), make_torch()
    x = gk.zeros(*shape, requires_grad=True)
    out = layer(x)
    xt = torch.zeros(shape, requires_grad=True)
    want = reference(xt)
    assert out.shape == tuple(want.shape)
    out.sum().backward()
    want.sum().backward()
    assert x.grad.shape == tuple(xt.grad.shape) == shape
    for name, p in layer.named_parameters():
        expected = dict(reference.named_parameters())[name].grad
        assert p.grad.shape == tuple(expected.shape)
        np.testing.assert_array_equal(p.grad.numpy(), np.zeros(p.shape))
