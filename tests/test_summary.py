"""gk.summary: torchinfo's table for LeNet-5 and an MLP against hand-computed numbers and
PyTorch's per-layer parameter counts; the model is left exactly as it was."""

import numpy as np
import pytest
import torch

from gradkit import get_rng_state, models, nn
from gradkit.autograd import is_grad_enabled
from gradkit.summary import summary

# LeNet-5 on 1×28×28 (padded to 32×32): (name, output shape, params, mult-adds); a conv's
# mult-adds are its params × output positions, a Linear's its params × batch
LENET = [
    ("features", [1, 16, 5, 5], 0, 0),
    ("features.0", [1, 6, 28, 28], 6 * 25 + 6, (6 * 25 + 6) * 28 * 28),
    ("features.1", [1, 6, 28, 28], 0, 0),
    ("features.2", [1, 6, 14, 14], 0, 0),
    ("features.3", [1, 16, 10, 10], 16 * 6 * 25 + 16, (16 * 6 * 25 + 16) * 10 * 10),
    ("features.4", [1, 16, 10, 10], 0, 0),
    ("features.5", [1, 16, 5, 5], 0, 0),
    ("classifier", [1, 10], 0, 0),
    ("classifier.0", [1, 400], 0, 0),
    ("classifier.1", [1, 120], 400 * 120 + 120, 400 * 120 + 120),
    ("classifier.2", [1, 120], 0, 0),
    ("classifier.3", [1, 84], 120 * 84 + 84, 120 * 84 + 84),
    ("classifier.4", [1, 84], 0, 0),
    ("classifier.5", [1, 10], 84 * 10 + 10, 84 * 10 + 10),
]


def test_lenet5_by_hand():
    s = summary(models.lenet5(), (1, 1, 28, 28))
    assert [(r.name, r.output_shape, r.params, r.mult_adds) for r in s.layers] == LENET
    assert [r.type for r in s.layers[:3]] == ["Sequential", "Conv2d", "ReLU"]
    assert (s.total_params, s.trainable_params) == (61_706, 61_706)
    assert s.total_mult_adds == 122_304 + 241_600 + 48_120 + 10_164 + 850 == 423_038
    assert s.output_shape == [1, 10] and s.input_size == [1, 1, 28, 28]


def test_parameters_per_layer_match_pytorch():
    t = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
        torch.nn.Linear(400, 120), torch.nn.ReLU(), torch.nn.Linear(120, 84), torch.nn.ReLU(),
        torch.nn.Linear(84, 10))
    expected = [sum(p.numel() for p in m.parameters(recurse=False)) for m in t]
    leaves = [r for r in summary(models.lenet5(), (2, 1, 28, 28)).layers if "." in r.name]
    assert [r.params for r in leaves] == expected
    shapes, x = [], torch.zeros(2, 1, 28, 28)
    for m in t:
        x = m(x)
        shapes.append(list(x.shape))
    assert [r.output_shape for r in leaves] == shapes


def test_mlp_mult_adds_scale_with_the_batch_and_totals_count_shared_weights_once():
    mlp = models.get_model("mlp", in_features=64, num_classes=10)
    s = summary(mlp, (8, 64))
    assert [(r.name, r.params, r.mult_adds) for r in s.layers if r.params] == [
        ("layers.0", 64 * 100 + 100, 8 * (64 * 100 + 100)),
        ("layers.2", 100 * 10 + 10, 8 * (100 * 10 + 10))]
    assert s.total_params == 7_510 and s.total_mult_adds == 8 * 7_510

    shared = nn.Linear(4, 4)
    twice = nn.Sequential(shared, nn.ReLU(), shared)
    s = summary(twice, (3, 4))
    assert [r.name for r in s.layers] == ["0", "1", "0"]
    assert s.total_params == 20 and s.total_mult_adds == 2 * 3 * 20


def test_conv1d_and_frozen_parameters():
    model = nn.Sequential(nn.Conv1d(2, 4, 3, stride=2), nn.Flatten(), nn.Linear(4 * 9, 3))
    model[2].weight.requires_grad = False
    s = summary(model, (5, 2, 20))
    conv, _, fc = s.layers
    assert conv.output_shape == [5, 4, 9] and conv.mult_adds == (4 * 2 * 3 + 4) * 5 * 9
    assert (fc.params, fc.trainable_params) == (4 * 9 * 3 + 3, 3)
    assert (s.total_params, s.trainable_params) == (28 + 111, 28 + 3)


def test_the_model_is_left_exactly_as_it_was():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.5), nn.Linear(4, 2))
    model.train()
    model[2].eval()
    state = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    rng = get_rng_state()
    summary(model, (6, 3))
    assert [m.training for m in model.modules()] == [True, True, True, False, True]
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    after = model.state_dict()
    assert all(np.array_equal(after[k].numpy(), v) for k, v in state.items())
    assert np.array_equal(get_rng_state(), rng) and is_grad_enabled()


def test_table_and_errors():
    text = str(summary(models.lenet5(), (1, 1, 28, 28)))
    lines = text.splitlines()
    assert lines[1].split() == ["Layer", "(type)", "Output", "shape", "Param", "#", "Mult-adds"]
    assert lines[3].split() == ["LeNet5", "[1,", "10]", "--", "--"]
    assert lines[5].split() == ["features.0", "(Conv2d)", "[1,", "6,", "28,", "28]", "156",
                                "122,304"]
    assert "Total params: 61,706" in lines and "Total mult-adds: 423,038" in lines
    with pytest.raises(ValueError, match=r"summary: input_size must be a shape of "
                                         r"non-negative ints, batch included"):
        summary(models.lenet5(), (1, 1, 28.0, 28))


def test_a_failing_forward_still_removes_the_hooks():
    model = models.lenet5()
    with pytest.raises(ValueError, match=r"expected input \(N, 1, 28, 28\)"):
        summary(model, (1, 1, 20, 20))
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    assert model.training
