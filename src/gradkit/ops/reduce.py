"""Reductions (sum, mean, var, std, max, min, arg-max/min, logsumexp, norm, dot) and softmax.

Each takes ``dim`` (an int, a tuple, or None for all; alias ``axis``) and ``keepdim``
(alias ``keepdims``). The backward of a reduction re-inserts the reduced dims as size 1 and
broadcasts the gradient back over them. ``sum`` of an integer or bool tensor is int64 and
``dtype=`` casts first; ``mean`` wants a float tensor (or a float ``dtype=``), as PyTorch.
``norm`` (torch.norm) forwards to gradkit.linalg; ``dot`` is a matmul of two vectors.
"""

import collections
import operator
import warnings

import numpy as np

import gradkit
from gradkit.autograd.function import Function
from gradkit.errors import ArgumentError
from gradkit.ops.arithmetic import cast, matmul, maximum, minimum
from gradkit.ops._util import _float_default, dim_kwargs, normalize_dim
from gradkit.tensor import Tensor

values_indices = collections.namedtuple("values_indices", ["values", "indices"])


def _expand_back(g, axes, keepdim, shape):
    """A reduced gradient broadcast back to the input's shape (read-only view)."""
    if not keepdim and axes:
        g = np.expand_dims(g, axes)
    return np.broadcast_to(g, shape)


class Sum(Function):
    """out = Σ x over axes;  dx = g broadcast back."""

    def forward(self, x, axes, keepdim):
        self.shape, self.axes, self.keepdim = x.shape, axes, keepdim
        return x.sum(axis=axes, keepdims=keepdim, dtype=x.dtype)  # int32 stays int32

    def backward(self, g):
        return _expand_back(g, self.axes, self.keepdim, self.shape)


class Mean(Function):
    """out = Σ x / n over axes;  dx = g / n broadcast back."""

    def forward(self, x, axes, keepdim):
        self.shape, self.axes, self.keepdim = x.shape, axes, keepdim
        self.count = int(np.prod([x.shape[a] for a in axes]))
        return x.mean(axis=axes, keepdims=keepdim)

    def backward(self, g):
        return _expand_back(g / self.count, self.axes, self.keepdim, self.shape)


class _Spread(Function):
    """What Var and Std share: x − x̄ over the axes and the degrees of freedom n − correction."""

    def _centre(self, x, axes, keepdim, correction):
        """Σ (x − x̄)² / (n − correction), with the reduced dims kept."""
        self.axes, self.keepdim = axes, keepdim
        self.centred = x - x.mean(axis=axes, keepdims=True)
        n = int(np.prod([x.shape[a] for a in axes]))
        if n - correction <= 0:  # PyTorch: a warning, then inf/NaN rather than an exception
            warnings.warn("var(): degrees of freedom is <= 0. Correction should be strictly "
                          "less than the reduction factor (input numel divided by output "
                          "numel).", UserWarning, stacklevel=4)
        self.dof = x.dtype.type(n - correction if n > correction else 0)  # NumPy: x/0 is inf, NaN
        with np.errstate(divide="ignore", invalid="ignore"):
            return (self.centred * self.centred).sum(axis=axes, keepdims=True) / self.dof

    def _reduced(self, out):
        return out if self.keepdim else np.squeeze(out, axis=self.axes)

    def _expanded(self, g):
        return np.expand_dims(g, self.axes) if not self.keepdim and self.axes else g


class Var(_Spread):
    """out = Σ (x − x̄)² / (n − correction);  dx = g · 2(x − x̄) / (n − correction)."""

    def forward(self, x, axes, keepdim, correction):
        return self._reduced(self._centre(x, axes, keepdim, correction))

    def backward(self, g):
        with np.errstate(divide="ignore", invalid="ignore"):
            return self._expanded(g) * self.centred * (2.0 / self.dof)


