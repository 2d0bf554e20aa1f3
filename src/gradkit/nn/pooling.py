"""Pooling layers: MaxPool1d/2d/3d, AvgPool1d/2d/3d, AdaptiveAvgPool1d/2d/3d,
AdaptiveMaxPool1d/2d/3d and MaxUnpool1d/2d/3d, with PyTorch's arguments and reprs.

Each holds its options and calls the function of the same name in gradkit.ops.pool (or
ops.pool3d), where the pooling math and its backward live. Input (N, C, *spatial) or
(C, *spatial); every channel is pooled on its own, so the layers have no parameters.

    pool = nn.MaxPool2d(2, return_indices=True)
    out, idx = pool(x)                       # x (8, 3, 32, 32) -> out (8, 3, 16, 16)
    nn.MaxUnpool2d(2)(out, idx).shape         # (8, 3, 32, 32), zeros off the maxima
"""

from gradkit.errors import ShapeError
from gradkit.nn._input import expect_tensor
from gradkit.nn.module import Module
from gradkit.ops.pool import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool1d,
                              adaptive_max_pool2d, avg_pool1d, avg_pool2d, max_pool1d,
                              max_pool2d, max_unpool1d, max_unpool2d)
from gradkit.ops.pool3d import (adaptive_avg_pool3d, adaptive_max_pool3d, avg_pool3d,
                                max_pool3d, max_unpool3d)

__all__ = ["AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d",
           "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
           "MaxPool1d", "MaxPool2d", "MaxPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d"]


