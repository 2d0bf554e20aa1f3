"""Elementwise math beyond ops/elementwise.py, and the small numeric helpers of torch.*:
xlogy, sinc, logit, fmax/fmin, logaddexp2, the shrink functions (Functions with their
derivatives); deg2rad, ldexp, float_power, addcdiv/addcmul, dist, renorm, diff, trapezoid,
vander and gradient (from ops/numeric_gradient.py) are compositions of differentiable ops, so
their gradients come with them; heaviside, gcd, lcm, signbit, frexp, nextafter have none.

Integer and bool inputs of the float functions are computed as float32 (PyTorch's promotion);
float_power computes in float64 whatever the input, as PyTorch does.

    import gradkit as gk
    x = gk.tensor([0.0, 0.5, 2.0], requires_grad=True)
    y = gk.xlogy(x, x + 1) + gk.sinc(x)
    y.sum().backward()
"""

import collections
import math

import numpy as np

from gradkit.autograd.function import Function
from gradkit.errors import ArgumentError, ShapeError
from gradkit.linalg import vector_norm
from gradkit.ops._util import _float_default, binary_operands, normalize_dim, unbroadcast
from gradkit.ops.arithmetic import add, cast, mul, sub, where
from gradkit.ops.elementwise import _float_pair, _floating, exp2
from gradkit.ops.numeric_gradient import gradient
from gradkit.ops.scan import cumprod, cumsum
from gradkit.ops.shape import cat, expand, unsqueeze
from gradkit.ops.unary import tanh
from gradkit.tensor import Tensor

__all__ = ["xlogy", "sinc", "deg2rad", "rad2deg", "logit", "heaviside", "gcd", "lcm", "fmax",
           "fmin", "float_power", "frexp", "nextafter", "signbit", "ldexp", "logaddexp2",
           "addcdiv", "addcmul", "dist", "renorm", "hardshrink", "diff", "trapezoid", "trapz",
           "cumulative_trapezoid", "vander", "gradient"]


class XLogY(Function):
    """out = x·ln y, 0 where x = 0 (unless y is NaN);  dx = g·ln y (0 where g = 0, or where
    x = 0 and y ≤ 0: PyTorch's rule),  dy = g·x / y."""

    def forward(self, x, y):
        self.x, self.y = x, y
        with np.errstate(divide="ignore", invalid="ignore"):
            out = x * np.log(y)
        return np.where((x == 0) & ~np.isnan(y), 0.0, out).astype(out.dtype, copy=False)

    def backward(self, g):
        x, y = self.x, self.y
        nx, ny = self.needs_input_grad
        with np.errstate(divide="ignore", invalid="ignore"):
            zero = (g == 0) | (x == 0) & (y <= 0)
            gx = unbroadcast(np.where(zero, 0.0, g * np.log(y)).astype(g.dtype, copy=False),
                             np.shape(x)) if nx else None
            gy = unbroadcast(g * x / y, np.shape(y)) if ny else None
        return gx, gy


class Sinc(Function):
    """out = sin(πx)/(πx), 1 at x = 0;  dx = g·(cos(πx) − out)/x, 0 at x = 0."""

    def forward(self, x):
        self.x = x
        self.out = np.sinc(x)
        return self.out

    def backward(self, g):
        x = self.x
        with np.errstate(divide="ignore", invalid="ignore"):
            d = (np.cos(math.pi * x) - self.out) / x
        return g * np.where(x == 0, 0.0, d).astype(g.dtype, copy=False)


class Logit(Function):
    """z = clamp(x, eps, 1 − eps) (no clamp when eps is None), out = ln(z/(1 − z));
    dx = g / (z(1 − z)), 0 where the clamp cut x."""

    def forward(self, x, eps):
        z = x if eps is None else np.clip(x, eps, 1.0 - eps)
        self.x, self.z, self.eps = x, z, eps
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(z / (1.0 - z))

    def backward(self, g):
        x, z, eps = self.x, self.z, self.eps
        with np.errstate(divide="ignore", invalid="ignore"):
            d = g / (z * (1.0 - z))
        if eps is not None:
            d = np.where((x < eps) | (x > 1.0 - eps), 0.0, d).astype(g.dtype, copy=False)
        return d


