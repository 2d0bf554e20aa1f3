"""Products (torch.*): einsum, tensordot, outer/ger, inner, vdot, kron, the matrix products
mm, bmm, mv and their fused forms addmm, addmv, addr, baddbmm, addbmm, and cross and cdist.

Most are built from einsum (ops/einsum.py) or matmul, so they share one backward. The fused
forms compute ``beta·input + alpha·product`` as PyTorch does: with ``beta == 0`` the input is
ignored (its nan and inf do not reach the output), and it gets no gradient: its ``.grad``
stays None where PyTorch's is zeros. Shapes follow PyTorch; a mismatch raises ShapeError
naming the op and both shapes.

    a, b = gk.randn(2, 3, 4), gk.randn(2, 4, 5)
    gk.bmm(a, b).shape                       # (2, 3, 5)
    gk.einsum('bij,bjk->bik', a, b)          # the same product
    gk.tensordot(a, b, dims=([0, 2], [0, 1])).shape   # (3, 5)
"""

import operator
import string
import warnings

import numpy as np

from gradkit.autograd.function import Function
from gradkit.errors import ArgumentError, ShapeError
from gradkit.ops._util import unbroadcast
from gradkit.ops.arithmetic import matmul, mul
from gradkit.ops.einsum import einsum
from gradkit.tensor import Tensor

__all__ = ["addbmm", "addmm", "addmv", "addr", "baddbmm", "bmm", "cdist", "cross", "einsum",
           "ger", "inner", "kron", "mm", "mv", "outer", "tensordot", "vdot"]


def _need_dims(op, tensors, ndims, expected):
    """Raise ShapeError unless each tensor has the number of dims given for it."""
    if any(t.ndim != n for t, n in zip(tensors, ndims)):
        got = " and ".join(str(t.shape) for t in tensors)
        raise ShapeError(f"{op}: expected {expected}, got {got}")


def _fuse(op, input, product, beta, alpha):
    """beta·input + alpha·product; input ignored when beta is 0 (PyTorch's rule)."""
    try:
        fits = np.broadcast_shapes(input.shape, product.shape) == product.shape
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"{op}: input of shape {input.shape} does not broadcast to the "
                         f"product's shape {product.shape}")
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        return product
    return (input if beta == 1 else input * beta) + product


def _check_mm(op, a, b):
    _need_dims(op, (a, b), (2, 2), "(n, m) and (m, p)")
    if a.shape[1] != b.shape[0]:
        raise ShapeError(f"{op}: expected (n, m) and (m, p), got {a.shape} and {b.shape}")


def _check_bmm(op, a, b):
    _need_dims(op, (a, b), (3, 3), "(b, n, m) and (b, m, p)")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise ShapeError(f"{op}: expected (b, n, m) and (b, m, p), got {a.shape} and {b.shape}")


def _check_mv(op, a, v):
    _need_dims(op, (a, v), (2, 1), "(n, m) and (m,)")
    if a.shape[1] != v.shape[0]:
        raise ShapeError(f"{op}: expected (n, m) and (m,), got {a.shape} and {v.shape}")


def mm(input, mat2):
    """Matrix product of (n, m) and (m, p): (n, p). No broadcasting, as in PyTorch."""
    _check_mm("mm", input, mat2)
    return matmul(input, mat2)


def bmm(input, mat2):
    """Batched matrix product of (b, n, m) and (b, m, p): (b, n, p). No broadcasting."""
    _check_bmm("bmm", input, mat2)
    return matmul(input, mat2)


def mv(input, vec):
    """Matrix-vector product of (n, m) and (m,): (n,)."""
    _check_mv("mv", input, vec)
    return matmul(input, vec)


def outer(input, vec2):
    """Outer product of (n,) and (m,): out[i, j] = input[i]·vec2[j], (n, m)."""
    _need_dims("outer", (input, vec2), (1, 1), "1-D tensors (n,) and (m,)")
    return einsum("i,j->ij", input, vec2)


