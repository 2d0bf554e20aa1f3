"""Strided views and writing a tensor into a view of a copy of another: as_strided,
select_scatter, slice_scatter, diagonal_scatter, as_strided_scatter (the adjoints of the
views), put (flat indices) and index_reduce, exported through ops/aliases.py.

as_strided reads the tensor's elements in row-major order as its storage (gradkit tensors act
as contiguous ones: ``stride()`` is the row-major one), so it matches PyTorch on contiguous
tensors; element (i, j, …) of the result is storage[offset + i·stride₀ + j·stride₁ + …].

One Function, Embed, serves the three views: out = a copy of x with ``src`` written into
``place(out)``, a writable view; the gradient of x is g with that view zeroed, the gradient
of src is the view of g.

    import gradkit as gk
    x = gk.zeros(3, 3)
    gk.diagonal_scatter(x, gk.ones(3))          # the identity
    gk.select_scatter(x, gk.ones(3), 0, 1)      # row 1 set to ones
"""

import numpy as np

from gradkit.autograd.function import Function
from gradkit.errors import ShapeError
from gradkit.ops._util import normalize_dim
from gradkit.ops.diag import _diagonal_view
from gradkit.ops.scatter_reduce import scatter_reduce
from gradkit.tensor import Tensor


class Embed(Function):
    """out = x with place(out) = src;  dx = g with place(dx) = 0,  dsrc = place(g)."""

    def forward(self, x, src, place):
        self.place = place
        out = x.copy()
        place(out)[...] = src
        return out

    def backward(self, g):
        nx, ns = self.needs_input_grad
        gx = None
        if nx:
            gx = g.copy()
            self.place(gx)[...] = 0
        return gx, self.place(g).copy() if ns else None


def _embed(input, src, place, op):
    view_shape = place(np.empty(input.shape, np.bool_)).shape
    if src.shape != view_shape:
        raise ShapeError(f"{op}: expected src to have a size equal to the slice of self. src "
                         f"size = {list(src.shape)}, slice size = {list(view_shape)}")
    if src.dtype != input.dtype:
        raise RuntimeError(f"{op}: src has dtype {src.dtype} but self has {input.dtype}")
    return Embed.apply(input, src, place=place)


def select_scatter(input, src, dim, index):
    """A copy of input with input.select(dim, index) replaced by src."""
    axis = normalize_dim(dim, input.ndim, "select_scatter")[0]
    n = input.shape[axis]
    if not -n <= index < n:
        raise IndexError(f"select_scatter(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {dim}")
    at = (slice(None),) * axis + (index,)
    return _embed(input, src, lambda a: a[at], "select_scatter")


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """A copy of input with the slice start:end:step of dim replaced by src."""
    axis = normalize_dim(dim, input.ndim, "slice_scatter")[0]
    at = (slice(None),) * axis + (slice(start, end, step),)
    return _embed(input, src, lambda a: a[at], "slice_scatter")


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """A copy of input with input.diagonal(offset, dim1, dim2) replaced by src."""
    d1 = normalize_dim(dim1, input.ndim, "diagonal_scatter")[0]
    d2 = normalize_dim(dim2, input.ndim, "diagonal_scatter")[0]
    if d1 == d2:
        raise RuntimeError(f"diagonal_scatter: dim1 and dim2 cannot be the same dimension, got "
                           f"{dim1} and {dim2}")
    return _embed(input, src, lambda a: _diagonal_view(a, offset, d1, d2), "diagonal_scatter")


class Put(Function):
    """out = x with out.flat[index] = source (+= with accumulate, repeats adding up);
    dx = g with g.flat[index] = 0 (g as it is with accumulate),  dsource = g.flat[index]."""

    def forward(self, x, source, index, accumulate):
        self.index, self.accumulate, self.shape = index, accumulate, np.shape(source)
        out = x.copy()
        flat = out.reshape(-1)
        if accumulate:
            np.add.at(flat, index, source.reshape(-1))
        else:
            flat[index] = source.reshape(-1)
        return out

    def backward(self, g):
        nx, ns = self.needs_input_grad
        gx = None
        if nx:
            gx = g if self.accumulate else g.copy()
            if not self.accumulate:
                gx.reshape(-1)[self.index] = 0
        return gx, g.reshape(-1)[self.index].reshape(self.shape) if ns else None


