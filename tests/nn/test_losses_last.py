"""multilabel_margin_loss / MultiLabelMarginLoss and triplet_margin_with_distance_loss /
TripletMarginWithDistanceLoss against PyTorch: every reduction, float64 and float32, target
lists with repeats and early ends, swap, custom distances, gradcheck, and the errors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings, strategies as st

import gradkit as gk
import gradkit.nn.functional as F
from gradkit import nn
from gradkit.autograd import gradcheck
from oracle import check

F64, F32 = np.float64, np.float32
REDUCTIONS = ["mean", "sum", "none"]
TARGET = np.array([[3, 0, -1, 1], [1, 1, -1, 2], [-1, 0, 0, 0], [0, 1, 2, 3], [2, -1, -1, -1]])


# ----- multilabel_margin_loss -----

@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_matches_torch(reduction, dtype):
    check([(5, 4)], lambda x: TF.multilabel_margin_loss(x, torch.tensor(TARGET),
                                                        reduction=reduction),
          lambda x: F.multilabel_margin_loss(x, gk.tensor(TARGET), reduction=reduction),
          dtype=dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_one_sample_and_transposed(reduction):
    target = np.array([2, 0, -1, 1])
    check([(4,)], lambda x: TF.multilabel_margin_loss(x, torch.tensor(target),
                                                      reduction=reduction),
          lambda x: F.multilabel_margin_loss(x, gk.tensor(target), reduction=reduction))
    check([(4, 5)], lambda x: TF.multilabel_margin_loss(x.t(), torch.tensor(TARGET),
                                                        reduction=reduction),
          lambda x: F.multilabel_margin_loss(x.t(), gk.tensor(TARGET), reduction=reduction))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_empty_batch_and_one_class(reduction):
    # An empty batch: PyTorch's CPU kernel leaves a reduced result uninitialised (usually 0.0,
    # sometimes whatever the allocator hands back), so it is no oracle here; gradkit gives 0.0
    # for "mean" and "sum" (the loss of no samples) and an empty array for "none".
    x = gk.zeros((0, 3), dtype=np.float64, requires_grad=True)
    loss = F.multilabel_margin_loss(x, gk.tensor(np.zeros((0, 3), np.int64)), reduction=reduction)
    assert loss.shape == ((0,) if reduction == "none" else ())
    np.testing.assert_array_equal(loss.numpy(), np.zeros(loss.shape))
    loss.sum().backward()
    assert x.grad.shape == (0, 3)
    one = np.array([[0], [-1]])
    check([(2, 1)], lambda x: TF.multilabel_margin_loss(x, torch.tensor(one),
                                                        reduction=reduction),
          lambda x: F.multilabel_margin_loss(x, gk.tensor(one), reduction=reduction))


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 4), c=st.integers(1, 6), seed=st.integers(0, 1000))
def test_multilabel_margin_drawn_targets(n, c, seed):
    target = np.random.default_rng(seed).integers(-1, c, size=(n, c))
    check([(n, c)], lambda x: TF.multilabel_margin_loss(x, torch.tensor(target)),
          lambda x: F.multilabel_margin_loss(x, gk.tensor(target)), seed=seed)


def test_multilabel_margin_gradcheck_and_module():
    x = gk.tensor(np.random.default_rng(1).uniform(-2, 2, (5, 4)), requires_grad=True)
    assert gradcheck(lambda t: F.multilabel_margin_loss(t, gk.tensor(TARGET)), (x,))
    for reduction in REDUCTIONS:
        g = nn.MultiLabelMarginLoss(reduction=reduction)
        t = torch.nn.MultiLabelMarginLoss(reduction=reduction)
        assert repr(g) == repr(t)
        np.testing.assert_allclose(g(x, gk.tensor(TARGET)).numpy(),
                                   t(torch.tensor(x.numpy()), torch.tensor(TARGET)).numpy(),
                                   rtol=1e-12)
    assert nn.MultiLabelMarginLoss(size_average=False).reduction == "sum"


@pytest.mark.parametrize("x_shape, target", [
    ((3, 4), np.zeros((3, 3), np.int64)),       # inconsistent target size
    ((3, 4), np.full((3, 4), 4)),               # class out of range
    ((3, 4), np.full((3, 4), -2)),              # below −1
    ((3, 4), np.zeros((3, 4), np.float32)),     # not an integer target
    ((2, 3, 4), np.zeros((2, 3, 4), np.int64)),  # 3-d input
    ((0,), np.zeros((0,), np.int64)),           # empty vector
])
def test_multilabel_margin_bad_input(x_shape, target):
    with pytest.raises(RuntimeError):
        TF.multilabel_margin_loss(torch.zeros(x_shape), torch.tensor(target))
    with pytest.raises(RuntimeError, match="multilabel_margin_loss"):
        F.multilabel_margin_loss(gk.zeros(x_shape), gk.tensor(target))


def test_multilabel_margin_refuses_integer_scores_and_bad_reduction():
    with pytest.raises(TypeError):
        F.multilabel_margin_loss(gk.tensor([[1, 2]]), gk.tensor([[0, -1]]))
    with pytest.raises(ValueError):
        F.multilabel_margin_loss(gk.zeros(2, 2), gk.tensor([[0, -1]] * 2), reduction="avg")


# ----- triplet_margin_with_distance_loss -----

def _cosine_distance(mod):
    return lambda u, v: 1 - mod.cosine_similarity(u, v)


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_with_distance_default_matches_torch(reduction, swap, dtype):
    check([(6, 5)] * 3, lambda a, p, n: TF.triplet_margin_with_distance_loss(
              a, p, n, margin=1.5, swap=swap, reduction=reduction),
          lambda a, p, n: F.triplet_margin_with_distance_loss(
              a, p, n, margin=1.5, swap=swap, reduction=reduction), dtype=dtype)


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_with_distance_custom_distance(swap, dtype):
    check([(4, 3)] * 3, lambda a, p, n: TF.triplet_margin_with_distance_loss(
              a, p, n, distance_function=_cosine_distance(TF), margin=0.3, swap=swap),
          lambda a, p, n: F.triplet_margin_with_distance_loss(
              a, p, n, distance_function=_cosine_distance(F), margin=0.3, swap=swap),
          dtype=dtype)
    check([(4, 3)] * 3, lambda a, p, n: TF.triplet_margin_with_distance_loss(
              a, p, n, distance_function=torch.nn.PairwiseDistance(p=1)),
          lambda a, p, n: F.triplet_margin_with_distance_loss(
              a, p, n, distance_function=nn.PairwiseDistance(p=1)), dtype=dtype)


def test_triplet_with_distance_one_triplet_broadcast_and_transposed():
    check([(5,)] * 3, lambda a, p, n: TF.triplet_margin_with_distance_loss(a, p, n),
          lambda a, p, n: F.triplet_margin_with_distance_loss(a, p, n))
    check([(3, 4), (1, 4), (3, 4)],
          lambda a, p, n: TF.triplet_margin_with_distance_loss(a, p, n, reduction="none"),
          lambda a, p, n: F.triplet_margin_with_distance_loss(a, p, n, reduction="none"))
    check([(4, 3)] * 3, lambda a, p, n: TF.triplet_margin_with_distance_loss(a.t(), p.t(), n),
          lambda a, p, n: F.triplet_margin_with_distance_loss(a.t(), p.t(), n), seed=2,
          arrays=[np.random.default_rng(k).uniform(-2, 2, s)
                  for k, s in enumerate([(4, 3), (4, 3), (3, 4)])])


def test_triplet_with_distance_gradcheck():
    rng = np.random.default_rng(3)
    a, p, n = (gk.tensor(rng.uniform(-2, 2, (4, 3)), requires_grad=True) for _ in range(3))
    assert gradcheck(lambda *t: F.triplet_margin_with_distance_loss(*t, swap=True), (a, p, n))
    assert gradcheck(lambda *t: F.triplet_margin_with_distance_loss(
        *t, distance_function=_cosine_distance(F), margin=0.5), (a, p, n))


def test_triplet_with_distance_module():
    g, t = nn.TripletMarginWithDistanceLoss(), torch.nn.TripletMarginWithDistanceLoss()
    assert repr(g) == repr(t)
    assert list(g.state_dict()) == list(t.state_dict()) == []
    rng = np.random.default_rng(4)
    arrays = [rng.uniform(-2, 2, (5, 3)) for _ in range(3)]
    for kwargs in [{}, {"margin": 0.5, "swap": True, "reduction": "none"},
                   {"distance_function": None, "reduction": "sum"}]:
        out_g = nn.TripletMarginWithDistanceLoss(**kwargs)(*map(gk.tensor, arrays))
        out_t = torch.nn.TripletMarginWithDistanceLoss(**kwargs)(*map(torch.tensor, arrays))
        np.testing.assert_allclose(out_g.numpy(), out_t.numpy(), rtol=1e-12)
    custom = nn.TripletMarginWithDistanceLoss(distance_function=_cosine_distance(F))
    tcustom = torch.nn.TripletMarginWithDistanceLoss(distance_function=_cosine_distance(TF))
    np.testing.assert_allclose(custom(*map(gk.tensor, arrays)).numpy(),
                               tcustom(*map(torch.tensor, arrays)).numpy(), rtol=1e-12)


def test_triplet_with_distance_errors():
    a = torch.zeros(3, 4)
    g = gk.zeros(3, 4)
    with pytest.raises(ValueError):
        TF.triplet_margin_with_distance_loss(a, a, a, margin=0)
    with pytest.raises(ValueError, match="margin"):
        F.triplet_margin_with_distance_loss(g, g, g, margin=0)
    with pytest.raises(ValueError):
        torch.nn.TripletMarginWithDistanceLoss(margin=-1)
    with pytest.raises(ValueError, match="margin"):
        nn.TripletMarginWithDistanceLoss(margin=-1)
    with pytest.raises(ValueError):
        TF.triplet_margin_with_distance_loss(a, a, a, reduction="avg")
    with pytest.raises(ValueError, match="reduction"):
        F.triplet_margin_with_distance_loss(g, g, g, reduction="avg")
    with pytest.raises(RuntimeError):
        TF.triplet_margin_with_distance_loss(a, a, torch.zeros(4))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        F.triplet_margin_with_distance_loss(g, g, gk.zeros(4))
    with pytest.raises(TypeError):
        TF.triplet_margin_with_distance_loss(a, a, a, 1.0)
    with pytest.raises(TypeError):
        F.triplet_margin_with_distance_loss(g, g, g, 1.0)
