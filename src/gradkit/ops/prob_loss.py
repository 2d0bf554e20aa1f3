"""Losses on distributions, elementwise then reduced, with PyTorch's semantics:

    kl_div             ℓ = t·(log t − x)   (x: log-probabilities; 0·log 0 = 0)
                       ℓ = e^t·(t − x)     (log_target=True: t is a log-probability too)
    poisson_nll_loss   ℓ = e^x − t·x        (log_input=True, x = log rate)
                       ℓ = x − t·log(x + eps)   (log_input=False, x = rate)
                       full=True adds Stirling's t·log t − t + ½·log(2πt) where t > 1
    gaussian_nll_loss  ℓ = ½·(log v + (x − t)²/v)   (+ ½·log 2π with full=True),
                       v = max(var, eps) (the clamp does not stop var's gradient, as in PyTorch)

Input and target broadcast against each other (as PyTorch's); both get gradients, summed back
to their shapes. 'mean' divides by the element count of the broadcast loss; kl_div also takes
'batchmean' (Σ ℓ / input.shape[0], the true KL divergence per sample) and warns on 'mean' with
PyTorch's words.
"""

import math
import warnings

import numpy as np

from gradkit.autograd.function import Function
from gradkit.errors import ArgumentError, ShapeError
from gradkit.ops._util import unbroadcast
from gradkit.ops.loss import (check_input, check_target, legacy_reduction, reduce_loss,
                              spread_grad)
from gradkit.tensor import Tensor

