"""Counting, binning and searching (bincount, histc, histogram and histogramdd from
ops/histograms.py; searchsorted, bucketize, nonzero_static, isin: no gradient, as in
PyTorch), order statistics and moments of samples (quantile, nanquantile, cov, corrcoef:
compositions of differentiable ops, so the gradient flows as PyTorch's), and index and block
builders (block_diag, cartesian_prod, combinations, tril_indices, triu_indices,
unravel_index).

Conventions: ``quantile`` reads the q-th quantile at rank q·(n − 1) of the sorted slice and
interpolates between the neighbouring order statistics ("linear"), or takes the lower, higher,
nearest (ties to even) or midpoint; a slice with a NaN gives NaN (``nanquantile`` drops NaNs).
``cov`` takes variables in rows and observations in columns.

    import gradkit as gk
    x = gk.tensor([[1.0, 2.0, 4.0], [0.0, 1.0, 0.5]], requires_grad=True)
    gk.quantile(x, 0.5, dim=1).sum().backward()
    gk.searchsorted(gk.tensor([1, 3, 5]), gk.tensor([3, 6]))    # tensor([1, 3])
"""

import itertools
import warnings

import numpy as np

from gradkit.autograd.function import Function
from gradkit.errors import ArgumentError, ShapeError
from gradkit.ops._util import normalize_dim
from gradkit.ops.arithmetic import cast, matmul
from gradkit.ops.gather import take_along_dim
from gradkit.ops.histograms import bincount, histc, histogram, histogramdd
from gradkit.ops.shape import stack
from gradkit.ops.sort import sort
from gradkit.ops.stacking import meshgrid
from gradkit.ops.unary import clamp
from gradkit.tensor import Tensor

__all__ = ["bincount", "histc", "histogram", "histogramdd", "searchsorted", "bucketize",
           "nonzero_static", "isin", "quantile", "nanquantile", "cov", "corrcoef", "block_diag",
           "cartesian_prod", "combinations", "tril_indices", "triu_indices", "unravel_index"]


def _array(x):
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _const(array):
    return Tensor._make(np.asarray(array), None)


# ----- searching (no gradient) -----

def searchsorted(sorted_sequence, values, *, out_int32=False, right=False, side=None,
                 sorter=None):
    """Where each value would go in the innermost dim of ``sorted_sequence`` to keep it
    sorted: the first such place, or the last with ``right`` (or side="right"). An N-D
    sequence searches row by row, its leading dims matching those of ``values``."""
    if side is not None:
        if side not in ("left", "right") or right and side == "left":
            raise RuntimeError(f"searchsorted: side must be 'left' or 'right' and agree with "
                               f"right={right}, got side={side!r}")
        right = side == "right"
    seq = _array(sorted_sequence)
    if sorter is not None:
        seq = np.take_along_axis(seq, _array(sorter), -1)
    v = _array(values)
    if seq.ndim == 0:
        raise RuntimeError("searchsorted: boundaries tensor should have at least 1 dimension")
    if seq.ndim == 1:
        out = np.searchsorted(seq, v, "right" if right else "left")
    else:
        if v.ndim != seq.ndim or v.shape[:-1] != seq.shape[:-1]:
            raise RuntimeError(f"searchsorted: boundaries and input should have the same "
                               f"leading dims, got {seq.shape} and {v.shape}")
        below = np.less_equal if right else np.less
        out = below(seq[..., None, :], v[..., :, None]).sum(-1)
    return _const(np.asarray(out, np.int32 if out_int32 else np.int64))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each element: i with boundaries[i−1] < x ≤ boundaries[i] (with ``right``:
    boundaries[i−1] ≤ x < boundaries[i]); boundaries is 1-D and increasing."""
    if _array(boundaries).ndim != 1:
        raise RuntimeError(f"bucketize: boundaries tensor must be 1 dimension, but got dim("
                           f"{_array(boundaries).ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def nonzero_static(input, *, size, fill_value=-1):
    """The (size, ndim) indices of the first ``size`` non-zero elements (row-major), padded
    with rows of fill_value when there are fewer."""
    found = np.argwhere(_array(input))[:size]
    out = np.full((size, input.ndim), fill_value, np.int64)
    out[:len(found)] = found
    return _const(out)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element is one of test_elements (either may be a number)."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin: expected at least one Tensor")
    return _const(np.isin(_array(elements), _array(test_elements), assume_unique=assume_unique,
                          invert=invert))


# ----- quantiles -----

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _levels(input, q, interpolation, op):
    """The quantile levels as an array of input's dtype, or an error naming op."""
    if input.dtype.kind != "f":
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype, got "
                           f"{input.dtype}")
    if input._data.size == 0:
        raise RuntimeError(f"{op}() input tensor must be non-empty")
    if interpolation not in _INTERPOLATIONS:
        raise ArgumentError(f"{op}() interpolation must be one of {_INTERPOLATIONS}, got "
                            f"{interpolation!r}")
    if isinstance(q, Tensor):
        if q.ndim > 1 or q.dtype != input.dtype:
            raise RuntimeError(f"{op}() q must be a scalar or 1-D tensor of the input's dtype "
                               f"{input.dtype}, got {q.ndim}-D {q.dtype}")
        qs = q._data.reshape(-1)
    else:
        qs = np.asarray([float(q)], input.dtype)
    if np.any((qs < 0) | (qs > 1)):
        raise RuntimeError(f"{op}() q values must be in the range [0, 1]")
    return qs