class FMax(Function):
    """out = max(a, b), the other one where one is NaN;  da = g where a ≥ b or b is NaN,
    db = g elsewhere (ties go to a, as in PyTorch)."""
    pick = staticmethod(np.fmax)
    ahead = staticmethod(np.greater_equal)

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.pick(a, b)

    def backward(self, g):
        a, b = self.a, self.b
        to_a = self.ahead(a, b) | np.isnan(b)
        na, nb = self.needs_input_grad
        zero = np.zeros((), g.dtype)
        return (unbroadcast(np.where(to_a, g, zero), np.shape(a)) if na else None,
                unbroadcast(np.where(to_a, zero, g), np.shape(b)) if nb else None)


class FMin(FMax):
    """out = min(a, b), the other one where one is NaN;  da = g where a ≤ b or b is NaN,
    db = g elsewhere."""
    pick = staticmethod(np.fmin)
    ahead = staticmethod(np.less_equal)


class LogAddExp2(Function):
    """out = log₂(2ᵃ + 2ᵇ);  da = g·2^(a−out),  db = g·2^(b−out)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = np.logaddexp2(a, b)
        return self.out

    def backward(self, g):
        na, nb = self.needs_input_grad
        return (unbroadcast(g * np.exp2(self.a - self.out), np.shape(self.a)) if na else None,
                unbroadcast(g * np.exp2(self.b - self.out), np.shape(self.b)) if nb else None)


class HardShrink(Function):
    """out = x where |x| > λ, else 0;  dx = g·[|x| > λ]."""

    def forward(self, x, lambd):
        self.keep = np.abs(x) > lambd
        return np.where(self.keep, x, 0.0).astype(x.dtype, copy=False)

    def backward(self, g):
        return np.where(self.keep, g, 0.0).astype(g.dtype, copy=False)


# ----- elementwise functions -----

def xlogy(input, other):
    """input·ln(other), 0 where input = 0; either may be a number."""
    return XLogY.apply(*_float_pair(input, other, "xlogy"))


def sinc(input):
    """The normalised sinc, sin(πx)/(πx)."""
    return Sinc.apply(_floating(input, "sinc"))


def deg2rad(input):
    """input·π/180."""
    return mul(_floating(input, "deg2rad"), math.pi / 180.0)


def rad2deg(input):
    """input·180/π."""
    return mul(_floating(input, "rad2deg"), 180.0 / math.pi)


def logit(input, eps=None):
    """ln(x/(1 − x)), x first clamped to [eps, 1 − eps] when eps is given."""
    return Logit.apply(_floating(input, "logit"), eps=None if eps is None else float(eps))


def _no_grad_pair(input, other, fn, op):
    """fn on the two operands' arrays, a tensor with no gradient (PyTorch has none)."""
    a, b = binary_operands(input, other, op)
    arrays = [x._data if isinstance(x, Tensor) else x for x in (a, b)]
    return Tensor._make(np.asarray(fn(*arrays)), None)


def heaviside(input, values):
    """0 where input < 0, ``values`` where input = 0, 1 where input > 0 (no gradient)."""
    if not isinstance(values, Tensor) or values.dtype != input.dtype:
        raise TypeError(f"heaviside: values must be a tensor of the input's dtype "
                        f"{input.dtype}, got {getattr(values, 'dtype', type(values).__name__)}")
    return _no_grad_pair(input, values, lambda x, v: np.heaviside(x, v).astype(x.dtype),
                         "heaviside")