ger = outer


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta·input + alpha·(mat1 @ mat2); input broadcasts to (n, p)."""
    _check_mm("addmm", mat1, mat2)
    return _fuse("addmm", input, matmul(mat1, mat2), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta·input + alpha·(mat @ vec); input broadcasts to (n,)."""
    _check_mv("addmv", mat, vec)
    return _fuse("addmv", input, matmul(mat, vec), beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """beta·input + alpha·outer(vec1, vec2); input broadcasts to (n, m)."""
    return _fuse("addr", input, outer(vec1, vec2), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta·input + alpha·bmm(batch1, batch2); input broadcasts to (b, n, p)."""
    _check_bmm("baddbmm", batch1, batch2)
    return _fuse("baddbmm", input, matmul(batch1, batch2), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta·input + alpha·Σ_b batch1[b] @ batch2[b]; input broadcasts to (n, p)."""
    _check_bmm("addbmm", batch1, batch2)
    return _fuse("addbmm", input, einsum("bij,bjk->ik", batch1, batch2), beta, alpha)


def _tensordot_dims(a, b, dims):
    """The contracted dims of a and of b, as two lists of non-negative ints."""
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (list, tuple)):
        if len(dims) != 2 or not all(isinstance(d, (list, tuple)) for d in dims):
            raise TypeError(f"tensordot: dims must be an int or two lists of dims, got {dims!r}")
        dims_a, dims_b = [list(d) for d in dims]
    else:
        n = operator.index(dims)
        if n < 0:
            raise ArgumentError(f"tensordot expects dims >= 0, but got dims={n}")
        if n > min(a.ndim, b.ndim):
            raise ArgumentError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={n}")
        dims_a, dims_b = list(range(a.ndim - n, a.ndim)), list(range(n))
    if len(dims_a) != len(dims_b):
        raise ArgumentError(f"tensordot: both dim lists should have the same length, got "
                            f"{dims_a} and {dims_b}")
    for t, ds in ((a, dims_a), (b, dims_b)):
        for d in ds:
            if not -t.ndim <= d < t.ndim:
                raise IndexError(f"tensordot: dim {d} is out of range for shape {t.shape}")
    return [d % a.ndim for d in dims_a], [d % b.ndim for d in dims_b]


def tensordot(a, b, dims=2):
    """Σ over the paired dims of a and b: ``dims=n`` pairs a's last n dims with b's first n;
    ``dims=([1, 0], [0, 2])`` pairs them by list. Output: a's free dims then b's."""
    dims_a, dims_b = _tensordot_dims(a, b, dims)
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] != b.shape[db]:
            raise ShapeError(f"tensordot: contracted dimensions need to match, but first has "
                             f"size {a.shape[da]} in dim {da} and second has size "
                             f"{b.shape[db]} in dim {db} (shapes {a.shape} and {b.shape})")
    letters = iter(string.ascii_letters)
    sub_a = [next(letters) for _ in range(a.ndim)]
    sub_b = [next(letters) for _ in range(b.ndim)]
    for da, db in zip(dims_a, dims_b):
        sub_b[db] = sub_a[da]
    out = [c for i, c in enumerate(sub_a) if i not in dims_a]
    out += [c for i, c in enumerate(sub_b) if i not in dims_b]
    return einsum(f"{''.join(sub_a)},{''.join(sub_b)}->{''.join(out)}", a, b)


def inner(input, other):
    """Σ over the last dims: out[..., ...] = Σ_k input[..., k]·other[..., k]; a 0-d operand
    multiplies."""
    if input.ndim == 0 or other.ndim == 0:
        return mul(input, other)
    if input.shape[-1] != other.shape[-1]:
        raise ShapeError(f"inner: the last dims must match, got {input.shape} and "
                         f"{other.shape}")
    return tensordot(input, other, dims=([-1], [-1]))


def vdot(input, other):
    """Σ_i conj(a_i)·b_i of two 1-D tensors; gradkit's tensors are real, so this is dot."""
    _need_dims("vdot", (input, other), (1, 1), "1-D tensors of one length")
    if input.shape != other.shape:
        raise ShapeError(f"vdot: expected 1-D tensors of one length, got {input.shape} and "
                         f"{other.shape}")
    return einsum("i,i->", input, other)


def kron(input, other):
    """Kronecker product: out[i·m + k, ...] = input[i, ...]·other[k, ...], shape the product of
    the shapes (the one with fewer dims gets leading 1s)."""
    nd = max(input.ndim, other.ndim)
    sa = (1,) * (nd - input.ndim) + input.shape
    sb = (1,) * (nd - other.ndim) + other.shape
    a = input.reshape([n for s in sa for n in (s, 1)])
    b = other.reshape([n for s in sb for n in (1, s)])
    return (a * b).reshape([m * n for m, n in zip(sa, sb)])


class Cross(Function):
    """out = a × b along dim;  da = b × g,  db = g × a (broadcast dims summed back)."""

    def forward(self, a, b, dim):
        self.a, self.b, self.dim = a, b, dim
        return np.cross(a, b, axis=dim)

    def backward(self, g):
        a, b, dim = self.a, self.b, self.dim
        da = unbroadcast(np.cross(b, g, axis=dim), a.shape) if self.needs_input_grad[0] else None
        db = unbroadcast(np.cross(g, a, axis=dim), b.shape) if self.needs_input_grad[1] else None
        return da, db


