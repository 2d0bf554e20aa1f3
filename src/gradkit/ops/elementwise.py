"""Elementwise math beyond the basics: trigonometric, hyperbolic, exp/log variants, erf,
and the binary float ops (atan2, hypot, copysign, logaddexp, lerp). Rounding and modulo ops
are in ops/rounding.py.

Each class docstring is the formula and its derivative. Integer and bool inputs are computed
as float32 (PyTorch's promotion).

    import gradkit as gk
    x = gk.tensor([0.5, 1.0], requires_grad=True)
    y = gk.atan2(x.sin(), x.cos()) + x.log1p()
    y.sum().backward()          # x.grad = 1 + 1/(1 + x)
"""

import math

import numpy as np
from scipy import special

from gradkit.autograd.function import Function
from gradkit.ops._util import _float_default, binary_operands, unbroadcast
from gradkit.tensor import Tensor

_LN2, _LN10 = math.log(2.0), math.log(10.0)
_SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2.0


class _Unary(Function):
    """Base of the one-input ops below: keeps x and out for the derivative."""

    def forward(self, x):
        self.x = x
        self.out = self.f(x)
        return self.out


class Sin(_Unary):
    """out = sin x;  dx = g · cos x."""
    f = staticmethod(np.sin)
    def backward(self, g): return g * np.cos(self.x)


class Cos(_Unary):
    """out = cos x;  dx = −g · sin x."""
    f = staticmethod(np.cos)
    def backward(self, g): return -g * np.sin(self.x)


class Tan(_Unary):
    """out = tan x;  dx = g · (1 + out²)."""
    f = staticmethod(np.tan)
    def backward(self, g): return g * (1.0 + self.out * self.out)


class Asin(_Unary):
    """out = asin x;  dx = g / √(1 − x²)."""
    f = staticmethod(np.arcsin)
    def backward(self, g): return g / np.sqrt(1.0 - self.x * self.x)


class Acos(_Unary):
    """out = acos x;  dx = −g / √(1 − x²)."""
    f = staticmethod(np.arccos)
    def backward(self, g): return -g / np.sqrt(1.0 - self.x * self.x)


class Atan(_Unary):
    """out = atan x;  dx = g / (1 + x²)."""
    f = staticmethod(np.arctan)
    def backward(self, g): return g / (1.0 + self.x * self.x)


class Sinh(_Unary):
    """out = sinh x;  dx = g · cosh x."""
    f = staticmethod(np.sinh)
    def backward(self, g): return g * np.cosh(self.x)


class Cosh(_Unary):
    """out = cosh x;  dx = g · sinh x."""
    f = staticmethod(np.cosh)
    def backward(self, g): return g * np.sinh(self.x)


class Asinh(_Unary):
    """out = asinh x;  dx = g / √(x² + 1)."""
    f = staticmethod(np.arcsinh)
    def backward(self, g): return g / np.sqrt(self.x * self.x + 1.0)


class Acosh(_Unary):
    """out = acosh x;  dx = g / √(x² − 1)."""
    f = staticmethod(np.arccosh)
    def backward(self, g): return g / np.sqrt(self.x * self.x - 1.0)


class Atanh(_Unary):
    """out = atanh x;  dx = g / (1 − x²)."""
    f = staticmethod(np.arctanh)
    def backward(self, g): return g / (1.0 - self.x * self.x)


class Exp2(_Unary):
    """out = 2ˣ;  dx = g · out · ln 2."""
    f = staticmethod(np.exp2)
    def backward(self, g): return g * self.out * _LN2


class Expm1(_Unary):
    """out = eˣ − 1;  dx = g · (out + 1)."""
    f = staticmethod(np.expm1)
    def backward(self, g): return g * (self.out + 1.0)


class Log2(_Unary):
    """out = log₂ x;  dx = g / (x · ln 2)."""
    f = staticmethod(np.log2)
    def backward(self, g): return g / (self.x * _LN2)


class Log10(_Unary):
    """out = log₁₀ x;  dx = g / (x · ln 10)."""
    f = staticmethod(np.log10)
    def backward(self, g): return g / (self.x * _LN10)


class Log1p(_Unary):
    """out = ln(1 + x);  dx = g / (1 + x)."""
    f = staticmethod(np.log1p)
    def backward(self, g): return g / (1.0 + self.x)


class Rsqrt(_Unary):
    """out = 1/√x;  dx = −½ g · out³."""
    @staticmethod
    def f(x): return 1.0 / np.sqrt(x)
    def backward(self, g): return -0.5 * g * self.out ** 3


class Reciprocal(_Unary):
    """out = 1/x;  dx = −g · out²."""
    @staticmethod
    def f(x): return 1.0 / x
    def backward(self, g): return -g * self.out * self.out


class Erf(_Unary):
    """out = erf x = (2/√π) ∫₀ˣ e^(−t²) dt;  dx = g · (2/√π) e^(−x²)."""
    @staticmethod
    def f(x): return special.erf(x).astype(x.dtype, copy=False)
    def backward(self, g): return g * np.exp(-self.x * self.x) / _SQRT_PI_OVER_2


class Erfinv(_Unary):
    """out = erf⁻¹ x;  dx = g · (√π/2) e^(out²)."""
    @staticmethod
    def f(x): return special.erfinv(x).astype(x.dtype, copy=False)
    def backward(self, g): return g * _SQRT_PI_OVER_2 * np.exp(self.out * self.out)