def _integers(fn, op):
    def f(input, other):
        for t in (input, other):
            if isinstance(t, Tensor) and t.dtype.kind not in "iu":
                raise RuntimeError(f"{op}: expected integer tensors, got dtype {t.dtype}")
        return _no_grad_pair(input, other, fn, op)

    f.__name__ = op
    f.__doc__ = f"The elementwise {op} of two integer tensors (np.{op}), no gradient."
    return f


gcd, lcm = _integers(np.gcd, "gcd"), _integers(np.lcm, "lcm")


frexp_result = collections.namedtuple("frexp", ["mantissa", "exponent"])


def frexp(input):
    """(mantissa, exponent) with input = mantissa·2^exponent, 0.5 ≤ |mantissa| < 1 (0 for 0);
    exponent int32. No gradient."""
    if input.dtype.kind != "f":
        raise RuntimeError(f"torch.frexp() only supports floating-point dtypes, got "
                           f"{input.dtype}")
    mantissa, exponent = np.frexp(input._data)
    return frexp_result(Tensor._make(mantissa, None),
                        Tensor._make(exponent.astype(np.int32), None))


def nextafter(input, other):
    """The next float after input in the direction of other (no gradient)."""
    return _no_grad_pair(input, other, np.nextafter, "nextafter")


def signbit(input):
    """True where the sign bit is set (−0.0 included)."""
    return Tensor._make(np.signbit(input._data), None)


def fmax(input, other): return FMax.apply(*binary_operands(input, other, "fmax"))
def fmin(input, other): return FMin.apply(*binary_operands(input, other, "fmin"))


def logaddexp2(input, other):
    return LogAddExp2.apply(*_float_pair(input, other, "logaddexp2"))


def float_power(input, exponent):
    """input ** exponent computed in float64 (the result is float64; a float32 input's
    gradient comes back in float32)."""
    if not (isinstance(input, Tensor) or isinstance(exponent, Tensor)):
        raise TypeError("float_power: expected at least one Tensor")
    base = cast(input, np.float64) if isinstance(input, Tensor) else float(input)
    power = cast(exponent, np.float64) if isinstance(exponent, Tensor) else float(exponent)
    return base ** power


def ldexp(input, other):
    """input · 2^other."""
    if not isinstance(other, Tensor):
        raise TypeError(f"ldexp(): argument 'other' must be Tensor, not {type(other).__name__}")
    x = _float_default(input)
    if other.dtype.kind != "f":
        return mul(x, Tensor._make(np.exp2(other._data).astype(x.dtype), None))
    return mul(x, exp2(other))


