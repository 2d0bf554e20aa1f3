"""Elementwise arithmetic with broadcasting, matmul, casts and comparisons.

Every binary op accepts Tensors, Python scalars (on either side) and arrays; gradients of
broadcast operands are summed back to the operand's shape by ``unbroadcast``.
"""

import numpy as np

from gradkit.autograd.function import Function
from gradkit.errors import ShapeError
from gradkit.ops import parallel
from gradkit.ops._util import as_operand, binary_operands, unbroadcast
from gradkit.ops.rounding import rounded_div
from gradkit.ops.scratch import recycled
from gradkit.tensor import Tensor


def _shape(x):
    return x.shape if type(x) is np.ndarray else np.shape(x)


def sum_of(a, b):
    """a + b. Two arrays of one shape and dtype (a residual connection, or two contributions
    to one gradient: megabytes every step) are added into a recycled buffer, in slices on the
    op threads when large (fresh memory there page-faulted ~1,000 times a ResNet-20 step);
    anything else is NumPy's a + b."""
    if type(a) is np.ndarray and type(b) is np.ndarray and a.shape == b.shape \
            and a.dtype == b.dtype:
        out = recycled.empty(a.shape, a.dtype)
        parallel.elementwise(lambda part: np.add(a[part], b[part], out=out[part]), out)
        return out
    return a + b


class Add(Function):
    """out = a + b;  da = g,  db = g."""

    saves_inputs = False  # backward reads the shapes only

    def forward(self, a, b):
        self.shapes = _shape(a), _shape(b)
        return sum_of(a, b)

    def backward(self, g):
        (sa, sb), (na, nb) = self.shapes, self.needs_input_grad
        return unbroadcast(g, sa) if na else None, unbroadcast(g, sb) if nb else None


class Sub(Function):
    """out = a - b;  da = g,  db = -g."""

    saves_inputs = False  # backward reads the shapes only

    def forward(self, a, b):
        self.shapes = _shape(a), _shape(b)
        return a - b

    def backward(self, g):
        (sa, sb), (na, nb) = self.shapes, self.needs_input_grad
        return unbroadcast(g, sa) if na else None, unbroadcast(-g, sb) if nb else None


class Mul(Function):
    """out = a * b;  da = g * b,  db = g * a."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        a, b = self.a, self.b
        na, nb = self.needs_input_grad
        return (unbroadcast(g * b, _shape(a)) if na else None,
                unbroadcast(g * a, _shape(b)) if nb else None)


class Div(Function):
    """out = a / b;  da = g / b,  db = -g * a / b²."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, g):
        a, b = self.a, self.b
        na, nb = self.needs_input_grad
        return (unbroadcast(g / b, _shape(a)) if na else None,
                unbroadcast(-g * a / (b * b), _shape(b)) if nb else None)


class Pow(Function):
    """out = a ** b;  da = g * b * a^(b-1) (0 where b = 0, so 0**0 gives 0 as in PyTorch),
    db = g * out * ln(a)  (0 where a = 0 and b >= 0)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = np.power(a, b)
        return self.out

    def backward(self, g):
        a, b, out = self.a, self.b, self.out
        na, nb = self.needs_input_grad
        da = db = None
        if na:
            if isinstance(b, (int, float)):
                da = np.zeros_like(a) if b == 0 else g * b * np.power(a, b - 1)
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    da = np.where(b == 0, 0.0, g * b * np.power(a, b - 1)).astype(g.dtype)
                da = unbroadcast(da, _shape(a))
        if nb:
            with np.errstate(divide="ignore", invalid="ignore"):
                log_a = np.where((a == 0) & (b >= 0), 0, np.log(a)).astype(out.dtype)
            db = unbroadcast(g * out * log_a, _shape(b))
        return da, db


class Neg(Function):
    """out = -a;  da = -g."""

    def forward(self, a):
        return -a

    def backward(self, g):
        return -g


class MatMul(Function):
    """out = a @ b (1-D, 2-D or batched);  da = g @ bᵀ,  db = aᵀ @ g (batch dims summed back).

    A 1-D ``a`` acts as a row (1, n) and a 1-D ``b`` as a column (n, 1), as in NumPy."""

    def forward(self, a, b):
        self.a, self.b = a, b
        if a.ndim == 2 and b.ndim == 2:
            return parallel.matmul(a, b)  # large ones in row blocks on the op threads
        return a @ b

    def backward(self, g):
        a, b = self.a, self.b
        na, nb = self.needs_input_grad
        if a.ndim == 2 and b.ndim == 2:
            return (parallel.matmul(g, b.T) if na else None,
                    parallel.matmul(a.T, g) if nb else None)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = np.expand_dims(g, -1) if b.ndim == 1 else g
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        da = db = None
        if na:
            da = unbroadcast(g2 @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
        if nb:
            db = unbroadcast(np.swapaxes(a2, -1, -2) @ g2, b2.shape).reshape(b.shape)
        return da, db


class Cast(Function):
    """out = a as another float dtype;  da = g cast back."""

    def forward(self, a, dtype):
        self.in_dtype = a.dtype
        return a.astype(dtype)

    def backward(self, g):
        return g.astype(self.in_dtype)


class Clone(Function):
    """out = a copy of a;  da = g."""

    def forward(self, a):
        return a.copy()

    def backward(self, g):
        return g


class Maximum(Function):
    """out = max(a, b) elementwise; the gradient goes to the larger input, half each on ties."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return np.maximum(a, b)

    def backward(self, g):
        return _split_by_winner(g, self.a, self.b, self.a > self.b, self.needs_input_grad)


