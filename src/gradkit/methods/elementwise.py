"""Tensor methods for the elementwise ops (gradkit/ops/unary.py, elementwise.py, rounding.py,
logical.py).

A mixin of :class:`gradkit.Tensor` (``__slots__ = ()``, no state): each method forwards to the
op of the same name in gradkit.ops, so ``x.sin()`` and ``gk.sin(x)`` are one code path. The ops
import Tensor, so they are reached through the ``gradkit`` package at call time.
"""

import gradkit


class ElementwiseMethods:
    __slots__ = ()

    def neg(self): return gradkit.ops.neg(self)
    def exp(self): return gradkit.ops.exp(self)
    def log(self): return gradkit.ops.log(self)
    def sqrt(self): return gradkit.ops.sqrt(self)
    def abs(self): return gradkit.ops.abs(self)
    def tanh(self): return gradkit.ops.tanh(self)
    def sigmoid(self): return gradkit.ops.sigmoid(self)
    def relu(self): return gradkit.ops.relu(self)
    def clamp(self, min=None, max=None): return gradkit.ops.clamp(self, min, max)
    clip = clamp
    def maximum(self, other): return gradkit.ops.maximum(self, other)
    def minimum(self, other): return gradkit.ops.minimum(self, other)
    def div(self, other, rounding_mode=None): return gradkit.ops.div(self, other, rounding_mode)
    divide = true_divide = div
    def sin(self): return gradkit.ops.sin(self)
    def cos(self): return gradkit.ops.cos(self)
    def tan(self): return gradkit.ops.tan(self)
    def asin(self): return gradkit.ops.asin(self)
    def acos(self): return gradkit.ops.acos(self)
    def atan(self): return gradkit.ops.atan(self)
    def atan2(self, other): return gradkit.ops.atan2(self, other)
    def sinh(self): return gradkit.ops.sinh(self)
    def cosh(self): return gradkit.ops.cosh(self)
    def asinh(self): return gradkit.ops.asinh(self)
    def acosh(self): return gradkit.ops.acosh(self)
    def atanh(self): return gradkit.ops.atanh(self)
    arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
    arcsinh, arccosh, arctanh = asinh, acosh, atanh
    def exp2(self): return gradkit.ops.exp2(self)
    def expm1(self): return gradkit.ops.expm1(self)
    def log2(self): return gradkit.ops.log2(self)
    def log10(self): return gradkit.ops.log10(self)
    def log1p(self): return gradkit.ops.log1p(self)
    def rsqrt(self): return gradkit.ops.rsqrt(self)
    def erf(self): return gradkit.ops.erf(self)
    def erfinv(self): return gradkit.ops.erfinv(self)
    def sign(self): return gradkit.ops.sign(self)
    def copysign(self, other): return gradkit.ops.copysign(self, other)
    def trunc(self): return gradkit.ops.trunc(self)
    fix = trunc
    def floor(self): return gradkit.ops.floor(self)
    def ceil(self): return gradkit.ops.ceil(self)
    def round(self, decimals=0): return gradkit.ops.round(self, decimals)
    def frac(self): return gradkit.ops.frac(self)
    def fmod(self, other): return gradkit.ops.fmod(self, other)
    def remainder(self, other): return gradkit.ops.remainder(self, other)
    def floor_divide(self, other): return gradkit.ops.floor_divide(self, other)
    def logaddexp(self, other): return gradkit.ops.logaddexp(self, other)
    def lerp(self, end, weight): return gradkit.ops.lerp(self, end, weight)
    def reciprocal(self): return gradkit.ops.reciprocal(self)
    def square(self): return gradkit.ops.square(self)
    def hypot(self, other): return gradkit.ops.hypot(self, other)
    def isnan(self): return gradkit.ops.isnan(self)
    def isinf(self): return gradkit.ops.isinf(self)
    def isposinf(self): return gradkit.ops.isposinf(self)
    def isneginf(self): return gradkit.ops.isneginf(self)
    def isfinite(self): return gradkit.ops.isfinite(self)
    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return gradkit.ops.isclose(self, other, rtol, atol, equal_nan)
    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return gradkit.ops.allclose(self, other, rtol, atol, equal_nan)
    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        return gradkit.ops.nan_to_num(self, nan, posinf, neginf)
    def logical_and(self, other): return gradkit.ops.logical_and(self, other)
    def logical_or(self, other): return gradkit.ops.logical_or(self, other)
    def logical_xor(self, other): return gradkit.ops.logical_xor(self, other)
    def logical_not(self): return gradkit.ops.logical_not(self)
    def bitwise_and(self, other): return gradkit.ops.bitwise_and(self, other)
    def bitwise_or(self, other): return gradkit.ops.bitwise_or(self, other)
    def bitwise_xor(self, other): return gradkit.ops.bitwise_xor(self, other)
    def bitwise_not(self): return gradkit.ops.bitwise_not(self)
    def bitwise_left_shift(self, other): return gradkit.ops.bitwise_left_shift(self, other)
    def bitwise_right_shift(self, other): return gradkit.ops.bitwise_right_shift(self, other)
