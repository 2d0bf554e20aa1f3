"""Convolution layers Conv1d, Conv2d, Conv3d and ConvTranspose1d/2d/3d: parameters,
initialization, input checks, repr.

The convolution itself (GEMM over strided windows, stride, padding, dilation, groups) is
gradkit.ops.conv, ops.conv3d and ops.conv_transpose. Weight (out_channels,
in_channels/groups, *kernel_size), bias (out_channels,). Input (N, C_in, *spatial), or
(C_in, *spatial) without a batch dim; output size per spatial dim:
⌊(L + 2·padding − dilation·(k − 1) − 1)/stride⌋ + 1.

A transposed layer's weight is (in_channels, out_channels/groups, *kernel_size), and its
output size per spatial dim (L − 1)·stride − 2·padding + dilation·(k − 1) + output_padding + 1
(``output_size=`` in forward picks output_padding, as PyTorch). Conv3d and the transposed
layers start from PyTorch's default initialization (kaiming_uniform_ with a = √5, i.e.
U(±1/√fan_in), and bias U(±1/√fan_in), fan_in = weight.shape[1]·∏kernel), so a PyTorch
model built from them trains alike; Conv1d and Conv2d keep gradkit's He-normal default.
"""

import numpy as np

from gradkit.devices import check_device
from gradkit.errors import ArgumentError, ShapeError
from gradkit.nn import init
from gradkit.nn._input import expect_tensor
from gradkit.nn.module import Module
from gradkit.nn.parameter import Parameter
from gradkit.ops.conv import conv1d, conv2d
from gradkit.ops.conv3d import conv3d
from gradkit.ops.conv_transpose import (conv_transpose1d, conv_transpose2d, conv_transpose3d,
                                        output_padding_for)
from gradkit.ops.shape import pad as _pad

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
           "ConvTranspose3d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _tuple(value, n, name):
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
    if len(values) != n or not all(isinstance(v, (int, np.integer)) for v in values):
        raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")
    return tuple(int(v) for v in values)


