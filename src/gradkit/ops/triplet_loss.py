"""triplet_margin_loss and triplet_margin_with_distance_loss (exported through
ops/margin_loss.py): embeddings (N, D) or (D,).

    d(u, v) = ‖u − v + eps‖_p over the last dim  (PyTorch's pairwise_distance)
    ℓ = max(0, margin + d(a, p) − d(a, n))
    swap=True replaces d(a, n) by min(d(a, n), d(p, n)) (the harder negative, Balntas 2016)

Anchor, positive and negative must have the same number of dims; they broadcast.
triplet_margin_with_distance_loss takes any ``distance_function(u, v)`` returning one distance
per pair (pairwise_distance by default) and is a composition of differentiable ops, so the
gradient flows through the user's distance; min and clamp pass it as PyTorch's do.
"""

import numpy as np

from gradkit.autograd.function import Function
from gradkit.errors import ArgumentError, ShapeError
from gradkit.ops._util import unbroadcast
from gradkit.ops.arithmetic import minimum
from gradkit.ops.distance import pairwise_distance
from gradkit.ops.loss import check_input, legacy_reduction, reduce_loss, spread_grad


def norm_and_slope(w, p):
    """‖w‖_p over the last dim and its derivative dd/dw (0 where the norm is 0):
    p = 1: sign w;  p = ∞: sign w at the largest |w| (shared among ties);
    otherwise sign(w)·|w|^(p−1)/d^(p−1) (= w/d for p = 2)."""
    a = np.abs(w)
    if p == 1:
        return a.sum(axis=-1), np.sign(w)
    if p == np.inf:
        d = a.max(axis=-1)
        top = a == d[..., None]
        return d, np.sign(w) * top / top.sum(axis=-1, keepdims=True).astype(w.dtype)
    if p == 2:
        d = np.sqrt((w * w).sum(axis=-1))
        powered = w
    else:
        d = (a ** p).sum(axis=-1) ** (1.0 / p)
        powered = np.sign(w) * a ** (p - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(d > 0, 1.0 / d ** (p - 1), 0).astype(w.dtype, copy=False)
    return d, powered * scale[..., None]


class TripletMargin(Function):
    """ℓ = max(0, margin + d_ap − d_an), d_uv = ‖u − v + eps‖_p; with h = [ℓ's argument ≥ 0]
    and s_uv = ∂d_uv/∂u (norm_and_slope):  da = h·(s_ap − s_an),  dp = −h·s_ap,
    dn = h·s_an; with swap and d_pn < d_an the negative term is d_pn instead: da = h·s_ap,
    dp = −h·(s_ap + s_pn), dn = h·s_pn."""

    def forward(self, a, pos, neg, margin, p, eps, swap, reduction):
        d_ap, s_ap = norm_and_slope(a - pos + eps, p)
        d_an, s_an = norm_and_slope(a - neg + eps, p)
        self.swapped = None
        if swap:
            d_pn, s_pn = norm_and_slope(pos - neg + eps, p)
            self.swapped, self.s_pn = d_pn < d_an, s_pn
            d_an = np.where(self.swapped, d_pn, d_an)
        m = margin + d_ap - d_an
        self.active = (m >= 0).astype(m.dtype)
        self.s_ap, self.s_an = s_ap, s_an
        self.shapes, self.reduction = (a.shape, pos.shape, neg.shape), reduction
        return reduce_loss(np.maximum(m, 0).astype(m.dtype, copy=False), reduction)

    def backward(self, g):
        h = (spread_grad(g, self.reduction, self.active.shape) * self.active)[..., None]
        s_ap, s_an = h * self.s_ap, h * self.s_an
        if self.swapped is None:
            grads = (s_ap - s_an, -s_ap, s_an)
        else:
            swapped = self.swapped[..., None]
            s_pn = h * self.s_pn
            from_a = np.where(swapped, 0, s_an)
            grads = (s_ap - from_a, -s_ap - np.where(swapped, s_pn, 0),
                     np.where(swapped, s_pn, s_an))
        return tuple(unbroadcast(d, s) if need else None
                     for d, s, need in zip(grads, self.shapes, self.needs_input_grad))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """Pull ``positive`` to within ``margin`` of ``anchor`` closer than ``negative``, in the
    p-norm distance (p > 0, or inf); one loss per triplet."""
    op = "triplet_margin_loss"
    reduction = legacy_reduction(reduction, size_average, reduce, op)
    if margin <= 0:
        raise ArgumentError(f"{op}: margin must be greater than 0, got {margin}")
    if not p > 0:
        raise NotImplementedError(f"{op}: only p > 0 (or inf) is supported, got p={p}")
    check_input(anchor, op)
    positive, negative = (t if t.dtype == anchor.dtype else t.to(anchor.dtype)
                          for t in (positive, negative))
    shapes = f"anchor {tuple(anchor.shape)}, positive {tuple(positive.shape)}, negative " \
             f"{tuple(negative.shape)}"
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ShapeError(f"{op}: the anchor, positive and negative tensors are expected to "
                         f"have the same number of dims, got {shapes}")
    if anchor.ndim == 0:
        raise ShapeError(f"{op}: expected embeddings (N, D) or (D,), got {shapes}")
    try:
        np.broadcast_shapes(anchor.shape, positive.shape, negative.shape)
    except ValueError:
        raise ShapeError(f"{op}: the shapes do not broadcast: {shapes}") from None
    return TripletMargin.apply(anchor, positive, negative, margin=margin, p=float(p), eps=eps,
                               swap=bool(swap), reduction=reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """max(0, margin + d(a, p) − d(a, n)) with ``distance_function`` d (pairwise_distance when
    None); ``swap`` uses min(d(a, n), d(p, n)). One loss per triplet."""
    op = "triplet_margin_with_distance_loss"
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{op}: {reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ArgumentError(f"{op}: margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ShapeError(f"{op}: the anchor, positive, and negative tensors are expected to "
                         f"have the same number of dimensions, but got: anchor {anchor.ndim}D, "
                         f"positive {positive.ndim}D, and negative {negative.ndim}D inputs")
    distance = pairwise_distance if distance_function is None else distance_function
    dist_pos, dist_neg = distance(anchor, positive), distance(anchor, negative)
    if swap:
        dist_neg = minimum(dist_neg, distance(positive, negative))
    loss = (dist_pos + margin - dist_neg).clamp(min=0)
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()
