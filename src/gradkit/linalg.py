"""gradkit.linalg (torch.linalg): vector_norm, matrix_norm and norm, which picks one of them;
cross (the cross product along the last dim).

A vector norm over ``dim`` (an int, a tuple; None or ``()`` for every element), with
p = ``ord``:  2: √Σ x²;  1: Σ |x|;  inf: max |x|;  -inf: min |x|;  0: the count of non-zeros;
other p: (Σ |x|^p)^(1/p), negative p included. A matrix norm over the two dims ``dim``:
'fro': √Σ a²;  'nuc': Σ σ (singular values);  2 / -2: σ_max / σ_min;  1 / -1: max / min
column sum of |a|;  inf / -inf: max / min row sum of |a|. Inputs must be floating point;
``dtype=`` casts first (widening only). Gradients follow PyTorch where the norm has a kink:
0 for a 2-norm or p-norm that is 0 (not NaN), shared evenly among ties of an inf-norm.

    import gradkit as gk
    x = gk.tensor([[3.0, -4.0], [0.0, 1.0]], requires_grad=True)
    gk.linalg.vector_norm(x, dim=1)      # tensor([5., 1.])
    gk.linalg.matrix_norm(x, "nuc")      # σ₁ + σ₂
"""

import numpy as np

from gradkit.autograd.function import Function
from gradkit.errors import ArgumentError, ShapeError
from gradkit.ops import products as _products
from gradkit.ops.arithmetic import cast
from gradkit.ops.stats import amax, amin

__all__ = ["norm", "vector_norm", "matrix_norm", "cross"]

INF = float("inf")


class VectorNorm(Function):
    """out = ‖x‖_p over axes (see the module docstring);  with s = sign(x) and g, out kept:

    p = 0: dx = 0;  p = 1: dx = g·s;  p = 2: dx = g·x / out;  p = ±inf: dx = g·s / k at the
    k elements with |x| = out;  p < 1: dx = g·s·|x|^(p−1)·out^(1−p) (0 where x = 0);
    other p: dx = g·s·|x|^(p−1) / out^(p−1).  Where out = 0 (p ≥ 1) dx is 0."""

    def forward(self, x, ord, axes, keepdim):
        self.x, self.ord, self.axes, self.keepdim = x, ord, axes, keepdim
        a = np.abs(x)
        with np.errstate(divide="ignore"):
            if ord == INF or ord == -INF:
                out = (np.max if ord > 0 else np.min)(a, axis=axes, keepdims=True)
            elif ord == 0:
                out = np.count_nonzero(x, axis=axes, keepdims=True).astype(x.dtype)
            elif ord == 1:
                out = a.sum(axis=axes, keepdims=True)
            elif ord == 2:
                out = np.sqrt((x * x).sum(axis=axes, keepdims=True))
            else:
                out = (a ** ord).sum(axis=axes, keepdims=True) ** (1.0 / ord)
        self.out = out
        return out if keepdim else np.squeeze(out, axis=axes)

    def backward(self, g):
        x, p, out, axes = self.x, self.ord, self.out, self.axes
        if not self.keepdim and axes:
            g = np.expand_dims(g, axes)
        zero = np.zeros((), g.dtype)
        if p == 0:
            return np.zeros(x.shape, g.dtype)
        if p == 1:
            return g * np.sign(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == 2:
                return np.where(out == 0, zero, g * x / out)
            a = np.abs(x)
            if p == INF or p == -INF:
                hit = (a == out) | np.isnan(a)
                ties = np.count_nonzero(hit, axis=axes, keepdims=True).astype(g.dtype)
                return np.where(hit, np.sign(x) * (g / ties), zero)
            scaled = np.sign(x) * a ** (p - 1.0)
            if p < 1:
                return np.where(x == 0, zero, scaled) * g * out ** (1.0 - p)
            return scaled * np.where(out == 0, zero, g / out ** (p - 1.0))


class SingularNorm(Function):
    """out = Σ σ ('nuc'), σ_max (2) or σ_min (-2) of each matrix in the last two dims, from
    A = U diag(σ) Vᵀ;  dA = g·U Vᵀ ('nuc'), g·u₁v₁ᵀ (σ_max), g·uₖvₖᵀ (σ_min)."""

    def forward(self, a, kind):
        self.kind = kind
        self.u, s, self.vh = np.linalg.svd(a, full_matrices=False)
        if kind == "nuc":
            return s.sum(axis=-1)
        return s[..., 0] if kind == "max" else s[..., -1]

    def backward(self, g):
        u, vh = self.u, self.vh
        if self.kind != "nuc":
            k = slice(0, 1) if self.kind == "max" else slice(-1, None)
            u, vh = u[..., :, k], vh[..., k, :]
        return g[..., None, None] * (u @ vh)


def _float_input(x, dtype, op):
    """x as the float tensor a norm reduces: checked, and cast to ``dtype`` when given."""
    if x._data.dtype.kind != "f":
        raise ArgumentError(f"{op}: Expected a floating point tensor as input. Got {x.dtype}")
    if dtype is None:
        return x
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ArgumentError(f"{op}: dtype should be floating point, but got {dtype}")
    if dtype.itemsize < x._data.dtype.itemsize:
        raise ArgumentError(f"{op}: the dtype of the input ({x.dtype}) should be convertible "
                            f"without narrowing to the specified dtype ({dtype})")
    return cast(x, dtype)


def _axes(dim, ndim, op):
    """dim (an int or a sequence of ints) as non-negative axes, in the order given."""
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    size = max(ndim, 1)  # a 0-d tensor takes dim 0 or -1, as PyTorch
    for d in dims:
        if not -size <= d < size:
            raise IndexError(f"{op}: Dimension out of range (expected to be in range of "
                             f"[{-size}, {size - 1}], but got {d})")
    axes = tuple(d % size for d in dims)
    if len(set(axes)) != len(axes):
        raise ArgumentError(f"{op}: dim {dims} names a dim more than once")
    return axes if ndim else ()


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """‖x‖_ord over ``dim`` (every element when None or ``()``), as torch.linalg.vector_norm."""
    op = "linalg.vector_norm"
    if isinstance(ord, str) or not isinstance(ord, (int, float, np.number)):
        raise TypeError(f"{op}(): argument 'ord' must be a number, not {type(ord).__name__}")
    ord = ord.item() if isinstance(ord, np.generic) else ord  # a NumPy float64 would upcast
    x = _float_input(x, dtype, op)
    axes = (None if dim is None else _axes(dim, x.ndim, op)) or tuple(range(x.ndim))  # () = all
    if ord < 0 or ord == INF:
        empty = [a for a in axes if x.shape[a] == 0]
        if empty:
            raise ArgumentError(f"{op} cannot compute the {ord} norm on an empty tensor "
                                f"(shape {x.shape}, dim {dim}) because the operation does not "
                                f"have an identity")
    return VectorNorm.apply(x, ord=ord, axes=axes, keepdim=keepdim)


_MATRIX_ORDS = ("fro", "nuc", 1, -1, 2, -2, INF, -INF)


def _matrix_axes(x, ord, dim, op):
    if x.ndim < 2:
        raise ShapeError(f"{op}: The input tensor A must have at least 2 dimensions, got shape "
                         f"{x.shape}")
    if isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}(): dim must be a tuple of two ints, got {dim!r}")
    if len(dim) != 2:
        raise ArgumentError(f"{op}: dim must be a 2-tuple. Got {tuple(dim)}")
    rows, cols = _axes(dim, x.ndim, op)
    if ord not in _MATRIX_ORDS:
        raise ArgumentError(f"{op}: Order {ord} not supported; expected one of {_MATRIX_ORDS}")
    return rows, cols