def _single(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _ntuple(value, n):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


class _Pool(Module):
    """A layer over input (N, C, *spatial) with ``_n`` spatial dims named ``_dims``; ``_fn``
    is the ops function that pools (read off the class, so it is not bound as a method)."""

    _n, _dims, _fn = 2, "H, W", None

    def forward(self, input):
        self._check(input)
        return self._pool(input)

    def _check(self, input):
        label = f"{type(self).__name__}({self.extra_repr()})"
        expect_tensor(label, input)
        if input.ndim not in (self._n + 1, self._n + 2):
            raise ShapeError(f"{label}: expected input (N, C, {self._dims}) or "
                             f"(C, {self._dims}), got {tuple(input.shape)}")


class _MaxPoolNd(_Pool):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def _pool(self, x):
        return type(self)._fn(x, self.kernel_size, self.stride, self.padding, self.dilation,
                              self.ceil_mode, self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """out[n, c, t] = max of the window of ``kernel_size`` at stride·t of the input padded
    with −∞ (``stride`` defaults to ``kernel_size``). Input (N, C, L)."""

    _n, _dims, _fn = 1, "L", max_pool1d


class MaxPool2d(_MaxPoolNd):
    """out[n, c, y, x] = max of the kh×kw window at (s_h·y, s_w·x) of the input padded with −∞
    (``stride`` defaults to ``kernel_size``); the gradient flows to each window's maximum.
    With ``return_indices`` the output is (values, argmax indices)."""

    _fn = max_pool2d


class MaxPool3d(_MaxPoolNd):
    """out[n, c, z, y, x] = max of the kd×kh×kw window at (s_d·z, s_h·y, s_w·x) of the input
    padded with −∞. Input (N, C, D, H, W) or (C, D, H, W)."""

    _n, _dims, _fn = 3, "D, H, W", max_pool3d


class _AvgPoolNd(_Pool):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def _pool(self, x):
        return type(self)._fn(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                              self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """out[n, c, t] = mean of the window of ``kernel_size`` at stride·t of the zero-padded
    input (``count_include_pad=False`` leaves the padding out of the count). Input (N, C, L)."""

    _n, _dims = 1, "L"

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        stride = stride if stride is not None else kernel_size
        # PyTorch stores 1-tuples here
        super().__init__(_single(kernel_size), _single(stride), _single(padding), ceil_mode,
                         count_include_pad)

    def _pool(self, x):
        return avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad)


class AvgPool2d(_AvgPoolNd):
    """out[n, c, y, x] = mean of the kh×kw window at (s_h·y, s_w·x) of the zero-padded input;
    the divisor is kh·kw, the count of real pixels (``count_include_pad=False``) or
    ``divisor_override``."""

    _fn = avg_pool2d


class AvgPool3d(_AvgPoolNd):
    """out[n, c, z, y, x] = mean of the kd×kh×kw window at (s_d·z, s_h·y, s_w·x) of the
    zero-padded input; divisor as AvgPool2d. Input (N, C, D, H, W) or (C, D, H, W)."""

    _n, _dims, _fn = 3, "D, H, W", avg_pool3d


class _AdaptivePool(_Pool):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def _pool(self, x):
        return type(self)._fn(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePool):
    """Average pooling of (N, C, L) to ``output_size`` bins ⌊i·L/l⌋ … ⌈(i+1)·L/l⌉ − 1."""

    _n, _dims, _fn = 1, "L", adaptive_avg_pool1d


class AdaptiveAvgPool2d(_AdaptivePool):
    """Average pooling to a fixed ``output_size`` (h, w) whatever the input size: output cell
    (i, j) averages rows ⌊i·H/h⌋ … ⌈(i+1)·H/h⌉ − 1 and the same for columns.
    ``AdaptiveAvgPool2d(1)`` is global average pooling (ResNet's head); None in output_size
    keeps that input dim."""

    _fn = adaptive_avg_pool2d


class AdaptiveAvgPool3d(_AdaptivePool):
    """Average pooling of (N, C, D, H, W) to ``output_size`` (d, h, w), PyTorch's bins."""

    _n, _dims, _fn = 3, "D, H, W", adaptive_avg_pool3d


class _AdaptiveMaxPool(_AdaptivePool):
    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def _pool(self, x):
        return type(self)._fn(x, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPool):
    """Max pooling of (N, C, L) to ``output_size`` bins; with ``return_indices`` the output
    is (values, argmax indices)."""

    _n, _dims, _fn = 1, "L", adaptive_max_pool1d


class AdaptiveMaxPool2d(_AdaptiveMaxPool):
    """Max pooling of (N, C, H, W) to ``output_size`` (h, w) over PyTorch's bins (None keeps
    that input dim); with ``return_indices`` the output is (values, flat argmax indices)."""

    _fn = adaptive_max_pool2d


class AdaptiveMaxPool3d(_AdaptiveMaxPool):
    """Max pooling of (N, C, D, H, W) to ``output_size`` (d, h, w) over PyTorch's bins (None
    keeps that input dim); with ``return_indices`` the output is (values, flat argmax
    indices into each input volume)."""

    _n, _dims, _fn = 3, "D, H, W", adaptive_max_pool3d


class _MaxUnpoolNd(_Pool):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = _ntuple(kernel_size, self._n)
        self.stride = _ntuple(stride if stride is not None else kernel_size, self._n)
        self.padding = _ntuple(padding, self._n)

    def forward(self, input, indices, output_size=None):
        self._check(input)
        return type(self)._fn(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """The partial inverse of MaxPool1d: forward(input, indices, output_size=None) puts each
    value at its index in a zero output of length (L − 1)·stride − 2·padding + kernel_size."""

    _n, _dims, _fn = 1, "L", max_unpool1d


class MaxUnpool2d(_MaxUnpoolNd):
    """The partial inverse of MaxPool2d: forward(input, indices, output_size=None) puts each
    value at its flat index in a zero output plane (PyTorch's default size, or output_size)."""

    _fn = max_unpool2d


class MaxUnpool3d(_MaxUnpoolNd):
    """The partial inverse of MaxPool3d: forward(input, indices, output_size=None) puts each
    value at its flat index in a zero output volume (PyTorch's default size, or
    output_size)."""

    _n, _dims, _fn = 3, "D, H, W", max_unpool3d