class Std(_Spread):
    """out = √var;  dx = g · (x − x̄) / ((n − correction) · out), and 0 where out = 0 (PyTorch)."""

    def forward(self, x, axes, keepdim, correction):
        self.out = np.sqrt(self._centre(x, axes, keepdim, correction))
        return self._reduced(self.out)

    def backward(self, g):
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(self.out == 0, np.zeros((), g.dtype), 1.0 / (self.dof * self.out))
            return self._expanded(g) * self.centred * scale


class MaxAll(Function):
    """out = max (or min) of all elements;  dx = g shared evenly among the elements equal to it."""

    def forward(self, x, take_min):
        self.out = x.min() if take_min else x.max()
        self.x = x
        return self.out

    def backward(self, g):
        winners = self.x == self.out
        return np.where(winners, g / int(np.count_nonzero(winners)), np.zeros((), g.dtype))


class TakeAlong(Function):
    """out = x at idx along dim (no index twice);  dx = g put back at idx, 0 elsewhere.

    idx keeps dim (size 1 for max/min along a dim, the sorted order for sort and topk)."""

    def forward(self, x, idx, dim, keepdim):
        self.shape, self.idx, self.dim, self.keepdim = x.shape, idx, dim, keepdim
        values = np.take_along_axis(x, idx, axis=dim)
        return values if keepdim else np.squeeze(values, axis=dim)

    def backward(self, g):
        if not self.keepdim:
            g = np.expand_dims(g, self.dim)
        dx = np.zeros(self.shape, g.dtype)
        np.put_along_axis(dx, self.idx, g, axis=self.dim)
        return dx


class LogSumExp(Function):
    """out = m + ln Σ e^(x − m) with m = max x (no overflow);  dx = g · e^(x − out)."""

    def forward(self, x, axes, keepdim):
        self.x, self.axes, self.keepdim = x, axes, keepdim
        m = x.max(axis=axes, keepdims=True)
        m = np.where(np.isfinite(m), m, np.zeros((), x.dtype))
        self.out = m + np.log(np.exp(x - m).sum(axis=axes, keepdims=True))
        return self.out if keepdim else np.squeeze(self.out, axis=axes)

    def backward(self, g):
        if not self.keepdim and self.axes:
            g = np.expand_dims(g, self.axes)
        return g * np.exp(self.x - self.out)


class Softmax(Function):
    """out = e^(x − m) / Σ e^(x − m) along dim;  dx = out · (g − Σ g·out)."""

    def forward(self, x, dim):
        self.dim = dim
        e = np.exp(x - x.max(axis=dim, keepdims=True, initial=-np.inf))
        self.out = e / e.sum(axis=dim, keepdims=True)
        return self.out

    def backward(self, g):
        out = self.out
        return out * (g - (g * out).sum(axis=self.dim, keepdims=True))


class LogSoftmax(Function):
    """out = x − m − ln Σ e^(x − m) along dim;  dx = g − softmax · Σ g."""

    def forward(self, x, dim):
        self.dim = dim
        shifted = x - x.max(axis=dim, keepdims=True, initial=-np.inf)
        self.out = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        return self.out

    def backward(self, g):
        return g - np.exp(self.out) * g.sum(axis=self.dim, keepdims=True)


# ----- the functions the Tensor methods and gk.* call -----

def _accumulator(x, dtype):
    """x ready to sum: cast to ``dtype`` first when given (differentiable between floats), else
    an integer or bool tensor as int64 (PyTorch's sum, prod and cumsum)."""
    if dtype is not None:
        return cast(x, dtype)
    return cast(x, np.int64) if x._data.dtype.kind in "biu" else x


def sum(x, dim=None, keepdim=False, *, dtype=None, **kwargs):
    """Σ over ``dim``; an integer or bool tensor sums in int64, ``dtype=`` casts first."""
    dim, keepdim = dim_kwargs(dim, keepdim, kwargs, "sum")
    x = _accumulator(x, dtype)
    return Sum.apply(x, axes=normalize_dim(dim, x.ndim, "sum"), keepdim=keepdim)


