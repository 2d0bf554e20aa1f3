"""Hinge (margin) losses: the multiclass SVM of the course notes, PyTorch's multi_margin_loss,
and the multi-label hinge. Scores x: (N, C) or (C,); targets are constants (no gradient).

    multiclass_hinge_loss (Weston–Watkins):  L_i = Σ_{j≠y} max(0, x_j − x_y + Δ)    [squared: (·)²]
    multi_margin_loss (PyTorch):             L_i = w_y·Σ_{j≠y} max(0, Δ − x_y + x_j)^p / C
    multilabel_hinge_loss:                   L_i = Σ_j max(0, Δ − y_j·x_j),  y_j ∈ {−1, +1}

'mean' averages L_i over the batch, 'sum' adds them, 'none' returns them. Scores must be
floating point and a class weight must have their dtype (the rules of gradkit/ops/loss.py).
"""

import numpy as np

from gradkit.autograd.function import Function
from gradkit.ops.loss import (check_input, class_weight, legacy_reduction, reduce_loss,
                              spread_grad)
from gradkit.tensor import Tensor


class ClassMargin(Function):
    """L_i = (w_y / divisor)·Σ_{j≠y} h(x_ij − x_iy + Δ),  h(m) = max(0, m)^p, p ∈ {1, 2}.

    With m⁺ = max(0, m):  dx_ij = c_i·h'(m_ij) for j ≠ y,  dx_iy = −Σ_{j≠y} dx_ij,
    where h'(m) = [m > 0] (p = 1) or 2m⁺ (p = 2) and c_i = coef_i·w_y/divisor."""

    def forward(self, x, y, margin, power, weight, divisor, reduction):
        rows = np.arange(x.shape[0])
        m = x - x[rows, y][:, None]
        m += margin
        m[rows, y] = 0
        np.maximum(m, 0, out=m)
        per_sample = (m if power == 1 else m * m).sum(axis=1)
        scale = (weight[y] if weight is not None else 1.0) / divisor
        self.m, self.y, self.power, self.scale, self.reduction = m, y, power, scale, reduction
        return reduce_loss(per_sample * scale, reduction)

    def backward(self, g):
        m, y = self.m, self.y
        coef = spread_grad(g, self.reduction, y.shape) * self.scale
        slope = (m > 0).astype(m.dtype) if self.power == 1 else 2.0 * m
        dx = slope * coef[:, None]
        rows = np.arange(len(y))
        dx[rows, y] = -dx.sum(axis=1)
        return dx, None


class LabelMargin(Function):
    """L_i = Σ_j max(0, Δ − y_ij·x_ij) with y ∈ {−1, +1};
    dx_ij = −coef_i·y_ij·[Δ − y_ij·x_ij > 0]."""

    def forward(self, x, y, margin, reduction):
        m = margin - y * x
        self.active = m > 0
        self.y, self.reduction = y, reduction
        return reduce_loss(np.maximum(m, 0).sum(axis=1), reduction)

    def backward(self, g):
        coef = spread_grad(g, self.reduction, self.y.shape[:1])
        return -coef[:, None] * self.y * self.active, None


def _batched(input, op):
    check_input(input, op)
    if input.ndim not in (1, 2):
        raise ValueError(f"{op}: expected scores (N, C) or (C,), got {tuple(input.shape)}")
    return input if input.ndim == 2 else input.reshape(1, -1)


def _class_labels(input, target, op):
    y = target._data if isinstance(target, Tensor) else np.asarray(target)
    if y.dtype.kind not in "iu":
        raise TypeError(f"{op}: targets must be integer class indices, got dtype {y.dtype}")
    n, c = input.shape
    y = y.reshape(-1)
    if y.shape != (n,):
        raise ValueError(f"{op}: target of shape {tuple(target.shape)} does not fit scores "
                         f"({n}, {c}): expected ({n},)")
    bad = (y < 0) | (y >= c)
    if bad.any():
        raise IndexError(f"{op}: target label {int(y[bad][0])} is out of range for {c} classes")
    return y.astype(np.intp, copy=False)


def _finish(out, input, reduction):
    return out.reshape(()) if reduction == "none" and input.ndim == 1 else out


def multiclass_hinge_loss(input, target, margin=1.0, squared=False, reduction="mean"):
    """The multiclass SVM loss of the notes (Weston–Watkins): for scores s and label y,
    L_i = Σ_{j≠y} max(0, s_j − s_y + margin), or its square with ``squared=True``; 'mean' is
    the mean over the batch (unlike multi_margin_loss, not divided by the class count)."""
    op = "multiclass_hinge_loss"
    reduction = legacy_reduction(reduction, None, None, op)
    x = _batched(input, op)
    y = _class_labels(x, target, op)
    out = ClassMargin.apply(x, y, margin=margin, power=2 if squared else 1, weight=None,
                            divisor=1, reduction=reduction)
    return _finish(out, input, reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """PyTorch's F.multi_margin_loss: L_i = Σ_{j≠y} w_y·max(0, margin − x_y + x_j)^p / C,
    p ∈ {1, 2}: the multiclass hinge divided by the number of classes C."""
    op = "multi_margin_loss"
    reduction = legacy_reduction(reduction, size_average, reduce, op)
    if p not in (1, 2):
        raise ValueError(f"{op}: only p == 1 and p == 2 supported, got {p}")
    x = _batched(input, op)
    y = _class_labels(x, target, op)
    w = class_weight(weight, x.shape[1], x.dtype, op)
    out = ClassMargin.apply(x, y, margin=margin, power=p, weight=w, divisor=x.shape[1],
                            reduction=reduction)
    return _finish(out, input, reduction)


def multilabel_hinge_loss(input, target, margin=1.0, reduction="mean"):
    """Multi-label hinge: L_i = Σ_j max(0, margin − y_ij·x_ij) with targets y_ij ∈ {−1, +1}
    (one binary SVM per label); 'mean' is the mean of L_i over the batch."""
    op = "multilabel_hinge_loss"
    reduction = legacy_reduction(reduction, None, None, op)
    x = _batched(input, op)
    y = target._data if isinstance(target, Tensor) else np.asarray(target)
    if y.size != x._data.size or y.shape not in (tuple(input.shape), tuple(x.shape)):
        raise ValueError(f"{op}: target of shape {y.shape} must match the scores "
                         f"{tuple(input.shape)}")
    if not np.isin(y, (-1, 1)).all():
        raise ValueError(f"{op}: targets must be -1 or +1, got values {np.unique(y)[:5]}")
    out = LabelMargin.apply(x, y.reshape(x.shape).astype(x.dtype), margin=margin,
                            reduction=reduction)
    return _finish(out, input, reduction)
