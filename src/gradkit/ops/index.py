"""Indexing and slicing (basic, integer arrays, boolean masks) and one_hot.

The backward of ``x[index]`` scatters g into zeros of x's shape. Integer-array indices may
repeat an element, so their gradients are added with ``np.add.at`` (a scatter-add); basic
slices and boolean masks touch each element at most once and use plain assignment.
"""

import numpy as np

from gradkit.autograd.function import Function
from gradkit.ops._util import unbroadcast
from gradkit.tensor import Tensor


def index_arrays(index):
    """Replace tensors and lists inside an index by ndarrays, as NumPy expects."""
    if isinstance(index, tuple):
        return tuple(index_arrays(i) for i in index)
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _has_int_array(index):
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, np.ndarray) and p.dtype.kind in "iu" for p in parts)


class GetItem(Function):
    """out = x[index];  dx = zeros with g scattered (added, for repeated integer indices)."""

    def forward(self, x, index):
        self.shape, self.index = x.shape, index
        return x[index]

    def backward(self, g):
        dx = np.zeros(self.shape, g.dtype)
        if _has_int_array(self.index):
            np.add.at(dx, self.index, g)
        else:
            dx[self.index] = g
        return dx


def getitem(x, index):
    index = index_arrays(index)
    try:
        return GetItem.apply(x, index=index)
    except IndexError as e:
        raise IndexError(f"indexing a tensor of shape {x.shape} with {index!r}: {e}") from None


class IndexPut(Function):
    """out = x with out[index] = v (v broadcast to the shape of x[index]);
    dx = g with g[index] set to 0;  dv = g[index] summed back to v's shape.

    The recorded form of ``x[index] = v`` (and of fill_ / copy_) on a tensor in the graph."""

    def forward(self, x, v, index):
        self.index, self.v_shape, self.v_dtype = index, np.shape(v), np.asarray(v).dtype
        out = x.copy()
        out[index] = v
        return out

    def backward(self, g):
        gx = gv = None
        if self.needs_input_grad[0]:
            gx = g.copy()
            gx[self.index] = 0
        if self.needs_input_grad[1]:
            gv = unbroadcast(g[self.index], self.v_shape).astype(self.v_dtype, copy=False)
        return gx, gv


def index_put(x, index, value):
    """A copy of x with ``x[index] = value``, differentiable in both x and value."""
    return IndexPut.apply(x, value, index=index_arrays(index))


def one_hot(labels, num_classes=-1):
    """(..., ) integer labels -> (..., num_classes) int64 rows with a single 1 (PyTorch's
    F.one_hot). ``num_classes=-1`` uses max(label) + 1."""
    y = labels._data if isinstance(labels, Tensor) else np.asarray(labels)
    if y.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers, got dtype {y.dtype}")
    if num_classes < 0:
        num_classes = int(y.max()) + 1 if y.size else 0
    bad = (y < 0) | (y >= num_classes)
    if bad.any():
        raise ValueError(f"one_hot: label {int(y[bad].flat[0])} is outside "
                         f"[0, {num_classes - 1}] for num_classes={num_classes}")
    out = np.zeros(y.shape + (num_classes,), np.int64)
    np.put_along_axis(out, y[..., None].astype(np.intp), 1, axis=-1)
    return Tensor._make(out, None)
