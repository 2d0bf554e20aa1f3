"""Volumetric pooling: max_pool3d, avg_pool3d and adaptive_avg_pool3d on (N, C, D, H, W).

The same scheme as ops/pool.py, one dim more: a window reads the kd×kh×kw voxels
x[z·sd + a·dd, y·sh + b·dh, x·sw + c·dw] of the input padded with −∞ (max) or 0 (average),
and the pooling loops over the kernel offsets t = (a, b, c), never over voxels; offset t is one
strided view of the padded input of the output's shape:

    max:  out = max_t view_t,  idx = the first t reaching it;  dx[view_t] += g · [idx == t]
    avg:  out = Σ_t view_t / count;                           dx[view_t] += g / count

count is kd·kh·kw, the number of window voxels inside the (padded, with count_include_pad)
input, or divisor_override. return_indices gives the argmax as a flat index z·H·W + y·W + x
into each input volume. adaptive_avg_pool3d averages PyTorch's bins along each of the three
dims: out = x ×_D A_d ×_H A_h ×_W A_w with the bin-averaging matrices; dx applies their
transposes. Max pooling is ops/pool.py's MaxPool, the window geometry ops/_pool_shape.py's,
both shared with the 1-d and 2-d poolings. Dtypes as PyTorch: max pooling takes float and
integer input, average pooling float and int64 (truncating toward zero), adaptive average
pooling float only. adaptive_max_pool3d and max_unpool3d live in ops/adaptive_pool.py with
their 1-d and 2-d forms and are exported from here.

    x = gk.randn(2, 3, 8, 16, 16)                       # (N, C, D, H, W)
    F.max_pool3d(x, 2).shape                            # (2, 3, 4, 8, 8)
    F.avg_pool3d(x, 3, stride=2, padding=1).shape       # (2, 3, 4, 8, 8)
    F.adaptive_avg_pool3d(x, 1).shape                   # (2, 3, 1, 1, 1)
"""

import numpy as np

from gradkit.autograd.function import Function
from gradkit.errors import ArgumentError
from gradkit.ops.adaptive_pool import adaptive_max_pool3d, max_unpool3d
from gradkit.ops._pool_shape import _WindowGeometry, _batch_shape, _bins, _output_sizes
from gradkit.ops.pool import MaxPool, _counts, _divide
from gradkit.tensor import Tensor

__all__ = ["adaptive_avg_pool3d", "adaptive_max_pool3d", "avg_pool3d", "max_pool3d",
           "max_unpool3d"]


def _triple(value, name, op):
    values = (value,) * 3 if isinstance(value, (int, np.integer)) else tuple(value)
    values = values * 3 if len(values) == 1 else values
    if len(values) != 3 or not all(isinstance(v, (int, np.integer)) for v in values):
        raise ArgumentError(f"{op}: {name} must be an int or a tuple of 3 ints, got {value!r}")
    return tuple(int(v) for v in values)


class _Geometry3d(_WindowGeometry):
    """The window geometry of one pooling over (N, C, D, H, W) from PyTorch's arguments."""

    def __init__(self, op, shape, kernel_size, stride, padding, dilation, ceil_mode):
        kernel = _triple(kernel_size, "kernel_size", op)
        stride = kernel if stride is None or stride == () else _triple(stride, "stride", op)
        super().__init__(op, shape, kernel, stride, _triple(padding, "padding", op),
                         _triple(dilation, "dilation", op), ceil_mode)


class AvgPool3d(Function):
    """out = Σ over each window / count;  dx[view_t] += g / count."""

    def forward(self, x, geo, out_shape, count):
        views = geo.views(geo.padded(x.reshape(geo.shape), 0))
        out = views[0].copy()
        for view in views[1:]:
            out += view
        self.geo, self.count, self.in_shape = geo, count, x.shape
        return _divide(out, count).reshape(out_shape)

    def backward(self, grad):
        geo = self.geo
        g = grad.reshape(geo.shape[:2] + geo.out) / self.count
        dxp = np.zeros(geo.padded_shape, grad.dtype)
        for view in geo.views(dxp):
            view += g
        return geo.crop(dxp).reshape(self.in_shape)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over kd×kh×kw windows of input (N, C, D, H, W) or (C, D, H, W), padded with −∞;
    stride defaults to kernel_size. With return_indices, also the flat argmax indices."""
    shape = _batch_shape("max_pool3d", input, 3, kinds="fiu")
    geo = _Geometry3d("max_pool3d", shape, kernel_size, stride, padding, dilation, ceil_mode)
    out_shape = tuple(input.shape[:-3]) + geo.out
    indices = [] if return_indices else None
    out = MaxPool.apply(input, geo=geo, out_shape=out_shape, indices=indices)
    return (out, Tensor._make(indices[0], None)) if return_indices else out


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over kd×kh×kw windows of input (N, C, D, H, W) or (C, D, H, W), zero-padded; the
    divisor is the window volume, the count of real voxels (count_include_pad=False) or
    divisor_override."""
    shape = _batch_shape("avg_pool3d", input, 3, kinds="fl")
    geo = _Geometry3d("avg_pool3d", shape, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None:
        if divisor_override == 0:
            raise ArgumentError("avg_pool3d: divisor_override must be non-zero")
        count = divisor_override
    else:
        counts = [_counts(n, k, s, p, o, count_include_pad) for n, k, s, p, o in
                  zip(shape[2:], geo.kernel, geo.stride, geo.padding, geo.out)]
        count = np.einsum("i,j,k->ijk", *counts)
        count = int(count.flat[0]) if np.all(count == count.flat[0]) else (
            count.astype(input.dtype))
    return AvgPool3d.apply(input, geo=geo, out_shape=tuple(input.shape[:-3]) + geo.out,
                           count=count)


def _along(matrix, x, axis):
    """matrix (o, n) applied along ``axis`` of x (of size n there)."""
    return np.moveaxis(np.matmul(matrix, np.moveaxis(x, axis, -2)), -2, axis)


class AdaptiveAvgPool3d(Function):
    """out = x ×_D A_d ×_H A_h ×_W A_w (bin-averaging matrices);  dx: the same with Aᵀ."""

    def forward(self, x, mats):
        self.mats = mats
        for axis, m in zip((-3, -2, -1), mats):
            x = _along(m, x, axis)
        return x

    def backward(self, grad):
        for axis, m in zip((-3, -2, -1), self.mats):
            grad = _along(m.T, grad, axis)
        return grad


def adaptive_avg_pool3d(input, output_size):
    """Average pooling of input (N, C, D, H, W) or (C, D, H, W) to output_size (an int, or
    (od, oh, ow) where None keeps that input size), PyTorch's bins."""
    _batch_shape("adaptive_avg_pool3d", input, 3)
    spatial = tuple(input.shape[-3:])
    sizes = _output_sizes("adaptive_avg_pool3d", output_size, spatial)
    mats = [_bins(n, o, input.dtype) for n, o in zip(spatial, sizes)]
    return AdaptiveAvgPool3d.apply(input, mats=mats)
