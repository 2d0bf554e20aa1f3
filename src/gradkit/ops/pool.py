"""Pooling: max_pool1d/2d, avg_pool1d/2d and adaptive_avg_pool1d/2d, with PyTorch's semantics
(adaptive max pooling and max unpooling live in ops/adaptive_pool.py and are exported here).

A pooling window reads the kh×kw pixels x[y·sh + i·dh, x·sw + j·dw] (rows and columns outside
the input are padding: −∞ for max, 0 for average). Both poolings loop over the kernel offsets
(i, j), never over pixels: offset t = i·kw + j is one strided view of the padded input of the
output's shape, and

    max:  out = max_t view_t,  idx = the first t reaching it (PyTorch keeps the first maximum);
          dx[view_t] += g · [idx == t]            (the gradient goes to each window's argmax)
    avg:  out = Σ_t view_t / count;   dx[view_t] += g / count

where count is kh·kw, or the number of window pixels inside the (padded, with
count_include_pad) input, or divisor_override. The average's sum is separable, so it loops
over the kh row offsets and then the kw column offsets (kh + kw passes, not kh·kw).
Windows that tile the input exactly (stride = kernel, no padding, no dilation, sizes
divisible) need no padded copy and write each pixel's gradient once instead of accumulating.
This beats reshaping to (…, OH, kh, OW, kw) and reducing: NumPy reduces over the two
interleaved axes 5–10× slower (measured). A NaN in a window makes its max NaN, as in
PyTorch, but its gradient then goes to a non-NaN pixel of the window. The window geometry
(output sizes, argument checks, padding, views) is ops/_pool_shape.py's _WindowGeometry, and
the MaxPool Function here serves max_pool3d too.

Dtypes, as PyTorch: max pooling takes float and integer input (integer padding is the dtype's
minimum; no gradient); average pooling takes float and int64, whose mean truncates toward
zero (−7 / 2 = −3); anything else raises NotImplementedError. gradkit also max-pools integer
input with max_pool1d without return_indices, which PyTorch refuses.

adaptive_avg_pool2d averages PyTorch's bins rows ⌊i·H/oh⌋ … ⌈(i+1)·H/oh⌉ − 1 (and the same for
columns): when oh divides H and ow divides W it is avg_pool2d with kernel = stride = (H/oh,
W/ow) (output_size=1, global average pooling, included); otherwise out = A_h · x · A_wᵀ with
the bin-averaging matrices A (rows of 1/len over each bin) and dx = A_hᵀ · g · A_w.
"""

import numpy as np

from gradkit.autograd.function import Function
from gradkit.ops._pool_shape import _WindowGeometry, _batch_shape, _bins, _output_sizes
from gradkit.ops.adaptive_pool import (adaptive_max_pool1d, adaptive_max_pool2d, max_unpool1d,
                                       max_unpool2d)
from gradkit.tensor import Tensor

__all__ = ["adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d",
           "adaptive_max_pool2d", "avg_pool1d", "avg_pool2d", "max_pool1d", "max_pool2d",
           "max_unpool1d", "max_unpool2d"]


def _tuple(value, name, op):
    values = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) == 1:
        values = values * 2
    if len(values) != 2 or not all(isinstance(v, (int, np.integer)) for v in values):
        raise ValueError(f"{op}: {name} must be an int or a tuple of ints, got {value!r}")
    return tuple(int(v) for v in values)


class _Geometry(_WindowGeometry):
    """The window geometry of one pooling over (N, C, H, W), with each number by name for the
    hot loops."""

    __slots__ = ("kh", "kw", "sh", "sw", "ph", "pw", "dh", "dw", "OH", "OW")

    def __init__(self, op, shape, kernel, stride, padding, dilation, ceil_mode):
        super().__init__(op, shape, kernel, stride, padding, dilation, ceil_mode)
        (self.kh, self.kw), (self.sh, self.sw) = kernel, stride
        (self.ph, self.pw), (self.dh, self.dw) = padding, dilation
        self.OH, self.OW = self.out


