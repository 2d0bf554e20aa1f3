"""The distribution and margin losses against PyTorch: every reduction, float64 and float32,
the options, broadcasting, gradcheck, the modules, and the errors."""

import warnings

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

F64, F32 = np.float64, np.float32
REDUCTIONS = ["mean", "sum", "none"]
DTYPES = [F64, F32]


def rand(*shape, low=-2.0, high=2.0, seed=0, dtype=F64):
    return np.random.default_rng(seed).uniform(low, high, shape).astype(dtype)


def signs(*shape, seed=3, dtype=F64):
    return np.where(np.random.default_rng(seed).random(shape) < 0.5, -1.0, 1.0).astype(dtype)


def both(name, const=(), **options):
    """torch's and gradkit's F.<name> with constant trailing arrays and keyword options."""
    def t(*xs):
        return getattr(TF, name)(*xs, *(torch.tensor(c) for c in const), **options)

    def g(*xs):
        return getattr(F, name)(*xs, *(gk.tensor(c) for c in const), **options)
    return t, g


def quiet(fn):
    def run(*xs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*xs)
    return run


# ----- kl_div -----

def log_probs(*shape, seed=0, dtype=F64):
    z = np.random.default_rng(seed).standard_normal(shape)
    return (z - np.log(np.exp(z).sum(-1, keepdims=True))).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(log_target, reduction, dtype):
    x, t = log_probs(4, 5, dtype=dtype), log_probs(4, 5, seed=1, dtype=dtype)
    if not log_target:
        t = np.exp(t)
    tf, gf = both("kl_div", reduction=reduction, log_target=log_target)
    check([], quiet(tf), quiet(gf), dtype=dtype, arrays=[x, t])


def test_kl_div_zero_target_broadcast_and_scalar():
    x, t = log_probs(3, 4), np.array([0.0, 0.5, 0.5, 0.0])
    xt = torch.tensor(x, requires_grad=True)
    xg = gk.tensor(x, requires_grad=True)
    TF.kl_div(xt, torch.tensor(t), reduction="batchmean").backward()
    out = F.kl_div(xg, gk.tensor(t), reduction="batchmean")
    out.backward()
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    assert np.isfinite(out.item())
    t1, g1 = both("kl_div", reduction="batchmean")
    check([], t1, g1, arrays=[np.array(-0.7), np.array(0.3)])


