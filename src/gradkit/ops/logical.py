"""Tests, logical and bitwise ops: isnan, isinf, isfinite, isclose, allclose, nan_to_num,
logical_and/or/xor/not, and the bitwise ``& | ^ ~ << >>`` of integer and bool tensors.

All return tensors outside the graph (bool, or the integer dtype), except nan_to_num, which
passes the gradient where x is finite: dx = g·[x finite].

    import gradkit as gk
    x = gk.tensor([1.0, float("nan"), float("inf")])
    gk.isfinite(x), gk.nan_to_num(x)            # [True, False, False], [1, 0, 3.4028e+38]
    gk.tensor([6, 3]) & gk.tensor([3, 1])        # [2, 1]
"""

import numpy as np

from gradkit.autograd.function import Function
from gradkit.ops._util import as_operand
from gradkit.tensor import Tensor


def _array(x, op):
    x = as_operand(x, op)
    return x._data if isinstance(x, Tensor) else x


def _test(ufunc, name):
    def op(input):
        return Tensor._make(np.asarray(ufunc(_array(input, name))), None)

    op.__name__ = name
    op.__doc__ = f"Elementwise {name}; a bool tensor outside the graph."
    return op


isnan, isinf, isfinite = _test(np.isnan, "isnan"), _test(np.isinf, "isinf"), _test(
    np.isfinite, "isfinite")
isposinf, isneginf = _test(np.isposinf, "isposinf"), _test(np.isneginf, "isneginf")


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input − other| ≤ atol + rtol·|other| elementwise (NaN equals NaN with equal_nan)."""
    a, b = _array(input, "isclose"), _array(other, "isclose")
    return Tensor._make(np.asarray(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)),
                        None)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when isclose holds everywhere (a Python bool, as in PyTorch)."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


class NanToNum(Function):
    """out = x with NaN → nan, +∞ → posinf, −∞ → neginf (defaults: 0 and the dtype's largest
    and smallest finite numbers);  dx = g · [x finite]."""

    def forward(self, x, nan, posinf, neginf):
        self.finite = np.isfinite(x)
        return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    def backward(self, g):
        return g * self.finite


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    if input.dtype.kind != "f":
        return Tensor._make(input._data.copy(), None)
    return NanToNum.apply(input, nan=nan, posinf=posinf, neginf=neginf)


def _logical(ufunc, name):
    def op(input, other):
        a = _array(input, name)
        b = _array(other, name)
        return Tensor._make(np.asarray(ufunc(np.asarray(a) != 0, np.asarray(b) != 0)), None)

    op.__name__ = name
    op.__doc__ = f"Elementwise {name} of the truth values (nonzero is True); a bool tensor."
    return op


logical_and, logical_or = _logical(np.logical_and, "logical_and"), _logical(np.logical_or,
                                                                             "logical_or")
logical_xor = _logical(np.logical_xor, "logical_xor")


def logical_not(input):
    """Elementwise not of the truth values (nonzero is True); a bool tensor."""
    return Tensor._make(np.asarray(_array(input, "logical_not") == 0), None)


def _integral(x, op):
    a = _array(x, op)
    kind = np.asarray(a).dtype.kind
    if kind not in "iub":
        raise TypeError(f"{op}: bitwise ops take integer or bool tensors, got dtype "
                        f"{np.asarray(a).dtype}; convert with .long() or .bool() first")
    return a


def _scalar_like(x, tensor):
    """A Python scalar takes the tensor's dtype (an int meeting a bool tensor: int64)."""
    if isinstance(x, np.ndarray) or not isinstance(tensor, np.ndarray):
        return x
    bool_meets_int = tensor.dtype.kind == "b" and not isinstance(x, bool)
    return np.asarray(x, np.int64 if bool_meets_int else tensor.dtype)


def _bitwise(ufunc, name):
    def op(input, other):
        a, b = _integral(input, name), _integral(other, name)
        a, b = _scalar_like(a, b), _scalar_like(b, a)
        return Tensor._make(np.asarray(ufunc(a, b)), None)

    op.__name__ = name
    op.__doc__ = f"Elementwise {name} of integer or bool tensors (a scalar takes the tensor's " \
                 "dtype); outside the graph."
    return op


bitwise_and, bitwise_or = _bitwise(np.bitwise_and, "bitwise_and"), _bitwise(np.bitwise_or,
                                                                             "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor")
bitwise_left_shift = _bitwise(np.left_shift, "bitwise_left_shift")
bitwise_right_shift = _bitwise(np.right_shift, "bitwise_right_shift")


def bitwise_not(input):
    """~x: the bits flipped for integers, logical not for bool; outside the graph."""
    return Tensor._make(np.invert(_integral(input, "bitwise_not")), None)
