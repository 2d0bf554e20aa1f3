"""torch.* names that are other names of gradkit ops (``multiply`` is ``mul``), tensor facts
(``is_floating_point``, ``numel``, ``equal``), the splitting and selecting ops built on
indexing (``unbind``, ``tensor_split``, ``select``, ``rot90``), ``index_put`` with PyTorch's
(indices tuple, values, accumulate) API, and eager ``cond`` / ``while_loop``.

gk.* star-imports only this module of those beside it, so it also exports the names of
ops/torch_functional.py (F's functions under their torch.* names: conv2d, max_pool2d, ...),
ops/dtype_rules.py (result_type, as_tensor, ...), ops/scatter_views.py (select_scatter,
put, as_strided, ...) and ops/rnn_cells.py (lstm_cell, ...).

    import gradkit as gk
    x = gk.arange(6.0).reshape(2, 3)
    a, b = gk.unbind(x)                       # the two rows
    y = gk.index_put(x, (gk.tensor([0, 0]), gk.tensor([1, 1])), gk.tensor(5.0),
                     accumulate=True)         # y[0, 1] == 1 + 5 + 5
"""

import numpy as np

from gradkit.autograd.function import Function
from gradkit.errors import ArgumentError, ShapeError
from gradkit.ops._util import binary_operands, normalize_dim, unbroadcast
from gradkit.ops.arithmetic import clone, div, ge, gt, le, lt, mul, ne, neg, sub
from gradkit.ops.diag import diag
from gradkit.ops.dtype_rules import (as_tensor, asarray, can_cast, empty_permuted, empty_strided,
                                     fill, frombuffer, is_neg, promote_types, result_type,
                                     scalar_tensor)
from gradkit.ops.index import index_put as _index_put
from gradkit.ops.layout import flip
from gradkit.ops.rnn_cells import gru_cell, lstm_cell, rnn_relu_cell, rnn_tanh_cell
from gradkit.ops.rounding import sign
from gradkit.ops.scatter_views import (as_strided, as_strided_scatter, diagonal_scatter,
                                       index_reduce, put, select_scatter, slice_scatter)
from gradkit.ops.shape import cat, chunk, flatten, split, transpose
from gradkit.ops.torch_functional import *  # noqa: F401,F403
from gradkit.ops.torch_functional import __all__ as _functional_names
from gradkit.ops.unary import abs, clamp
from gradkit.tensor import Tensor

__all__ = [
    "absolute", "multiply", "subtract", "divide", "true_divide", "negative", "positive",
    "greater", "greater_equal", "less", "less_equal", "not_equal", "concatenate", "clamp_min",
    "clamp_max", "sgn", "numel", "is_tensor", "is_floating_point", "is_signed", "is_nonzero",
    "is_same_size", "equal", "clone", "detach", "t", "unbind", "tensor_split", "hsplit",
    "vsplit", "split_with_sizes", "select", "rot90", "diagflat", "index_put", "adjoint", "rsub",
    "unsafe_chunk", "unsafe_split", "unsafe_split_with_sizes", "cond", "while_loop",
    "as_tensor", "asarray", "can_cast", "fill", "is_neg", "promote_types", "result_type",
    "scalar_tensor", "empty_permuted", "empty_strided", "frombuffer", "diagonal_scatter",
    "put", "select_scatter", "slice_scatter", "as_strided", "as_strided_scatter",
    "index_reduce", "is_distributed", "gru_cell", "lstm_cell", "rnn_relu_cell", "rnn_tanh_cell",
] + _functional_names

absolute, multiply, negative, concatenate, sgn = abs, mul, neg, cat, sign
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def divide(input, other, *, rounding_mode=None):
    """input / other; ``rounding_mode`` None, "trunc" or "floor" (torch.div)."""
    return div(input, other, rounding_mode)


def true_divide(dividend, divisor):
    return div(dividend, divisor)


def subtract(input, other, *, alpha=1):
    """input − alpha·other."""
    return sub(input, other if alpha == 1 else mul(other, alpha))


def positive(input):
    """The input itself (a bool tensor raises, as in PyTorch)."""
    if input.dtype == np.bool_:
        raise RuntimeError("positive: the `+` operator, on a bool tensor is not supported")
    return input


def rsub(input, other, *, alpha=1):
    """other − alpha·input."""
    return sub(other, input if alpha == 1 else mul(input, alpha))


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)


# ----- facts about tensors -----

def numel(input): return input._data.size
def is_tensor(obj): return isinstance(obj, Tensor)
def is_floating_point(input): return input._data.dtype.kind == "f"
def is_signed(input): return input._data.dtype.kind in "fi"
def is_same_size(input, other): return input.shape == other.shape
def is_distributed(input): return False


def is_nonzero(input):
    """The truth of a one-element tensor; any other size raises, as in PyTorch."""
    if input._data.size != 1:
        raise RuntimeError(f"is_nonzero: Boolean value of Tensor with "
                           f"{'no values' if input._data.size == 0 else 'more than one value'} "
                           "is ambiguous")
    return bool(input._data.reshape(()))


def equal(input, other):
    """True when both tensors have the same shape and the same values."""
    return input.shape == other.shape and bool(np.array_equal(input._data, other._data))


def detach(input):
    return input.detach()


def t(input):
    return input.t()


def adjoint(input):
    """The transpose of the last two dims (the conjugate is the tensor itself: real dtypes)."""
    return input.mT


# ----- splitting and selecting -----

def _axis(input, dim, op):
    return normalize_dim(dim, input.ndim, op)[0] if input.ndim else 0


def select(input, dim, index):
    """input[..., index, ...] with ``index`` at ``dim``: one dim fewer."""
    axis = _axis(input, dim, "select")
    n = input.shape[axis]
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {dim}")
    return input[(slice(None),) * axis + (index,)]


