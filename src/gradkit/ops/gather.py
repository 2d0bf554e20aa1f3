"""Gather and scatter along a dim, by index lists and by masks (PyTorch's names and rules).

Every op here turns its index tensor into ``where``: a NumPy index that names, for each
element of the result (gather) or of the source (scatter), the place of the input it reads or
writes. For ``gather(x, 1, index)`` it is ``(i, index, k)`` with i, k broadcast aranges, so
``x[where]`` is the gather and ``np.add.at(dx, where, g)`` its backward, repeated places
adding up. Scatters are the adjoint: ``out[where] = src`` and ``dsrc = g[where]``; where an
index repeats, one write wins (PyTorch leaves which undefined; here, the last). A source larger than the index (scatter)
gives only its leading index-shaped block; the rest has zero gradient (PyTorch 2.13's
backward fails there, "returned an invalid gradient").

Index tensors are int64; gather, scatter, scatter_add, scatter_reduce, index_select and
index_add also take int32, as PyTorch 2.13 does. Negative indices wrap in index_fill, take and
take_along_dim and are refused elsewhere, as in PyTorch.

    x = gk.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    gk.gather(x, 1, gk.tensor([[0, 0], [1, 0]]))          # [[1., 1.], [4., 3.]]
    x.masked_fill(x > 2, 0.)                               # [[1., 2.], [0., 0.]]
"""

import warnings

import numpy as np

from gradkit.autograd.function import Function
from gradkit.errors import ArgumentError, ShapeError
from gradkit.ops.arithmetic import where as _where3
from gradkit.ops.masked import fill_value, masked_fill, masked_scatter, masked_select
from gradkit.ops.scatter_reduce import scatter_reduce
from gradkit.ops.gather_util import along, axis, index_array, leading_block, slot
from gradkit.tensor import Tensor

__all__ = ["gather", "scatter", "scatter_add", "scatter_reduce", "index_select", "index_add",
           "index_copy", "index_fill", "masked_fill", "masked_select", "masked_scatter",
           "nonzero", "argwhere", "take", "take_along_dim", "where"]


class Gather(Function):
    """out = x[where] (gather, index_select, take, take_along_dim);
    dx = zeros with g added at where (np.add.at: a place read twice gets both gradients)."""

    def forward(self, x, where):
        self.shape, self.where = x.shape, where
        return x[where]

    def backward(self, g):
        dx = np.zeros(self.shape, g.dtype)
        np.add.at(dx, self.where, g)
        return dx


class Scatter(Function):
    """out = x with out[where] = src[block] (scatter, index_copy; a number src fills);
    dx = g with the written places zeroed;  dsrc[block] = g[where], 0 elsewhere."""

    def forward(self, x, src, where, block):
        self.where, self.block, self.src_shape = where, block, np.shape(src)
        out = x.copy()
        out[where] = src[block] if isinstance(src, np.ndarray) and src.ndim else src
        return out

    def backward(self, g):
        gx = gsrc = None
        if self.needs_input_grad[0]:
            gx = g.copy()
            gx[self.where] = 0
        if self.needs_input_grad[1]:
            gsrc = _into_block(g[self.where], self.src_shape, self.block)
        return gx, gsrc


class ScatterAdd(Function):
    """out = x, then out[where] += α·src[block] (scatter_add, index_add; repeats add up);
    dx = g;  dsrc[block] = α·g[where], 0 elsewhere."""

    def forward(self, x, src, where, block, alpha):
        self.where, self.block, self.src_shape, self.alpha = where, block, src.shape, alpha
        out = x.copy()
        np.add.at(out, where, src[block] if alpha == 1 else alpha * src[block])
        return out

    def backward(self, g):
        gsrc = None
        if self.needs_input_grad[1]:
            picked = g[self.where] if self.alpha == 1 else self.alpha * g[self.where]
            gsrc = _into_block(picked, self.src_shape, self.block)
        return g, gsrc


