"""The shrinks, rrelu, rms_norm, gumbel_softmax, lp_pool1d/2d and their layers (plus RMSNorm,
BatchNorm3d, Softmax2d, Unflatten) against PyTorch: values and gradients in float64 and
float32, gradcheck, statistics for the random ones, state_dict keys, reprs and bad input."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings, strategies as st

import gradkit as gk
import gradkit.nn.functional as F
from gradkit import nn
from gradkit.autograd import gradcheck
from gradkit.errors import ShapeError
from oracle import check
from nn.torch_ref import module_gradcheck, random_array, run_pair

F64, F32 = np.float64, np.float32


# ----- the shrinks -----

@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("name, kwargs", [("hardshrink", {}), ("hardshrink", {"lambd": 1.2}),
                                          ("softshrink", {}), ("softshrink", {"lambd": 0.9}),
                                          ("tanhshrink", {})])
def test_shrinks_match_torch(name, kwargs, dtype):
    check([(3, 5)], lambda x: getattr(TF, name)(x, **kwargs),
          lambda x: getattr(F, name)(x, **kwargs), dtype=dtype)


@pytest.mark.parametrize("name", ["hardshrink", "softshrink", "tanhshrink"])
def test_shrinks_transposed_and_empty(name):
    check([(4, 3)], lambda x: getattr(TF, name)(x.t()), lambda x: getattr(F, name)(x.t()))
    check([(0, 3)], lambda x: getattr(TF, name)(x), lambda x: getattr(F, name)(x))


@pytest.mark.parametrize("name", ["hardshrink", "softshrink", "tanhshrink"])
def test_shrinks_gradcheck(name):
    x = gk.tensor(random_array((3, 4)), requires_grad=True)
    assert gradcheck(lambda t: getattr(F, name)(t), (x,))


def test_softshrink_refuses_a_negative_lambda():
    with pytest.raises(RuntimeError):
        TF.softshrink(torch.randn(3), -1.0)
    with pytest.raises(RuntimeError, match="softshrink"):
        F.softshrink(gk.randn(3), -1.0)


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("layer, args", [("Hardshrink", ()), ("Hardshrink", (0.3,)),
                                         ("Softshrink", ()), ("Softshrink", (1.1,)),
                                         ("Tanhshrink", ())])
def test_shrink_layers(layer, args, dtype):
    g, t = getattr(nn, layer)(*args), getattr(torch.nn, layer)(*args)
    run_pair(g, t, random_array((2, 3, 4)), dtype)
    assert repr(g) == repr(t)


# ----- rrelu -----

@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("lower, upper", [(1.0 / 8, 1.0 / 3), (0.1, 0.6), (0.2, 0.2)])
def test_rrelu_eval_is_the_fixed_slope(lower, upper, dtype):
    check([(4, 5)], lambda x: TF.rrelu(x, lower, upper, training=False),
          lambda x: F.rrelu(x, lower, upper, training=False), dtype=dtype)


def test_rrelu_training_draws_one_slope_per_element():
    gk.manual_seed(0)
    x = gk.tensor(-np.ones((200, 200), F32), requires_grad=True)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    slopes = -y.numpy()
    assert y.dtype == F32
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3
    assert abs(slopes.mean() - 0.2) < 2e-3
    assert abs(slopes.var() - 0.2 ** 2 / 12) < 2e-4
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), slopes)
    positive = gk.tensor(np.ones(5, F32))
    np.testing.assert_array_equal(F.rrelu(positive, training=True).numpy(), np.ones(5))


def test_rrelu_training_gradcheck_with_a_fixed_seed():
    x = gk.tensor(random_array((3, 4)), requires_grad=True)

    def fn(t):
        gk.manual_seed(3)
        return F.rrelu(t, training=True)
    assert gradcheck(fn, (x,))


def test_rrelu_layer_modes_and_repr():
    g, t = nn.RReLU(0.1, 0.4), torch.nn.RReLU(0.1, 0.4)
    assert repr(g) == repr(t) and repr(nn.RReLU()) == repr(torch.nn.RReLU())
    run_pair(g, t, random_array((3, 4)), F64, train=False)
    g.train()
    gk.manual_seed(1)
    a = g(gk.tensor(-np.ones(50, F32))).numpy()
    assert len(np.unique(a)) > 40
    with pytest.raises(ValueError):
        F.rrelu(gk.randn(3), 0.5, 0.1)


# ----- rms_norm and RMSNorm -----

@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("shape, normalized", [((3, 5), (5,)), ((2, 3, 4), (3, 4)),
                                               ((4,), [4])])
def test_rms_norm_matches_torch(shape, normalized, dtype):
    wshape = tuple(normalized)
    check([shape, wshape], lambda x, w: TF.rms_norm(x, normalized, w),
          lambda x, w: F.rms_norm(x, normalized, w), dtype=dtype)
    check([shape], lambda x: TF.rms_norm(x, normalized, eps=1e-3),
          lambda x: F.rms_norm(x, normalized, eps=1e-3), dtype=dtype)


def test_rms_norm_gradcheck_and_bad_shape():
    x = gk.tensor(random_array((2, 3, 4)), requires_grad=True)
    w = gk.tensor(random_array((4,), seed=1), requires_grad=True)
    assert gradcheck(lambda a, b: F.rms_norm(a, (4,), b), (x, w))
    with pytest.raises(RuntimeError):
        TF.rms_norm(torch.randn(2, 3), (4,))
    with pytest.raises(RuntimeError, match="rms_norm"):
        F.rms_norm(gk.randn(2, 3), (4,))


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("args, kwargs", [((4,), {}), (([3, 4],), {"eps": 1e-4}),
                                          ((4,), {"elementwise_affine": False})])
def test_rmsnorm_layer(args, kwargs, dtype):
    g, t = nn.RMSNorm(*args, **kwargs), torch.nn.RMSNorm(*args, **kwargs)
    assert list(g.state_dict()) == list(t.state_dict())
    assert repr(g) == repr(t)
    if g.weight is not None:
        g.weight._data[...] = random_array(g.weight.shape, F32, seed=5)
    run_pair(g, t, random_array((2, 3, 4)), dtype)


def test_rmsnorm_gradcheck_and_bad_input():
    g = nn.RMSNorm(4)
    g.weight._data[...] = random_array((4,), F32, seed=2)
    module_gradcheck(g, (3, 4))
    with pytest.raises(RuntimeError):
        nn.RMSNorm(5)(gk.randn(2, 4))
    with pytest.raises(TypeError):
        nn.RMSNorm(5)(np.ones((2, 5)))


# ----- BatchNorm3d -----

@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("kwargs", [{}, {"affine": False}, {"momentum": None},
                                    {"track_running_stats": False}])
def test_batchnorm3d(kwargs, dtype):
    g, t = nn.BatchNorm3d(3, **kwargs), torch.nn.BatchNorm3d(3, **kwargs)
    assert list(g.state_dict()) == list(t.state_dict())
    assert repr(g) == repr(t)
    x = random_array((2, 3, 2, 3, 4))
    run_pair(g, t, x, dtype)
    run_pair(g, t, x + 1, dtype, copy_weights=False)
    run_pair(g, t, x, dtype, train=False, copy_weights=False)


def test_batchnorm3d_gradcheck_and_bad_input():
    module_gradcheck(nn.BatchNorm3d(2), (3, 2, 2, 2, 3))
    with pytest.raises(ValueError):
        torch.nn.BatchNorm3d(3)(torch.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match="BatchNorm3d"):
        nn.BatchNorm3d(3)(gk.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match="BatchNorm3d"):
        nn.BatchNorm3d(3)(gk.randn(2, 4, 2, 2, 2))


# ----- gumbel_softmax -----

@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("dim", [-1, 0, 1])
def test_gumbel_softmax_soft_is_a_softmax_of_noisy_logits(dim, dtype):
    logits = gk.tensor(random_array((4, 5, 3), dtype), requires_grad=True)
    gk.manual_seed(7)
    y = F.gumbel_softmax(logits, tau=0.7, dim=dim)
    assert y.dtype == dtype and y.shape == (4, 5, 3)
    np.testing.assert_allclose(y.numpy().sum(axis=dim), 1, rtol=1e-5)
    gk.manual_seed(7)
    noise = -np.log(gk.random.default_generator.exponential(size=(4, 5, 3)).astype(dtype))
    t = torch.tensor(logits.numpy(), requires_grad=True)
    expected = ((t + torch.tensor(noise)) / 0.7).softmax(dim)
    np.testing.assert_allclose(y.numpy(), expected.detach().numpy(), rtol=2e-5, atol=1e-6)
    upstream = random_array((4, 5, 3), dtype, seed=3)
    y.backward(gk.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(logits.grad.numpy(), t.grad.numpy(), rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("dim", [-1, 0])
def test_gumbel_softmax_hard_is_one_hot_with_the_soft_gradient(dim):
    logits = gk.tensor(random_array((6, 4)), requires_grad=True)
    twin = gk.tensor(random_array((6, 4)), requires_grad=True)
    gk.manual_seed(2)
    hard = F.gumbel_softmax(logits, tau=0.5, hard=True, dim=dim)
    gk.manual_seed(2)
    soft = F.gumbel_softmax(twin, tau=0.5, dim=dim)
    h = hard.numpy()
    np.testing.assert_allclose(h.sum(axis=dim), 1, atol=1e-12)
    assert set(np.round(h, 12).ravel()) <= {0.0, 1.0}
    np.testing.assert_array_equal(h.argmax(axis=dim), soft.numpy().argmax(axis=dim))
    upstream = gk.tensor(random_array((6, 4), seed=4))
    hard.backward(upstream)
    soft.backward(upstream)
    np.testing.assert_allclose(logits.grad.numpy(), twin.grad.numpy(), rtol=1e-12)


def test_gumbel_softmax_samples_follow_the_softmax():
    logits = gk.tensor(np.log(np.array([0.1, 0.2, 0.7])))
    gk.manual_seed(0)
    rows = F.gumbel_softmax(logits.expand(20000, 3), hard=True).numpy()
    np.testing.assert_allclose(rows.mean(axis=0), [0.1, 0.2, 0.7], atol=0.015)


def test_gumbel_softmax_gradcheck_and_bad_input():
    x = gk.tensor(random_array((3, 4)), requires_grad=True)

    def fn(t):
        gk.manual_seed(5)
        return F.gumbel_softmax(t, tau=2.0)
    assert gradcheck(fn, (x,))
    with pytest.raises(RuntimeError):
        TF.gumbel_softmax(torch.tensor([1, 2, 3]))
    with pytest.raises(RuntimeError, match="gumbel_softmax"):
        F.gumbel_softmax(gk.tensor([1, 2, 3]))
    with pytest.warns(UserWarning, match="eps"):
        F.gumbel_softmax(gk.randn(3), eps=1e-3)


# ----- lp_pool -----

LP1 = [(2, 3, None, False), (3, 2, 1, False), (1.5, 3, 2, True), (float("inf"), 2, None, False)]
LP2 = [(2, 2, None, False), (3, (2, 3), (1, 2), False), (1.5, 3, 2, True),
       (float("inf"), 2, 1, True), (1, (3, 2), None, True)]


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("p, k, s, ceil", LP1)
def test_lp_pool1d(p, k, s, ceil, dtype):
    check([(2, 3, 9)], lambda x: TF.lp_pool1d(x, p, k, s, ceil),
          lambda x: F.lp_pool1d(x, p, k, s, ceil), dtype=dtype, low=0.1)
    check([(3, 8)], lambda x: TF.lp_pool1d(x, p, k, s, ceil),
          lambda x: F.lp_pool1d(x, p, k, s, ceil), dtype=dtype, low=0.1)


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("p, k, s, ceil", LP2)
def test_lp_pool2d(p, k, s, ceil, dtype):
    check([(2, 3, 7, 8)], lambda x: TF.lp_pool2d(x, p, k, s, ceil),
          lambda x: F.lp_pool2d(x, p, k, s, ceil), dtype=dtype, low=0.1)


def test_lp_pool_even_power_of_signed_input_and_transposed():
    check([(2, 3, 6)], lambda x: TF.lp_pool1d(x, 2, 3), lambda x: F.lp_pool1d(x, 2, 3))
    check([(2, 3, 6, 4)], lambda x: TF.lp_pool2d(x.transpose(2, 3), 4, 2),
          lambda x: F.lp_pool2d(x.transpose(2, 3), 4, 2))


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 3), c=st.integers(1, 3), h=st.integers(2, 7), w=st.integers(2, 7),
       k=st.integers(1, 2), ceil=st.booleans())
def test_lp_pool2d_drawn_shapes(n, c, h, w, k, ceil):
    check([(n, c, h, w)], lambda x: TF.lp_pool2d(x, 2, k, None, ceil),
          lambda x: F.lp_pool2d(x, 2, k, None, ceil), low=0.1)


def test_lp_pool_gradcheck_and_bad_input():
    x = gk.tensor(random_array((1, 2, 6, 6), low=0.5), requires_grad=True)
    assert gradcheck(lambda t: F.lp_pool2d(t, 3, 2, 1), (x,))
    y = gk.tensor(random_array((2, 7), low=0.5), requires_grad=True)
    assert gradcheck(lambda t: F.lp_pool1d(t, 2, 3, 2), (y,))
    with pytest.raises(RuntimeError):
        TF.lp_pool1d(torch.randn(2, 3), 2, 5)
    with pytest.raises(RuntimeError):
        F.lp_pool1d(gk.randn(2, 3), 2, 5)
    with pytest.raises(ShapeError, match="lp_pool2d"):
        F.lp_pool2d(gk.randn(2, 3), 2, 2)


@pytest.mark.parametrize("dtype", [F64, F32])
def test_lppool_layers(dtype):
    for g, t, shape in [(nn.LPPool1d(2, 3, 2), torch.nn.LPPool1d(2, 3, 2), (2, 3, 9)),
                        (nn.LPPool2d(1.5, (2, 3)), torch.nn.LPPool2d(1.5, (2, 3)), (2, 2, 6, 6)),
                        (nn.LPPool2d(2, 3, ceil_mode=True),
                         torch.nn.LPPool2d(2, 3, ceil_mode=True), (1, 2, 7, 8))]:
        assert repr(g) == repr(t)
        run_pair(g, t, random_array(shape, low=0.1), dtype)


# ----- Softmax2d and Unflatten -----

@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 4, 5), (1, 1, 1, 1)])
def test_softmax2d(shape, dtype):
    g, t = nn.Softmax2d(), torch.nn.Softmax2d()
    assert repr(g) == repr(t)
    run_pair(g, t, random_array(shape), dtype)


def test_softmax2d_bad_input():
    with pytest.raises(ValueError):
        torch.nn.Softmax2d()(torch.randn(2, 3))
    with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 2D"):
        nn.Softmax2d()(gk.randn(2, 3))


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("dim, size, shape", [(1, (2, 3), (4, 6)), (-1, [2, -1], (2, 3, 8)),
                                              (0, (1, 4), (4, 2)), (1, (1,), (2, 1))])
def test_unflatten(dim, size, shape, dtype):
    g, t = nn.Unflatten(dim, size), torch.nn.Unflatten(dim, size)
    assert repr(g) == repr(t)
    run_pair(g, t, random_array(shape), dtype)


def test_unflatten_bad_arguments():
    with pytest.raises(TypeError):
        torch.nn.Unflatten(1, 6)
    with pytest.raises(TypeError):
        nn.Unflatten(1, 6)
    with pytest.raises(RuntimeError):
        torch.nn.Unflatten(1, (4, 2))(torch.randn(2, 6))
    with pytest.raises(RuntimeError):
        nn.Unflatten(1, (4, 2))(gk.randn(2, 6))


def test_layers_in_a_sequential_state_dict():
    g = nn.Sequential(nn.Linear(4, 6), nn.Unflatten(1, (2, 3)), nn.RMSNorm(3), nn.Tanhshrink())
    t = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Unflatten(1, (2, 3)),
                            torch.nn.RMSNorm(3), torch.nn.Tanhshrink())
    assert list(g.state_dict()) == list(t.state_dict())
    run_pair(g, t, random_array((5, 4)), F64)