class MaxPool(Function):
    """out = max over each window, idx = its first argmax;  dx[view_t] += g · [idx == t].

    Any number of spatial dims: geo is a _WindowGeometry (a 2-d one here, pool3d's too)."""

    def forward(self, x, geo, out_shape, indices=None):
        """indices: a list that receives the flat argmax indices, for return_indices."""
        lowest = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        views = geo.views(geo.padded(x.reshape(geo.shape), lowest))
        out = views[0].copy()
        idx = np.zeros(out.shape, np.uint8 if len(views) <= 256 else np.int32)
        rises = np.empty_like(idx)
        for t, view in enumerate(views[1:], 1):
            # idx = the last t where view_t beat the running max, i.e. max_t t·[view_t > out]
            # (two plain ufunc passes: 3-4× faster than copyto(idx, t, where=view > out))
            np.greater(view, out, out=rises, casting="unsafe")
            rises *= t
            np.maximum(idx, rises, out=idx)
            np.maximum(out, view, out=out)
        if indices is not None:
            indices.append(self._flat_indices(geo, idx).reshape(out_shape))
        self.geo, self.idx, self.in_shape = geo, idx, x.shape
        return out.reshape(out_shape)

    def backward(self, grad):
        geo, idx = self.geo, self.idx
        g = grad.reshape(idx.shape)
        if geo.tiled:  # every pixel lies in exactly one window: write, do not accumulate
            dx = np.empty(geo.shape, grad.dtype)
            for t, view in enumerate(geo.views(dx)):
                np.multiply(g, idx == t, out=view)
        else:
            dxp = np.zeros(geo.padded_shape, grad.dtype)
            for t, view in enumerate(geo.views(dxp)):
                np.add(view, g, out=view, where=idx == t)
            dx = geo.crop(dxp)
        return dx.reshape(self.in_shape)

    @staticmethod
    def _flat_indices(geo, idx):
        """PyTorch's return_indices: the argmax as a flat index into each input plane (or
        volume): offset t's coordinate along each dim is start + t_dim · dilation."""
        flat = np.zeros(idx.shape, np.int64)
        n = len(geo.kernel)
        taps = np.unravel_index(idx, geo.kernel)
        for axis, (t, o, s, p, d) in enumerate(zip(taps, geo.out, geo.stride, geo.padding,
                                                   geo.dilation)):
            start = (np.arange(o) * s - p).reshape((-1,) + (1,) * (n - 1 - axis))
            flat = flat * geo.shape[2 + axis] + start + t * d
        return flat


class AvgPool2d(Function):
    """out = Σ over each window / count;  dx[view_t] += g / count.

    The window sum is separable: first over the kh kernel rows (kh strided adds giving
    (N, C, OH, W_padded)), then over the kw kernel columns; the backward runs the same two
    steps in reverse. A window covering the whole input (global pooling) is one sum."""

    def forward(self, x, geo, out_shape, count):
        x4 = x.reshape(geo.shape)
        self.geo, self.count, self.in_shape = geo, count, x.shape
        if geo.tiled and geo.OH == geo.OW == 1:
            N, C, H, W = geo.shape
            total = x4.reshape(N, C, H * W).sum(axis=2)
            return _divide(total, count).reshape(out_shape)
        rows = self._row_views(geo, geo.padded(x4, 0))
        summed = rows[0].copy()
        for view in rows[1:]:
            summed += view
        cols = self._col_views(geo, summed)
        out = cols[0].copy()
        for view in cols[1:]:
            out += view
        return _divide(out, count).reshape(out_shape)

    def backward(self, grad):
        geo = self.geo
        N, C = geo.shape[:2]
        g = grad.reshape(N, C, geo.OH, geo.OW) / self.count
        if geo.tiled and geo.OH == geo.OW == 1:
            return np.broadcast_to(g, geo.shape).reshape(self.in_shape)
        rows_shape = (N, C, geo.OH, geo.padded_shape[3])
        if geo.tiled:  # windows tile the input: every pixel is written exactly once
            d_rows, dx = np.empty(rows_shape, g.dtype), np.empty(geo.shape, g.dtype)
            for view in self._col_views(geo, d_rows):
                view[...] = g
            for view in self._row_views(geo, dx):
                view[...] = d_rows
            return dx.reshape(self.in_shape)
        d_rows, dxp = np.zeros(rows_shape, g.dtype), np.zeros(geo.padded_shape, g.dtype)
        for view in self._col_views(geo, d_rows):
            view += g
        for view in self._row_views(geo, dxp):
            view += d_rows
        return geo.crop(dxp).reshape(self.in_shape)

    @staticmethod
    def _row_views(geo, xp):
        rows = (geo.OH - 1) * geo.sh + 1
        return [xp[:, :, i:i + rows:geo.sh] for i in range(geo.kh)]

    @staticmethod
    def _col_views(geo, xp):
        cols = (geo.OW - 1) * geo.sw + 1
        return [xp[:, :, :, j:j + cols:geo.sw] for j in range(geo.kw)]


def _divide(total, count):
    """total / count; an integer total truncates toward zero, as PyTorch's int64 average."""
    if total.dtype.kind == "f":
        total /= count
        return total
    quotient = np.abs(total) // np.abs(count)
    return np.where((total < 0) != (np.asarray(count) < 0), -quotient, quotient)