def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value·tensor1·tensor2."""
    return add(input, mul(mul(tensor1, tensor2), value) if value != 1 else tensor1 * tensor2)


def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value·tensor1/tensor2 (integer tensor1 and tensor2 raise, as in PyTorch)."""
    if tensor1.dtype.kind != "f" and tensor2.dtype.kind != "f":
        raise RuntimeError("addcdiv: integer division with addcdiv is no longer supported; "
                           "divide with gk.div(tensor1, tensor2, rounding_mode=...) instead")
    return add(input, mul(tensor1 / tensor2, value) if value != 1 else tensor1 / tensor2)


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0."""
    return HardShrink.apply(input, lambd=float(lambd))


def softshrink(input, lambd=0.5):
    """x − λ where x > λ, x + λ where x < −λ, else 0 (for F/nn: not a torch.* name)."""
    if lambd < 0:
        raise ArgumentError(f"softshrink: lambda must be greater or equal to 0, got {lambd}")
    return sub(input, input.clamp(-lambd, lambd))


def tanhshrink(input):
    """x − tanh x (for F/nn: not a torch.* name)."""
    return sub(input, tanh(input))


# ----- norms -----

def dist(input, other, p=2):
    """The p-norm of input − other (broadcast), a 0-d tensor."""
    return vector_norm(sub(input, other), p)


def renorm(input, p, dim, maxnorm):
    """Each slice along ``dim`` whose p-norm exceeds maxnorm scaled down to norm maxnorm:
    out = x · min(1, maxnorm / (‖x_slice‖ₚ + 1e-7)), differentiable through the norm."""
    if p <= 0:
        raise ArgumentError(f"renorm: non-positive norm not supported, got p={p}")
    if maxnorm < 0:
        raise ArgumentError(f"renorm: expected maxnorm to be >= 0, got {maxnorm}")
    axis = normalize_dim(dim, input.ndim, "renorm")
    others = tuple(i for i in range(input.ndim) if i not in axis)
    norm = vector_norm(input, p, others, keepdim=True)
    scale = where(norm > maxnorm, maxnorm / (norm + 1e-7), Tensor._make(
        np.ones((), input.dtype), None))
    return mul(input, scale)


# ----- differences and integrals along a dim -----

def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along dim, out[i] = x[i+1] − x[i] (logical xor for bool),
    after joining prepend and append to the input along dim."""
    if input.ndim == 0:
        raise ShapeError("diff: expected at least one-dimensional input")
    if n < 0:
        raise ArgumentError(f"diff: order must be non-negative but got {n}")
    axis = normalize_dim(dim, input.ndim, "diff")[0]
    parts = [t for t in (prepend, input, append) if t is not None]
    x = cat(parts, axis) if len(parts) > 1 else input
    head = (slice(None),) * axis
    for _ in range(n):
        if x.dtype == np.bool_:
            x = x[head + (slice(1, None),)].logical_xor(x[head + (slice(None, -1),)])
        else:
            x = sub(x[head + (slice(1, None),)], x[head + (slice(None, -1),)])
    return x


def _trapezoids(y, x, dx, dim, op):
    """The areas of the trapezoids between neighbours along dim."""
    if x is not None and dx is not None:
        raise ArgumentError(f"{op}: give x or dx, not both")
    axis = normalize_dim(dim, y.ndim, op)[0]
    head = (slice(None),) * axis
    pairs = add(y[head + (slice(1, None),)], y[head + (slice(None, -1),)])
    if x is None:
        return mul(pairs, 0.5 * (1.0 if dx is None else float(dx))), axis
    if x.ndim == 1:
        if x.shape[0] != y.shape[axis]:
            raise ShapeError(f"{op}: there must be one x value for each sample point, got "
                             f"{x.shape[0]} x values for {y.shape[axis]} points")
        step = diff(x).reshape(-1, *([1] * (y.ndim - axis - 1)))
    else:
        step = diff(x, dim=axis - y.ndim if x.ndim == y.ndim else dim)
    return mul(mul(pairs, step), 0.5), axis


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """∫ y along dim by the trapezoid rule, with sample points x (or a spacing dx, 1 by
    default)."""
    areas, axis = _trapezoids(y, x, dx, dim, "trapezoid")
    return areas.sum(axis)


def trapz(y, x=None, *, dx=None, dim=-1):
    """The old name of trapezoid."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoid-rule integral along dim (one element fewer)."""
    areas, axis = _trapezoids(y, x, dx, dim, "cumulative_trapezoid")
    return cumsum(areas, axis)


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of a 1-D x: columns x^(N−1), …, x, 1 (reversed if increasing),
    built with cumprod so the gradient is right at x = 0."""
    if x.ndim != 1:
        raise ShapeError(f"vander: x must be a one-dimensional tensor, got {x.ndim} dims")
    N = x.shape[0] if N is None else N
    if N < 0:
        raise ArgumentError(f"vander: N must be non-negative, got {N}")
    if x.dtype == np.bool_:
        x = cast(x, np.int64)
    ones = Tensor._make(np.ones((x.shape[0], min(N, 1)), x.dtype), None)
    columns = cat([ones, expand(unsqueeze(x, 1), x.shape[0], max(N - 1, 0))], 1)
    out = cumprod(columns, 1)
    return out if increasing else out.flip(1)
