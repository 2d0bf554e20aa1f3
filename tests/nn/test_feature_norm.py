"""LayerNorm, GroupNorm, InstanceNorm1d/2d and LocalResponseNorm (layers and F.*) against
PyTorch: forward values, input and parameter gradients, running statistics, state_dict keys;
gradcheck of the functional forms in float64; bad shapes naming the layer."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gradkit as gk
import gradkit.nn.functional as F
from gradkit import nn
from gradkit.autograd.check import gradcheck
from gradkit.errors import ShapeError
from nn.torch_ref import random_array, run_pair
from oracle import check

F64, F32 = np.float64, np.float32
DTYPES = [F64, F32]
TF = torch.nn.functional


def randomize(module, seed=3):
    """Non-trivial affine parameters, so their gradients and broadcasting are tested."""
    rng = np.random.default_rng(seed)
    for p in module.parameters():
        p._data[...] = rng.uniform(0.5, 1.5, p.shape).astype(p.dtype)
    return module


def gk64(a):
    return gk.tensor(a, requires_grad=True)


# ----- LayerNorm -----

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, x_shape, kw", [
    (8, (4, 8), {}), ((3, 4), (2, 3, 4), {}), (5, (1, 5), {}), (6, (2, 3, 6), {"bias": False}),
    (4, (3, 4), {"elementwise_affine": False}), ((2, 3), (2, 3), {"eps": 1e-3}),
    (4, (0, 4), {}), (1, (3, 1), {}),
])
def test_layer_norm_matches_torch(dtype, shape, x_shape, kw):
    run_pair(randomize(nn.LayerNorm(shape, **kw)), torch.nn.LayerNorm(shape, **kw),
             random_array(x_shape), dtype)


def test_layer_norm_functional_gradcheck_and_oracle():
    check([(3, 4, 5), (4, 5), (4, 5)], lambda x, w, b: TF.layer_norm(x, (4, 5), w, b),
          lambda x, w, b: F.layer_norm(x, (4, 5), w, b))
    check([(6, 5)], lambda x: TF.layer_norm(x, (5,)), lambda x: F.layer_norm(x, 5),
          dtype=F32)
    x, w, b = (gk64(random_array(s, seed=i)) for i, s in enumerate([(3, 5), (5,), (5,)]))
    assert gradcheck(lambda x, w, b: F.layer_norm(x, (5,), w, b, 1e-5), (x, w, b))


def test_layer_norm_non_contiguous_input():
    a = random_array((5, 4))
    check([], lambda x: TF.layer_norm(x.t(), (5,)), lambda x: F.layer_norm(x.t(), (5,)),
          arrays=[a])


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=4), st.integers(1, 2))
def test_layer_norm_hypothesis_shapes(shape, k):
    k = min(k, len(shape))
    normalized = tuple(shape[len(shape) - k:])
    check([shape, normalized, normalized], lambda x, w, b: TF.layer_norm(x, normalized, w, b),
          lambda x, w, b: F.layer_norm(x, normalized, w, b), rtol=1e-8, atol=1e-10)


def test_layer_norm_state_dict_from_torch_and_bad_input():
    t = torch.nn.LayerNorm((2, 3))
    with torch.no_grad():
        t.weight.uniform_()
    g = nn.LayerNorm((2, 3))
    g.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    np.testing.assert_array_equal(g.weight.numpy(), t.weight.detach().numpy())
    assert g.weight.dtype == np.float32 and list(g.state_dict()) == ["weight", "bias"]
    assert repr(g) == repr(t)
    with pytest.raises(ShapeError, match=r"LayerNorm\(\(8,\)\): expected input \(\*, 8\), got "
                                         r"\(4, 5\)"):
        nn.LayerNorm(8)(gk.zeros(4, 5))
    with pytest.raises(RuntimeError, match="layer_norm"):
        F.layer_norm(gk.zeros(4, 5), (4,))
    with pytest.raises(ShapeError, match="weight"):
        F.layer_norm(gk.zeros(4, 5), (5,), gk.ones(4))
    with pytest.raises(TypeError, match="dtype"):
        nn.LayerNorm(5)(gk.zeros(2, 5, dtype=gk.float64))


# ----- GroupNorm -----

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("groups, channels, x_shape, affine", [
    (2, 6, (3, 6, 4, 5), True), (2, 6, (4, 6), True), (1, 4, (2, 4, 7), True),
    (4, 4, (1, 4, 3, 3), True), (2, 4, (2, 4, 5), False), (2, 4, (0, 4, 3), True),
])
def test_group_norm_matches_torch(dtype, groups, channels, x_shape, affine):
    run_pair(randomize(nn.GroupNorm(groups, channels, affine=affine)),
             torch.nn.GroupNorm(groups, channels, affine=affine), random_array(x_shape), dtype)


def test_group_norm_functional_gradcheck_and_errors():
    x, w, b = (gk64(random_array(s, seed=i)) for i, s in enumerate([(2, 4, 3), (4,), (4,)]))
    assert gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), (x, w, b))
    check([(2, 4, 3, 2)], lambda x: TF.group_norm(x.transpose(2, 3), 2),
          lambda x: F.group_norm(x.transpose(2, 3), 2))
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ShapeError, match=r"GroupNorm\(2, 6\): expected input \(N, 6, \*\), got "
                                         r"\(2, 4, 3\)"):
        nn.GroupNorm(2, 6)(gk.zeros(2, 4, 3))
    with pytest.raises(RuntimeError, match="num_groups=3"):
        F.group_norm(gk.zeros(2, 4, 3), 3)
    g, t = nn.GroupNorm(2, 4), torch.nn.GroupNorm(2, 4)
    g.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    assert repr(g) == repr(t)


# ----- InstanceNorm -----

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls, tcls, x_shape", [
    (nn.InstanceNorm1d, torch.nn.InstanceNorm1d, (3, 4, 6)),
    (nn.InstanceNorm1d, torch.nn.InstanceNorm1d, (4, 6)),
    (nn.InstanceNorm2d, torch.nn.InstanceNorm2d, (2, 4, 3, 5)),
    (nn.InstanceNorm2d, torch.nn.InstanceNorm2d, (4, 3, 5)),
    (nn.InstanceNorm2d, torch.nn.InstanceNorm2d, (1, 4, 2, 1)),
    (nn.InstanceNorm3d, torch.nn.InstanceNorm3d, (2, 4, 2, 3, 2)),
    (nn.InstanceNorm3d, torch.nn.InstanceNorm3d, (4, 2, 1, 3)),
])
@pytest.mark.parametrize("kw", [{}, {"affine": True}, {"track_running_stats": True},
                                {"affine": True, "track_running_stats": True, "momentum": 0.3}])
def test_instance_norm_matches_torch(dtype, cls, tcls, x_shape, kw):
    g, t = randomize(cls(4, **kw)), tcls(4, **kw)
    run_pair(g, t, random_array(x_shape), dtype)
    run_pair(g, t, random_array(x_shape, seed=5), dtype, copy_weights=False)
    run_pair(g, t, random_array(x_shape, seed=6), dtype, train=False, copy_weights=False)
    assert list(g.state_dict()) == list(t.state_dict())


@pytest.mark.parametrize("dtype", DTYPES)
def test_instance_norm_empty_batch(dtype):
    """PyTorch turns its running statistics into nan on an empty batch (and fails with
    affine=True); gradkit leaves them and gives an empty output."""
    run_pair(nn.InstanceNorm1d(4), torch.nn.InstanceNorm1d(4), random_array((0, 4, 6)), dtype)
    assert nn.InstanceNorm1d(4, affine=True)(gk.zeros(0, 4, 6)).shape == (0, 4, 6)
    g = nn.InstanceNorm1d(4, track_running_stats=True)
    assert g(gk.zeros(0, 4, 6)).shape == (0, 4, 6)
    np.testing.assert_array_equal(g.running_mean.numpy(), 0)


def test_instance_norm_functional_and_errors():
    x, w, b = (gk64(random_array(s, seed=i)) for i, s in enumerate([(2, 3, 4), (3,), (3,)]))
    assert gradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (x, w, b))
    rm, rv = np.zeros(3), np.ones(3)
    trm, trv = torch.tensor(rm), torch.tensor(rv)
    check([], lambda x: TF.instance_norm(x, trm, trv, use_input_stats=True, momentum=0.5),
          lambda x: F.instance_norm(x, gk.tensor(rm), gk.tensor(rv), momentum=0.5),
          arrays=[random_array((2, 3, 5))])
    gm, gv = gk.tensor(np.zeros(3)), gk.tensor(np.ones(3))
    F.instance_norm(gk.tensor(random_array((2, 3, 5))), gm, gv, momentum=0.5)
    np.testing.assert_allclose(gm.numpy(), trm.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gv.numpy(), trv.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        F.instance_norm(gk.zeros(2, 3, 1))
    with pytest.raises(ShapeError, match=r"InstanceNorm1d\(3\): expected input \(N, 3, L\) or "
                                         r"\(3, L\), got \(2, 3, 4, 5\)"):
        nn.InstanceNorm1d(3)(gk.zeros(2, 3, 4, 5))
    with pytest.raises(ShapeError, match="InstanceNorm2d"):
        nn.InstanceNorm2d(3, affine=True)(gk.zeros(2, 4, 4, 5))
    with pytest.warns(UserWarning):
        nn.InstanceNorm2d(3)(gk.randn(2, 4, 4, 5))
    assert repr(nn.InstanceNorm2d(3)) == repr(torch.nn.InstanceNorm2d(3))
    t = torch.nn.InstanceNorm1d(3, affine=True, track_running_stats=True)
    t(torch.randn(4, 3, 5))
    g = nn.InstanceNorm1d(3, affine=True, track_running_stats=True)
    g.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    np.testing.assert_array_equal(g.running_var.numpy(), t.running_var.numpy())
    assert g.running_var.dtype == np.float32 and list(g.state_dict()) == list(t.state_dict())


# ----- LocalResponseNorm -----

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size, x_shape, kw", [
    (5, (2, 7, 4, 3), {}), (2, (3, 4, 5), {"alpha": 0.1, "beta": 0.5, "k": 2.0}),
    (3, (2, 5, 2, 2, 2), {"alpha": 0.3}), (1, (2, 3, 4), {"alpha": 1.0}),
    (9, (1, 4, 3), {"alpha": 0.5}), (4, (0, 4, 3), {}),
])
def test_local_response_norm_matches_torch(dtype, size, x_shape, kw):
    run_pair(nn.LocalResponseNorm(size, **kw), torch.nn.LocalResponseNorm(size, **kw),
             random_array(x_shape), dtype)


def test_local_response_norm_gradcheck_and_errors():
    x = gk64(random_array((2, 6, 3)))
    assert gradcheck(lambda x: F.local_response_norm(x, 4, alpha=0.5, beta=0.8, k=1.5), (x,))
    check([(2, 3, 5)], lambda x: TF.local_response_norm(x.transpose(1, 2), 3, alpha=0.2),
          lambda x: F.local_response_norm(x.transpose(1, 2), 3, alpha=0.2))
    with pytest.raises(ShapeError, match=r"LocalResponseNorm\(2\): expected input \(N, C, \*\) "
                                         r"with 3 or more dims, got \(4, 5\)"):
        nn.LocalResponseNorm(2)(gk.zeros(4, 5))
    assert repr(nn.LocalResponseNorm(2)) == repr(torch.nn.LocalResponseNorm(2))