__all__ = ["gaussian_nll_loss", "kl_div", "poisson_nll_loss"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class _Elementwise(Function):
    """The shared part: reduce ℓ(x, t) over the broadcast shape; backward spreads the upstream
    gradient over that shape and sums each partial derivative back to its input's shape."""

    def finish(self, loss, x, t, reduction, denominator=None):
        self.shapes, self.reduction, self.denominator = (x.shape, t.shape), reduction, denominator
        return reduce_loss(loss, reduction, denominator)

    def spread(self, g, shape):
        return spread_grad(g, self.reduction, shape, self.denominator)

    def gather(self, dx, dt):
        need_x, need_t = self.needs_input_grad[:2]
        return (unbroadcast(dx, self.shapes[0]) if need_x else None,
                unbroadcast(dt, self.shapes[1]) if need_t else None)


class KLDiv(_Elementwise):
    """ℓ = t·(log t − x), 0 where t = 0;  dx = −t,  dt = log t + 1 − x (dt = −x where t = 0:
    PyTorch gives nan there).  log_target:  ℓ = e^t·(t − x),  dx = −e^t,
    dt = e^t·(t − x + 1)."""

    def forward(self, x, t, log_target, reduction, denominator):
        if log_target:
            self.p = np.exp(t)
            self.d = t - x
            loss = self.p * self.d
        else:
            positive = t > 0
            with np.errstate(divide="ignore", invalid="ignore"):
                self.log_t = np.where(positive, np.log(np.where(positive, t, 1)), 0).astype(
                    t.dtype, copy=False)
            loss = t * (self.log_t - x)
            self.x, self.t, self.positive = x, t, positive
        self.log_target = log_target
        return self.finish(loss, x, t, reduction, denominator)

    def backward(self, g):
        if self.log_target:
            g = self.spread(g, self.d.shape)
            dx = -g * self.p
            return (*self.gather(dx, -dx * (self.d + 1)), None)
        g = self.spread(g, np.broadcast_shapes(*self.shapes))
        dt = np.where(self.positive, self.log_t + 1, 0).astype(self.log_t.dtype) - self.x
        return (*self.gather(-g * self.t, g * dt), None)


class PoissonNLL(_Elementwise):
    """log_input:  ℓ = e^x − t·x,  dx = e^x − t,  dt = −x.
    Otherwise:  ℓ = x − t·log(x + eps),  dx = 1 − t/(x + eps),  dt = −log(x + eps).
    full adds s(t) = t·log t − t + ½·log(2πt) where t > 1, ds/dt = log t + 1/(2t)."""

    def forward(self, x, t, log_input, full, eps, reduction):
        if log_input:
            self.e = np.exp(x)
            loss = self.e - t * x
        else:
            self.shifted = x + eps
            self.log_x = np.log(self.shifted)
            loss = x - t * self.log_x
        self.stirling_slope = None
        if full:
            big = t > 1
            safe = np.where(big, t, 2).astype(t.dtype, copy=False)
            log_t = np.log(safe)
            loss = loss + np.where(big, safe * log_t - safe + 0.5 * np.log(2 * math.pi * safe),
                                   0).astype(t.dtype, copy=False)
            self.stirling_slope = np.where(big, log_t + 0.5 / safe, 0).astype(t.dtype)
        self.x, self.t, self.log_input = x, t, log_input
        return self.finish(loss, x, t, reduction)

    def backward(self, g):
        g = self.spread(g, np.broadcast_shapes(*self.shapes))
        if self.log_input:
            dx, dt = g * (self.e - self.t), g * -self.x
        else:
            dx, dt = g * (1 - self.t / self.shifted), g * -self.log_x
        if self.stirling_slope is not None:
            dt = dt + g * self.stirling_slope
        return self.gather(dx, dt)


class GaussianNLL(Function):
    """ℓ = ½·(log v + d²/v) (+ ½·log 2π), d = x − t, v = max(var, eps);
    dx = d/v,  dt = −d/v,  dvar = ½·(1/v − d²/v²) (unmasked where var < eps, as PyTorch)."""

    def forward(self, x, t, var, full, eps, reduction):
        v = np.maximum(var, eps).astype(var.dtype, copy=False)
        d = x - t
        ratio = d / v
        loss = 0.5 * (np.log(v) + d * ratio)
        if full:
            loss = loss + _HALF_LOG_2PI
        self.shapes = (x.shape, t.shape, var.shape)
        self.v, self.ratio, self.reduction = v, ratio, reduction
        return reduce_loss(loss, reduction)

    def backward(self, g):
        g = spread_grad(g, self.reduction, self.ratio.shape)
        ratio = self.ratio
        dx = g * ratio
        grads = (dx, -dx, g * 0.5 * (1 - ratio * ratio * self.v) / self.v if
                 self.needs_input_grad[2] else None)
        return tuple(unbroadcast(d, s) if need else None
                     for d, s, need in zip(grads, self.shapes, self.needs_input_grad))


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(target ‖ exp(input)) elementwise: ``input`` holds log-probabilities, ``target``
    probabilities (or log-probabilities with ``log_target=True``). 'batchmean' divides the sum
    by the batch size (input.shape[0]) and is the true KL divergence; 'mean' divides by the
    element count and warns, as PyTorch does."""
    op = "kl_div"
    denominator = None
    if size_average is None and reduce is None:
        if reduction == "mean":
            warnings.warn("reduction: 'mean' divides the total loss by both the batch size and "
                          "the support size.'batchmean' divides only by the batch size, and "
                          "aligns with the KL div math definition.'mean' will be changed to "
                          "behave the same as 'batchmean' in the next major release.",
                          UserWarning, stacklevel=2)
        if reduction == "batchmean":
            reduction = "mean" if input.ndim else "sum"
            denominator = input.shape[0] if input.ndim else None
    reduction = legacy_reduction(reduction, size_average, reduce, op)
    target = check_target(input, target, op)
    return KLDiv.apply(input, target, log_target=bool(log_target), reduction=reduction,
                       denominator=denominator)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """Negative log-likelihood of counts ``target`` under Poisson(rate): rate = exp(input)
    (log_input=True) or input; ``full`` adds Stirling's approximation of log(target!)."""
    op = "poisson_nll_loss"
    reduction = legacy_reduction(reduction, size_average, reduce, op)
    target = check_target(input, target, op)
    return PoissonNLL.apply(input, target, log_input=bool(log_input), full=bool(full), eps=eps,
                            reduction=reduction)


def _variance(var, input, op):
    """var as a Tensor shaped to broadcast against input, by PyTorch's rules: the input's
    shape; the input's shape without its last dim (one variance per row, unsqueezed); or the
    input's ndim with exactly one dim of size 1 where the input's differs."""
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ArgumentError(f"{op}: var has negative entry/entries (got {var})")
        return Tensor(np.full(input.shape, var, input.dtype))
    if not isinstance(var, Tensor):
        raise TypeError(f"{op}: expected var as a Tensor or a float, got {type(var).__name__}")
    if var._data.size and (var._data < 0).any():
        raise ArgumentError(f"{op}: var has negative entry/entries")
    shape, vshape = tuple(input.shape), tuple(var.shape)
    if vshape == shape:
        return var
    if vshape == shape[:-1]:
        return var.unsqueeze(-1)
    if len(vshape) == len(shape) and sum(b for a, b in zip(shape, vshape) if a != b) == 1:
        return var
    raise ShapeError(f"{op}: var is of incorrect size: expected {shape}, {shape[:-1]} or "
                     f"{shape} with one dim of size 1, got var {vshape} for input {shape}")


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Negative log-likelihood of ``target`` under N(input, var): ½·(log var + (x − t)²/var),
    var clamped below at ``eps``; ``full`` adds the constant ½·log 2π. ``var`` is a Tensor
    (one variance per element, per row, or broadcast along one dim) or a float."""
    op = "gaussian_nll_loss"
    if reduction not in ("mean", "sum", "none"):
        raise ArgumentError(f"{op}: reduction must be 'mean', 'sum' or 'none', got "
                            f"{reduction!r}")
    check_input(input, op)
    var = _variance(var, input, op)
    target = check_target(input, target, op)
    if var.dtype != input.dtype:
        var = var.to(input.dtype)
    return GaussianNLL.apply(input, target, var, full=bool(full), eps=eps, reduction=reduction)
