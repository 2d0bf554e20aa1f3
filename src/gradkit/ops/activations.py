"""More activations: silu, mish, hardswish, hardsigmoid, hardtanh, relu6, selu, celu,
softsign, logsigmoid, threshold (one Function each), and softmin, glu, prelu, normalize
(compositions of existing ops, so their gradients come from those).

    import gradkit as gk
    from gradkit.ops import activations as A
    x = gk.randn(4, 6, requires_grad=True)
    y = A.glu(A.silu(x), dim=-1) + A.hardtanh(x[:, :3], -0.5, 0.5)
    y.sum().backward()
"""

import numpy as np

from gradkit.autograd.function import Function
from gradkit.errors import ArgumentError, ShapeError
from gradkit.ops._util import _float_default, normalize_dim
from gradkit.ops.arithmetic import where
from gradkit.ops.reduce import norm, softmax
from gradkit.ops.shape import reshape
from gradkit.ops.unary import sigmoid_array
from gradkit.tensor import Tensor

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class SiLU(Function):
    """out = x·σ(x);  dx = g · σ(x)·(1 + x·(1 − σ(x)))."""

    def forward(self, x):
        self.x, self.s = x, sigmoid_array(x)
        return x * self.s

    def backward(self, g):
        s = self.s
        return g * s * (1.0 + self.x * (1.0 - s))


class Mish(Function):
    """out = x·tanh(softplus x);  dx = g · (t + x·σ(x)·(1 − t²)), t = tanh(softplus x)."""

    def forward(self, x):
        self.x = x
        self.t = np.tanh(np.logaddexp(0.0, x)).astype(x.dtype, copy=False)
        return x * self.t

    def backward(self, g):
        t = self.t
        return g * (t + self.x * sigmoid_array(self.x) * (1.0 - t * t))


class Hardswish(Function):
    """out = x·relu6(x + 3)/6;  dx = 0 for x ≤ −3, g·(x/3 + ½) for −3 < x < 3, g for x ≥ 3."""

    def forward(self, x):
        self.x = x
        return x * np.clip(x + 3.0, 0.0, 6.0) / 6.0

    def backward(self, g):
        x = self.x
        return np.where(x <= -3.0, 0.0, np.where(x < 3.0, g * (x / 3.0 + 0.5), g)).astype(
            g.dtype, copy=False)


class Hardsigmoid(Function):
    """out = relu6(x + 3)/6;  dx = g/6 for −3 < x < 3, else 0.

    PyTorch's backward multiplies by 1/6 rounded to float32 (``1.0f / 6.0f``) in every dtype;
    so does this one, so float64 gradients agree to the last digit."""

    def forward(self, x):
        self.inside = (x > -3.0) & (x < 3.0)
        return np.clip(x + 3.0, 0.0, 6.0) / 6.0

    def backward(self, g):
        return g * self.inside * _ONE_SIXTH_F32


_ONE_SIXTH_F32 = float(np.float32(1.0) / np.float32(6.0))


class Hardtanh(Function):
    """out = clamp(x, lo, hi);  dx = g for lo < x < hi, else 0 (strict, as PyTorch)."""

    def forward(self, x, lo, hi):
        self.inside = (x > lo) & (x < hi)
        return np.clip(x, lo, hi)

    def backward(self, g):
        return g * self.inside


class ScaledELU(Function):
    """out = scale·(x if x > 0 else α(e^(x/β) − 1));  dx = scale·(g if x > 0 else g·(α/β)e^(x/β)).

    CELU is α = β = alpha, scale = 1; SELU is α = 1.6733, β = 1, scale = 1.0507. PyTorch's
    CELU backward divides by β rounded to float32 (``1.0 / alpha.toFloat()``); ``beta_grad``
    is that β, so float64 gradients agree to the last digit."""

    def forward(self, x, alpha, beta, scale, beta_grad):
        self.x, self.alpha, self.beta, self.scale = x, alpha, beta_grad, scale
        self.positive = x > 0
        e = np.exp(np.minimum(x, 0.0) / beta)
        return scale * np.where(self.positive, x, alpha * (e - 1.0))

    def backward(self, g):
        b = self.beta
        e = np.exp(np.minimum(self.x, 0.0) / b)
        return self.scale * np.where(self.positive, g, g * (self.alpha / b) * e)


