"""The padding layers, thin modules over F.pad with PyTorch's names, arguments and reprs:
ZeroPad1d/2d/3d, ConstantPad1d/2d/3d, ReflectionPad1d/2d/3d, ReplicationPad1d/2d/3d and
CircularPad1d/2d/3d.

``padding`` is an int (the same width on every side) or a tuple (left, right, top, bottom,
front, back), starting from the last dim as in F.pad; a negative width crops. The k-d layers
pad the last k dims of input (N, C, *spatial) or (C, *spatial), so reflect, replicate and
circular take (k+1)- or (k+2)-dim input, as in PyTorch; constant padding takes any input
with at least k dims. The layers have no parameters.

    pad = nn.ReflectionPad2d((1, 1, 2, 0))
    pad(gk.randn(8, 3, 32, 32)).shape          # (8, 3, 34, 34)
"""

from gradkit.errors import ArgumentError, ShapeError
from gradkit.nn._input import expect_tensor
from gradkit.nn.functional import pad
from gradkit.nn.module import Module

__all__ = ["CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d",
           "ConstantPad2d", "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d",
           "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d",
           "ZeroPad1d", "ZeroPad2d", "ZeroPad3d"]


def _widths(padding, n):
    """PyTorch's _ntuple(2n): an int repeated 2n times, a sequence kept as a tuple."""
    return tuple(padding) if isinstance(padding, (tuple, list)) else (padding,) * (2 * n)


class _PadNd(Module):
    """Pads with ``_mode``; the k-d layers hold 2k widths."""

    _mode, _n = "constant", 1

    def __init__(self, padding):
        super().__init__()
        self.padding = _widths(padding, self._n)

    def forward(self, input):
        label = f"{type(self).__name__}({self.extra_repr()})"
        expect_tensor(label, input)
        k = len(self.padding) // 2
        if self._mode == "constant" and input.ndim < k:
            raise ShapeError(f"{label}: expected input with at least {k} dims, got "
                             f"{tuple(input.shape)}")
        if self._mode != "constant" and input.ndim not in (k + 1, k + 2):
            error = NotImplementedError if self._mode != "circular" else ShapeError
            raise error(f"{label}: expected {k + 1}D or {k + 2}D input, got "
                        f"{input.ndim}D input {tuple(input.shape)}")
        try:
            return pad(input, self.padding, self._mode, self._value())
        except ArgumentError as error:  # F.pad's width errors, told about this layer
            raise ArgumentError(f"{label}: {error}") from None

    def _value(self):
        return None

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def _value(self):
        return self.value

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim with ``value``: padding = (left, right) or an int."""


class ConstantPad2d(_ConstantPadNd):
    """Pads the last 2 dims with ``value``: padding = (left, right, top, bottom) or an int."""

    _n = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last 3 dims with ``value``: padding = (left, right, top, bottom, front, back)
    or an int."""

    _n = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd, ConstantPad1d):
    """Pads the last dim with zeros: padding = (left, right) or an int."""


class ZeroPad2d(_ZeroPadNd, ConstantPad2d):
    """Pads the last 2 dims with zeros: padding = (left, right, top, bottom) or an int."""


class ZeroPad3d(_ZeroPadNd, ConstantPad3d):
    """Pads the last 3 dims with zeros; padding as ConstantPad3d."""


class _ReflectionPadNd(_PadNd):
    _mode = "reflect"


class ReflectionPad1d(_ReflectionPadNd):
    """Pads the last dim with its reflection (the edge not repeated): each width < the size."""


class ReflectionPad2d(_ReflectionPadNd):
    """Pads the last 2 dims with their reflection; padding = (left, right, top, bottom)."""

    _n = 2


class ReflectionPad3d(_ReflectionPadNd):
    """Pads the last 3 dims with their reflection."""

    _n = 3


class _ReplicationPadNd(_PadNd):
    _mode = "replicate"


class ReplicationPad1d(_ReplicationPadNd):
    """Pads the last dim by repeating its edge value."""


class ReplicationPad2d(_ReplicationPadNd):
    """Pads the last 2 dims by repeating their edge values."""

    _n = 2


class ReplicationPad3d(_ReplicationPadNd):
    """Pads the last 3 dims by repeating their edge values."""

    _n = 3


class _CircularPadNd(_PadNd):
    _mode = "circular"


class CircularPad1d(_CircularPadNd):
    """Pads the last dim by wrapping around (periodic): each width ≤ the size."""


class CircularPad2d(_CircularPadNd):
    """Pads the last 2 dims by wrapping around."""

    _n = 2


class CircularPad3d(_CircularPadNd):
    """Pads the last 3 dims by wrapping around."""

    _n = 3
