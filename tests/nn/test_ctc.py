"""F.ctc_loss / nn.CTCLoss against torch.nn.functional.ctc_loss: padded and concatenated
targets, repeated labels, an empty target, an impossible alignment (inf, or 0 with
zero_infinity), every reduction, float32 and float64, unbatched input, and the errors."""

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

TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-4, atol=1e-5)}


def log_probs(t, n, c, seed=0, dtype=np.float64):
    z = np.random.default_rng(seed).standard_normal((t, n, c)) * 2
    return (z - np.log(np.exp(z).sum(-1, keepdims=True))).astype(dtype)


def compare(lp, targets, input_lengths, target_lengths, dtype=np.float64, **options):
    """Forward and the gradient with respect to log_probs, gradkit against torch."""
    lt = torch.tensor(lp, requires_grad=True)
    lg = gk.tensor(lp, requires_grad=True)
    want = TF.ctc_loss(lt, torch.tensor(targets), torch.tensor(input_lengths),
                       torch.tensor(target_lengths), **options)
    got = F.ctc_loss(lg, gk.tensor(targets), gk.tensor(input_lengths),
                     gk.tensor(target_lengths), **options)
    assert got.shape == tuple(want.shape) and got.dtype == dtype
    np.testing.assert_allclose(got.numpy(), want.detach().numpy(), **TOL[dtype])
    upstream = np.random.default_rng(9).standard_normal(got.shape).astype(dtype)
    want.backward(torch.tensor(upstream))
    got.backward(gk.tensor(upstream))
    assert lg.grad.dtype == dtype
    np.testing.assert_allclose(lg.grad.numpy(), lt.grad.numpy(), **TOL[dtype])
    return got


# Sample 0: repeats (1, 1, 2); sample 1: an empty target; sample 2: 3 3 3 needs 5 frames but
# has 4 (impossible); sample 3: shorter input; sample 4: blank-free, distinct labels.
TARGETS = np.array([[1, 1, 2, 0], [0, 0, 0, 0], [3, 3, 3, 0], [2, 4, 0, 0], [4, 1, 3, 2]])
TARGET_LENGTHS = np.array([3, 0, 3, 2, 4])
INPUT_LENGTHS = np.array([8, 6, 4, 5, 8])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_matches_torch(zero_infinity, reduction, dtype):
    lp = log_probs(8, 5, 5, dtype=dtype)
    out = compare(lp, TARGETS, INPUT_LENGTHS, TARGET_LENGTHS, dtype, reduction=reduction,
                  zero_infinity=zero_infinity)
    if reduction == "none":
        assert out.numpy()[2] == (0 if zero_infinity else np.inf)


def test_ctc_possible_samples_only_with_concatenated_targets_and_other_blank():
    keep = [0, 1, 3, 4]
    flat = np.concatenate([TARGETS[i, :TARGET_LENGTHS[i]] for i in keep]) % 4 + 1
    compare(log_probs(8, 4, 6, seed=1), flat, INPUT_LENGTHS[keep], TARGET_LENGTHS[keep],
            blank=0, reduction="mean")
    compare(log_probs(8, 4, 6, seed=2), np.where(flat == 5, 0, flat), INPUT_LENGTHS[keep],
            TARGET_LENGTHS[keep], blank=5, reduction="sum")


def test_ctc_unbatched_and_zero_input_length():
    lp = log_probs(6, 1, 4, seed=3)[:, 0]
    for reduction in ("none", "mean"):
        compare(lp, np.array([1, 2, 2]), np.array(6), np.array(3), reduction=reduction)
    compare(log_probs(4, 2, 5), np.array([[1, 2], [0, 0]]), np.array([4, 0]),
            np.array([2, 0]), reduction="none")


def test_ctc_non_contiguous_log_probs():
    lp = np.ascontiguousarray(log_probs(5, 3, 6, seed=4).transpose(1, 0, 2)).transpose(1, 0, 2)
    compare(lp, np.array([[1, 2], [3, 3], [5, 0]]), np.array([5, 5, 3]), np.array([2, 2, 1]))


@settings(max_examples=20, deadline=None)
@given(t=st.integers(1, 7), n=st.integers(1, 3), c=st.integers(2, 5), seed=st.integers(0, 99))
def test_ctc_drawn_problems(t, n, c, seed):
    rng = np.random.default_rng(seed)
    s = int(rng.integers(0, t + 1))
    targets = rng.integers(1, c, (n, max(s, 1)))
    compare(log_probs(t, n, c, seed=seed), targets, rng.integers(0, t + 1, n),
            rng.integers(0, s + 1, n), reduction="sum", zero_infinity=True)


def test_ctc_gradcheck_through_log_softmax():
    z = gk.tensor(np.random.default_rng(5).standard_normal((6, 2, 4)), requires_grad=True)
    y, lengths = gk.tensor(np.array([[1, 1, 3], [2, 0, 0]])), gk.tensor(np.array([3, 1]))
    frames = gk.tensor(np.array([6, 4]))
    assert gradcheck(lambda a: F.ctc_loss(F.log_softmax(a, dim=2), y, frames, lengths), (z,))


def test_ctc_module_matches_torch():
    lp = log_probs(8, 5, 5)
    lt, lg = torch.tensor(lp, requires_grad=True), gk.tensor(lp, requires_grad=True)
    args = (TARGETS, INPUT_LENGTHS, TARGET_LENGTHS)
    want = torch.nn.CTCLoss(zero_infinity=True)(lt, *map(torch.tensor, args))
    got = nn.CTCLoss(zero_infinity=True)(lg, *map(gk.tensor, args))
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-10)


@pytest.mark.parametrize("call, error, match", [
    (lambda lp: F.ctc_loss(lp, gk.tensor([[1, 2]]), gk.tensor([4, 4]), gk.tensor([1, 1])),
     ShapeError, r"ctc_loss: padded targets.*N = 2.*\(1, 2\)"),
    (lambda lp: F.ctc_loss(lp, gk.tensor([1, 2, 3]), gk.tensor([4, 4]), gk.tensor([1, 1])),
     ShapeError, r"concatenated targets.*2 labels.*\(3,\)"),
    (lambda lp: F.ctc_loss(lp, gk.tensor([[1], [1]]), gk.tensor([5, 4]), gk.tensor([1, 1])),
     RuntimeError, "at most T = 4"),
    (lambda lp: F.ctc_loss(lp, gk.tensor([[1], [1]]), gk.tensor([4, 4]), gk.tensor([1, 1]),
                           blank=5), RuntimeError, "blank must be in the label range"),
    (lambda lp: F.ctc_loss(lp, gk.tensor([[1], [1]]), gk.tensor([4, 4]),
                           gk.tensor([1, 1, 1])), RuntimeError, "target_lengths.*per sample"),
    (lambda lp: F.ctc_loss(lp, gk.tensor([[1], [1]]), gk.tensor([4, 4]),
                           gk.tensor([-1, 1])), RuntimeError, "non-negative"),
    (lambda lp: F.ctc_loss(lp, gk.tensor([[1], [9]]), gk.tensor([4, 4]), gk.tensor([1, 1])),
     IndexError, "label 9 is out of range"),
    (lambda lp: F.ctc_loss(lp[:, :0], gk.tensor([[1]]), gk.tensor([4]), gk.tensor([1])),
     RuntimeError, "non-empty"),
    (lambda lp: F.ctc_loss(lp, gk.tensor([[1], [1]]), gk.tensor([4, 4]), gk.tensor([1, 1]),
                           reduction="batchmean"), ValueError, "reduction"),
])
def test_ctc_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(gk.tensor(log_probs(4, 2, 5)))
