"""Linear, DropConnect, activations, Flatten, Maxout, BatchNorm and Dropout against PyTorch:
forward values, the input's and every parameter's gradients, buffers; gradcheck in float64."""

import numpy as np
import pytest
import torch

import gradkit as gk
from gradkit import nn
from nn.torch_ref import module_gradcheck, prepare, random_array, run_pair

F64, F32 = np.float64, np.float32
DTYPES = [F64, F32]


# ----- Linear -----

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("in_f, out_f, x_shape, bias", [
    (5, 3, (4, 5), True), (5, 3, (1, 5), True), (7, 1, (3, 7), False), (4, 6, (2, 3, 4), True),
    (3, 2, (3,), True),
])
def test_linear_matches_torch(dtype, in_f, out_f, x_shape, bias):
    run_pair(nn.Linear(in_f, out_f, bias), torch.nn.Linear(in_f, out_f, bias),
             random_array(x_shape), dtype)


def test_linear_gradcheck_and_dtype_kwarg():
    module_gradcheck(nn.Linear(4, 3), (5, 4))
    assert nn.Linear(2, 3, dtype=gk.float64).weight.dtype == np.float64


def test_linear_bad_input_names_layer_and_shapes():
    with pytest.raises(ValueError, match=r"Linear\(784→10\): expected input \(\*, 784\), got "
                                         r"\(8, 100\)"):
        nn.Linear(784, 10)(gk.zeros(8, 100))
    with pytest.raises(TypeError, match="dtype mismatch"):
        nn.Linear(2, 2)(gk.zeros(3, 2, dtype=gk.float64))


def test_dropconnect_eval_is_linear_and_train_is_unbiased():
    gk.manual_seed(0)
    dc = nn.DropConnect(6, 4, p=0.3)
    x = gk.randn(5, 6)
    dc.eval()
    expected = x.numpy() @ dc.weight.numpy().T + dc.bias.numpy()
    np.testing.assert_allclose(dc(x).numpy(), expected, rtol=1e-5, atol=1e-6)
    dc.train()
    with gk.no_grad():
        mean = np.mean([dc(x).numpy() for _ in range(3000)], axis=0)
    np.testing.assert_allclose(mean, expected, atol=0.1)
    assert repr(dc) == "DropConnect(in_features=6, out_features=4, bias=True, p=0.3)"


def test_dropconnect_gradient_is_masked_weight_gradient():
    dc = nn.DropConnect(4, 3, p=0.5)
    module_gradcheck(dc, (2, 4), reseed=3)
    dc.float()
    gk.manual_seed(5)
    x = gk.randn(6, 4)
    dc(x).sum().backward()
    grad = dc.weight.grad.numpy()
    kept = grad != 0
    full = np.tile(x.numpy().sum(axis=0) / 0.5, (3, 1))
    np.testing.assert_allclose(grad[kept], full[kept], rtol=1e-5)
    assert 0 < kept.mean() < 1
    np.testing.assert_allclose(dc.bias.grad.numpy(), np.full(3, 6.0))


# ----- activations -----

