"""CosineSimilarity, PairwiseDistance and Bilinear (layers and F.*) against PyTorch: values and
gradients with broadcasting, PyTorch's ε rules (vectors shorter than ε), p-norms; gradcheck;
Bilinear's init, state_dict and errors."""

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
from nn.torch_ref import random_array
from oracle import check

TF = torch.nn.functional
DTYPES = [np.float64, np.float32]


# ----- cosine_similarity -----

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes, dim", [
    ([(4, 5), (4, 5)], 1), ([(3, 4, 5), (3, 4, 5)], -1), ([(3, 4, 5), (4, 1)], 0),
    ([(5,), (5,)], 0), ([(2, 1, 3), (1, 4, 3)], 2), ([(0, 3), (0, 3)], 1), ([(4, 1), (4, 1)], 1),
])
def test_cosine_similarity_matches_torch(dtype, shapes, dim):
    check(shapes, lambda a, b: TF.cosine_similarity(a, b, dim),
          lambda a, b: F.cosine_similarity(a, b, dim), dtype=dtype)


def test_cosine_similarity_eps_rule_for_short_vectors():
    a = np.array([[1e-9, 2e-9, 0.0], [1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    b = np.array([[1.0, 0.5, 2.0], [1e-10, 0.0, 0.0], [1.0, 1.0, 1.0]])
    check([], lambda a, b: TF.cosine_similarity(a, b), lambda a, b: F.cosine_similarity(a, b),
          arrays=[a, b])
    check([], lambda a, b: TF.cosine_similarity(a, b, eps=0.5),
          lambda a, b: F.cosine_similarity(a, b, eps=0.5), arrays=[a * 0.1, b])


def test_cosine_similarity_layer_gradcheck_and_errors():
    a, b = (gk.tensor(random_array((3, 4), seed=i), requires_grad=True) for i in range(2))
    assert gradcheck(lambda a, b: F.cosine_similarity(a, b), (a, b))
    check([(4, 3), (4, 3)], lambda a, b: TF.cosine_similarity(a.t(), b.t()),
          lambda a, b: nn.CosineSimilarity()(a.t(), b.t()))
    assert repr(nn.CosineSimilarity(dim=0)) == "CosineSimilarity()"
    with pytest.raises(ShapeError, match=r"\(3, 4\).*\(3, 5\)"):
        F.cosine_similarity(gk.zeros(3, 4), gk.zeros(3, 5))
    with pytest.raises(IndexError):
        F.cosine_similarity(gk.zeros(3), gk.zeros(3))
    with pytest.raises(TypeError, match="CosineSimilarity"):
        nn.CosineSimilarity()(np.zeros(3), gk.zeros(3))


# ----- pairwise_distance -----

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, float("inf"), 0.0])
@pytest.mark.parametrize("shapes, keepdim", [
    ([(4, 5), (4, 5)], False), ([(4, 5), (5,)], True), ([(2, 3, 4), (3, 4)], False),
    ([(6,), (6,)], False), ([(3, 1), (3, 1)], True), ([(0, 3), (0, 3)], False),
])
def test_pairwise_distance_matches_torch(dtype, p, shapes, keepdim):
    check(shapes, lambda a, b: TF.pairwise_distance(a, b, p, keepdim=keepdim),
          lambda a, b: nn.PairwiseDistance(p, keepdim=keepdim)(a, b), dtype=dtype)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.sampled_from([1.0, 2.0, 3.0]))
def test_pairwise_distance_hypothesis(shape, p):
    check([shape, shape], lambda a, b: TF.pairwise_distance(a, b, p, eps=1e-3),
          lambda a, b: F.pairwise_distance(a, b, p, eps=1e-3), rtol=1e-8, atol=1e-10)


def test_pairwise_distance_gradcheck_and_equal_inputs():
    a, b = (gk.tensor(random_array((3, 4), seed=i), requires_grad=True) for i in range(2))
    assert gradcheck(lambda a, b: F.pairwise_distance(a, b, 3.0), (a, b))
    same = random_array((2, 3))
    check([], lambda a, b: TF.pairwise_distance(a, b, eps=0.0),
          lambda a, b: F.pairwise_distance(a, b, eps=0.0), arrays=[same, same.copy()])
    assert repr(nn.PairwiseDistance()) == "PairwiseDistance()"


# ----- Bilinear -----

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("in1, in2, out, lead, bias", [
    (3, 4, 5, (6,), True), (2, 2, 1, (1,), False), (3, 2, 4, (2, 3), True), (3, 4, 2, (), True),
    (3, 4, 2, (0,), True),
])
def test_bilinear_matches_torch(dtype, in1, in2, out, lead, bias):
    g, t = nn.Bilinear(in1, in2, out, bias), torch.nn.Bilinear(in1, in2, out, bias)
    x1, x2 = random_array(lead + (in1,), dtype, 1), random_array(lead + (in2,), dtype, 2)
    t.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in g.state_dict().items()})
    g.to(dtype)
    t.to(torch.float64 if dtype == np.float64 else torch.float32)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-5)
    a, b = gk.tensor(x1, requires_grad=True), gk.tensor(x2, requires_grad=True)
    ta, tb = torch.tensor(x1, requires_grad=True), torch.tensor(x2, requires_grad=True)
    y, yt = g(a, b), t(ta, tb)
    assert y.dtype == dtype and y.shape == tuple(yt.shape)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), **tol)
    up = np.random.default_rng(3).standard_normal(y.shape).astype(dtype)
    y.backward(gk.tensor(up))
    yt.backward(torch.tensor(up))
    for mine, theirs in [(a, ta), (b, tb)] + [(p, dict(t.named_parameters())[n])
                                             for n, p in g.named_parameters()]:
        assert mine.grad.dtype == dtype
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), **tol)


def test_bilinear_init_state_dict_gradcheck_errors():
    gk.manual_seed(0)
    g = nn.Bilinear(4, 3, 200)
    assert g.weight.shape == (200, 4, 3) and g.weight.dtype == np.float32
    assert np.abs(g.weight.numpy()).max() <= 0.5 and np.abs(g.weight.numpy()).max() > 0.45
    assert np.abs(g.bias.numpy()).max() <= 0.5
    t = torch.nn.Bilinear(4, 3, 200)
    g.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    assert list(g.state_dict()) == list(t.state_dict()) and repr(g) == repr(t)
    x1, x2, w, b = (gk.tensor(random_array(s, seed=i), requires_grad=True)
                    for i, s in enumerate([(2, 3), (2, 4), (5, 3, 4), (5,)]))
    assert gradcheck(lambda x1, x2, w, b: F.bilinear(x1, x2, w, b), (x1, x2, w, b))
    check([(3, 2), (4, 2), (5, 3, 4)], lambda a, b, w: TF.bilinear(a.t(), b.t(), w),
          lambda a, b, w: F.bilinear(a.t(), b.t(), w))
    with pytest.raises(ShapeError, match=r"Bilinear\(4, 3→200\): expected inputs \(\*, 4\) and "
                                         r"\(\*, 3\) with the same leading dims, got \(2, 4\) "
                                         r"and \(3, 3\)"):
        g(gk.zeros(2, 4), gk.zeros(3, 3))
    with pytest.raises(RuntimeError, match="bilinear"):
        F.bilinear(gk.zeros(2, 4), gk.zeros(2, 3), gk.zeros(5, 3, 4))