def mean(x, dim=None, keepdim=False, *, dtype=None, **kwargs):
    """Σ / n over ``dim`` of a float tensor (``dtype=`` casts first); an integer tensor without
    a float ``dtype=`` raises, as in PyTorch."""
    dim, keepdim = dim_kwargs(dim, keepdim, kwargs, "mean")
    if dtype is not None and np.dtype(dtype).kind != "f":
        raise ArgumentError(f"mean(): could not infer output dtype. Optional dtype must be "
                            f"a floating point dtype, got {np.dtype(dtype)}")
    x = x if dtype is None else cast(x, dtype)
    if x._data.dtype.kind != "f":
        raise ArgumentError(f"mean(): could not infer output dtype. Input dtype must be a "
                            f"floating point dtype, got {x.dtype}; use x.float().mean() or "
                            f"mean(x, dtype=gk.float32)")
    return Mean.apply(x, axes=normalize_dim(dim, x.ndim, "mean"), keepdim=keepdim)


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None, **kwargs):
    """Variance with Bessel's correction by default (``correction=1``, PyTorch's default)."""
    dim, keepdim = dim_kwargs(dim, keepdim, kwargs, "var")
    return Var.apply(_float_default(x), axes=normalize_dim(dim, x.ndim, "var"), keepdim=keepdim,
                     correction=_correction(unbiased, correction))


def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None, **kwargs):
    """Standard deviation, √var (``correction=1`` by default, as in PyTorch)."""
    dim, keepdim = dim_kwargs(dim, keepdim, kwargs, "std")
    return Std.apply(_float_default(x), axes=normalize_dim(dim, x.ndim, "std"), keepdim=keepdim,
                     correction=_correction(unbiased, correction))


def _int_dim(dim, op):
    """An int dim from an int, a NumPy integer or a one-element integer tensor."""
    try:
        return operator.index(dim)
    except TypeError:
        raise TypeError(f"{op}(dim=...) takes a single int dim, got {dim!r}") from None


def _max_or_min(take_min, x, dim=None, keepdim=False, **kwargs):
    op = "min" if take_min else "max"
    dim, keepdim = dim_kwargs(dim, keepdim, kwargs, op)
    if x.numel() == 0:
        raise RuntimeError(f"{op}() of an empty tensor (shape {x.shape}) has no value")
    if dim is None:
        return MaxAll.apply(x, take_min=take_min)
    axis = normalize_dim(_int_dim(dim, op), x.ndim, op)
    axis = axis[0] if axis else None
    if axis is None:  # a 0-d tensor: the value itself, index 0
        return values_indices(x, Tensor._make(np.zeros((), np.int64), None))
    pick = np.argmin if take_min else np.argmax
    idx = pick(x._data, axis=axis, keepdims=True)
    return take_along(x, idx, axis, keepdim)


def take_along(x, idx, axis, keepdim):
    """(values, indices) of x at idx (an index array that keeps ``axis``) along axis; the
    indices as int64, ``axis`` squeezed from both unless keepdim."""
    values = TakeAlong.apply(x, idx=idx, dim=axis, keepdim=keepdim)
    indices = idx if keepdim else np.squeeze(idx, axis=axis)
    return values_indices(values, Tensor._make(indices.astype(np.int64, copy=False), None))


def _other(args, kwargs, op):
    """The tensor of the elementwise overload ``op(x, other)``, or None for the dim overload."""
    if "other" in kwargs:
        if args or len(kwargs) > 1:
            raise TypeError(f"{op}(input, other) takes no dim or keepdim")
        return kwargs.pop("other")
    if args and isinstance(args[0], Tensor):
        if len(args) > 1 or kwargs:
            raise TypeError(f"{op}(input, other): a tensor as the second argument is the "
                            f"elementwise {op}, which takes no dim or keepdim; for a dim pass "
                            f"an int or dim=...")
        return args[0]
    return None


def max(input, *args, **kwargs):
    """PyTorch's three overloads: ``max(x)`` the largest element; ``max(x, dim, keepdim=False)``
    a ``(values, indices)`` named tuple along ``dim`` (an int, a NumPy integer or a 0-d integer
    tensor given as ``dim=``); ``max(x, other)`` with a tensor: ``maximum(x, other)``."""
    other = _other(args, kwargs, "max")
    if other is not None:
        return maximum(input, other)
    return _max_or_min(False, input, *args, **kwargs)


