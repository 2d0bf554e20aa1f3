"""Rounding, signs and integer division: floor, ceil, trunc, round, sign, fmod, remainder
(``%``), floor_divide (``//``) and ``div(rounding_mode=...)``.

Integers stay integers. The piecewise-constant ops (floor, ceil, trunc, round, sign, rounded
division) have a zero gradient, as in PyTorch; floor_divide records nothing (PyTorch has no
derivative for it); fmod and remainder differentiate as a − q·b.

    import gradkit as gk
    a = gk.tensor([5, -5])
    a // 3, a % 3, gk.fmod(a, 3)            # [1, -2], [2, 1], [2, -2]
    gk.div(a, 3, rounding_mode="trunc")     # [1, -1]
"""

import numpy as np

from gradkit.autograd.function import Function
from gradkit.errors import ArgumentError
from gradkit.ops._util import binary_operands, unbroadcast
from gradkit.tensor import Tensor


class ZeroGrad(Function):
    """out = f(x) for a piecewise-constant f (floor, ceil, trunc, round, sign);  dx = 0."""

    def forward(self, x, f):
        return f(x)

    def backward(self, g):
        return np.zeros_like(g)


class RoundedDiv(Function):
    """out = q(a / b) for a rounding q (trunc, or floor as Python's //);  da = db = 0."""

    def forward(self, a, b, f):
        self.shapes = np.shape(a), np.shape(b)
        return f(a, b)

    def backward(self, g):
        return tuple(np.zeros(s, g.dtype) if n else None
                     for s, n in zip(self.shapes, self.needs_input_grad))


class _Modulo(Function):
    """out = a − q(a/b)·b for a rounding q;  da = g,  db = −g · q(a/b)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.f(a, b)

    def backward(self, g):
        na, nb = self.needs_input_grad
        with np.errstate(divide="ignore", invalid="ignore"):
            q = self.q(self.a / self.b)
        return (unbroadcast(g, np.shape(self.a)) if na else None,
                unbroadcast(-g * q, np.shape(self.b)) if nb else None)


class Fmod(_Modulo):
    """out = a − trunc(a/b)·b (the C remainder: the sign of a);  da = g,  db = −g·trunc(a/b)."""
    f, q = staticmethod(np.fmod), staticmethod(np.trunc)


class Remainder(_Modulo):
    """out = a − floor(a/b)·b (Python's %: the sign of b);  da = g,  db = −g·floor(a/b)."""
    f, q = staticmethod(np.remainder), staticmethod(np.floor)


# ----- the functions the Tensor methods and gk.* call -----

def _rounding(f, name):
    def op(x):
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")
        if x.dtype.kind != "f":  # an integer is its own floor, ceil, trunc and round
            return Tensor._make(x._data.copy(), None)
        return ZeroGrad.apply(x, f=f)

    op.__name__ = name
    op.__doc__ = f"out = {name}(x) elementwise; zero gradient; integers are returned as they are."
    return op


floor, ceil = _rounding(np.floor, "floor"), _rounding(np.ceil, "ceil")
trunc = _rounding(np.trunc, "trunc")
fix = trunc


def round(x, decimals=0):
    """Round half to even (as PyTorch and NumPy), to ``decimals`` places; zero gradient."""
    return _rounding(lambda a: np.round(a, decimals), "round")(x)


def sign(x):
    """−1, 0 or 1 by the sign of x (a bool stays bool); zero gradient."""
    if not isinstance(x, Tensor):
        raise TypeError(f"sign: expected a Tensor, got {type(x).__name__}")
    if x.dtype.kind == "b":
        return Tensor._make(x._data.copy(), None)
    if x.dtype.kind != "f":
        return Tensor._make(np.sign(x._data), None)
    return ZeroGrad.apply(x, f=np.sign)


def fmod(input, other):
    """The C remainder a − trunc(a/b)·b, with the sign of a (integers stay integers)."""
    return Fmod.apply(*binary_operands(input, other, "fmod"))


def remainder(input, other):
    """Python's a % b = a − floor(a/b)·b, with the sign of b (integers stay integers)."""
    return Remainder.apply(*binary_operands(input, other, "remainder"))


def floor_divide(input, other):
    """floor(a / b) as Python's //, outside the graph (PyTorch has no gradient for it)."""
    a, b = binary_operands(input, other, "floor_divide")
    a = a._data if isinstance(a, Tensor) else a
    b = b._data if isinstance(b, Tensor) else b
    return Tensor._make(np.asarray(np.floor_divide(a, b)), None)


def rounded_div(a, b, rounding_mode):
    """a / b rounded toward zero ("trunc") or down ("floor"); integers stay integers; zero
    gradient for floats (PyTorch's div(rounding_mode=...))."""
    if rounding_mode == "floor":
        x, y = binary_operands(a, b, "div")
        return RoundedDiv.apply(x, y, f=np.floor_divide)
    if rounding_mode == "trunc":
        x, y = binary_operands(a, b, "div")
        xa = x._data if isinstance(x, Tensor) else x
        ya = y._data if isinstance(y, Tensor) else y
        if np.result_type(xa, ya).kind == "f":
            return RoundedDiv.apply(x, y, f=lambda p, q: np.trunc(p / q))
        q = np.floor_divide(xa, ya)
        inexact = (np.remainder(xa, ya) != 0) & ((xa < 0) != (ya < 0))
        return Tensor._make(np.asarray(q + inexact.astype(q.dtype)), None)
    raise ArgumentError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                        f"but found {rounding_mode!r}")


