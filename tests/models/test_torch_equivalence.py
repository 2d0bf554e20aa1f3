"""The same architectures written in PyTorch, with gradkit's weights copied across (through
state_dict, so the parameter names must match too), give the same outputs in float64: in eval
mode (running statistics, randomized so that BatchNorm is not the identity), and in training
mode with the same gradients for every parameter."""

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as tF

import gradkit as gk
from gradkit import models

TOL = dict(rtol=1e-10, atol=1e-12)


# ----- the PyTorch references -----

class TorchZeroPad(tnn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.c_in, self.c_out, self.stride = c_in, c_out, stride

    def forward(self, x):
        s = self.stride
        return tF.pad(x[:, :, ::s, ::s], (0, 0, 0, 0, 0, self.c_out - self.c_in))


class TorchBlock(tnn.Module):
    def __init__(self, c_in, c_out, stride, survival):
        super().__init__()
        self.survival = survival
        self.conv1 = tnn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(c_out)
        self.conv2 = tnn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(c_out)
        self.shortcut = (tnn.Identity() if stride == 1 and c_in == c_out
                         else TorchZeroPad(c_in, c_out, stride))

    def forward(self, x):
        out = self.bn2(self.conv2(tF.relu(self.bn1(self.conv1(x)))))
        if not self.training:
            out = out * self.survival
        return tF.relu(out + self.shortcut(x))


class TorchResNet20(tnn.Module):
    def __init__(self, num_classes, p_drop):
        super().__init__()
        self.conv1 = tnn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(16)
        c_in, index = 16, 0
        for stage, c_out in enumerate((16, 32, 64)):
            layer = []
            for i in range(3):
                index += 1
                layer.append(TorchBlock(c_in, c_out, 2 if stage and not i else 1,
                                        1 - index / 9 * p_drop))
                c_in = c_out
            setattr(self, f"layer{stage + 1}", tnn.Sequential(*layer))
        self.avgpool = tnn.AdaptiveAvgPool2d(1)
        self.fc = tnn.Linear(64, num_classes)

    def forward(self, x):
        x = tF.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(self.avgpool(x).flatten(1))


class TorchLeNet5(tnn.Module):
    def __init__(self, size, activation, pool):
        super().__init__()
        act = {"relu": tnn.ReLU, "tanh": tnn.Tanh}[activation]
        pool = {"max": tnn.MaxPool2d, "avg": tnn.AvgPool2d}[pool]
        self.features = tnn.Sequential(tnn.Conv2d(1, 6, 5, padding=2 if size == 28 else 0),
                                       act(), pool(2), tnn.Conv2d(6, 16, 5), act(), pool(2))
        self.classifier = tnn.Sequential(tnn.Flatten(), tnn.Linear(400, 120), act(),
                                         tnn.Linear(120, 84), act(), tnn.Linear(84, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


class TorchMNIST1D(tnn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = tnn.Conv1d(1, 25, 5, 2, 1)
        self.conv2 = tnn.Conv1d(25, 25, 3, 2, 1)
        self.conv3 = tnn.Conv1d(25, 25, 3, 2, 1)
        self.fc = tnn.Linear(125, 10)

    def forward(self, x):
        x = tF.relu(self.conv3(tF.relu(self.conv2(tF.relu(self.conv1(x[:, None]))))))
        return self.fc(x.flatten(1))


# ----- the comparison -----

def copy_weights(gk_model, torch_model, rng):
    """Randomize gradkit's BatchNorm statistics and affine parameters, then load all of
    gradkit's state into the torch model (strict: every name must match)."""
    gk_model.double()
    for name, t in gk_model.state_dict().items():
        if name.endswith("running_var"):
            t.numpy()[...] = rng.uniform(0.5, 2.0, t.shape)
        elif name.endswith("running_mean") or ".bn" in name and name.endswith(".bias"):
            t.numpy()[...] = rng.normal(0.0, 0.3, t.shape)
        elif ".bn" in name and name.endswith(".weight"):
            t.numpy()[...] = rng.uniform(0.5, 1.5, t.shape)
    torch_model.double()
    torch_model.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                                 for k, v in gk_model.state_dict().items()})


def assert_same(gk_model, torch_model, x, train, seed=1):
    gk_model.train(train)
    torch_model.train(train)
    xg = gk.tensor(x)
    xt = torch.tensor(x)
    out_g, out_t = gk_model(xg), torch_model(xt)
    assert out_g.dtype == np.float64
    np.testing.assert_allclose(out_g.numpy(), out_t.detach().numpy(), **TOL,
                               err_msg="forward differs")
    if not train:
        return
    upstream = np.random.default_rng(seed).standard_normal(out_g.shape)
    out_g.backward(gk.tensor(upstream))
    out_t.backward(torch.tensor(upstream))
    torch_params = dict(torch_model.named_parameters())
    for name, p in gk_model.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), torch_params[name].grad.numpy(), **TOL,
                                   err_msg=f"gradient of {name} differs")
    torch_state = torch_model.state_dict()
    for name, b in gk_model.named_buffers():
        np.testing.assert_allclose(b.numpy(), torch_state[name].numpy(), **TOL,
                                   err_msg=f"buffer {name} differs after a training step")


@pytest.mark.parametrize("p_drop", [0.0, 0.5])
def test_resnet20_matches_pytorch_in_eval(p_drop):
    rng = np.random.default_rng(0)
    gk.manual_seed(0)
    model = models.resnet20(num_classes=7, stochastic_depth=p_drop)
    reference = TorchResNet20(7, p_drop)
    copy_weights(model, reference, rng)
    assert_same(model, reference, rng.standard_normal((2, 3, 12, 12)), train=False)


def test_resnet20_matches_pytorch_in_training_with_gradients():
    rng = np.random.default_rng(1)
    gk.manual_seed(0)
    model, reference = models.resnet20(num_classes=7), TorchResNet20(7, 0.0)
    copy_weights(model, reference, rng)
    assert_same(model, reference, rng.standard_normal((3, 3, 8, 8)), train=True)


@pytest.mark.parametrize("size, activation, pool", [(28, "relu", "max"), (32, "tanh", "avg")])
def test_lenet5_matches_pytorch(size, activation, pool):
    rng = np.random.default_rng(2)
    gk.manual_seed(0)
    model = models.lenet5(activation=activation, pool=pool)
    reference = TorchLeNet5(size, activation, pool)
    copy_weights(model, reference, rng)
    x = rng.uniform(0, 1, (2, 1, size, size))
    assert_same(model, reference, x, train=False)
    assert_same(model, reference, x, train=True)


def test_mnist1d_cnn_matches_pytorch():
    rng = np.random.default_rng(3)
    gk.manual_seed(0)
    model, reference = models.mnist1d_cnn(), TorchMNIST1D()
    copy_weights(model, reference, rng)
    assert_same(model, reference, rng.standard_normal((4, 40)), train=True)