class Minimum(Function):
    """out = min(a, b) elementwise; the gradient goes to the smaller input, half each on ties."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return np.minimum(a, b)

    def backward(self, g):
        return _split_by_winner(g, self.a, self.b, self.a < self.b, self.needs_input_grad)


def _split_by_winner(g, a, b, a_wins, needs):
    tie = a == b
    share = np.where(tie, g * 0.5, g)
    zero = np.zeros((), g.dtype)
    da = unbroadcast(np.where(a_wins | tie, share, zero), _shape(a)) if needs[0] else None
    db = unbroadcast(np.where(a_wins & ~tie, zero, share), _shape(b)) if needs[1] else None
    return da, db


class Where(Function):
    """out = a where cond else b;  da = g·cond,  db = g·(1 − cond)."""

    def forward(self, cond, a, b):
        self.cond, self.shapes = cond, (_shape(a), _shape(b))
        return np.where(cond, a, b)

    def backward(self, g):
        _, na, nb = self.needs_input_grad
        zero = np.zeros((), g.dtype)
        return (None,
                unbroadcast(np.where(self.cond, g, zero), self.shapes[0]) if na else None,
                unbroadcast(np.where(self.cond, zero, g), self.shapes[1]) if nb else None)


# ----- the functions the Tensor methods and gk.* call -----

def add(a, b):
    a, b = binary_operands(a, b, "add")
    return Add.apply(a, b)


def sub(a, b):
    a, b = binary_operands(a, b, "sub")
    return Sub.apply(a, b)


def mul(a, b):
    a, b = binary_operands(a, b, "mul")
    return Mul.apply(a, b)


def div(a, b, rounding_mode=None):
    """True division; integer tensors are divided as float32 (as in PyTorch).
    ``rounding_mode`` "trunc" or "floor" rounds the quotient (see ops/rounding.py)."""
    if rounding_mode is not None:
        return rounded_div(a, b, rounding_mode)
    a, b = binary_operands(a, b, "div")
    a = a.float() if isinstance(a, Tensor) and a.dtype.kind in "iub" else a
    b = b.float() if isinstance(b, Tensor) and b.dtype.kind in "iub" else b
    return Div.apply(a, b)


def pow(a, b):
    a, b = binary_operands(a, b, "pow")
    return Pow.apply(a, b)


def neg(a):
    return Neg.apply(a)


def matmul(a, b):
    a, b = binary_operands(a, b, "matmul")
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
        raise TypeError("matmul: both operands must be tensors or arrays, not scalars")
    sa, sb = a.shape, b.shape
    if a.ndim == 0 or b.ndim == 0 or sa[-1] != sb[-2 if b.ndim > 1 else 0]:
        raise ShapeError(
            f"matmul: shapes {sa} and {sb} do not fit: the last dim of the left operand "
            "must equal the second-to-last (or only) dim of the right one"
        )
    return MatMul.apply(a, b)


def cast(a, dtype):
    """a as ``dtype``; differentiable between float dtypes, a plain conversion otherwise."""
    dtype = np.dtype(dtype)
    if a.dtype == dtype:
        return a
    if dtype.kind == "f" and a.dtype.kind == "f":
        return Cast.apply(a, dtype=dtype)
    return Tensor._make(a._data.astype(dtype), None)


def clone(a):
    return Clone.apply(a)


def maximum(a, b):
    a, b = binary_operands(a, b, "maximum")
    return Maximum.apply(a, b)


def minimum(a, b):
    a, b = binary_operands(a, b, "minimum")
    return Minimum.apply(a, b)


def where(condition, a, b):
    """Elements of ``a`` where ``condition`` holds, else of ``b`` (gk.where(cond, x, y))."""
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    a, b = binary_operands(a, b, "where")
    return Where.apply(cond.astype(bool, copy=False), a, b)


def _compare(ufunc):
    def compare(a, b):
        a, b = as_operand(a, ufunc.__name__), as_operand(b, ufunc.__name__)
        a = a._data if isinstance(a, Tensor) else a
        b = b._data if isinstance(b, Tensor) else b
        return Tensor._make(np.asarray(ufunc(a, b)), None)

    compare.__name__ = ufunc.__name__
    compare.__doc__ = f"Elementwise {ufunc.__name__}; a bool tensor outside the graph."
    return compare


eq, ne = _compare(np.equal), _compare(np.not_equal)
lt, le = _compare(np.less), _compare(np.less_equal)
gt, ge = _compare(np.greater), _compare(np.greater_equal)
