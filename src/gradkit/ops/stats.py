"""Reductions beyond sum and mean (torch.*): prod, amax/amin/aminmax, var_mean/std_mean,
count_nonzero, any/all, nansum/nanmean.

Dims as in ops/reduce.py: an int, a tuple, or None for all, negative counting from the end.
``amax``/``amin`` take ``dim=()`` for all (their default, as PyTorch) and share the gradient
evenly among tied extremes; ``any``/``all`` with ``dim=()`` reduce nothing (elementwise truth).
``prod`` takes one int dim, as PyTorch, and its gradient is exact when the input holds zeros.
Integer and bool inputs of ``prod``/``nansum`` give int64; ``any``/``all`` give bool (uint8
for a uint8 input); ``count_nonzero`` gives int64.
"""

import collections

import numpy as np

from gradkit.autograd.function import Function
from gradkit.ops.arithmetic import cast
from gradkit.errors import ArgumentError
from gradkit.ops.reduce import (_accumulator, _correction, _expand_back, _int_dim, mean, std,
                                sum as _sum, var)
from gradkit.ops._util import normalize_dim
from gradkit.tensor import Tensor

__all__ = ["prod", "amax", "amin", "aminmax", "var_mean", "std_mean", "count_nonzero", "any",
           "all", "nansum", "nanmean"]

aminmax_result = collections.namedtuple("aminmax", ["min", "max"])


class Prod(Function):
    """out = Π x over axes;  dx_i = g · Π_{j ≠ i} x_j.

    With no zero in the slice that is g·out/x_i; with one zero, the zero gets g·(product of the
    others) and the others 0; with two or more zeros every dx is 0."""

    def forward(self, x, axes, keepdim):
        self.x, self.axes, self.keepdim = x, axes, keepdim
        return np.prod(x, axis=axes, keepdims=keepdim)

    def backward(self, g):
        x, axes = self.x, self.axes
        g = _expand_back(g, axes, self.keepdim, x.shape)
        zero = x == 0
        zeros = np.count_nonzero(zero, axis=axes, keepdims=True)
        safe_x = np.where(zero, np.ones((), x.dtype), x)
        rest = np.prod(safe_x, axis=axes, keepdims=True)  # the product of the non-zeros
        nothing = np.zeros((), g.dtype)
        return np.where(zeros == 0, g * rest / safe_x,
                        np.where(zero & (zeros == 1), g * rest, nothing))


