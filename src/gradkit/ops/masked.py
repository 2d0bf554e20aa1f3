"""Ops by a boolean mask: masked_fill, masked_select, masked_scatter (exported by gather.py).

The mask and the input broadcast together (PyTorch's rule for the out-of-place ops); the
backward of a broadcast input sums the gradient back to its shape. Masks must be bool.
"""

import numpy as np

from gradkit.autograd.function import Function
from gradkit.errors import ArgumentError, ShapeError
from gradkit.ops._util import unbroadcast
from gradkit.tensor import Tensor


class MaskedFill(Function):
    """out = v where mask else x (broadcast);  dx = g where not mask (summed back to x's
    shape);  dv = Σ g where mask."""

    def forward(self, x, v, mask):
        self.mask, self.shape = mask, x.shape
        return np.where(mask, v, x)

    def backward(self, g):
        zero = np.zeros((), g.dtype)
        gx = unbroadcast(np.where(self.mask, zero, g), self.shape)
        gv = np.asarray(np.where(self.mask, g, zero).sum())
        return gx, gv


class MaskedSelect(Function):
    """out = the elements of x (broadcast to the mask) where mask holds, as a vector;
    dx = g written back at those places, 0 elsewhere, summed back to x's shape."""

    def forward(self, x, mask):
        self.mask, self.shape = mask, x.shape
        return np.broadcast_to(x, mask.shape)[mask]

    def backward(self, g):
        dx = np.zeros(self.mask.shape, g.dtype)
        dx[self.mask] = g
        return unbroadcast(dx, self.shape)


class MaskedScatter(Function):
    """out = x (broadcast to the mask) with its masked places, in row-major order, taken from
    the first k = Σ mask elements of src;  dx = g where not mask;  dsrc = g[mask] in its first
    k elements, 0 in the rest."""

    def forward(self, x, src, mask):
        self.mask, self.shape, self.src_shape = mask, x.shape, src.shape
        out = np.array(np.broadcast_to(x, mask.shape))
        out[mask] = src.reshape(-1)[:np.count_nonzero(mask)]
        return out

    def backward(self, g):
        gx = gsrc = None
        if self.needs_input_grad[0]:
            gx = unbroadcast(np.where(self.mask, np.zeros((), g.dtype), g), self.shape)
        if self.needs_input_grad[1]:
            picked = g[self.mask]
            gsrc = np.zeros(int(np.prod(self.src_shape)), g.dtype)
            gsrc[:picked.size] = picked
            gsrc = gsrc.reshape(self.src_shape)
        return gx, gsrc


def _mask(x, mask, op):
    """The mask as a bool array broadcast with x's shape (or an error naming op); a copy, so
    a later in-place change of the mask tensor leaves the backward right."""
    if not isinstance(mask, Tensor):
        raise TypeError(f"{op}: mask must be a tensor, got {type(mask).__name__}")
    m = mask._data
    if m.dtype != np.bool_:
        raise ArgumentError(f"{op}: expected a bool tensor for mask, got dtype {m.dtype}")
    try:
        shape = np.broadcast_shapes(x.shape, m.shape)
    except ValueError:
        raise ShapeError(f"{op}: the mask {m.shape} does not broadcast with the input "
                         f"{x.shape}") from None
    return np.broadcast_to(m.copy(), shape)


def fill_value(value, x, op):
    """A fill value: a number (a constant) or a 0-d tensor (cast to x's dtype)."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ArgumentError(f"{op} only supports a 0-dimensional value tensor, but got "
                                f"tensor with {value.ndim} dimension(s)")
        return value if value.dtype == x.dtype else value.to(x.dtype)
    if not isinstance(value, (int, float, bool, np.number, np.bool_)):
        raise TypeError(f"{op}: value must be a number or a 0-d tensor, got "
                        f"{type(value).__name__}")
    return Tensor._make(np.asarray(value, x.dtype), None)


def masked_fill(input, mask, value):
    """input with value (a number or a 0-d tensor) where mask holds; mask and input
    broadcast together."""
    return MaskedFill.apply(input, fill_value(value, input, "masked_fill"),
                            mask=_mask(input, mask, "masked_fill"))


def masked_select(input, mask):
    """The elements of input where mask holds (both broadcast), as a 1-D tensor."""
    return MaskedSelect.apply(input, mask=_mask(input, mask, "masked_select"))


def masked_scatter(input, mask, source):
    """input with its masked places filled, in row-major order, by source's elements."""
    m = _mask(input, mask, "masked_scatter")
    if not isinstance(source, Tensor) or source.dtype != input.dtype:
        got = source.dtype if isinstance(source, Tensor) else type(source).__name__
        raise ArgumentError(f"masked_scatter: expected self and source to have same dtypes, "
                            f"got {input.dtype} and {got}")
    if source._data.size < np.count_nonzero(m):
        raise ShapeError(f"masked_scatter: number of elements of source ({source._data.size})"
                         f" < number of ones in mask ({np.count_nonzero(m)})")
    return MaskedScatter.apply(input, source, mask=m)
