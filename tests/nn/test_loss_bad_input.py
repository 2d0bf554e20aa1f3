"""Losses under bad input, as PyTorch behaves: a broadcast target warns (same words, same
values), integer scores and a class weight of another dtype are refused with the fix."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradkit as gk
import gradkit.nn.functional as F
from gradkit import nn

BROADCAST = ("Using a target size (4,) that is different to the input size (4, 1). This will "
             "likely lead to incorrect results due to broadcasting. Please ensure they have "
             "the same size.")
TORCH_WORDS = ("Using a target size (torch.Size([4])) that is different to the input size "
               "(torch.Size([4, 1])). This will likely lead to incorrect results due to "
               "broadcasting. Please ensure they have the same size.")
REGRESSION = [(F.mse_loss, TF.mse_loss), (F.l1_loss, TF.l1_loss),
              (F.smooth_l1_loss, TF.smooth_l1_loss), (F.huber_loss, TF.huber_loss),
              (nn.MSELoss(), torch.nn.MSELoss()), (nn.L1Loss(), torch.nn.L1Loss()),
              (nn.SmoothL1Loss(), torch.nn.SmoothL1Loss()),
              (nn.HuberLoss(), torch.nn.HuberLoss())]


def _warnings_of(fn, *args):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn(*args)
    return out, [(w.category, str(w.message)) for w in caught]


@pytest.mark.parametrize("pair", REGRESSION, ids=lambda p: getattr(p[0], "__name__",
                                                                     type(p[0]).__name__))
def test_broadcast_target_warns_like_torch_and_computes_the_same(pair):
    gk_fn, torch_fn = pair
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((4, 1)), rng.standard_normal(4)
    got, got_warnings = _warnings_of(gk_fn, gk.tensor(x), gk.tensor(t))
    want, torch_warnings = _warnings_of(torch_fn, torch.tensor(x), torch.tensor(t))
    assert torch_warnings == [(UserWarning, TORCH_WORDS)]
    assert got_warnings == [(UserWarning, BROADCAST)]
    assert got.item() == pytest.approx(want.item(), rel=1e-12)  # the (4, 4) broadcast


@pytest.mark.parametrize("pair", REGRESSION[:4], ids=lambda p: p[0].__name__)
def test_same_shapes_do_not_warn(pair):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = pair[0](gk.ones(4, 1), gk.zeros(4, 1))
    assert out.item() == pytest.approx(1.0 if pair[0] in (F.mse_loss, F.l1_loss) else 0.5)


def test_broadcast_warning_points_at_the_caller():
    with pytest.warns(UserWarning, match="target size") as caught:
        F.mse_loss(gk.zeros(3, 1), gk.zeros(3))
    assert caught[0].filename == __file__


@pytest.mark.parametrize("call", [
    lambda x, y: F.cross_entropy(x, y), lambda x, y: F.nll_loss(x, y),
    lambda x, y: F.multi_margin_loss(x, y), lambda x, y: F.multiclass_hinge_loss(x, y),
    lambda x, y: F.mse_loss(x, x),
    lambda x, y: F.binary_cross_entropy_with_logits(x, x)],
    ids=["cross_entropy", "nll_loss", "multi_margin_loss", "multiclass_hinge_loss",
         "mse_loss", "bce_with_logits"])
def test_integer_scores_are_refused_with_the_fix(call):
    logits, labels = gk.tensor([[1, 2], [3, 4]]), gk.tensor([0, 1])
    with pytest.raises(TypeError, match=r"expected floating-point scores, got input of dtype "
                                        r"int64; convert it with input\.float\(\)"):
        call(logits, labels)


def test_a_list_input_is_refused_with_the_fix():
    with pytest.raises(TypeError, match=r"mse_loss: expected the input as a Tensor, got list; "
                                        r"wrap it with gk\.tensor\(\.\.\.\)"):
        F.mse_loss([1.0, 2.0], gk.tensor([1.0, 2.0]))


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss", "multi_margin_loss"])
def test_class_weight_of_another_dtype_is_refused_as_torch_does(name):
    x = np.random.default_rng(1).standard_normal((3, 4))
    y = np.array([0, 3, 1])
    with pytest.raises(RuntimeError, match="expected scalar type Double but found Float"):
        getattr(TF, name)(torch.tensor(x), torch.tensor(y), weight=torch.ones(4))
    with pytest.raises(TypeError, match=rf"{name}: the class weight has dtype float32 but the "
                                        r"input has float64; make them match, e\.g\. "
                                        r"weight\.to\(input\.dtype\)"):
        getattr(F, name)(gk.tensor(x), gk.tensor(y), weight=gk.ones(4))
    with pytest.raises(TypeError, match="class weight has dtype float64 but the input has "
                                        "float32"):
        getattr(F, name)(gk.tensor(x.astype(np.float32)), gk.tensor(y),
                         weight=np.ones(4))
    same = getattr(F, name)(gk.tensor(x), gk.tensor(y), weight=gk.ones(4).double())
    want = getattr(TF, name)(torch.tensor(x), torch.tensor(y), weight=torch.ones(4).double())
    assert same.item() == pytest.approx(want.item(), rel=1e-12)


def test_class_weight_as_a_list_takes_the_input_dtype():
    x = gk.tensor(np.zeros((2, 3)))
    out = F.cross_entropy(x, gk.tensor([0, 2]), weight=[1.0, 2.0, 3.0])
    assert out.dtype == np.float64 and out.item() == pytest.approx(np.log(3))
