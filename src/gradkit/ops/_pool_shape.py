"""Input checks and adaptive bins shared by the pooling modules (pool, adaptive_pool, pool3d).

A pooling takes input (N, C, *spatial) or (C, *spatial); 1-d pools run as 2-d pools of height
1. PyTorch's adaptive bin i of an axis of size ``size`` pooled to ``out`` covers
⌊i·size/out⌋ … ⌈(i+1)·size/out⌉ − 1.
"""

import numpy as np

from gradkit.errors import ArgumentError, ShapeError
from gradkit.tensor import Tensor

_DIMS = {1: "L", 2: "H, W", 3: "D, H, W"}


def _batch_shape(op, input, n, kinds="f"):
    """input (N, C, *spatial) or (C, *spatial) as the shape it is pooled in: (N, C, H, W) for
    n ≤ 2 (height 1 when n = 1), (N, C, D, H, W) for n = 3.

    kinds: the dtype kinds the op takes ("f" float, "i"/"u" integers, "l" int64 only)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    dims = _DIMS[n]
    if input.ndim not in (n + 1, n + 2):
        raise ShapeError(f"{op}: expected input (N, C, {dims}) or (C, {dims}), "
                         f"got {tuple(input.shape)}")
    kind = input.dtype.kind
    if not (kind in kinds or ("l" in kinds and input.dtype == np.int64)):
        raise NotImplementedError(f"{op}: not implemented for {input.dtype} input")
    shape = tuple(input.shape)
    if input.ndim == n + 1:
        shape = (1,) + shape
    return shape if n >= 2 else shape[:2] + (1,) + shape[2:]


def _output_sizes(op, output_size, spatial):
    """output_size (an int, or one entry per spatial dim where None keeps that size)."""
    n = len(spatial)
    sizes = ((output_size,) * n if isinstance(output_size, (int, np.integer)) or
             output_size is None else tuple(output_size))
    if len(sizes) != n:
        raise ArgumentError(f"{op}: output_size must be an int or {n} ints, got "
                            f"{output_size!r}")
    sizes = tuple(s if o is None else int(o) for s, o in zip(spatial, sizes))
    if min(sizes) < 1:
        raise ArgumentError(f"{op}: output_size must be positive, got {sizes}")
    return sizes


def _bin_edges(size, out):
    """Start and end (exclusive) of each of PyTorch's ``out`` adaptive bins over ``size``."""
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def _bins(size, out, dtype):
    """The (out, size) matrix averaging PyTorch's adaptive bins."""
    starts, ends = _bin_edges(size, out)
    pixels = np.arange(size)
    inside = (pixels >= starts[:, None]) & (pixels < ends[:, None])
    return (inside / (ends - starts)[:, None]).astype(dtype)
