"""Tensor methods that change a tensor's shape or layout (gradkit/ops/shape.py and the modules
beside it).

A mixin of :class:`gradkit.Tensor` (``__slots__ = ()``, no state): each method forwards to the
op of the same name in gradkit.ops, so ``x.flatten(1)`` and ``gk.flatten(x, 1)`` are one
code path. The ops import Tensor, so they are reached through the ``gradkit`` package at call time.
"""

import numpy as np

import gradkit
from gradkit.errors import ShapeError


def _dims(dims):
    """f(0, 1) and f((0, 1)) alike, as PyTorch's varargs methods accept."""
    return tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims


class ShapeMethods:
    __slots__ = ()

    def reshape(self, *shape): return gradkit.ops.reshape(self, *shape)
    def reshape_as(self, other): return gradkit.ops.reshape(self, *other.shape)
    def view_as(self, other): return gradkit.ops.reshape(self, *other.shape)
    def flatten(self, start_dim=0, end_dim=-1): return gradkit.ops.flatten(self, start_dim, end_dim)
    def ravel(self): return gradkit.ops.flatten(self)
    def unflatten(self, dim, sizes): return gradkit.ops.layout.unflatten(self, dim, sizes)

    def view(self, *shape):
        """``view(*shape)``: the same elements in a new shape; ``view(dtype)``: the same bytes
        read as another dtype, with no gradient (see ops.layout.view_dtype)."""
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list)):
            return gradkit.ops.layout.view_dtype(self, shape[0])
        return gradkit.ops.reshape(self, *shape)

    def transpose(self, dim0, dim1): return gradkit.ops.transpose(self, dim0, dim1)
    swapaxes = swapdims = transpose
    def permute(self, *dims): return gradkit.ops.permute(self, *dims)
    def squeeze(self, dim=None): return gradkit.ops.squeeze(self, dim)
    def unsqueeze(self, dim): return gradkit.ops.unsqueeze(self, dim)
    def expand(self, *sizes): return gradkit.ops.expand(self, *sizes)
    def expand_as(self, other): return gradkit.ops.expand(self, *other.shape)
    def split(self, split_size, dim=0): return gradkit.ops.split(self, split_size, dim)
    def chunk(self, chunks, dim=0): return gradkit.ops.chunk(self, chunks, dim)
    def flip(self, *dims): return gradkit.ops.layout.flip(self, _dims(dims))
    def fliplr(self): return gradkit.ops.layout.fliplr(self)
    def flipud(self): return gradkit.ops.layout.flipud(self)
    def roll(self, shifts, dims=None): return gradkit.ops.layout.roll(self, shifts, dims)
    def repeat(self, *sizes): return gradkit.ops.layout.repeat(self, *sizes)
    def tile(self, *dims): return gradkit.ops.layout.tile(self, _dims(dims))
    def narrow(self, dim, start, length): return gradkit.ops.layout.narrow(self, dim, start, length)
    def movedim(self, source, destination):
        return gradkit.ops.layout.movedim(self, source, destination)
    moveaxis = movedim
    def broadcast_to(self, size): return gradkit.ops.expand(self, *size)
    def unfold(self, dimension, size, step):
        return gradkit.ops.layout.unfold(self, dimension, size, step)

    def diag(self, diagonal=0): return gradkit.ops.diag.diag(self, diagonal)
    def diag_embed(self, offset=0, dim1=-2, dim2=-1):
        return gradkit.ops.diag.diag_embed(self, offset, dim1, dim2)
    def diagonal(self, offset=0, dim1=0, dim2=1):
        return gradkit.ops.diag.diagonal(self, offset, dim1, dim2)
    def tril(self, diagonal=0): return gradkit.ops.diag.tril(self, diagonal)
    def triu(self, diagonal=0): return gradkit.ops.diag.triu(self, diagonal)
    def trace(self): return gradkit.ops.diag.trace(self)

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        return gradkit.ops.layout.repeat_interleave(self, repeats, dim, output_size=output_size)

    @property
    def T(self):
        return gradkit.ops.permute(self, *reversed(range(self.ndim)))

    def t(self):
        """The transpose of a matrix; a 0-d or 1-D tensor as it is (PyTorch's ``t()``)."""
        if self.ndim > 2:
            raise ShapeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                               f"{self.ndim}D; use .transpose(dim0, dim1) or .permute(...)")
        return gradkit.ops.transpose(self, 0, -1)
