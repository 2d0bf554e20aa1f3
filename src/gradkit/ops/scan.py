"""Cumulative ops along one dim: cumsum, cumprod, cummax, cummin, logcumsumexp (torch.*).

Each takes a single int ``dim`` (negative counts from the end; a 0-d tensor takes 0 or -1 and
is its own scan) and returns the input's shape. Position i of the output combines positions
0..i, so a backward is a *reverse* scan of the upstream gradient: Σ over j ≥ i, written
``rev_cumsum``. ``cumsum`` and ``cumprod`` of an integer or bool tensor give int64, as PyTorch;
``dtype=`` casts the input first. ``cummax``/``cummin`` return ``(values, indices)``; a tie
takes the later index and a NaN wins from where it appears, as in PyTorch.
"""

import collections

import numpy as np

from gradkit.autograd.function import Function
from gradkit.ops.reduce import _accumulator, _int_dim
from gradkit.ops._util import normalize_dim
from gradkit.tensor import Tensor

__all__ = ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"]

cummax_result = collections.namedtuple("cummax", ["values", "indices"])
cummin_result = collections.namedtuple("cummin", ["values", "indices"])


def _rev_cumsum(a, axis):
    """Σ_{j ≥ i} a_j along axis."""
    return np.flip(np.cumsum(np.flip(a, axis), axis), axis)


class CumSum(Function):
    """out_i = Σ_{j ≤ i} x_j;  dx_i = Σ_{j ≥ i} g_j."""

    def forward(self, x, axis):
        self.axis = axis
        return np.cumsum(x, axis)

    def backward(self, g):
        return _rev_cumsum(g, self.axis)


class CumProd(Function):
    """out_i = Π_{j ≤ i} x_j;  dx_i = Σ_{j ≥ i} g_j · Π_{m ≤ j, m ≠ i} x_m.

    Before the first zero of a row this is rev_cumsum(g · out)_i / x_i; at the first zero k it
    is rev_cumsum(g · cumprod(x with x_k := 1))_k; after it, 0 (every product holds x_k = 0)."""

    def forward(self, x, axis):
        self.x, self.axis = x, axis
        self.out = np.cumprod(x, axis)
        return self.out

    def backward(self, g):
        x, axis = self.x, self.axis
        zero = x == 0
        zeros_so_far = np.cumsum(zero, axis)
        before = zeros_so_far == 0
        first_zero = zero & (zeros_so_far == 1)
        one = np.ones((), x.dtype)
        safe_x = np.where(before, x, one)
        dx = np.where(before, _rev_cumsum(g * self.out, axis) / safe_x, np.zeros((), g.dtype))
        if first_zero.any():
            skip_first = np.cumprod(np.where(first_zero, one, x), axis)
            dx = np.where(first_zero, _rev_cumsum(g * skip_first, axis), dx)
        return dx


def _running_extreme(x, axis, take_min):
    """The indices (int64) of the running max (or min) along axis: a tie takes the later
    index, and so does a NaN (which then stays the value), as in PyTorch."""
    values = (np.minimum if take_min else np.maximum).accumulate(x, axis)
    where_shape = [1] * x.ndim
    where_shape[axis] = x.shape[axis]
    positions = np.arange(x.shape[axis], dtype=np.int64).reshape(where_shape)
    reached = (x == values) | (x != x)
    return np.maximum.accumulate(np.where(reached, positions, 0), axis)


class CumExtreme(Function):
    """values_i = x at indices_i, the running max (or min);  dx_k = Σ_{i: indices_i = k} g_i."""

    def forward(self, x, indices, axis):
        self.shape, self.indices, self.axis = x.shape, indices, axis
        return np.take_along_axis(x, indices, axis)

    def backward(self, g):
        dx = np.zeros(self.shape, g.dtype)
        index = list(np.ogrid[tuple(slice(n) for n in self.shape)])
        index[self.axis] = self.indices
        np.add.at(dx, tuple(index), g)
        return dx


class LogCumSumExp(Function):
    """out_i = ln Σ_{j ≤ i} e^(x_j) (np.logaddexp.accumulate: no overflow);
    dx_i = Σ_{j ≥ i} g_j · e^(x_i − out_j).

    The backward splits g into its positive and negative parts so every sum is again a stable
    log-sum-exp (PyTorch's formula, with the dtype's lowest value standing for ln 0):
    dx = exp(x + revlcse(ln g⁺ − out)) − exp(x + revlcse(ln g⁻ − out))."""

    def forward(self, x, axis):
        self.x, self.axis = x, axis
        self.out = np.logaddexp.accumulate(x, axis)
        return self.out

    def _rev_logcumsumexp(self, a):
        return np.flip(np.logaddexp.accumulate(np.flip(a, self.axis), self.axis), self.axis)

    def backward(self, g):
        lowest = np.finfo(g.dtype).min
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            log_abs = np.log(np.abs(g))
            pos = np.where(g > 0, log_abs, lowest) - self.out
            neg = np.where(g < 0, log_abs, lowest) - self.out
            return (np.exp(self._rev_logcumsumexp(pos) + self.x)
                    - np.exp(self._rev_logcumsumexp(neg) + self.x))


def _scan_axis(x, dim, op):
    """The axis of a scan, or None for a 0-d tensor (scanned as one element)."""
    axes = normalize_dim(_int_dim(dim, op), x.ndim, op)
    return axes[0] if axes else None


def _scan(fn, x, dim, op, **options):
    axis = _scan_axis(x, dim, op)
    if axis is None:
        return fn.apply(x.reshape(1), axis=0, **options).reshape(())
    return fn.apply(x, axis=axis, **options)


def cumsum(input, dim, *, dtype=None):
    """Running sum along ``dim``: out_i = x_0 + ... + x_i."""
    return _scan(CumSum, _accumulator(input, dtype), dim, "cumsum")


def cumprod(input, dim, *, dtype=None):
    """Running product along ``dim``: out_i = x_0 · ... · x_i (gradient exact with zeros)."""
    return _scan(CumProd, _accumulator(input, dtype), dim, "cumprod")


def _cum_extreme(input, dim, take_min):
    op, result = ("cummin", cummin_result) if take_min else ("cummax", cummax_result)
    axis = _scan_axis(input, dim, op)
    x = input.reshape(1) if axis is None else input
    indices = _running_extreme(x._data, axis or 0, take_min)
    values = CumExtreme.apply(x, indices=indices, axis=axis or 0)
    indices = Tensor._make(indices, None)
    if axis is None:
        return result(values.reshape(()), indices.reshape(()))
    return result(values, indices)


def cummax(input, dim):
    """Running maximum along ``dim``: ``(values, indices)``, indices int64."""
    return _cum_extreme(input, dim, False)


def cummin(input, dim):
    """Running minimum along ``dim``: ``(values, indices)``, indices int64."""
    return _cum_extreme(input, dim, True)


def logcumsumexp(input, dim):
    """Running log-sum-exp along ``dim``: out_i = ln(e^x_0 + ... + e^x_i), float inputs only."""
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f'"logcumsumexp" not implemented for {input.dtype}: '
                                  "give a float tensor (x.float())")
    return _scan(LogCumSumExp, input, dim, "logcumsumexp")
