"""Every loss against PyTorch (every option, every reduction, float64 and float32), gradcheck
in float64, stability for logits of ±1e4, and the errors."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradkit as gk
import gradkit.nn.functional as F
from gradkit import nn
from gradkit.autograd import gradcheck
from oracle import check

F64, F32 = np.float64, np.float32
REDUCTIONS = ["mean", "sum", "none"]


def logits(*shape, scale=2.0, seed=0):
    return np.random.default_rng(seed).uniform(-scale, scale, shape)


def labels(n, c, seed=1, shape=None):
    return np.random.default_rng(seed).integers(0, c, shape or (n,))


def soft_targets(*shape, seed=2):
    e = np.random.default_rng(seed).uniform(0.1, 1.0, shape)
    return e / e.sum(axis=1, keepdims=True)


def twin(fn_t, fn_g, **consts):
    """A torch lambda and a gradkit lambda with the same constant keyword arrays."""
    def t(*xs):
        return fn_t(*xs, **{k: (torch.tensor(v) if isinstance(v, np.ndarray) else v)
                            for k, v in consts.items()})

    def g(*xs):
        return fn_g(*xs, **{k: (gk.tensor(v) if isinstance(v, np.ndarray) else v)
                            for k, v in consts.items()})
    return t, g


def cast(arrays, dtype):
    return [a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays]


CLASS_W = np.array([0.5, 2.0, 1.0, 1.5, 0.2])

CE_CASES = [  # (id, input, target, options)
    ("plain", logits(6, 5), labels(6, 5), {}),
    ("batch1", logits(1, 5), labels(1, 5), {}),
    ("weight", logits(6, 5), labels(6, 5), dict(weight=CLASS_W)),
    ("ignore", logits(6, 5), np.array([0, -100, 3, 4, -100, 1]), {}),
    ("ignore_custom", logits(6, 5), np.array([0, 2, 3, 2, 4, 1]), dict(ignore_index=2)),
    ("smoothing", logits(6, 5), labels(6, 5), dict(label_smoothing=0.1)),
    ("all_options", logits(6, 5), np.array([0, 2, 3, 2, 4, 1]),
     dict(weight=CLASS_W, ignore_index=2, label_smoothing=0.2)),
    ("kdim", logits(2, 5, 3, 4), labels(2, 5, shape=(2, 3, 4)), dict(weight=CLASS_W)),
    ("kdim_smooth", logits(2, 5, 3), labels(2, 5, shape=(2, 3)), dict(label_smoothing=0.3)),
    ("unbatched", logits(5), np.array(3), dict(label_smoothing=0.1)),
    ("probs", logits(6, 5), soft_targets(6, 5), {}),
    ("probs_weight_smooth", logits(6, 5), soft_targets(6, 5),
     dict(weight=CLASS_W, label_smoothing=0.15)),
    ("probs_kdim", logits(2, 5, 3), soft_targets(2, 5, 3), {}),
]


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CE_CASES, ids=lambda c: c[0])
def test_cross_entropy_matches_torch(case, reduction, dtype):
    _, x, y, options = case
    options = {k: (v.astype(dtype) if isinstance(v, np.ndarray) else v)
               for k, v in options.items()}
    t, g = twin(TF.cross_entropy, F.cross_entropy, reduction=reduction, **options)
    check([], t, g, dtype=dtype, arrays=cast([x, y], dtype))


@pytest.mark.parametrize("case", CE_CASES, ids=lambda c: c[0])
def test_cross_entropy_gradcheck(case):
    _, x, y, options = case
    options = {k: (gk.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in options.items()}
    xs = (gk.tensor(x, requires_grad=True), gk.tensor(y, requires_grad=y.dtype.kind == "f"))
    assert gradcheck(lambda a, b: F.cross_entropy(a, b, **options), xs)


NLL_CASES = [
    ("plain", {}), ("weight", dict(weight=CLASS_W)), ("ignore", dict(ignore_index=1)),
    ("both", dict(weight=CLASS_W, ignore_index=3)),
]


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", NLL_CASES, ids=lambda c: c[0])
def test_nll_loss_matches_torch(case, reduction, dtype):
    options = {k: (v.astype(dtype) if isinstance(v, np.ndarray) else v)
               for k, v in case[1].items()}
    t, g = twin(lambda x, y, **kw: TF.nll_loss(TF.log_softmax(x, 1), y, **kw),
                lambda x, y, **kw: F.nll_loss(F.log_softmax(x, 1), y, **kw),
                reduction=reduction, **options)
    check([], t, g, dtype=dtype, arrays=cast([logits(7, 5), labels(7, 5)], dtype))
    t, g = twin(TF.nll_loss, F.nll_loss, reduction=reduction, **options)
    check([], t, g, dtype=dtype, arrays=cast([logits(2, 5, 3), labels(2, 5, shape=(2, 3))],
                                             dtype))


def test_nll_loss_gradcheck():
    x = gk.tensor(logits(4, 5), requires_grad=True)
    y = gk.tensor(np.array([0, 4, 1, 1]))
    assert gradcheck(lambda a: F.nll_loss(a, y, weight=gk.tensor(CLASS_W), ignore_index=4), x)


def test_cross_entropy_label_errors_name_the_label():
    x = gk.zeros(3, 4)
    with pytest.raises(IndexError, match="target label 7 is out of range for 4 classes"):
        F.cross_entropy(x, gk.tensor([0, 7, 1]))
    with pytest.raises(IndexError, match="target label -1"):
        F.cross_entropy(x, gk.tensor([0, -1, 1]))
    with pytest.raises(ValueError, match=r"target of shape \(2,\) does not fit input \(3, 4\)"):
        F.cross_entropy(x, gk.tensor([0, 1]))
    with pytest.raises(ValueError, match="reduction must be"):
        F.cross_entropy(x, gk.tensor([0, 1, 2]), reduction="avg")


@pytest.mark.parametrize("dtype", [F64, F32])
def test_cross_entropy_stable_for_huge_logits(dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [5e3, 5e3, -1e4]])
    y = np.array([1, 2, 0])
    t, g = twin(TF.cross_entropy, F.cross_entropy, label_smoothing=0.1)
    check([], t, g, dtype=dtype, arrays=[x.astype(dtype), y], rtol=1e-6)
    out = F.cross_entropy(gk.tensor(x.astype(dtype), requires_grad=True), gk.tensor(y))
    assert np.isfinite(out.item()) and out.item() > 1e3


MARGIN_CASES = [dict(), dict(p=2), dict(margin=0.5), dict(weight=CLASS_W),
                dict(p=2, margin=2.0, weight=CLASS_W)]


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", MARGIN_CASES, ids=str)
def test_multi_margin_loss_matches_torch(options, reduction, dtype):
    options = {k: (v.astype(dtype) if isinstance(v, np.ndarray) else v)
               for k, v in options.items()}
    t, g = twin(TF.multi_margin_loss, F.multi_margin_loss, reduction=reduction, **options)
    check([], t, g, dtype=dtype, arrays=cast([logits(6, 5, scale=1.0), labels(6, 5)], dtype))
    check([], t, g, dtype=dtype, arrays=cast([logits(5, scale=1.0), np.array(2)], dtype))


def torch_weston_watkins(s, y, margin=1.0, squared=False, reduction="mean"):
    m = (s - s.gather(1, y[:, None]) + margin).clamp(min=0)
    m = m * (1 - TF.one_hot(y, s.shape[1]).to(s.dtype))
    per_sample = (m * m if squared else m).sum(1)
    return {"mean": per_sample.mean(), "sum": per_sample.sum(), "none": per_sample}[reduction]


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [dict(), dict(squared=True), dict(margin=0.3)], ids=str)
def test_multiclass_hinge_loss_is_weston_watkins(options, reduction, dtype):
    t, g = twin(torch_weston_watkins, F.multiclass_hinge_loss, reduction=reduction, **options)
    check([], t, g, dtype=dtype, arrays=cast([logits(8, 5, scale=1.0), labels(8, 5)], dtype))


def test_multiclass_hinge_is_multi_margin_times_class_count():
    x, y = gk.tensor(logits(6, 4)), gk.tensor(labels(6, 4))
    np.testing.assert_allclose(F.multiclass_hinge_loss(x, y).item(),
                               4 * F.multi_margin_loss(x, y).item(), rtol=1e-6)
    scores = gk.tensor([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
    per_sample = F.multiclass_hinge_loss(scores, gk.tensor([0, 1, 2]), reduction="none")
    np.testing.assert_allclose(per_sample.numpy(), [2.9, 0.0, 12.9], rtol=1e-5)  # cs231n


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_hinge_loss(reduction, dtype):
    y = np.where(np.random.default_rng(3).random((6, 4)) > 0.5, 1, -1)  # int: no gradient

    def t(f, y, margin=1.0):
        per_sample = (margin - y * f).clamp(min=0).sum(1)
        return {"mean": per_sample.mean(), "sum": per_sample.sum(), "none": per_sample}[
            reduction]

    check([], t, lambda f, y: F.multilabel_hinge_loss(f, y, reduction=reduction), dtype=dtype,
          arrays=cast([logits(6, 4), y], dtype))
    with pytest.raises(ValueError, match="-1 or \\+1"):
        F.multilabel_hinge_loss(gk.zeros(2, 2), gk.tensor([[0, 1], [1, 1]]))


def test_margin_losses_gradcheck():
    x = gk.tensor(logits(5, 4, scale=1.0), requires_grad=True)
    y = gk.tensor(labels(5, 4))
    w = gk.tensor(CLASS_W[:4])
    assert gradcheck(lambda a: F.multi_margin_loss(a, y, p=2, weight=w), x)
    assert gradcheck(lambda a: F.multi_margin_loss(a, y, margin=0.7), x)
    assert gradcheck(lambda a: F.multiclass_hinge_loss(a, y, squared=True), x)
    assert gradcheck(lambda a: F.multiclass_hinge_loss(a, y, reduction="none"), x)
    pm = gk.tensor(np.where(np.random.default_rng(4).random((5, 4)) > 0.5, 1.0, -1.0))
    assert gradcheck(lambda a: F.multilabel_hinge_loss(a, pm, reduction="sum"), x)


BCE_W = np.array([0.5, 1.0, 2.0])


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [dict(), dict(weight=BCE_W),
                                     dict(weight=np.linspace(0.1, 1, 12).reshape(4, 3))],
                         ids=["plain", "class_weight", "element_weight"])
def test_binary_cross_entropy_matches_torch(options, reduction, dtype):
    options = {k: v.astype(dtype) for k, v in options.items()}
    t, g = twin(TF.binary_cross_entropy, F.binary_cross_entropy, reduction=reduction, **options)
    x = 1 / (1 + np.exp(-logits(4, 3)))
    targets = np.random.default_rng(5).random((4, 3))
    check([], t, g, dtype=dtype, arrays=[x.astype(dtype), targets.astype(dtype)])


def test_binary_cross_entropy_clamps_log_like_torch():
    x = np.array([0.0, 1.0, 0.5, 1e-30])
    y = np.array([1.0, 0.0, 1.0, 1.0])
    got = F.binary_cross_entropy(gk.tensor(x), gk.tensor(y), reduction="none")
    want = TF.binary_cross_entropy(torch.tensor(x), torch.tensor(y), reduction="none")
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(gk.tensor([1.5]), gk.tensor([1.0]))


POS_W = np.array([3.0, 0.5, 1.0])


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [dict(), dict(weight=BCE_W), dict(pos_weight=POS_W),
                                     dict(weight=BCE_W, pos_weight=POS_W)],
                         ids=["plain", "weight", "pos_weight", "both"])
def test_bce_with_logits_matches_torch(options, reduction, dtype):
    options = {k: v.astype(dtype) for k, v in options.items()}
    t, g = twin(TF.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits,
                reduction=reduction, **options)
    targets = np.random.default_rng(6).random((5, 3))
    check([], t, g, dtype=dtype, arrays=[logits(5, 3, scale=4).astype(dtype),
                                         targets.astype(dtype)])
    huge = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0]], dtype)
    check([], t, g, dtype=dtype, arrays=[huge, np.array([[1, 1, 0], [0, 0, 1]], dtype)])


def test_binary_losses_gradcheck():
    x = gk.tensor(logits(4, 3), requires_grad=True)
    t = gk.tensor(np.random.default_rng(7).random((4, 3)), requires_grad=True)
    w, pw = gk.tensor(BCE_W), gk.tensor(POS_W)
    assert gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, w, pos_weight=pw),
                     (x, t))
    assert gradcheck(lambda a, b: F.binary_cross_entropy(a.sigmoid(), b, w), (x, t))


REGRESSION = [
    ("mse", TF.mse_loss, F.mse_loss, {}),
    ("l1", TF.l1_loss, F.l1_loss, {}),
    ("huber", TF.huber_loss, F.huber_loss, {}),
    ("huber_delta", TF.huber_loss, F.huber_loss, dict(delta=0.4)),
    ("smooth_l1", TF.smooth_l1_loss, F.smooth_l1_loss, {}),
    ("smooth_l1_beta", TF.smooth_l1_loss, F.smooth_l1_loss, dict(beta=0.3)),
    ("smooth_l1_beta0", TF.smooth_l1_loss, F.smooth_l1_loss, dict(beta=0.0)),
]


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", REGRESSION, ids=lambda c: c[0])
def test_regression_losses_match_torch(case, reduction, dtype):
    _, fn_t, fn_g, options = case
    t, g = twin(fn_t, fn_g, reduction=reduction, **options)
    check([(4, 5), (4, 5)], t, g, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about the broadcast target
        check([(4, 5), (5,)], t, g, dtype=dtype, seed=3)


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_weighted_regression_losses_match_torch(name, reduction, dtype):
    weight = np.random.default_rng(8).uniform(0.1, 2, (4, 5)).astype(dtype)
    t, g = twin(getattr(TF, name), getattr(F, name), reduction=reduction, weight=weight)
    check([(4, 5), (4, 5)], t, g, dtype=dtype)


@pytest.mark.parametrize("case", REGRESSION, ids=lambda c: c[0])
def test_regression_losses_gradcheck(case):
    _, _, fn_g, options = case
    a = gk.tensor(logits(3, 4, seed=1), requires_grad=True)
    b = gk.tensor(logits(3, 4, seed=2), requires_grad=True)
    assert gradcheck(lambda x, y: fn_g(x, y, **options), (a, b))


MODULES = [
    (nn.CrossEntropyLoss(label_smoothing=0.1), torch.nn.CrossEntropyLoss(label_smoothing=0.1),
     "labels"),
    (nn.CrossEntropyLoss(weight=gk.tensor(CLASS_W), ignore_index=1),
     torch.nn.CrossEntropyLoss(weight=torch.tensor(CLASS_W), ignore_index=1), "labels"),
    (nn.NLLLoss(reduction="sum"), torch.nn.NLLLoss(reduction="sum"), "labels"),
    (nn.MultiMarginLoss(p=2, margin=0.5), torch.nn.MultiMarginLoss(p=2, margin=0.5), "labels"),
    (nn.BCEWithLogitsLoss(pos_weight=gk.tensor(CLASS_W)),
     torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(CLASS_W)), "probs"),
    (nn.BCELoss(size_average=False), torch.nn.BCELoss(reduction="sum"), "sigmoid"),
    (nn.MSELoss(reduction="none"), torch.nn.MSELoss(reduction="none"), "real"),
    (nn.L1Loss(), torch.nn.L1Loss(), "real"),
    (nn.HuberLoss(delta=0.5), torch.nn.HuberLoss(delta=0.5), "real"),
    (nn.SmoothL1Loss(beta=0.5), torch.nn.SmoothL1Loss(beta=0.5), "real"),
]


@pytest.mark.parametrize("pair", MODULES, ids=lambda p: type(p[0]).__name__)
def test_loss_modules_match_torch(pair):
    g, t, kind = pair
    x = logits(6, 5)
    target = {"labels": labels(6, 5), "probs": np.random.default_rng(9).random((6, 5)),
              "real": logits(6, 5, seed=4), "sigmoid": np.random.default_rng(9).random((6, 5))
              }[kind]
    if kind == "sigmoid":
        check([], lambda a, b: t(a.sigmoid(), b), lambda a, b: g(a.sigmoid(), b),
              arrays=[x, target])
    else:
        check([], t, g, arrays=[x, target])
    assert repr(g) == repr(t)


def test_hinge_modules_and_weight_buffer():
    x, y = gk.tensor(logits(4, 3)), gk.tensor(labels(4, 3))
    assert nn.MultiClassHingeLoss(squared=True)(x, y).item() == pytest.approx(
        F.multiclass_hinge_loss(x, y, squared=True).item())
    pm = gk.tensor(np.ones((4, 3)))
    assert nn.MultiLabelHingeLoss()(x.double(), pm).item() == pytest.approx(
        F.multilabel_hinge_loss(x.double(), pm).item())
    assert list(nn.CrossEntropyLoss(weight=gk.ones(3)).state_dict()) == ["weight"]