def cross(input, other, dim=None):
    """The cross product of 3-vectors along ``dim``; the shapes broadcast but must have the
    same number of dims. ``dim=None`` is torch.cross's deprecated default: the first dim of
    size 3, with PyTorch's warning (torch.linalg.cross uses dim=-1 instead)."""
    if input.ndim != other.ndim:
        raise ShapeError(f"cross: inputs must have the same number of dimensions, got "
                         f"{input.shape} and {other.shape}")
    try:
        shape = np.broadcast_shapes(input.shape, other.shape)
    except ValueError:
        raise ShapeError(f"cross: shapes {input.shape} and {other.shape} do not "
                         f"broadcast") from None
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated. Please "
                      "either pass the dim explicitly or simply use torch.linalg.cross.",
                      UserWarning, stacklevel=2)
        if 3 not in shape:
            raise ShapeError(f"cross: no dimension of size 3 in input, got {input.shape} and "
                             f"{other.shape}")
        dim = shape.index(3)
    if not -len(shape) <= dim < len(shape):
        raise IndexError(f"cross: dim {dim} is out of range for shape {shape}")
    dim %= len(shape)
    if input.shape[dim] != 3 or other.shape[dim] != 3:
        raise ShapeError(f"cross: inputs dimension {dim} must have length 3, got "
                         f"{input.shape} and {other.shape}")
    return Cross.apply(input, other, dim=dim)


class Cdist(Function):
    """out[..., i, j] = ‖x1[..., i, :] − x2[..., j, :]‖_p with d = x1ᵢ − x2ⱼ:

    p = 0: #(d ≠ 0), no gradient;  p = 1: Σ|d|, dx1 = Σⱼ g·sign d;
    p = 2: √Σd², dx1 = Σⱼ g·d / out;  p = ∞: max|d|, dx1 = Σⱼ g·sign d·[|d| = out];
    other p: (Σ|d|ᵖ)^(1/p), dx1 = Σⱼ g·sign d·|d|^(p−1) / out^(p−1);
    dx2 = −Σᵢ of the same. As PyTorch: the gradient is 0 where out = 0 (and, for p < 1,
    where d = 0), not the nan of the plain chain rule."""

    def forward(self, x1, x2, p):
        self.shapes, self.p = (x1.shape, x2.shape), p
        self.d = x1[..., :, None, :] - x2[..., None, :, :]
        a = np.abs(self.d)
        if p == 0:
            out = (a != 0).sum(axis=-1).astype(x1.dtype)
        elif p == 1:
            out = a.sum(axis=-1)
        elif p == 2:
            out = np.sqrt((a * a).sum(axis=-1))
        elif p == np.inf:
            out = a.max(axis=-1, initial=0.0)
        else:
            out = (a ** p).sum(axis=-1) ** (1.0 / p)
        self.out = out
        return out

    def backward(self, g):
        d, p, out = self.d, self.p, self.out[..., None]
        if p == 0:
            return np.zeros(self.shapes[0], g.dtype), np.zeros(self.shapes[1], g.dtype)
        zero = np.zeros((), g.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == 1:
                local = np.sign(d)
            elif p == 2:
                local = np.where(out == 0, zero, d / out)
            elif p == np.inf:
                local = np.sign(d) * (np.abs(d) == out)
            else:
                local = np.sign(d) * np.abs(d) ** (p - 1) / out ** (p - 1)
                local = np.where((out == 0) | ((d == 0) & (p < 1)), zero, local)
        gd = g[..., None] * local
        dx1 = unbroadcast(gd.sum(axis=-2), self.shapes[0]) if self.needs_input_grad[0] else None
        dx2 = unbroadcast(-gd.sum(axis=-3), self.shapes[1]) if self.needs_input_grad[1] else None
        return dx1, dx2


_CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                "donot_use_mm_for_euclid_dist")


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """p-norm distances between the rows of x1 (..., P, M) and x2 (..., R, M): (..., P, R),
    batch dims broadcast. Differs from PyTorch on purpose: every ``compute_mode`` computes
    the differences directly, as PyTorch's ``donot_use_mm_for_euclid_dist`` (PyTorch's
    matrix-product shortcut for p = 2 and more than 25 rows loses precision near zero
    distance), at the memory cost of the (..., P, R, M) differences."""
    for name, t in (("X1", x1), ("X2", x2)):
        if t.ndim < 2:
            raise ShapeError(f"cdist only supports at least 2D tensors, {name} got: {t.ndim}D")
        if t.dtype.kind != "f":
            raise ArgumentError(f"cdist only supports floating-point dtypes, {name} got: "
                                f"{t.dtype}")
    if x1.shape[-1] != x2.shape[-1]:
        raise ShapeError(f"cdist: X1 and X2 must have the same number of columns. X1: "
                         f"{x1.shape[-1]} X2: {x2.shape[-1]} (shapes {x1.shape} and "
                         f"{x2.shape})")
    if compute_mode not in _CDIST_MODES:
        raise ArgumentError(f"cdist: compute_mode must be one of {_CDIST_MODES}, got "
                            f"{compute_mode!r}")
    if not p >= 0:
        raise ArgumentError(f"cdist only supports non-negative p values, got {p}")
    try:
        np.broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    except ValueError:
        raise ShapeError(f"cdist: the batch dims of {x1.shape} and {x2.shape} do not "
                         f"broadcast") from None
    return Cdist.apply(x1, x2, p=float(p))
