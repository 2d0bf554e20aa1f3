"""Margin and embedding losses with PyTorch's semantics, targets y ∈ {1, −1}:

    margin_ranking_loss          ℓ = max(0, −y·(x1 − x2) + margin)
    hinge_embedding_loss         ℓ = x if y = 1,  max(0, margin − x) if y = −1
    soft_margin_loss             ℓ = log(1 + e^(−y·x))
    cosine_embedding_loss        ℓ = 1 − cos(x1, x2) if y = 1,  max(0, cos − margin) if y = −1
    multilabel_soft_margin_loss  L_i = (1/C)·Σ_c −(t·log σ(x) + (1 − t)·log σ(−x)),  t ∈ [0, 1]
    multilabel_margin_loss       L_i = (1/C)·Σ_{j ∈ T_i} Σ_{k ∉ T_i} max(0, 1 − (x_j − x_k)),
                                 T_i the class indices in target row i before its first −1
    triplet_margin_loss          ℓ = max(0, margin + d(a, p) − d(a, n))  (see triplet_loss.py)
    triplet_margin_with_distance_loss  the same with any distance function (triplet_loss.py)

A clamp max(0, m) passes the gradient at m = 0, as PyTorch's clamp_min does. Inputs broadcast
against each other as in PyTorch; targets of hinge_embedding, soft_margin and cosine_embedding
get no gradient (PyTorch's are not differentiable either); margin_ranking's target does.
"""

import numpy as np

from gradkit.autograd.function import Function
from gradkit.errors import ArgumentError, ShapeError
from gradkit.ops._util import unbroadcast
from gradkit.ops.loss import (BCEWithLogits, _broadcast_constant, check_input, check_target,
                              legacy_reduction, reduce_loss, spread_grad)
from gradkit.ops.triplet_loss import triplet_margin_loss, triplet_margin_with_distance_loss
from gradkit.ops.unary import sigmoid_array
from gradkit.tensor import Tensor

__all__ = ["cosine_embedding_loss", "hinge_embedding_loss", "margin_ranking_loss",
           "multilabel_margin_loss", "multilabel_soft_margin_loss", "soft_margin_loss",
           "triplet_margin_loss", "triplet_margin_with_distance_loss"]

_EPSILON = 1e-12  # PyTorch's guard added to each squared norm in cosine_embedding_loss


class MarginRanking(Function):
    """ℓ = max(0, m),  m = −y·(x1 − x2) + margin;  with a = [m ≥ 0]:
    dx1 = −a·y,  dx2 = a·y,  dy = −a·(x1 − x2)."""

    def forward(self, x1, x2, y, margin, reduction):
        diff = x1 - x2
        m = -y * diff + margin
        self.active = (m >= 0).astype(m.dtype)
        self.shapes = (x1.shape, x2.shape, y.shape)
        self.diff, self.y, self.reduction = diff, y, reduction
        return reduce_loss(np.maximum(m, 0), reduction)

    def backward(self, g):
        g = spread_grad(g, self.reduction, self.active.shape) * self.active
        gy = g * self.y
        grads = (-gy, gy, -g * self.diff)
        return tuple(unbroadcast(d, s) if need else None
                     for d, s, need in zip(grads, self.shapes, self.needs_input_grad))


class HingeEmbedding(Function):
    """ℓ = [y ≠ −1]·x + [y ≠ 1]·max(0, margin − x);
    dx = [y ≠ −1] − [y ≠ 1]·[margin − x ≥ 0]."""

    def forward(self, x, y, margin, reduction):
        hinge = margin - x
        keep, flip = y != -1, y != 1
        loss = np.where(keep, x, 0) + np.where(flip, np.maximum(hinge, 0), 0)
        self.slope = (keep.astype(x.dtype) - (flip & (hinge >= 0))).astype(x.dtype)
        self.shape, self.reduction = x.shape, reduction
        return reduce_loss(loss.astype(x.dtype, copy=False), reduction)

    def backward(self, g):
        g = spread_grad(g, self.reduction, self.slope.shape)
        return unbroadcast(g * self.slope, self.shape), None


class SoftMargin(Function):
    """ℓ = softplus(−y·x) = log(1 + e^(−y·x)), computed stably;  dx = −y·σ(−y·x)."""

    def forward(self, x, y, reduction):
        z = -y * x
        loss = np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))
        self.shape, self.y, self.z, self.reduction = x.shape, y, z, reduction
        return reduce_loss(loss, reduction)

    def backward(self, g):
        g = spread_grad(g, self.reduction, self.z.shape)
        return unbroadcast(-g * self.y * sigmoid_array(self.z), self.shape), None