class ScatterMultiply(Function):
    """out = x, then out[where] *= src[block] (scatter's legacy reduce="multiply").

    No backward, as in PyTorch ("derivative for aten::scatter is not implemented")."""

    def forward(self, x, src, where, block):
        out = x.copy()
        np.multiply.at(out, where, src[block] if isinstance(src, np.ndarray) else src)
        return out

    def backward(self, g):
        raise NotImplementedError("scatter(reduce='multiply'): the derivative is not "
                                  "implemented (nor in PyTorch); use scatter_reduce(reduce="
                                  "'prod') for a differentiable product")


class IndexFill(Function):
    """out = x with out[where] = v (v a 0-d tensor);  dx = g with those places zeroed;
    dv = Σ g over the filled places (each counted once, repeated indices or not)."""

    def forward(self, x, v, where):
        self.where = where
        out = x.copy()
        out[where] = v
        return out

    def backward(self, g):
        gx = g.copy()
        gx[self.where] = 0
        return gx, np.asarray((g - gx).sum())


def _into_block(values, shape, block):
    """values written into the leading block of zeros of ``shape``."""
    if values.shape == shape:
        return values
    out = np.zeros(shape, values.dtype)
    out[block] = values
    return out


def _operand(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a tensor, got {type(x).__name__}")
    return x


def _same_dtype(x, src, op):
    if src._data.dtype != x._data.dtype:
        raise ArgumentError(f"{op}: expected self.dtype to be equal to src.dtype, got "
                            f"{x.dtype} and {src.dtype}")


def gather(input, dim, index, *, sparse_grad=False):
    """out[i][j][k] = input[index[i][j][k]][j][k] for dim 0 (likewise for other dims); the
    result has index's shape, index.size(d) <= input.size(d) for d != dim. ``sparse_grad``
    is accepted for PyTorch's signature: gradkit's gradients are always dense."""
    x = _operand(input, "gather")
    idx = index_array(index, "gather", int32=True)
    if x.ndim == 0 and idx.ndim == 0:  # PyTorch takes a 0-d input with a 0-d index
        axis(dim, 0, "gather")
        where = (slot(idx.reshape(1), 1, "gather"),)
        return Gather.apply(x.reshape(1), where=where).reshape(())
    d = axis(dim, x.ndim, "gather")
    if idx.ndim != x.ndim:
        raise ShapeError(f"gather: index tensor must have the same number of dimensions as "
                         f"input tensor, got {idx.ndim} and {x.ndim}")
    if any(i > n for k, (i, n) in enumerate(zip(idx.shape, x.shape)) if k != d):
        raise ShapeError(f"gather: size does not match at dimension {d}: expected index "
                         f"{list(idx.shape)} to be no larger than self {list(x.shape)} apart "
                         f"from dimension {d}")
    return Gather.apply(x, where=along(idx, d, x.shape[d], "gather"))


def _scatter_where(x, d, idx, src, op):
    """Checks of scatter's shapes; ``where`` and the block of src that is written."""
    if idx.ndim != x.ndim:
        raise ShapeError(f"{op}: index tensor must have the same number of dimensions as "
                         f"self tensor, got {idx.ndim} and {x.ndim}")
    src_shape = np.shape(src._data) if isinstance(src, Tensor) else idx.shape
    too_big = any(i > n for k, (i, n) in enumerate(zip(idx.shape, x.shape)) if k != d)
    if too_big or len(src_shape) != idx.ndim or any(i > s for i, s in zip(idx.shape,
                                                                          src_shape)):
        raise ShapeError(f"{op}: expected index {list(idx.shape)} to be no larger than self "
                         f"{list(x.shape)} apart from dimension {d} and to be no larger size "
                         f"than src {list(src_shape)}")
    return along(idx, d, x.shape[d], op), leading_block(idx.shape)


def _scatter_args(input, dim, index, src, op):
    x = _operand(input, op)
    idx = index_array(index, op, int32=True)
    if x.ndim == 0:  # PyTorch takes a 0-d self with a 0-d (or one-element) index
        x1 = x.reshape(1)
        idx = idx.reshape(-1)
        src = src.reshape(-1) if isinstance(src, Tensor) else src
        return x1, 0, idx, src
    return x, axis(dim, x.ndim, op), idx, src


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """A copy of input with src's values written at index along dim (``src`` a tensor, or a
    number; ``value=`` is the number's name): out[index[i][j]][j] = src[i][j] for dim 0.
    ``reduce="add"``/``"multiply"`` (legacy, deprecated in PyTorch) combines instead of
    writing; PyTorch has no derivative for either, gradkit has scatter_add's for "add"."""
    src = value if src is None else src
    if src is None:
        raise TypeError("scatter() missing the src tensor or value")
    if reduce not in (None, "add", "multiply"):
        raise ArgumentError(f"scatter: reduce argument must be either add or multiply, got "
                            f"{reduce!r}")
    x, d, idx, s = _scatter_args(input, dim, index, src, "scatter")
    where, block = _scatter_where(x, d, idx, s, "scatter")
    if isinstance(s, Tensor):
        _same_dtype(x, s, "scatter")
        if reduce is not None:
            warnings.warn("The reduce argument of torch.scatter with Tensor src is deprecated "
                          "and will be removed in a future PyTorch release. Use "
                          "torch.scatter_reduce instead for more reduction options.",
                          UserWarning, stacklevel=2)
    if reduce == "add":
        s = s if isinstance(s, Tensor) else Tensor._make(np.full(idx.shape, s, x.dtype), None)
        out = ScatterAdd.apply(x, s, where=where, block=block, alpha=1)
    elif reduce == "multiply":
        out = ScatterMultiply.apply(x, s, where=where, block=block)
    else:
        out = Scatter.apply(x, s, where=where, block=block)
    return out.reshape(input.shape) if input.ndim == 0 else out


def scatter_add(input, dim, index, src):
    """A copy of input with src added at index along dim: out[index[i][j]][j] += src[i][j]
    for dim 0; repeated indices add up."""
    x, d, idx, s = _scatter_args(input, dim, index, _operand(src, "scatter_add"),
                                 "scatter_add")
    where, block = _scatter_where(x, d, idx, s, "scatter_add")
    _same_dtype(x, s, "scatter_add")
    out = ScatterAdd.apply(x, s, where=where, block=block, alpha=1)
    return out.reshape(input.shape) if input.ndim == 0 else out


def _dim_index(x, dim, index, op, int32, wrap=False):
    """(dim, where) for an op that picks whole slices along dim by a 1-D (or 0-d) index."""
    idx = index_array(index, op, int32=int32)
    if idx.ndim > 1:
        raise IndexError(f"{op}(): index is supposed to be a vector, got shape {idx.shape}")
    d = axis(dim, x.ndim, op)
    size = x.shape[d] if x.ndim else 1
    picked = slot(idx.reshape(-1), size, op, d, wrap)
    return d, (slice(None),) * d + (picked,) if x.ndim else (picked,)


def index_select(input, dim, index):
    """The slices of input at index (a vector) along dim: out has len(index) there."""
    x = _operand(input, "index_select")
    d, where = _dim_index(x, dim, index, "index_select", int32=True)
    if x.ndim == 0:
        return Gather.apply(x.reshape(1), where=where).reshape(())
    return Gather.apply(x, where=where)


def _source_shape(x, d, where, source, op):
    expected = x.shape[:d] + (len(where[-1]),) + x.shape[d + 1:]
    if source.shape != expected:
        raise ShapeError(f"{op}: source tensor shape must match self tensor shape, excluding "
                         f"the specified dimension; expected {expected}, got "
                         f"{tuple(source.shape)}")
    _same_dtype(x, source, op)


def index_add(input, dim, index, source, *, alpha=1):
    """A copy of input with alpha·source added at index along dim: out[..., index[i], ...]
    += alpha·source[..., i, ...]; repeated indices add up."""
    x, source = _operand(input, "index_add"), _operand(source, "index_add")
    d, where = _dim_index(x, dim, index, "index_add", int32=True)
    _source_shape(x, d, where, source, "index_add")
    return ScatterAdd.apply(x, source, where=where, block=Ellipsis, alpha=alpha)


def index_copy(input, dim, index, source):
    """A copy of input with out[..., index[i], ...] = source[..., i, ...]."""
    x, source = _operand(input, "index_copy"), _operand(source, "index_copy")
    d, where = _dim_index(x, dim, index, "index_copy", int32=False)
    _source_shape(x, d, where, source, "index_copy")
    return Scatter.apply(x, source, where=where, block=Ellipsis)


def index_fill(input, dim, index, value):
    """A copy of input with the slices at index along dim set to value (a number or a 0-d
    tensor, differentiable)."""
    x = _operand(input, "index_fill")
    _, where = _dim_index(x, dim, index, "index_fill", int32=False, wrap=True)
    v = fill_value(value, x, "index_fill")
    if x.ndim == 0:
        return IndexFill.apply(x.reshape(1), v, where=where).reshape(())
    return IndexFill.apply(x, v, where=where)


def nonzero(input, *, as_tuple=False):
    """The indices of the non-zero elements: an (n, ndim) int64 tensor, or with
    ``as_tuple=True`` one int64 vector per dim (a 0-d input counts as 1-d there)."""
    a = _operand(input, "nonzero")._data
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64), None)
                     for i in np.nonzero(a.reshape(-1) if a.ndim == 0 else a))
    return Tensor._make(np.argwhere(a).astype(np.int64), None)


