"""What the gather and scatter ops share: reading an index tensor and checking its values.

An index is an int64 (or, where PyTorch allows it, int32) tensor; its values are checked
against the size of the dim they index before any NumPy indexing, so an error names the op,
the index and the size, as PyTorch's does.
"""

import numpy as np

from gradkit.errors import ArgumentError
from gradkit.tensor import Tensor


class IndexTensorError(IndexError, RuntimeError):
    """An index value outside its dim: both IndexError and RuntimeError, since PyTorch raises
    one or the other depending on the op (index_select: IndexError; gather: RuntimeError)."""


def index_array(index, op, int32):
    """The int64 ndarray of an index tensor (a copy: an op keeps it for its backward, safe
    from later in-place changes of the tensor); int32 is accepted when ``int32``."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}: index must be a tensor, got {type(index).__name__}")
    a = index._data
    allowed = (np.int64, np.int32) if int32 else (np.int64,)
    if a.dtype not in allowed:
        names = " or ".join(np.dtype(t).name for t in allowed)
        raise ArgumentError(f"{op}: expected dtype {names} for index, got {a.dtype}")
    return a.astype(np.int64)


def axis(dim, ndim, op):
    """dim as a non-negative axis; a 0-d tensor takes dim 0 or -1, as in PyTorch."""
    n = max(ndim, 1)
    if not isinstance(dim, (int, np.integer)) or not -n <= dim < n:
        raise IndexError(f"{op}: dimension out of range (expected to be in range of "
                         f"[{-n}, {n - 1}], but got {dim})")
    return int(dim) % n


def slot(idx, size, op, dim=0, wrap=False):
    """idx checked against a dim of ``size``; ``wrap``: negative values count from the end."""
    low = -size if wrap else 0
    if idx.size:
        bad = (idx < low) | (idx >= size)
        if bad.any():
            raise IndexTensorError(f"{op}: index {int(idx[bad].flat[0])} is out of bounds "
                                   f"for dimension {dim} with size {size}")
    return idx % size if wrap and size else idx


def leading_block(shape):
    """The index of the leading block of ``shape`` in a larger array."""
    return tuple(slice(n) for n in shape)


def along(idx, d, size, op, wrap=False):
    """The NumPy index of an index tensor along dim d: idx there (checked against ``size``),
    broadcast aranges in the other dims, so ``x[along(...)]`` is gather's result."""
    grids = list(np.ogrid[tuple(slice(n) for n in idx.shape)])
    grids[d] = slot(idx, size, op, d, wrap)
    return tuple(grids)
