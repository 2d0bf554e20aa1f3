"""Adaptive max pooling (adaptive_max_pool1d/2d/3d) and max unpooling (max_unpool1d/2d/3d).

adaptive_max_pool2d takes the max over PyTorch's bins, rows ⌊i·H/oh⌋ … ⌈(i+1)·H/oh⌉ − 1 and
the same for columns. A bin spans at most kh = max bin height rows and kw columns, so it loops
over the kh·kw offsets (a, b), never over pixels: offset (a, b) reads the pixel
(min(start_i + a, end_i − 1), min(start_j + b, end_j − 1)) of every bin, one gather of the
output's shape (clamping repeats a bin's last pixel, which changes neither its max nor its
first argmax). As in PyTorch a NaN wins, and the first maximum gets the gradient:

    out = max over the bin,  idx = its first argmax as a flat index y·W + x into the plane
    dx[idx] += g                                            (bins may overlap: accumulate)

max_unpool2d puts each value back at its flat index in an output plane of zeros (PyTorch's
default size (in − 1)·stride − 2·padding + kernel, or output_size):

    out[idx] = x;  dx = g[idx]

An index repeated in a plane (overlapping pooling windows picking the same pixel) keeps the
last value written, and, as in PyTorch, every copy gets the gradient g[idx].

The 1-d ops are the 2-d ones of height 1; the 3-d ones loop over the kd·kh·kw offsets of a
bin and index volumes flat (d·H·W + h·W + w), as PyTorch's indices. Max pooling takes float
input only, as PyTorch's adaptive_max_pool; max unpooling takes any numeric dtype.

    out, idx = F.adaptive_max_pool2d(x, (3, 4), return_indices=True)   # x (N, C, H, W)
    pooled, idx = F.max_pool2d(x, 2, return_indices=True)
    F.max_unpool2d(pooled, idx, 2).shape                                 # x.shape, H, W even
"""

import itertools

import numpy as np

from gradkit.autograd.function import Function
from gradkit.errors import ArgumentError, ShapeError
from gradkit.ops._pool_shape import _batch_shape, _bin_edges, _output_sizes
from gradkit.tensor import Tensor

__all__ = ["adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d", "max_unpool1d",
           "max_unpool2d", "max_unpool3d"]


class AdaptiveMaxPool(Function):
    """out = max over each bin, idx = its first argmax (a NaN wins);  dx[idx] += g."""

    def forward(self, x, shape, out_size, out_shape, indices):
        N, C, *spatial = shape
        xs = x.reshape(shape)
        edges = [_bin_edges(L, o) for L, o in zip(spatial, out_size)]
        out, idx = None, None
        for offset in itertools.product(*(range(int((e - s).max())) for s, e in edges)):
            cells = np.ix_(*(np.minimum(s + a, e - 1) for (s, e), a in zip(edges, offset)))
            view = xs[(slice(None), slice(None), *cells)]
            flat = np.broadcast_to(np.ravel_multi_index(cells, spatial), view.shape)
            if out is None:
                out, idx = view, flat.copy()
                continue
            wins = (view > out) | np.isnan(view)
            out = np.where(wins, view, out)
            idx = np.where(wins, flat, idx)
        self.idx, self.in_shape, self.shape = idx, x.shape, shape
        indices.append(idx.reshape(out_shape))
        return out.reshape(out_shape)

    def backward(self, grad):
        N, C, *spatial = self.shape
        dx = np.zeros((N * C, int(np.prod(spatial))), grad.dtype)
        planes = np.arange(N * C)[:, None]
        cells = self.idx.size // max(N * C, 1)
        np.add.at(dx, (planes, self.idx.reshape(N * C, cells)), grad.reshape(N * C, cells))
        return dx.reshape(self.in_shape)


def _adaptive_max(op, n, input, output_size, return_indices):
    shape = _batch_shape(op, input, n)
    sizes = _output_sizes(op, output_size, tuple(input.shape[-n:]))
    out_size = sizes if n > 1 else (1,) + sizes
    out_shape = tuple(input.shape[:-n]) + sizes
    indices = []
    out = AdaptiveMaxPool.apply(input, shape=shape, out_size=out_size, out_shape=out_shape,
                                indices=indices)
    return (out, Tensor._make(indices[0], None)) if return_indices else out


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling of input (N, C, H, W) or (C, H, W) to output_size (an int, or (oh, ow) where
    None keeps that input size) over PyTorch's bins; with return_indices also the flat argmax
    index into each input plane (int64)."""
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling of input (N, C, L) or (C, L) to output_size bins; see adaptive_max_pool2d."""
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


