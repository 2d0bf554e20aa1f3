"""Tensor methods that change a tensor's shape or layout (gradkit/ops/shape.py and the modules
beside it).

A mixin of :class:`gradkit.Tensor` (``__slots__ = ()``, no state): each method forwards to the
op of the same name in gradkit.ops, so ``x.flatten(1)`` and ``gk.flatten(x, 1)`` are one
code path. The ops import Tensor, so they are reached through the ``gradkit`` package at call time.
"""

import gradkit
from gradkit.errors import ShapeError


class ShapeMethods:
    __slots__ = ()

    def reshape(self, *shape): return gradkit.ops.reshape(self, *shape)
    def view(self, *shape): return gradkit.ops.reshape(self, *shape)
    def flatten(self, start_dim=0, end_dim=-1): return gradkit.ops.flatten(self, start_dim, end_dim)
    def transpose(self, dim0, dim1): return gradkit.ops.transpose(self, dim0, dim1)
    swapaxes = swapdims = transpose
    def permute(self, *dims): return gradkit.ops.permute(self, *dims)
    def squeeze(self, dim=None): return gradkit.ops.squeeze(self, dim)
    def unsqueeze(self, dim): return gradkit.ops.unsqueeze(self, dim)
    def expand(self, *sizes): return gradkit.ops.expand(self, *sizes)
    def expand_as(self, other): return gradkit.ops.expand(self, *other.shape)
    def split(self, split_size, dim=0): return gradkit.ops.split(self, split_size, dim)
    def chunk(self, chunks, dim=0): return gradkit.ops.chunk(self, chunks, dim)

    @property
    def T(self):
        return gradkit.ops.permute(self, *reversed(range(self.ndim)))

    def t(self):
        """The transpose of a matrix; a 0-d or 1-D tensor as it is (PyTorch's ``t()``)."""
        if self.ndim > 2:
            raise ShapeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                               f"{self.ndim}D; use .transpose(dim0, dim1) or .permute(...)")
        return gradkit.ops.transpose(self, 0, -1)
