"""Input checks, window geometry and adaptive bins shared by the pooling modules (pool,
adaptive_pool, pool3d).

A pooling takes input (N, C, *spatial) or (C, *spatial); 1-d pools run as 2-d pools of height
1. Along a spatial dim of size n, a window of k taps at dilation d spans d·(k − 1) + 1, and
there are ⌊(n + 2p − span) / s⌋ + 1 windows (ceil mode rounds up, but the last window must
start inside the input or its left padding). PyTorch's adaptive bin i of an axis of size
``size`` pooled to ``out`` covers ⌊i·size/out⌋ … ⌈(i+1)·size/out⌉ − 1.
"""

import itertools

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


def _out_size(size, k, s, p, d, ceil_mode):
    """PyTorch's pooling output size; in ceil mode the last window must start in the input."""
    span = d * (k - 1) + 1
    out = (size + 2 * p - span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


class _WindowGeometry:
    """Kernel, stride, padding, dilation (one int per spatial dim) and output size of one
    pooling over ``shape`` (N, C, *spatial), checked as PyTorch checks them. ``tiled``: the
    windows tile the input exactly (stride = kernel, no padding or dilation, sizes divisible),
    so each input pixel lies in exactly one window."""

    __slots__ = ("shape", "kernel", "stride", "padding", "dilation", "out", "padded_shape",
                 "tiled")

    def __init__(self, op, shape, kernel, stride, padding, dilation, ceil_mode):
        self.shape, self.kernel, self.stride = shape, kernel, stride
        self.padding, self.dilation = padding, dilation
        for name, values in (("kernel_size", kernel), ("stride", stride),
                             ("dilation", dilation)):
            if min(values) < 1:
                raise ArgumentError(f"{op}: {name} must be positive, got {values}")
        if not all(0 <= p <= k / 2 for p, k in zip(padding, kernel)):
            raise ArgumentError(f"{op}: padding must be between 0 and half the kernel size, "
                                f"got padding={padding} for kernel_size={kernel}")
        self.out = tuple(_out_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in
                         zip(shape[2:], kernel, stride, padding, dilation))
        if min(self.out) < 1:
            raise ShapeError(f"{op}: input {shape} is too small for kernel_size={kernel}, "
                             f"stride={stride}, padding={padding}, dilation={dilation}: the "
                             f"output would be {self.out}")
        reach = [(o - 1) * s + d * (k - 1) + 1 for o, s, d, k in
                 zip(self.out, stride, dilation, kernel)]
        self.padded_shape = shape[:2] + tuple(p + max(n, r - p) for p, n, r in
                                              zip(padding, shape[2:], reach))
        self.tiled = (stride == kernel and set(dilation) == {1} and not any(padding) and
                      all(n == o * k for n, o, k in zip(shape[2:], self.out, kernel)))

    def padded(self, x, fill):
        """x surrounded by ``fill`` as far as the windows reach (x itself if they do not)."""
        if self.padded_shape == x.shape:
            return x
        xp = np.full(self.padded_shape, fill, x.dtype)
        self.crop(xp)[...] = x
        return xp

    def crop(self, xp):
        """The input's pixels inside a padded array."""
        return xp[(Ellipsis,) + tuple(slice(p, p + n) for p, n in
                                      zip(self.padding, self.shape[2:]))]

    def views(self, xp):
        """For each kernel offset t (row-major over the kernel: t = i·kw + j in 2-d), the
        (N, C, *out) view of xp it reads."""
        return [xp[(Ellipsis,) + tuple(slice(i * d, i * d + (o - 1) * s + 1, s) for i, d, o, s
                                       in zip(offset, self.dilation, self.out, self.stride))]
                for offset in itertools.product(*(range(k) for k in self.kernel))]


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
