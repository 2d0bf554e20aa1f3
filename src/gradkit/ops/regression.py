"""Regression losses of d = input − target, elementwise, then reduced (PyTorch semantics):

    mse_loss        ℓ = d²                                          ℓ' = 2d
    l1_loss         ℓ = |d|                                         ℓ' = sign d
    huber_loss      ℓ = ½d² if |d| < δ else δ(|d| − ½δ)             ℓ' = clip(d, −δ, δ)
    smooth_l1_loss  ℓ = ½d²/β if |d| < β else |d| − ½β   (β = 0: |d|)  ℓ' = clip(d/β, −1, 1)

Huber is smooth L1 scaled by δ (huber_δ = δ·smooth_l1_β=δ). Input and target broadcast
against each other and both get gradients; when their shapes differ a UserWarning says so,
with PyTorch's words (an input (4, 1) against a target (4,) is a (4, 4) loss, rarely what
was meant). An optional
``weight`` of the input's shape multiplies ℓ; the weighted 'mean' divides by Σ weight for
mse and l1 and by the element count for huber, exactly as PyTorch does.
"""

import warnings

import numpy as np

from gradkit.autograd.function import Function
from gradkit.ops._util import unbroadcast
from gradkit.ops.loss import check_target, legacy_reduction, reduce_loss, spread_grad
from gradkit.tensor import Tensor


class PointwiseLoss(Function):
    """reduce(w·ℓ(x − t));  dx = w·ℓ'(d)·dL/dℓ,  dt = −dx (each summed back to its shape)."""

    def forward(self, x, t, weight, kind, param, reduction, weight_mean):
        d = x - t
        self.shapes, self.d, self.w = (x.shape, t.shape), d, weight
        self.kind, self.param = kind, param
        loss = _LOSSES[kind](d, param)
        self.denominator = None
        if weight is not None:
            loss *= weight
            if weight_mean:
                self.denominator = float(weight.sum())
        self.reduction = reduction
        return reduce_loss(loss, reduction, self.denominator)

    def backward(self, g):
        need_x, need_t = self.needs_input_grad[:2]
        d = self.d
        g = spread_grad(g, self.reduction, d.shape, self.denominator)
        if self.w is not None:
            g = g * self.w
        gd = g * _SLOPES[self.kind](d, self.param)
        return (unbroadcast(gd, self.shapes[0]) if need_x else None,
                unbroadcast(-gd, self.shapes[1]) if need_t else None, None)


def _abs(d, _):
    return np.abs(d)


def _huber(d, delta):
    a = np.abs(d)
    return np.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))


def _smooth_l1(d, beta):
    if beta == 0:
        return np.abs(d)
    a = np.abs(d)
    return np.where(a < beta, (0.5 / beta) * d * d, a - 0.5 * beta)


_LOSSES = {"mse": lambda d, _: d * d, "l1": _abs, "huber": _huber, "smooth_l1": _smooth_l1}
_SLOPES = {
    "mse": lambda d, _: 2.0 * d,
    "l1": lambda d, _: np.sign(d),
    "huber": lambda d, delta: np.clip(d, -delta, delta),
    "smooth_l1": lambda d, beta: np.sign(d) if beta == 0 else np.clip(d / beta, -1.0, 1.0),
}


def _pointwise(input, target, weight, kind, param, reduction, weight_mean, op):
    target = check_target(input, target, op)
    if target.shape != input.shape:
        warnings.warn(f"Using a target size {tuple(target.shape)} that is different to the "
                      f"input size {tuple(input.shape)}. This will likely lead to incorrect "
                      "results due to broadcasting. Please ensure they have the same size.",
                      UserWarning, stacklevel=3)
    w = None
    if weight is not None:
        w = weight._data if isinstance(weight, Tensor) else np.asarray(weight)
        if w.shape != tuple(input.shape):
            raise ValueError(f"{op}: weights and input must have the same size, got "
                             f"{w.shape} and {tuple(input.shape)}")
        w = w.astype(input.dtype, copy=False)
    return PointwiseLoss.apply(input, target, w, kind=kind, param=param, reduction=reduction,
                               weight_mean=weight_mean)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error (the notes' L2 loss): (input − target)²."""
    reduction = legacy_reduction(reduction, size_average, reduce, "mse_loss")
    return _pointwise(input, target, weight, "mse", None, reduction, True, "mse_loss")


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error: |input − target| (gradient sign(d), 0 at d = 0)."""
    reduction = legacy_reduction(reduction, size_average, reduce, "l1_loss")
    return _pointwise(input, target, weight, "l1", None, reduction, True, "l1_loss")


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Huber loss: quadratic for |d| < delta, linear (slope delta) beyond."""
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    reduction = legacy_reduction(reduction, None, None, "huber_loss")
    return _pointwise(input, target, weight, "huber", delta, reduction, False, "huber_loss")


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Smooth L1: quadratic (½d²/beta) for |d| < beta, |d| − ½beta beyond; beta=0 is L1."""
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    reduction = legacy_reduction(reduction, size_average, reduce, "smooth_l1_loss")
    return _pointwise(input, target, None, "smooth_l1", beta, reduction, False,
                      "smooth_l1_loss")
