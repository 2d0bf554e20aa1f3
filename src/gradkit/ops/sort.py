"""Sorting and order statistics (torch.*): sort, argsort, msort, topk, kthvalue, median,
nanmedian, mode, unique, unique_consecutive.

Every order is NumPy's stable argsort, with NaN as the largest value (PyTorch's rule): ties
keep their input order, so ``sort`` always behaves as PyTorch's ``stable=True``, descending
included. The ops that return values pick them with ops/reduce.py's TakeAlong (the Function
of max/min along a dim too), whose gradient puts the upstream gradient back at the picked
indices. Index outputs are int64; the (values, indices) results are named tuples. ``unique``
and ``unique_consecutive`` return plain tensors without a gradient, as in PyTorch.

    x = gk.tensor([3.0, 1.0, 2.0], requires_grad=True)
    values, indices = gk.sort(x, descending=True)     # [3, 2, 1], [0, 2, 1]
    gk.topk(x, 2).values.sum().backward()             # x.grad == [1, 0, 1]
"""

import numpy as np

from gradkit.errors import ArgumentError, ShapeError
from gradkit.ops._util import normalize_dim
from gradkit.ops.reduce import take_along, values_indices
from gradkit.tensor import Tensor

__all__ = ["argsort", "kthvalue", "median", "mode", "msort", "nanmedian", "sort", "topk",
           "unique", "unique_consecutive"]


def _axis(x, dim, op):
    """The non-negative axis of an int dim; x has at least one dim."""
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}(): dim must be an int, got {dim!r}")
    return normalize_dim(int(dim), x.ndim, op)[0]