def test_kl_div_mean_warns_like_torch():
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F.kl_div(gk.zeros(2, 3), gk.ones(2, 3))
    with pytest.warns(UserWarning):
        nn.KLDivLoss()(gk.zeros(2, 3), gk.ones(2, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.kl_div(gk.zeros(2, 3), gk.ones(2, 3), reduction="batchmean")
        F.kl_div(gk.zeros(2, 3), gk.ones(2, 3), size_average=False)


# ----- poisson_nll_loss -----

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("full", [False, True])
def test_poisson_nll_matches_torch(full, log_input, reduction, dtype):
    x = rand(4, 5, low=-1, high=1.5, dtype=dtype) if log_input else rand(
        4, 5, low=0.05, high=4, dtype=dtype)
    counts = np.random.default_rng(5).integers(0, 6, (4, 5)).astype(dtype)
    tf, gf = both("poisson_nll_loss", (counts,), log_input=log_input, full=full,
                  reduction=reduction)
    check([], tf, gf, dtype=dtype, arrays=[x])
    t = rand(4, 5, low=0.2, high=5, seed=6, dtype=dtype)  # positive targets: finite grads
    tf, gf = both("poisson_nll_loss", log_input=log_input, full=full, reduction=reduction)
    check([], tf, gf, dtype=dtype, arrays=[x, t])


def test_poisson_nll_broadcast_and_eps():
    tf, gf = both("poisson_nll_loss", log_input=False, eps=1e-3)
    check([], tf, gf, arrays=[rand(3, 4, low=0, high=2), rand(4, low=0.5, high=3, seed=2)])


# ----- gaussian_nll_loss -----

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("var_shape", [(4, 3), (4,), (4, 1), (1, 3)])
def test_gaussian_nll_matches_torch(var_shape, full, reduction, dtype):
    var = rand(*var_shape, low=0.1, high=2, seed=4, dtype=dtype)
    var.flat[0] = 1e-9  # below eps: clamped, the gradient still flows (as PyTorch)
    tf, gf = both("gaussian_nll_loss", full=full, reduction=reduction)
    check([], tf, gf, dtype=dtype, arrays=[rand(4, 3, dtype=dtype),
                                           rand(4, 3, seed=1, dtype=dtype), var])


def test_gaussian_nll_float_var_and_target_broadcast():
    t1 = lambda x, t: TF.gaussian_nll_loss(x, t, 0.5, eps=1e-3)  # noqa: E731
    g1 = lambda x, t: F.gaussian_nll_loss(x, t, 0.5, eps=1e-3)  # noqa: E731
    check([], t1, g1, arrays=[rand(3, 4), rand(4, seed=1)])


def test_gaussian_nll_errors():
    x = gk.zeros(3, 4)
    with pytest.raises(ShapeError, match=r"gaussian_nll_loss.*\(4,\).*\(3, 4\)"):
        F.gaussian_nll_loss(x, x, gk.ones(4))
    with pytest.raises(ValueError, match="negative"):
        F.gaussian_nll_loss(x, x, -gk.ones(3, 4))
    with pytest.raises(ValueError, match="negative"):
        F.gaussian_nll_loss(x, x, -1.0)
    with pytest.raises(ValueError, match="reduction"):
        F.gaussian_nll_loss(x, x, gk.ones(3, 4), reduction="batchmean")
    with pytest.raises(ValueError, match="incorrect size"):
        TF.gaussian_nll_loss(torch.zeros(3, 4), torch.zeros(3, 4), torch.ones(4))


# ----- margin losses -----

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_ranking_matches_torch(reduction, dtype):
    tf, gf = both("margin_ranking_loss", margin=0.3, reduction=reduction)
    check([], tf, gf, dtype=dtype, arrays=[rand(6, dtype=dtype), rand(6, seed=1, dtype=dtype),
                                           signs(6, dtype=dtype)])
    check([], tf, gf, dtype=dtype, arrays=[rand(3, 1, dtype=dtype),
                                           rand(1, 4, seed=1, dtype=dtype),
                                           signs(3, 4, dtype=dtype)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, margin", [("hinge_embedding_loss", 1.5),
                                          ("soft_margin_loss", None)])
def test_label_losses_match_torch(name, margin, reduction, dtype):
    options = dict(reduction=reduction) if margin is None else dict(margin=margin,
                                                                      reduction=reduction)
    y = signs(5, 4, dtype=dtype)
    tf, gf = both(name, (y,), **options)
    check([], tf, gf, dtype=dtype, arrays=[rand(5, 4, low=-1, high=3, dtype=dtype)])
    tf, gf = both(name, (y[0],), **options)
    check([], tf, gf, dtype=dtype, arrays=[rand(5, 4, dtype=dtype).T.copy().T])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cosine_embedding_matches_torch(reduction, dtype):
    y = np.array([1.0, -1.0, 1.0, -1.0, -1.0, 0.0], dtype)
    tf, gf = both("cosine_embedding_loss", (y,), margin=-0.2, reduction=reduction)
    check([], tf, gf, dtype=dtype, arrays=[rand(6, 4, dtype=dtype), rand(6, 4, seed=1,
                                                                         dtype=dtype)])
    check([], tf, gf, dtype=dtype, arrays=[rand(1, 4, dtype=dtype), rand(6, 4, seed=1,
                                                                         dtype=dtype)])
    tf, gf = both("cosine_embedding_loss", (np.array(-1.0, dtype),), reduction=reduction)
    check([], tf, gf, dtype=dtype, arrays=[rand(4, dtype=dtype), rand(4, seed=2, dtype=dtype)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [2, 1, 3.0, float("inf")])
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_matches_torch(swap, p, reduction, dtype):
    tf, gf = both("triplet_margin_loss", margin=2.0, p=p, swap=swap, reduction=reduction)
    arrays = [rand(7, 5, dtype=dtype), rand(7, 5, seed=1, dtype=dtype),
              rand(7, 5, seed=2, dtype=dtype)]
    check([], tf, gf, dtype=dtype, arrays=arrays)
    check([], tf, gf, dtype=dtype, arrays=[rand(5, dtype=dtype), rand(1, 5, seed=1,
                                                                      dtype=dtype)[0],
                                           rand(5, seed=2, dtype=dtype)])


def test_triplet_broadcast_and_batch_dims():
    tf, gf = both("triplet_margin_loss", swap=True, reduction="none")
    check([], tf, gf, arrays=[rand(2, 3, 4), rand(1, 3, 4, seed=1), rand(2, 1, 4, seed=2)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_multilabel_soft_margin_matches_torch(weighted, reduction, dtype):
    const = (rand(3, low=0.2, high=2, seed=9, dtype=dtype),) if weighted else ()
    tf, gf = both("multilabel_soft_margin_loss", const, reduction=reduction)
    targets = (np.random.default_rng(4).random((5, 3)) < 0.5).astype(dtype)
    check([], tf, gf, dtype=dtype, arrays=[rand(5, 3, dtype=dtype), targets])
    check([], tf, gf, dtype=dtype, arrays=[rand(3, dtype=dtype), targets[0]])


@settings(max_examples=20, deadline=None)
@given(n=st.integers(0, 4), d=st.integers(1, 4), swap=st.booleans())
def test_triplet_and_cosine_drawn_shapes(n, d, swap):
    tf, gf = both("triplet_margin_loss", swap=swap, reduction="sum")
    check([(n, d)] * 3, tf, gf)
    tf, gf = both("cosine_embedding_loss", (signs(n),), reduction="sum")
    check([(n, d)] * 2, tf, gf)


def test_empty_batches_match_torch():
    for name in ("soft_margin_loss", "hinge_embedding_loss"):
        tf, gf = both(name, (np.ones((0, 3)),), reduction="sum")
        check([(0, 3)], tf, gf)
    tf, gf = both("kl_div", reduction="batchmean")
    check([(0, 3), (0, 3)], tf, gf)


# ----- gradcheck -----

def test_losses_gradcheck():
    def var(*shape, low=-1.0, high=1.0, seed=0):
        return gk.tensor(rand(*shape, low=low, high=high, seed=seed), requires_grad=True)
    y = gk.tensor(signs(4, 3))
    x, t = var(4, 3), var(4, 3, low=0.2, high=1, seed=1)
    assert gradcheck(lambda a, b: F.kl_div(a, b, reduction="batchmean"), (x, t))
    assert gradcheck(lambda a, b: F.kl_div(a, b, reduction="sum", log_target=True), (x, t))
    assert gradcheck(lambda a, b: F.poisson_nll_loss(a, b * 3, full=True), (x, t))
    assert gradcheck(lambda a, b, v: F.gaussian_nll_loss(a, b, v, full=True),
                     (x, t, var(4, 1, low=0.5, high=2, seed=2)))
    assert gradcheck(lambda a, b, c: F.margin_ranking_loss(a, b, c, margin=0.1),
                     (x, var(4, 3, seed=3), var(4, 3, seed=4)))
    assert gradcheck(lambda a: F.hinge_embedding_loss(a, y, margin=0.7), (x,))
    assert gradcheck(lambda a: F.soft_margin_loss(a, y), (x,))
    assert gradcheck(lambda a, b: F.cosine_embedding_loss(a, b, y[:, 0], margin=-0.5),
                     (x, var(4, 3, seed=5)))
    assert gradcheck(lambda a, b: F.multilabel_soft_margin_loss(a, b), (x, t))
    for p, swap in ((2, True), (1.5, False)):
        assert gradcheck(lambda a, b, c: F.triplet_margin_loss(a, b, c, margin=3, p=p,
                                                               swap=swap),
                         (x, var(4, 3, seed=6), var(4, 3, seed=7)))


# ----- modules -----

MODULES = [  # (gradkit module, torch module, arrays of the call)
    (nn.KLDivLoss(reduction="batchmean", log_target=True),
     torch.nn.KLDivLoss(reduction="batchmean", log_target=True),
     [log_probs(3, 4), log_probs(3, 4, seed=1)]),
    (nn.PoissonNLLLoss(log_input=False, full=True, eps=1e-4),
     torch.nn.PoissonNLLLoss(log_input=False, full=True, eps=1e-4),
     [rand(3, 4, low=0.1, high=3), rand(3, 4, low=0.5, high=4, seed=1)]),
    (nn.GaussianNLLLoss(full=True, reduction="sum"),
     torch.nn.GaussianNLLLoss(full=True, reduction="sum"),
     [rand(3, 4), rand(3, 4, seed=1), rand(3, low=0.1, high=1, seed=2)]),
    (nn.CosineEmbeddingLoss(margin=0.1, reduction="sum"),
     torch.nn.CosineEmbeddingLoss(margin=0.1, reduction="sum"),
     [rand(5, 3), rand(5, 3, seed=1)], signs(5)),
    (nn.MarginRankingLoss(margin=0.5), torch.nn.MarginRankingLoss(margin=0.5),
     [rand(5), rand(5, seed=1), signs(5)]),
    (nn.HingeEmbeddingLoss(margin=2.0, reduction="sum"),
     torch.nn.HingeEmbeddingLoss(margin=2.0, reduction="sum"), [rand(5, 2)], signs(5, 2)),
    (nn.SoftMarginLoss(reduction="none"), torch.nn.SoftMarginLoss(reduction="none"),
     [rand(5, 2)], signs(5, 2)),
    (nn.MultiLabelSoftMarginLoss(weight=gk.tensor([1.0, 2.0])),
     torch.nn.MultiLabelSoftMarginLoss(weight=torch.tensor([1.0, 2.0], dtype=torch.float64)),
     [rand(5, 2), rand(5, 2, low=0, high=1, seed=1)]),
    (nn.TripletMarginLoss(margin=0.5, p=1, swap=True),
     torch.nn.TripletMarginLoss(margin=0.5, p=1, swap=True),
     [rand(5, 3), rand(5, 3, seed=1), rand(5, 3, seed=2)]),
]


@pytest.mark.parametrize("case", MODULES, ids=[type(c[0]).__name__ for c in MODULES])
def test_loss_modules_match_torch(case):
    gk_module, torch_module, arrays, *const = case

    def tf(*xs):
        return torch_module(*xs, *(torch.tensor(c) for c in const))

    def gf(*xs):
        return gk_module(*xs, *(gk.tensor(c) for c in const))
    check([], tf, gf, arrays=arrays)


def test_bce_with_logits_pos_weight_broadcast_over_extra_dims():
    pw = rand(3, 1, low=0.5, high=3, seed=8)  # (C, 1): one weight per channel of (N, C, L)

    def t(x, y):
        return TF.binary_cross_entropy_with_logits(x, y, pos_weight=torch.tensor(pw))

    def g(x, y):
        return F.binary_cross_entropy_with_logits(x, y, pos_weight=gk.tensor(pw))
    check([], t, g, arrays=[rand(2, 3, 4), rand(2, 3, 4, low=0, high=1, seed=1)])


# ----- errors -----

@pytest.mark.parametrize("call, match", [
    (lambda: F.kl_div(gk.zeros(3, 4), gk.zeros(3, 5), reduction="sum"), r"kl_div.*\(3, 4\).*\(3, 5\)"),
    (lambda: F.poisson_nll_loss(gk.zeros(3, 4), gk.zeros(2, 4)),
     r"poisson_nll_loss.*\(3, 4\).*\(2, 4\)"),
    (lambda: F.margin_ranking_loss(gk.zeros(3), gk.zeros(3), gk.zeros(3, 1)),
     r"margin_ranking_loss.*same number of dims.*\(3, 1\)"),
    (lambda: F.margin_ranking_loss(gk.zeros(3), gk.zeros(4), gk.zeros(3)),
     r"margin_ranking_loss.*\(3,\).*\(4,\)"),
    (lambda: F.hinge_embedding_loss(gk.zeros(3, 4), gk.zeros(3, 5)),
     r"hinge_embedding_loss.*\(3, 4\).*\(3, 5\)"),
    (lambda: F.soft_margin_loss(gk.zeros(3, 4), gk.zeros(2, 4)),
     r"soft_margin_loss.*\(3, 4\).*\(2, 4\)"),
    (lambda: F.cosine_embedding_loss(gk.zeros(3, 4), gk.zeros(3, 4), gk.ones(3, 1)),
     r"cosine_embedding_loss.*0-d or 1-d target.*\(3, 1\)"),
    (lambda: F.cosine_embedding_loss(gk.zeros(3, 4), gk.zeros(4), gk.ones(3)),
     r"cosine_embedding_loss.*\(3, 4\).*\(4,\)"),
    (lambda: F.cosine_embedding_loss(gk.zeros(3, 4), gk.zeros(3, 4), gk.ones(2)),
     r"cosine_embedding_loss.*\(2,\).*\(3, 4\)"),
    (lambda: F.triplet_margin_loss(gk.zeros(3, 4), gk.zeros(4), gk.zeros(3, 4)),
     r"triplet_margin_loss.*same number of dims.*\(3, 4\).*\(4,\)"),
    (lambda: F.triplet_margin_loss(gk.zeros(3, 4), gk.zeros(3, 5), gk.zeros(3, 4)),
     r"triplet_margin_loss.*\(3, 4\).*\(3, 5\)"),
    (lambda: F.multilabel_soft_margin_loss(gk.zeros(3, 4), gk.zeros(3, 5)),
     r"multilabel_soft_margin_loss.*\(3, 5\).*\(3, 4\)"),
])
def test_bad_shapes_raise_shape_error(call, match):
    with pytest.raises(ShapeError, match=match):
        call()


def test_legacy_size_average_and_reduce():
    x, y = rand(5, 2), signs(5, 2)
    for legacy, reduction in ((dict(size_average=False), "sum"), (dict(reduce=False), "none")):
        got = nn.SoftMarginLoss(**legacy)(gk.tensor(x), gk.tensor(y))
        want = TF.soft_margin_loss(torch.tensor(x), torch.tensor(y), reduction=reduction)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
        got = F.hinge_embedding_loss(gk.tensor(x), gk.tensor(y), **legacy)
        want = TF.hinge_embedding_loss(torch.tensor(x), torch.tensor(y), reduction=reduction)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


def test_bad_arguments_raise_like_torch():
    x = gk.zeros(3, 4)
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        F.triplet_margin_loss(x, x, x, margin=0)
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        nn.TripletMarginLoss(margin=-1)
    with pytest.raises(NotImplementedError, match="p > 0"):
        F.triplet_margin_loss(x, x, x, p=0)
    for fn in (F.kl_div, F.poisson_nll_loss, F.soft_margin_loss):
        with pytest.raises(ValueError, match="reduction"):
            fn(x, x, reduction="avg")
    with pytest.raises(ValueError, match="reduction"):
        nn.KLDivLoss(reduction="avg")
    with pytest.raises(TypeError, match=r"input\.float\(\)"):
        F.kl_div(gk.zeros(3, dtype=gk.int64), x, reduction="sum")