def _order_statistics(values, qs, interpolation, ignore_nan):
    """The quantiles (..., Q) of the rows of ``values``, sorted along the last dim with
    NaNs last: read at rank q·(count − 1), or at the last place where a NaN makes the
    answer NaN."""
    nan = np.isnan(values._data)
    n = values.shape[-1]
    count = n - nan.sum(-1, keepdims=True) if ignore_nan else np.full(nan.shape[:-1] + (1,), n)
    rank = qs * (count - 1)
    if not ignore_nan:
        rank = np.where(nan.any(-1, keepdims=True), n - 1, rank)
    rank = np.where(count == 0, n - 1, rank).astype(values.dtype)
    if interpolation == "nearest":
        rank = np.round(rank)
    low = np.floor(rank) if interpolation != "higher" else np.ceil(rank)
    high = np.ceil(rank) if interpolation != "lower" else low
    below = take_along_dim(values, _const(low.astype(np.int64)), -1)
    above = take_along_dim(values, _const(high.astype(np.int64)), -1)
    weight = np.full_like(rank, 0.5) if interpolation == "midpoint" else rank - low
    return below + (above - below) * _const(weight.astype(values.dtype))


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, op):
    qs = _levels(input, q, interpolation, op)
    axes = () if dim is None else normalize_dim(dim, input.ndim, op)  # () for a 0-d input
    x, axis = (input, axes[0]) if axes else (input.reshape(-1), 0)
    values = sort(x.movedim(axis, -1), -1).values
    out = _order_statistics(values, qs, interpolation, ignore_nan).movedim(-1, 0)  # (Q, ...)
    if keepdim and axes:
        out = out.unsqueeze(axis + 1)
    elif keepdim and dim is None:
        out = out.reshape(out.shape[0], *([1] * input.ndim))
    return out if isinstance(q, Tensor) and q.ndim == 1 else out[0]


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The q-th quantiles along dim (of all elements when None); a 1-D q puts its dim
    first. Differentiable: the gradient goes to the order statistics used."""
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """quantile ignoring NaNs (NaN only where a slice is all NaN)."""
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


# ----- moments of samples -----

def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance matrix of the variables in the rows of input (observations in
    columns): Σ_k w_k (x_ik − x̄_i)(x_jk − x̄_j) / (Σw − correction·Σ(w·a)/Σw) with
    w = fweights·aweights (the correction term is just ``correction`` without aweights)."""
    if input.ndim > 2:
        raise ShapeError(f"cov(): expected input to have two or fewer dimensions but got an "
                         f"input with {input.ndim} dimensions")
    x = input if input.ndim == 2 else input.reshape(1, -1)
    x = x if x.dtype.kind == "f" else cast(x, np.float32)
    w = None
    if fweights is not None:
        if fweights.dtype.kind not in "iu" or fweights.shape != (x.shape[1],):
            raise RuntimeError(f"cov(): expected fweights to be a 1-D integer tensor with "
                               f"{x.shape[1]} elements, got {fweights.dtype} {fweights.shape}")
        w = cast(fweights, x.dtype)
    if aweights is not None:
        if aweights.dtype.kind != "f" or aweights.shape != (x.shape[1],):
            raise RuntimeError(f"cov(): expected aweights to be a 1-D float tensor with "
                               f"{x.shape[1]} elements, got {aweights.dtype} {aweights.shape}")
        w = aweights if w is None else w * aweights
    if w is None:
        w_sum = float(x.shape[1])
        mean = x.mean(1, keepdim=True)
        norm = w_sum - correction
    else:
        w_sum = w.sum()
        mean = (x * w).sum(1, keepdim=True) / w_sum
        norm = w_sum - (correction if aweights is None else
                        correction * (w * aweights).sum() / w_sum)
    xm = x - mean
    xw = xm if w is None else xm * w
    if isinstance(norm, float) and norm <= 0:
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the number of observations.", UserWarning, stacklevel=2)
    norm = max(norm, 0.0) if isinstance(norm, float) else clamp(norm, 0.0)
    out = matmul(xw, xm.t()) / norm
    return out.reshape(()) if x.shape[0] == 1 else out


