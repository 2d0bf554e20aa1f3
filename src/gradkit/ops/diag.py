"""Diagonals and triangles: diag, diagonal, diag_embed, tril, triu, trace.

The diagonal of offset k of dims (d1, d2) holds the elements x[i, i + k] (k > 0: above the
main diagonal, k < 0: below), with the other dims batched; ``diagonal`` removes d1 and d2 and
puts the diagonal last, ``diag_embed`` is its adjoint (the last dim written onto a diagonal of
zeros). One strided view, ``_diagonal_view``, serves both ways: the forward of one op is the
backward of the other. tril / triu keep the elements on and below / above diagonal k of the
last two dims (dx = g masked the same way); trace is the sum of a matrix's main diagonal.

    x = gk.arange(9.0).reshape(3, 3)
    gk.diag(x)                 # [0, 4, 8]
    gk.diag(gk.ones(2), 1)     # 3×3 with ones at (0, 1) and (1, 2)
    x.triu(1)                  # zeros on and below the main diagonal
    x.trace()                  # 12
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from gradkit.autograd.function import Function
from gradkit.errors import ArgumentError, ShapeError
from gradkit.ops._util import normalize_dim
from gradkit.ops.reduce import sum as _sum

__all__ = ["diag", "diag_embed", "diagonal", "trace", "tril", "triu"]


def _diagonal_view(a, offset, dim1, dim2):
    """The diagonal of ``a`` as a writable view: dims dim1, dim2 removed, the diagonal last."""
    start = [slice(None)] * a.ndim
    start[dim2 if offset >= 0 else dim1] = slice(abs(offset), None)
    a = a[tuple(start)]
    length = max(0, min(a.shape[dim1], a.shape[dim2]))
    keep = [d for d in range(a.ndim) if d not in (dim1, dim2)]
    shape = tuple(a.shape[d] for d in keep) + (length,)
    strides = tuple(a.strides[d] for d in keep) + (a.strides[dim1] + a.strides[dim2],)
    return as_strided(a, shape, strides, writeable=a.flags.writeable)


class Diagonal(Function):
    """out[…, i] = x[…, i, i + k] over dims (d1, d2), a view;  dx = zeros with g on that
    diagonal."""

    def forward(self, x, offset, dim1, dim2):
        self.shape, self.where = x.shape, (offset, dim1, dim2)
        return _diagonal_view(x, offset, dim1, dim2)

    def backward(self, g):
        dx = np.zeros(self.shape, g.dtype)
        _diagonal_view(dx, *self.where)[...] = g
        return dx


class DiagEmbed(Function):
    """out = zeros with the last dim of x on diagonal k of the new dims (d1, d2);
    dx = that diagonal of g."""

    def forward(self, x, shape, offset, dim1, dim2):
        self.where = (offset, dim1, dim2)
        out = np.zeros(shape, x.dtype)
        _diagonal_view(out, offset, dim1, dim2)[...] = x
        return out

    def backward(self, g):
        return _diagonal_view(g, *self.where)


class Triangle(Function):
    """out = x where the mask keeps (j − i ≤ k for tril, j − i ≥ k for triu, over the last two
    dims), 0 elsewhere;  dx = g with the same mask."""

    def forward(self, x, lower, k):
        self.lower, self.k = lower, k
        return np.tril(x, k) if lower else np.triu(x, k)

    def backward(self, g):
        return np.tril(g, self.k) if self.lower else np.triu(g, self.k)


# ----- the functions the Tensor methods and gk.* call -----

def _two_dims(dim1, dim2, ndim, op):
    d1, d2 = (normalize_dim(d, ndim, op)[0] for d in (dim1, dim2))
    if d1 == d2:
        raise ArgumentError(f"{op}: diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal ``offset`` of dims (dim1, dim2), as a view with those dims removed and the
    diagonal last."""
    d1, d2 = _two_dims(dim1, dim2, input.ndim, "diagonal")
    out = Diagonal.apply(input, offset=int(offset), dim1=d1, dim2=d2)
    out._vc = input._vc  # as_strided hides the base from Function.apply: share the counter
    input._vc[1] = True
    return out


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices whose diagonal ``offset`` over the new dims (dim1, dim2) is the last dim of
    ``input`` (size n: the matrices are (n + |offset|) square), zeros elsewhere."""
    ndim = input.ndim + 1
    if input.ndim == 0:
        raise ShapeError(f"diag_embed: expected a tensor with at least 1 dim, got shape "
                         f"{input.shape}")
    d1, d2 = _two_dims(dim1, dim2, ndim, "diag_embed")
    n = input.shape[-1] + abs(int(offset))
    shape, batch = [0] * ndim, iter(input.shape[:-1])
    for d in range(ndim):
        shape[d] = n if d in (d1, d2) else next(batch)
    return DiagEmbed.apply(input, shape=tuple(shape), offset=int(offset), dim1=d1, dim2=d2)


def diag(input, diagonal=0):
    """1-D input: the square matrix with ``input`` on diagonal ``diagonal``; 2-D input: that
    diagonal as a 1-D tensor (a copy, as in PyTorch)."""
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return Diagonal.apply(input, offset=int(diagonal), dim1=0, dim2=1).clone()
    raise ShapeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D (shape "
                     f"{input.shape})")


def _triangle(input, diagonal, lower, op):
    if input.ndim < 2:
        raise ShapeError(f"{op}: input tensor must have at least 2 dimensions, got shape "
                         f"{input.shape}")
    return Triangle.apply(input, lower=lower, k=int(diagonal))


def tril(input, diagonal=0):
    """The lower triangle of the last two dims: the elements on and below diagonal
    ``diagonal``; the others 0."""
    return _triangle(input, diagonal, True, "tril")


def triu(input, diagonal=0):
    """The upper triangle of the last two dims: the elements on and above diagonal
    ``diagonal``; the others 0."""
    return _triangle(input, diagonal, False, "triu")


def trace(input):
    """The sum of the main diagonal of a matrix (int64 for integer input, as in PyTorch)."""
    if input.ndim != 2:
        raise ShapeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    if input.dtype == np.bool_:
        raise NotImplementedError('trace: "trace" not implemented for bool tensors')
    d = Diagonal.apply(input, offset=0, dim1=0, dim2=1)
    return _sum(d.long() if d.dtype.kind in "iu" else d)