def put(input, index, source, accumulate=False):
    """A copy of input with the elements at the flat (row-major) positions ``index`` set to
    ``source`` (added with accumulate); negative indices count from the end."""
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"put(): expected index to be an integer tensor, got {idx.dtype}")
    if idx.size != source._data.size:
        raise IndexError(f"put(): expected source and index to have the same number of "
                           f"elements, but got source.numel() = {source._data.size}, "
                           f"index.numel() = {idx.size}")
    size = input._data.size
    if np.any((idx < -size) | (idx >= size)):
        raise IndexError(f"put(): index out of range for a tensor of {size} elements")
    if source.dtype != input.dtype:
        raise RuntimeError(f"put(): source has dtype {source.dtype} but self has {input.dtype}")
    return Put.apply(input, source, index=idx.reshape(-1) % max(size, 1),
                     accumulate=bool(accumulate))


def _strided_index(input, size, stride, storage_offset, op):
    """The flat (row-major) positions of the elements of the strided view."""
    size, stride = tuple(int(n) for n in size), tuple(int(n) for n in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"{op}: mismatch in length of strides and shape, got {len(size)} "
                           f"sizes and {len(stride)} strides")
    if any(n < 0 for n in size) or any(n < 0 for n in stride):
        raise RuntimeError(f"{op}: sizes and strides must be non-negative, got {size} and "
                           f"{stride}")
    offset = 0 if storage_offset is None else int(storage_offset)
    index = np.full(size, offset, np.int64)
    for d, (n, st) in enumerate(zip(size, stride)):
        index += (np.arange(n) * st).reshape((-1,) + (1,) * (len(size) - d - 1))
    if index.size and (index.max() >= input._data.size or offset < 0):
        raise RuntimeError(f"{op}: setStorage: sizes {list(size)}, strides {list(stride)}, "
                           f"storage offset {offset} need {int(index.max()) + 1} elements, "
                           f"but the tensor has {input._data.size}")
    return index


class AsStrided(Function):
    """out = storage[index] (index the flat positions of the view);
    dx = zeros with g added at index (a position read twice gets both)."""

    def forward(self, x, index):
        self.shape, self.index = x.shape, index
        return x.reshape(-1)[index]

    def backward(self, g):
        dx = np.zeros(int(np.prod(self.shape)), g.dtype)
        np.add.at(dx, self.index, g)
        return dx.reshape(self.shape)


def as_strided(input, size, stride, storage_offset=None):
    """The view of ``size`` whose element (i, j, …) is element offset + i·stride₀ + … of the
    input read in row-major order (a copy in gradkit, with PyTorch's values and gradient)."""
    return AsStrided.apply(input, index=_strided_index(input, size, stride, storage_offset,
                                                      "as_strided"))


def as_strided_scatter(input, src, size, stride, storage_offset=None):
    """A copy of input with the strided view ``as_strided(size, stride, storage_offset)``
    replaced by src. A view that reads a position twice raises (PyTorch raises only when it
    sees a zero stride, and writes such views in an unspecified order otherwise)."""
    index = _strided_index(input, size, stride, storage_offset, "as_strided_scatter")
    if src.shape != index.shape:
        raise ShapeError(f"as_strided_scatter: expected src to have the view's size "
                         f"{list(index.shape)}, got {list(src.shape)}")
    if np.unique(index).size != index.size:
        raise RuntimeError("as_strided_scatter: unsupported operation: more than one element "
                           "of the written-to tensor refers to a single memory location")
    return put(input, Tensor._make(index, None), src)


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """input with the slices of source along dim reduced ("prod", "mean", "amax", "amin")
    into the slices index[i] of input: scatter_reduce with index spread over the other dims."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    axis = normalize_dim(dim, input.ndim, "index_reduce")[0] if input.ndim else 0
    if idx.ndim > 1 or idx.shape[0] != source.shape[axis]:
        raise IndexError(f"index_reduce(): Index should have dimension 1 and as many elements "
                         f"as source has along dim {dim}, got shape {idx.shape}")
    shape = [1] * source.ndim
    shape[axis] = -1
    spread = np.broadcast_to(idx.reshape(shape), source.shape)
    return scatter_reduce(input, axis, Tensor._make(np.ascontiguousarray(spread), None), source,
                          reduce, include_self=include_self)