def corrcoef(input):
    """Pearson's correlation coefficients of the rows: cov_ij / √(cov_ii·cov_jj), clamped
    to [−1, 1]."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    std = c.diagonal().sqrt()
    return clamp(c / std.unsqueeze(1) / std.unsqueeze(0), -1.0, 1.0)


# ----- index and block builders -----

class BlockDiag(Function):
    """out = the blocks down the diagonal of a zero matrix;  d(block k) = g[its rows, cols]."""

    def forward(self, *blocks, dtype):
        self.spans = []
        rows, cols = sum(b.shape[0] for b in blocks), sum(b.shape[1] for b in blocks)
        out = np.zeros((rows, cols), dtype)
        r = c = 0
        for b in blocks:
            self.spans.append((r, c, b.shape, b.dtype))
            out[r:r + b.shape[0], c:c + b.shape[1]] = b
            r, c = r + b.shape[0], c + b.shape[1]
        return out

    def backward(self, g):
        return tuple(g[r:r + s[0], c:c + s[1]].astype(dt, copy=False) if need else None
                     for (r, c, s, dt), need in zip(self.spans, self.needs_input_grad))


def block_diag(*tensors):
    """A block-diagonal matrix of 0-, 1- or 2-D tensors (a 0-d is 1×1, a 1-D is one row)."""
    blocks = []
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise ShapeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                             f"dimensions. Input {i} has {t.ndim} dimensions")
        blocks.append(t.reshape(1, -1) if t.ndim < 2 else t)
    floats = {t.dtype for t in blocks if t.dtype.kind == "f"}
    if len(floats) > 1:
        raise TypeError(f"block_diag: dtype mismatch among the blocks, {sorted(map(str, floats))}")
    dtype = floats.pop() if floats else np.result_type(*[t.dtype for t in blocks] or [np.float32])
    return BlockDiag.apply(*blocks, dtype=dtype)


def cartesian_prod(*tensors):
    """All tuples of one element of each 1-D tensor, as rows (itertools.product order); one
    tensor comes back as it is."""
    for t in tensors:
        if t.ndim != 1:
            raise ShapeError(f"cartesian_prod: expect a 1D vector, but got shape {t.shape}")
    if len(tensors) == 1:
        return tensors[0]
    return stack([g.reshape(-1) for g in meshgrid(*tensors, indexing="ij")], 1)


def combinations(input, r=2, with_replacement=False):
    """The length-r combinations of a 1-D tensor's elements, as rows (itertools order)."""
    if input.ndim != 1:
        raise ShapeError(f"combinations: Expect a 1D vector, but got shape {input.shape}")
    if r < 0:
        raise RuntimeError(f"combinations: Expect a non-negative number, but got {r}")
    if r == 0:
        return Tensor._make(np.zeros(0, input.dtype), None)
    pick = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    index = np.array(list(pick(range(input.shape[0]), r)), np.int64).reshape(-1, r)
    return input[index]


def _indices(fn, row, col, offset, dtype, op):
    if row < 0 or col < 0:
        raise RuntimeError(f"{op}: row and col must be non-negative, got {row} and {col}")
    return _const(np.stack(fn(row, offset, col)).astype(dtype or np.int64).reshape(2, -1))


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) row and column indices of the lower triangle of a row × col matrix."""
    return _indices(np.tril_indices, row, col, offset, dtype, "tril_indices")


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) row and column indices of the upper triangle of a row × col matrix."""
    return _indices(np.triu_indices, row, col, offset, dtype, "triu_indices")


def unravel_index(indices, shape):
    """The coordinates in ``shape`` of flat indices (negative ones count from the end). An
    index out of range raises (PyTorch 2.13 wraps it round, unchecked)."""
    idx = _array(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"unravel_index: expected 'indices' to be integer dtype, but got "
                        f"{idx.dtype}")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    size = int(np.prod(shape))
    if np.any((idx < -size) | (idx >= max(size, 1))):
        raise RuntimeError(f"unravel_index: 'indices' must be in range [{-size}, {size - 1}]")
    coords = np.unravel_index(np.where(idx < 0, idx + size, idx), shape)
    return tuple(_const(c.astype(np.int64)) for c in coords)