class CosineEmbedding(Function):
    """c = s/√(m1·m2),  s = Σ x1·x2,  m_k = Σ x_k² + 1e-12 (over the last dim);
    ℓ = 1 − c (y = 1),  max(0, c − margin) (y = −1),  0 otherwise.  With h = dℓ/dc
    (−1, [c − margin ≥ 0] or 0):  dx1 = h·(x2/√(m1·m2) − c·x1/m1),
    dx2 = h·(x1/√(m1·m2) − c·x2/m2)."""

    def forward(self, x1, x2, y, margin, reduction):
        s = (x1 * x2).sum(axis=-1)
        m1 = (x1 * x1).sum(axis=-1) + _EPSILON
        m2 = (x2 * x2).sum(axis=-1) + _EPSILON
        root = np.sqrt(m1 * m2)
        c = s / root
        pos, neg = y == 1, y == -1
        loss = np.where(pos, 1 - c, 0) + np.where(neg, np.maximum(c - margin, 0), 0)
        self.slope = (neg & (c - margin >= 0)).astype(c.dtype) - pos
        self.x1, self.x2, self.m1, self.m2, self.root, self.c = x1, x2, m1, m2, root, c
        self.reduction = reduction
        return reduce_loss(np.asarray(loss, c.dtype), reduction)

    def backward(self, g):
        need1, need2 = self.needs_input_grad[:2]
        x1, x2, c = self.x1, self.x2, self.c
        h = (spread_grad(g, self.reduction, c.shape) * self.slope)[..., None]
        c = c[..., None]
        root = self.root[..., None]
        dx1 = h * (x2 / root - c * x1 / self.m1[..., None]) if need1 else None
        dx2 = h * (x1 / root - c * x2 / self.m2[..., None]) if need2 else None
        return (unbroadcast(dx1, x1.shape) if need1 else None,
                unbroadcast(dx2, x2.shape) if need2 else None, None)


class MultiLabelMargin(Function):
    """L_n = Σ_j Σ_k h_njk·(1 − x_nj + x_nk),  h_njk = c_nj·[c_nk = 0]·[1 − x_nj + x_nk > 0]/C,
    c_nj the times class j is listed in target row n (before its first −1; a class listed
    twice counts twice, as in PyTorch's kernel);  dx_nk = Σ_j h_njk − Σ_j h_nkj."""

    def forward(self, x, counts, out_shape, reduction):
        m = 1 - x[:, :, None] + x[:, None, :]
        pairs = counts[:, :, None] * (counts == 0)[:, None, :]
        h = np.where(m > 0, pairs, 0).astype(x.dtype) / x.dtype.type(x.shape[1])
        self.h, self.reduction = h, reduction
        loss = (h * m).sum(axis=(1, 2))
        return reduce_loss(loss, reduction, max(len(loss), 1)).reshape(
            out_shape if reduction == "none" else ())

    def backward(self, g):
        n = self.h.shape[0]
        g = spread_grad(g.reshape(-1) if self.reduction == "none" else g, self.reduction, (n,),
                        max(n, 1))
        h = self.h * g[:, None, None]
        return h.sum(axis=1) - h.sum(axis=2), None


def _as_tensor(value, like):
    if isinstance(value, Tensor):
        return value if value.dtype == like.dtype else value.to(like.dtype)
    return Tensor(np.asarray(value, like.dtype))


