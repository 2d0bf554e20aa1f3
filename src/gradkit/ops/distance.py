"""Similarities between pairs of vectors: F.cosine_similarity, F.pairwise_distance and
F.bilinear (PyTorch's names, signatures and numerics).

    cosine_similarity:  s = Σ x1·x2 / (max(‖x1‖, ε)·max(‖x2‖, ε))   along ``dim`` (broadcast)
    pairwise_distance:  d = ‖x1 − x2 + ε‖_p                          along the last dim
    bilinear:           y_k = x1ᵀ W_k x2 + b_k,  W: (out, in1, in2)

PyTorch clamps each norm separately (not their product), and its gradient flows through the
norms as if unclamped; cosine_similarity does the same, so a vector shorter than ε gets
PyTorch's gradient, not the gradient of the clamped formula.
"""

import math

import numpy as np

from gradkit.autograd.function import Function
from gradkit.errors import ShapeError
from gradkit.ops._util import _float_default, normalize_dim, unbroadcast
from gradkit.ops.reduce import norm

__all__ = ["cosine_similarity", "pairwise_distance", "bilinear"]


def _unit(x, n):
    """x / ‖x‖, 0 where ‖x‖ = 0 (the norm's gradient at 0, as PyTorch)."""
    safe = np.where(n == 0, 1, n)
    return np.where(n == 0, 0, x / safe)


class CosineSimilarity(Function):
    """s = Σ a·b / (c₁c₂), c = max(‖·‖, ε);
    da = g·(b/(c₁c₂) − s·a/(c₁²c₂·‖a‖)) and db likewise (the norms differentiated unclamped)."""

    def forward(self, a, b, dim, eps):
        self.shapes, self.dim = (a.shape, b.shape), dim
        a, b = np.broadcast_arrays(a, b)
        self.a, self.b = a, b
        self.n1 = np.sqrt(np.sum(a * a, axis=dim, keepdims=True))
        self.n2 = np.sqrt(np.sum(b * b, axis=dim, keepdims=True))
        self.c1, self.c2 = np.maximum(self.n1, eps), np.maximum(self.n2, eps)
        self.dot = np.sum(a * b, axis=dim, keepdims=True)
        return np.squeeze(self.dot / (self.c1 * self.c2), axis=dim)

    def backward(self, g):
        g = np.expand_dims(g, self.dim)
        c12 = self.c1 * self.c2
        s = g * self.dot / c12
        da = db = None
        if self.needs_input_grad[0]:
            da = unbroadcast(g * self.b / c12 - _unit(self.a, self.n1) * (s / self.c1),
                             self.shapes[0])
        if self.needs_input_grad[1]:
            db = unbroadcast(g * self.a / c12 - _unit(self.b, self.n2) * (s / self.c2),
                             self.shapes[1])
        return da, db


def _broadcast_shape(op, x1, x2):
    try:
        return np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise ShapeError(f"{op}: the shapes of x1 {tuple(x1.shape)} and x2 {tuple(x2.shape)} "
                         "do not broadcast") from None


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Cosine of the angle between x1 and x2 (broadcast together) along ``dim``."""
    x1, x2 = _float_default(x1), _float_default(x2)
    if x1.dtype != x2.dtype:
        raise TypeError(f"cosine_similarity: dtype mismatch, {x1.dtype} and {x2.dtype}")
    shape = _broadcast_shape("cosine_similarity", x1, x2)
    if not shape:
        raise ShapeError("cosine_similarity: expected inputs with at least 1 dim, got 0-d")
    (axis,) = normalize_dim(dim, len(shape), "cosine_similarity")
    return CosineSimilarity.apply(x1, x2, dim=axis, eps=eps)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """‖x1 − x2 + ε‖_p along the last dim of the broadcast shape."""
    shape = _broadcast_shape("pairwise_distance", x1, x2)
    diff = _float_default(x1) - _float_default(x2) + eps
    dim = len(shape) - 1 if shape else None
    if p == 0:  # the count of nonzeros; in the graph with a zero gradient, as PyTorch
        return (diff * 0.0 + (diff != 0).to(diff.dtype)).sum(dim, keepdim)
    return norm(diff, p, dim, keepdim)


class Bilinear(Function):
    """y_nk = Σ_ij a_ni·W_kij·b_nj + β_k;  da = Σ_kj g·W·b,  db = Σ_ki g·a·W,
    dW_kij = Σ_n g_nk·a_ni·b_nj,  dβ = Σ_n g."""

    def forward(self, a, b, weight, bias):
        self.shapes, rows = (a.shape, b.shape), math.prod(a.shape[:-1])
        self.a, self.b = a.reshape(rows, a.shape[-1]), b.reshape(rows, b.shape[-1])
        self.weight = weight
        out = np.einsum("ni,kij,nj->nk", self.a, weight, self.b, optimize=True)
        if bias is not None:
            out += bias
        return out.reshape(a.shape[:-1] + (weight.shape[0],))

    def backward(self, g):
        need_a, need_b, need_w, need_bias = self.needs_input_grad
        a, b, w = self.a, self.b, self.weight
        g = g.reshape(a.shape[0], w.shape[0])
        da = db = dw = dbias = None
        if need_a:
            da = np.einsum("nk,kij,nj->ni", g, w, b, optimize=True).reshape(self.shapes[0])
        if need_b:
            db = np.einsum("nk,kij,ni->nj", g, w, a, optimize=True).reshape(self.shapes[1])
        if need_w:
            dw = np.einsum("nk,ni,nj->kij", g, a, b, optimize=True)
        if need_bias:
            dbias = g.sum(axis=0)
        return da, db, dw, dbias


def bilinear(input1, input2, weight, bias=None):
    """y = x1ᵀ W x2 + b: input1 (*, in1), input2 (*, in2), weight (out, in1, in2), bias (out,)
    -> (*, out)."""
    if weight.ndim != 3:
        raise ShapeError(f"bilinear: expected weight (out, in1, in2), got {tuple(weight.shape)}")
    out, in1, in2 = weight.shape
    if 0 in (input1.ndim, input2.ndim) or input1.shape[:-1] != input2.shape[:-1] or (
            input1.shape[-1], input2.shape[-1]) != (in1, in2):
        raise ShapeError(f"bilinear: expected input1 (*, {in1}) and input2 (*, {in2}) with the "
                         f"same leading dims, got {tuple(input1.shape)} and "
                         f"{tuple(input2.shape)}")
    if bias is not None and tuple(bias.shape) != (out,):
        raise ShapeError(f"bilinear: expected bias of shape ({out},), got {tuple(bias.shape)}")
    for t in (input2, weight, bias):
        if t is not None and t.dtype != input1.dtype:
            raise TypeError(f"bilinear: dtype mismatch, {input1.dtype} and {t.dtype}")
    return Bilinear.apply(input1, input2, weight, bias)
