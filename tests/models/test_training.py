"""Each model trains: every parameter gets a finite, non-zero gradient, and a few SGD steps on
a tiny random batch lower the loss clearly. Inputs are U[0, 1) like image pixels; the big
models take 2-4 samples and 2-3 steps to keep the directory fast."""

import numpy as np
import pytest

import gradkit as gk
import gradkit.nn.functional as F
from gradkit import models, optim

CASES = [  # name, kwargs, input shape, SGD steps, learning rate, momentum
    ("mlp", dict(in_features=12, hidden=(16, 16)), (8, 12), 20, 0.3, 0.0),
    ("mlp", dict(in_features=12, hidden=(16,), batchnorm=True, dropconnect=0.2, dropout=0.1),
     (8, 12), 20, 0.1, 0.0),
    ("maxout_mlp", dict(in_features=12, hidden=(16,), pieces=3), (8, 12), 20, 0.1, 0.0),
    ("lenet5", {}, (4, 1, 28, 28), 6, 0.03, 0.9),
    ("lenet5", dict(activation="tanh", pool="avg"), (4, 1, 32, 32), 8, 0.1, 0.9),
    ("alexnet_small", dict(dropout=0.0), (2, 3, 32, 32), 3, 0.02, 0.0),
    ("vgg_small", dict(dropout=0.0), (2, 3, 32, 32), 3, 0.02, 0.0),
    ("resnet20", {}, (4, 3, 8, 8), 4, 0.05, 0.0),
    ("resnet56", {}, (2, 3, 8, 8), 3, 0.01, 0.0),
    ("resnet18", {}, (4, 3, 4, 4), 3, 0.01, 0.0),
    ("mnist1d_cnn", {}, (8, 40), 20, 0.1, 0.0),
]


@pytest.mark.parametrize("name, kwargs, shape, steps, lr, momentum", CASES,
                         ids=[c[0] for c in CASES])
def test_loss_falls_and_every_parameter_learns(name, kwargs, shape, steps, lr, momentum):
    gk.manual_seed(0)
    model = models.get_model(name, num_classes=4, **kwargs)
    x = gk.rand(*shape)
    y = gk.tensor(np.arange(shape[0]) % 4)
    opt = optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    losses = []
    for step in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        if step == 0:
            for pname, p in model.named_parameters():
                g = p.grad.numpy()
                assert np.isfinite(g).all() and np.abs(g).max() > 0, f"{pname} has no gradient"
        opt.step()
        losses.append(loss.item())
    with gk.no_grad():
        losses.append(F.cross_entropy(model(x), y).item())
    assert np.isfinite(losses).all(), losses
    assert losses[-1] < 0.8 * losses[0], losses


@pytest.mark.parametrize("name, kwargs, shape", [(c[0], c[1], c[2]) for c in CASES],
                         ids=[c[0] for c in CASES])
def test_initial_loss_is_log_num_classes(name, kwargs, shape):
    """The notes' first sanity check: small output weights give a softmax loss of ≈ ln C."""
    gk.manual_seed(0)
    model = models.get_model(name, num_classes=10, **kwargs)  # training mode: batch statistics
    batch = (16,) + shape[1:]
    with gk.no_grad():
        loss = F.cross_entropy(model(gk.rand(*batch)), gk.tensor(np.arange(16) % 10))
    assert abs(loss.item() - np.log(10)) < 0.15, loss.item()