def min(input, *args, **kwargs):
    """``min(x)``, ``min(x, dim, keepdim=False)`` -> (values, indices), or ``min(x, other)``
    = ``minimum(x, other)``, as for ``max``."""
    other = _other(args, kwargs, "min")
    if other is not None:
        return minimum(input, other)
    return _max_or_min(True, input, *args, **kwargs)


def _arg(fn, x, dim, keepdim, kwargs, op):
    dim, keepdim = dim_kwargs(dim, keepdim, kwargs, op)
    if dim is None:
        out = fn(x._data.reshape(-1))
        out = np.reshape(out, (1,) * x.ndim) if keepdim else out
    else:
        out = fn(x._data, axis=normalize_dim(dim, x.ndim, op)[0], keepdims=keepdim)
    return Tensor._make(np.asarray(out, dtype=np.int64), None)


def argmax(x, dim=None, keepdim=False, **kwargs):
    """Index of the largest element (in the flattened tensor when dim is None)."""
    return _arg(np.argmax, x, dim, keepdim, kwargs, "argmax")


def argmin(x, dim=None, keepdim=False, **kwargs):
    """Index of the smallest element (in the flattened tensor when dim is None)."""
    return _arg(np.argmin, x, dim, keepdim, kwargs, "argmin")


def logsumexp(x, dim=None, keepdim=False, **kwargs):
    dim, keepdim = dim_kwargs(dim, keepdim, kwargs, "logsumexp")
    axes = normalize_dim(dim, x.ndim, "logsumexp")
    return LogSumExp.apply(_float_default(x), axes=axes, keepdim=keepdim)


def _softmax_dim(x, dim, op):
    if dim is None:
        raise TypeError(f"{op}: give the dim to normalize over, e.g. {op}(x, dim=-1)")
    axes = normalize_dim(dim, x.ndim, op)
    return axes[0] if axes else None


def softmax(x, dim=None):
    """Probabilities along ``dim``: e^x / Σ e^x, computed after subtracting the max."""
    return Softmax.apply(_float_default(x), dim=_softmax_dim(x, dim, "softmax"))


def log_softmax(x, dim=None):
    """log(softmax(x)) along ``dim``, computed directly so it never takes the log of 0."""
    return LogSoftmax.apply(_float_default(x), dim=_softmax_dim(x, dim, "log_softmax"))


def norm(x, p="fro", dim=None, keepdim=False, dtype=None):
    """torch.norm: a vector norm of ``x`` over ``dim`` (every element when None) for a number
    ``p`` or 'fro'; a matrix norm (gk.linalg.matrix_norm) for 'nuc' or for 'fro' over more
    than two dims. The formulas and gradients are gk.linalg's (p = 0 counts the non-zeros,
    p < 0 gives (Σ|x|ᵖ)^(1/p), as torch.norm)."""
    dims = None if dim is None else ((dim,) if isinstance(dim, int) else tuple(dim))
    if isinstance(p, str):
        if p == "fro" and (dims is None or len(dims) <= 2):
            return gradkit.linalg.vector_norm(x, 2, dims, keepdim, dtype=dtype)
        dims = tuple(range(x.ndim)) if dims is None else dims
        return gradkit.linalg.matrix_norm(x, p, dims, keepdim, dtype=dtype)
    return gradkit.linalg.vector_norm(x, 2 if p is None else p, dims, keepdim, dtype=dtype)


def dot(input, other):
    """Σ_i a_i·b_i of two 1-D tensors of the same length, a 0-d tensor (PyTorch's dot)."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"dot: 1D tensors expected, but got {input.ndim}D and "
                           f"{other.ndim}D tensors; use gk.matmul (or @) for matrices")
    if input.shape != other.shape:
        raise RuntimeError(f"dot: the tensors must have the same length, got {input.shape[0]} "
                           f"and {other.shape[0]}")
    return matmul(input, other)
