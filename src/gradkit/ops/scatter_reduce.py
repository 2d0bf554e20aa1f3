"""scatter_reduce: src reduced into input at index along dim (exported by gather.py).

``reduce`` is "sum", "prod", "mean", "amax" or "amin". With ``include_self=True`` the input's
own value takes part at every place written; with False a written place holds only the
reduction of what was scattered there (and "mean" divides by that count). Places no index
names keep the input's value. Integer "mean" rounds down, as PyTorch's does.

Backward, as PyTorch's (scatter_reduce_backward), writing r for the result and n for the count
of values reduced at a place:
  sum:  dx = g,  dsrc = g[where]
  mean: dx = g / n,  dsrc = (g / n)[where]
  prod: dx = g·r / x,  dsrc = (g·r)[where] / src, with each zero (one of a place's values)
        given the product of the others instead of a division by zero
  amax / amin: the gradient is shared evenly by the values equal to the result at a place
and dx is 0 at the written places when ``include_self=False``.
"""

import numpy as np

from gradkit.autograd.function import Function
from gradkit.errors import ArgumentError, ShapeError
from gradkit.ops.gather_util import along, axis, index_array, leading_block
from gradkit.tensor import Tensor

_UFUNCS = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum,
           "amin": np.minimum}


def _identity(reduce, dtype):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    info = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype)
    big = np.inf if dtype.kind == "f" else info.max
    return -big if reduce == "amax" else big


def _reduce(x, src, where, reduce, include_self):
    """The forward on arrays: (result, count of values reduced at each place)."""
    out = x.copy()
    if not include_self:
        out[where] = _identity(reduce, x.dtype)
    _UFUNCS[reduce].at(out, where, src)
    count = np.full(x.shape, 1 if include_self else 0, x.dtype)
    np.add.at(count, where, 1)
    if reduce == "mean":
        count[count == 0] = 1
        if x.dtype.kind == "f":
            out /= count
        else:
            out //= count
    return out, count


class ScatterReduce(Function):
    """out = input with src reduced in at where (see the module docstring for the
    gradients)."""

    def forward(self, x, src, where, block, reduce, include_self):
        src_b = src[block]
        self.x, self.src, self.where, self.block = x, src_b, where, block
        self.src_shape, self.reduce, self.include_self = src.shape, reduce, include_self
        self.out, self.count = _reduce(x, src_b, where, reduce, include_self)
        return self.out

    def backward(self, g):
        gx, gsrc = getattr(self, "_grad_" + self.reduce)(g)
        if not self.include_self:
            gx = gx.copy()
            gx[self.where] = 0
        full = np.zeros(self.src_shape, g.dtype)
        full[self.block] = gsrc
        return gx, full

    def _grad_sum(self, g):
        return g, g[self.where]

    def _grad_mean(self, g):
        n = np.where(self.count == 0, np.ones((), g.dtype), self.count)
        return g / n, (g / n)[self.where]

    def _grad_prod(self, g):
        x, src, where, one = self.x, self.src, self.where, np.ones((), g.dtype)
        masked_x = np.where(x == 0, one, x)
        gx = g * _reduce(masked_x, src, where, "prod", self.include_self)[0] / masked_x
        src_zero = src == 0
        zeros_at = np.zeros(x.shape, g.dtype)
        np.add.at(zeros_at, where, src_zero.astype(g.dtype))
        single_zero = src_zero & (zeros_at[where] == 1)
        others = _reduce(x, np.where(single_zero, one, src), where, "prod",
                         self.include_self)[0]
        gsrc = np.where(single_zero, (g * others)[where],
                        (g * self.out)[where] / np.where(src_zero, one, src))
        return gx, gsrc

    def _grad_extreme(self, g):
        x, src, where, out = self.x, self.src, self.where, self.out
        x_wins = (x == out).astype(g.dtype)
        src_wins = (src == out[where]).astype(g.dtype)
        winners = x_wins.copy()
        np.add.at(winners, where, src_wins)
        share = g / winners
        return x_wins * share, src_wins * share[where]

    _grad_amax = _grad_amin = _grad_extreme


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """input with src reduced in at index along dim: for dim 0,
    out[index[i][j]][j] = reduce(out[index[i][j]][j], src[i][j]) over all i, j."""
    if reduce not in _UFUNCS:
        raise ArgumentError(f"scatter_reduce: reduce argument must be one of "
                            f"{sorted(_UFUNCS)}, got {reduce!r}")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce: src must be a tensor, got {type(src).__name__}")
    if src.dtype != input.dtype:
        raise ArgumentError(f"scatter_reduce: expected self.dtype to be equal to src.dtype, "
                            f"got {input.dtype} and {src.dtype}")
    x, idx = input, index_array(index, "scatter_reduce", int32=True)
    if x.ndim == 0:
        x, idx, src = x.reshape(1), idx.reshape(-1), src.reshape(-1)
    d = axis(dim, x.ndim, "scatter_reduce")
    if idx.ndim != x.ndim or src.ndim != x.ndim or any(
            i > n for k, (i, n) in enumerate(zip(idx.shape, x.shape)) if k != d) or any(
            i > s for i, s in zip(idx.shape, src.shape)):
        raise ShapeError(f"scatter_reduce: expected index {list(idx.shape)} to be no larger "
                         f"than self {list(x.shape)} apart from dimension {d} and to be no "
                         f"larger size than src {list(src.shape)}")
    where = along(idx, d, x.shape[d], "scatter_reduce")
    out = ScatterReduce.apply(x, src, where=where, block=leading_block(idx.shape),
                              reduce=reduce, include_self=include_self)
    return out.reshape(input.shape) if input.ndim == 0 else out