class Softsign(Function):
    """out = x / (1 + |x|);  dx = g / (1 + |x|)²."""

    def forward(self, x):
        self.d = 1.0 + np.abs(x)
        return x / self.d

    def backward(self, g):
        return g / (self.d * self.d)


class LogSigmoid(Function):
    """out = ln σ(x) = min(x, 0) − ln(1 + e^(−|x|));  dx = g · σ(−x)."""

    def forward(self, x):
        self.x = x
        return np.minimum(x, 0.0) - np.log1p(np.exp(-np.abs(x)))

    def backward(self, g):
        return g * sigmoid_array(-self.x)


class Threshold(Function):
    """out = x if x > threshold else value;  dx = g · [x > threshold]."""

    def forward(self, x, threshold, value):
        self.above = x > threshold
        return np.where(self.above, x, np.asarray(value, x.dtype))

    def backward(self, g):
        return g * self.above


# ----- the functions nn.functional and the layers call -----

def _floating(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}; wrap it with "
                        "gk.tensor(...)")
    return _float_default(x)


def silu(input): return SiLU.apply(_floating(input, "silu"))
def mish(input): return Mish.apply(_floating(input, "mish"))
def hardswish(input): return Hardswish.apply(_floating(input, "hardswish"))
def hardsigmoid(input): return Hardsigmoid.apply(_floating(input, "hardsigmoid"))
def softsign(input): return Softsign.apply(_floating(input, "softsign"))
def logsigmoid(input): return LogSigmoid.apply(_floating(input, "logsigmoid"))


def hardtanh(input, min_val=-1.0, max_val=1.0):
    if min_val > max_val:
        raise ArgumentError(f"hardtanh: min_val ({min_val}) cannot be greater than "
                            f"max_val ({max_val})")
    return Hardtanh.apply(_floating(input, "hardtanh"), lo=float(min_val), hi=float(max_val))


def relu6(input):
    """min(max(x, 0), 6) (hardtanh(x, 0, 6))."""
    return hardtanh(input, 0.0, 6.0)


def celu(input, alpha=1.0):
    if alpha == 0:
        raise ArgumentError("celu: alpha must not be 0 (x/alpha is its exponent)")
    return ScaledELU.apply(_floating(input, "celu"), alpha=float(alpha), beta=float(alpha),
                           scale=1.0, beta_grad=float(np.float32(alpha)))


def selu(input):
    return ScaledELU.apply(_floating(input, "selu"), alpha=SELU_ALPHA, beta=1.0,
                           scale=SELU_SCALE, beta_grad=1.0)


def threshold(input, threshold, value):
    return Threshold.apply(_floating(input, "threshold"), threshold=threshold, value=value)


def softmin(input, dim):
    """softmax(−x) along ``dim``."""
    return softmax(-input, dim)


def glu(input, dim=-1):
    """a·σ(b), where a and b are the two halves of x along ``dim``."""
    d = normalize_dim(dim, input.ndim, "glu")[0] if input.ndim else 0
    if input.ndim == 0 or input.shape[d] % 2:
        size = input.shape[d] if input.ndim else 0
        raise ShapeError(f"glu: halving dimension must be even, but dimension {dim} is size "
                         f"{size}")
    a, b = input.split(input.shape[d] // 2, d)
    return a * b.sigmoid()


def prelu(input, weight):
    """x if x > 0 else w·x, with one w per channel (dim 1 of an input of 2 or more dims) or a
    single w for any input."""
    if weight.numel() != 1:
        channels = input.shape[1] if input.ndim >= 2 else 1
        if channels != weight.numel():
            raise ShapeError(f"prelu: weight has {weight.numel()} parameters but the input "
                             f"(shape {tuple(input.shape)}) has {channels} channels (dim 1); "
                             "expected as many, or a single parameter")
        weight = reshape(weight, *((weight.numel(),) + (1,) * (input.ndim - 2)))
    else:
        weight = reshape(weight, *(() if input.ndim == 0 else (1,)))
    return where(input > 0, input, weight * input)


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """x / max(‖x‖_p, eps) along ``dim`` (the norm's gradient is 0 where it is clamped)."""
    return input / norm(input, p, dim, keepdim=True).clamp(min=eps)