class AMax(Function):
    """out = max (or min) over axes;  dx = g / k at each of the k elements equal to out, 0
    elsewhere (a product with the mask, as PyTorch: a slice whose out is NaN gets NaN)."""

    def forward(self, x, axes, keepdim, take_min):
        self.x, self.axes, self.keepdim = x, axes, keepdim
        self.out = (np.min if take_min else np.max)(x, axis=axes, keepdims=True)
        return self.out if keepdim else np.squeeze(self.out, axis=axes)

    def backward(self, g):
        if not self.keepdim and self.axes:
            g = np.expand_dims(g, self.axes)
        winners = self.x == self.out
        ties = np.count_nonzero(winners, axis=self.axes, keepdims=True).astype(g.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            return g / ties * winners


class NanMean(Function):
    """out = Σ' x / n' over axes, Σ' and n' over the elements that are not NaN (n' = 1 for
    nansum);  dx = g / n' · [x is not NaN], a product as in PyTorch, so a slice of NaNs only
    gets NaN (0/0) from nanmean."""

    def forward(self, x, axes, keepdim, mean):
        self.axes, self.keepdim, self.shape = axes, keepdim, x.shape
        self.number = ~np.isnan(x)
        total = np.where(self.number, x, np.zeros((), x.dtype)).sum(axis=axes, keepdims=True)
        self.count = np.ones((), x.dtype)
        if mean:
            self.count = np.count_nonzero(self.number, axis=axes, keepdims=True).astype(x.dtype)
        with np.errstate(invalid="ignore"):
            out = total / self.count
        return out if keepdim else np.squeeze(out, axis=axes)

    def backward(self, g):
        g = _expand_back(g, self.axes, self.keepdim, self.shape)
        with np.errstate(invalid="ignore", divide="ignore"):
            return g / self.count * self.number


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Π of the elements (every one when ``dim`` is None, else along one int dim)."""
    x = _accumulator(input, dtype)
    axes = normalize_dim(None if dim is None else _int_dim(dim, "prod"), x.ndim, "prod")
    return Prod.apply(x, axes=axes, keepdim=keepdim)


def _extreme(input, dim, keepdim, take_min):
    op = "amin" if take_min else "amax"
    axes = normalize_dim(dim, input.ndim, op) or tuple(range(input.ndim))  # () is all
    empty = [a for a in axes if input.shape[a] == 0]
    if empty:
        raise IndexError(f"{op}(): Expected reduction dim {empty[0]} to have non-zero size, "
                         f"got shape {input.shape}")
    return AMax.apply(input, axes=axes, keepdim=keepdim, take_min=take_min)


def amax(input, dim=(), keepdim=False):
    """Largest element over ``dim`` (an int or tuple; ``()`` or None for all); gradient shared
    evenly among ties."""
    return _extreme(input, dim, keepdim, False)


def amin(input, dim=(), keepdim=False):
    """Smallest element over ``dim`` (an int or tuple; ``()`` or None for all); gradient shared
    evenly among ties."""
    return _extreme(input, dim, keepdim, True)


def aminmax(input, *, dim=None, keepdim=False):
    """``(min, max)`` over one int dim (or all when None), a named tuple with ``.min``/``.max``."""
    dim = () if dim is None else _int_dim(dim, "aminmax")
    return aminmax_result(amin(input, dim, keepdim), amax(input, dim, keepdim))


def _spread_and_mean(spread, input, dim, unbiased, keepdim, correction):
    if isinstance(dim, bool):  # PyTorch's var_mean(input, unbiased) overload
        dim, unbiased = None, dim
    correction = _correction(unbiased, correction)
    return (spread(input, dim, keepdim=keepdim, correction=correction),
            mean(input, dim, keepdim))


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var, mean)`` over ``dim``, a plain tuple as PyTorch (correction=1 by default)."""
    return _spread_and_mean(var, input, dim, unbiased, keepdim, correction)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std, mean)`` over ``dim``, a plain tuple as PyTorch (correction=1 by default)."""
    return _spread_and_mean(std, input, dim, unbiased, keepdim, correction)


def count_nonzero(input, dim=None):
    """How many elements are not 0 over ``dim`` (an int, a tuple, or None for all): int64."""
    axes = normalize_dim(dim, input.ndim, "count_nonzero")
    counts = np.count_nonzero(input._data, axis=axes) if axes else input._data != 0
    return Tensor._make(np.asarray(counts, dtype=np.int64), None)


def _truth(reduce, op, input, dim, keepdim):
    data = input._data
    axes = normalize_dim(dim, input.ndim, op)
    out = np.asarray(reduce(data, axis=axes, keepdims=keepdim))
    return Tensor._make(out.astype(np.uint8) if data.dtype == np.uint8 else out, None)


def any(input, dim=None, keepdim=False):
    """Whether any element over ``dim`` is non-zero (an int, a tuple, None for all): bool."""
    return _truth(np.any, "any", input, dim, keepdim)


def all(input, dim=None, keepdim=False):
    """Whether every element over ``dim`` is non-zero (an int, a tuple, None for all): bool."""
    return _truth(np.all, "all", input, dim, keepdim)


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """Σ over ``dim`` reading NaN as 0 (an integer or bool tensor: ``sum``)."""
    x = _accumulator(input, dtype)
    if x._data.dtype.kind != "f":
        return _sum(x, dim, keepdim)
    return NanMean.apply(x, axes=normalize_dim(dim, x.ndim, "nansum"), keepdim=keepdim,
                         mean=False)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean over ``dim`` of the elements that are not NaN (NaN where all are)."""
    x = input if dtype is None else cast(input, dtype)
    if x._data.dtype.kind != "f":
        raise ArgumentError(f"nanmean(): expected a floating point input (or a float dtype=), "
                            f"got {x.dtype}")
    return NanMean.apply(x, axes=normalize_dim(dim, x.ndim, "nanmean"), keepdim=keepdim,
                         mean=True)