class _ConvNd(Module):
    _n = 0  # spatial dims
    _dims = ""  # names of the spatial dims in error messages
    _transposed = False  # weight (in, out/groups, *k) instead of (out, in/groups, *k)

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        check_device(type(self).__name__, device)  # "cpu" or None: gradkit runs on the CPU
        name, n = type(self).__name__, self._n
        if groups <= 0 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must be divisible by groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got "
                             f"{padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _tuple(kernel_size, n, "kernel_size")
        self.stride = _tuple(stride, n, "stride")
        self.dilation = _tuple(dilation, n, "dilation")
        self.padding_mode = padding_mode
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: padding must be 'same', 'valid', an int or a tuple, "
                                 f"got {padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _tuple(padding, n, "padding")
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        shape = ((in_channels, out_channels // groups) if self._transposed
                 else (out_channels, in_channels // groups)) + self.kernel_size
        self.weight = Parameter(np.empty(shape, dtype))
        self.register_parameter("bias", Parameter(np.empty(out_channels, dtype)) if bias
                                else None)
        self.reset_parameters()

    def reset_parameters(self):
        """He/Kaiming normal weights (fan_in = in_channels/groups·∏kernel, ReLU gain) and zero
        bias, as the notes recommend; PyTorch's default is U(±1/√fan_in) for both."""
        init.kaiming_normal_(self.weight, mode="fan_in", nonlinearity="relu")
        if self.bias is not None:
            init.zeros_(self.bias)

    def _explicit_padding(self):
        """(lo, hi) padding per spatial dim, for the non-zero padding modes."""
        if self.padding == "valid":
            return [(0, 0)] * self._n
        if self.padding == "same":
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            return [(t // 2, t - t // 2) for t in totals]
        return [(p, p) for p in self.padding]

    def _check_input(self, input):
        n, c = self._n, self.in_channels
        expect_tensor(self._label(), input)
        rank_ok = input.ndim in (n + 1, n + 2)
        if not rank_ok or input.shape[-n - 1] != c:
            raise ShapeError(f"{self._label()}: expected input (N, {c}, {self._dims}), got "
                             f"{tuple(input.shape)}")
        spatial = input.shape[-n:]
        padded = [size + lo + hi for size, (lo, hi) in zip(spatial, self._explicit_padding())]
        extent = [d * (k - 1) + 1 for d, k in zip(self.dilation, self.kernel_size)]
        if any(p < e for p, e in zip(padded, extent)):
            raise ShapeError(f"{self._label()}: input {tuple(input.shape)} is smaller than the "
                             f"kernel: padded size {tuple(padded)} < kernel extent "
                             f"{tuple(extent)} (dilation·(kernel − 1) + 1)")

    def _label(self):
        return f"{type(self).__name__}({self.in_channels}→{self.out_channels})"

    def forward(self, input):
        self._check_input(input)
        x, padding = input, self.padding
        if self.padding_mode != "zeros":
            widths = [w for lo_hi in reversed(self._explicit_padding()) for w in lo_hi]
            x, padding = _pad(x, widths, mode=self.padding_mode), 0
        return self._conv(x, self.weight, self.bias, self.stride, padding, self.dilation,
                          self.groups)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * self._n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._n:
            s += f", dilation={self.dilation}"
        if self._transposed and self.output_padding != (0,) * self._n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    """1-D convolution (cross-correlation, as in every framework) over (N, C_in, L) input:

        out[n, o, t] = b[o] + Σ_{c,i} w[o, c, i]·x_pad[n, c', s·t + d·i]

    with c' running over the input channels of output channel o's group."""

    _n, _dims = 1, "L"
    _conv = staticmethod(conv1d)


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation) over (N, C_in, H, W) input:

        out[n, o, y, x] = b[o] + Σ_{c,i,j} w[o, c, i, j]·x_pad[n, c', s_h·y + d_h·i, s_w·x + d_w·j]

    with c' running over the input channels of output channel o's group."""

    _n, _dims = 2, "H, W"
    _conv = staticmethod(conv2d)


def _reset_as_torch(module):
    """PyTorch's default: weight kaiming_uniform_(a=√5) = U(±1/√fan_in), bias U(±1/√fan_in),
    fan_in = weight.shape[1]·∏kernel."""
    init._fan_in_uniform(module.weight, module.bias)


class Conv3d(_ConvNd):
    """3-D convolution (cross-correlation) over (N, C_in, D, H, W) input:

        out[n, o, z, y, x] = b[o] + Σ_{c,i,j,l} w[o, c, i, j, l]·x_pad[n, c', s_d·z + d_d·i,
                                                                      s_h·y + d_h·j, s_w·x + d_w·l]

    with c' running over the input channels of output channel o's group."""

    _n, _dims = 3, "D, H, W"
    _conv = staticmethod(conv3d)
    reset_parameters = _reset_as_torch


class _ConvTransposeNd(_ConvNd):
    """PyTorch's argument order (output_padding before groups, dilation after bias); only
    zero padding. A string padding is refused here, where PyTorch accepts it and fails in
    forward."""

    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ArgumentError(f'{name}: only "zeros" padding mode is supported, got '
                                f"{padding_mode!r}")
        if isinstance(padding, str):
            raise ArgumentError(f"{name}: padding must be an int or a tuple of {self._n} ints,"
                                f" got {padding!r}")
        self.output_padding = _tuple(output_padding, self._n, "output_padding")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)

    reset_parameters = _reset_as_torch

    def _check_input(self, input):
        expect_tensor(self._label(), input)
        n, c = self._n, self.in_channels
        if input.ndim not in (n + 1, n + 2) or input.shape[-n - 1] != c:
            raise ShapeError(f"{self._label()}: expected input (N, {c}, {self._dims}), got "
                             f"{tuple(input.shape)}")

    def forward(self, input, output_size=None):
        self._check_input(input)
        output_padding = self.output_padding
        if output_size is not None:
            output_padding = output_padding_for(
                self._label(), input.shape[-self._n:], self._spatial(output_size, input),
                self.stride, self.padding, self.kernel_size, self.dilation)
        return self._conv(input, self.weight, self.bias, self.stride, self.padding,
                          output_padding, self.groups, self.dilation)

    def _spatial(self, output_size, input):
        """output_size's spatial sizes: it may also hold the batch and channel dims."""
        size = tuple(output_size)
        lead = input.ndim - self._n
        if len(size) == lead + self._n:
            size = size[lead:]
        if len(size) != self._n:
            raise ArgumentError(f"{self._label()}: for {input.ndim}D input, output_size must "
                                f"have {self._n} or {lead + self._n} elements (got "
                                f"{len(output_size)})")
        return size


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution over (N, C_in, L): the adjoint of Conv1d with the same
    options, out[n, o', s·t + d·i − p] += Σ_c w[c, o, i]·x[n, c, t] (+ b[o'])."""

    _n, _dims = 1, "L"
    _conv = staticmethod(conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution over (N, C_in, H, W): the adjoint of Conv2d with the same
    options, out[n, o', s_h·y + d_h·i − p_h, s_w·x + d_w·j − p_w] += Σ_c w[c, o, i, j]·x[n, c, y, x]
    (+ b[o']), o' the output channel o of c's group."""

    _n, _dims = 2, "H, W"
    _conv = staticmethod(conv_transpose2d)


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution over (N, C_in, D, H, W): the adjoint of Conv3d with the same
    options (see ConvTranspose2d, with one more spatial dim)."""

    _n, _dims = 3, "D, H, W"
    _conv = staticmethod(conv_transpose3d)
