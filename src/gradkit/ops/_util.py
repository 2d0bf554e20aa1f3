"""Helpers shared by the ops: broadcasting gradients back, dims, operand coercion."""

import numpy as np

from gradkit.tensor import Tensor


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: the gradient of NumPy broadcasting.

    Broadcasting prepends size-1 dims and stretches size-1 dims; the adjoint sums over both."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and grad.shape[extra + i] != 1
    )
    out = grad.sum(axis=axes, keepdims=True) if axes else grad
    return out.reshape(shape)


def normalize_dim(dim, ndim, op):
    """A dim (or tuple of dims, or None for all) as a sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if ndim == 0:  # a 0-d tensor accepts dim 0 or -1 and has no axis to reduce
        ndim_ok = all(d in (0, -1) for d in dims)
        if not ndim_ok:
            raise IndexError(f"{op}: dim {dims} is out of range for a 0-d tensor")
        return ()
    out = []
    for d in dims:
        if not -ndim <= d < ndim:
            raise IndexError(
                f"{op}: dim {d} is out of range for a tensor with {ndim} dims "
                f"(allowed: {-ndim} to {ndim - 1})"
            )
        out.append(d % ndim)
    return tuple(sorted(set(out)))


def dim_kwargs(dim, keepdim, kwargs, op):
    """Accept NumPy's ``axis``/``keepdims`` as aliases of PyTorch's ``dim``/``keepdim``."""
    if "axis" in kwargs:
        dim = kwargs.pop("axis")
    if "keepdims" in kwargs:
        keepdim = kwargs.pop("keepdims")
    if kwargs:
        raise TypeError(f"{op}() got unexpected keyword arguments {sorted(kwargs)}")
    return dim, keepdim


def _float_default(t):
    """Integer and bool tensors take part in float math as float32 (PyTorch's promotion)."""
    return t if t._data.dtype.kind == "f" else Tensor._make(t._data.astype(np.float32), None)


def as_operand(x, op):
    """A Tensor stays; NumPy scalars become Python scalars (so float32 stays float32); arrays
    and lists become constant tensors."""
    if isinstance(x, np.generic):  # before the float check: np.float64 subclasses float
        return x.item()
    if isinstance(x, (Tensor, bool, int, float)):
        return x
    if isinstance(x, (np.ndarray, list, tuple)):
        return Tensor(x)
    raise TypeError(f"{op}: unsupported operand of type {type(x).__name__}")


def _promote(a, b, op):
    """Two tensors of different dtypes: refuse float32 with float64, else cast to the float."""
    da, db = a._data.dtype, b._data.dtype
    if da.kind == "f" and db.kind == "f":
        raise TypeError(
            f"{op}: dtype mismatch, {da} and {db}; gradkit never mixes float precisions "
            "silently: convert one side with .float() or .double()"
        )
    if da.kind == "f":
        return a, Tensor._make(b._data.astype(da), None)
    if db.kind == "f":
        return Tensor._make(a._data.astype(db), None), b
    return a, b


def binary_operands(a, b, op):
    """Coerce the two operands of a binary op to a common dtype, or explain why not.

    Two float tensors must share a dtype (float32 with float64 is refused so a float32 graph
    never computes in float64); an integer or bool tensor meeting a float is promoted to it;
    a Python float meeting an integer tensor promotes that tensor to float32."""
    if isinstance(a, Tensor):  # the common cases first: this runs once per binary op
        if isinstance(b, Tensor):
            return (a, b) if a._data.dtype == b._data.dtype else _promote(a, b, op)
        if type(b) is float:
            return (a, b) if a._data.dtype.kind == "f" else (_float_default(a), b)
        if type(b) is int:
            return a, b
    a, b = as_operand(a, op), as_operand(b, op)
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return (a, b) if a._data.dtype == b._data.dtype else _promote(a, b, op)
    if isinstance(a, float) and isinstance(b, Tensor):
        b = _float_default(b)
    elif isinstance(b, float) and isinstance(a, Tensor):
        a = _float_default(a)
    return a, b