def _broadcast(op, **tensors):
    """Raise a ShapeError naming every shape when the tensors do not broadcast together."""
    try:
        return np.broadcast_shapes(*(t.shape for t in tensors.values()))
    except ValueError:
        shapes = ", ".join(f"{k} {tuple(t.shape)}" for k, t in tensors.items())
        raise ShapeError(f"{op}: the shapes do not broadcast: {shapes}") from None


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    """Ranking hinge: ``target`` 1 says input1 should rank above input2 by ``margin``, −1 the
    reverse. All three must have the same number of dims (they broadcast)."""
    op = "margin_ranking_loss"
    reduction = legacy_reduction(reduction, size_average, reduce, op)
    check_input(input1, op)
    input2, target = _as_tensor(input2, input1), _as_tensor(target, input1)
    if not input1.ndim == input2.ndim == target.ndim:
        raise ShapeError(f"{op}: all input tensors should have the same number of dims, got "
                         f"input1 {tuple(input1.shape)}, input2 {tuple(input2.shape)}, "
                         f"target {tuple(target.shape)}")
    _broadcast(op, input1=input1, input2=input2, target=target)
    return MarginRanking.apply(input1, input2, target, margin=margin, reduction=reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """For distances ``input``: the distance itself for similar pairs (y = 1), a hinge
    max(0, margin − x) for dissimilar ones (y = −1)."""
    op = "hinge_embedding_loss"
    reduction = legacy_reduction(reduction, size_average, reduce, op)
    target = check_target(input, target, op)
    return HingeEmbedding.apply(input, target, margin=margin, reduction=reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Two-class logistic loss log(1 + e^(−y·x)) for labels y ∈ {1, −1}."""
    op = "soft_margin_loss"
    reduction = legacy_reduction(reduction, size_average, reduce, op)
    target = check_target(input, target, op)
    return SoftMargin.apply(input, target, reduction=reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """Pairs of embeddings (N, D) (or one pair (D,) with a 0-d target): pull similar pairs
    (y = 1) to cosine 1, push dissimilar ones (y = −1) below cosine ``margin``."""
    op = "cosine_embedding_loss"
    reduction = legacy_reduction(reduction, size_average, reduce, op)
    check_input(input1, op)
    input2, target = _as_tensor(input2, input1), _as_tensor(target, input1)
    if target.ndim > 1:
        raise ShapeError(f"{op}: expected a 0-d or 1-d target, got {tuple(target.shape)} "
                         "(multi-target is not supported)")
    want = target.ndim + 1
    if input1.ndim != want or input2.ndim != want:
        raise ShapeError(f"{op}: a {target.ndim}-d target expects {want}-d inputs, got "
                         f"input1 {tuple(input1.shape)} and input2 {tuple(input2.shape)}")
    shape = _broadcast(op, input1=input1, input2=input2)
    try:
        np.broadcast_shapes(shape[:-1], tuple(target.shape))
    except ValueError:
        raise ShapeError(f"{op}: target {tuple(target.shape)} does not fit inputs "
                         f"{tuple(input1.shape)} and {tuple(input2.shape)}") from None
    return CosineEmbedding.apply(input1, input2, target, margin=margin, reduction=reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """One-vs-all logistic loss over C labels (input (N, C) or (C,), targets in [0, 1] of the
    same shape), averaged over the labels: one loss per sample. ``weight`` (broadcast to the
    input) rescales each label; it is a constant here (PyTorch would differentiate it)."""
    op = "multilabel_soft_margin_loss"
    reduction = legacy_reduction(reduction, size_average, reduce, op)
    check_input(input, op)
    target = _as_tensor(target, input)
    if tuple(target.shape) != tuple(input.shape):
        raise ShapeError(f"{op}: target {tuple(target.shape)} must have the input's shape "
                         f"{tuple(input.shape)}")
    if input.ndim == 0:
        raise ShapeError(f"{op}: expected input (N, C) or (C,), got ()")
    w = _broadcast_constant(weight, input.shape, input.dtype, "weight", op)
    per_label = BCEWithLogits.apply(input, target, w, None, reduction="none")
    loss = per_label.sum(dim=-1) / input.shape[-1]
    if reduction == "none":
        return loss
    return loss.mean() if reduction == "mean" else loss.sum()


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Multi-label hinge of scores (N, C) or (C,) against int64 ``target`` of the same shape
    listing each sample's classes, ended by the first −1 (see the module docstring); one loss
    per sample."""
    op = "multilabel_margin_loss"
    reduction = legacy_reduction(reduction, size_average, reduce, op)
    check_input(input, op)
    if not isinstance(target, Tensor) or target.dtype.kind not in "iu":
        raise ArgumentError(f"{op}: expected an integer (int64) target, got "
                            f"{getattr(target, 'dtype', type(target).__name__)}")
    shape = tuple(input.shape)
    if input.ndim > 2 or input.ndim and shape[-1] == 0:
        raise ShapeError(f"{op}: expected a non-empty vector or matrix with optional 0-dim "
                         f"batch size, got input {shape}")
    if tuple(target.shape) != shape:
        raise ShapeError(f"{op}: inconsistent target size: {tuple(target.shape)} for input of "
                         f"size {shape}")
    x = input.reshape(-1, shape[-1] if shape else 1)
    labels = np.asarray(target._data).reshape(x.shape)
    classes = x.shape[1]
    if labels.size and (labels.min() < -1 or labels.max() >= classes):
        raise ArgumentError(f"{op}: target values must be class indices in [0, {classes}) or "
                            f"-1 (the end of the list), got values in [{labels.min()}, "
                            f"{labels.max()}]")
    listed = np.cumprod(labels != -1, axis=1).astype(bool)
    counts = (listed[:, :, None] & (labels[:, :, None] == np.arange(classes))).sum(axis=1)
    return MultiLabelMargin.apply(x, counts.astype(input.dtype), out_shape=shape[:-1],
                                  reduction=reduction)