class MaxUnpool2d(Function):
    """out[idx] = x in a plane of zeros;  dx = g[idx]."""

    def forward(self, x, idx, planes, plane_size, out_shape):
        out, self.out_plane = np.zeros((planes, plane_size), x.dtype), plane_size
        rows, cells = np.arange(planes)[:, None], idx.size // max(planes, 1)
        self.where, self.in_shape = (rows, idx.reshape(planes, cells)), x.shape
        out[self.where] = x.reshape(planes, cells)
        return out.reshape(out_shape)

    def backward(self, grad):
        planes, plane_size = self.where[0].shape[0], self.out_plane
        return grad.reshape(planes, plane_size)[self.where].reshape(self.in_shape)


def _unpool_size(op, n, spatial, kernel_size, stride, padding, output_size):
    """PyTorch's default unpooled size, or output_size ((N, C,) + n sizes) checked against it."""
    def entries(value, name):
        values = (value,) * n if isinstance(value, (int, np.integer)) else tuple(value)
        if len(values) != n:
            raise ArgumentError(f"{op}: {name} must be an int or {n} ints, got {value!r}")
        return tuple(int(v) for v in values)
    kernel = entries(kernel_size, "kernel_size")
    stride = kernel if stride is None or stride == () else entries(stride, "stride")
    padding = entries(padding, "padding")
    default = tuple((s - 1) * st - 2 * p + k
                    for s, k, st, p in zip(spatial, kernel, stride, padding))
    if output_size is None:
        return default
    wanted = tuple(int(v) for v in output_size)
    wanted = wanted[2:] if len(wanted) == n + 2 else wanted
    if len(wanted) != n:
        raise ArgumentError(f"{op}: output_size must have {n} or {n + 2} entries, got "
                            f"{tuple(output_size)}")
    for w, d, st in zip(wanted, default, stride):
        if not d - st < w < d + st:
            raise ArgumentError(f"{op}: invalid output_size {wanted} (dim sizes must lie "
                                f"strictly between {tuple(d - s for d, s in zip(default, stride))}"
                                f" and {tuple(d + s for d, s in zip(default, stride))})")
    return wanted


def _max_unpool(op, n, input, indices, kernel_size, stride, padding, output_size):
    shape = _batch_shape(op, input, n, kinds="fiu")
    if not isinstance(indices, Tensor) or indices.dtype != np.int64:
        raise TypeError(f"{op}: indices must be an int64 Tensor, got "
                        f"{getattr(indices, 'dtype', type(indices).__name__)}")
    if tuple(indices.shape) != tuple(input.shape):
        raise ShapeError(f"{op}: expected indices of the input's shape {tuple(input.shape)}, "
                         f"got {tuple(indices.shape)}")
    sizes = _unpool_size(op, n, tuple(input.shape[-n:]), kernel_size, stride, padding,
                         output_size)
    plane_size = int(np.prod(sizes))
    idx = indices.numpy()
    if idx.size and (idx.min() < 0 or idx.max() >= plane_size):
        raise ArgumentError(f"{op}: found an invalid max index {int(idx.max())} (output "
                            f"planes of size {sizes} have {plane_size} elements)")
    return MaxUnpool2d.apply(input, idx=idx, planes=shape[0] * shape[1], plane_size=plane_size,
                             out_shape=tuple(input.shape[:-n]) + sizes)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool2d: each value of input (N, C, H, W) or (C, H, W) goes
    to its flat index (from return_indices) in an output plane of zeros."""
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding,
                       output_size)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max pooling of input (N, C, D, H, W) or (C, D, H, W) to output_size (an int, or
    (od, oh, ow) where None keeps that input size); with return_indices also the flat argmax
    index d·H·W + h·W + w into each input volume (int64). See adaptive_max_pool2d."""
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, return_indices)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool3d on input (N, C, D, H, W) or (C, D, H, W): each value
    goes to its flat index in an output volume of zeros; see max_unpool2d."""
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool1d on input (N, C, L) or (C, L); see max_unpool2d."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding,
                       output_size)