def _order(a, axis, descending=False):
    """Stable argsort along axis, NaN largest; descending keeps ties in input order too."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    n = a.shape[axis]
    rev = np.argsort(np.flip(a, axis), axis=axis, kind="stable")
    return np.flip(n - 1 - rev, axis)


def _scalar(fn, x, *args):
    """A 0-d input seen as shape (1,), each output reshaped back to 0-d."""
    values, indices = fn(x.reshape(1), *args)
    return values_indices(values.reshape(()), indices.reshape(()))


def sort(input, dim=-1, descending=False, stable=False):
    """(values, indices) sorted along dim. Always stable (``stable`` is accepted for PyTorch's
    signature): equal values keep their input order, in both directions."""
    if input.ndim == 0:
        return _scalar(sort, input, dim, descending)
    axis = _axis(input, dim, "sort")
    return take_along(input, _order(input._data, axis, descending), axis, True)


def argsort(input, dim=-1, descending=False, stable=False):
    """The indices that sort input along dim (stable, as ``sort``)."""
    return sort(input, dim, descending).indices


def msort(input):
    """The values sorted along dim 0."""
    return sort(input, 0).values


def topk(input, k, dim=-1, largest=True, sorted=True):
    """(values, indices) of the k largest (or smallest) along dim, always in sorted order
    (``sorted=False`` gives the same order, one of those PyTorch allows)."""
    if input.ndim == 0:
        return _scalar(topk, input, k, dim, largest)
    axis = _axis(input, dim, "topk")
    if not 0 <= k <= input.shape[axis]:
        raise ArgumentError(f"topk(): selected index k out of range: k={k} for dim {axis} of "
                            f"size {input.shape[axis]}")
    order = _order(input._data, axis, largest)
    return take_along(input, np.take(order, np.arange(k), axis=axis), axis, True)


def kthvalue(input, k, dim=-1, keepdim=False):
    """(values, indices) of the k-th smallest (k from 1) along dim; NaN counts as largest."""
    if input.ndim == 0:
        return _scalar(kthvalue, input, k, dim)
    axis = _axis(input, dim, "kthvalue")
    if not 1 <= k <= input.shape[axis]:
        raise ArgumentError(f"kthvalue(): selected number k out of range for dimension {axis}: "
                            f"k={k}, size {input.shape[axis]}")
    order = _order(input._data, axis)
    return take_along(input, np.take(order, [k - 1], axis=axis), axis, keepdim)


def _median(input, dim, keepdim, ignore_nan, op):
    """The lower median along dim: the ((n − 1) // 2)-th smallest. With NaN present, median
    gives the first NaN; nanmedian the lower median of the other values (if none: NaN, at index
    (n − 1) // 2, as PyTorch)."""
    if input.ndim == 0:
        return _scalar(lambda x, d: _median(x, d, False, ignore_nan, op), input, dim)
    axis = _axis(input, dim, op)
    a = input._data
    n = a.shape[axis]
    if n == 0:
        raise IndexError(f"{op}(): Expected reduction dim {axis} to have non-zero size, got "
                         f"shape {input.shape}")
    order = _order(a, axis)
    shape = list(a.shape)
    shape[axis] = 1
    if a.dtype.kind == "f":
        m = n - np.isnan(a).sum(axis=axis, keepdims=True)
    else:
        m = np.full(shape, n)
    pos = np.where(m < n, m, (n - 1) // 2) if not ignore_nan else np.where(
        m > 0, (m - 1) // 2, (n - 1) // 2)
    return take_along(input, np.take_along_axis(order, pos, axis=axis), axis, keepdim)


def _median_all(input, ignore_nan, op):
    """The median of every element, a 0-d tensor (NaN for an empty float tensor)."""
    if input.numel() == 0:
        if input.dtype.kind != "f":
            raise ShapeError(f"{op}(): an empty {input.dtype} tensor has no median (PyTorch "
                             f"returns an arbitrary integer)")
        return Tensor._make(np.array(np.nan, input.dtype), None)
    return _median(input.reshape(-1), 0, False, ignore_nan, op).values


def median(input, dim=None, keepdim=False):
    """Without dim: the lower median of all values (a 0-d tensor; NaN if any value is NaN).
    With dim: (values, indices) along dim. The gradient goes to the element picked."""
    if dim is None:
        return _median_all(input, False, "median")
    return _median(input, dim, keepdim, False, "median")


def nanmedian(input, dim=None, keepdim=False):
    """median ignoring NaN: the lower median of the values that are not NaN."""
    if dim is None:
        return _median_all(input, True, "nanmedian")
    return _median(input, dim, keepdim, True, "nanmedian")


def mode(input, dim=-1, keepdim=False):
    """(values, indices): the most frequent value along dim (the smallest on a tie) and the
    last index where it occurs, as PyTorch's CPU kernel."""
    if input.ndim == 0:
        return _scalar(mode, input, dim)
    axis = _axis(input, dim, "mode")
    n = input.shape[axis]
    if n == 0:
        raise IndexError(f"mode(): Expected reduction dim {axis} to have non-zero size, got "
                         f"shape {input.shape}")
    order = np.moveaxis(_order(input._data, axis), axis, -1)
    s = np.take_along_axis(np.moveaxis(input._data, axis, -1), order, axis=-1)
    # in the sorted rows, start[j] and end[j] are the first and last place of j's run
    change = s[..., 1:] != s[..., :-1]
    edge = np.ones(s.shape[:-1] + (1,), bool)
    j = np.arange(n)
    start = np.maximum.accumulate(np.where(np.concatenate([edge, change], -1), j, 0), axis=-1)
    end = np.where(np.concatenate([change, edge], -1), j, n)
    end = np.flip(np.minimum.accumulate(np.flip(end, -1), axis=-1), -1)
    best = np.argmax(end - start, axis=-1)[..., None]  # the first longest run: smallest value
    idx = np.take_along_axis(order, np.take_along_axis(end, best, axis=-1), axis=-1)
    return take_along(input, np.moveaxis(idx, -1, axis), axis, keepdim)


def _unique_axis(input, dim, op):
    """The axis of unique over slices; a zero-size dim elsewhere has no slices to compare."""
    axis = normalize_dim(dim, input.ndim, op)[0]
    if input.numel() == 0 and input.shape[axis] != 0:
        raise ShapeError(f"{op}: there are 0 sized dimensions, and they aren't selected, so "
                         f"unique cannot be applied (shape {input.shape}, dim {dim})")
    return axis


def _results(values, inverse, counts, return_inverse, return_counts):
    """PyTorch's return: the values alone, or a tuple with the inverse and/or the counts."""
    out = [Tensor._make(values, None)]
    if return_inverse:
        out.append(Tensor._make(inverse.astype(np.int64, copy=False), None))
    if return_counts:
        out.append(Tensor._make(counts.astype(np.int64, copy=False), None))
    return out[0] if len(out) == 1 else tuple(out)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (or slices along dim), always sorted (``sorted=False`` too, one of
    the orders PyTorch allows). Each NaN is distinct, as in PyTorch. ``inverse`` maps every
    element (or slice) to its place in the output; ``counts`` counts each."""
    a = input._data
    if dim is None:
        values, inverse, counts = np.unique(a.reshape(-1), return_inverse=True,
                                            return_counts=True, equal_nan=False)
        inverse = inverse.reshape(a.shape)
    else:
        axis = _unique_axis(input, dim, "unique")
        values, inverse, counts = np.unique(a, return_inverse=True, return_counts=True,
                                            axis=axis)
        inverse = inverse.reshape(a.shape[axis])
    return _results(values, inverse, counts, return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """One value (or slice along dim) per run of equal consecutive ones, with the inverse
    (each element's run) and the counts (each run's length) on request."""
    a = input._data
    if dim is None:
        source = a.reshape(-1)
        rows, axis = source.reshape(-1, 1), 0
    else:
        axis = _unique_axis(input, dim, "unique_consecutive")
        source = a
        n = a.shape[axis]
        rows = np.moveaxis(a, axis, 0).reshape(n, a.size // n if n else 0)
    start = np.ones(rows.shape[0], bool)
    start[1:] = (rows[1:] != rows[:-1]).any(axis=1)
    first = np.flatnonzero(start)
    values = np.take(source, first, axis=axis)
    inverse = np.cumsum(start) - 1
    inverse = inverse.reshape(a.shape) if dim is None else inverse
    counts = np.diff(np.append(first, rows.shape[0]))
    return _results(values, inverse, counts, return_inverse, return_counts)