ACTIVATIONS = [
    (nn.ReLU(), torch.nn.ReLU()),
    (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
    (nn.ELU(0.7), torch.nn.ELU(0.7)),
    (nn.Softplus(2.0, 3.0), torch.nn.Softplus(2.0, 3.0)),
    (nn.Sigmoid(), torch.nn.Sigmoid()),
    (nn.Tanh(), torch.nn.Tanh()),
    (nn.GELU(), torch.nn.GELU()),
    (nn.GELU("tanh"), torch.nn.GELU("tanh")),
    (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)),
    (nn.LogSoftmax(dim=-1), torch.nn.LogSoftmax(dim=-1)),
    (nn.Flatten(), torch.nn.Flatten()),
    (nn.Flatten(0, 1), torch.nn.Flatten(0, 1)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pair", ACTIVATIONS, ids=lambda p: repr(p[0]))
def test_activation_matches_torch(pair, dtype):
    g, t = pair
    run_pair(g, t, random_array((3, 4, 5), low=-3, high=3), dtype)
    assert repr(g) == repr(t)


@pytest.mark.parametrize("pair", ACTIVATIONS, ids=lambda p: repr(p[0]))
def test_activation_gradcheck(pair):
    module_gradcheck(pair[0], (2, 3, 4))


def test_softmax_implicit_dim_warns_like_torch():
    x = random_array((2, 3, 4))
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = nn.Softmax()(gk.tensor(x))
    with pytest.warns(UserWarning):
        expected = torch.nn.Softmax()(torch.tensor(x))
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-12)


def torch_maxout(x, weight, bias, out_features, pieces):
    z = torch.nn.functional.linear(x, weight, bias)
    return z.view(*x.shape[:-1], out_features, pieces).max(dim=-1).values


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape", [(5, 4), (1, 4), (2, 3, 4)])
def test_maxout_matches_torch_formula(dtype, x_shape):
    m = nn.Maxout(4, 3, pieces=3).to(dtype)
    w = torch.tensor(m.weight.numpy(), requires_grad=True)
    b = torch.tensor(m.bias.numpy(), requires_grad=True)
    x = random_array(x_shape, dtype)
    xt, xg = torch.tensor(x, requires_grad=True), gk.tensor(x, requires_grad=True)
    out_t, out_g = torch_maxout(xt, w, b, 3, 3), m(xg)
    tol = dict(rtol=1e-10) if dtype == F64 else dict(rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out_g.numpy(), out_t.detach().numpy(), **tol)
    out_t.sum().backward()
    out_g.sum().backward()
    for got, want in ((xg, xt), (m.weight, w), (m.bias, b)):
        np.testing.assert_allclose(got.grad.numpy(), want.grad.numpy(), **tol)


def test_maxout_gradcheck_and_errors():
    module_gradcheck(nn.Maxout(3, 2, pieces=4), (4, 3))
    with pytest.raises(ValueError, match=r"Maxout\(3→2, pieces=4\): expected input \(\*, 3\)"):
        nn.Maxout(3, 2, pieces=4)(gk.zeros(2, 5))


# ----- BatchNorm -----

BN_CONFIGS = [
    dict(), dict(momentum=None), dict(momentum=0.3, eps=1e-3), dict(affine=False),
    dict(track_running_stats=False), dict(bias=False),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("config", BN_CONFIGS, ids=str)
@pytest.mark.parametrize("kind, x_shape", [
    ("1d", (6, 3)), ("1d", (4, 3, 5)), ("2d", (3, 3, 4, 5)), ("2d", (1, 3, 2, 3)),
])
def test_batchnorm_several_steps_then_eval_matches_torch(kind, x_shape, config, dtype):
    g_cls, t_cls = ((nn.BatchNorm1d, torch.nn.BatchNorm1d) if kind == "1d"
                    else (nn.BatchNorm2d, torch.nn.BatchNorm2d))
    g, t = g_cls(3, **config), t_cls(3, **config)
    if g.weight is not None:
        with gk.no_grad():
            g.weight.uniform_(0.5, 1.5)
            if g.bias is not None:
                g.bias.uniform_(-0.5, 0.5)
    prepare(g, t, dtype)
    for step in range(4):
        x = random_array(x_shape, seed=step, low=-1 + step, high=3 + step)
        run_pair(g, t, x, dtype, train=True, seed=step, copy_weights=False)
    run_pair(g, t, random_array(x_shape, seed=9), dtype, train=False, copy_weights=False)
    if config.get("track_running_stats", True):
        assert int(g.num_batches_tracked.item()) == 4


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("cls, x_shape", [(nn.BatchNorm1d, (5, 3)), (nn.BatchNorm1d, (3, 3, 4)),
                                          (nn.BatchNorm2d, (2, 3, 2, 3))])
def test_batchnorm_gradcheck(cls, x_shape, train):
    bn = cls(3)
    with gk.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 1.5)
    bn.train(train)
    bn.momentum = 0.0  # repeated forwards must see the same running statistics
    module_gradcheck(bn, x_shape)


def test_batchnorm_errors_name_layer_and_shapes():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(16\): expected input \(N, 16, H, W\), "
                                         r"got \(8, 3, 28, 28\)"):
        nn.BatchNorm2d(16)(gk.zeros(8, 3, 28, 28))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(4\): expected input \(N, 4\) or "
                                         r"\(N, 4, L\), got \(8, 4, 2, 2\)"):
        nn.BatchNorm1d(4)(gk.zeros(8, 4, 2, 2))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(4)(gk.zeros(1, 4))
    assert nn.BatchNorm1d(4).eval()(gk.ones(1, 4)).shape == (1, 4)


def test_functional_batch_norm_matches_torch():
    x = random_array((4, 3, 2))
    rm, rv = np.zeros(3), np.ones(3)
    rm_t, rv_t = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    out = nn.functional.batch_norm(gk.tensor(x), gk.tensor(rm), gk.tensor(rv), training=True,
                                   momentum=0.2)
    expected = torch.nn.functional.batch_norm(torch.tensor(x), rm_t, rv_t, training=True,
                                              momentum=0.2)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-10)


# ----- Dropout -----

@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_keeps_expectation_and_drops_fraction_p(p):
    gk.manual_seed(0)
    x = gk.ones(200, 500)
    out = nn.Dropout(p)(x).numpy()
    n = out.size
    dropped = np.mean(out == 0)
    assert abs(dropped - p) < 4 * np.sqrt(p * (1 - p) / n)
    assert set(np.unique(out)) <= {0.0, np.float32(1 / (1 - p))}
    assert abs(out.mean() - 1) < 4 * np.sqrt(p / (1 - p) / n)


def test_dropout_eval_identity_edge_probabilities_and_gradient():
    x = gk.randn(4, 5, requires_grad=True)
    d = nn.Dropout(0.5).eval()
    assert d(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert np.all(nn.Dropout(1.0)(x).numpy() == 0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)
    out = nn.Dropout(0.25)(x)
    out.backward(gk.ones_like(out))
    np.testing.assert_allclose(x.grad.numpy(), (out.numpy() != 0) / 0.75, rtol=1e-6)
    assert repr(nn.Dropout(0.25)) == repr(torch.nn.Dropout(0.25))


def test_dropout_gradcheck_with_fixed_mask():
    module_gradcheck(nn.Dropout(0.4), (3, 4), reseed=7)