class AdaptiveAvgPool2d(Function):
    """out = A_h · x · A_wᵀ (bin-averaging matrices);  dx = A_hᵀ · g · A_w."""

    def forward(self, x, ah, aw):
        self.ah, self.aw = ah, aw
        return np.matmul(np.matmul(ah, x), aw.T)

    def backward(self, grad):
        return np.matmul(np.matmul(self.ah.T, grad), self.aw)


def _options(op, n, kernel_size, stride, padding, dilation=1):
    """kernel, stride, padding and dilation as (h, w) pairs; 1-d pools have height 1."""
    def pair(value, name, pad):
        if n == 2:
            return _tuple(value, name, op)
        values = (value,) if isinstance(value, (int, np.integer)) else tuple(value)
        if len(values) != 1 or not isinstance(values[0], (int, np.integer)):
            raise ValueError(f"{op}: {name} must be an int or a tuple of one int, got "
                             f"{value!r}")
        return (pad, int(values[0]))
    if stride is None or (isinstance(stride, (tuple, list)) and not stride):
        stride = kernel_size
    return (pair(kernel_size, "kernel_size", 1), pair(stride, "stride", 1),
            pair(padding, "padding", 0), pair(dilation, "dilation", 1))


def _max_pool(op, n, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    shape = _batch_shape(op, input, n, kinds="fiu")
    geo = _Geometry(op, shape, *_options(op, n, kernel_size, stride, padding, dilation),
                    ceil_mode)
    out_shape = tuple(input.shape[:-n]) + ((geo.OH, geo.OW) if n == 2 else (geo.OW,))
    if not return_indices:
        return MaxPool.apply(input, geo=geo, out_shape=out_shape)
    indices = []
    out = MaxPool.apply(input, geo=geo, out_shape=out_shape, indices=indices)
    return out, Tensor._make(indices[0], None)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over kh×kw windows of input (N, C, H, W) or (C, H, W), padded with −∞.

    stride defaults to kernel_size; padding ≤ half the kernel. With return_indices,
    also the argmax of each window as a flat index into its input plane (int64)."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over windows of length kernel_size of input (N, C, L) or (C, L); see max_pool2d."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def _counts(size, k, s, p, out, include_pad):
    """Per output position, how many window pixels PyTorch divides by along one dim."""
    starts = np.arange(out) * s - p
    ends = np.minimum(starts + k, size + p)
    return ends - starts if include_pad else np.minimum(ends, size) - np.maximum(starts, 0)


def _avg_pool(op, n, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    shape = _batch_shape(op, input, n, kinds="fl")
    geo = _Geometry(op, shape, *_options(op, n, kernel_size, stride, padding), ceil_mode)
    if divisor_override is not None:
        if divisor_override == 0:
            raise ValueError(f"{op}: divisor_override must be non-zero")
        count = divisor_override
    else:
        rows = _counts(shape[2], geo.kh, geo.sh, geo.ph, geo.OH, count_include_pad)
        cols = _counts(shape[3], geo.kw, geo.sw, geo.pw, geo.OW, count_include_pad)
        count = np.outer(rows, cols)
        count = int(count.flat[0]) if np.all(count == count.flat[0]) else (
            count.astype(input.dtype))
    out_shape = tuple(input.shape[:-n]) + ((geo.OH, geo.OW) if n == 2 else (geo.OW,))
    return AvgPool2d.apply(input, geo=geo, out_shape=out_shape, count=count)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over kh×kw windows of input (N, C, H, W) or (C, H, W), zero-padded.

    stride defaults to kernel_size; padding ≤ half the kernel. The divisor is kh·kw, or the
    count of window pixels inside the input when count_include_pad=False, or
    divisor_override."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """Mean over windows of length kernel_size of input (N, C, L) or (C, L); see avg_pool2d."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling of input (N, C, H, W) or (C, H, W) to output_size (an int, or (oh, ow)
    where None keeps that input size), PyTorch's bins; output_size=1 is global pooling."""
    shape = _batch_shape("adaptive_avg_pool2d", input, 2)
    H, W = shape[2:]
    oh, ow = _output_sizes("adaptive_avg_pool2d", output_size, (H, W))
    if H % oh == 0 and W % ow == 0:
        return avg_pool2d(input, (H // oh, W // ow))
    return AdaptiveAvgPool2d.apply(input, _bins(H, oh, input.dtype), _bins(W, ow, input.dtype))


def adaptive_avg_pool1d(input, output_size):
    """Average pooling of input (N, C, L) or (C, L) to output_size (an int or a 1-tuple),
    PyTorch's bins ⌊i·L/out⌋ … ⌈(i+1)·L/out⌉ − 1: adaptive_avg_pool2d of height 1."""
    _batch_shape("adaptive_avg_pool1d", input, 1)
    (size,) = _output_sizes("adaptive_avg_pool1d", output_size, tuple(input.shape[-1:]))
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, size)).squeeze(-2)