def unbind(input, dim=0):
    """The slices along ``dim``, each one dim fewer."""
    axis = _axis(input, dim, "unbind")
    return tuple(select(input, axis, i) for i in range(input.shape[axis]))


def split_with_sizes(input, split_sizes, dim=0):
    return split(input, list(split_sizes), dim)


unsafe_chunk, unsafe_split, unsafe_split_with_sizes = chunk, split, split_with_sizes


def tensor_split(input, indices_or_sections, dim=0):
    """Split at the listed indices, or into ``sections`` pieces whose sizes differ by at most
    one (the first ``n % sections`` are one longer), as numpy.array_split."""
    axis = _axis(input, dim, "tensor_split")
    n = input.shape[axis]
    spec = indices_or_sections
    if isinstance(spec, Tensor):
        if spec.dtype.kind not in "iu" or spec.ndim > 1:
            raise ArgumentError(f"tensor_split: expected a 0-D or 1-D int64 tensor of indices "
                                f"or sections, got dtype {spec.dtype} and {spec.ndim} dims")
        spec = spec.item() if spec.ndim == 0 else spec.tolist()
    if isinstance(spec, (int, np.integer)):
        if spec <= 0:
            raise ArgumentError(f"tensor_split: number of sections must be larger than 0, got "
                                f"{spec}")
        bounds = [i * (n // spec) + min(i, n % spec) for i in range(spec + 1)]
    else:
        bounds = [0] + [min(max(int(i) + (n if i < 0 else 0), 0), n) for i in spec] + [n]
    index = (slice(None),) * axis
    return tuple(input[index + (slice(a, max(a, b)),)] for a, b in zip(bounds, bounds[1:]))


def hsplit(input, indices_or_sections):
    """tensor_split along dim 1 (dim 0 for a 1-D tensor); sections must divide evenly."""
    return _split_evenly(input, indices_or_sections, 1 if input.ndim > 1 else 0, "hsplit", 1)


def vsplit(input, indices_or_sections):
    """tensor_split along dim 0 of a tensor with at least 2 dims."""
    return _split_evenly(input, indices_or_sections, 0, "vsplit", 2)


def _split_evenly(input, spec, dim, op, min_dims):
    if input.ndim < min_dims:
        raise ShapeError(f"torch.{op} requires a tensor with at least {min_dims} dimension, "
                         f"but got a tensor with {input.ndim} dimensions!")
    if isinstance(spec, int) and (spec == 0 or input.shape[dim] % spec):
        raise ArgumentError(f"torch.{op} attempted to split along dimension {dim}, but the "
                            f"size of the dimension {input.shape[dim]} is not divisible by the "
                            f"split_size {spec}!")
    return tensor_split(input, spec, dim)


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90°·k in the plane of ``dims``, from the first dim towards the second."""
    if len(dims) != 2:
        raise ArgumentError(f"rot90: expected total rotation dims == 2, but got dims = "
                            f"{len(dims)}")
    if input.ndim < 2:
        raise ShapeError(f"rot90: expected total dims >= 2, but got total dims = {input.ndim}")
    d0, d1 = normalize_dim(dims[0], input.ndim, "rot90")[0], \
        normalize_dim(dims[1], input.ndim, "rot90")[0]
    if d0 == d1:
        raise ArgumentError(f"rot90: expected rotation dims to be different, got {dims}")
    k %= 4
    if k == 1:
        return transpose(flip(input, (d1,)), d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return transpose(flip(input, (d0,)), d0, d1)
    return clone(input)


def diagflat(input, offset=0):
    """A square matrix with the flattened input on diagonal ``offset``."""
    return diag(flatten(input), offset)


# ----- index_put -----

class IndexPutAccumulate(Function):
    """out = x with out[index] += v at every listed position (repeats add up);
    dx = g,  dv = g[index] summed back to v's shape."""

    def forward(self, x, v, index):
        self.index, self.v_shape = index, np.shape(v)
        out = x.copy()
        np.add.at(out, index, v)
        return out

    def backward(self, g):
        nx, nv = self.needs_input_grad
        return (g if nx else None,
                unbroadcast(g[self.index], self.v_shape) if nv else None)


def index_put(input, indices, values, accumulate=False):
    """A copy of input with ``out[indices] = values`` (``+=`` with ``accumulate``, where a
    repeated position adds every value); ``indices`` a tuple of index tensors (long or bool)."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put(): argument 'indices' must be a tuple of Tensors, not "
                        f"{type(indices).__name__}")
    index = tuple(i._data if isinstance(i, Tensor) else i for i in indices)
    if not accumulate:
        return _index_put(input, index, values)
    input, values = binary_operands(input, values, "index_put")
    if values.dtype != input.dtype:
        raise RuntimeError(f"index_put: values have dtype {values.dtype}, but the tensor has "
                           f"{input.dtype}")
    index = sum((np.nonzero(i) if i.dtype == np.bool_ else (i,) for i in map(np.asarray, index)),
                ())
    return IndexPutAccumulate.apply(input, values, index=index)


# ----- eager control flow -----

def cond(pred, true_fn, false_fn, operands=()):
    """true_fn(*operands) if pred else false_fn(*operands), run eagerly (pred a bool or a
    one-element tensor)."""
    return (true_fn if bool(pred) else false_fn)(*operands)


def while_loop(cond_fn, body_fn, carried_inputs):
    """Apply body_fn to the carried values while cond_fn of them is true, run eagerly;
    returns the last carried values as a tuple."""
    values = tuple(carried_inputs)
    while bool(cond_fn(*values)):
        values = tuple(body_fn(*values))
    return values