def _kept_shape(shape, rows, cols, keepdim):
    if keepdim:
        return tuple(1 if i in (rows, cols) else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in (rows, cols))


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The ``ord`` norm of the matrices in the two dims ``dim``, as torch.linalg.matrix_norm."""
    op = "linalg.matrix_norm"
    rows, cols = _matrix_axes(A, ord, dim, op)
    A = _float_input(A, dtype, op)
    shape = _kept_shape(A.shape, rows, cols, keepdim)
    if ord == "fro":
        return vector_norm(A, 2, (rows, cols), keepdim)
    if ord in ("nuc", 2, -2):
        if A.shape[rows] == 0 or A.shape[cols] == 0:
            if ord == -2:
                raise IndexError(f"{op}: the -2 norm (smallest singular value) of an empty "
                                 f"matrix has no value, got shape {A.shape}")
            return vector_norm(A, 2, (rows, cols), keepdim)  # 0: an empty matrix has no σ
        batch = [d for d in range(A.ndim) if d not in (rows, cols)]
        kind = "nuc" if ord == "nuc" else ("max" if ord == 2 else "min")
        return SingularNorm.apply(A.permute(*batch, rows, cols), kind=kind).reshape(shape)
    if ord in (INF, -INF):  # the inf-norm is the 1-norm of the transposed matrix
        rows, cols = cols, rows
    sums = vector_norm(A, 1, rows, keepdim=True)  # Σ |a| down each column (rows for inf)
    if sums.shape[cols] == 0:
        if ord < 0:
            raise IndexError(f"{op}: the {ord} norm of an empty matrix has no value (a min "
                             f"over no elements), got shape {A.shape}")
        return vector_norm(A, 2, (rows, cols), keepdim)  # 0, the max over no column sums
    return (amax if ord > 0 else amin)(sums, cols, keepdim=True).reshape(shape)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """torch.linalg.norm: a vector norm over one dim, a matrix norm over two. With ``dim`` None
    and ``ord`` None, the 2-norm of every element; with ``ord`` given, ``A`` must be 1-D or 2-D.
    A string ``ord`` ('fro', 'nuc') is always a matrix norm."""
    op = "linalg.norm"
    dims = None if dim is None else ((dim,) if isinstance(dim, (int, np.integer)) else tuple(dim))
    if dims is not None and len(dims) not in (1, 2):
        raise ArgumentError(f"{op}: If dim is specified, it must be of length 1 or 2. Got "
                            f"{list(dims)}")
    if isinstance(ord, str):
        return matrix_norm(A, ord, (0, 1) if dims is None else dims, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, dims, keepdim, dtype=dtype)
    if dims is None:
        if A.ndim not in (1, 2):
            raise ShapeError(f"{op}: If dim is not specified but ord is, the input must be 1D "
                             f"or 2D. Got {A.ndim}D.")
        dims = tuple(range(A.ndim))
    if len(dims) == 2:
        return matrix_norm(A, ord, dims, keepdim, dtype=dtype)
    return vector_norm(A, ord, dims, keepdim, dtype=dtype)


def cross(input, other, *, dim=-1):
    """torch.linalg.cross: the cross product a × b of 3-vectors along ``dim`` (default the
    last, where gk.cross keeps torch.cross's deprecated first-dim-of-size-3 default)."""
    return _products.cross(input, other, dim)