def argwhere(input):
    """The indices of the non-zero elements as an (n, ndim) int64 tensor (nonzero's)."""
    return nonzero(input)


def where(condition, input=None, other=None):
    """``where(cond, x, y)``: x's elements where cond holds, else y's (ops/arithmetic.py);
    ``where(cond)``: ``nonzero(cond, as_tuple=True)``."""
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    if input is None or other is None:
        raise TypeError("where() takes the condition alone, or the condition, input and other")
    return _where3(condition, input, other)


def take(input, index):
    """input read as a vector at index (negative counts from the end); out has index's
    shape."""
    x = _operand(input, "take")
    idx = index_array(index, "take", int32=False)
    flat = slot(idx, x._data.size, "take", wrap=True)
    return Gather.apply(x, where=np.unravel_index(flat, x.shape))


def take_along_dim(input, indices, dim=None):
    """gather along dim with input and indices broadcast in the other dims; negative indices
    count from the end. ``dim=None``: both read as vectors, negative indices refused (as in
    PyTorch). An index past the end raises (PyTorch 2.13 wraps it round, unchecked)."""
    x = _operand(input, "take_along_dim")
    idx = index_array(indices, "take_along_dim", int32=False)
    if dim is None:
        flat = slot(idx.reshape(-1), x._data.size, "take_along_dim")
        return Gather.apply(x, where=np.unravel_index(flat, x.shape))
    if idx.ndim != x.ndim:
        raise ShapeError(f"torch.take_along_dim(): input and indices should have the same "
                         f"number of dimensions, but got {x.ndim} dimensions for input, and "
                         f"{idx.ndim} dimensions for indices")
    d = axis(dim, x.ndim, "take_along_dim")
    others = [(a, b) for k, (a, b) in enumerate(zip(x.shape, idx.shape)) if k != d]
    try:
        shape = np.broadcast_shapes(*zip(*others)) if others else ()
    except ValueError:
        raise ShapeError(f"take_along_dim: input {x.shape} and indices {idx.shape} do not "
                         f"broadcast apart from dim {d}") from None
    shape = list(shape)
    shape.insert(d, idx.shape[d])
    grids = list(np.ogrid[tuple(slice(n) for n in shape)])
    for k, n in enumerate(x.shape):
        if n == 1 and k != d:
            grids[k] = np.zeros_like(grids[k])
    grids[d] = np.broadcast_to(slot(idx, x.shape[d], "take_along_dim", d, wrap=True), shape)
    return Gather.apply(x, where=tuple(grids))
