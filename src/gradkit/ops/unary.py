"""Elementwise functions and activations: each a forward formula and its derivative.

Constants are Python floats, never NumPy float64 scalars, so float32 stays float32.
"""

import math

import numpy as np

from gradkit.autograd.function import Function
from gradkit.errors import ArgumentError
from gradkit.ops import parallel
from gradkit.ops._util import _float_default
from gradkit.ops.scratch import recycled
from gradkit.tensor import Tensor


class Exp(Function):
    """out = eˣ;  dx = g · out."""

    def forward(self, x):
        self.out = np.exp(x)
        return self.out

    def backward(self, g):
        return g * self.out


class Log(Function):
    """out = ln x;  dx = g / x."""

    def forward(self, x):
        self.x = x
        return np.log(x)

    def backward(self, g):
        return g / self.x


class Sqrt(Function):
    """out = √x;  dx = g / (2·out)."""

    def forward(self, x):
        self.out = np.sqrt(x)
        return self.out

    def backward(self, g):
        return g / (2.0 * self.out)


class Abs(Function):
    """out = |x|;  dx = g · sign(x)  (0 at x = 0)."""

    def forward(self, x):
        self.x = x
        return np.abs(x)

    def backward(self, g):
        return g * np.sign(self.x)


class Tanh(Function):
    """out = tanh x;  dx = g · (1 − out²)."""

    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, g):
        return g * (1.0 - self.out * self.out)


class Sigmoid(Function):
    """out = σ(x) = 1 / (1 + e⁻ˣ), computed without overflow;  dx = g · out · (1 − out)."""

    def forward(self, x):
        self.out = sigmoid_array(x)
        return self.out

    def backward(self, g):
        return g * self.out * (1.0 - self.out)


def sigmoid_array(x):
    """σ(x) for an ndarray, stable for large |x|: e^(−|x|) never overflows."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


class ReLU(Function):
    """out = max(x, 0);  dx = g · [out > 0]  (= [x > 0]; both arrays in recycled memory, large
    ones made in slices on the op threads)."""

    saves_inputs = False  # backward reads the output only

    def forward(self, x):
        out = self.out = recycled.empty(x.shape, x.dtype)
        parallel.elementwise(lambda part: np.maximum(x[part], 0, out=out[part]), x)
        return out

    def backward(self, g):
        dx, out = recycled.empty(g.shape, g.dtype), self.out
        parallel.elementwise(lambda part: np.multiply(g[part], out[part] > 0, out=dx[part]), g)
        return dx


class LeakyReLU(Function):
    """out = x if x > 0 else slope·x;  dx = g if x > 0 else slope·g."""

    def forward(self, x, negative_slope):
        self.positive, self.slope = x > 0, negative_slope
        return np.where(self.positive, x, x * negative_slope)

    def backward(self, g):
        return np.where(self.positive, g, g * self.slope)


class ELU(Function):
    """out = x if x > 0 else α(eˣ − 1);  dx = g if x > 0 else g·(out + α)."""

    def forward(self, x, alpha):
        self.positive, self.alpha = x > 0, alpha
        self.out = np.where(self.positive, x, alpha * np.expm1(np.minimum(x, 0)))
        return self.out

    def backward(self, g):
        return np.where(self.positive, g, g * (self.out + self.alpha))


class Softplus(Function):
    """out = ln(1 + e^(βx)) / β, and x itself where βx > threshold;  dx = g · σ(βx)."""

    def forward(self, x, beta, threshold):
        self.bx, self.threshold = x * beta, threshold
        soft = np.logaddexp(0.0, self.bx) / beta
        return np.where(self.bx > threshold, x, soft).astype(x.dtype, copy=False)

    def backward(self, g):
        return np.where(self.bx > self.threshold, g, g * sigmoid_array(self.bx))


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class GELU(Function):
    """out = x·Φ(x) with Φ the normal CDF;  dx = g · (Φ(x) + x·φ(x)).

    approximate='tanh': out = ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³),
    dx = g · (½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²))."""

    def forward(self, x, approximate):
        self.x, self.approximate = x, approximate
        if approximate == "tanh":
            self.t = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
            return 0.5 * x * (1.0 + self.t)
        from scipy.special import erf

        self.cdf = (0.5 * (1.0 + erf(x * _INV_SQRT_2))).astype(x.dtype, copy=False)
        return x * self.cdf

    def backward(self, g):
        x = self.x
        if self.approximate == "tanh":
            t = self.t
            du = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * x * x)
            return g * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du)
        pdf = np.exp(-0.5 * x * x) * _INV_SQRT_2PI
        return g * (self.cdf + x * pdf)


class Clamp(Function):
    """out = min(max(x, lo), hi);  dx = g where lo ≤ x ≤ hi, else 0."""

    def forward(self, x, lo, hi):
        self.x, self.lo, self.hi = x, lo, hi
        return np.clip(x, lo, hi)

    def backward(self, g):
        x = self.x
        inside = np.ones(x.shape, bool)
        if self.lo is not None:
            inside &= x >= self.lo
        if self.hi is not None:
            inside &= x <= self.hi
        return g * inside


def _floating(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    return _float_default(x)


def exp(x): return Exp.apply(_floating(x, "exp"))
def log(x): return Log.apply(_floating(x, "log"))
def sqrt(x): return Sqrt.apply(_floating(x, "sqrt"))
def abs(x): return Abs.apply(x)
def tanh(x): return Tanh.apply(_floating(x, "tanh"))
def sigmoid(x): return Sigmoid.apply(_floating(x, "sigmoid"))
def relu(x): return ReLU.apply(x)


def leaky_relu(x, negative_slope=0.01):
    return LeakyReLU.apply(x, negative_slope=negative_slope)


def elu(x, alpha=1.0):
    return ELU.apply(_floating(x, "elu"), alpha=alpha)


def softplus(x, beta=1.0, threshold=20.0):
    return Softplus.apply(_floating(x, "softplus"), beta=beta, threshold=threshold)


def gelu(x, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ArgumentError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(_floating(x, "gelu"), approximate=approximate)


def clamp(x, min=None, max=None):
    """Clamp into [min, max]; either bound may be None (PyTorch's torch.clamp)."""
    if min is None and max is None:
        raise ArgumentError("clamp: give at least one of min and max")
    return Clamp.apply(x, lo=min, hi=max)