class Frac(_Unary):
    """out = x − trunc(x);  dx = g."""
    @staticmethod
    def f(x): return x - np.trunc(x)
    def backward(self, g): return g


class Atan2(Function):
    """out = atan2(a, b), the angle of (b, a);  da = g·b/(a² + b²),  db = −g·a/(a² + b²)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return np.arctan2(a, b)

    def backward(self, g):
        a, b = self.a, self.b
        r2 = a * a + b * b
        na, nb = self.needs_input_grad
        return (unbroadcast(g * b / r2, np.shape(a)) if na else None,
                unbroadcast(-g * a / r2, np.shape(b)) if nb else None)


class Hypot(Function):
    """out = √(a² + b²);  da = g·a/out,  db = g·b/out."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = np.hypot(a, b)
        return self.out

    def backward(self, g):
        na, nb = self.needs_input_grad
        return (unbroadcast(g * self.a / self.out, np.shape(self.a)) if na else None,
                unbroadcast(g * self.b / self.out, np.shape(self.b)) if nb else None)


class Copysign(Function):
    """out = |a| with the sign of b;  da = g · out/a (0 where a = 0),  db = 0."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = np.copysign(a, b)
        return self.out

    def backward(self, g):
        a = self.a
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(a == 0, 0.0, self.out / a).astype(g.dtype, copy=False)
        na, nb = self.needs_input_grad
        return (unbroadcast(g * ratio, np.shape(a)) if na else None,
                np.zeros(np.shape(self.b), g.dtype) if nb else None)


class LogAddExp(Function):
    """out = ln(eᵃ + eᵇ), computed without overflow;  da = g·e^(a−out),  db = g·e^(b−out)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = np.logaddexp(a, b)
        return self.out

    def backward(self, g):
        na, nb = self.needs_input_grad
        return (unbroadcast(g * np.exp(self.a - self.out), np.shape(self.a)) if na else None,
                unbroadcast(g * np.exp(self.b - self.out), np.shape(self.b)) if nb else None)


class Lerp(Function):
    """out = a + w·(b − a);  da = g·(1 − w),  db = g·w,  dw = g·(b − a)."""

    def forward(self, a, b, w):
        self.a, self.b, self.w = a, b, w
        return a + w * (b - a)

    def backward(self, g):
        a, b, w = self.a, self.b, self.w
        na, nb, nw = self.needs_input_grad
        return (unbroadcast(g * (1.0 - w), np.shape(a)) if na else None,
                unbroadcast(g * w, np.shape(b)) if nb else None,
                unbroadcast(g * (b - a), np.shape(w)) if nw else None)


# ----- the functions the Tensor methods and gk.* call -----

def _floating(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}; wrap it with "
                        "gk.tensor(...)")
    return _float_default(x)


def _unary(cls, name):
    def op(x):
        return cls.apply(_floating(x, name))

    op.__name__ = name
    op.__doc__ = cls.__doc__
    return op


sin, cos, tan = _unary(Sin, "sin"), _unary(Cos, "cos"), _unary(Tan, "tan")
asin, acos, atan = _unary(Asin, "asin"), _unary(Acos, "acos"), _unary(Atan, "atan")
sinh, cosh = _unary(Sinh, "sinh"), _unary(Cosh, "cosh")
asinh, acosh, atanh = _unary(Asinh, "asinh"), _unary(Acosh, "acosh"), _unary(Atanh, "atanh")
exp2, expm1 = _unary(Exp2, "exp2"), _unary(Expm1, "expm1")
log2, log10, log1p = _unary(Log2, "log2"), _unary(Log10, "log10"), _unary(Log1p, "log1p")
rsqrt, reciprocal = _unary(Rsqrt, "rsqrt"), _unary(Reciprocal, "reciprocal")
erf, erfinv, frac = _unary(Erf, "erf"), _unary(Erfinv, "erfinv"), _unary(Frac, "frac")
arcsin, arccos, arctan = asin, acos, atan
arcsinh, arccosh, arctanh = asinh, acosh, atanh


def square(x):
    """out = x²;  dx = 2g·x (an integer stays an integer)."""
    return x * x


def _float_pair(a, b, op):
    a, b = binary_operands(a, b, op)
    if not (isinstance(a, Tensor) or isinstance(b, Tensor)):
        raise TypeError(f"{op}: expected at least one Tensor, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    a = _float_default(a) if isinstance(a, Tensor) else float(a)
    b = _float_default(b) if isinstance(b, Tensor) else float(b)
    return a, b


def atan2(input, other): return Atan2.apply(*_float_pair(input, other, "atan2"))
def hypot(input, other): return Hypot.apply(*_float_pair(input, other, "hypot"))
def copysign(input, other): return Copysign.apply(*_float_pair(input, other, "copysign"))
def logaddexp(input, other): return LogAddExp.apply(*_float_pair(input, other, "logaddexp"))


arctan2 = atan2


def lerp(input, end, weight):
    """out = input + weight·(end − input); ``weight`` a number or a tensor."""
    a, b = binary_operands(input, end, "lerp")
    if isinstance(weight, Tensor) and weight.dtype != a.dtype:
        raise TypeError(f"lerp: weight has dtype {weight.dtype} but input has {a.dtype}; "
                        "convert it with .to(input.dtype)")
    return Lerp.apply(a, b, weight if isinstance(weight, Tensor) else float(weight))
