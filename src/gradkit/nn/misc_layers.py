"""Layers without a room of their own: Hardshrink, Softshrink, Tanhshrink, RReLU, Softmax2d,
Unflatten, LPPool1d/2d/3d (and, for export, ParameterList and ParameterDict from
nn/containers.py and the lazy layers of nn/lazy.py that nn/__init__.py does not import).
Each layer holds its options and calls the function of the same name in
gradkit/ops/misc_functional.py, where the formulas are (RMSNorm and BatchNorm3d are in
nn/normalization.py). None has parameters.

    from gradkit import nn
    net = nn.Sequential(nn.Linear(8, 12), nn.Unflatten(1, (3, 4)), nn.RReLU())
"""

from gradkit.errors import ShapeError
from gradkit.nn._input import expect_tensor
from gradkit.nn.containers import ParameterDict, ParameterList
from gradkit.nn.lazy import (LazyBatchNorm3d, LazyConv3d, LazyConvTranspose1d,
                             LazyConvTranspose2d, LazyConvTranspose3d, LazyInstanceNorm1d,
                             LazyInstanceNorm2d, LazyInstanceNorm3d)
from gradkit.nn.module import Module
from gradkit.ops import misc_functional as F
from gradkit.ops.reduce import softmax

__all__ = ["Hardshrink", "Softshrink", "Tanhshrink", "RReLU", "Softmax2d", "Unflatten",
           "LPPool1d", "LPPool2d", "LPPool3d", "ParameterList", "ParameterDict",
           "LazyBatchNorm3d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d",
           "LazyConvTranspose3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d",
           "LazyInstanceNorm3d"]


class Hardshrink(Module):
    """out = x where |x| > λ, else 0."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.hardshrink(input, self.lambd)

    def extra_repr(self):
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    """out = x − λ where x > λ, x + λ where x < −λ, else 0."""

    def forward(self, input):
        return F.softshrink(input, self.lambd)


class Tanhshrink(Module):
    """out = x − tanh x."""

    def forward(self, input):
        return F.tanhshrink(input)


class RReLU(Module):
    """Randomised leaky ReLU: slope a ~ U(lower, upper) per element in training, the fixed
    (lower + upper)/2 in eval. ``inplace`` is accepted and ignored."""

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}" + (", inplace=True" if self.inplace
                                                           else "")


class Softmax2d(Module):
    """Softmax over the channels of (N, C, H, W) or (C, H, W) input, at each location."""

    def forward(self, input):
        expect_tensor("Softmax2d", input)
        if input.ndim not in (3, 4):
            raise ShapeError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D "
                             "instead")
        return softmax(input, -3)


class Unflatten(Module):
    """Dim ``dim`` unflattened into ``unflattened_size`` (one entry may be −1):
    (N, 12) → (N, 3, 4) with Unflatten(1, (3, 4)). Named dims (a str dim) are not supported."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if not isinstance(dim, int):
            raise TypeError(f"Unflatten: invalid type of dim {type(dim).__name__}: gradkit "
                            "has no named dims, expected an int")
        if not isinstance(unflattened_size, (tuple, list)) or not all(
                isinstance(s, int) for s in unflattened_size):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints, got "
                            f"{unflattened_size!r}")
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, input):
        expect_tensor("Unflatten", input)
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class _LPPool(Module):
    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type, self.kernel_size = norm_type, kernel_size
        self.stride, self.ceil_mode = stride, ceil_mode

    def extra_repr(self):
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPool):
    """Power-average pool (Σ_window x^p)^(1/p) over (N, C, L) or (C, L) input."""

    def forward(self, input):
        return F.lp_pool1d(input, self.norm_type, self.kernel_size, self.stride,
                           self.ceil_mode)


class LPPool2d(_LPPool):
    """Power-average pool (Σ_window x^p)^(1/p) over (N, C, H, W) or (C, H, W) input."""

    def forward(self, input):
        return F.lp_pool2d(input, self.norm_type, self.kernel_size, self.stride,
                           self.ceil_mode)


class LPPool3d(_LPPool):
    """Power-average pool (Σ_window x^p)^(1/p) over (N, C, D, H, W) or (C, D, H, W) input."""

    def forward(self, input):
        return F.lp_pool3d(input, self.norm_type, self.kernel_size, self.stride,
                           self.ceil_mode)
